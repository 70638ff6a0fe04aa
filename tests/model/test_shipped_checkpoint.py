"""The checkpoint shipped in model/checkpoints/ and the step that ships one (model.ship)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model.checkpoint import SHIPPED, CheckpointError, load_checkpoint, save_checkpoint
from model.network import LinkFM, LinkFMConfig
from model.registry import NormaliserStats
from model.ship import ship
from xapp.config import Controls
from xapp.decide.predictor import CLASSICAL_VERSION
from xapp.main import load_predictor

REPORT = {
    "overall": {"test": {"10": {"model": {"se_ratio": 0.97, "gap_closed": 0.2, "n": 5},
                                "persistence": {"se_ratio": 0.96, "gap_closed": 0.0}}}},
    "targets": {"se_ratio": {"met": True, "value": 0.97}},
}


def test_the_shipped_checkpoint_loads_with_its_evaluation() -> None:
    ckpt = load_checkpoint(SHIPPED)
    summary = ckpt.eval_summary
    assert summary["model_version"] == SHIPPED.name
    assert {"se_ratio", "gap_closed", "beam_top1"} <= set(summary["targets"])
    report = json.loads((SHIPPED / "eval" / "report.json").read_text())
    # the manifest's headline is the report's, method by method
    for method, figures in summary["headline"]["test"].items():
        assert figures["se_ratio"] == pytest.approx(
            report["overall"]["test"]["10"][method]["se_ratio"], abs=1e-4)
    assert sorted(p.name for p in (SHIPPED / "eval").glob("*.png"))


def test_the_xapp_uses_the_shipped_checkpoint_when_the_configured_one_is_missing(
        tmp_path: Path) -> None:
    predictor = load_predictor(Controls(model_checkpoint=str(tmp_path / "absent")))
    assert predictor.version == SHIPPED.name


def test_forcing_the_classical_policy_ignores_the_shipped_checkpoint(tmp_path: Path) -> None:
    predictor = load_predictor(Controls(model_checkpoint=str(tmp_path / "absent")),
                               classical=True)
    assert predictor.version == CLASSICAL_VERSION


def test_shipping_copies_weights_and_puts_the_headline_in_the_manifest(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = LinkFM(LinkFMConfig(n_layers=2, early_exit_layers=(1,)))
    trained = save_checkpoint(tmp_path / "trained", model, NormaliserStats(), {"stage": "x"})
    evaluation = tmp_path / "eval"
    evaluation.mkdir()
    (evaluation / "report.json").write_text(json.dumps(REPORT))
    (evaluation / "summary.md").write_text("| table |\n")
    (evaluation / "ignored.txt").write_text("not an evaluation output")
    out = ship(trained, evaluation, tmp_path / "linkfm-test", "linkfm-test")
    shipped = load_checkpoint(out)
    assert shipped.eval_summary["model_version"] == "linkfm-test"
    assert shipped.eval_summary["stage"] == "x"  # the training summary is kept
    assert shipped.eval_summary["headline"]["test"]["model"] == {"se_ratio": 0.97,
                                                                 "gap_closed": 0.2}
    assert sorted(p.name for p in (out / "eval").iterdir()) == ["report.json", "summary.md"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(shipped.model.state_dict()[name], tensor)


def test_a_checkpoint_that_does_not_load_is_not_shipped(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    evaluation = tmp_path / "eval"
    evaluation.mkdir()
    (evaluation / "report.json").write_text(json.dumps(REPORT))
    with pytest.raises(CheckpointError):
        ship(broken, evaluation, tmp_path / "out", "v")
    assert not (tmp_path / "out").exists()
