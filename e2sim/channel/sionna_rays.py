"""Ray fields drawn by Sionna 2.2 (TR 38.901 steps 1-11), before rays are summed into paths.

Sionna's models return path coefficients already summed over the 20 rays of a cluster,
which cannot be moved in time without redrawing them. Here the same generators run up to
the per-ray coefficients (`ChannelCoefficientsGenerator._step_11_nlos/_los` at t = 0) and
the sub-cluster split, pathloss, shadowing and K-factor of steps 11-12 are applied per
ray, so that `RayField` can rotate each ray by its own Doppler phase afterwards. These are
private Sionna methods: the package is pinned (sionna-no-rt==2.2.0) and
tests/e2sim/test_channel_rays.py checks that the result equals Sionna's own output.
The TDL profiles (delays, powers, K-factor) come from Sionna; their sum-of-sinusoids
fading is drawn here so that it can keep evolving across reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from sionna.phy.channel.tr38901 import CDL, TDL, UMa, UMi
from sionna.phy.channel.tr38901.channel_coefficients import Topology
from sionna.phy.channel.utils import deg_2_rad

from e2sim.channel.arrays import gnb_array, port_order, ue_array
from e2sim.channel.config import ChannelConfig
from e2sim.channel.rayfield import RayField

# TR 38.901 Table 7.5-5: the 20 rays of each of the two strongest clusters are split into
# three sub-clusters with delay offsets 0, 1.28 and 2.56 times the cluster delay spread.
_SUBCLUSTER_OF_RAY = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 0, 0])
_SUBCLUSTER_OFFSET = (0.0, 1.28, 2.56)
_TDL_SINUSOIDS = 12
_TDL_LOS_COS_AOA = 0.7  # the angle Sionna's TDL uses for the specular component


@dataclass(frozen=True)
class LinkState:
    """Large-scale state of the links a field was drawn for ([m] each)."""

    los: torch.Tensor          # bool
    pathloss_db: torch.Tensor  # pathloss plus shadowing [dB] (0 at link level)


def system_level_model(cfg: ChannelConfig) -> UMi | UMa:
    """UMi/UMa with spatial consistency (correlated LSPs, angles, delays and phases)."""
    common = {"carrier_frequency": cfg.carrier_hz, "o2i_model": "low",
              "ut_array": ue_array(cfg), "bs_array": gnb_array(cfg), "direction": "downlink",
              "enable_spatial_consistency": True}
    return UMi(**common) if cfg.scenario == "umi" else UMa(**common)


def system_level_fields(model: UMi | UMa, cfg: ChannelConfig, ut_loc: torch.Tensor,
                        bs_loc: torch.Tensor, bs_orientation: torch.Tensor,
                        heading: torch.Tensor, indoor: torch.Tensor,
                        track_ids: torch.Tensor) -> tuple[RayField, LinkState]:
    """Rays at ``m`` UE positions sharing one spatially consistent snapshot.

    ut_loc: [m, 3] positions [m]; heading: [m, 3] unit direction of motion;
    bs_loc, bs_orientation: [3]; indoor: [m] bool; track_ids: [m] int64 (positions of one
    track share cluster signs and couplings). Output field amplitudes are in sqrt(W/W):
    |coef|^2 is the received/transmitted power ratio (pathloss, shadowing, antennas).
    """
    m = ut_loc.shape[0]
    zeros = torch.zeros(1, m, 3)
    model.reset_topology()
    model.set_topology(ut_loc[None].float(), bs_loc.reshape(1, 1, 3).float(), zeros,
                       bs_orientation.reshape(1, 1, 3).float(), heading[None].float(),
                       indoor[None], spatial_consistency_track_ids=track_ids)
    sc = model._scenario
    lsp = model._lsp
    rays = model._ray_sampler(lsp)
    topo = Topology(velocities=sc.ut_velocities, moving_end="rx",
                    los_aoa=deg_2_rad(sc.los_aoa), los_aod=deg_2_rad(sc.los_aod),
                    los_zoa=deg_2_rad(sc.los_zoa), los_zod=deg_2_rad(sc.los_zod), los=sc.los,
                    distance_3d=sc.distance_3d, tx_orientations=sc.bs_orientations,
                    rx_orientations=sc.ut_orientations)
    cir = model._cir_sampler
    t0 = torch.zeros(1)
    h_rays = _step_11_rays(cir, rays.phases, topo, rays)[0, 0]  # [m,C,R,rx,tx]
    h_los = cir._step_11_los(topo, t0)[0, 0, :, 0, ..., 0]                 # [m,rx,tx]
    c_ds = sc.get_param("cDS")[0, 0] * 1e-9                                 # [m] s
    strongest = rays.strongest_cluster_indices
    if strongest is None:
        strongest = torch.argsort(rays.powers, dim=-1, descending=True)[..., :2]
    coef, delay, slope = _split_subclusters(h_rays, rays.delays[0, 0], strongest[0, 0], c_ds,
                                            _slopes(rays.zoa[0, 0], rays.aoa[0, 0], heading,
                                                    cfg.wavelength_m))
    los = sc.los[0, 0]
    los_slope = _slopes(deg_2_rad(sc.los_zoa)[0, 0, :, None], deg_2_rad(sc.los_aoa)[0, 0, :, None],
                        heading, cfg.wavelength_m)
    field = _with_los(coef, delay, slope, h_los, los_slope, lsp.k_factor[0, 0], los)
    gain = 10.0 ** (-lsp.pathloss[0, 0] / 20.0) * torch.sqrt(lsp.sf[0, 0])
    loss_db = lsp.pathloss[0, 0] - 10.0 * torch.log10(lsp.sf[0, 0])
    field = _ports_flattened(field, port_order(model._scenario.bs_array), cfg).scaled(gain)
    return field, LinkState(los=los.clone(), pathloss_db=loss_db.float())


def cdl_fields(cfg: ChannelConfig, heading: torch.Tensor) -> tuple[RayField, LinkState]:
    """One CDL realisation (random ray coupling and phases) per UE; heading: [n, 3] unit."""
    n = heading.shape[0]
    model = CDL(cfg.scenario[-1].upper(), cfg.delay_spread_s, cfg.carrier_hz,
                ut_array=ue_array(cfg), bs_array=gnb_array(cfg), direction="downlink")
    topo = model._create_topology(n, heading.float())
    rays = model._create_rays(n)
    cir = model._cir_gen
    t0 = torch.zeros(1)
    h_rays = _step_11_rays(cir, cir._step_10(rays.aoa.shape), topo, rays)[:, 0, 0]
    h_los = cir._step_11_los(topo, t0)[:, 0, 0, 0, ..., 0]
    slope = _slopes(rays.zoa[:, 0, 0], rays.aoa[:, 0, 0], heading, cfg.wavelength_m)
    los_slope = _slopes(topo.los_zoa[:, 0, :1], topo.los_aoa[:, 0, :1], heading,
                        cfg.wavelength_m)
    los = topo.los[:, 0, 0]
    field = _with_los(h_rays, rays.delays[:, 0, 0], slope, h_los, los_slope,
                      model._get_k_factor(n)[:, 0, 0], los)
    state = LinkState(los=los.clone(), pathloss_db=torch.zeros(n))
    return _ports_flattened(field, port_order(gnb_array(cfg)), cfg), state


def tdl_fields(cfg: ChannelConfig, n: int, gen: torch.Generator) -> tuple[RayField, LinkState]:
    """Sum-of-sinusoids TDL taps, i.i.d. over antenna pairs; the profile comes from Sionna."""
    model = TDL(cfg.scenario[-1].upper(), cfg.delay_spread_s, cfg.carrier_hz)
    delays = model.delays.float()
    powers = model.mean_powers.float().clone()
    los = bool(model.los)
    p_los = float(model.mean_power_los) if los else 0.0
    powers[0] -= p_los
    n_tap, n_ant, n_sin = len(delays), cfg.n_rx * cfg.n_tx, _TDL_SINUSOIDS
    phase = 2 * math.pi * torch.rand((n, n_tap, n_sin, n_ant), generator=gen)
    amp = torch.sqrt(powers / n_sin)[None, :, None, None].expand(n, -1, n_sin, n_ant)
    coef = torch.polar(amp.contiguous(), phase).permute(0, 3, 1, 2)
    aoa = 2 * math.pi * torch.rand((n, n_tap, n_sin), generator=gen)
    slope = 2 * math.pi * torch.cos(aoa) / cfg.wavelength_m
    delay = delays[None].expand(n, -1).contiguous()
    if los:
        phase0 = 2 * math.pi * torch.rand((n, 1, 1, 1), generator=gen)
        spec = torch.polar(torch.full((n, 1, 1, n_ant), math.sqrt(p_los)),
                           phase0.expand(-1, -1, -1, n_ant).contiguous())
        spec = torch.cat([spec, spec.new_zeros((n, 1, n_sin - 1, n_ant))], dim=2)
        spec = spec.permute(0, 3, 1, 2)
        spec_slope = torch.zeros((n, 1, n_sin))
        spec_slope[:, :, 0] = 2 * math.pi * _TDL_LOS_COS_AOA / cfg.wavelength_m
        coef = torch.cat([coef, spec], dim=2)
        slope = torch.cat([slope, spec_slope], dim=1)
        delay = torch.cat([delay, delay[:, :1]], dim=1)
    state = LinkState(los=torch.full((n,), los), pathloss_db=torch.zeros(n))
    return RayField(coef.to(torch.complex64).contiguous(), slope.float(), delay), state


def _step_11_rays(cir: Any, phases: torch.Tensor, topo: Topology, rays: Any) -> torch.Tensor:
    """Sionna's per-ray NLoS coefficients (step 11, eq. 7.5-28) at t = 0 only.

    ``_step_11_nlos`` multiplies by a Doppler term over a time axis, which is 1 at t = 0:
    skipping it gives the same values for a third less work. Output
    [batch, tx, rx, C, R, rx_ant, tx_ant] complex.
    """
    if getattr(rays, "blockage_loss_db", None) is not None and \
            not getattr(rays, "blockage_loss_applied_to_powers", False):
        return cir._step_11_nlos(phases, topo, rays, torch.zeros(1))[..., 0]  # type: ignore[no-any-return]
    h_phase = cir._step_11_phase_matrix(phases, rays)
    angles = (rays.aoa, rays.aod, rays.zoa, rays.zod)
    h = cir._step_11_field_matrix(topo, *angles, h_phase) * _array_offsets(cir, topo, rays)
    scale = torch.sqrt(rays.powers / h.shape[4]).to(h.dtype)
    return h * scale[..., None, None, None]  # type: ignore[no-any-return]


def _array_offsets(cir: Any, topo: Topology, rays: Any) -> torch.Tensor:
    """``exp(j 2 pi / lambda (r_rx . d_rx + r_tx . d_tx))`` per ray and antenna pair, as
    Sionna's ``_step_11_array_offsets`` (TR 38.901 eq. 7.5-22) but with one cos/sin of the
    summed phase instead of two complex exponentials and their product (same values up to
    float rounding, a fraction of the time). [batch, tx, rx, C, R, rx_ant, tx_ant]."""
    k = 2 * math.pi / cir._lambda_0
    r_rx = cir._unit_sphere_vector(rays.zoa, rays.aoa).squeeze(-1)  # [b, tx, rx, C, R, 3]
    r_tx = cir._unit_sphere_vector(rays.zod, rays.aod).squeeze(-1)
    d_rx = cir._step_11_get_rx_antenna_positions(topo)  # [b, rx, rx_ant, 3]
    d_tx = cir._step_11_get_tx_antenna_positions(topo)  # [b, tx, tx_ant, 3]
    phase_rx = torch.einsum("btrcyk,brak->btrcya", r_rx, d_rx)
    phase_tx = torch.einsum("btrcyk,btak->btrcya", r_tx, d_tx)
    phase = k * (phase_rx[..., :, None] + phase_tx[..., None, :])
    return torch.polar(torch.ones_like(phase), phase)


def _slopes(zoa: torch.Tensor, aoa: torch.Tensor, heading: torch.Tensor,
            wavelength_m: float) -> torch.Tensor:
    """2 pi (r_hat . v_hat) / lambda for arrival angles [rad] ([m, ...]); heading [m, 3]."""
    extra = (1,) * (zoa.dim() - 1)
    hx, hy, hz = (heading[:, i].reshape(-1, *extra).float() for i in range(3))
    proj = (torch.sin(zoa) * torch.cos(aoa) * hx + torch.sin(zoa) * torch.sin(aoa) * hy
            + torch.cos(zoa) * hz)
    return 2 * math.pi * proj / wavelength_m


def _split_subclusters(h: torch.Tensor, delays: torch.Tensor, strongest: torch.Tensor,
                       c_ds: torch.Tensor, slope: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clusters [m, C, R, ...] -> paths [m, C + 4, R, ...]: the two strongest clusters keep
    their first sub-cluster in place and give sub-clusters 2 and 3 to four extra paths."""
    m, c = delays.shape
    sub = _SUBCLUSTER_OF_RAY.to(h.device)
    is_strong = torch.zeros((m, c), dtype=torch.bool).scatter(1, strongest, True)
    keep = ~(is_strong[:, :, None] & (sub != 0)[None, None, :])
    coefs, delays_out, slopes = [h * keep[..., None, None]], [delays], [slope]
    rows = torch.arange(m)
    for j in range(2):
        cl = strongest[:, j]
        for k in (1, 2):
            mask = (sub == k)[None, :]
            coefs.append((h[rows, cl] * mask[..., None, None])[:, None])
            delays_out.append((delays[rows, cl] + _SUBCLUSTER_OFFSET[k] * c_ds)[:, None])
            slopes.append(slope[rows, cl][:, None])
    return torch.cat(coefs, 1), torch.cat(delays_out, 1), torch.cat(slopes, 1)


def _with_los(coef: torch.Tensor, delay: torch.Tensor, slope: torch.Tensor,
              h_los: torch.Tensor, los_slope: torch.Tensor, k_factor: torch.Tensor,
              los: torch.Tensor) -> RayField:
    """Apply the Rician split of TR 38.901 eq. (7.5-30) and add the LoS ray as a path at the
    shortest delay. coef [m, P, R, rx, tx]; h_los [m, rx, tx]; los_slope [m, 1]."""
    m, _, n_ray = slope.shape
    k = torch.where(los, k_factor, torch.zeros_like(k_factor)).float()
    coef = coef * torch.sqrt(1.0 / (k + 1.0)).to(coef.dtype)[:, None, None, None, None]
    los_coef = coef.new_zeros((m, 1, n_ray, *h_los.shape[1:]))
    los_coef[:, 0, 0] = h_los * torch.sqrt(k / (k + 1.0)).to(coef.dtype)[:, None, None]
    los_slope_full = slope.new_zeros((m, 1, n_ray))
    los_slope_full[:, 0, 0] = los_slope[:, 0]
    los_delay = delay.min(dim=1, keepdim=True).values
    return RayField(torch.cat([coef, los_coef], 1), torch.cat([slope, los_slope_full], 1),
                    torch.cat([delay, los_delay], 1))


def _ports_flattened(field: RayField, order: torch.Tensor, cfg: ChannelConfig) -> RayField:
    """[m, P, R, rx, tx] in Sionna antenna order -> [m, rx * tx, P, R] in 3GPP port order."""
    coef = field.coef[..., order]
    m, p, r = coef.shape[:3]
    coef = coef.reshape(m, p, r, cfg.n_rx * cfg.n_tx).permute(0, 3, 1, 2)
    return RayField(coef.to(torch.complex64).contiguous(),
                    field.slope.float().contiguous(), field.delay.float().contiguous())
