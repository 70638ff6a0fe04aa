"""What every drop of UE channels offers: snapshots per report instant and a clock.

A snapshot holds noise-whitened channels (noise variance 1 per UE antenna, so |H|^2 is an
SNR) per subband, sampled at each subband's centre frequency (never full OFDM grids),
gNB ports in 3GPP order.
"""

from __future__ import annotations

import abc
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from sionna.phy.channel import subcarrier_frequencies

from e2sim.channel.config import ChannelConfig

# The simulator shares a 2-core machine with the xApp and others: torch gets at most 2
# threads, and 1 by default because a busy machine makes 2 spinning threads 5-15x slower
# (measured). LINKFM_TORCH_THREADS=2 opts in on an idle machine.
MAX_TORCH_THREADS = 2


def _torch_threads() -> int:
    wanted = int(os.environ.get("LINKFM_TORCH_THREADS", "1"))
    return max(1, min(MAX_TORCH_THREADS, wanted))


@dataclass(frozen=True)
class ChannelSnapshot:
    """All UEs of a cell at one instant.

    h_true, h_ue_est, h_gnb_est: [n_ue, n_sb, n_rx, n_tx] complex64 (noise-whitened);
    h_ue_est is the UE's CSI-RS estimate, h_gnb_est the gNB's SRS estimate.
    snr_db: [n_ue] mean |H|^2 per antenna pair in dB (local mean, fading averaged out).
    pathloss_db: [n_ue] pathloss plus shadow fading (0 for link-level CDL/TDL).
    position_m: [n_ue, 3]; speed_mps: [n_ue]; los: [n_ue] bool; time_s: simulated time.
    """

    time_s: float
    h_true: torch.Tensor
    h_ue_est: torch.Tensor
    h_gnb_est: torch.Tensor
    snr_db: torch.Tensor
    pathloss_db: torch.Tensor
    position_m: torch.Tensor
    speed_mps: torch.Tensor
    los: torch.Tensor


@dataclass(frozen=True)
class TrueChannel:
    """What a concrete drop computes at the current instant (see `ChannelSnapshot`)."""

    h: torch.Tensor  # [n_ue, n_sb, n_rx * n_tx] complex64
    snr_lin: torch.Tensor
    pathloss_db: torch.Tensor
    position_m: torch.Tensor
    los: torch.Tensor


class ChannelDrop(abc.ABC):
    """UE channels of one cell that evolve in time; deterministic from ``cfg.seed``."""

    def __init__(self, cfg: ChannelConfig) -> None:
        torch.set_num_threads(_torch_threads())
        self.cfg = cfg
        self.time_s = 0.0
        self.subband_freqs_hz = subband_centres_hz(cfg)
        gen = torch.Generator().manual_seed(cfg.seed)
        lo, hi = (s / 3.6 for s in cfg.speed_kmh)
        self.speed_mps = lo + (hi - lo) * torch.rand(cfg.n_ue, generator=gen)
        angle = 2 * math.pi * torch.rand(cfg.n_ue, generator=gen)
        self._heading = torch.stack([angle.cos(), angle.sin(), torch.zeros(cfg.n_ue)], dim=-1)
        self._gen = gen

    @abc.abstractmethod
    def _true_channel(self) -> TrueChannel:
        """The channel at ``self.time_s``."""

    @abc.abstractmethod
    def _move(self, dt_s: float) -> None:
        """Let every UE travel for ``dt_s`` seconds."""

    def advance(self, dt_s: float) -> None:
        """Move simulated time forward by ``dt_s`` seconds (>= 0)."""
        if dt_s < 0:
            raise ValueError(f"dt_s={dt_s} must not be negative")
        self._move(dt_s)
        self.time_s += dt_s

    def snapshot(self) -> ChannelSnapshot:
        """Channels and link state now; the same instant always gives the same tensors."""
        cfg = self.cfg
        true = self._true_channel()
        shape = (cfg.n_ue, cfg.n_subbands, cfg.n_rx, cfg.n_tx)
        h = true.h.reshape(shape)
        noise_gen = torch.Generator().manual_seed(
            (cfg.seed * 1_000_003 + round(self.time_s * 1e6)) % (2**62))
        return ChannelSnapshot(
            time_s=self.time_s, h_true=h,
            h_ue_est=with_estimation_error(h, cfg.ue_est_snr_db, noise_gen),
            h_gnb_est=with_estimation_error(h, cfg.gnb_est_snr_db, noise_gen),
            snr_db=10.0 * torch.log10(true.snr_lin.float()),
            pathloss_db=true.pathloss_db.float(), position_m=true.position_m.float(),
            speed_mps=self.speed_mps.clone(), los=true.los.clone())

    def __iter__(self) -> Iterator[ChannelSnapshot]:
        return self.reports()

    def reports(self, count: int | None = None) -> Iterator[ChannelSnapshot]:
        """Snapshots every ``cfg.report_period_s``, starting now (``count`` None: forever)."""
        done = 0
        while count is None or done < count:
            yield self.snapshot()
            self.advance(self.cfg.report_period_s)
            done += 1


def subband_centres_hz(cfg: ChannelConfig) -> torch.Tensor:
    """Baseband frequency of the centre subcarrier of each subband: [n_sb] float32 [Hz]."""
    freqs: torch.Tensor = subcarrier_frequencies(12 * cfg.n_prb, cfg.scs_hz).float()
    first = torch.arange(cfg.n_subbands) * cfg.subband_prb * 12
    last = torch.clamp(first + cfg.subband_prb * 12, max=12 * cfg.n_prb) - 1
    return 0.5 * (freqs[first] + freqs[last])


def with_estimation_error(h: torch.Tensor, est_snr_db: float,
                          gen: torch.Generator) -> torch.Tensor:
    """h + CN(0, sigma^2) with sigma^2 = mean |h_u|^2 / 10^(est_snr_db/10) per UE u.

    h: [n_ue, ...] complex64; the same shape comes back.
    """
    per_ue = max(1, math.prod(h.shape[1:]))
    power = torch.view_as_real(h).square().flatten(1).sum(dim=1) / per_ue
    sigma = torch.sqrt(power / 10.0 ** (est_snr_db / 10.0) / 2.0)
    err = torch.view_as_complex(torch.randn((*h.shape, 2), generator=gen))
    return h + err * sigma.reshape(-1, *([1] * (h.dim() - 1)))
