"""The xApp's runtime configuration: one pydantic model from ``config-file.json`` + environment.

Two layers, as OSC deploys an xApp:

- :class:`Controls`: every tunable setting, read from the descriptor's ``controls`` section
  (``config-file.json``, mounted from a ConfigMap at ``/opt/ric/config``). It can change
  at run time: :mod:`xapp.config_watch` re-reads it when the ConfigMap is updated.
- :class:`Settings`: the controls plus what only the environment may say: the RMR
  variables librmr reads, the InfluxDB connection (the token only ever from
  ``INFLUX_TOKEN``, fed from a Kubernetes Secret), the config file's path, the HTTP port
  and this replica's shard.

This is the only module that reads ``os.environ``; everything takes the mapping as a
parameter so tests pass their own. Every problem becomes a :class:`ConfigError` whose
message lists ``field.path: problem`` for each bad field.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from xapp.errors import MalformedInput
from xapp.policy.a1 import LINKFM_POLICY_TYPE_ID, LinkPolicy
from xapp.rmr.mtypes import HTTP_PORT, RMR_DATA_PORT, RMR_ROUTE_PORT
from xapp.rmr.settings import RmrSettings

DEFAULT_CONFIG_FILE = Path("/opt/ric/config/config-file.json")
MAX_CONFIG_BYTES = 1024 * 1024

# The KPM measurements the model reads (the ``kpm.*`` features of model/registry.py).
DEFAULT_KPM_MEASUREMENTS = (
    "DRB.UEThpDl",
    "DRB.UEThpUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "L1M.SS-RSRP",
    "MR.NRScSSSINR",
    "CARR.AverageLayersDl",
    "RRU.MaxLayerDlMimo",
)

# Keys that would put a credential in a committed file (matched case-insensitively).
_SECRET_KEY = re.compile(r"token|password|secret", re.IGNORECASE)


class ConfigError(MalformedInput):
    """A configuration file or environment that cannot be used.

    ``reason`` is one of ``unreadable``, ``bad_json``, ``invalid_controls``,
    ``secret_in_file`` or ``invalid_environment``; ``detail`` names each bad field.
    """

    source = "config"


def _describe(exc: ValidationError, prefix: str = "") -> str:
    """``a.b: problem; c: problem`` for every error pydantic found."""
    parts = []
    for error in exc.errors():
        path = ".".join(str(p) for p in (prefix, *error["loc"]) if p != "") or "<root>"
        parts.append(f"{path}: {error['msg']}")
    return "; ".join(parts)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelemetryControls(_Frozen):
    """How predictions reach InfluxDB without ever blocking the control loop."""

    enabled: bool = True
    queue_bound: int = Field(default=10_000, ge=1, description="points held before drops")
    batch_size: int = Field(default=500, ge=1, description="points per write request")
    flush_interval_ms: int = Field(default=1000, ge=10, description="longest wait before a write")
    retry_backoff_initial_ms: int = Field(default=500, ge=1)
    retry_backoff_max_ms: int = Field(default=30_000, ge=1)

    @model_validator(mode="after")
    def _backoff_grows(self) -> TelemetryControls:
        if self.retry_backoff_max_ms < self.retry_backoff_initial_ms:
            raise ValueError("retry_backoff_max_ms must be >= retry_backoff_initial_ms")
        return self


class ShardingControls(_Frozen):
    """Which E2 nodes this replica serves: those whose name hashes to ``replica_index``.

    In Kubernetes the index comes from the StatefulSet pod's ordinal (``POD_NAME``) and
    the count from ``LINKFM_REPLICA_COUNT``; these values are the fallback.
    """

    replica_index: int = Field(default=0, ge=0)
    replica_count: int = Field(default=1, ge=1, le=1024)

    @model_validator(mode="after")
    def _index_in_range(self) -> ShardingControls:
        if self.replica_index >= self.replica_count:
            raise ValueError(
                f"replica_index {self.replica_index} must be < replica_count {self.replica_count}")
        return self

    def owns(self, e2_node: str) -> bool:
        """Whether this replica subscribes to ``e2_node`` (CRC-32 of the name, stable)."""
        return zlib.crc32(e2_node.encode()) % self.replica_count == self.replica_index


class NodeAntennaControls(_Frozen):
    """A node's downlink antenna set-up, for CSI reports that carry no channel estimate
    (an estimate's shape ``[subbands, n_rx, n_tx]`` always wins; xapp/ingest/cells.py)."""

    n_tx: Literal[2, 4, 8] = 4
    n_rx: int = Field(default=2, ge=1, le=8)
    n_subbands: int = Field(default=13, ge=1, le=64)
    n_beams: int = Field(default=32, ge=1, le=256)
    n1: int = Field(default=2, ge=1, le=16)
    n2: int = Field(default=1, ge=1, le=16)
    o1: int = Field(default=4, ge=1, le=4)
    o2: int = Field(default=1, ge=1, le=4)
    scs_khz: Literal[15, 30, 60, 120] = 30


class Controls(_Frozen):
    """Every runtime setting of the xApp with its default (the descriptor's ``controls``).

    Periods and timeouts carry their unit in the name. ``policy`` is the decision policy
    in force until an A1 policy instance replaces it. Immutable (lists are tuples): one
    instance is shared by every reader until a reload replaces it.
    """

    e2_nodes: tuple[str, ...] = Field(
        default=(),
        description="E2 node (RAN) names to subscribe to; empty = every node e2mgr lists")
    e2mgr_url: str = Field(
        default="http://service-ricplt-e2mgr-http.ricplt:3800",
        description="e2mgr REST base URL for discovering E2 nodes (GET /v1/nodeb/states)")
    submgr_host: str = "service-ricplt-submgr-http.ricplt"
    submgr_port: int = Field(default=8088, ge=1, le=65535)
    kpm_report_period_ms: int = Field(default=1000, ge=1, le=60_000)
    csi_report_period_ms: int = Field(default=10, ge=1, le=10_000)
    kpm_measurements: tuple[str, ...] = Field(default=DEFAULT_KPM_MEASUREMENTS, min_length=1)
    request_csi_channel: bool = Field(
        default=True, description="ask E2SM-CSI for the SRS channel estimate, not only CSI "
        "reports (the model and the classical policy both read it)")
    window_slots: int = Field(default=4, ge=1, le=256, description="report slots per UE window")
    ue_inactivity_timeout_s: float = Field(default=5.0, gt=0)
    batch_deadline_ms: float = Field(
        default=5.0, gt=0, le=1000, description="longest wait to fill a micro-batch")
    max_batch_size: int = Field(default=256, ge=1, le=65_536)
    model_checkpoint: str = Field(
        default="/opt/linkfm/model", description="checkpoint folder (weights + manifest)")
    model_exit_threshold: float = Field(
        default=2.0, ge=0, le=10, description="early-exit entropy threshold in nats: a window "
        "whose first exit head is this sure stops there (0: every layer runs); the shipped "
        "checkpoint keeps its accuracy at 2.0 with half the windows exiting early")
    policy: LinkPolicy = LinkPolicy()
    recommendation_validity_ms: int = Field(default=20, ge=1, le=60_000)
    a1_policy_type_id: int = Field(default=LINKFM_POLICY_TYPE_ID, ge=0)
    grpc_port: int = Field(
        default=50051, ge=0, le=65535, description="LinkAdaptation gRPC port; 0 = no gRPC")
    node_antennas: dict[str, NodeAntennaControls] = Field(
        default_factory=dict,
        description="per E2 node antennas, used when CSI reports carry no channel estimate")
    subscription_silence_periods: int = Field(
        default=20, ge=2, le=10_000,
        description="report periods without an indication before resubscribing")
    telemetry: TelemetryControls = TelemetryControls()
    sharding: ShardingControls = ShardingControls()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class RmrEnvironment(_Frozen):
    """The librmr variables (PROTOCOLS.md section 1) plus the data port, as validated values."""

    data_port: int = Field(default=RMR_DATA_PORT, ge=1, le=65535)
    seed_rt: Path | None = None
    rtg_svc: str = ""
    src_id: str = ""
    bind_if: str = ""
    ctl_port: int = Field(default=RMR_ROUTE_PORT, ge=1, le=65535)
    async_conn: bool = True
    log_vlevel: int = Field(default=0, ge=0, le=5)

    def to_rmr_settings(self) -> RmrSettings:
        """The settings both RMR backends take."""
        return RmrSettings(
            port=self.data_port,
            bind_if=self.bind_if,
            seed_rt=self.seed_rt,
            # A bare port (or -1) is librmr's push-only / seed-only mode: nothing to request.
            rtg_svc=self.rtg_svc if ":" in self.rtg_svc else None,
            src_id=self.src_id or None,
            ctl_port=self.ctl_port,
            async_conn=self.async_conn,
            log_vlevel=self.log_vlevel,
        )


class InfluxSettings(_Frozen):
    """Where telemetry goes: ``url`` None (no ``INFLUX_URL``) writes line protocol to a file
    under ``runs/`` instead. The chart sets the OSC platform's InfluxDB 2 (DEPLOY.md)."""

    url: str | None = None
    org: str = "influxdata"
    bucket: str = "default"
    token: SecretStr | None = None


class Settings(_Frozen):
    """Everything the xApp runs with: controls + environment."""

    controls: Controls
    rmr: RmrEnvironment
    influx: InfluxSettings
    config_file: Path
    http_port: int = Field(default=HTTP_PORT, ge=1, le=65535)
    xapp_name: str = "linkfm"
    namespace: str = "ricxapp"
    client_host: str = Field(
        default="", description="host submgr calls back and routes indications to")
    sharding: ShardingControls

    def with_controls(self, controls: Controls) -> Settings:
        """These settings with new controls (after a hot reload); the environment stays."""
        return self.model_copy(update={"controls": controls})

    @model_validator(mode="before")
    @classmethod
    def _default_client_host(cls, data: Any) -> Any:
        # OSC's service naming (DEPLOY.md): service-<ns>-<name>-http.<ns>. A sharded
        # StatefulSet sets LINKFM_CLIENT_HOST to the pod's own headless-service name.
        if isinstance(data, dict) and not data.get("client_host"):
            ns = data.get("namespace") or "ricxapp"
            name = data.get("xapp_name") or "linkfm"
            data = {**data, "client_host": f"service-{ns}-{name}-http.{ns}"}
        return data


# Environment variable -> (section, field). Anything else in the environment is ignored.
_ENV_FIELDS: dict[str, tuple[str, str]] = {
    "RMR_DATA_PORT": ("rmr", "data_port"),
    "RMR_SEED_RT": ("rmr", "seed_rt"),
    "RMR_RTG_SVC": ("rmr", "rtg_svc"),
    "RMR_SRC_ID": ("rmr", "src_id"),
    "RMR_BIND_IF": ("rmr", "bind_if"),
    "RMR_CTL_PORT": ("rmr", "ctl_port"),
    "RMR_ASYNC_CONN": ("rmr", "async_conn"),
    "RMR_LOG_VLEVEL": ("rmr", "log_vlevel"),
    "INFLUX_URL": ("influx", "url"),
    "INFLUX_ORG": ("influx", "org"),
    "INFLUX_BUCKET": ("influx", "bucket"),
    "INFLUX_TOKEN": ("influx", "token"),
    "HTTP_PORT": ("", "http_port"),
    "XAPP_NAME": ("", "xapp_name"),
    "POD_NAMESPACE": ("", "namespace"),
    "LINKFM_CLIENT_HOST": ("", "client_host"),
}


def _secret_paths(value: Any, path: str) -> list[str]:
    """Dotted paths of keys in ``value`` that look like credentials."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if _SECRET_KEY.search(str(key)):
                found.append(child)
            found.extend(_secret_paths(item, child))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_secret_paths(item, f"{path}.{index}"))
    return found


def parse_descriptor(text: str | bytes) -> dict[str, Any]:
    """The descriptor as a dict, refusing non-JSON and credentials anywhere in it."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError("bad_json", str(exc)) from None
    if not isinstance(document, dict):
        raise ConfigError("bad_json", "the descriptor must be a JSON object")
    secrets = _secret_paths(document, "")
    if secrets:
        raise ConfigError(
            "secret_in_file",
            f"{', '.join(secrets)}: credentials never go in config-file.json; "
            "the InfluxDB token comes from the INFLUX_TOKEN environment variable "
            "(a Kubernetes Secret)")
    return document


def controls_from_descriptor(document: Mapping[str, Any]) -> Controls:
    """Validate the descriptor's ``controls`` section (absent = all defaults)."""
    try:
        return Controls.model_validate(document.get("controls", {}))
    except ValidationError as exc:
        raise ConfigError("invalid_controls", _describe(exc, "controls")) from None


def read_controls(path: Path) -> Controls:
    """The controls of the descriptor file at ``path`` (symlinks followed)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError("unreadable", f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError("unreadable", f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    return controls_from_descriptor(parse_descriptor(raw))


def _sharding(controls: Controls, environ: Mapping[str, str]) -> ShardingControls:
    """This replica's shard: ``LINKFM_REPLICA_INDEX``, else the ordinal of a StatefulSet
    pod name (``linkfm-2`` -> 2) when there is more than one replica, else the controls.

    The ordinal is only read when sharded: a Deployment's pod names end in random
    characters that may all be digits.
    """
    count_text = environ.get("LINKFM_REPLICA_COUNT", "").strip()
    index_text = environ.get("LINKFM_REPLICA_INDEX", "").strip()
    values: dict[str, Any] = {
        "replica_index": index_text or controls.sharding.replica_index,
        "replica_count": count_text or controls.sharding.replica_count,
    }
    ordinal = re.search(r"-(\d+)$", environ.get("POD_NAME", "").strip())
    if not index_text and ordinal and str(values["replica_count"]).strip() not in ("1", "0"):
        values["replica_index"] = int(ordinal.group(1))
    try:
        return ShardingControls.model_validate(values)
    except ValidationError as exc:
        problems = _describe(exc, "sharding")
        raise ConfigError(
            "invalid_environment",
            f"{problems} (from LINKFM_REPLICA_INDEX/LINKFM_REPLICA_COUNT/POD_NAME)") from None


def settings_from(controls: Controls, environ: Mapping[str, str], config_file: Path) -> Settings:
    """Combine already-read controls with the environment."""
    sections: dict[str, dict[str, Any]] = {"rmr": {}, "influx": {}, "": {}}
    names: dict[tuple[str, str], str] = {}
    for variable, (section, field) in _ENV_FIELDS.items():
        value = environ.get(variable, "").strip()
        if value:
            sections[section][field] = value
            names[(section, field)] = variable
    try:
        return Settings.model_validate({
            "controls": controls,
            "rmr": sections["rmr"],
            "influx": sections["influx"],
            "config_file": config_file,
            "sharding": _sharding(controls, environ),
            **sections[""],
        })
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(str(p) for p in error["loc"])
            key = (loc[0], loc[1]) if len(loc) > 1 else ("", loc[0] if loc else "")
            variable = names.get(key, ".".join(loc))
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigError("invalid_environment", "; ".join(problems)) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``CONFIG_FILE`` (default ``/opt/ric/config/config-file.json``) and the environment.

    ``environ`` defaults to ``os.environ``; tests pass a dict.
    """
    env = os.environ if environ is None else environ
    path = Path(env.get("CONFIG_FILE", "").strip() or DEFAULT_CONFIG_FILE)
    return settings_from(read_controls(path), env, path)


def controls_json_schema() -> dict[str, Any]:
    """The controls JSON Schema (draft-07, self-contained) for ``schemas/schema.json``.

    References are inlined: the onboarder drops this schema into the descriptor schema's
    ``properties.controls``, where a ``#/$defs/...`` pointer would resolve against the
    wrong document.
    """
    schema = Controls.model_json_schema()
    definitions = schema.pop("$defs", {})
    schema["title"] = "LinkFM xApp controls"
    schema["description"] = ("The `controls` section of config-file.json: every runtime "
                             "setting with its default (docs/deploy.md, section 3).")

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = dict(definitions[ref.removeprefix("#/$defs/")])
                target.update({k: v for k, v in node.items() if k != "$ref"})
                return inline(target)
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {"$schema": "http://json-schema.org/draft-07/schema#", **inline(schema)}


def write_controls_schema(path: Path) -> None:
    """Write :func:`controls_json_schema` as ``schemas/schema.json`` is committed."""
    path.write_text(json.dumps(controls_json_schema(), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python -m xapp.config: regenerate the schema and the chart's copy
    _root = Path(__file__).resolve().parent.parent
    for _copy in ("schemas/schema.json", "helm/linkfm/files/schema.json"):
        write_controls_schema(_root / _copy)
