"""The ray fields reproduce Sionna's own channels, at the draw and after moving.

`e2sim.channel.sionna_rays` stops Sionna before rays are summed into paths; these tests
pin that coupling to the installed Sionna: same rays in, same frequency response out.
"""

from __future__ import annotations

import math

import sionna.phy
import torch
from sionna.phy.channel import cir_to_ofdm_channel
from sionna.phy.channel.tr38901 import CDL
from sionna.phy.channel.tr38901.channel_coefficients import Topology
from sionna.phy.channel.utils import deg_2_rad

from e2sim.channel import ChannelConfig
from e2sim.channel.arrays import gnb_array, ue_array
from e2sim.channel.rayfield import RayField
from e2sim.channel.sionna_rays import cdl_fields, system_level_fields, system_level_model

FREQS = torch.linspace(-9e6, 9e6, 13)


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().square().sum() / b.abs().square().sum())


def _headings(n: int) -> torch.Tensor:
    angle = torch.linspace(0.1, 2 * math.pi - 0.1, n)
    return torch.stack([angle.cos(), angle.sin(), torch.zeros(n)], dim=-1)


def _ours(field: RayField, metres: float) -> torch.Tensor:
    return field.response(torch.full((field.n,), metres), field.steering(FREQS))


def _sionna_freq(h: torch.Tensor, tau: torch.Tensor, n: int, t: int) -> torch.Tensor:
    """Sionna [b, rx, rxa, tx, txa, paths, time] -> ours [n, sb, rxa * txa] at sample t."""
    freq = cir_to_ofdm_channel(FREQS, h, tau)  # [b, rx, rxa, tx, txa, time, sb]
    freq = freq[..., t, :].reshape(-1, *freq.shape[2:5], FREQS.numel())
    out = freq[:, :, 0].permute(0, 3, 1, 2)   # [n, sb, rxa, txa]
    return out.reshape(n, FREQS.numel(), -1)


def _umi_reference(cfg: ChannelConfig, n: int, seed: int
                   ) -> tuple[RayField, torch.Tensor, torch.Tensor]:
    """Our field and Sionna's channel at 0 m and 1 m for the same UMi draw."""
    loc = torch.stack([torch.linspace(30, 90, n), torch.linspace(20, 60, n),
                       torch.full((n,), 1.5)], dim=-1)
    bs_loc, bs_orient = torch.tensor([0.0, 0.0, 10.0]), torch.tensor([math.pi / 3, 0.0, 0.0])
    heading, indoor, ids = _headings(n), torch.zeros(n, dtype=torch.bool), torch.arange(n)
    sionna.phy.config.seed = seed
    field, _ = system_level_fields(system_level_model(cfg), cfg, loc, bs_loc, bs_orient,
                                   heading, indoor, ids)
    sionna.phy.config.seed = seed
    model = system_level_model(cfg)
    model.reset_topology()
    model.set_topology(loc[None], bs_loc.reshape(1, 1, 3), torch.zeros(1, n, 3),
                       bs_orient.reshape(1, 1, 3), heading[None], indoor[None],
                       spatial_consistency_track_ids=ids)
    sc, lsp = model._scenario, model._lsp
    rays = model._ray_sampler(lsp)
    topo = Topology(velocities=sc.ut_velocities, moving_end="rx",
                    los_aoa=deg_2_rad(sc.los_aoa), los_aod=deg_2_rad(sc.los_aod),
                    los_zoa=deg_2_rad(sc.los_zoa), los_zod=deg_2_rad(sc.los_zod), los=sc.los,
                    distance_3d=sc.distance_3d, tx_orientations=sc.bs_orientations,
                    rx_orientations=sc.ut_orientations)
    # Unit speed: Sionna's sample at t = 1 s is the channel 1 m further along the heading.
    h, tau = model._cir_sampler(2, 1.0, lsp.k_factor, rays, topo, sc.get_param("cDS") * 1e-9)
    h = model._step_12(h, lsp.sf, lsp.pathloss).permute(0, 2, 4, 1, 5, 3, 6)
    tau = tau.permute(0, 2, 1, 3)
    return field, _sionna_freq(h, tau, n, 0), _sionna_freq(h, tau, n, 1)


def test_umi_field_equals_sionna_at_the_draw() -> None:
    field, at_draw, _ = _umi_reference(ChannelConfig(n_tx=8, n_rx=2), n=6, seed=4)
    assert _relative_error(_ours(field, 0.0), at_draw) < 1e-8


def test_umi_field_moved_one_metre_equals_sionna_doppler_evolution() -> None:
    field, _, one_metre = _umi_reference(ChannelConfig(n_tx=4, n_rx=4), n=6, seed=5)
    assert _relative_error(_ours(field, 1.0), one_metre) < 1e-6


def test_moving_changes_the_channel_so_the_comparison_is_not_trivial() -> None:
    _, at_draw, one_metre = _umi_reference(ChannelConfig(n_tx=4, n_rx=2), n=6, seed=6)
    assert _relative_error(at_draw, one_metre) > 0.1


def test_cdl_field_equals_sionna_cdl_at_the_draw_and_one_metre_on() -> None:
    cfg = ChannelConfig(scenario="cdl-c", n_tx=4, n_rx=2, delay_spread_s=100e-9)
    n, heading = 5, _headings(5)
    sionna.phy.config.seed = 11
    field, _ = cdl_fields(cfg, heading)
    sionna.phy.config.seed = 11
    cdl = CDL("C", 100e-9, cfg.carrier_hz, ut_array=ue_array(cfg), bs_array=gnb_array(cfg),
              ut_velocity=heading)
    h, tau = cdl(batch_size=n, num_time_steps=2, sampling_frequency=1.0)
    assert _relative_error(_ours(field, 0.0), _sionna_freq(h, tau, n, 0)) < 1e-8
    assert _relative_error(_ours(field, 1.0), _sionna_freq(h, tau, n, 1)) < 1e-6
