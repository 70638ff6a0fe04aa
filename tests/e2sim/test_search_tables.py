"""The fast RI/PMI search (SE tables, closed forms, covariance beam RSRP) against references.

References take the general routes: ``H W`` as a complex product for every precoder (or
beam) and the MMSE capacities by the Cholesky route of `mmse` (`subband_se`).
"""

from __future__ import annotations

import math

import pytest
import torch

from e2sim.csi import (
    DftBeamGrid,
    TypeICodebook,
    beam_rsrp_db,
    lookup_subband_se,
    select_csi,
    subband_se,
    subband_se_of,
    subband_se_tables,
)
from e2sim.csi.mmse import gram_from_matrix, log2_one_plus_sinr_entries, sum_log2_one_plus_sinr
from e2sim.csi.selection import TIE_RTOL

CODEBOOKS = [(2,), (4,), (8,), (8, 4, 1, 4, 1)]


def _channels(n: int, n_sb: int, n_rx: int, n_tx: int, snr_db: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = (n, n_sb, n_rx, n_tx)
    h = torch.complex(torch.randn(shape, generator=g), torch.randn(shape, generator=g))
    # Subbands of one UE share most of their channel, as on a real frequency response.
    h = h[:, :1] + 0.5 * h
    return (h * math.sqrt(10 ** (snr_db / 10) / 2)).to(torch.complex64)


def _reference_tables(cb: TypeICodebook, h: torch.Tensor, rank: int) -> torch.Tensor:
    """[B, n_sb, n_pmi]: ``H W`` of every precoder as a complex product and its MMSE
    capacities by the Cholesky route (`subband_se`)."""
    w = cb.precoders(rank)  # [n_pmi, P, r]
    return subband_se(h[:, None], w[None, :, None]).transpose(1, 2)


@pytest.mark.parametrize("rank", [1, 2])
def test_closed_form_capacity_of_ranks_one_and_two_equals_the_cholesky_route(rank: int) -> None:
    g = torch.Generator().manual_seed(rank)
    shape = (500, 3, rank)
    x = torch.complex(torch.randn(shape, generator=g), torch.randn(shape, generator=g))
    gram = x.mH @ x * 10.0  # Hermitian PSD, up to ~20 dB per layer
    entries = gram_from_matrix(gram)
    closed = sum_log2_one_plus_sinr(entries)
    cholesky = torch.stack(log2_one_plus_sinr_entries(entries)).sum(0)
    assert torch.allclose(closed, cholesky, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cfg", CODEBOOKS)
@pytest.mark.parametrize("n_rx", [1, 2, 4])
def test_se_tables_equal_every_precoder_scored_alone(cfg: tuple[int, ...], n_rx: int) -> None:
    cb = TypeICodebook(*cfg)
    h = _channels(6, 5, n_rx, cb.n_ports, snr_db=12, seed=sum(cfg) + n_rx)
    tables = subband_se_tables(cb, h)
    assert sorted(tables) == list(range(1, min(n_rx, cb.max_rank) + 1))
    for rank, table in tables.items():
        assert torch.allclose(table, _reference_tables(cb, h, rank), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cfg", CODEBOOKS)
@pytest.mark.parametrize("n_rx", [2, 4])
def test_search_equals_the_reference_exhaustive_search(cfg: tuple[int, ...], n_rx: int) -> None:
    cb = TypeICodebook(*cfg)
    h = _channels(24, 4, n_rx, cb.n_ports, snr_db=15, seed=3 * sum(cfg) + n_rx)
    ranks = range(1, min(n_rx, cb.max_rank) + 1)
    ref = {r: _reference_tables(cb, h, r).mean(1) for r in ranks}  # [B, n_pmi]
    best_per_rank = torch.stack([ref[r].max(-1).values for r in ranks], dim=-1)
    choice = select_csi(cb, h)
    exact = 0
    for u in range(h.shape[0]):
        ri, pmi = int(choice.ri[u]), int(choice.pmi[u])
        every = torch.cat([ref[r][u] for r in ranks])
        best, runner_up = (float(v) for v in every.topk(2).values)
        # The choice reaches the reference optimum (within float rounding)...
        assert float(ref[ri][u, pmi]) >= best * (1 - 10 * TIE_RTOL)
        # ... and is the reference argmax itself wherever no other choice comes close.
        if runner_up < best * (1 - 1e-4):
            ref_ri = int(best_per_rank[u].argmax()) + 1
            assert (ri, pmi) == (ref_ri, int(ref[ref_ri][u].argmax()))
            exact += 1
    assert exact >= 4  # the comparison is not vacuous


def test_looking_up_a_choice_in_the_tables_equals_scoring_it() -> None:
    cb = TypeICodebook(4)
    h = _channels(40, 13, 2, 4, snr_db=10, seed=8)
    g = torch.Generator().manual_seed(9)
    rank = torch.randint(1, 3, (40,), generator=g)
    pmi = torch.randint(0, 32, (40,), generator=g)  # 32 precoders at ranks 1 and 2
    got = lookup_subband_se(subband_se_tables(cb, h), rank, pmi)
    assert torch.allclose(got, subband_se_of(cb, h, rank, pmi), rtol=1e-4, atol=1e-5)


def test_looking_up_a_rank_that_was_not_searched_is_refused() -> None:
    cb = TypeICodebook(4)
    tables = subband_se_tables(cb, _channels(2, 3, 2, 4, snr_db=10, seed=1))
    with pytest.raises(ValueError, match="rank 3"):
        lookup_subband_se(tables, torch.tensor([1, 3]), torch.tensor([0, 0]))


@pytest.mark.parametrize(("n1", "n2", "size"), [(1, 1, 16), (2, 1, 32), (2, 2, 64), (4, 1, 32)])
def test_beam_rsrp_from_the_covariance_equals_each_beam_measured_alone(
        n1: int, n2: int, size: int) -> None:
    grid = DftBeamGrid.with_size(size, n1, n2)
    h = _channels(10, 13, 2, 2 * n1 * n2, snr_db=5, seed=size + n1)
    direct = (h @ grid.weights.T).abs().square().sum(-2).mean(-2)  # [n, n_beams]
    assert torch.allclose(beam_rsrp_db(h, grid), 10 * torch.log10(direct), atol=1e-4)
