"""The KPM codec against hand-derived APER bytes, foreign encodings, and its refusals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from pycrate_asn1rt.asnobj import ASN1Obj

from schemas import e2sm_kpm_asn
from xapp.e2 import kpm
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.kpm_ran_function import kpm_ran_function
from xapp.e2.kpm_types import (
    NO_LABEL,
    Guami,
    KpmActionDefinitionFormat1,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    MeasurementInfo,
    MeasurementLabel,
    MeasurementPeriod,
    UeIdGnb,
    UeIdGnbDu,
    UeIdOther,
    UeMeasurementReport,
    plmn_id,
)
from xapp.errors import EncodeError, MalformedInput

ASN = e2sm_kpm_asn.LinkFM_E2SM_KPM


def foreign_aper(asn: Any, value: Any, *, permissive: bool = False) -> bytes:
    """Bytes another node could send, made with pycrate directly (``permissive``: without
    its PrintableString alphabet check, as encoders that accept ``_`` do)."""
    with PYCRATE_LOCK:
        ASN1Obj._SAFE_VAL = not permissive
        try:
            return bytes(asn.to_aper(value))
        finally:
            ASN1Obj._SAFE_VAL = True


def reason_of(call: Any, *args: Any) -> str:
    with pytest.raises(kpm.KpmDecodeError) as info:
        call(*args)
    return info.value.reason


# --- golden bytes ---------------------------------------------------------------------------


def test_event_trigger_of_1000_ms_is_the_hand_derived_aper() -> None:
    # 3 bits: SEQUENCE extension 0, CHOICE extension 0 (one root alternative: no index),
    # Format1 extension 0; reportingPeriod INTEGER (1..2^32-1) has a range over 64K so it is
    # a 2-bit octet count (2 octets -> 01), padding, then 1000-1 = 0x03e7.
    # 000 01 000 | 03 e7
    golden = bytes.fromhex("0803e7")
    assert kpm.encode_event_trigger(KpmEventTrigger(1000)) == golden
    assert kpm.decode_event_trigger(golden) == KpmEventTrigger(1000)


def test_one_integer_record_format1_is_the_hand_derived_aper() -> None:
    # 00: SEQUENCE ext, CHOICE ext, 1-bit index of 2 roots (0), Format1 ext, 2 OPTIONAL bits
    # 0000: measData count-1 in 2 aligned octets (SIZE(1..65535))
    # 00 01: item ext + incompleteFlag bit, padding; measRecord count (ub >= 64K: plain n = 1)
    # 00 05: CHOICE ext, 2-bit index (integer), 2-bit octet count-1, padding; value 5
    golden = bytes.fromhex("00000000010005")
    message = KpmIndicationFormat1((MeasurementPeriod((5,)),))
    assert kpm.encode_indication_message(message) == golden
    assert kpm.decode_indication_message(golden) == message


def test_format3_travels_as_an_extension_alternative_in_an_open_type() -> None:
    # 40 00: SEQUENCE ext 0, CHOICE ext 1, normally-small index 0 of the additions (7 bits),
    #        padding; 0d: open type length 13, then Format3 on its own:
    #   00 0000: SEQUENCE ext, padding, ueMeasReportList count-1 (2 octets)
    #   08 00 07: item ext 0, UEID ext 0, 3-bit index 001 (gNB-DU-UEID), UEID-GNB-DU ext 0,
    #             ran-UEID absent, 2-bit octet count-1 (00), padding; F1AP id 7
    #   00 0000 00 01 00 05: the one-record format 1 of the test above (measReport)
    golden = bytes.fromhex("40000d00000008000700000000010005")
    message = KpmIndicationFormat3(
        (UeMeasurementReport(UeIdGnbDu(7), KpmIndicationFormat1((MeasurementPeriod((5,)),))),)
    )
    assert kpm.encode_indication_message(message) == golden
    assert kpm.decode_indication_message(golden) == message


def test_label_extension_additions_decode_from_hand_derived_bytes() -> None:
    # Action definition (style 1, format 1) of measurement "A" labelled {ssbIndex 1}:
    # 00 0101 00 0000 0000 41 01: as for an unlabelled one, up to the label count (1);
    # 40 00 00 0a 00: LabelInfoItem ext 0, MeasurementLabel ext 1, 21 absent OPTIONALs,
    #   bitmap length-1 = 2 (0 000010), bitmap 100 (ssbIndex only), padding;
    # 03 000000: open type of 3 octets: ext bit 0, padding, 1-1 in 2 octets;
    # 00 00: granulPeriod 1.
    golden = bytes.fromhex("000101000000000041014000000a00030000000000")
    action = kpm.decode_action_definition(golden)
    assert action == KpmActionDefinitionFormat1(
        (MeasurementInfo("A", (MeasurementLabel(ssb_index=1),)),), 1, None, 1
    )


def test_empty_header_strings_are_left_out() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with_empty = kpm.encode_indication_header(KpmIndicationHeader(when, "", None, "", "LinkFM"))
    assert with_empty == kpm.encode_indication_header(
        KpmIndicationHeader(when, vendor_name="LinkFM")
    )
    assert kpm.decode_indication_header(with_empty).sender_type is None


# --- what other nodes send ------------------------------------------------------------------


def test_measurement_names_with_underscore_decode_as_sent() -> None:
    name = "DRB.PdcpSduVolumeDL_Filter"
    value = {
        "indicationMessage-formats": (
            "indicationMessage-Format1",
            {
                "measData": [{"measRecord": [("integer", 12)]}],
                "measInfoList": [
                    {
                        "measType": ("measName", name),
                        "labelInfoList": [{"measLabel": {"noLabel": "true"}}],
                    }
                ],
            },
        )
    }
    decoded = kpm.decode_indication_message(
        foreign_aper(ASN.E2SM_KPM_IndicationMessage, value, permissive=True)
    )
    assert isinstance(decoded, KpmIndicationFormat1)
    assert decoded.values(name) == (12,)


def test_base10_real_from_another_encoder_decodes_to_its_value() -> None:
    value = {
        "indicationMessage-formats": (
            "indicationMessage-Format1",
            {"measData": [{"measRecord": [("real", (-125, 10, -1))]}]},
        )
    }
    decoded = kpm.decode_indication_message(foreign_aper(ASN.E2SM_KPM_IndicationMessage, value))
    assert isinstance(decoded, KpmIndicationFormat1)
    assert decoded.periods[0].values == (-12.5,)


def test_lte_side_ue_ids_round_trip_opaque() -> None:
    ue = (
        "en-gNB-UEID",
        {
            "m-eNB-UE-X2AP-ID": 17,
            "globalENB-ID": {"pLMNIdentity": b"\x00\xf1\x10", "eNB-ID": ("macro-eNB-ID", (5, 20))},
        },
    )
    value = {
        "indicationMessage-formats": (
            "indicationMessage-Format3",
            {
                "ueMeasReportList": [
                    {"ueID": ue, "measReport": {"measData": [{"measRecord": [("noValue", 0)]}]}}
                ]
            },
        )
    }
    wire = foreign_aper(ASN.E2SM_KPM_IndicationMessage, value)
    decoded = kpm.decode_indication_message(wire)
    assert isinstance(decoded, KpmIndicationFormat3)
    ue_id = decoded.reports[0].ue_id
    assert isinstance(ue_id, UeIdOther) and ue_id.kind == "en-gNB-UEID"
    assert kpm.encode_indication_message(decoded) == wire


# --- refusals -------------------------------------------------------------------------------


def test_decode_errors_are_malformed_input_from_e2sm_kpm() -> None:
    with pytest.raises(MalformedInput) as info:
        kpm.decode_event_trigger(b"\xff")
    assert info.value.source == "e2sm_kpm"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (bytes(kpm.MAX_KPM_BYTES + 1), "too_large"),
        (bytes.fromhex("0803e700"), "trailing_bytes"),
        (bytes.fromhex("0803"), "asn1"),
    ],
)
def test_bad_event_trigger_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    assert reason_of(kpm.decode_event_trigger, data) == reason


def test_non_bytes_input_is_refused() -> None:
    assert reason_of(kpm.decode_indication_message, "0803e7") == "not_bytes"


def test_formats_this_project_does_not_interpret_are_refused() -> None:
    value = {
        "ric-Style-Type": 2,
        "actionDefinition-formats": (
            "actionDefinition-Format2",
            {
                "ueID": ("gNB-DU-UEID", {"gNB-CU-UE-F1AP-ID": 1}),
                "subscriptInfo": {
                    "measInfoList": [
                        {"measType": ("measID", 1), "labelInfoList": [{"measLabel": {}}]}
                    ],
                    "granulPeriod": 10,
                },
            },
        ),
    }
    data = foreign_aper(ASN.E2SM_KPM_ActionDefinition, value)
    assert reason_of(kpm.decode_action_definition, data) == "unsupported_format"


def test_records_that_do_not_match_the_measurement_columns_are_refused() -> None:
    value = {
        "indicationMessage-formats": (
            "indicationMessage-Format1",
            {
                "measData": [{"measRecord": [("integer", 1)]}],
                "measInfoList": [
                    {"measType": ("measID", i), "labelInfoList": [{"measLabel": {}}]}
                    for i in (1, 2)
                ],
            },
        )
    }
    data = foreign_aper(ASN.E2SM_KPM_IndicationMessage, value)
    assert reason_of(kpm.decode_indication_message, data) == "record_shape"


def _format1(*values: Any, name: str = "DRB.UEThpDl") -> KpmIndicationFormat1:
    return KpmIndicationFormat1((MeasurementPeriod(values),), (MeasurementInfo(name),))


@pytest.mark.parametrize(
    "message",
    [
        _format1(-1),
        _format1(2**32),
        _format1(True),
        _format1(np.bool_(True)),
        _format1("1"),
        _format1(float("nan")),
        _format1(float("inf")),
        _format1(1, name="DRB.PdcpSduVolumeDL_Filter"),
        _format1(1, 2),
        KpmIndicationFormat1(
            (MeasurementPeriod((1,)),), (MeasurementInfo("X", (MeasurementLabel(ssb_index=1),)),)
        ),
        KpmIndicationFormat3(
            (
                UeMeasurementReport(
                    UeIdGnb(2**40, Guami(plmn_id("001", "01"), 1, 1, 1)), _format1(1)
                ),
            )
        ),
    ],
    ids=[
        "negative",
        "over-u32",
        "bool",
        "np-bool",
        "str",
        "nan",
        "inf",
        "underscore",
        "shape",
        "label-ext",
        "ngap-id",
    ],
)
def test_values_outside_the_asn1_are_refused_by_the_encoder(message: Any) -> None:
    with pytest.raises(EncodeError):
        kpm.encode_indication_message(message)


@pytest.mark.parametrize("period", [0, 2**32])
def test_reporting_periods_outside_1_to_2_pow_32_are_refused(period: int) -> None:
    with pytest.raises(EncodeError):
        kpm.encode_event_trigger(KpmEventTrigger(period))


# --- convenience API ------------------------------------------------------------------------


def test_series_are_keyed_by_measurement_and_label() -> None:
    cqi7 = MeasurementLabel(dist_bin_x=7, dist_bin_y=2)
    cqi8 = MeasurementLabel(dist_bin_x=8, dist_bin_y=2)
    message = KpmIndicationFormat1(
        (MeasurementPeriod((10, 3, 4)), MeasurementPeriod((11, 5, None))),
        (MeasurementInfo("DRB.UEThpDl"), MeasurementInfo("CARR.WBCQIDist", (cqi7, cqi8))),
    )
    assert message.series() == {
        ("DRB.UEThpDl", NO_LABEL): (10, 11),
        ("CARR.WBCQIDist", cqi7): (3, 5),
        ("CARR.WBCQIDist", cqi8): (4, None),
    }
    assert message.values("DRB.UEThpDl") == (10, 11)
    assert message.values("CARR.WBCQIDist", cqi8) == (4, None)
    with pytest.raises(ValueError, match="labels"):
        message.values("CARR.WBCQIDist")
    with pytest.raises(KeyError):
        message.values("RRU.PrbUsedDl")


def test_a_report_without_names_takes_them_from_the_subscription() -> None:
    unnamed = kpm.build_format3([UeIdGnbDu(1)], ["A", "B"], [[1, 2]], include_names=False)
    report = unnamed.reports[0].report
    assert report.series() == {}
    named = report.with_measurements((MeasurementInfo("A"), MeasurementInfo("B")))
    assert named.values("B") == (2,)
    with pytest.raises(ValueError, match="do not all have 1 value"):
        report.with_measurements((MeasurementInfo("A"),))


def test_from_series_builds_one_unlabelled_column_per_measurement() -> None:
    message = KpmIndicationFormat1.from_series({"A": [1, 2], "B": [0.5, None]}, 100)
    assert message.values("A") == (1, 2)
    assert message.values("B") == (0.5, None)
    assert message.granularity_period_ms == 100


def test_build_format3_maps_dtypes_to_record_kinds() -> None:
    ues = [UeIdGnbDu(1), UeIdGnbDu(2)]
    ints = kpm.build_format3(ues, ["A", "B"], np.array([[1, 2], [3, 4]], dtype=np.uint32))
    floats = kpm.build_format3(ues, ["A", "B"], np.array([[0.5, np.nan], [1.0, 2.0]]))
    assert ints.by_ue()[UeIdGnbDu(2)].values("B") == (4,)
    assert type(ints.by_ue()[UeIdGnbDu(2)].values("B")[0]) is int
    assert floats.by_ue()[UeIdGnbDu(1)].periods[0].values == (0.5, None)
    decoded = kpm.decode_indication_message(kpm.encode_indication_message(floats))
    assert decoded == floats


def test_numpy_scalars_keep_their_record_kind() -> None:
    values: tuple[Any, ...] = (np.uint32(7), np.float32(0.5))
    message = KpmIndicationFormat1(
        (MeasurementPeriod(values),), (MeasurementInfo("A"), MeasurementInfo("B"))
    )
    decoded = kpm.decode_indication_message(kpm.encode_indication_message(message))
    assert isinstance(decoded, KpmIndicationFormat1)
    assert [(type(v), v) for v in decoded.periods[0].values] == [(int, 7), (float, 0.5)]


def test_build_format3_accepts_several_periods_per_ue() -> None:
    values = np.arange(2 * 3 * 2).reshape(2, 3, 2)
    message = kpm.build_format3([UeIdGnbDu(1), UeIdGnbDu(2)], ["A", "B"], values, 10)
    assert message.by_ue()[UeIdGnbDu(2)].values("A") == (6, 8, 10)


def test_build_format3_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        kpm.build_format3([UeIdGnbDu(1)], ["A", "B"], np.zeros((2, 2)))


def test_sample_indication_is_64_ues_by_8_measurements_and_round_trips() -> None:
    header, message = kpm.sample_indication()
    assert len(message.reports) == 64
    assert all(len(r.report.columns()) == 8 for r in message.reports)
    assert kpm.decode_indication_message(kpm.encode_indication_message(message)) == message
    assert kpm.decode_indication_header(kpm.encode_indication_header(header)) == header


def test_the_simulated_node_offers_node_and_ue_level_report_styles() -> None:
    offer = kpm.decode_ran_function(kpm.encode_ran_function(kpm_ran_function(["A", "B"])))
    assert offer.oid == "1.3.6.1.4.1.53148.1.2.2.2"
    ue_level = offer.report_style(4)
    assert ue_level is not None
    assert (ue_level.action_format_type, ue_level.message_format_type) == (4, 3)
    assert ue_level.measurements == (("A", None), ("B", None))
    assert offer.report_style(2) is None


def test_concurrent_encodes_and_decodes_do_not_mix_messages() -> None:
    messages = [
        KpmIndicationFormat1(
            (MeasurementPeriod((i, i + 1, i + 2)),),
            tuple(MeasurementInfo(f"M{i}.{c}") for c in range(3)),
        )
        for i in range(8)
    ]
    failures: list[str] = []

    def worker(message: KpmIndicationFormat1) -> None:
        for _ in range(25):
            if kpm.decode_indication_message(kpm.encode_indication_message(message)) != message:
                failures.append(str(message))

    threads = [threading.Thread(target=worker, args=(m,)) for m in messages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
