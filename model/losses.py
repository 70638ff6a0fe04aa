"""Training losses: supervised heads and masked reconstruction, each reported per part.

Continuous quantities use MSE in their normalised space (reconstruction) or in physical
units (CQI index, SE in bit/s/Hz, scaled to order one); categorical ones use cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model.network import CQI_SCALE, SE_SCALE
from model.outputs import HeadOutputs, LinkFMOutput, Reconstruction
from model.pmi_space import PMI_PARTS
from model.tokenize import TokenBatch, TokenLayout


@dataclass
class Targets:
    """Labels at the horizon (B windows): rank 1..4 [B]; pmi part -> [B]; beam [B];
    cqi [B] (CQI index); se [B] (bit/s/Hz)."""

    rank: torch.Tensor
    pmi: dict[str, torch.Tensor]
    beam: torch.Tensor
    cqi: torch.Tensor
    se: torch.Tensor


def head_losses(h: HeadOutputs, y: Targets) -> dict[str, torch.Tensor]:
    """Per-task losses of one head set: rank, pmi_<part>, beam, cqi, se (each a scalar)."""
    out = {
        "rank": F.cross_entropy(h.rank_logits, y.rank - 1),
        "beam": F.cross_entropy(h.beam_logits, y.beam),
        "cqi": F.mse_loss(h.cqi / CQI_SCALE, y.cqi / CQI_SCALE),
        "se": F.mse_loss(h.se / SE_SCALE, y.se / SE_SCALE),
    }
    for part in PMI_PARTS:
        out[f"pmi_{part}"] = F.cross_entropy(h.pmi_logits[part], y.pmi[part])
    return out


def supervised_loss(out: LinkFMOutput, y: Targets) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of the final heads' losses plus the mean over early exits (deep supervision).

    Call the model with ``rank=y.rank`` so the PMI heads learn for the true rank.
    """
    parts = head_losses(out.heads, y)
    total = torch.stack(list(parts.values())).sum()
    report = {k: float(v.detach()) for k, v in parts.items()}
    if out.exits:
        exit_total = torch.stack(
            [torch.stack(list(head_losses(h, y).values())).sum() for h in out.exits]
        ).mean()
        total = total + exit_total
        report["exits"] = float(exit_total.detach())
    return total, report


def reconstruction_loss(
    recon: Reconstruction, batch: TokenBatch, layout: TokenLayout
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss on the masked tokens only, averaged per feature then over features.

    Returns the total (0 if nothing is masked) and feature name -> loss.
    """
    _Ns, _Nv, _Nm, _Nc = layout.counts
    masked = torch.split(batch.masked, list(layout.counts), dim=1)
    # per token: (loss sum, element count), [B, N_kind] each
    sq = (recon.scalar - batch.scalar) ** 2
    per_token = [(sq, torch.ones_like(sq))]
    for pred, true, valid in (
        (recon.vector, batch.vector, batch.vector_valid),
        (recon.matrix, batch.matrix, batch.matrix_valid),
    ):
        err = ((pred - true) ** 2) * valid
        per_token.append((err.sum(-1), valid.sum(-1).float()))
    ce = F.cross_entropy(recon.categorical.transpose(1, 2), batch.categorical, reduction="none")
    per_token.append((ce, torch.ones_like(ce)))

    total_sum = torch.cat([s for s, _ in per_token], 1)  # [B, N]
    total_cnt = torch.cat([c for _, c in per_token], 1)
    hidden = torch.cat(masked, 1)  # [B, N]
    fid = layout.feature_id.to(hidden.device)
    losses: dict[str, torch.Tensor] = {}
    for f in torch.unique(fid[hidden.any(0)]).tolist():
        sel = hidden & (fid == f)[None, :]
        losses[layout.registry.features[f].name] = total_sum[sel].sum() / total_cnt[
            sel
        ].sum().clamp_min(1)
    if not losses:
        return recon.scalar.sum() * 0.0, {}
    total = torch.stack(list(losses.values())).mean()
    return total, {k: float(v.detach()) for k, v in losses.items()}
