"""The predictors behind the Predictor interface: the classical Type-I search on the latest
channel estimate, and a LinkFM checkpoint run batched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from e2sim.csi.codebook import TypeICodebook
from model.checkpoint import save_checkpoint
from model.network import LinkFM, LinkFMConfig
from model.registry import FeatureRegistry, NormaliserStats
from xapp.decide.predictor import (
    CLASSICAL_VERSION,
    ClassicalPredictor,
    ModelPredictor,
    Prediction,
    PredictionRequest,
)
from xapp.e2 import csi, csi_rules
from xapp.e2.csi_types import ChannelEstimate, CsiReport, Pmi
from xapp.ingest.cells import CellContexts
from xapp.ingest.windows import UeKey, UeWindowStore

ANTENNA = csi.example_ran_function().antenna  # 4 ports (2, 1) (4, 1), 2 receive antennas


def request_for(reports: list[CsiReport], registry: FeatureRegistry, n_slots: int,
                max_rank: int = 4) -> PredictionRequest:
    store = UeWindowStore(registry, n_slots)
    cells = CellContexts()
    keys = []
    for report in reports:
        key = UeKey("gnb", report.ue_id)
        store.add_csi(key, report, cells.context("gnb", report, 20.0), 0.0)
        keys.append(key)
    return PredictionRequest(store.windows(keys), [store.context(k) for k in keys],
                             [max_rank] * len(keys))


def matched_channel(rank1_pmi: int, subbands: int = 13, gain: float = 10.0) -> np.ndarray:
    """H_k = gain * 1_{n_rx} w^H: a rank-1 channel matched to one rank-1 precoder."""
    w = TypeICodebook(4).precoders(1)[rank1_pmi][:, 0].numpy()  # [4]
    row = gain * np.conj(w) / np.linalg.norm(w)
    return np.broadcast_to(np.stack([row, row]), (subbands, 2, 4)).astype(np.complex64)


def report(ue_id: int, h: np.ndarray | None) -> CsiReport:
    base = csi.example_indication(n_ues=1).reports[0]
    return CsiReport(ue_id=ue_id, report_slot=10, csi=base.csi, beams=base.beams,
                     sinr_db=base.sinr_db,
                     channel_estimate=None if h is None else ChannelEstimate.from_array(h))


def valid(prediction: Prediction) -> bool:
    csi_rules.check_pmi(prediction.pmi, prediction.rank, ANTENNA)
    c = prediction.confidence
    return all(0.0 <= x <= 1.0 for x in (c.rank, c.pmi, c.beam))


# --- the classical policy --------------------------------------------------------------------

@pytest.mark.parametrize("pmi", [0, 5, 13, 30])
def test_classical_search_finds_the_precoder_a_rank_one_channel_is_matched_to(pmi: int) -> None:
    predictor = ClassicalPredictor()
    [prediction] = predictor.predict(request_for([report(1, matched_channel(pmi))],
                                                 predictor.registry, predictor.n_slots))
    assert prediction is not None
    i11, i12, _, i2 = (int(x) for x in TypeICodebook(4).indices(1)[pmi])
    assert (prediction.rank, prediction.pmi) == (1, Pmi(i11, i12, i2, None))
    assert prediction.beam_index is None and valid(prediction)


def test_classical_search_respects_the_rank_cap_and_says_so() -> None:
    rng = np.random.default_rng(3)
    h = 30 * (rng.standard_normal((13, 2, 4)) + 1j * rng.standard_normal((13, 2, 4)))
    predictor = ClassicalPredictor()
    [free] = predictor.predict(request_for([report(1, h)], predictor.registry, 4))
    assert free is not None and free.rank == 2 and not free.rank_capped  # a rich channel
    [capped] = predictor.predict(request_for([report(1, h)], predictor.registry, 4, max_rank=1))
    assert capped is not None and capped.rank == 1 and capped.rank_capped
    assert capped.pmi.i13 is None and valid(capped)


def test_classical_search_makes_no_prediction_without_a_channel_estimate() -> None:
    predictor = ClassicalPredictor()
    results = predictor.predict(request_for([report(1, None), report(2, matched_channel(3))],
                                            predictor.registry, predictor.n_slots))
    assert results[0] is None and results[1] is not None


def test_classical_predictions_carry_the_classical_version() -> None:
    assert ClassicalPredictor().version == CLASSICAL_VERSION


# --- the model -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    cfg = LinkFMConfig(d_model=32, n_layers=2, n_heads=2, d_feature_emb=8,
                       early_exit_layers=(1,))
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny", LinkFM(cfg),
                           NormaliserStats(), {"model_version": "linkfm-test-tiny"})


def model_request(predictor: ModelPredictor, max_rank: int = 4) -> PredictionRequest:
    reports = list(csi.example_indication(n_ues=6).reports)
    return request_for(reports, predictor.registry, predictor.n_slots, max_rank)


def test_model_predicts_a_valid_decision_for_every_window_of_the_batch(checkpoint: Path) -> None:
    predictor = ModelPredictor(checkpoint)
    results = predictor.predict(model_request(predictor))
    assert len(results) == 6
    assert all(p is not None and valid(p) for p in results)
    assert all(p is not None and p.beam_index is not None and 0 <= p.beam_index < 32
               for p in results)


def test_model_version_comes_from_the_checkpoint(checkpoint: Path) -> None:
    assert ModelPredictor(checkpoint).version == "linkfm-test-tiny"


def test_model_rank_cap_forces_rank_one_with_a_rank_one_pmi(checkpoint: Path) -> None:
    predictor = ModelPredictor(checkpoint)
    results = predictor.predict(model_request(predictor, max_rank=1))
    assert all(p is not None and p.rank == 1 and p.pmi.i13 is None and valid(p)
               for p in results)


def test_model_with_early_exit_still_answers_every_window(checkpoint: Path) -> None:
    predictor = ModelPredictor(checkpoint, exit_threshold=100.0)  # everyone exits early
    results = predictor.predict(model_request(predictor))
    assert len(results) == 6 and all(p is not None and valid(p) for p in results)
