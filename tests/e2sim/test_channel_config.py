"""ChannelConfig validation and derived quantities; gNB port order (3GPP vs Sionna)."""

from __future__ import annotations

import math

import pytest
import torch
from sionna.phy.channel.tr38901 import CDL, PanelArray

from e2sim.channel import ChannelConfig
from e2sim.channel.arrays import gnb_array, port_order
from e2sim.channel.drop import subband_centres_hz


@pytest.mark.parametrize("kwargs", [
    {"scenario": "rma"}, {"n_tx": 6}, {"n_tx": 4, "panel": (2, 2)}, {"n_rx": 3},
    {"scs_hz": 60e3}, {"speed_kmh": (0.0, 10.0)}, {"subband_prb": 0},
])
def test_invalid_settings_are_rejected_with_the_reason(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="invalid ChannelConfig"):
        ChannelConfig(**kwargs)  # type: ignore[arg-type]


def test_subband_count_rounds_up_a_partial_last_subband() -> None:
    assert ChannelConfig(n_prb=106, subband_prb=8).n_subbands == 14
    assert ChannelConfig(n_prb=52, subband_prb=4).n_subbands == 13


def test_subband_centres_are_symmetric_and_inside_the_band() -> None:
    cfg = ChannelConfig(n_prb=52, subband_prb=4, scs_hz=30e3)
    freqs = subband_centres_hz(cfg)
    assert freqs.shape == (13,)
    assert torch.all(freqs[1:] > freqs[:-1])
    assert abs(float(freqs.mean())) < cfg.scs_hz
    assert float(freqs.abs().max()) < cfg.bandwidth_hz / 2


def test_noise_power_follows_bandwidth_and_noise_figure() -> None:
    cfg = ChannelConfig(n_prb=52, scs_hz=30e3, noise_figure_db=9.0)
    expected = -174.0 + 10 * math.log10(52 * 12 * 30e3) + 9.0
    assert cfg.noise_dbm == pytest.approx(expected)


@pytest.mark.parametrize(("n_tx", "panel"), [(2, None), (4, None), (8, (2, 2)), (8, (4, 1))])
def test_first_half_of_the_ports_is_one_polarisation_in_n1_n2_order(
        n_tx: int, panel: tuple[int, int] | None) -> None:
    cfg = ChannelConfig(n_tx=n_tx, panel=panel)
    array = gnb_array(cfg)
    order = port_order(array)
    half = n_tx // 2
    assert set(order[:half].tolist()) == set(array.ant_ind_pol1.tolist())
    n1, n2 = cfg.panel_shape
    pos = array.ant_pos[order[:half]]
    # port n1 * N2 + n2: horizontal position grows with n1, vertical falls with n2.
    grid_y = pos[:, 1].reshape(n1, n2)
    grid_z = pos[:, 2].reshape(n1, n2)
    assert torch.all(grid_y[1:] > grid_y[:-1])
    assert torch.all(grid_z[:, 1:] < grid_z[:, :-1])
    assert torch.equal(array.ant_pos[order[half:]], pos)


def test_a_channel_exciting_one_polarisation_lands_in_the_first_half_of_the_ports() -> None:
    # A vertically polarised UE in strong LoS (CDL-D) seen by a V/H panel: the V elements
    # are Sionna's polarisation 1 and must become ports 0..P/2-1.
    fc = 3.5e9
    bs = PanelArray(num_rows_per_panel=1, num_cols_per_panel=2, polarization="dual",
                    polarization_type="VH", antenna_pattern="38.901", carrier_frequency=fc)
    ue = PanelArray(num_rows_per_panel=1, num_cols_per_panel=1, polarization="single",
                    polarization_type="V", antenna_pattern="omni", carrier_frequency=fc)
    h, _ = CDL("D", 30e-9, fc, ut_array=ue, bs_array=bs)(batch_size=64, num_time_steps=1,
                                                          sampling_frequency=1.0)
    ports = h[:, 0, 0, 0][:, port_order(bs)]  # [batch, 4 ports, paths, 1]
    power = ports.abs().square().sum(dim=(0, 2, 3))
    assert float(power[:2].sum() / power[2:].sum()) > 10.0
