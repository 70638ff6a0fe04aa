"""Known-answer tests of the classical baselines (model/baselines.py)."""

from __future__ import annotations

import cmath

import pytest
import torch

from e2sim.csi import DftBeamGrid, TypeICodebook, beam_rsrp_db, select_csi
from model import baselines as B
from model import channel_prediction as P

T, SB, RX, TX = 8, 4, 2, 4


@pytest.fixture(scope="module")
def codebook() -> TypeICodebook:
    return TypeICodebook(4)


@pytest.fixture(scope="module")
def grid() -> DftBeamGrid:
    return DftBeamGrid.with_size(16, 2, 1)


def random_channel(n: int, seed: int, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    re = torch.randn(n, SB, RX, TX, generator=g)
    im = torch.randn(n, SB, RX, TX, generator=g)
    return (scale * torch.complex(re, im)).to(torch.complex64)


def samples_from_history(h: torch.Tensor, codebook: TypeICodebook, grid: DftBeamGrid,
                         legacy: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
                         sinr_db: torch.Tensor | None = None) -> B.LinkSamples:
    """LinkSamples whose every report is the search on that slot's channel h [N, T, ...]."""
    n, t = h.shape[:2]
    sel = select_csi(codebook, h)
    beams = beam_rsrp_db(h, grid).argmax(-1)
    ri, pmi, beam = sel.ri, sel.pmi, beams
    last = legacy or (ri[:, -1], pmi[:, -1], beam[:, -1])
    return B.LinkSamples(
        codebook=codebook, grid=grid, report_period_ms=10.0, ri=ri, pmi=pmi, beam=beam,
        h_est=h, h_valid=torch.ones(n, t, dtype=torch.bool),
        sinr_db=torch.zeros(n) if sinr_db is None else sinr_db,
        reported_rsrp=beam_rsrp_db(h[:, -1], grid),
        legacy_ri=last[0], legacy_pmi=last[1], legacy_beam=last[2])


# ---------------------------------------------------------------- AR prediction
@pytest.mark.parametrize("steps", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_ar_prediction_of_a_constant_channel_is_that_channel(steps: float, order: int) -> None:
    h0 = random_channel(5, seed=1)
    h = h0[:, None].expand(5, T, SB, RX, TX).contiguous()
    pred = P.ar_predict(h, torch.ones(5, T, dtype=torch.bool), steps, order)
    torch.testing.assert_close(pred, h0, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("steps", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("order", [1, 2])
def test_ar_extrapolates_a_constant_phase_rotation_exactly(steps: float, order: int) -> None:
    h0 = random_channel(3, seed=2)
    theta = torch.tensor([0.3, -1.1, 2.0])  # rad per report period, one per UE
    t = torch.arange(T, dtype=torch.float32)
    rot = torch.polar(torch.ones(3, T), theta[:, None] * t)  # [N, T]
    h = (h0[:, None] * rot[..., None, None, None]).to(torch.complex64)
    pred = P.ar_predict(h, torch.ones(3, T, dtype=torch.bool), steps, order, ridge=1e-9)
    want = h0 * torch.polar(torch.ones(3), theta * (T - 1 + steps))[:, None, None, None]
    torch.testing.assert_close(pred, want.to(torch.complex64), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("steps", [0.5, 2.0])
def test_ar2_extrapolates_two_paths_with_different_dopplers(steps: float) -> None:
    a, b = random_channel(2, seed=3), random_channel(2, seed=4)
    th_a, th_b = 0.4, -1.3
    t = torch.arange(T, dtype=torch.float64)
    h = (a[:, None] * torch.polar(torch.ones(T, dtype=torch.float64), th_a * t)[
        None, :, None, None, None]
         + b[:, None] * torch.polar(torch.ones(T, dtype=torch.float64), th_b * t)[
        None, :, None, None, None])
    pred = P.ar_predict(h, torch.ones(2, T, dtype=torch.bool), steps, 2, ridge=1e-12)
    end = T - 1 + steps
    want = a * cmath.exp(1j * th_a * end) + b * cmath.exp(1j * th_b * end)
    torch.testing.assert_close(pred, want.to(pred.dtype), rtol=1e-6, atol=1e-6)


def test_validated_ar_follows_a_rotating_channel(codebook: TypeICodebook) -> None:
    h0 = random_channel(4, seed=5)
    t = torch.arange(T, dtype=torch.float32)
    h = (h0[:, None] * torch.polar(torch.ones(T), 0.7 * t)[None, :, None, None, None]).to(
        torch.complex64)
    pred = P.ar_predict_validated(h, torch.ones(4, T, dtype=torch.bool), 1.0)
    want = h0 * cmath.exp(1j * 0.7 * T)
    torch.testing.assert_close(pred, want.to(torch.complex64), rtol=1e-3, atol=1e-3)


def test_ar_rejects_an_order_the_window_cannot_fit() -> None:
    with pytest.raises(ValueError, match="AR order"):
        P.ar_predict(random_channel(1, 0)[:, None].expand(1, 3, SB, RX, TX), torch.ones(
            1, 3, dtype=torch.bool), 1.0, order=3)


def test_search_and_ar_search_equal_persistence_on_a_constant_channel(
        codebook: TypeICodebook, grid: DftBeamGrid) -> None:
    h = random_channel(16, seed=6)[:, None].expand(16, T, SB, RX, TX).contiguous()
    s = samples_from_history(h, codebook, grid)
    kept = B.persistence(s)
    for choice in (B.search_latest(s)[0], B.ar_search(s, 10.0), B.ar_search(s, 5.0)):
        assert torch.equal(choice.ri, kept.ri)
        assert torch.equal(choice.pmi, kept.pmi)
        assert torch.equal(choice.beam, kept.beam)


# ---------------------------------------------------------------- mode
def test_mode_of_a_hand_made_history(codebook: TypeICodebook, grid: DftBeamGrid) -> None:
    h = random_channel(3, seed=7)[:, None].expand(3, T, SB, RX, TX).contiguous()
    s = samples_from_history(h, codebook, grid)
    # last 4 reports (oldest first) per UE; 0 / -1 = not reported
    ri = torch.tensor([[2, 1, 2, 1], [1, 1, 2, 2], [0, 0, 0, 0]])
    pmi = torch.tensor([[7, 3, 7, 5], [4, 4, 9, 11], [-1, -1, -1, -1]])
    beam = torch.tensor([[1, 2, 2, 3], [5, 6, 6, 5], [-1, -1, -1, -1]])
    pad = T - 4
    s = B.LinkSamples(**{**s.__dict__,
                         "ri": torch.cat([torch.zeros(3, pad, dtype=torch.int64), ri], 1),
                         "pmi": torch.cat([torch.full((3, pad), -1), pmi], 1),
                         "beam": torch.cat([torch.full((3, pad), -1), beam], 1)})
    got = B.mode_of_last(s, window=4)
    # UE 0: ranks 2,1,2,1 tie -> latest (1); PMIs at rank 1: 3, 5 tie -> latest (5);
    #       beams: 2 twice -> 2.
    # UE 1: ranks tie -> latest (2); PMIs at rank 2: 9, 11 -> 11; beams 5, 6 tie -> 5 (latest).
    # UE 2: nothing reported -> persistence.
    assert got.ri.tolist() == [1, 2, int(s.legacy_ri[2])]
    assert got.pmi.tolist() == [5, 11, int(s.legacy_pmi[2])]
    assert got.beam.tolist() == [2, 5, int(s.legacy_beam[2])]


def test_mode_prefers_the_most_frequent_over_the_latest(codebook: TypeICodebook,
                                                        grid: DftBeamGrid) -> None:
    h = random_channel(1, seed=8)[:, None].expand(1, T, SB, RX, TX).contiguous()
    s = samples_from_history(h, codebook, grid)
    s = B.LinkSamples(**{**s.__dict__, "ri": torch.tensor([[2, 2, 2, 2, 2, 2, 2, 1]]),
                         "pmi": torch.tensor([[4, 4, 4, 6, 4, 6, 6, 2]]),
                         "beam": torch.tensor([[3, 3, 3, 3, 3, 1, 1, 1]])})
    got = B.mode_of_last(s, window=8)
    assert (int(got.ri), int(got.pmi), int(got.beam)) == (2, 4, 3)


# ---------------------------------------------------------------- SNR rule
def test_fitted_snr_thresholds_are_monotone_and_find_a_clean_cut() -> None:
    g = torch.Generator().manual_seed(9)
    sinr = torch.rand(4000, generator=g) * 40 - 5
    ri = 1 + (sinr >= 5).long() + (sinr >= 15).long() + (sinr >= 25).long()
    th = B.fit_snr_thresholds(sinr, ri)
    assert list(th) == sorted(th)
    assert th == pytest.approx((5.0, 15.0, 25.0), abs=0.1)


def test_fitted_thresholds_stay_monotone_on_overlapping_classes() -> None:
    g = torch.Generator().manual_seed(10)
    ri = torch.randint(1, 5, (3000,), generator=g)
    sinr = 6.0 * ri + 20 * torch.randn(3000, generator=g)  # heavy overlap
    th = B.fit_snr_thresholds(sinr, ri)
    assert list(th) == sorted(th)


def test_fit_keeps_the_constant_for_a_rank_never_seen() -> None:
    sinr = torch.tensor([0.0, 1.0, 10.0, 11.0])
    th = B.fit_snr_thresholds(sinr, torch.tensor([1, 1, 2, 2]))
    assert th[0] == pytest.approx(5.5)
    assert th[1:] == pytest.approx(B.SNR_THRESHOLDS_DB[1:])


def test_snr_rank_is_monotone_and_capped() -> None:
    sinr = torch.linspace(-10, 40, 101)
    rank = B.snr_rank(sinr, max_rank=4, thresholds_db=(0.0, 10.0, 20.0))
    assert bool((rank.diff() >= 0).all())
    assert int(rank[0]) == 1 and int(rank[-1]) == 4
    assert int(B.snr_rank(sinr, max_rank=2, thresholds_db=(0.0, 10.0, 20.0)).max()) == 2


def test_snr_rule_keeps_the_reported_pmi_at_the_reported_rank_else_searches(
        codebook: TypeICodebook, grid: DftBeamGrid) -> None:
    h = random_channel(2, seed=11)[:, None].expand(2, T, SB, RX, TX).contiguous()
    legacy = (torch.tensor([2, 1]), torch.tensor([3, 17]), torch.tensor([0, 1]))
    s = samples_from_history(h, codebook, grid, legacy=legacy,
                             sinr_db=torch.tensor([30.0, 30.0]))
    got = B.snr_rule(s, thresholds_db=(10.0, 20.0, 30.0))
    search = select_csi(codebook, h[:, -1])
    assert got.ri.tolist() == [2, 2]  # 4x2: capped at rank 2
    assert int(got.pmi[0]) == 3  # reported at rank 2: kept
    assert int(got.pmi[1]) == int(search.pmi_per_rank[1, 1])  # searched at rank 2
    assert got.beam.tolist() == [0, 1]


# ---------------------------------------------------------------- helpers
def test_flat_pmi_inverts_the_codebook_tables(codebook: TypeICodebook) -> None:
    ri = torch.tensor([1, 2, 3, 4, 2])
    pmi = torch.tensor([5, 17, 9, 15, 0])
    parts = [torch.zeros(5, dtype=torch.int64) for _ in range(4)]
    for j, (r, p) in enumerate(zip(ri.tolist(), pmi.tolist(), strict=True)):
        for c in range(4):
            parts[c][j] = codebook.indices(r)[p, c]
    valid = torch.tensor([True, True, True, True, False])
    got = B.flat_pmi(codebook, ri, tuple(parts), valid)
    assert got.tolist() == [5, 17, 9, 15, -1]


def test_every_baseline_answers_for_every_horizon(codebook: TypeICodebook,
                                                  grid: DftBeamGrid) -> None:
    h = random_channel(6 * T, seed=12).reshape(6, T, SB, RX, TX)
    s = samples_from_history(h, codebook, grid)
    out = B.all_baselines(s, (5.0, 10.0, 20.0))
    assert set(out) == set(B.BASELINES)
    for per_h in out.values():
        assert set(per_h) == {5.0, 10.0, 20.0}
        for c in per_h.values():
            assert c.ri.shape == c.pmi.shape == c.beam.shape == (6,)
            assert bool(((c.ri >= 1) & (c.ri <= 2)).all())
            for r in (1, 2):
                at = c.ri == r
                assert bool(((c.pmi[at] >= 0) & (c.pmi[at] < codebook.n_pmi(r))).all())
