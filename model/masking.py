"""Which tokens pretraining hides: random, forecasting and interpolation masks.

Following MODEL.md: only *target* features (rank, PMI parts, beam, CQI) are hidden by
(feature, slot), plus a share of channel-estimate patches; forecasting hides the targets of
the last slot, interpolation those of a middle slot. Only present tokens are ever hidden.
"""

from __future__ import annotations

from enum import StrEnum

import torch

from model.registry import FeatureKind
from model.tokenize import TokenBatch, TokenLayout


class MaskMode(StrEnum):
    RANDOM = "random"
    FORECAST = "forecast"
    INTERPOLATE = "interpolate"


def _target_tokens(layout: TokenLayout) -> torch.Tensor:
    """[N] bool: tokens of per-slot target features."""
    reg = layout.registry
    ids = [reg.index(f.name) for f in reg.targets() if f.per_slot]
    return torch.isin(layout.feature_id, torch.tensor(ids))


def _matrix_tokens(layout: TokenLayout) -> torch.Tensor:
    kinds = torch.repeat_interleave(torch.arange(4), torch.tensor(layout.counts))
    return kinds == list(FeatureKind).index(FeatureKind.MATRIX)


def pretraining_mask(
    batch: TokenBatch,
    layout: TokenLayout,
    gen: torch.Generator,
    mode: MaskMode = MaskMode.RANDOM,
    ratio: float = 0.15,
) -> torch.Tensor:
    """A [B, N] bool mask of tokens to hide (apply with ``batch.with_mask``).

    Args:
        mode: RANDOM hides each target token and each patch with probability ``ratio``;
            FORECAST hides every target of the last slot; INTERPOLATE of one middle slot.
    """
    B, N = batch.present.shape
    targets, patches = _target_tokens(layout), _matrix_tokens(layout)
    if mode is MaskMode.RANDOM:
        draw = torch.rand(B, N, generator=gen) < ratio
        hide = draw & (targets | patches)[None, :]
    else:
        T = layout.n_slots
        slot = T - 1 if mode is MaskMode.FORECAST else T // 2
        hide = (targets & (layout.slot_id == slot))[None, :].expand(B, N)
    return hide & batch.present
