"""A training step masks, learns and reports every loss part."""

from __future__ import annotations

import torch

from model.masking import MaskMode
from model.network import LinkFM
from model.train import train_step, train_synthetic

from .conftest import SMALL, make_batch


def test_a_step_reports_reconstruction_and_supervised_parts() -> None:
    torch.manual_seed(0)
    model = LinkFM(SMALL)
    _, _, b, y = make_batch(model, batch=8)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    report = train_step(model, b, opt, torch.Generator().manual_seed(0), y, MaskMode.FORECAST)
    assert {"loss", "reconstruction", "supervised", "sup.rank", "rec.csi.ri"} <= set(report)
    assert report["loss"] > 0


def test_self_supervised_steps_reduce_the_reconstruction_loss() -> None:
    torch.manual_seed(0)
    model = LinkFM(SMALL)
    _, _, b, _ = make_batch(model, batch=8)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    losses = [train_step(model, b, opt, gen, None, MaskMode.FORECAST)["loss"] for _ in range(20)]
    assert "supervised" not in train_step(model, b, opt, gen, None, MaskMode.FORECAST)
    assert losses[-1] < 0.7 * losses[0]


def test_a_step_changes_the_weights() -> None:
    torch.manual_seed(0)
    model = LinkFM(SMALL)
    before = [p.detach().clone() for p in model.parameters()]
    _, _, b, y = make_batch(model, batch=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train_step(model, b, opt, torch.Generator().manual_seed(1), y)
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


def test_the_synthetic_loop_runs_and_returns_one_report_per_step() -> None:
    _, history = train_synthetic(SMALL, steps=3, batch=8)
    assert len(history) == 3
