"""A1 policy messages over RMR (PROTOCOLS.md section 7) and this project's policy type.

The A1 mediator sends ``A1_POLICY_REQ`` (20010) with a JSON body; the xApp answers
``A1_POLICY_RESP`` (20011) and, at start, asks for its policies with ``A1_POLICY_QUERY``
(20012). Bodies are parsed into typed objects; anything else is an :class:`A1PolicyError`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xapp.errors import MalformedInput

LINKFM_POLICY_TYPE_ID = 30100
"""This project's A1 policy type id (declared in ``config-file.json`` ``policies``)."""

MAX_BODY_BYTES = 64 * 1024


class A1PolicyError(MalformedInput):
    """An A1 message body that is not valid JSON or does not match the contract."""

    source = "a1"


class LinkPolicy(BaseModel):
    """The body of a LinkFM policy instance: what the decision layer may do.

    ``cells`` maps a cell id (the NR CGI as a string) to enabled/disabled; cells not listed
    follow ``enabled``. Confidences are probabilities in [0, 1]; a decision below its
    threshold falls back to the UE-reported value. The thresholds default to 0 (always take
    the model's choice): with the shipped checkpoint even its unsure PMIs beat repeating the
    report on average (`make demo`: gap closed ~0.2 at 0 against ~0.03 at 0.5/0.3/0.3).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    cells: dict[str, bool] = Field(default_factory=dict)
    min_confidence_rank: float = Field(default=0.0, ge=0.0, le=1.0)
    min_confidence_pmi: float = Field(default=0.0, ge=0.0, le=1.0)
    min_confidence_beam: float = Field(default=0.0, ge=0.0, le=1.0)
    max_rank: int = Field(default=4, ge=1, le=4)
    horizon_ms: int = Field(default=10, ge=1, le=160)

    def cell_enabled(self, cell_id: str) -> bool:
        return self.cells.get(cell_id, self.enabled)


class A1PolicyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    operation: Literal["CREATE", "UPDATE", "DELETE"]
    policy_type_id: int
    policy_instance_id: str = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}"
                     for e in exc.errors())


def _load_json(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise A1PolicyError("too_large", f"{len(body)} bytes > {MAX_BODY_BYTES}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise A1PolicyError("bad_json", str(exc)) from None


def decode_request(body: bytes) -> A1PolicyRequest:
    """Parse an A1_POLICY_REQ payload."""
    try:
        return A1PolicyRequest.model_validate(_load_json(body))
    except ValidationError as exc:
        raise A1PolicyError("bad_request", _errors(exc)) from None


def decode_policy(request: A1PolicyRequest) -> LinkPolicy:
    """The LinkFM policy carried by a CREATE/UPDATE request of our policy type."""
    if request.policy_type_id != LINKFM_POLICY_TYPE_ID:
        raise A1PolicyError("unknown_policy_type",
                            f"{request.policy_type_id} (this xApp handles "
                            f"{LINKFM_POLICY_TYPE_ID})")
    try:
        return LinkPolicy.model_validate(request.payload)
    except ValidationError as exc:
        raise A1PolicyError("bad_policy", _errors(exc)) from None


def encode_response(request: A1PolicyRequest, handler_id: str, ok: bool) -> bytes:
    """The A1_POLICY_RESP payload for ``request``."""
    return json.dumps({
        "policy_type_id": request.policy_type_id,
        "policy_instance_id": request.policy_instance_id,
        "handler_id": handler_id,
        "status": "OK" if ok else "ERROR",
    }).encode()


def encode_query(policy_type_id: int = LINKFM_POLICY_TYPE_ID) -> bytes:
    """The A1_POLICY_QUERY payload sent at start to receive existing instances."""
    return json.dumps({"policy_type_id": policy_type_id}).encode()


def policy_type_schema() -> dict[str, Any]:
    """The JSON schema registered with the A1 mediator for this policy type."""
    return {
        "name": "linkfm_link_adaptation",
        "description": "LinkFM: which cells get rank/PMI/beam recommendations and how sure "
                       "the model must be",
        "policy_type_id": LINKFM_POLICY_TYPE_ID,
        "create_schema": LinkPolicy.model_json_schema(),
    }


class PolicyStore:
    """The active LinkFM policy, merged from the A1 instances in force (last one wins)."""

    def __init__(self) -> None:
        self._instances: dict[str, LinkPolicy] = {}

    def apply(self, request: A1PolicyRequest) -> LinkPolicy:
        """Apply one request; returns the policy now in force. Raises A1PolicyError."""
        if request.operation == "DELETE":
            if request.policy_type_id != LINKFM_POLICY_TYPE_ID:
                raise A1PolicyError("unknown_policy_type", str(request.policy_type_id))
            self._instances.pop(request.policy_instance_id, None)
        else:
            self._instances[request.policy_instance_id] = decode_policy(request)
        return self.current

    @property
    def current(self) -> LinkPolicy:
        if not self._instances:
            return LinkPolicy()
        return next(reversed(self._instances.values()))

    @property
    def instance_ids(self) -> list[str]:
        return list(self._instances)
