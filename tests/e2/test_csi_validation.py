"""E2SM-CSI decoders refuse invalid input with CsiDecodeError and a stable reason code.

Each test takes a valid message, breaks one thing at the protobuf level (as a faulty or
hostile E2 node would), and checks the reason. Encoders refuse the same with EncodeError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from schemas import e2sm_csi_pb2 as pb
from xapp.e2 import csi, csi_rules
from xapp.e2.csi import (
    BeamRsrp,
    ChannelEstimate,
    CsiActionDefinition,
    CsiDecodeError,
    CsiEventTrigger,
    CsiReport,
    Pmi,
    UciCsi,
)
from xapp.errors import EncodeError, MalformedInput

DEFINITION = csi.example_ran_function(subbands=13, n_rx=2, n_tx=4)


def _valid_message() -> pb.IndicationMessage:
    indication = csi.example_indication(n_ues=2, subbands=13, n_rx=2, n_tx=4)
    return pb.IndicationMessage.FromString(csi.encode_indication_message(indication.reports))


def _reason(decode: Callable[[bytes], object], message: pb.Message) -> str:
    with pytest.raises(CsiDecodeError) as info:
        decode(message.SerializeToString())
    assert isinstance(info.value, MalformedInput)
    assert info.value.source == "e2sm_csi"
    return info.value.reason


def _report_reason(mutate: Callable[[pb.UeCsiReport], None],
                   definition: csi.CsiRanFunctionDefinition | None = None) -> str:
    message = _valid_message()
    mutate(message.reports[1])
    return _reason(lambda data: csi.decode_indication_message(data, definition), message)


def _accepted_without_definition(mutate: Callable[[pb.UeCsiReport], None]) -> bool:
    message = _valid_message()
    mutate(message.reports[1])
    return len(csi.decode_indication_message(message.SerializeToString())) == 2


def _ran_function_reason(mutate: Callable[[pb.RanFunctionDefinition], None]) -> str:
    message = pb.RanFunctionDefinition.FromString(csi.encode_ran_function(DEFINITION))
    mutate(message)
    return _reason(csi.decode_ran_function, message)


# --- byte-level problems ---------------------------------------------------------------------

def test_bytes_that_are_not_protobuf_are_refused_as_not_protobuf() -> None:
    with pytest.raises(CsiDecodeError) as info:
        csi.decode_indication_message(b"\xff\xff\xff\xff")
    assert info.value.reason == "not_protobuf"


def test_input_over_the_size_cap_is_refused_before_parsing() -> None:
    with pytest.raises(CsiDecodeError) as info:
        csi.decode_indication_message(b"\x00" * (csi.MAX_MESSAGE_BYTES + 1))
    assert info.value.reason == "too_large"


def test_a_non_bytes_argument_is_refused_as_not_bytes() -> None:
    with pytest.raises(CsiDecodeError) as info:
        csi.decode_event_trigger("20")  # type: ignore[arg-type]
    assert info.value.reason == "not_bytes"


def test_invalid_utf8_in_a_string_field_is_refused_as_not_protobuf() -> None:
    name_field = bytes([(1 << 3) | 2, 2, 0xC3, 0x28])  # short_name = invalid UTF-8
    with pytest.raises(CsiDecodeError) as info:
        csi.decode_ran_function(name_field)
    assert info.value.reason == "not_protobuf"


# --- RAN function definition, trigger, action, header -----------------------------------------

def test_ran_function_without_antenna_config_is_missing_a_field() -> None:
    assert _ran_function_reason(lambda m: m.ClearField("antenna")) == "missing_field"


def test_ran_function_whose_ports_do_not_match_n1_n2_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m.antenna, "n_tx_ports", 8)) == "antenna_layout"


def test_ran_function_oversampling_a_single_vertical_element_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m.antenna, "o2", 4)) == "antenna_layout"


def test_ran_function_with_an_unknown_codebook_type_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m.antenna, "codebook_type", 7)) == \
        "unknown_codebook"


def test_ran_function_whose_subband_count_disagrees_with_the_bandwidth_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m.numerology, "num_subbands", 12)) == \
        "subband_layout"


def test_ran_function_with_a_malformed_oid_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m, "oid", "2.25.x")) == "bad_text"


def test_ran_function_without_report_styles_is_refused() -> None:
    assert _ran_function_reason(lambda m: m.ClearField("report_styles")) == "missing_field"


def test_ran_function_with_an_unsupported_subcarrier_spacing_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m.numerology, "scs_khz", 45)) == "out_of_range"


def test_event_trigger_with_zero_period_is_out_of_range() -> None:
    assert _reason(csi.decode_event_trigger, pb.EventTrigger()) == "out_of_range"


def test_action_with_both_all_ues_and_a_ue_list_is_a_bad_filter() -> None:
    message = pb.ActionDefinition(report_style=1, report_csi_fields=True,
                                  max_ues_per_indication=8,
                                  ue_filter=pb.UeFilter(all_ues=True, ue_ids=[1]))
    assert _reason(csi.decode_action_definition, message) == "bad_ue_filter"


def test_action_with_an_empty_filter_is_a_bad_filter() -> None:
    message = pb.ActionDefinition(report_style=1, report_csi_fields=True,
                                  max_ues_per_indication=8)
    assert _reason(csi.decode_action_definition, message) == "bad_ue_filter"


def test_action_requesting_nothing_is_refused() -> None:
    message = pb.ActionDefinition(report_style=1, max_ues_per_indication=8,
                                  ue_filter=pb.UeFilter(all_ues=True))
    assert _reason(csi.decode_action_definition, message) == "nothing_requested"


def test_action_listing_a_ue_twice_is_refused() -> None:
    message = pb.ActionDefinition(report_style=1, report_beam_rsrp=True, max_ues_per_indication=8,
                                  ue_filter=pb.UeFilter(ue_ids=[5, 5]))
    assert _reason(csi.decode_action_definition, message) == "duplicate"


def test_header_without_a_cell_is_missing_a_field() -> None:
    assert _reason(csi.decode_indication_header, pb.IndicationHeader()) == "missing_field"


def test_header_whose_plmn_is_not_three_octets_is_refused() -> None:
    message = pb.IndicationHeader(cell=pb.NrCgi(plmn_id=b"\x00\xf1", nr_cell_identity=1))
    assert _reason(csi.decode_indication_header, message) == "out_of_range"


def test_header_whose_cell_identity_exceeds_36_bits_is_refused() -> None:
    message = pb.IndicationHeader(cell=pb.NrCgi(plmn_id=b"\x00\xf1\x10",
                                                nr_cell_identity=2**36))
    assert _reason(csi.decode_indication_header, message) == "out_of_range"


# --- UE reports ------------------------------------------------------------------------------

@pytest.mark.parametrize("ri", [0, 9])
def test_rank_outside_1_to_8_is_out_of_range(ri: int) -> None:
    assert _report_reason(lambda r: setattr(r.csi, "ri", ri)) == "out_of_range"


def test_rank_above_the_antenna_count_is_refused_when_the_ran_function_is_known() -> None:
    def rank_four(report: pb.UeCsiReport) -> None:
        report.csi.ri, report.csi.pmi.i2 = 4, 0
        report.csi.pmi.i13 = 0

    assert _accepted_without_definition(rank_four)
    assert _report_reason(rank_four, DEFINITION) == "rank_exceeds_antennas"


def test_rank_two_pmi_without_i13_is_inconsistent_for_a_four_port_node() -> None:
    def rank_two_without_i13(report: pb.UeCsiReport) -> None:
        report.csi.ri, report.csi.pmi.i2 = 2, 1
        report.csi.pmi.ClearField("i13")

    assert _report_reason(rank_two_without_i13, DEFINITION) == "inconsistent_pmi"


def test_rank_one_pmi_with_i13_is_inconsistent() -> None:
    def rank_one_with_i13(report: pb.UeCsiReport) -> None:
        report.csi.ri = 1
        report.csi.pmi.i13 = 1

    assert _report_reason(rank_one_with_i13) == "inconsistent_pmi"


def test_co_phasing_i2_above_1_is_inconsistent_at_rank_two() -> None:
    def rank_two_i2_three(report: pb.UeCsiReport) -> None:
        report.csi.ri, report.csi.pmi.i2, report.csi.pmi.i13 = 2, 3, 0

    assert _report_reason(rank_two_i2_three) == "inconsistent_pmi"


def test_i11_beyond_n1_times_o1_is_out_of_range_for_the_known_codebook() -> None:
    assert _report_reason(lambda r: setattr(r.csi.pmi, "i11", 8), DEFINITION) == "out_of_range"


def test_csi_fields_without_a_pmi_are_missing_a_field() -> None:
    assert _report_reason(lambda r: r.csi.ClearField("pmi")) == "missing_field"


@pytest.mark.parametrize("field", ["wideband_cqi", "cri"])
def test_cqi_above_15_and_cri_above_7_are_out_of_range(field: str) -> None:
    assert _report_reason(lambda r: setattr(r.csi, field, 16)) == "out_of_range"


def test_subband_cqi_above_15_is_out_of_range() -> None:
    assert _report_reason(lambda r: r.csi.subband_cqi.append(16)) == "out_of_range"


def test_subband_cqi_count_must_match_the_ran_function() -> None:
    assert _accepted_without_definition(lambda r: r.csi.subband_cqi.append(3))
    assert _report_reason(lambda r: r.csi.subband_cqi.append(3), DEFINITION) == "subband_count"


def test_ue_id_beyond_40_bits_is_out_of_range() -> None:
    assert _report_reason(lambda r: setattr(r, "ue_id", 2**40)) == "out_of_range"


def test_beam_index_outside_the_beam_codebook_is_out_of_range() -> None:
    assert _report_reason(lambda r: setattr(r.beams[0], "beam_index", 32), DEFINITION) == \
        "out_of_range"


def test_the_same_beam_reported_twice_is_a_duplicate() -> None:
    assert _report_reason(lambda r: setattr(r.beams[1], "beam_index", r.beams[0].beam_index)) \
        == "duplicate"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_rsrp_or_sinr_is_refused(value: float) -> None:
    assert _report_reason(lambda r: setattr(r.beams[0], "rsrp_dbm", value)) == "not_finite"
    assert _report_reason(lambda r: setattr(r, "sinr_db", value)) == "not_finite"


def test_rsrp_far_outside_the_physical_range_is_out_of_range() -> None:
    assert _report_reason(lambda r: setattr(r.beams[0], "rsrp_dbm", 120.0)) == "out_of_range"


def test_channel_tensor_whose_bytes_do_not_match_its_shape_is_refused() -> None:
    def drop_last_value(report: pb.UeCsiReport) -> None:
        report.channel_estimate.data = report.channel_estimate.data[:-8]

    assert _report_reason(drop_last_value) == "tensor_size"


def test_channel_tensor_that_is_not_three_dimensional_is_a_bad_shape() -> None:
    assert _report_reason(lambda r: r.channel_estimate.shape.append(1)) == "bad_shape"


def test_channel_tensor_with_a_zero_dimension_is_a_bad_shape() -> None:
    def zero_rx(report: pb.UeCsiReport) -> None:
        report.channel_estimate.shape[1] = 0
        report.channel_estimate.data = b""

    assert _report_reason(zero_rx) == "bad_shape"


def test_channel_tensor_shape_must_match_the_ran_function() -> None:
    def swap_rx_tx(report: pb.UeCsiReport) -> None:
        report.channel_estimate.shape[1], report.channel_estimate.shape[2] = 4, 2

    assert _accepted_without_definition(swap_rx_tx)
    assert _report_reason(swap_rx_tx, DEFINITION) == "shape_mismatch"


def test_channel_tensor_with_an_unknown_dtype_is_refused() -> None:
    assert _report_reason(lambda r: setattr(r.channel_estimate, "dtype", 9)) == "unknown_dtype"


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_channel_scale_must_be_positive(scale: float) -> None:
    assert _report_reason(lambda r: setattr(r.channel_estimate, "scale", scale)) == "out_of_range"


def test_channel_tensor_holding_nan_is_refused() -> None:
    def poison(report: pb.UeCsiReport) -> None:
        data = bytearray(report.channel_estimate.data)
        data[0:4] = np.float32("nan").tobytes()
        report.channel_estimate.data = bytes(data)

    assert _report_reason(poison) == "not_finite"


# --- encoders refuse what decoders would refuse --------------------------------------------

def test_encoder_refuses_a_report_with_an_inconsistent_pmi() -> None:
    report = CsiReport(ue_id=1, report_slot=0, csi=UciCsi(1, 0, Pmi(0, 0, 2, i13=1), 9))
    with pytest.raises(EncodeError, match="inconsistent_pmi"):
        csi.encode_indication_message((report,))


def test_encoder_refuses_a_channel_whose_shape_contradicts_the_ran_function() -> None:
    estimate = ChannelEstimate.from_array(np.ones((13, 4, 2)))
    with pytest.raises(EncodeError, match="shape_mismatch"):
        csi.encode_indication_message(
            (CsiReport(ue_id=1, report_slot=0, channel_estimate=estimate),), DEFINITION)


def test_encoder_refuses_values_that_do_not_fit_the_wire_type() -> None:
    bad = dataclasses.replace(DEFINITION, version=2**32)
    with pytest.raises(EncodeError):
        csi.encode_ran_function(bad)
    with pytest.raises(EncodeError):
        csi.encode_event_trigger(CsiEventTrigger(-1))


def test_encoder_refuses_an_action_with_an_empty_ue_list() -> None:
    with pytest.raises(EncodeError, match="bad_ue_filter"):
        csi.encode_action_definition(CsiActionDefinition(ue_ids=()))


def test_encoder_refuses_beams_with_a_nan_rsrp() -> None:
    report = CsiReport(ue_id=1, report_slot=0, beams=(BeamRsrp(0, float("nan")),))
    with pytest.raises(EncodeError, match="not_finite"):
        csi.encode_indication_message((report,))


def test_more_beams_than_a_report_may_carry_are_too_many() -> None:
    def many_beams(report: pb.UeCsiReport) -> None:
        for index in range(100, 100 + 64):
            report.beams.add(beam_index=index, rsrp_dbm=-90.0)

    assert _report_reason(many_beams) == "too_many"


def test_more_subband_cqis_than_subbands_can_exist_are_too_many() -> None:
    assert _report_reason(lambda r: r.csi.subband_cqi.extend([1] * 300)) == "too_many"


# --- Type-I codebook tables (TS 38.214 5.2.2.2.1) ----------------------------------------------

def _antenna(ports: int, n1: int, n2: int) -> csi.AntennaConfig:
    return csi.AntennaConfig(ports, 4, n1, n2, 4, 1 if n2 == 1 else 4, 32)


@pytest.mark.parametrize(("ports", "n1", "n2", "rank", "i13_values"), [
    (4, 2, 1, 2, 2),  # Table 5.2.2.2.1-3: N1 = 2, N2 = 1 -> k1 in {0, O1}
    (8, 4, 1, 2, 4),
    (8, 2, 2, 2, 4),
    (4, 2, 1, 3, 1),  # Table 5.2.2.2.1-4: (2, 1) -> only (O1, 0)
    (8, 4, 1, 4, 3),
    (8, 2, 2, 3, 3),
    (12, 6, 1, 3, 4),
    (12, 3, 2, 4, 4),
    (16, 4, 2, 3, 4),  # P >= 16: i13 in 0..3
])
def test_i13_accepts_exactly_the_offsets_of_the_codebook_table(
        ports: int, n1: int, n2: int, rank: int, i13_values: int) -> None:
    antenna = _antenna(ports, n1, n2)
    for i13 in range(i13_values):
        csi_rules.check_pmi(Pmi(0, 0, 0, i13), rank, antenna)
    with pytest.raises(CsiDecodeError) as info:
        csi_rules.check_pmi(Pmi(0, 0, 0, i13_values), rank, antenna)
    assert info.value.reason == "inconsistent_pmi"


def test_i11_is_halved_for_ranks_3_and_4_with_16_or_more_ports() -> None:
    antenna = _antenna(16, 4, 2)  # N1 O1 = 16
    csi_rules.check_pmi(Pmi(15, 0, 0, 0), 2, antenna)
    csi_rules.check_pmi(Pmi(7, 0, 0, 0), 3, antenna)
    with pytest.raises(CsiDecodeError) as info:
        csi_rules.check_pmi(Pmi(8, 0, 0, 0), 3, antenna)
    assert info.value.reason == "out_of_range"


def test_two_port_pmi_never_carries_i13() -> None:
    antenna = csi.AntennaConfig(2, 2, 1, 1, 1, 1, 8)
    csi_rules.check_pmi(Pmi(0, 0, 1), 2, antenna)
    with pytest.raises(CsiDecodeError) as info:
        csi_rules.check_pmi(Pmi(0, 0, 1, 0), 2, antenna)
    assert info.value.reason == "inconsistent_pmi"


def test_antenna_layout_must_be_one_of_the_specified_n1_n2_pairs() -> None:
    assert _ran_function_reason(lambda m: (setattr(m.antenna, "n1", 1),
                                           setattr(m.antenna, "n2", 2))) == "antenna_layout"


def test_oid_with_a_trailing_newline_is_refused() -> None:
    assert _ran_function_reason(lambda m: setattr(m, "oid", csi.RAN_FUNCTION_OID + "\n")) == \
        "bad_text"
