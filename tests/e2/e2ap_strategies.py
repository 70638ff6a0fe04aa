"""Hypothesis strategies for every E2AP message, within the ranges of the E2AP ASN.1."""

from __future__ import annotations

from hypothesis import strategies as st

from xapp.e2 import (
    AcceptedRanFunction,
    ActionType,
    Cause,
    CauseGroup,
    ComponentInterface,
    ControlAckRequest,
    E2apMessage,
    E2NodeComponent,
    E2NodeComponentAck,
    E2NodeComponentConfig,
    E2SetupFailure,
    E2SetupRequest,
    E2SetupResponse,
    GlobalGnbId,
    GlobalRicId,
    IndicationType,
    NotAdmittedAction,
    RanFunction,
    RejectedRanFunction,
    RicAction,
    RicControlAcknowledge,
    RicControlFailure,
    RicControlRequest,
    RicIndication,
    RicRequestId,
    RicSubscriptionDeleteFailure,
    RicSubscriptionDeleteRequest,
    RicSubscriptionDeleteResponse,
    RicSubscriptionFailure,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
    SubsequentAction,
    SubsequentActionType,
    TimeToWait,
    cause_names,
)

# The characters of ASN.1 PrintableString (no underscore).
PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"

payloads = st.binary(max_size=96)
optional_payloads = st.none() | payloads
request_ids = st.builds(RicRequestId, st.integers(0, 65535), st.integers(0, 65535))
ran_function_ids = st.integers(0, 4095)
action_ids = st.integers(0, 255)
causes = st.sampled_from(
    [Cause(group, name) for group in CauseGroup for name in cause_names(group)]
)
plmns = st.binary(min_size=3, max_size=3)
printable_names = st.text(PRINTABLE, min_size=1, max_size=40)


@st.composite
def gnb_ids(draw: st.DrawFn) -> GlobalGnbId:
    bits = draw(st.integers(22, 32))
    return GlobalGnbId(
        plmn=draw(plmns),
        gnb_id=draw(st.integers(0, (1 << bits) - 1)),
        gnb_id_bits=bits,
        cu_up_id=draw(st.none() | st.integers(0, (1 << 36) - 1)),
        du_id=draw(st.none() | st.integers(0, (1 << 36) - 1)),
    )


components = st.one_of(
    st.builds(E2NodeComponent, st.just(ComponentInterface.NG), printable_names),
    st.builds(E2NodeComponent, st.just(ComponentInterface.S1), printable_names),
    st.builds(
        E2NodeComponent,
        st.sampled_from([ComponentInterface.E1, ComponentInterface.F1, ComponentInterface.W1]),
        st.integers(0, (1 << 36) - 1),
    ),
)

actions = st.builds(
    RicAction,
    action_id=action_ids,
    action_type=st.sampled_from(ActionType),
    definition=optional_payloads,
    subsequent_action=st.none()
    | st.builds(
        SubsequentAction, st.sampled_from(SubsequentActionType), st.sampled_from(TimeToWait)
    ),
    execution_order=st.none() | st.integers(0, 255),
)

indications = st.builds(
    RicIndication,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    action_id=action_ids,
    indication_type=st.sampled_from(IndicationType),
    header=payloads,
    message=st.binary(max_size=6000),
    indication_sn=st.none() | st.integers(0, 65535),
    call_process_id=optional_payloads,
)

subscription_requests = st.builds(
    RicSubscriptionRequest,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    event_trigger=payloads,
    actions=st.lists(actions, min_size=1, max_size=16).map(tuple),
)

subscription_responses = st.builds(
    RicSubscriptionResponse,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    admitted=st.lists(action_ids, min_size=1, max_size=16).map(tuple),
    not_admitted=st.lists(st.builds(NotAdmittedAction, action_ids, causes), max_size=16).map(tuple),
)

subscription_failures = st.builds(RicSubscriptionFailure, request_ids, ran_function_ids, causes)
delete_requests = st.builds(RicSubscriptionDeleteRequest, request_ids, ran_function_ids)
delete_responses = st.builds(RicSubscriptionDeleteResponse, request_ids, ran_function_ids)
delete_failures = st.builds(RicSubscriptionDeleteFailure, request_ids, ran_function_ids, causes)

control_requests = st.builds(
    RicControlRequest,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    header=payloads,
    message=payloads,
    call_process_id=optional_payloads,
    ack_request=st.none() | st.sampled_from(ControlAckRequest),
)

control_acks = st.builds(
    RicControlAcknowledge,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    call_process_id=optional_payloads,
    outcome=optional_payloads,
)

control_failures = st.builds(
    RicControlFailure,
    request_id=request_ids,
    ran_function_id=ran_function_ids,
    cause=causes,
    call_process_id=optional_payloads,
    outcome=optional_payloads,
)

ran_functions = st.builds(
    RanFunction,
    ran_function_id=ran_function_ids,
    definition=payloads,
    revision=st.integers(0, 4095),
    oid=printable_names,
)

setup_requests = st.builds(
    E2SetupRequest,
    transaction_id=st.integers(0, 255),
    node_id=gnb_ids(),
    ran_functions=st.lists(ran_functions, min_size=1, max_size=8).map(tuple),
    components=st.lists(
        st.builds(E2NodeComponentConfig, components, payloads, payloads), min_size=1, max_size=4
    ).map(tuple),
)

component_acks = st.one_of(
    st.builds(E2NodeComponentAck, components, st.just(True), st.none()),
    st.builds(E2NodeComponentAck, components, st.just(False), st.none() | causes),
)

setup_responses = st.builds(
    E2SetupResponse,
    transaction_id=st.integers(0, 255),
    ric_id=st.builds(GlobalRicId, plmns, st.integers(0, (1 << 20) - 1)),
    accepted=st.lists(
        st.builds(AcceptedRanFunction, ran_function_ids, st.integers(0, 4095)), max_size=8
    ).map(tuple),
    component_acks=st.lists(component_acks, min_size=1, max_size=4).map(tuple),
    rejected=st.lists(st.builds(RejectedRanFunction, ran_function_ids, causes), max_size=8).map(
        tuple
    ),
)

setup_failures = st.builds(E2SetupFailure, st.integers(0, 255), causes)

BY_TYPE: dict[type, st.SearchStrategy[E2apMessage]] = {
    RicIndication: indications,
    RicSubscriptionRequest: subscription_requests,
    RicSubscriptionResponse: subscription_responses,
    RicSubscriptionFailure: subscription_failures,
    RicSubscriptionDeleteRequest: delete_requests,
    RicSubscriptionDeleteResponse: delete_responses,
    RicSubscriptionDeleteFailure: delete_failures,
    RicControlRequest: control_requests,
    RicControlAcknowledge: control_acks,
    RicControlFailure: control_failures,
    E2SetupRequest: setup_requests,
    E2SetupResponse: setup_responses,
    E2SetupFailure: setup_failures,
}
"""One strategy per message type."""

messages = st.one_of(*BY_TYPE.values())


def samples() -> list[E2apMessage]:
    """One fixed, fully populated message per type (a deterministic fuzzing corpus)."""
    rid = RicRequestId(123, 7)
    cause = Cause(CauseGroup.RIC_REQUEST, "action-not-supported")
    node = E2NodeComponent(ComponentInterface.NG, "amf-1")
    subsequent = SubsequentAction(SubsequentActionType.WAIT, TimeToWait.W100MS)
    return [
        RicIndication(rid, 2, 1, IndicationType.REPORT, b"h" * 24, bytes(range(256)) * 4, 9, b"c"),
        RicSubscriptionRequest(
            rid,
            2,
            b"\x08\x03\xe7",
            (
                RicAction(1, ActionType.REPORT, b"d" * 40, subsequent, 2),
                RicAction(2, ActionType.INSERT),
            ),
        ),
        RicSubscriptionResponse(rid, 2, (1,), (NotAdmittedAction(2, cause),)),
        RicSubscriptionFailure(rid, 2, cause),
        RicSubscriptionDeleteRequest(rid, 2),
        RicSubscriptionDeleteResponse(rid, 2),
        RicSubscriptionDeleteFailure(rid, 2, cause),
        RicControlRequest(rid, 3, b"hdr", b"msg", b"cp", ControlAckRequest.ACK),
        RicControlAcknowledge(rid, 3, b"cp", b"outcome"),
        RicControlFailure(rid, 3, cause, b"cp", b"outcome"),
        E2SetupRequest(
            5,
            GlobalGnbId(b"\x00\xf1\x10", 0x3FFFF, 22, 4, 9),
            (RanFunction(2, b"kpm" * 20, 1, "1.3.6.1.4.1.53148.1.2.2.2"),),
            (E2NodeComponentConfig(node, b"req", b"resp"),),
        ),
        E2SetupResponse(
            5,
            GlobalRicId(b"\x00\xf1\x10", 77),
            (AcceptedRanFunction(2, 1),),
            (E2NodeComponentAck(node, False, cause),),
            (RejectedRanFunction(3, cause),),
        ),
        E2SetupFailure(5, Cause(CauseGroup.MISC, "unspecified")),
    ]
