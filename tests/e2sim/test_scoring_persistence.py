"""The oracle and the persistence score used by dataset labels and `linkfm bench sim`."""

from __future__ import annotations

import pytest
import torch

from e2sim.cell.oracle import oracle, persistence_score
from e2sim.csi import DftBeamGrid, TypeICodebook, se_of

torch.set_num_threads(1)


def random_channels(n: int, seed: int, snr_db: float = 10.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    parts = torch.randn(n, 6, 2, 4, 2, generator=gen)
    h = torch.complex(parts[..., 0], parts[..., 1]) / 2**0.5
    return h * 10 ** (snr_db / 20)


def test_reporting_the_oracle_itself_scores_perfectly() -> None:
    codebook, grid = TypeICodebook(4), DftBeamGrid.with_size(32, 2, 1)
    h = random_channels(40, seed=1)
    best = oracle(codebook, grid, h)
    score = persistence_score(codebook, h, best.ri, best.pmi, best.beam, best)
    assert (score.ri_accuracy, score.pmi_accuracy, score.beam_top1) == (1.0, 1.0, 1.0)
    assert score.se_ratio == pytest.approx(1.0)
    assert score.beam_rsrp_loss_db == 0.0


def test_reports_of_another_channel_score_below_the_oracle() -> None:
    codebook, grid = TypeICodebook(4), DftBeamGrid.with_size(32, 2, 1)
    earlier, later = random_channels(60, seed=2), random_channels(60, seed=3)
    old, new = oracle(codebook, grid, earlier), oracle(codebook, grid, later)
    score = persistence_score(codebook, later, old.ri, old.pmi, old.beam, new)
    assert score.se_ratio < 1.0
    assert score.pmi_accuracy < 0.5
    assert score.beam_rsrp_loss_db > 0.0


def test_the_oracle_se_per_rank_holds_the_best_pmi_of_each_rank() -> None:
    codebook, grid = TypeICodebook(4), DftBeamGrid.with_size(16, 2, 1)
    h = random_channels(8, seed=4, snr_db=20.0)
    best = oracle(codebook, grid, h)
    for rank in (1, 2):
        torch.testing.assert_close(best.se_per_rank[:, rank - 1],
                                   se_of(codebook, h, rank, best.pmi_per_rank[:, rank - 1]))
    assert bool((best.se_per_rank[:, 2:] == 0).all())  # 2 UE antennas: no rank 3 or 4
    assert bool((best.cqi >= 0).all()) and bool((best.cqi <= 15).all())


def test_persistence_loses_se_as_the_horizon_grows_on_a_moving_channel() -> None:
    from bench.sim import persistence

    result = persistence("cdl-c", 120.0, [0, 20], n_ues=8, n_reports=10)
    now, later = result["0ms"], result["20ms"]
    assert now["se_ratio"] > 0.99  # only the UE's estimation error
    assert later["se_ratio"] < now["se_ratio"] - 0.03
    assert later["pmi_accuracy"] < now["pmi_accuracy"]
