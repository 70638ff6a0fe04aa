"""Recommendation codec: batches, acknowledgements and single recommendations round-trip."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from schemas import recommendation_pb2
from tests.e2 import csi_strategies as cs
from xapp.e2 import recommendation as rec
from xapp.e2.csi import NrCgi, Pmi
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationAck,
    RecommendationBatch,
    ReportedCsi,
)

# No deadline and no too_slow check: CI shares two cores with the rest of the suite.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cs.batches())
def test_recommendation_batch_round_trips(batch: RecommendationBatch) -> None:
    assert rec.decode_batch(rec.encode_batch(batch)) == batch


@FAST
@given(cs.acks())
def test_recommendation_ack_round_trips(ack: RecommendationAck) -> None:
    assert rec.decode_ack(rec.encode_ack(ack)) == ack


@FAST
@given(cs.recommendations())
def test_single_recommendation_round_trips_through_its_proto(value: Recommendation) -> None:
    message = rec.recommendation_to_proto(value)
    wire = recommendation_pb2.Recommendation.FromString(message.SerializeToString())
    assert rec.recommendation_from_proto(wire) == value


def test_absent_beam_and_replaced_values_stay_absent() -> None:
    value = Recommendation(
        e2_node="gnb_001_001_00000001", cell=NrCgi(b"\x00\xf1\x10", 1), ue_id=7,
        apply_from_slot=1000, validity_ms=20, rank=1, pmi=Pmi(3, 0, 2),
        confidence=Confidence(0.75, 0.5), model_version="linkfm-test", reason=Reason.FALLBACK)
    batch = RecommendationBatch("gnb_001_001_00000001", 1, 0, (value,))
    (decoded,) = rec.decode_batch(rec.encode_batch(batch)).recommendations
    assert decoded.beam_index is None and decoded.replaces is None


def test_beam_index_zero_is_distinguished_from_no_beam() -> None:
    value = Recommendation(
        e2_node="gnb", cell=NrCgi(b"\x00\xf1\x10", 1), ue_id=7, apply_from_slot=0,
        validity_ms=20, rank=2, pmi=Pmi(3, 0, 1, i13=0), confidence=Confidence(1.0, 1.0, 1.0),
        model_version="m", reason=Reason.MODEL, beam_index=0,
        replaces=ReportedCsi(1, Pmi(0, 0, 0), 990, beam_index=0))
    decoded = rec.recommendation_from_proto(rec.recommendation_to_proto(value))
    assert decoded.beam_index == 0
    assert decoded.replaces is not None and decoded.replaces.beam_index == 0


def test_example_batch_has_one_valid_recommendation_per_ue_and_round_trips() -> None:
    batch = rec.example_batch(n_ues=64)
    assert len({r.ue_id for r in batch.recommendations}) == 64
    assert rec.decode_batch(rec.encode_batch(batch)) == batch
