"""Link-level CDL/TDL drop: one fixed set of rays per UE, Doppler-rotated forever.

CDL/TDL keep cluster angles and delays fixed, so the best beam of a UE never changes here:
use UMi/UMa (`SystemLevelDrop`) for beam dynamics. Each UE gets an SNR drawn uniformly
in dB from ``cfg.snr_db_range`` and moves along a straight line from the origin.
"""

from __future__ import annotations

import sionna.phy
import torch

from e2sim.channel.config import ChannelConfig
from e2sim.channel.drop import ChannelDrop, TrueChannel
from e2sim.channel.rayfield import RayField
from e2sim.channel.sionna_lock import SIONNA_SEED_LOCK
from e2sim.channel.sionna_rays import cdl_fields, tdl_fields


class LinkLevelDrop(ChannelDrop):
    """``cfg.n_ue`` independent CDL or TDL links with the snapshot interface of a cell."""

    def __init__(self, cfg: ChannelConfig) -> None:
        if cfg.is_system_level:
            raise ValueError(f"{cfg.scenario!r} is system level: use SystemLevelDrop")
        super().__init__(cfg)
        lo, hi = cfg.snr_db_range
        snr_db = lo + (hi - lo) * torch.rand(cfg.n_ue, generator=self._gen)
        # Sionna's generators read the global seed: set it so the drop depends on cfg only.
        with SIONNA_SEED_LOCK:  # held until the draws that read the seed are done
            sionna.phy.config.seed = cfg.seed
            if cfg.scenario.startswith("cdl"):
                field, state = cdl_fields(cfg, self._heading)
            else:
                field, state = tdl_fields(cfg, cfg.n_ue, self._gen)
        self._snr_lin = 10.0 ** (snr_db / 10.0)
        self._field: RayField = field.scaled(torch.sqrt(self._snr_lin / field.mean_power()))
        self._steering = self._field.steering(self.subband_freqs_hz)
        self._los = state.los
        self._travelled_m = torch.zeros(cfg.n_ue, dtype=torch.float64)

    def _move(self, dt_s: float) -> None:
        self._travelled_m += self.speed_mps.double() * dt_s

    def _true_channel(self) -> TrueChannel:
        h = self._field.response(self._travelled_m, self._steering)
        return TrueChannel(h=h, snr_lin=self._snr_lin,
                           pathloss_db=torch.zeros(self.cfg.n_ue),
                           position_m=self._heading * self._travelled_m[:, None].float(),
                           los=self._los)
