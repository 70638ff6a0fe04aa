"""Recommendation decoders refuse invalid input with RecommendationDecodeError and a reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from schemas import recommendation_pb2 as rpb
from xapp.e2 import recommendation as rec
from xapp.e2.csi import NrCgi, Pmi
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationAck,
    RecommendationBatch,
    RecommendationDecodeError,
    Rejection,
    RejectReason,
    ReportedCsi,
)
from xapp.errors import EncodeError, MalformedInput

NODE = "gnb_001_001_00000001"
VALUE = Recommendation(
    e2_node=NODE, cell=NrCgi(b"\x00\xf1\x10", 0x1234), ue_id=42, apply_from_slot=5000,
    validity_ms=20, rank=2, pmi=Pmi(5, 0, 1, i13=1), confidence=Confidence(0.9, 0.6, 0.4),
    model_version="linkfm-1", reason=Reason.MODEL, beam_index=12,
    replaces=ReportedCsi(1, Pmi(4, 0, 3), 4980, beam_index=11))
BATCH = RecommendationBatch(NODE, 7, 2**63, (VALUE, dataclasses.replace(VALUE, ue_id=43)))
ACK = RecommendationAck(NODE, 7, 1, (Rejection(43, RejectReason.EXPIRED, "late"),))


def _batch_reason(mutate: Callable[[rpb.RecommendationBatch], None]) -> str:
    message = rpb.RecommendationBatch.FromString(rec.encode_batch(BATCH))
    mutate(message)
    with pytest.raises(RecommendationDecodeError) as info:
        rec.decode_batch(message.SerializeToString())
    assert isinstance(info.value, MalformedInput)
    assert info.value.source == "recommendation"
    return info.value.reason


def _ack_reason(mutate: Callable[[rpb.RecommendationAck], None]) -> str:
    message = rpb.RecommendationAck.FromString(rec.encode_ack(ACK))
    mutate(message)
    with pytest.raises(RecommendationDecodeError) as info:
        rec.decode_ack(message.SerializeToString())
    return info.value.reason


def test_garbage_is_refused_as_not_protobuf() -> None:
    with pytest.raises(RecommendationDecodeError) as info:
        rec.decode_batch(b"\x0a\xff\x01")
    assert info.value.reason == "not_protobuf"


def test_input_over_the_size_cap_is_refused() -> None:
    with pytest.raises(RecommendationDecodeError) as info:
        rec.decode_ack(bytes(rec.MAX_MESSAGE_BYTES + 1))
    assert info.value.reason == "too_large"


def test_batch_without_an_e2_node_name_is_bad_text() -> None:
    assert _batch_reason(lambda m: m.ClearField("e2_node")) == "bad_text"


def test_e2_node_name_longer_than_an_rmr_meid_is_bad_text() -> None:
    assert _batch_reason(lambda m: setattr(m, "e2_node", "g" * 32)) == "bad_text"


def test_recommendation_for_another_e2_node_is_a_mismatch() -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[1], "e2_node", "gnb_2")) == \
        "e2_node_mismatch"


def test_the_same_ue_twice_in_one_cell_is_a_duplicate() -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[1], "ue_id", 42)) == "duplicate"


def test_recommendation_without_a_pmi_is_missing_a_field() -> None:
    assert _batch_reason(lambda m: m.recommendations[0].ClearField("pmi")) == "missing_field"


def test_recommendation_without_a_cell_is_missing_a_field() -> None:
    assert _batch_reason(lambda m: m.recommendations[0].ClearField("cell")) == "missing_field"


@pytest.mark.parametrize("rank", [0, 9])
def test_rank_outside_1_to_8_is_out_of_range(rank: int) -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[0], "rank", rank)) == "out_of_range"


def test_pmi_without_i13_at_rank_one_but_with_rank_two_co_phasing_is_inconsistent() -> None:
    def rank_one_with_i13(message: rpb.RecommendationBatch) -> None:
        message.recommendations[0].rank = 1  # its PMI still carries i13

    assert _batch_reason(rank_one_with_i13) == "inconsistent_pmi"


def test_replaced_values_with_an_inconsistent_pmi_are_refused() -> None:
    def rank_two_i2_three(message: rpb.RecommendationBatch) -> None:
        message.recommendations[0].replaces.rank = 2  # i2 = 3 only exists at rank 1

    assert _batch_reason(rank_two_i2_three) == "inconsistent_pmi"


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_confidence_outside_0_to_1_is_out_of_range(value: float) -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[0].confidence, "pmi", value)) == \
        "out_of_range"


def test_nan_confidence_is_not_finite() -> None:
    assert _batch_reason(
        lambda m: setattr(m.recommendations[0].confidence, "rank", float("nan"))) == "not_finite"


def test_zero_validity_is_out_of_range() -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[0], "validity_ms", 0)) == \
        "out_of_range"


def test_unspecified_reason_is_an_unknown_enum() -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[0], "reason", 0)) == "unknown_enum"


def test_empty_model_version_is_bad_text() -> None:
    assert _batch_reason(lambda m: m.recommendations[0].ClearField("model_version")) == "bad_text"


def test_beam_index_beyond_the_largest_grid_is_out_of_range() -> None:
    assert _batch_reason(lambda m: setattr(m.recommendations[0], "beam_index", 1024)) == \
        "out_of_range"


def test_ack_with_an_unknown_reject_reason_is_refused() -> None:
    assert _ack_reason(lambda m: setattr(m.rejected[0], "reason", 17)) == "unknown_enum"


def test_ack_with_an_overlong_detail_is_bad_text() -> None:
    assert _ack_reason(lambda m: setattr(m.rejected[0], "detail", "x" * 201)) == "bad_text"


def test_ack_counting_more_than_a_batch_can_hold_is_out_of_range() -> None:
    assert _ack_reason(lambda m: setattr(m, "accepted_count", 5000)) == "out_of_range"


def test_proto_conversion_validates_like_the_decoder() -> None:
    message = rec.recommendation_to_proto(dataclasses.replace(VALUE, ue_id=2**40))
    with pytest.raises(RecommendationDecodeError) as info:
        rec.recommendation_from_proto(message)
    assert info.value.reason == "out_of_range"


def test_encoder_refuses_a_batch_mixing_e2_nodes() -> None:
    mixed = dataclasses.replace(BATCH, recommendations=(dataclasses.replace(VALUE, e2_node="x"),))
    with pytest.raises(EncodeError, match="e2_node_mismatch"):
        rec.encode_batch(mixed)


def test_encoder_refuses_an_inconsistent_pmi() -> None:
    bad = dataclasses.replace(VALUE, rank=3, pmi=Pmi(0, 0, 2, i13=0))
    with pytest.raises(EncodeError, match="inconsistent_pmi"):
        rec.encode_batch(dataclasses.replace(BATCH, recommendations=(bad,)))


def test_encoder_refuses_a_negative_sequence() -> None:
    with pytest.raises(EncodeError):
        rec.encode_ack(dataclasses.replace(ACK, batch_sequence=-1))
