"""Small models and synthetic batches shared by the model tests."""

from __future__ import annotations

import pytest
import torch

from model.losses import Targets
from model.network import LinkFM, LinkFMConfig
from model.registry import NormaliserStats
from model.synthetic import synthetic_windows
from model.tokenize import TokenBatch, Windows, tokenize

SMALL = LinkFMConfig(
    d_model=32,
    n_layers=3,
    n_heads=4,
    d_feature_emb=8,
    n_slots=3,
    patch_subbands=4,
    matrix_slots=1,
    max_subbands=8,
    max_beams=16,
    early_exit_layers=(1, 2),
)


@pytest.fixture
def small_model() -> LinkFM:
    torch.manual_seed(0)
    return LinkFM(SMALL).eval().requires_grad_(False)


def make_batch(
    model: LinkFM, batch: int = 8, seed: int = 0
) -> tuple[Windows, NormaliserStats, TokenBatch, Targets]:
    """Synthetic windows, their fitted statistics, the tokens and the labels."""
    gen = torch.Generator().manual_seed(seed)
    windows, targets = synthetic_windows(model.registry, batch, model.cfg.n_slots, gen)
    stats = model.registry.fit_stats(windows)
    return windows, stats, tokenize(windows, model.layout, stats), targets
