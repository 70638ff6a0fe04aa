"""E2SM-CSI: every valid message survives encode -> decode unchanged."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import e2sm_csi_pb2
from tests.e2 import csi_strategies as cs
from xapp.e2 import csi
from xapp.e2.csi import (
    ChannelDtype,
    ChannelEstimate,
    CsiActionDefinition,
    CsiEventTrigger,
    CsiIndication,
    CsiIndicationHeader,
    CsiRanFunctionDefinition,
    CsiReport,
)

# No deadline and no too_slow check: CI shares two cores with the rest of the suite.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cs.ran_functions())
def test_ran_function_definition_round_trips(definition: CsiRanFunctionDefinition) -> None:
    assert csi.decode_ran_function(csi.encode_ran_function(definition)) == definition


@FAST
@given(cs.event_triggers())
def test_event_trigger_round_trips(trigger: CsiEventTrigger) -> None:
    assert csi.decode_event_trigger(csi.encode_event_trigger(trigger)) == trigger


@FAST
@given(cs.action_definitions())
def test_action_definition_round_trips(action: CsiActionDefinition) -> None:
    assert csi.decode_action_definition(csi.encode_action_definition(action)) == action


@FAST
@given(cs.headers())
def test_indication_header_round_trips(header: CsiIndicationHeader) -> None:
    assert csi.decode_indication_header(csi.encode_indication_header(header)) == header


@FAST
@given(st.lists(cs.reports(), max_size=5).map(tuple))
def test_reports_round_trip_without_a_ran_function(reports: tuple[CsiReport, ...]) -> None:
    assert csi.decode_indication_message(csi.encode_indication_message(reports)) == reports


@FAST
@given(st.data())
def test_reports_round_trip_checked_against_their_ran_function(data: st.DataObject) -> None:
    definition = data.draw(cs.ran_functions())
    reports = tuple(data.draw(st.lists(cs.reports(definition), max_size=4)))
    encoded = csi.encode_indication_message(reports, definition)
    assert csi.decode_indication_message(encoded, definition) == reports


@FAST
@given(cs.headers(), st.lists(cs.reports(), max_size=3).map(tuple))
def test_indication_header_and_message_round_trip_together(
        header: CsiIndicationHeader, reports: tuple[CsiReport, ...]) -> None:
    indication = CsiIndication(header, reports)
    assert csi.decode_indication(*csi.encode_indication(indication)) == indication


@FAST
@given(cs.channel_estimates())
def test_channel_estimate_of_any_shape_keeps_shape_dtype_and_bytes(
        estimate: ChannelEstimate) -> None:
    report = CsiReport(ue_id=1, report_slot=2, channel_estimate=estimate)
    (decoded,) = csi.decode_indication_message(csi.encode_indication_message((report,)))
    assert decoded.channel_estimate == estimate
    assert decoded.channel_estimate is not None
    assert decoded.channel_estimate.as_array().shape == estimate.shape


@FAST
@given(st.integers(1, 20), st.integers(1, 8), st.integers(1, 16), st.integers(0, 2**32 - 1))
def test_complex64_channel_array_comes_back_exactly(subbands: int, n_rx: int, n_tx: int,
                                                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (subbands, n_rx, n_tx)
    h = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    estimate = ChannelEstimate.from_array(h)
    assert estimate.dtype is ChannelDtype.COMPLEX64
    np.testing.assert_array_equal(estimate.as_array(), h)
    assert estimate.as_array().dtype == np.complex64


@FAST
@given(st.integers(1, 20), st.integers(1, 8), st.integers(1, 16), st.integers(0, 2**32 - 1),
       st.sampled_from([1e-7, 1.0, 1e4]))
def test_float16_compressed_channel_is_within_float16_precision_of_the_peak(
        subbands: int, n_rx: int, n_tx: int, seed: int, amplitude: float) -> None:
    rng = np.random.default_rng(seed)
    shape = (subbands, n_rx, n_tx)
    h = amplitude * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    estimate = ChannelEstimate.from_array(h, compress=True)
    peak = max(np.abs(h.real).max(), np.abs(h.imag).max())
    restored = estimate.as_array()
    assert estimate.dtype is ChannelDtype.COMPLEX32
    assert len(estimate.data) == 4 * subbands * n_rx * n_tx
    # float16 has an 11-bit significand: half an ulp at 1.0 is 2^-11 of the peak.
    assert np.abs(restored.real - h.real).max() <= peak * 2.0**-11 * 1.01
    assert np.abs(restored.imag - h.imag).max() <= peak * 2.0**-11 * 1.01


def test_channel_estimate_is_stored_c_order_with_tx_fastest_and_re_im_interleaved() -> None:
    h = np.zeros((1, 2, 3), dtype=np.complex64)
    h[0, 1, 2] = 1.5 - 2.0j
    raw = np.frombuffer(ChannelEstimate.from_array(h).data, dtype="<f4")
    assert raw[2 * 5] == 1.5 and raw[2 * 5 + 1] == -2.0
    assert np.count_nonzero(raw) == 2


def test_all_zero_channel_compresses_with_unit_scale() -> None:
    estimate = ChannelEstimate.from_array(np.zeros((2, 1, 2)), compress=True)
    assert estimate.scale == 1.0
    np.testing.assert_array_equal(estimate.as_array(), np.zeros((2, 1, 2), np.complex64))


def test_from_array_refuses_a_tensor_that_is_not_three_dimensional() -> None:
    try:
        ChannelEstimate.from_array(np.zeros((4, 2)))
    except ValueError as exc:
        assert "[subbands, n_rx, n_tx]" in str(exc)
    else:
        raise AssertionError("a 2-D array was accepted")


def test_example_indication_matches_the_example_ran_function_and_decodes() -> None:
    definition = csi.example_ran_function(subbands=13, n_rx=2, n_tx=4)
    indication = csi.example_indication(n_ues=64, subbands=13, n_rx=2, n_tx=4)
    header, message = csi.encode_indication(indication, definition)
    decoded = csi.decode_indication(header, message, definition)
    assert decoded == indication
    assert len(decoded.reports) == 64
    assert all(r.channel_estimate is not None and r.channel_estimate.shape == (13, 2, 4)
               for r in decoded.reports)


def test_unknown_fields_from_a_newer_sender_are_ignored() -> None:
    trigger = e2sm_csi_pb2.EventTrigger(reporting_period_ms=20).SerializeToString()
    extra_field = bytes([(15 << 3) | 0, 7])  # field 15 (unknown here), varint 7
    assert csi.decode_event_trigger(trigger + extra_field) == CsiEventTrigger(20)


def test_ran_function_constants_are_the_documented_ones() -> None:
    proto_text = (cs.__file__.rsplit("/tests/", 1)[0] + "/schemas/e2sm_csi.proto")
    with open(proto_text, encoding="utf-8") as handle:
        documentation = handle.read()
    assert f"RAN function id: {csi.RAN_FUNCTION_ID}" in documentation
    assert f"RAN function OID: {csi.RAN_FUNCTION_OID}" in documentation
    assert csi.RAN_FUNCTION_ID not in {2, 3, *range(142, 150)}


def test_csi_fields_that_are_all_zero_stay_present() -> None:
    report = CsiReport(ue_id=0, report_slot=0, csi=csi.UciCsi(1, 0, csi.Pmi(0, 0, 0), 0),
                       sinr_db=0.0)
    (decoded,) = csi.decode_indication_message(csi.encode_indication_message((report,)))
    assert decoded.csi == csi.UciCsi(1, 0, csi.Pmi(0, 0, 0), 0)
    assert decoded.sinr_db == 0.0


def test_a_report_with_no_optional_part_decodes_with_every_part_absent() -> None:
    (decoded,) = csi.decode_indication_message(
        csi.encode_indication_message((CsiReport(ue_id=5, report_slot=9),)))
    assert decoded == CsiReport(ue_id=5, report_slot=9)
    assert decoded.csi is None and decoded.sinr_db is None and decoded.channel_estimate is None


def test_dense_pmi_keeps_i13_only_where_the_codebook_has_one() -> None:
    assert csi.Pmi.from_dense(1, 4, i11=3, i12=0, i13=0, i2=2) == csi.Pmi(3, 0, 2, None)
    assert csi.Pmi.from_dense(2, 4, i11=3, i12=0, i13=1, i2=1) == csi.Pmi(3, 0, 1, 1)
    assert csi.Pmi.from_dense(2, 2, i11=0, i12=0, i13=0, i2=1) == csi.Pmi(0, 0, 1, None)
    assert csi.Pmi.from_dense(5, 16, i11=1, i12=0, i13=0, i2=0) == csi.Pmi(1, 0, 0, None)
