"""The full loop with a LinkFM checkpoint instead of the classical policy: the xApp loads
it through ``controls.model_checkpoint``, and what it decides with it (the checkpoint's
model version, beams included) is read back from VictoriaMetrics like any decision.

The checkpoint is a tiny untrained network: its confidences stay under the policy's
thresholds, so the decisions are fallbacks to the UE-reported CSI and beam, which is
what the policy must do with an unsure model."""

from __future__ import annotations

from pathlib import Path

import torch

from model.checkpoint import save_checkpoint
from model.network import LinkFM, LinkFMConfig
from model.registry import NormaliserStats
from tests.e2e.conftest import full_loop
from tests.e2e.readback import assert_recommendations_read_back
from tests.telemetry.victoria import VictoriaMetrics, by_name

VERSION = "linkfm-e2e-tiny"


def tiny_checkpoint(folder: Path) -> Path:
    torch.manual_seed(0)
    cfg = LinkFMConfig(d_model=32, n_layers=2, n_heads=2, d_feature_emb=8,
                       early_exit_layers=(1,))
    return save_checkpoint(folder, LinkFM(cfg), NormaliserStats(), {"model_version": VERSION})


async def test_decisions_of_a_loaded_checkpoint_are_read_back_with_its_version_and_beams(
        victoria: VictoriaMetrics, tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint(tmp_path / "tiny")
    async with full_loop(victoria, tmp_path, checkpoint=checkpoint) as loop:
        assert loop.app.predictor.version == VERSION
        await loop.wait_for(lambda: loop.decisions >= 50 and loop.applied_reports > 0,
                            "decisions the node scores")
        assert loop.app.counters.predict_failed == 0
        stored = await assert_recommendations_read_back(loop)
        assert {s.tags["model_version"] for s in stored} == {VERSION}
        beams = [v for s in by_name(stored, "linkfm_recommendation_beam") for _, v in s.samples]
        assert beams and all(0 <= b < 32 for b in beams)
