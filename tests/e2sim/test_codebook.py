"""The Type-I single-panel codebook matches TS 38.214 5.2.2.2.1 (codebookMode 1)."""

from __future__ import annotations

import cmath
import math
from collections.abc import Iterator

import pytest
import torch

from e2sim.csi.codebook import TypeICodebook


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Run on one intra-op thread: on the shared 2-core machine a second thread only spins
    on many small tensors (measured 10-30x slower under load); restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

CONFIGS = [(2,), (4,), (8, 2, 2, 4, 4), (8, 4, 1, 4, 1)]

# (i11, i12, i13, i2) value counts from Tables 5.2.2.2.1-1, -3, -4 and -5..-8.
EXPECTED_RANGES = {
    (2,): {1: (1, 1, 1, 4), 2: (1, 1, 1, 2)},
    (4,): {1: (8, 1, 1, 4), 2: (8, 1, 2, 2), 3: (8, 1, 1, 2), 4: (8, 1, 1, 2)},
    (8, 2, 2, 4, 4): {1: (8, 8, 1, 4), 2: (8, 8, 4, 2), 3: (8, 8, 3, 2), 4: (8, 8, 3, 2)},
    (8, 4, 1, 4, 1): {1: (16, 1, 1, 4), 2: (16, 1, 4, 2), 3: (16, 1, 3, 2), 4: (16, 1, 3, 2)},
}


def _every_rank() -> list[tuple[tuple[int, ...], int]]:
    return [(cfg, rank) for cfg in CONFIGS for rank in EXPECTED_RANGES[cfg]]


def _phase(x: float) -> complex:
    return cmath.exp(1j * x)


@pytest.mark.parametrize(("cfg", "rank"), _every_rank())
def test_index_ranges_follow_the_spec_tables(cfg: tuple[int, ...], rank: int) -> None:
    r = TypeICodebook(*cfg).ranges(rank)
    assert (r.n_i11, r.n_i12, r.n_i13, r.n_i2) == EXPECTED_RANGES[cfg][rank]


@pytest.mark.parametrize(("cfg", "rank"), _every_rank())
def test_precoder_tensor_holds_one_p_by_r_matrix_per_pmi(cfg: tuple[int, ...], rank: int) -> None:
    cb = TypeICodebook(*cfg)
    w = cb.precoders(rank)
    assert w.shape == (math.prod(EXPECTED_RANGES[cfg][rank]), cfg[0], rank)
    assert w.dtype == torch.complex64


@pytest.mark.parametrize(("cfg", "rank"), _every_rank())
def test_every_precoder_has_orthogonal_columns_of_norm_one_over_sqrt_rank(
        cfg: tuple[int, ...], rank: int) -> None:
    w = TypeICodebook(*cfg).precoders(rank).to(torch.complex128)
    gram = w.mH @ w
    expected = torch.eye(rank, dtype=torch.complex128).expand_as(gram) / rank
    assert torch.allclose(gram, expected, atol=1e-6)


@pytest.mark.parametrize(("cfg", "rank"), _every_rank())
def test_all_precoders_of_a_rank_are_distinct(cfg: tuple[int, ...], rank: int) -> None:
    w = TypeICodebook(*cfg).precoders(rank).flatten(1)
    distance = (w[:, None, :] - w[None, :, :]).abs().sum(-1)
    off_diagonal = distance + torch.eye(w.shape[0]) * 1e9
    assert float(off_diagonal.min()) > 1e-3


@pytest.mark.parametrize(("cfg", "rank"), _every_rank())
def test_flat_index_round_trips_through_its_components(cfg: tuple[int, ...], rank: int) -> None:
    cb = TypeICodebook(*cfg)
    pmi = torch.arange(cb.n_pmi(rank))
    parts = cb.pmi_to_indices(rank, pmi)
    assert torch.equal(cb.indices_to_pmi(rank, *parts), pmi)
    assert torch.equal(torch.stack(parts, -1), cb.indices(rank))
    assert len({tuple(row) for row in cb.indices(rank).tolist()}) == cb.n_pmi(rank)


def test_four_port_rank1_i11_1_i2_1_is_the_hand_computed_vector() -> None:
    # v_1 = [1, e^{j 2 pi / 8}] (N1 O1 = 8), phi_1 = j, W = 1/2 [v; j v].
    w = TypeICodebook(4).precoder(1, i11=1, i12=0, i13=0, i2=1)[:, 0]
    v = [1, _phase(2 * math.pi / 8)]
    expected = torch.tensor([v[0], v[1], 1j * v[0], 1j * v[1]], dtype=torch.complex64) / 2
    assert torch.allclose(w, expected, atol=1e-6)


def test_four_port_rank2_second_beam_is_offset_by_o1() -> None:
    # i13 = 1 -> k1 = O1 = 4: v' = v_4 = [1, -1]; n = 1 -> phi = j.
    w = TypeICodebook(4).precoder(2, i11=0, i12=0, i13=1, i2=1)
    expected = torch.tensor([[1, 1], [1, -1], [1j, -1j], [1j, 1j]],
                            dtype=torch.complex64) / math.sqrt(8)
    assert torch.allclose(w, expected, atol=1e-6)


def test_eight_port_2x2_beam_runs_the_second_dimension_fastest() -> None:
    # v_{1,2} = a_1 (x) u_2 with a_1 = [1, e^{j pi/4}], u_2 = [1, e^{j pi/2}] (O1 N1 = O2 N2 = 8).
    w = TypeICodebook(8, 2, 2, 4, 4).precoder(1, i11=1, i12=2, i13=0, i2=0)[:, 0]
    a, u = _phase(math.pi / 4), 1j
    v = [1, u, a, a * u]
    expected = torch.tensor(v + v, dtype=torch.complex64) / math.sqrt(8)
    assert torch.allclose(w, expected, atol=1e-6)


def test_eight_port_4x1_rank3_uses_table_4_offsets_and_signs() -> None:
    # (N1, N2) = (4, 1), i13 = 2 -> k1 = 3 O1 = 12; columns v, v', v with signs +, +, -.
    cb = TypeICodebook(8, 4, 1, 4, 1)
    w = cb.precoder(3, i11=3, i12=0, i13=2, i2=1)

    def beam(ell: int) -> list[complex]:
        return [_phase(2 * math.pi * ell * n / 16) for n in range(4)]

    v, v2, phi = beam(3), beam(15), 1j
    cols = [v + [phi * x for x in v], v2 + [phi * x for x in v2], v + [-phi * x for x in v]]
    expected = torch.tensor(cols, dtype=torch.complex64).T / math.sqrt(3 * 8)
    assert torch.allclose(w, expected, atol=1e-6)


def test_eight_port_2x2_rank4_second_beam_moves_in_both_dimensions() -> None:
    # (N1, N2) = (2, 2), i13 = 2 -> (k1, k2) = (O1, O2): l' = 4, m' = 4; rank 4 signs +, +, -, -.
    w = TypeICodebook(8, 2, 2, 4, 4).precoder(4, i11=0, i12=0, i13=2, i2=0)
    v = [1, 1, 1, 1]
    v2 = [1, -1, -1, 1]  # a_4 (x) u_4 = [1, -1] (x) [1, -1]
    cols = [v + v, v2 + v2, v + [-x for x in v], v2 + [-x for x in v2]]
    expected = torch.tensor(cols, dtype=torch.complex64).T / math.sqrt(4 * 8)
    assert torch.allclose(w, expected, atol=1e-6)


@pytest.mark.parametrize("i11", [0, 3])
def test_four_port_rank4_beam_pairs_swapped_by_o1_n1_hold_the_same_columns(i11: int) -> None:
    # l' = l + O1 and (l + O1)' = l + 2 O1 = l (mod N1 O1 = 8): same four columns, reordered.
    cb = TypeICodebook(4)
    w = cb.precoder(4, i11=i11, i12=0, i13=0, i2=1)
    twin = cb.precoder(4, i11=i11 + 4, i12=0, i13=0, i2=1)
    assert torch.allclose(w[:, [1, 0, 3, 2]], twin, atol=1e-6)


def test_two_port_codebook_is_table_5_2_2_2_1_1() -> None:
    cb = TypeICodebook(2)
    rank1 = torch.tensor([[1, 1], [1, 1j], [1, -1], [1, -1j]], dtype=torch.complex64)
    assert torch.allclose(cb.precoders(1)[..., 0], rank1 / math.sqrt(2))
    rank2 = torch.tensor([[[1, 1], [1, -1]], [[1, 1], [1j, -1j]]], dtype=torch.complex64)
    assert torch.allclose(cb.precoders(2), rank2 / 2)
    assert cb.max_rank == 2


@pytest.mark.parametrize("cfg", [(8, 2, 2, 4, 1), (4, 2, 1, 8, 1), (16,), (6,), (2, 2, 1, 4, 1)])
def test_configurations_outside_table_5_2_2_2_1_2_are_refused(cfg: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        TypeICodebook(*cfg)


def test_ranks_and_indices_outside_the_codebook_are_refused() -> None:
    cb = TypeICodebook(4)
    with pytest.raises(ValueError):
        cb.precoders(5)
    with pytest.raises(ValueError):
        cb.pmi_to_indices(2, torch.tensor([cb.n_pmi(2)]))
    with pytest.raises(ValueError):
        cb.indices_to_pmi(1, torch.tensor(0), torch.tensor(0), torch.tensor(0), torch.tensor(4))
