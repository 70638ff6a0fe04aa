"""RI/PMI selection: post-MMSE SINR, SE, exhaustive argmax, and the SVD upper reference."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import pytest
import torch

from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.mmse import log2_one_plus_sinr
from e2sim.csi.selection import layer_sinr, se_of, select_csi, subband_se_of
from e2sim.csi.svd import svd_precoder, svd_se


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Run on one intra-op thread: on the shared 2-core machine a second thread only spins
    on many small tensors (measured 10-30x slower under load); restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

CONFIGS = [(2,), (4,), (8, 2, 2, 4, 4), (8, 4, 1, 4, 1)]


def _iid(*shape: int, snr_db: float, seed: int) -> torch.Tensor:
    """Rayleigh i.i.d. channel whose entries have mean power 10^(snr_db/10)."""
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(*shape, dtype=torch.complex64, generator=gen)
    return h * math.sqrt(10 ** (snr_db / 10))


def _direct_log2_one_plus_sinr(gram: torch.Tensor) -> torch.Tensor:
    """The textbook formula, matrix by matrix: log2(1 / [(I + G^H G)^{-1}]_ll)."""
    flat = gram.reshape(-1, *gram.shape[-2:]).to(torch.complex128)
    rows = []
    for a in flat:
        inv = torch.linalg.inv(torch.eye(a.shape[0], dtype=a.dtype) + a)
        rows.append(-torch.log2(inv.diagonal().real))
    return torch.stack(rows).reshape(gram.shape[:-1]).float()


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_mmse_layer_capacity_matches_the_matrix_inverse_formula(rank: int) -> None:
    g = _iid(40, 6, rank, snr_db=10, seed=rank)
    gram = g.mH @ g
    assert torch.allclose(log2_one_plus_sinr(gram), _direct_log2_one_plus_sinr(gram),
                          rtol=1e-4, atol=1e-4)


def test_single_layer_sinr_is_the_received_power_of_the_precoded_channel() -> None:
    h = _iid(5, 3, 2, 4, snr_db=0, seed=1)
    w = TypeICodebook(4).precoders(1)[7]
    expected = (h @ w).abs().square().sum(-2)  # ||H_k w||^2, [5, 3, 1]
    assert torch.allclose(layer_sinr(h, w.unsqueeze(-3)), expected, rtol=1e-5)


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("pmi_fraction", [0.0, 0.37, 0.99])
def test_rank_one_channel_along_a_codebook_precoder_selects_it_at_rank_one(
        cfg: tuple[int, ...], pmi_fraction: float) -> None:
    cb = TypeICodebook(*cfg)
    target = int(pmi_fraction * cb.n_pmi(1))
    w = cb.precoders(1)[target]  # [P, 1]
    a = _iid(13, 4, 1, snr_db=20, seed=target)  # receive response per subband
    h = a @ w.mH  # H_k = a_k w^H: [13, 4, P]
    choice = select_csi(cb, h)
    assert int(choice.ri) == 1
    assert int(choice.pmi) == target


def test_high_snr_rich_4x4_channel_selects_more_than_one_layer() -> None:
    h = _iid(32, 13, 4, 4, snr_db=30, seed=2)
    assert bool((select_csi(TypeICodebook(4), h).ri > 1).all())


def test_very_low_snr_4x4_channel_selects_one_layer() -> None:
    # Far below 0 dB the SE is linear in received power, so beamforming all of it into the
    # best direction wins; only when two directions are almost equally strong does the
    # concavity of log2(1 + x) still favour splitting, which fades as the SNR drops.
    h = _iid(64, 13, 4, 4, snr_db=-30, seed=3)
    assert bool((select_csi(TypeICodebook(4), h).ri == 1).all())


def test_share_of_rank_one_falls_as_snr_rises() -> None:
    cb = TypeICodebook(4)
    shares = [float((select_csi(cb, _iid(64, 13, 4, 4, snr_db=snr, seed=19)).ri == 1)
                    .float().mean()) for snr in (-20, -10, 0, 10)]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] > shares[-1]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_selected_pmi_per_rank_is_the_best_of_the_whole_codebook(cfg: tuple[int, ...]) -> None:
    cb = TypeICodebook(*cfg)
    h = _iid(3, 4, 4, cfg[0], snr_db=5, seed=4)
    choice = select_csi(cb, h)
    for rank in range(1, cb.max_rank + 1):
        n = cb.n_pmi(rank)
        every = se_of(cb, h[:, None].expand(3, n, *h.shape[1:]), rank, torch.arange(n))  # [3, n]
        best = every.max(-1).values
        chosen = every.gather(1, choice.pmi_per_rank[:, rank - 1, None])[:, 0]
        assert torch.allclose(choice.se_per_rank[:, rank - 1], best, rtol=1e-5)
        assert torch.allclose(chosen, best, rtol=1e-5)


def test_choice_is_unchanged_by_a_unitary_rotation_at_the_receiver() -> None:
    # The MMSE SINRs depend on H only through H^H H, so U H (U unitary) gives the same CSI.
    cb = TypeICodebook(8, 4, 1, 4, 1)
    h = _iid(8, 13, 4, 8, snr_db=10, seed=21)
    u, _ = torch.linalg.qr(_iid(8, 13, 4, 4, snr_db=0, seed=22))
    plain, rotated = select_csi(cb, h), select_csi(cb, u @ h)
    assert torch.equal(plain.ri, rotated.ri)
    assert torch.equal(plain.pmi, rotated.pmi)  # near-ties resolve the same way
    assert torch.allclose(plain.se, rotated.se, rtol=1e-4)


def test_more_snr_never_lowers_the_best_se() -> None:
    cb = TypeICodebook(4)
    h = _iid(16, 13, 2, 4, snr_db=0, seed=23)
    se = [select_csi(cb, h * math.sqrt(10 ** (db / 10))).se for db in (0, 5, 10, 20)]
    for low, high in itertools.pairwise(se):
        assert bool((high >= low).all())


def test_rank_is_the_argmax_of_the_per_rank_best() -> None:
    choice = select_csi(TypeICodebook(8), _iid(16, 13, 4, 8, snr_db=12, seed=5))
    assert torch.equal(choice.se, choice.se_per_rank.gather(-1, choice.ri[:, None] - 1)[:, 0])
    assert torch.allclose(choice.se, choice.se_per_rank.max(-1).values, rtol=1e-5)
    lower_ranks = torch.arange(1, 5) < choice.ri[:, None]
    best = choice.se_per_rank.max(-1, keepdim=True).values
    assert not bool((lower_ranks & (choice.se_per_rank >= best * (1 - 1e-5))).any())


def test_equivalent_precoders_resolve_to_the_lowest_index() -> None:
    # Rank 4, (N1, N2) = (4, 1): (i11 = 3, k1 = O1) and (i11 = 7, k1 = 3 O1) hold the beams
    # v_3 and v_7 in swapped order (v_19 = v_3), so every channel scores them equally.
    cb = TypeICodebook(8, 4, 1, 4, 1)
    first = int(cb.indices_to_pmi(4, *map(torch.tensor, (3, 0, 0, 1))))
    twin = int(cb.indices_to_pmi(4, *map(torch.tensor, (7, 0, 2, 1))))
    w = cb.precoders(4)
    assert torch.allclose(w[first][:, [1, 0, 3, 2]], w[twin], atol=1e-6)
    h = (w[twin].mH * 8).expand(13, 4, 8)  # a channel matched to the twin
    choice = select_csi(cb, h)
    every = se_of(cb, h.expand(96, 13, 4, 8), 4, torch.arange(96))
    tied = (every >= every.max() * (1 - 1e-5)).nonzero().squeeze(-1)
    assert int(choice.ri) == 4
    assert first in tied.tolist() and twin in tied.tolist()
    assert int(choice.pmi) == int(tied.min())


def test_se_of_scores_the_chosen_rank_and_pmi_to_the_selected_se() -> None:
    cb = TypeICodebook(8, 4, 1, 4, 1)
    h = _iid(10, 13, 4, 8, snr_db=15, seed=6)
    choice = select_csi(cb, h)
    assert torch.allclose(se_of(cb, h, choice.ri, choice.pmi), choice.se, rtol=1e-5)
    assert torch.allclose(subband_se_of(cb, h, choice.ri, choice.pmi), choice.subband_se,
                          rtol=1e-5)
    assert torch.allclose(choice.subband_se.mean(-1), choice.se, rtol=1e-5)


def test_pmi_components_describe_the_flat_pmi() -> None:
    cb = TypeICodebook(8)
    choice = select_csi(cb, _iid(12, 4, 4, 8, snr_db=10, seed=7))
    for u in range(12):
        r = int(choice.ri[u])
        parts = (choice.i11[u], choice.i12[u], choice.i13[u], choice.i2[u])
        assert int(cb.indices_to_pmi(r, *parts)) == int(choice.pmi[u])


def test_a_batch_gives_the_same_answers_as_one_channel_at_a_time() -> None:
    cb = TypeICodebook(4)
    h = _iid(6, 13, 2, 4, snr_db=8, seed=8)
    batch = select_csi(cb, h)
    for u in range(6):
        one = select_csi(cb, h[u])
        assert int(one.ri) == int(batch.ri[u])
        assert int(one.pmi) == int(batch.pmi[u])
        assert math.isclose(float(one.se), float(batch.se[u]), rel_tol=1e-5)


def test_leading_batch_dims_are_kept() -> None:
    choice = select_csi(TypeICodebook(4), _iid(2, 3, 13, 2, 4, snr_db=8, seed=9))
    assert choice.ri.shape == (2, 3)
    assert choice.subband_se.shape == (2, 3, 13)
    assert choice.se_per_rank.shape == (2, 3, 4)


def test_tiny_memory_chunks_change_nothing() -> None:
    cb = TypeICodebook(8)
    h = _iid(5, 13, 4, 8, snr_db=10, seed=10)
    whole, chunked = select_csi(cb, h), select_csi(cb, h, chunk_bytes=1)
    assert torch.equal(whole.pmi, chunked.pmi)
    assert torch.equal(whole.ri, chunked.ri)


def test_rank_never_exceeds_receive_antennas_or_the_cap() -> None:
    cb = TypeICodebook(8)
    one_rx = select_csi(cb, _iid(8, 4, 1, 8, snr_db=30, seed=11))
    assert bool((one_rx.ri == 1).all())
    assert bool(torch.isinf(one_rx.se_per_rank[:, 1:]).all())
    capped = select_csi(cb, _iid(8, 4, 4, 8, snr_db=30, seed=12), max_rank=2)
    assert bool((capped.ri <= 2).all())


def test_double_precision_channels_give_the_same_choice() -> None:
    cb = TypeICodebook(4)
    h = _iid(4, 13, 2, 4, snr_db=10, seed=20)
    single, double = select_csi(cb, h), select_csi(cb, h.to(torch.complex128))
    assert torch.equal(single.pmi, double.pmi)
    assert torch.allclose(se_of(cb, h.to(torch.complex128), single.ri, single.pmi),
                          single.se, rtol=1e-5)


def test_an_empty_batch_gives_empty_answers() -> None:
    choice = select_csi(TypeICodebook(4), torch.zeros(0, 13, 2, 4, dtype=torch.complex64))
    assert choice.ri.shape == (0,)
    assert choice.subband_se.shape == (0, 13)


def test_a_channel_with_the_wrong_port_count_is_refused() -> None:
    with pytest.raises(ValueError):
        select_csi(TypeICodebook(8), _iid(2, 4, 2, 4, snr_db=0, seed=13))


def test_an_out_of_range_pmi_cannot_be_scored() -> None:
    cb = TypeICodebook(4)
    with pytest.raises(ValueError):
        se_of(cb, _iid(2, 4, 2, 4, snr_db=0, seed=14), 3, cb.n_pmi(3))


@pytest.mark.parametrize("cfg", CONFIGS)
def test_svd_precoder_beats_every_codebook_precoder_on_one_subband(cfg: tuple[int, ...]) -> None:
    # One subband: the SVD precoder maximises log det(I + W^H R W) under W^H W = I/r.
    cb = TypeICodebook(*cfg)
    h = _iid(16, 1, 4, cfg[0], snr_db=10, seed=15)
    choice = select_csi(cb, h)
    for rank in range(1, cb.max_rank + 1):
        assert bool((svd_se(h, rank) >= choice.se_per_rank[:, rank - 1] - 1e-4).all())


def test_per_subband_svd_beats_every_codebook_precoder_over_many_subbands() -> None:
    cb = TypeICodebook(8, 2, 2, 4, 4)
    h = _iid(16, 13, 4, 8, snr_db=10, seed=16)
    choice = select_csi(cb, h)
    for rank in range(1, 5):
        assert bool((svd_se(h, rank, per_subband=True)
                     >= choice.se_per_rank[:, rank - 1] - 1e-4).all())


def test_svd_precoder_has_the_codebook_power_normalisation() -> None:
    w = svd_precoder(_iid(3, 13, 4, 8, snr_db=0, seed=17), rank=3).to(torch.complex128)
    assert w.shape == (3, 8, 3)
    assert torch.allclose(w.mH @ w, torch.eye(3, dtype=torch.complex128).expand(3, 3, 3) / 3,
                          atol=1e-6)


def test_svd_of_a_rank_one_channel_recovers_its_direction() -> None:
    w = TypeICodebook(4).precoders(1)[5]  # unit norm [4, 1]
    h = _iid(13, 2, 1, snr_db=0, seed=18) @ w.mH
    v = svd_precoder(h, rank=1)
    assert math.isclose(float((v.mH @ w).abs().squeeze()), 1.0, rel_tol=1e-5)
