"""DFT grid of beams, L1-RSRP per beam and best/top-k beam selection."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch

from e2sim.csi.beams import DftBeamGrid, beam_rsrp_db, select_beams
from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.report import compute_csi


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Run on one intra-op thread: on the shared 2-core machine a second thread only spins
    on many small tensors (measured 10-30x slower under load); restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _noise(*shape: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.complex64, generator=gen)


@pytest.mark.parametrize("n_beams", [16, 32, 64])
@pytest.mark.parametrize(("n1", "n2"), [(2, 2), (4, 1), (2, 1)])
def test_grid_has_the_requested_number_of_unit_norm_beams(n_beams: int, n1: int, n2: int) -> None:
    grid = DftBeamGrid.with_size(n_beams, n1, n2)
    assert grid.weights.shape == (n_beams, 2 * n1 * n2)
    assert torch.allclose(grid.weights.abs().square().sum(-1), torch.ones(n_beams), atol=1e-5)


def test_dual_polarised_beam_has_the_same_weights_on_both_polarisations() -> None:
    w = DftBeamGrid.with_size(32, 4, 1).weights
    assert torch.equal(w[:, :4], w[:, 4:])


def test_single_polarised_grid_covers_only_the_panel() -> None:
    grid = DftBeamGrid(4, 2, 2, 2, dual_polarized=False)
    assert grid.weights.shape == (32, 8)


def test_all_beams_of_a_grid_are_distinct_directions() -> None:
    w = DftBeamGrid.with_size(64, 2, 2).weights
    overlap = (w.conj() @ w.T).abs() - torch.eye(64)
    assert float(overlap.max()) < 1 - 1e-3


def test_beams_equal_the_type_i_codebook_dft_vectors_in_its_port_order() -> None:
    # With the codebook's oversampling, beam (m1, m2) is v_{m1,m2}: the rank-1 precoder with
    # co-phasing phi_0 = 1 scaled to unit norm.
    grid = DftBeamGrid(2, 2, 4, 4)
    cb = TypeICodebook(8, 2, 2, 4, 4)
    for m1, m2 in [(0, 0), (1, 2), (7, 5), (3, 7)]:
        w = cb.precoder(1, i11=m1, i12=m2, i13=0, i2=0)[:, 0]
        assert torch.allclose(grid.weights[grid.beam_index(m1, m2)], w, atol=1e-6)


@pytest.mark.parametrize("beam", [0, 5, 17, 42, 63])
def test_channel_aligned_with_a_beam_selects_that_beam(beam: int) -> None:
    grid = DftBeamGrid.with_size(64, 2, 2)
    a = _noise(13, 2, 1, seed=beam)  # UE receive response per subband
    h = a @ grid.weights[beam][None, :].conj()  # H_k = a_k w_b^H: [13, 2, 8]
    choice = select_beams(h, grid, k=3)
    assert int(choice.best) == beam


def test_plane_wave_from_a_grid_direction_selects_the_beam_pointing_there() -> None:
    # A ULA of 4 half-wavelength columns; the wave arrives with the phase slope of DFT
    # index 6 of 16 (spatial frequency 6/16), on both polarisations with random gains.
    grid = DftBeamGrid(4, 1, 4, 1)
    steering = torch.exp(2j * math.pi * 6 / 16 * torch.arange(4)).to(torch.complex64)
    pol = _noise(13, 2, 2, seed=7)  # per subband, rx antenna, polarisation
    h = (pol[..., :, None] * steering.conj()).reshape(13, 2, 8)
    assert int(select_beams(h, grid).best) == 6


def test_rsrp_is_the_mean_over_subbands_of_the_received_power_in_db() -> None:
    grid = DftBeamGrid.with_size(16, 2, 1)
    h = _noise(13, 2, 4, seed=1)
    w = grid.weights[9]
    expected = 10 * math.log10(float((h @ w).abs().square().sum(-1).mean()))
    assert math.isclose(float(beam_rsrp_db(h, grid)[9]), expected, abs_tol=1e-4)


def test_doubling_the_channel_adds_six_db_to_every_beam() -> None:
    grid = DftBeamGrid.with_size(32, 4, 1)
    h = _noise(5, 13, 2, 8, seed=2)
    gain = beam_rsrp_db(2 * h, grid) - beam_rsrp_db(h, grid)
    assert torch.allclose(gain, torch.full_like(gain, 20 * math.log10(2)), atol=1e-4)


def test_top_k_is_sorted_strongest_first_and_starts_with_the_best() -> None:
    grid = DftBeamGrid.with_size(64, 2, 2)
    choice = select_beams(_noise(3, 4, 13, 2, 8, seed=3), grid, k=5)
    assert choice.top_k.shape == (3, 4, 5)
    assert torch.equal(choice.top_k[..., 0], choice.best)
    assert bool((choice.top_k_rsrp_db.diff(dim=-1) <= 0).all())
    assert torch.equal(choice.best, choice.rsrp_db.argmax(-1))


def test_a_batch_gives_the_same_answers_as_one_channel_at_a_time() -> None:
    grid = DftBeamGrid.with_size(32, 4, 1)
    h = _noise(6, 13, 2, 8, seed=4)
    batch = select_beams(h, grid, k=3)
    for u in range(6):
        assert torch.equal(select_beams(h[u], grid, k=3).top_k, batch.top_k[u])


def test_invalid_sizes_and_port_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        DftBeamGrid.with_size(24, 4, 4)
    grid = DftBeamGrid.with_size(16, 2, 1)
    with pytest.raises(ValueError):
        beam_rsrp_db(_noise(13, 2, 8, seed=5), grid)
    with pytest.raises(ValueError):
        select_beams(_noise(13, 2, 4, seed=6), grid, k=17)


def test_compute_csi_adds_the_beam_report_when_given_a_grid() -> None:
    grid = DftBeamGrid.with_size(16, 2, 1)
    h = _noise(3, 13, 2, 4, seed=8)
    csi = compute_csi(TypeICodebook(4), h, grid=grid, top_k=2)
    assert csi.beams is not None
    assert torch.equal(csi.beams.top_k, select_beams(h, grid, k=2).top_k)
