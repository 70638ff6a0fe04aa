"""Antenna arrays of the gNB and the UE, and the gNB port order expected by TS 38.214.

Sionna's `PanelArray` interleaves polarisations (antenna 2i is polarisation 1, 2i+1
polarisation 2) and enumerates a panel column by column. The Type-I codebook wants
ports 0..P/2-1 on the first polarisation, P/2..P-1 on the second, and inside each
polarisation port n1 * N2 + n2 (N2, the vertical index, running fastest).
"""

from __future__ import annotations

import torch
from sionna.phy.channel.tr38901 import PanelArray

from e2sim.channel.config import ChannelConfig


def gnb_array(cfg: ChannelConfig) -> PanelArray:
    """Dual-polarised (+/-45°) panel of N2 rows x N1 columns, 38.901 element pattern."""
    n1, n2 = cfg.panel_shape
    return PanelArray(num_rows_per_panel=n2, num_cols_per_panel=n1, polarization="dual",
                      polarization_type="cross", antenna_pattern="38.901",
                      carrier_frequency=cfg.carrier_hz)


def ue_array(cfg: ChannelConfig) -> PanelArray:
    """Omni UE: 1 antenna = single V element, 2 = one cross pair, 4 = two cross pairs."""
    if cfg.n_rx == 1:
        return PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single",
                          polarization_type="V", antenna_pattern="omni",
                          carrier_frequency=cfg.carrier_hz)
    return PanelArray(num_rows_per_panel=1, num_cols_per_panel=cfg.n_rx // 2,
                      polarization="dual", polarization_type="cross", antenna_pattern="omni",
                      carrier_frequency=cfg.carrier_hz)


def port_order(array: PanelArray) -> torch.Tensor:
    """Sionna antenna index of each 3GPP port: ``h_3gpp = h_sionna[..., port_order]``.

    Output: [num_ant] int64. Derived from the element positions (y horizontal, z vertical)
    so that it holds for any panel shape.
    """
    pos = array.ant_pos.detach().cpu().double()
    ys = sorted({round(float(v), 6) for v in pos[:, 1]})
    zs = sorted({round(float(v), 6) for v in pos[:, 2]}, reverse=True)
    n2 = len(zs)
    key = torch.empty(array.num_ant, dtype=torch.int64)
    pol2 = set(array.ant_ind_pol2.tolist()) if array.polarization == "dual" else set()
    per_pol = len(ys) * n2
    for ant in range(array.num_ant):
        n1_idx = ys.index(round(float(pos[ant, 1]), 6))
        n2_idx = zs.index(round(float(pos[ant, 2]), 6))
        key[ant] = (per_pol if ant in pol2 else 0) + n1_idx * n2 + n2_idx
    return torch.argsort(key)
