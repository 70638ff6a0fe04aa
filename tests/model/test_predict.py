"""Predictions are valid recommendations for each UE's antennas, codebook and beams."""

from __future__ import annotations

from pathlib import Path

import torch

from model.checkpoint import save_checkpoint
from model.network import LinkFM
from model.pmi_space import CODEBOOK_CONFIGS, pmi_counts
from model.predict import Predictor

from .conftest import make_batch


def test_one_prediction_per_window_within_the_codebook(small_model: LinkFM) -> None:
    windows, stats, b, _ = make_batch(small_model, batch=24)
    preds = Predictor(small_model, stats, top_k=3).predict(windows)
    assert len(preds) == 24
    for i, p in enumerate(preds):
        cfg = CODEBOOK_CONFIGS[int(b.codebook[i])]
        assert 1 <= p.rank <= min(int(b.n_rx[i]), 2 if cfg.n_ports == 2 else 4)
        counts = pmi_counts(cfg, p.rank)
        assert all(p.pmi[part] < counts[part] for part in counts)
        assert len(p.beams) == 3 and all(beam < int(b.n_beams[i]) for beam in p.beams)
        assert 0 < p.pmi_prob <= 1 and 0 < p.rank_prob <= 1


def test_predictions_match_the_model_heads(small_model: LinkFM) -> None:
    windows, stats, b, _ = make_batch(small_model, batch=6)
    preds = Predictor(small_model, stats).predict(windows)
    with torch.inference_mode():
        heads = small_model(b).heads
    assert [p.rank for p in preds] == heads.rank().tolist()
    assert [p.beams[0] for p in preds] == heads.beam_logits.argmax(-1).tolist()


def test_a_predictor_loads_from_a_checkpoint(tmp_path: Path, small_model: LinkFM) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=4)
    save_checkpoint(tmp_path / "ckpt", small_model, stats)
    direct = Predictor(small_model, stats).predict(windows)
    loaded = Predictor.from_checkpoint(tmp_path / "ckpt").predict(windows)
    assert loaded == direct


def test_early_exits_are_reported_per_ue(small_model: LinkFM) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=4)
    preds = Predictor(small_model, stats, exit_threshold=1e9).predict(windows)
    assert {p.exit_layer for p in preds} == {small_model.cfg.early_exit_layers[0]}
