"""The decision layer: A1 policy, local controls, confidence thresholds and fallback."""

from __future__ import annotations

import pytest

from xapp.decide.predictor import Prediction
from xapp.e2.csi_types import NrCgi, Pmi
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationBatch,
    ReportedCsi,
    encode_batch,
)
from xapp.ingest.pipeline import UeMeta
from xapp.ingest.windows import UeKey
from xapp.policy.a1 import LinkPolicy
from xapp.policy.decision import DecisionPolicy, cell_name

CELL = NrCgi(b"\x00\xf1\x10", 42)
KEY = UeKey("gnb_a", 7)
REPORTED = ReportedCsi(rank=1, pmi=Pmi(3, 0, 2), report_slot=100, beam_index=5)
META = UeMeta(cell=CELL, report_slot=100, slot_ms=0.5, reported=REPORTED, received_at=0.0)
SURE = Prediction(rank=2, pmi=Pmi(1, 0, 1, 1), beam_index=9,
                  confidence=Confidence(0.9, 0.8, 0.7))


def decide(prediction: Prediction | None, policy: LinkPolicy | None = None,
           meta: UeMeta = META, disabled_cells: frozenset[str] = frozenset()) -> Recommendation:
    layer = DecisionPolicy(policy=policy or LinkPolicy(), disabled_cells=disabled_cells)
    rec = layer.decide(KEY, meta, prediction, "v1")
    assert rec is not None
    return rec


def test_a_confident_prediction_is_recommended_as_the_model_said() -> None:
    rec = decide(SURE)
    assert (rec.reason, rec.rank, rec.pmi, rec.beam_index) == (Reason.MODEL, 2, SURE.pmi, 9)
    assert rec.replaces == REPORTED and (rec.e2_node, rec.ue_id, rec.cell) == ("gnb_a", 7, CELL)


def test_a_disabled_cell_gets_the_reported_values_as_fallback() -> None:
    rec = decide(SURE, LinkPolicy(cells={cell_name(CELL): False}))
    assert (rec.reason, rec.rank, rec.pmi, rec.beam_index) == (Reason.FALLBACK, 1,
                                                               REPORTED.pmi, 5)


def test_a_policy_disabled_everywhere_except_one_cell_enables_that_cell() -> None:
    assert decide(SURE, LinkPolicy(enabled=False, cells={cell_name(CELL): True})).reason \
        == Reason.MODEL
    assert decide(SURE, LinkPolicy(enabled=False)).reason == Reason.FALLBACK


def test_a_locally_disabled_cell_falls_back_whatever_a1_says() -> None:
    rec = decide(SURE, disabled_cells=frozenset({cell_name(CELL)}))
    assert rec.reason == Reason.FALLBACK


CAUTIOUS = LinkPolicy(min_confidence_rank=0.5, min_confidence_pmi=0.3, min_confidence_beam=0.3)


def test_by_default_an_unsure_prediction_is_still_recommended() -> None:
    unsure = Prediction(SURE.rank, SURE.pmi, SURE.beam_index, Confidence(0.3, 0.05, 0.05))
    rec = decide(unsure)
    assert (rec.reason, rec.rank, rec.pmi, rec.beam_index) == (Reason.MODEL, 2, SURE.pmi, 9)


@pytest.mark.parametrize("confidence", [Confidence(0.4, 0.9, 0.9), Confidence(0.9, 0.2, 0.9)])
def test_low_rank_or_pmi_confidence_falls_back(confidence: Confidence) -> None:
    unsure = Prediction(SURE.rank, SURE.pmi, SURE.beam_index, confidence)
    rec = decide(unsure, CAUTIOUS)
    assert (rec.reason, rec.rank, rec.pmi) == (Reason.FALLBACK, 1, REPORTED.pmi)


def test_thresholds_come_from_the_a1_policy() -> None:
    assert decide(SURE, LinkPolicy(min_confidence_rank=0.95)).reason == Reason.FALLBACK


def test_an_unsure_beam_is_replaced_by_the_reported_beam_under_policy() -> None:
    rec = decide(Prediction(SURE.rank, SURE.pmi, 9, Confidence(0.9, 0.8, 0.1)), CAUTIOUS)
    assert (rec.reason, rec.rank, rec.beam_index) == (Reason.POLICY, 2, 5)
    assert rec.confidence.beam == pytest.approx(0.1)


def test_a_capped_rank_is_reported_as_a_policy_decision() -> None:
    capped = Prediction(1, Pmi(3, 0, 1), 9, Confidence(0.9, 0.9, 0.9), rank_capped=True)
    assert decide(capped).reason == Reason.POLICY


def test_the_rank_cap_is_the_stricter_of_a1_and_the_controls() -> None:
    assert DecisionPolicy(LinkPolicy(max_rank=2), max_rank=8).rank_cap() == 2
    assert DecisionPolicy(LinkPolicy(max_rank=4), max_rank=1).rank_cap() == 1


def test_no_prediction_falls_back_with_zero_confidence() -> None:
    rec = decide(None)
    assert rec.reason == Reason.FALLBACK and rec.confidence == Confidence(0.0, 0.0, 0.0)


def test_nothing_is_recommended_without_a_prediction_or_a_report() -> None:
    bare = UeMeta(cell=CELL, report_slot=100, slot_ms=0.5, reported=None, received_at=0.0)
    assert DecisionPolicy().decide(KEY, bare, None, "v1") is None


def test_recommendations_apply_after_the_horizon_in_slots() -> None:
    rec = decide(SURE, LinkPolicy(horizon_ms=10))
    assert rec.apply_from_slot == 100 + 20  # 10 ms of 0.5 ms slots


def test_every_kind_of_decision_encodes_as_a_valid_batch() -> None:
    beam_policy = Prediction(SURE.rank, SURE.pmi, 9, Confidence(0.9, 0.8, 0.1))
    for rec in (decide(SURE), decide(None), decide(beam_policy)):
        assert encode_batch(RecommendationBatch("gnb_a", 0, 0, (rec,)))
