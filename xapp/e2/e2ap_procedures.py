"""Which E2AP-PDU carries each message, and how each message maps to its IEs.

Every message class of :mod:`xapp.e2.e2ap_messages` has one :class:`Procedure` row in
:data:`PROCEDURES`: its procedure code, the PDU alternative (initiating message,
successful or unsuccessful outcome), its container name, and two pure functions between
the dataclass and the container's IE values (keyed by IE id). :func:`to_pdu_tree` and
:func:`from_pdu_tree` assemble and take apart the whole E2AP-PDU value tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xapp.e2 import e2ap_ies as ies
from xapp.e2 import e2ap_ric as ric
from xapp.e2 import e2ap_setup as setup
from xapp.e2.e2ap_ies import E2apDecodeError, IeValues, Tree
from xapp.e2.e2ap_messages import (
    E2apMessage,
    E2SetupFailure,
    E2SetupRequest,
    E2SetupResponse,
    RicControlAcknowledge,
    RicControlFailure,
    RicControlRequest,
    RicIndication,
    RicSubscriptionDeleteFailure,
    RicSubscriptionDeleteRequest,
    RicSubscriptionDeleteResponse,
    RicSubscriptionFailure,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
)
from xapp.errors import EncodeError

INITIATING = "initiatingMessage"
SUCCESSFUL = "successfulOutcome"
UNSUCCESSFUL = "unsuccessfulOutcome"


@dataclass(frozen=True)
class Procedure:
    """Where a message lives in the E2AP-PDU and how it maps to IE values."""

    code: int
    outcome: str
    container: str
    criticality: str
    write: Callable[[Any], IeValues]
    read: Callable[[IeValues], E2apMessage]


# --- The table ------------------------------------------------------------------------


def _row(code: int, outcome: str, container: str, write: Any, read: Any) -> Procedure:
    # RICindication is the only class-2 procedure here: criticality "ignore".
    criticality = "ignore" if code == 5 else "reject"
    return Procedure(code, outcome, container, criticality, write, read)


PROCEDURES: dict[type, Procedure] = {
    RicIndication: _row(5, INITIATING, "RICindication", ric.write_indication, ric.read_indication),
    RicSubscriptionRequest: _row(
        8,
        INITIATING,
        "RICsubscriptionRequest",
        ric.write_subscription_request,
        ric.read_subscription_request,
    ),
    RicSubscriptionResponse: _row(
        8,
        SUCCESSFUL,
        "RICsubscriptionResponse",
        ric.write_subscription_response,
        ric.read_subscription_response,
    ),
    RicSubscriptionFailure: _row(
        8,
        UNSUCCESSFUL,
        "RICsubscriptionFailure",
        ric.write_with_cause,
        lambda v: RicSubscriptionFailure(**ric.read_with_cause(v)),
    ),
    RicSubscriptionDeleteRequest: _row(
        9,
        INITIATING,
        "RICsubscriptionDeleteRequest",
        ric.write_base,
        lambda v: RicSubscriptionDeleteRequest(**ric.read_base(v)),
    ),
    RicSubscriptionDeleteResponse: _row(
        9,
        SUCCESSFUL,
        "RICsubscriptionDeleteResponse",
        ric.write_base,
        lambda v: RicSubscriptionDeleteResponse(**ric.read_base(v)),
    ),
    RicSubscriptionDeleteFailure: _row(
        9,
        UNSUCCESSFUL,
        "RICsubscriptionDeleteFailure",
        ric.write_with_cause,
        lambda v: RicSubscriptionDeleteFailure(**ric.read_with_cause(v)),
    ),
    RicControlRequest: _row(
        4, INITIATING, "RICcontrolRequest", ric.write_control_request, ric.read_control_request
    ),
    RicControlAcknowledge: _row(
        4, SUCCESSFUL, "RICcontrolAcknowledge", ric.write_control_ack, ric.read_control_ack
    ),
    RicControlFailure: _row(
        4, UNSUCCESSFUL, "RICcontrolFailure", ric.write_control_failure, ric.read_control_failure
    ),
    E2SetupRequest: _row(
        1, INITIATING, "E2setupRequest", setup.write_setup_request, setup.read_setup_request
    ),
    E2SetupResponse: _row(
        1, SUCCESSFUL, "E2setupResponse", setup.write_setup_response, setup.read_setup_response
    ),
    E2SetupFailure: _row(
        1, UNSUCCESSFUL, "E2setupFailure", setup.write_setup_failure, setup.read_setup_failure
    ),
}

_BY_PDU = {(p.outcome, p.code): p for p in PROCEDURES.values()}


def to_pdu_tree(message: E2apMessage) -> Tree:
    """The E2AP-PDU value tree of ``message`` (raises EncodeError for unknown types)."""
    procedure = PROCEDURES.get(type(message))
    if procedure is None:
        raise EncodeError(f"{type(message).__name__} is not an E2AP message")
    values = procedure.write(message)
    fields = [
        ies.ie_value(spec, values[spec.ie_id])
        for spec in ies.CONTAINERS[procedure.container]
        if spec.ie_id in values
    ]
    body = {
        "procedureCode": procedure.code,
        "criticality": procedure.criticality,
        "value": (procedure.container, {"protocolIEs": fields}),
    }
    return (procedure.outcome, body)


def from_pdu_tree(tree: Tree) -> E2apMessage:
    """The message in a decoded E2AP-PDU value tree; raises :class:`E2apDecodeError`."""
    outcome, body = ies.read_choice(tree, "E2AP-PDU")
    body = ies.read_dict(body, outcome)
    code = ies.read_int(ies.read_field(body, "procedureCode", outcome), "procedureCode")
    procedure = _BY_PDU.get((outcome, code))
    if procedure is None:
        raise E2apDecodeError("unknown_procedure", f"{outcome} of procedure {code}")
    container, content = ies.read_choice(ies.read_field(body, "value", outcome), outcome)
    if container != procedure.container:
        raise ies.bad(f"procedure {code} carries {container!r}")
    fields = ies.read_list(
        ies.read_field(ies.read_dict(content, container), "protocolIEs", container), container
    )
    return procedure.read(_collect(procedure.container, fields))


def _collect(container: str, fields: list[Tree]) -> IeValues:
    """The IE values of a container by id, checking types, duplicates and presence."""
    specs = {spec.ie_id: spec for spec in ies.CONTAINERS[container]}
    values: IeValues = {}
    for field in fields:
        field = ies.read_dict(field, container)
        ie_id = ies.read_int(ies.read_field(field, "id", container), "IE id")
        spec = specs.get(ie_id)
        if spec is None:
            continue  # an IE this codec does not use (diagnostics, extensions)
        if ie_id in values:
            raise E2apDecodeError("duplicate_ie", f"{container} IE {ie_id} appears twice")
        name, value = ies.read_choice(ies.read_field(field, "value", container), "IE value")
        if name != spec.type_name:
            raise ies.bad(f"{container} IE {ie_id} holds {name!r}")
        values[ie_id] = value
    for spec in specs.values():
        if spec.mandatory and spec.ie_id not in values:
            raise E2apDecodeError(
                "missing_ie", f"{container} lacks IE {spec.ie_id} ({spec.type_name})"
            )
    return values
