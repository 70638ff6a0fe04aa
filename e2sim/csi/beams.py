"""DFT grid of beams over the gNB array, L1-RSRP per beam, best beam and top-k.

The grid is Sionna's ``grid_of_beams_dft`` (TS 38.214-style 2D DFT beams, oversampled) over
one polarisation's N1 x N2 panel; beam ``b = m1 * (N2 O2) + m2`` points to horizontal DFT
index m1 (0..N1 O1 - 1) and vertical index m2 (0..N2 O2 - 1), the same layout as the Type-I
codebook's (i11, i12). Antenna order inside a polarisation is ``n1 * N2 + n2`` (N2 fastest),
ports 0..P/2-1 and P/2..P-1 being the two polarisations as in 3GPP. A dual-polarised beam
applies the same weights to both polarisations: ``w = [c; c] / sqrt(2)``, unit norm.

L1-RSRP of beam m: ``mean_k ||H_k w_m||^2`` (summed over the UE antennas) in dB. With a
noise-whitened H (noise variance 1 per receive antenna) it is relative to the per-antenna
noise power; add the noise power in dBm to get dBm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


class DftBeamGrid:
    """Oversampled 2D DFT beams for an N1 x N2 panel (optionally dual-polarised).

    Args:
        n1, n2: antenna columns (horizontal) and rows (vertical) per polarisation.
        o1, o2: oversampling in each dimension; ``n_beams = N1 O1 N2 O2``.
        dual_polarized: P = 2 N1 N2 ports with the same weights on both polarisations,
            else P = N1 N2.

    Attributes:
        weights: [n_beams, P] complex64, unit-norm rows.
    """

    def __init__(self, n1: int, n2: int, o1: int, o2: int, dual_polarized: bool = True) -> None:
        if min(n1, n2, o1, o2) < 1:
            raise ValueError("N1, N2, O1 and O2 must all be at least 1")
        from sionna.phy.mimo import grid_of_beams_dft  # heavy import, only when a grid is built

        # Sionna: [N2 O2, N1 O1, N1 N2] indexed [m2, m1, :]; reorder to beam = m1 * N2 O2 + m2.
        gob = grid_of_beams_dft(num_ant_v=n2, num_ant_h=n1, oversmpl_v=o2, oversmpl_h=o1,
                                precision="single", device="cpu")
        per_pol = gob.permute(1, 0, 2).reshape(n1 * o1 * n2 * o2, n1 * n2)
        if dual_polarized:
            per_pol = torch.cat([per_pol, per_pol], dim=-1) / math.sqrt(2.0)
        self.n1, self.n2, self.o1, self.o2 = n1, n2, o1, o2
        self.dual_polarized = dual_polarized
        self.weights = per_pol.to(torch.complex64)

    @classmethod
    def with_size(cls, n_beams: int, n1: int, n2: int,
                  dual_polarized: bool = True) -> DftBeamGrid:
        """A grid of exactly ``n_beams`` (e.g. 16, 32, 64) beams over an N1 x N2 panel.

        The oversampling ``O = n_beams / (N1 N2)`` goes to the horizontal dimension when
        N2 = 1; otherwise it is split as evenly as possible (O2 <= O1).
        """
        total, rest = divmod(n_beams, n1 * n2)
        if rest or total < 1:
            raise ValueError(f"{n_beams} beams is not a multiple of the {n1 * n2} elements")
        o2 = 1
        if n2 > 1:
            o2 = max(d for d in range(1, total + 1) if total % d == 0 and d * d <= total)
        return cls(n1, n2, total // o2, o2, dual_polarized)

    @property
    def n_beams(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_ports(self) -> int:
        return int(self.weights.shape[1])

    def beam_index(self, m1: int, m2: int) -> int:
        """The flat beam index of horizontal DFT index m1 and vertical index m2."""
        return m1 * self.n2 * self.o2 + m2


def beam_rsrp_db(h: torch.Tensor, grid: DftBeamGrid) -> torch.Tensor:
    """L1-RSRP of every beam: h [..., n_sb, n_rx, P] -> [..., n_beams] float32 dB."""
    if h.shape[-1] != grid.n_ports:
        raise ValueError(f"channel has {h.shape[-1]} ports, the beam grid {grid.n_ports}")
    # mean_k ||H_k w||^2 = w^H R w with R = mean_k H_k^H H_k: one P x P matrix per channel
    # instead of the response of every beam on every subband and antenna.
    rows = h.reshape(*h.shape[:-3], -1, h.shape[-1])  # [..., n_sb n_rx, P]
    cov = (rows.mH @ rows) / h.shape[-3]  # [..., P, P]
    w = grid.weights.to(device=h.device, dtype=cov.dtype)  # [n_beams, P]
    power = (w.conj().T * (cov @ w.T)).sum(-2).real  # [..., n_beams]
    return 10.0 * torch.log10(power.clamp_min(1e-30))


@dataclass(frozen=True)
class BeamSelection:
    """The strongest beams per channel; batch shape ``[...]``.

    Attributes:
        rsrp_db: [..., n_beams] L1-RSRP of every beam, dB.
        best: [...] int64 index of the strongest beam.
        top_k: [..., k] int64 beam indices, strongest first.
        top_k_rsrp_db: [..., k] their RSRP, dB.
    """

    rsrp_db: torch.Tensor
    best: torch.Tensor
    top_k: torch.Tensor
    top_k_rsrp_db: torch.Tensor


def select_beams(h: torch.Tensor, grid: DftBeamGrid, k: int = 4) -> BeamSelection:
    """Measure every beam of ``grid`` on ``h`` [..., n_sb, n_rx, P] and report the top ``k``."""
    if not 1 <= k <= grid.n_beams:
        raise ValueError(f"k must be in 1..{grid.n_beams}, got {k}")
    rsrp = beam_rsrp_db(h, grid)
    top_rsrp, top = rsrp.topk(k, dim=-1)
    return BeamSelection(rsrp_db=rsrp, best=top[..., 0], top_k=top, top_k_rsrp_db=top_rsrp)
