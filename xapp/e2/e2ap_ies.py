"""The E2AP information elements (IEs): one table, and the E2AP value trees they form.

pycrate encodes and decodes Python value trees: dicts for SEQUENCEs, ``(name, value)``
tuples for CHOICEs and open types, lists for SEQUENCE OFs, ``(int, nbits)`` for BIT STRINGs.
This module holds the IE table of every container the codec handles (:data:`CONTAINERS`)
and the conversions of the small structured IEs (request id, cause, node ids) between those
trees and the dataclasses of :mod:`xapp.e2.e2ap_messages`. It imports no pycrate: it is
pure data shaping, and :mod:`xapp.e2.e2ap` does the encoding.

Readers (``read_*``) take untrusted decoded trees and raise :class:`E2apDecodeError`
(reason ``"bad_value"``) on any shape they do not expect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from xapp.e2.e2ap_messages import (
    Cause,
    CauseGroup,
    ComponentInterface,
    E2NodeComponent,
    GlobalGnbId,
    GlobalRicId,
    RicRequestId,
)
from xapp.errors import EncodeError, MalformedInput

Tree = Any
"""A pycrate value tree (dicts, lists, ``(name, value)`` tuples, ints, bytes, str)."""

_E = TypeVar("_E", bound=StrEnum)


class E2apDecodeError(MalformedInput):
    """E2AP bytes that are not one of the messages this codec handles.

    Reasons: ``too_large`` (over the size cap), ``aper`` (not valid aligned PER for
    E2AP-PDU), ``unknown_procedure`` (a procedure or outcome this codec does not handle),
    ``missing_ie`` (a mandatory IE is absent), ``duplicate_ie``, ``bad_value`` (an IE
    with an unexpected shape or value), ``unsupported`` (a valid but unhandled variant,
    e.g. an eNB node id).
    """

    source = "e2ap"


@dataclass(frozen=True)
class IeSpec:
    """One row of a protocol IE container: id, open-type name, criticality, presence."""

    ie_id: int
    type_name: str
    criticality: str
    mandatory: bool


def _ie(ie_id: int, type_name: str, *, optional: bool = False, ignore: bool = False) -> IeSpec:
    return IeSpec(ie_id, type_name, "ignore" if ignore else "reject", not optional)


# Common rows.
REQUEST_ID = _ie(29, "RICrequestID")
RAN_FUNCTION_ID = _ie(5, "RANfunctionID")
CALL_PROCESS_ID = _ie(20, "RICcallProcessID", optional=True)
CONTROL_OUTCOME = _ie(32, "RICcontrolOutcome", optional=True)
TRANSACTION_ID = _ie(49, "TransactionID")

# The IE containers per message, in the order of the ASN.1 (the encoder emits this order).
# Rows for IEs this codec never reads (CriticalityDiagnostics, TNLinformation, ...) are
# left out: decoding skips IEs it has no row for.
CONTAINERS: dict[str, tuple[IeSpec, ...]] = {
    "RICindication": (
        REQUEST_ID,
        RAN_FUNCTION_ID,
        _ie(15, "RICactionID"),
        _ie(27, "RICindicationSN", optional=True),
        _ie(28, "RICindicationType"),
        _ie(25, "RICindicationHeader"),
        _ie(26, "RICindicationMessage"),
        CALL_PROCESS_ID,
    ),
    "RICsubscriptionRequest": (REQUEST_ID, RAN_FUNCTION_ID, _ie(30, "RICsubscriptionDetails")),
    "RICsubscriptionResponse": (
        REQUEST_ID,
        RAN_FUNCTION_ID,
        _ie(17, "RICaction-Admitted-List"),
        _ie(18, "RICaction-NotAdmitted-List", optional=True),
    ),
    "RICsubscriptionFailure": (REQUEST_ID, RAN_FUNCTION_ID, _ie(1, "Cause")),
    "RICsubscriptionDeleteRequest": (REQUEST_ID, RAN_FUNCTION_ID),
    "RICsubscriptionDeleteResponse": (REQUEST_ID, RAN_FUNCTION_ID),
    "RICsubscriptionDeleteFailure": (REQUEST_ID, RAN_FUNCTION_ID, _ie(1, "Cause", ignore=True)),
    "RICcontrolRequest": (
        REQUEST_ID,
        RAN_FUNCTION_ID,
        CALL_PROCESS_ID,
        _ie(22, "RICcontrolHeader"),
        _ie(23, "RICcontrolMessage"),
        _ie(21, "RICcontrolAckRequest", optional=True),
    ),
    "RICcontrolAcknowledge": (REQUEST_ID, RAN_FUNCTION_ID, CALL_PROCESS_ID, CONTROL_OUTCOME),
    "RICcontrolFailure": (
        REQUEST_ID,
        RAN_FUNCTION_ID,
        CALL_PROCESS_ID,
        _ie(1, "Cause", ignore=True),
        CONTROL_OUTCOME,
    ),
    "E2setupRequest": (
        TRANSACTION_ID,
        _ie(3, "GlobalE2node-ID"),
        _ie(10, "RANfunctions-List"),
        _ie(50, "E2nodeComponentConfigAddition-List"),
    ),
    "E2setupResponse": (
        TRANSACTION_ID,
        _ie(4, "GlobalRIC-ID"),
        _ie(9, "RANfunctionsID-List", optional=True),
        _ie(13, "RANfunctionsIDcause-List", optional=True),
        _ie(52, "E2nodeComponentConfigAdditionAck-List"),
    ),
    "E2setupFailure": (TRANSACTION_ID, _ie(1, "Cause", ignore=True)),
}

# The single-IE containers that wrap each item of the lists above.
LIST_ITEMS: dict[str, IeSpec] = {
    "RICactions-ToBeSetup-List": _ie(19, "RICaction-ToBeSetup-Item", ignore=True),
    "RICaction-Admitted-List": _ie(14, "RICaction-Admitted-Item", ignore=True),
    "RICaction-NotAdmitted-List": _ie(16, "RICaction-NotAdmitted-Item", ignore=True),
    "RANfunctions-List": _ie(8, "RANfunction-Item", ignore=True),
    "RANfunctionsID-List": _ie(6, "RANfunctionID-Item", ignore=True),
    "RANfunctionsIDcause-List": _ie(7, "RANfunctionIDcause-Item", ignore=True),
    "E2nodeComponentConfigAddition-List": _ie(51, "E2nodeComponentConfigAddition-Item"),
    "E2nodeComponentConfigAdditionAck-List": _ie(53, "E2nodeComponentConfigAdditionAck-Item"),
}

# E2nodeComponentID alternatives this codec handles: interface -> (alternative, field, kind).
_COMPONENT_IDS: dict[ComponentInterface, tuple[str, str, type]] = {
    ComponentInterface.NG: ("e2nodeComponentInterfaceTypeNG", "amf-name", str),
    ComponentInterface.E1: ("e2nodeComponentInterfaceTypeE1", "gNB-CU-UP-ID", int),
    ComponentInterface.F1: ("e2nodeComponentInterfaceTypeF1", "gNB-DU-ID", int),
    ComponentInterface.W1: ("e2nodeComponentInterfaceTypeW1", "ng-eNB-DU-ID", int),
    ComponentInterface.S1: ("e2nodeComponentInterfaceTypeS1", "mme-name", str),
}
_COMPONENT_BY_ALTERNATIVE = {
    alt: (iface, field) for iface, (alt, field, _) in _COMPONENT_IDS.items()
}

_RIC_ID_BITS = 20
_GNB_ID_BITS = range(22, 33)


def ie_value(spec: IeSpec, value: Tree) -> dict[str, Tree]:
    """The ProtocolIE-Field tree for ``value`` under ``spec``."""
    return {"id": spec.ie_id, "criticality": spec.criticality, "value": (spec.type_name, value)}


def list_value(list_name: str, items: list[Tree]) -> list[Tree]:
    """The tree of a ProtocolIE-SingleContainer list whose items are ``items``."""
    spec = LIST_ITEMS[list_name]
    return [ie_value(spec, item) for item in items]


# --------------------------------------------------------------------------------------
# Writers: dataclass -> tree. Ranges that pycrate checks itself are left to it; the ones
# it silently truncates (BIT STRING values) are checked here.


def write_request_id(request_id: RicRequestId) -> Tree:
    return {"ricRequestorID": request_id.requestor, "ricInstanceID": request_id.instance}


def write_cause(cause: Cause) -> Tree:
    return (CauseGroup(cause.group).value, cause.value)


def write_bits(value: int, nbits: int, what: str) -> Tree:
    if not 0 <= value < (1 << nbits):
        raise EncodeError(f"{what} {value} does not fit in {nbits} bits")
    return (value, nbits)


def write_gnb_id(node: GlobalGnbId) -> Tree:
    if node.gnb_id_bits not in _GNB_ID_BITS:
        raise EncodeError(f"gNB id length {node.gnb_id_bits} bits is not in 22..32")
    gnb: dict[str, Tree] = {
        "global-gNB-ID": {
            "plmn-id": node.plmn,
            "gnb-id": ("gnb-ID", write_bits(node.gnb_id, node.gnb_id_bits, "gNB id")),
        }
    }
    if node.cu_up_id is not None:
        gnb["gNB-CU-UP-ID"] = node.cu_up_id
    if node.du_id is not None:
        gnb["gNB-DU-ID"] = node.du_id
    return ("gNB", gnb)


def write_ric_id(ric: GlobalRicId) -> Tree:
    return {"pLMN-Identity": ric.plmn, "ric-ID": write_bits(ric.ric_id, _RIC_ID_BITS, "RIC id")}


def write_component(component: E2NodeComponent) -> tuple[str, Tree]:
    """The (E2nodeComponentInterfaceType, E2nodeComponentID) pair of a component."""
    interface = ComponentInterface(component.interface)
    if interface not in _COMPONENT_IDS:
        raise EncodeError(f"E2 node components on the {interface.value} interface are not handled")
    alternative, field, kind = _COMPONENT_IDS[interface]
    if type(component.component_id) is not kind:
        raise EncodeError(f"a {interface.value} component id must be {kind.__name__}")
    return interface.value, (alternative, {field: component.component_id})


# --------------------------------------------------------------------------------------
# Readers: untrusted tree -> value. Each checks the exact Python type pycrate produces.


def bad(detail: str) -> E2apDecodeError:
    """The error for a decoded value of an unexpected shape."""
    return E2apDecodeError("bad_value", detail)


def read_int(tree: Tree, what: str) -> int:
    if type(tree) is not int:
        raise bad(f"{what} is not an integer")
    return tree


def read_bytes(tree: Tree, what: str) -> bytes:
    if type(tree) is not bytes:
        raise bad(f"{what} is not an octet string")
    return tree


def read_str(tree: Tree, what: str) -> str:
    if type(tree) is not str:
        raise bad(f"{what} is not a string")
    return tree


def read_dict(tree: Tree, what: str) -> dict[str, Tree]:
    if type(tree) is not dict:
        raise bad(f"{what} is not a sequence")
    return tree


def read_list(tree: Tree, what: str) -> list[Tree]:
    if type(tree) is not list:
        raise bad(f"{what} is not a list")
    return tree


def read_choice(tree: Tree, what: str) -> tuple[str, Tree]:
    if type(tree) is not tuple or len(tree) != 2 or type(tree[0]) is not str:
        raise bad(f"{what} is not a choice")
    return tree[0], tree[1]


def read_field(tree: dict[str, Tree], name: str, what: str) -> Tree:
    """A mandatory SEQUENCE component (pycrate enforces presence; this guards the shape)."""
    if name not in tree:
        raise bad(f"{what} lacks {name}")
    return tree[name]


def read_enum(enum: type[_E], tree: Tree, what: str) -> _E:
    """An ENUMERATED value as ``enum``; unknown names (extensions) are bad values."""
    name = read_str(tree, what)
    try:
        return enum(name)
    except ValueError:
        raise bad(f"{what} {name!r} is not handled") from None


def read_bits(tree: Tree, what: str) -> tuple[int, int]:
    if type(tree) is not tuple or len(tree) != 2:
        raise bad(f"{what} is not a bit string")
    return read_int(tree[0], what), read_int(tree[1], what)


def read_request_id(tree: Tree) -> RicRequestId:
    fields = read_dict(tree, "RICrequestID")
    return RicRequestId(
        requestor=read_int(read_field(fields, "ricRequestorID", "RICrequestID"), "ricRequestorID"),
        instance=read_int(read_field(fields, "ricInstanceID", "RICrequestID"), "ricInstanceID"),
    )


def read_cause(tree: Tree) -> Cause:
    group, value = read_choice(tree, "Cause")
    return Cause(read_enum(CauseGroup, group, "cause group"), read_str(value, "cause value"))


def read_gnb_id(tree: Tree) -> GlobalGnbId:
    kind, node = read_choice(tree, "GlobalE2node-ID")
    if kind != "gNB":
        raise E2apDecodeError("unsupported", f"E2 node id of kind {kind!r}")
    fields = read_dict(node, "GlobalE2node-gNB-ID")
    global_gnb = read_dict(read_field(fields, "global-gNB-ID", "gNB node id"), "global-gNB-ID")
    gnb_kind, gnb_bits = read_choice(read_field(global_gnb, "gnb-id", "global-gNB-ID"), "gnb-id")
    if gnb_kind != "gnb-ID":
        raise bad(f"gnb-id alternative {gnb_kind!r}")
    gnb_id, nbits = read_bits(gnb_bits, "gnb-ID")
    cu_up = fields.get("gNB-CU-UP-ID")
    du = fields.get("gNB-DU-ID")
    return GlobalGnbId(
        plmn=read_bytes(read_field(global_gnb, "plmn-id", "global-gNB-ID"), "plmn-id"),
        gnb_id=gnb_id,
        gnb_id_bits=nbits,
        cu_up_id=None if cu_up is None else read_int(cu_up, "gNB-CU-UP-ID"),
        du_id=None if du is None else read_int(du, "gNB-DU-ID"),
    )


def read_ric_id(tree: Tree) -> GlobalRicId:
    fields = read_dict(tree, "GlobalRIC-ID")
    ric_id, _ = read_bits(read_field(fields, "ric-ID", "GlobalRIC-ID"), "ric-ID")
    plmn = read_bytes(read_field(fields, "pLMN-Identity", "GlobalRIC-ID"), "pLMN-Identity")
    return GlobalRicId(plmn=plmn, ric_id=ric_id)


def read_component(interface: Tree, component_id: Tree) -> E2NodeComponent:
    """An E2 node component from its interface type and E2nodeComponentID trees."""
    declared = read_enum(ComponentInterface, interface, "e2nodeComponentInterfaceType")
    alternative, fields = read_choice(component_id, "e2nodeComponentID")
    if alternative not in _COMPONENT_BY_ALTERNATIVE:
        raise E2apDecodeError("unsupported", f"E2 node component id {alternative!r}")
    iface, field = _COMPONENT_BY_ALTERNATIVE[alternative]
    if iface != declared:
        raise bad(f"component id {alternative!r} on the {declared.value} interface")
    value = read_field(read_dict(fields, alternative), field, alternative)
    if type(value) not in (int, str):
        raise bad(f"{field} is neither a name nor a number")
    return E2NodeComponent(iface, value)


# --------------------------------------------------------------------------------------
# Container helpers shared by the message mappings.

IeValues = dict[int, Tree]
"""The values of a container's IEs keyed by IE id (absent optional IEs are left out)."""


def need(values: IeValues, ie_id: int) -> Tree:
    """A mandatory IE's value (``from_pdu_tree`` has checked that it is present)."""
    return values[ie_id]


def optional(values: IeValues, ie_id: int, reader: Callable[[Tree, str], Any]) -> Any:
    """An optional IE's value read with ``reader``, or None when absent."""
    return reader(values[ie_id], f"IE {ie_id}") if ie_id in values else None


def put(values: IeValues, ie_id: int, value: Tree | None) -> None:
    """Set an optional IE unless its value is None."""
    if value is not None:
        values[ie_id] = value


def items(values: IeValues, ie_id: int, list_name: str) -> list[dict[str, Tree]]:
    """The item SEQUENCEs of a single-container list IE (empty when the IE is absent)."""
    if ie_id not in values:
        return []
    spec = LIST_ITEMS[list_name]
    result = []
    for field in read_list(values[ie_id], list_name):
        field = read_dict(field, list_name)
        name, item = read_choice(read_field(field, "value", list_name), list_name)
        if field.get("id") != spec.ie_id or name != spec.type_name:
            raise bad(f"{list_name} holds an item of type {name!r}")
        result.append(read_dict(item, spec.type_name))
    return result
