"""Decoding PDUs built by hand (with pycrate directly, or byte by byte) gives the right values."""

from __future__ import annotations

from typing import Any

from pycrate_asn1dir import E2AP

from xapp.e2 import (
    ActionType,
    Cause,
    CauseGroup,
    ComponentInterface,
    ControlAckRequest,
    E2NodeComponent,
    E2SetupRequest,
    GlobalGnbId,
    IndicationType,
    RicControlRequest,
    RicIndication,
    RicRequestId,
    RicSubscriptionDeleteRequest,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
    SubsequentActionType,
    TimeToWait,
    decode,
    encode,
)
from xapp.e2._pycrate_lock import PYCRATE_LOCK


def aper(pdu: Any) -> bytes:
    """APER bytes of an E2AP-PDU value tree written out in the test, encoded by pycrate."""
    with PYCRATE_LOCK:
        E2AP.E2AP_PDU_Descriptions.E2AP_PDU.set_val(pdu)
        return bytes(E2AP.E2AP_PDU_Descriptions.E2AP_PDU.to_aper())


def field(ie_id: int, type_name: str, value: Any, criticality: str = "reject") -> dict[str, Any]:
    return {"id": ie_id, "criticality": criticality, "value": (type_name, value)}


REQUEST_ID = field(29, "RICrequestID", {"ricRequestorID": 123, "ricInstanceID": 42})


def test_subscription_delete_request_from_hand_derived_aper_bytes() -> None:
    # APER by hand: E2AP-PDU choice index 0 (initiatingMessage) -> 0x00; procedureCode 9;
    # criticality reject (2 bits, padded) -> 0x00; open type length 18; RICsubscription-
    # DeleteRequest: extension bit 0 -> 0x00, IE count 2 (two octets). IE 29: id 0x001d,
    # criticality 0x00, length 5, {ext bit 0x00, requestor 0x007b, instance 0x0001}.
    # IE 5: id 0x0005, criticality 0x00, length 2, RANfunctionID 3 (two octets).
    wire = bytes.fromhex("00 09 00 12 00 0002 001d 00 05 00 007b 0001 0005 00 02 0003")
    assert decode(wire) == RicSubscriptionDeleteRequest(RicRequestId(123, 1), 3)
    assert encode(RicSubscriptionDeleteRequest(RicRequestId(123, 1), 3)) == wire


def test_indication_built_by_hand() -> None:
    wire = aper(
        (
            "initiatingMessage",
            {
                "procedureCode": 5,
                "criticality": "ignore",
                "value": (
                    "RICindication",
                    {
                        "protocolIEs": [
                            REQUEST_ID,
                            field(5, "RANfunctionID", 2),
                            field(15, "RICactionID", 7),
                            field(27, "RICindicationSN", 999),
                            field(28, "RICindicationType", "insert"),
                            field(25, "RICindicationHeader", b"head"),
                            field(26, "RICindicationMessage", b"body"),
                            field(20, "RICcallProcessID", b"\xca\xfe"),
                        ]
                    },
                ),
            },
        )
    )
    assert decode(wire) == RicIndication(
        request_id=RicRequestId(123, 42),
        ran_function_id=2,
        action_id=7,
        indication_type=IndicationType.INSERT,
        header=b"head",
        message=b"body",
        indication_sn=999,
        call_process_id=b"\xca\xfe",
    )


def test_subscription_request_built_by_hand() -> None:
    action = {
        "ricActionID": 4,
        "ricActionType": "insert",
        "ricActionDefinition": b"def",
        "ricSubsequentAction": {"ricSubsequentActionType": "wait", "ricTimeToWait": "w2s"},
    }
    details = {
        "ricEventTriggerDefinition": b"\x08\x03\xe7",
        "ricAction-ToBeSetup-List": [
            field(19, "RICaction-ToBeSetup-Item", action, "ignore"),
            field(19, "RICaction-ToBeSetup-Item", {"ricActionID": 5, "ricActionType": "policy"}),
        ],
    }
    body = {
        "protocolIEs": [
            REQUEST_ID,
            field(5, "RANfunctionID", 147),
            field(30, "RICsubscriptionDetails", details),
        ]
    }
    pdu = (
        "initiatingMessage",
        {"procedureCode": 8, "criticality": "reject", "value": ("RICsubscriptionRequest", body)},
    )
    decoded = decode(aper(pdu))
    assert isinstance(decoded, RicSubscriptionRequest)
    assert decoded.ran_function_id == 147
    assert decoded.event_trigger == b"\x08\x03\xe7"
    first, second = decoded.actions
    assert (first.action_id, first.action_type, first.definition) == (4, ActionType.INSERT, b"def")
    assert first.subsequent_action is not None
    assert first.subsequent_action.action_type is SubsequentActionType.WAIT
    assert first.subsequent_action.time_to_wait is TimeToWait.W2S
    assert (second.action_id, second.action_type, second.definition) == (5, ActionType.POLICY, None)
    assert second.subsequent_action is None


def test_subscription_response_with_refused_actions_built_by_hand() -> None:
    admitted = [field(14, "RICaction-Admitted-Item", {"ricActionID": 1}, "ignore")]
    refused = [
        field(
            16,
            "RICaction-NotAdmitted-Item",
            {"ricActionID": 2, "cause": ("ricRequest", "action-not-supported")},
            "ignore",
        )
    ]
    body = {
        "protocolIEs": [
            REQUEST_ID,
            field(5, "RANfunctionID", 2),
            field(17, "RICaction-Admitted-List", admitted),
            field(18, "RICaction-NotAdmitted-List", refused),
        ]
    }
    pdu = (
        "successfulOutcome",
        {"procedureCode": 8, "criticality": "reject", "value": ("RICsubscriptionResponse", body)},
    )
    decoded = decode(aper(pdu))
    assert isinstance(decoded, RicSubscriptionResponse)
    assert decoded.admitted == (1,)
    assert [(n.action_id, n.cause) for n in decoded.not_admitted] == [
        (2, Cause(CauseGroup.RIC_REQUEST, "action-not-supported"))
    ]


def test_control_request_built_by_hand() -> None:
    body = {
        "protocolIEs": [
            REQUEST_ID,
            field(5, "RANfunctionID", 3),
            field(22, "RICcontrolHeader", b"h"),
            field(23, "RICcontrolMessage", b"m"),
            field(21, "RICcontrolAckRequest", "ack"),
        ]
    }
    pdu = (
        "initiatingMessage",
        {"procedureCode": 4, "criticality": "reject", "value": ("RICcontrolRequest", body)},
    )
    assert decode(aper(pdu)) == RicControlRequest(
        RicRequestId(123, 42), 3, b"h", b"m", None, ControlAckRequest.ACK
    )


def test_unknown_ies_are_skipped() -> None:
    # CriticalityDiagnostics (id 2) is legal in a RICsubscriptionFailure but not read here.
    body = {
        "protocolIEs": [
            REQUEST_ID,
            field(5, "RANfunctionID", 2),
            field(1, "Cause", ("misc", "om-intervention")),
            field(2, "CriticalityDiagnostics", {"procedureCode": 8}, "ignore"),
        ]
    }
    pdu = (
        "unsuccessfulOutcome",
        {"procedureCode": 8, "criticality": "reject", "value": ("RICsubscriptionFailure", body)},
    )
    decoded = decode(aper(pdu))
    assert getattr(decoded, "cause", None) == Cause(CauseGroup.MISC, "om-intervention")


def test_e2_setup_request_built_by_hand() -> None:
    node = (
        "gNB",
        {
            "global-gNB-ID": {"plmn-id": b"\x00\xf1\x10", "gnb-id": ("gnb-ID", (0xE00, 22))},
            "gNB-DU-ID": 17,
        },
    )
    function = {
        "ranFunctionID": 2,
        "ranFunctionDefinition": b"kpm",
        "ranFunctionRevision": 3,
        "ranFunctionOID": "1.3.6.1.4.1.53148.1.2.2.2",
    }
    component = {
        "e2nodeComponentInterfaceType": "f1",
        "e2nodeComponentID": ("e2nodeComponentInterfaceTypeF1", {"gNB-DU-ID": 17}),
        "e2nodeComponentConfiguration": {
            "e2nodeComponentRequestPart": b"req",
            "e2nodeComponentResponsePart": b"",
        },
    }
    body = {
        "protocolIEs": [
            field(49, "TransactionID", 6),
            field(3, "GlobalE2node-ID", node),
            field(10, "RANfunctions-List", [field(8, "RANfunction-Item", function, "ignore")]),
            field(
                50,
                "E2nodeComponentConfigAddition-List",
                [field(51, "E2nodeComponentConfigAddition-Item", component)],
            ),
        ]
    }
    pdu = (
        "initiatingMessage",
        {"procedureCode": 1, "criticality": "reject", "value": ("E2setupRequest", body)},
    )
    decoded = decode(aper(pdu))
    assert isinstance(decoded, E2SetupRequest)
    assert decoded.transaction_id == 6
    assert decoded.node_id == GlobalGnbId(b"\x00\xf1\x10", 0xE00, 22, du_id=17)
    assert [(f.ran_function_id, f.revision, f.oid) for f in decoded.ran_functions] == [
        (2, 3, "1.3.6.1.4.1.53148.1.2.2.2")
    ]
    (config,) = decoded.components
    assert config.component == E2NodeComponent(ComponentInterface.F1, 17)
    assert (config.request_part, config.response_part) == (b"req", b"")
