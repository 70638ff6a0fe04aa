"""Bad E2AP input raises E2apDecodeError with a stable reason; bad messages raise EncodeError."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrate_asn1dir import E2AP

from tests.e2.e2ap_strategies import BY_TYPE
from xapp.e2 import (
    MAX_PDU_BYTES,
    ActionType,
    Cause,
    CauseGroup,
    ComponentInterface,
    E2apDecodeError,
    E2NodeComponent,
    E2NodeComponentAck,
    E2NodeComponentConfig,
    E2SetupRequest,
    E2SetupResponse,
    GlobalGnbId,
    GlobalRicId,
    IndicationType,
    RanFunction,
    RicAction,
    RicIndication,
    RicRequestId,
    RicSubscriptionDeleteRequest,
    RicSubscriptionFailure,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
    decode,
    encode,
)
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.e2ap_ies import CONTAINERS, LIST_ITEMS
from xapp.e2.e2ap_procedures import PROCEDURES, to_pdu_tree
from xapp.errors import EncodeError, MalformedInput

PDU = E2AP.E2AP_PDU_Descriptions.E2AP_PDU
REQUEST_ID = RicRequestId(123, 1)
PLMN = b"\x00\xf1\x10"


def aper(pdu: Any) -> bytes:
    with PYCRATE_LOCK:
        PDU.set_val(pdu)
        return bytes(PDU.to_aper())


def reason_of(data: Any) -> str:
    with pytest.raises(E2apDecodeError) as caught:
        decode(data)
    return caught.value.reason


def setup_request(node: GlobalGnbId | None = None) -> E2SetupRequest:
    return E2SetupRequest(
        transaction_id=1,
        node_id=node or GlobalGnbId(PLMN, 1),
        ran_functions=(RanFunction(2, b"d", 1, "1.2.3"),),
        components=(E2NodeComponentConfig(E2NodeComponent(ComponentInterface.NG, "amf")),),
    )


# --- decode -----------------------------------------------------------------------------


def test_decode_errors_are_malformed_input_from_e2ap() -> None:
    with pytest.raises(MalformedInput) as caught:
        decode(b"\xff")
    assert caught.value.source == "e2ap"


@pytest.mark.parametrize("message_type", list(BY_TYPE), ids=lambda t: t.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_pdu_without_a_mandatory_ie_is_rejected_as_missing_ie(
    message_type: type, data: st.DataObject
) -> None:
    outcome, body = to_pdu_tree(data.draw(BY_TYPE[message_type]))
    container, content = body["value"]
    mandatory = [spec.ie_id for spec in CONTAINERS[container] if spec.mandatory]
    dropped = data.draw(st.sampled_from(mandatory))
    fields = [f for f in content["protocolIEs"] if f["id"] != dropped]
    wire = aper((outcome, {**body, "value": (container, {"protocolIEs": fields})}))
    assert reason_of(wire) == "missing_ie"


def test_a_pdu_with_an_ie_twice_is_rejected_as_duplicate_ie() -> None:
    outcome, body = to_pdu_tree(RicSubscriptionDeleteRequest(REQUEST_ID, 3))
    container, content = body["value"]
    fields = content["protocolIEs"] + content["protocolIEs"][:1]
    wire = aper((outcome, {**body, "value": (container, {"protocolIEs": fields})}))
    assert reason_of(wire) == "duplicate_ie"


@pytest.mark.parametrize(
    ("outcome", "code", "container"),
    [
        ("initiatingMessage", 6, "RICserviceQuery"),
        ("initiatingMessage", 2, "ErrorIndication"),
        ("successfulOutcome", 3, "ResetResponse"),
    ],
)
def test_procedures_the_codec_does_not_handle_are_rejected(
    outcome: str, code: int, container: str
) -> None:
    pdu = (
        outcome,
        {"procedureCode": code, "criticality": "ignore", "value": (container, {"protocolIEs": []})},
    )
    assert reason_of(aper(pdu)) == "unknown_procedure"


def test_a_procedure_code_without_a_definition_is_rejected() -> None:
    # Initiating message, procedure 200, criticality reject, 3 octets of opaque content.
    assert reason_of(bytes.fromhex("00c8 00 03 000000")) == "unknown_procedure"


def test_an_enb_node_id_is_unsupported() -> None:
    outcome, body = to_pdu_tree(setup_request())
    container, content = body["value"]
    enb = ("eNB", {"global-eNB-ID": {"pLMN-Identity": PLMN, "eNB-ID": ("macro-eNB-ID", (5, 20))}})
    fields = [
        {**f, "value": ("GlobalE2node-ID", enb)} if f["id"] == 3 else f
        for f in content["protocolIEs"]
    ]
    wire = aper((outcome, {**body, "value": (container, {"protocolIEs": fields})}))
    assert reason_of(wire) == "unsupported"


def test_a_component_id_of_another_interface_is_a_bad_value() -> None:
    outcome, body = to_pdu_tree(setup_request())
    content = body["value"][1]
    item = content["protocolIEs"][3]["value"][1][0]["value"][1]
    item["e2nodeComponentInterfaceType"] = "f1"  # but the id is an NG AMF name
    assert reason_of(aper((outcome, body))) == "bad_value"


def test_empty_input_is_not_aper() -> None:
    assert reason_of(b"") == "aper"


@pytest.mark.parametrize("cut", [1, 2, 5, 10])
def test_a_truncated_pdu_is_not_aper(cut: int) -> None:
    wire = encode(RicSubscriptionFailure(REQUEST_ID, 2, Cause(CauseGroup.MISC, "unspecified")))
    assert reason_of(wire[:-cut]) == "aper"


def test_bytes_after_the_pdu_are_rejected() -> None:
    wire = encode(RicSubscriptionDeleteRequest(REQUEST_ID, 3))
    assert reason_of(wire + b"\x00") == "aper"


def test_input_over_the_size_cap_is_refused_before_parsing() -> None:
    assert reason_of(bytes(MAX_PDU_BYTES + 1)) == "too_large"


def test_input_that_is_not_bytes_is_a_bad_value() -> None:
    assert reason_of("00090012") == "bad_value"


def test_bytearray_and_memoryview_inputs_decode() -> None:
    message = RicSubscriptionDeleteRequest(REQUEST_ID, 3)
    wire = encode(message)
    assert decode(bytearray(wire)) == message
    assert decode(memoryview(wire)) == message


# --- the IE table agrees with the compiled ASN.1 ------------------------------------------


def _compiled_rows(ie_set: Any) -> dict[int, tuple[str, str, bool]]:
    return {
        row["id"]: (
            row["Value"]._typeref.called[1],
            row["criticality"],
            row["presence"] == "mandatory",
        )
        for row in ie_set._val.root
    }


@pytest.mark.parametrize("container", list(CONTAINERS))
def test_container_rows_match_the_compiled_e2ap_ie_sets(container: str) -> None:
    contents = E2AP.E2AP_PDU_Contents
    ie_set = getattr(contents, f"{container}IEs", None) or getattr(contents, f"{container}_IEs")
    compiled = _compiled_rows(ie_set)
    for spec in CONTAINERS[container]:
        assert compiled[spec.ie_id] == (spec.type_name, spec.criticality, spec.mandatory)
    # Every mandatory IE of the ASN.1 has a row, so encode emits it and decode checks it.
    assert {i for i, (_, _, m) in compiled.items() if m} <= {s.ie_id for s in CONTAINERS[container]}


@pytest.mark.parametrize("list_name", list(LIST_ITEMS))
def test_list_item_rows_match_the_compiled_e2ap_ie_sets(list_name: str) -> None:
    spec = LIST_ITEMS[list_name]
    set_name = spec.type_name.replace("-", "_") + "IEs"
    compiled = _compiled_rows(getattr(E2AP.E2AP_PDU_Contents, set_name))
    assert compiled == {spec.ie_id: (spec.type_name, spec.criticality, spec.mandatory)}


def test_procedure_codes_match_the_compiled_elementary_procedures() -> None:
    compiled = {}
    for row in E2AP.E2AP_PDU_Descriptions.E2AP_ELEMENTARY_PROCEDURES._val.root:
        for outcome in ("InitiatingMessage", "SuccessfulOutcome", "UnsuccessfulOutcome"):
            if outcome in row:
                name = row[outcome]._typeref.called[1]
                compiled[name] = (row["procedureCode"], row["criticality"])
    for procedure in PROCEDURES.values():
        assert compiled[procedure.container] == (procedure.code, procedure.criticality)


# --- encode -------------------------------------------------------------------------------


def action(action_id: int = 1) -> RicAction:
    return RicAction(action_id, ActionType.REPORT)


@pytest.mark.parametrize(
    "message",
    [
        RicSubscriptionDeleteRequest(RicRequestId(65536, 0), 1),
        RicSubscriptionDeleteRequest(RicRequestId(1, -1), 1),
        RicSubscriptionDeleteRequest(REQUEST_ID, 4096),
        RicSubscriptionRequest(REQUEST_ID, 1, b"", ()),
        RicSubscriptionRequest(REQUEST_ID, 1, b"", tuple(action(n) for n in range(17))),
        RicSubscriptionRequest(REQUEST_ID, 1, b"", (action(256),)),
        RicSubscriptionResponse(REQUEST_ID, 1, ()),
        RicSubscriptionFailure(REQUEST_ID, 1, Cause(CauseGroup.MISC, "no-such-cause")),
        RicIndication(REQUEST_ID, 1, 1, "sideways", b"", b""),  # type: ignore[arg-type]
        RicIndication(REQUEST_ID, 1, 1, "report", "text", b""),  # type: ignore[arg-type]
        setup_request(GlobalGnbId(PLMN, 1 << 22, gnb_id_bits=22)),
        setup_request(GlobalGnbId(PLMN, 1, gnb_id_bits=21)),
        setup_request(GlobalGnbId(b"\x00\xf1", 1)),
        dataclasses.replace(
            setup_request(),
            components=(E2NodeComponentConfig(E2NodeComponent(ComponentInterface.XN, "x")),),
        ),
        dataclasses.replace(
            setup_request(),
            components=(E2NodeComponentConfig(E2NodeComponent(ComponentInterface.F1, "7")),),
        ),
        dataclasses.replace(setup_request(), ran_functions=()),
        E2SetupResponse(1, GlobalRicId(PLMN, 1 << 20), (), ()),
        E2SetupResponse(
            1,
            GlobalRicId(PLMN, 1),
            (),
            (
                E2NodeComponentAck(
                    E2NodeComponent(ComponentInterface.NG, "amf"),
                    success=True,
                    failure_cause=Cause(CauseGroup.MISC, "unspecified"),
                ),
            ),
        ),
    ],
    ids=lambda m: type(m).__name__,
)
def test_messages_outside_the_asn1_ranges_raise_encode_error(message: Any) -> None:
    with pytest.raises(EncodeError):
        encode(message)


def test_encoding_something_that_is_not_a_message_raises_encode_error() -> None:
    with pytest.raises(EncodeError):
        encode(REQUEST_ID)  # type: ignore[arg-type]


def test_a_pdu_over_the_size_cap_is_not_encoded() -> None:
    indication = RicIndication(REQUEST_ID, 2, 1, IndicationType.REPORT, b"", bytes(MAX_PDU_BYTES))
    with pytest.raises(EncodeError):
        encode(indication)
