"""The E2AP messages this project sends and receives, as typed immutable values.

These dataclasses are the whole vocabulary of :mod:`xapp.e2.e2ap`: ``encode`` takes one of
them and returns aligned-PER bytes, ``decode`` returns one of them. They hold plain Python
values only (ints, bytes, enums, tuples), so they can be compared, hashed and logged.

Sizes and ranges follow the O-RAN E2AP ASN.1 compiled into pycrate (E2AP v3):

- request ids: ``requestor`` and ``instance`` are 0..65535;
- RAN function ids and revisions: 0..4095; action ids: 0..255; indication SN: 0..65535;
- a subscription carries 1..16 actions; a response admits 1..16 and refuses 0..16;
- E2 setup carries 1..256 RAN functions and 1..1024 component configurations.

The encoder checks these ranges; values outside them raise :class:`xapp.errors.EncodeError`.
OCTET STRING payloads (E2SM headers, messages, definitions) are opaque ``bytes`` here: the
service-model codecs (``xapp.e2.kpm``, ``xapp.e2.csi``) interpret them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CauseGroup(StrEnum):
    """The alternatives of the E2AP ``Cause`` CHOICE (the value names are the ASN.1 names)."""

    RIC_REQUEST = "ricRequest"
    RIC_SERVICE = "ricService"
    E2_NODE = "e2Node"
    TRANSPORT = "transport"
    PROTOCOL = "protocol"
    MISC = "misc"


@dataclass(frozen=True)
class Cause:
    """Why a request failed: a group and the ASN.1 name of the value inside it.

    Example: ``Cause(CauseGroup.RIC_REQUEST, "action-not-supported")``. The encoder
    rejects names that the group does not define (see ``xapp.e2.e2ap.cause_names``).
    """

    group: CauseGroup
    value: str


class IndicationType(StrEnum):
    """``RICindicationType``: whether an indication reports or asks the RIC to insert."""

    REPORT = "report"
    INSERT = "insert"


class ActionType(StrEnum):
    """``RICactionType`` of an action in a subscription."""

    REPORT = "report"
    INSERT = "insert"
    POLICY = "policy"


class SubsequentActionType(StrEnum):
    """``RICsubsequentActionType``: what the E2 node does after an insert action."""

    CONTINUE = "continue"
    WAIT = "wait"


class TimeToWait(StrEnum):
    """``RICtimeToWait`` for a subsequent action (the names carry the unit)."""

    W1MS = "w1ms"
    W2MS = "w2ms"
    W5MS = "w5ms"
    W10MS = "w10ms"
    W20MS = "w20ms"
    W30MS = "w30ms"
    W40MS = "w40ms"
    W50MS = "w50ms"
    W100MS = "w100ms"
    W200MS = "w200ms"
    W500MS = "w500ms"
    W1S = "w1s"
    W2S = "w2s"
    W5S = "w5s"
    W10S = "w10s"
    W20S = "w20s"
    W60S = "w60s"


class ControlAckRequest(StrEnum):
    """``RICcontrolAckRequest``: whether the xApp wants a RICcontrolAcknowledge."""

    NO_ACK = "noAck"
    ACK = "ack"


class ComponentInterface(StrEnum):
    """``E2nodeComponentInterfaceType``: the interface an E2 node component sits on."""

    NG = "ng"
    XN = "xn"
    E1 = "e1"
    F1 = "f1"
    W1 = "w1"
    S1 = "s1"
    X2 = "x2"


@dataclass(frozen=True)
class RicRequestId:
    """``RICrequestID``: the requestor (the RIC's submgr uses 123) and its instance id."""

    requestor: int
    instance: int


@dataclass(frozen=True)
class SubsequentAction:
    """``RICsubsequentAction`` of an action."""

    action_type: SubsequentActionType
    time_to_wait: TimeToWait


@dataclass(frozen=True)
class RicAction:
    """One ``RICaction-ToBeSetup-Item`` of a subscription.

    ``definition`` is the E2SM action definition (opaque bytes), ``execution_order`` the
    optional v3 ``RICactionExecutionOrder`` (0..255).
    """

    action_id: int
    action_type: ActionType
    definition: bytes | None = None
    subsequent_action: SubsequentAction | None = None
    execution_order: int | None = None


@dataclass(frozen=True)
class NotAdmittedAction:
    """An action the E2 node refused, and why."""

    action_id: int
    cause: Cause


@dataclass(frozen=True)
class RicIndication:
    """``RICindication`` (procedure 5): an E2 node's report for one subscription action.

    ``header`` and ``message`` are the E2SM indication header and message (opaque bytes).
    """

    request_id: RicRequestId
    ran_function_id: int
    action_id: int
    indication_type: IndicationType
    header: bytes
    message: bytes
    indication_sn: int | None = None
    call_process_id: bytes | None = None


@dataclass(frozen=True)
class RicSubscriptionRequest:
    """``RICsubscriptionRequest`` (procedure 8): event trigger plus 1..16 actions."""

    request_id: RicRequestId
    ran_function_id: int
    event_trigger: bytes
    actions: tuple[RicAction, ...]


@dataclass(frozen=True)
class RicSubscriptionResponse:
    """``RICsubscriptionResponse``: ids of the admitted actions and the refused ones."""

    request_id: RicRequestId
    ran_function_id: int
    admitted: tuple[int, ...]
    not_admitted: tuple[NotAdmittedAction, ...] = ()


@dataclass(frozen=True)
class RicSubscriptionFailure:
    """``RICsubscriptionFailure``: the whole subscription was refused."""

    request_id: RicRequestId
    ran_function_id: int
    cause: Cause


@dataclass(frozen=True)
class RicSubscriptionDeleteRequest:
    """``RICsubscriptionDeleteRequest`` (procedure 9)."""

    request_id: RicRequestId
    ran_function_id: int


@dataclass(frozen=True)
class RicSubscriptionDeleteResponse:
    """``RICsubscriptionDeleteResponse``: the subscription is gone."""

    request_id: RicRequestId
    ran_function_id: int


@dataclass(frozen=True)
class RicSubscriptionDeleteFailure:
    """``RICsubscriptionDeleteFailure``: the subscription could not be deleted."""

    request_id: RicRequestId
    ran_function_id: int
    cause: Cause


@dataclass(frozen=True)
class RicControlRequest:
    """``RICcontrolRequest`` (procedure 4): an E2SM control header and message."""

    request_id: RicRequestId
    ran_function_id: int
    header: bytes
    message: bytes
    call_process_id: bytes | None = None
    ack_request: ControlAckRequest | None = None


@dataclass(frozen=True)
class RicControlAcknowledge:
    """``RICcontrolAcknowledge``: the control was executed; ``outcome`` is E2SM bytes."""

    request_id: RicRequestId
    ran_function_id: int
    call_process_id: bytes | None = None
    outcome: bytes | None = None


@dataclass(frozen=True)
class RicControlFailure:
    """``RICcontrolFailure``: the control was not executed."""

    request_id: RicRequestId
    ran_function_id: int
    cause: Cause
    call_process_id: bytes | None = None
    outcome: bytes | None = None


@dataclass(frozen=True)
class GlobalGnbId:
    """``GlobalE2node-ID`` for a gNB (the only E2 node kind this codec handles).

    ``plmn`` is the 3-octet TBCD PLMN identity; ``gnb_id`` is the gNB id, an integer of
    ``gnb_id_bits`` bits (22..32); ``cu_up_id`` / ``du_id`` (0..2**36-1) name the gNB-CU-UP
    or gNB-DU for split nodes. (An en-gNB id that a node may add is not kept on decode.)
    """

    plmn: bytes
    gnb_id: int
    gnb_id_bits: int = 32
    cu_up_id: int | None = None
    du_id: int | None = None


@dataclass(frozen=True)
class GlobalRicId:
    """``GlobalRIC-ID``: PLMN (3 octets) and a 20-bit near-RT RIC id."""

    plmn: bytes
    ric_id: int


@dataclass(frozen=True)
class RanFunction:
    """``RANfunction-Item``: a service model the E2 node offers.

    ``definition`` is the E2SM RAN function definition (opaque bytes); ``oid`` the
    service model's object identifier as printable text (1..1000 characters).
    """

    ran_function_id: int
    definition: bytes
    revision: int
    oid: str


@dataclass(frozen=True)
class E2NodeComponent:
    """Which E2 node component a configuration belongs to.

    ``component_id`` is the AMF name (NG) or MME name (S1) as text, or the gNB-CU-UP id
    (E1), gNB-DU id (F1) or ng-eNB-DU id (W1) as an integer. Xn and X2 components (named
    by global node ids) are not handled by this codec.
    """

    interface: ComponentInterface
    component_id: str | int


@dataclass(frozen=True)
class E2NodeComponentConfig:
    """``E2nodeComponentConfigAddition-Item``: a component and its configuration.

    ``request_part`` / ``response_part`` are the component's interface setup request and
    response messages (opaque bytes, possibly empty).
    """

    component: E2NodeComponent
    request_part: bytes = b""
    response_part: bytes = b""


@dataclass(frozen=True)
class E2NodeComponentAck:
    """``E2nodeComponentConfigAdditionAck-Item``: whether the RIC took a configuration."""

    component: E2NodeComponent
    success: bool = True
    failure_cause: Cause | None = None


@dataclass(frozen=True)
class AcceptedRanFunction:
    """A RAN function the RIC accepted (``RANfunctionID-Item``)."""

    ran_function_id: int
    revision: int


@dataclass(frozen=True)
class RejectedRanFunction:
    """A RAN function the RIC rejected, and why (``RANfunctionIDcause-Item``)."""

    ran_function_id: int
    cause: Cause


@dataclass(frozen=True)
class E2SetupRequest:
    """``E2setupRequest`` (procedure 1): an E2 node introduces itself and its functions."""

    transaction_id: int
    node_id: GlobalGnbId
    ran_functions: tuple[RanFunction, ...]
    components: tuple[E2NodeComponentConfig, ...]


@dataclass(frozen=True)
class E2SetupResponse:
    """``E2setupResponse``: the RIC's id, the functions it accepted and rejected."""

    transaction_id: int
    ric_id: GlobalRicId
    accepted: tuple[AcceptedRanFunction, ...]
    component_acks: tuple[E2NodeComponentAck, ...]
    rejected: tuple[RejectedRanFunction, ...] = ()


@dataclass(frozen=True)
class E2SetupFailure:
    """``E2setupFailure``: the RIC refused the E2 node."""

    transaction_id: int
    cause: Cause


E2apMessage = (
    RicIndication
    | RicSubscriptionRequest
    | RicSubscriptionResponse
    | RicSubscriptionFailure
    | RicSubscriptionDeleteRequest
    | RicSubscriptionDeleteResponse
    | RicSubscriptionDeleteFailure
    | RicControlRequest
    | RicControlAcknowledge
    | RicControlFailure
    | E2SetupRequest
    | E2SetupResponse
    | E2SetupFailure
)
"""Every message :func:`xapp.e2.e2ap.decode` can return and :func:`~xapp.e2.e2ap.encode` takes."""
