"""One pretraining / fine-tuning step, and a smoke loop on synthetic windows.

No framework: a step hides tokens (random, forecast or interpolation masks, one mode drawn per
step), runs the model with the true rank for the PMI heads, and sums the masked
reconstruction loss and, when labels are given, the supervised head losses.
"""

from __future__ import annotations

from typing import Any

import torch

from model.losses import Targets, reconstruction_loss, supervised_loss
from model.masking import MaskMode, pretraining_mask
from model.network import LinkFM, LinkFMConfig
from model.synthetic import synthetic_windows
from model.tokenize import TokenBatch, tokenize


def train_step(
    model: LinkFM,
    batch: TokenBatch,
    optimizer: torch.optim.Optimizer,
    gen: torch.Generator,
    targets: Targets | None = None,
    mode: MaskMode | None = None,
    mask_ratio: float = 0.15,
    supervised_weight: float = 1.0,
    grad_clip: float = 1.0,
) -> dict[str, float]:
    """One optimiser step; returns ``loss``, ``reconstruction``, ``supervised`` and per-part
    losses (``rec.<feature>``, ``sup.<task>``), all floats.

    Args:
        mode: masking mode; None draws one uniformly per step.
        targets: labels at the horizon; None trains self-supervised only.
    """
    model.train()
    if mode is None:
        modes = list(MaskMode)
        mode = modes[int(torch.randint(len(modes), (1,), generator=gen))]
    masked = batch.with_mask(pretraining_mask(batch, model.layout, gen, mode, mask_ratio))
    out = model(masked, rank=None if targets is None else targets.rank)
    assert out.recon is not None
    rec, rec_parts = reconstruction_loss(out.recon, masked, model.layout)
    report: dict[str, float] = {f"rec.{k}": v for k, v in rec_parts.items()}
    loss = rec
    if targets is not None:
        sup, sup_parts = supervised_loss(out, targets)
        loss = loss + supervised_weight * sup
        report |= {f"sup.{k}": v for k, v in sup_parts.items()}
        report["supervised"] = float(sup.detach())
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(loss)
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    report["reconstruction"] = float(rec.detach())
    report["loss"] = float(loss.detach())
    return report


def train_synthetic(
    cfg: LinkFMConfig, steps: int, batch: int = 32, lr: float = 3e-3, seed: int = 0
) -> tuple[LinkFM, list[dict[str, Any]]]:
    """Train a fresh model on freshly drawn synthetic windows (a smoke test of the loop)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = LinkFM(cfg)
    windows, _ = synthetic_windows(model.registry, 256, cfg.n_slots, gen)
    stats = model.registry.fit_stats(windows)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        w, y = synthetic_windows(model.registry, batch, cfg.n_slots, gen)
        history.append(train_step(model, tokenize(w, model.layout, stats), opt, gen, y))
    return model, history
