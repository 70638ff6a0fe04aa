"""Channels of the E2 node simulator, built on Sionna 2.x (PyTorch).

`make_drop(ChannelConfig(...))` gives a `ChannelDrop` whose `snapshot()` returns per-subband,
noise-whitened channels of every UE (`ChannelSnapshot`) and whose `advance(dt_s)` /
`reports()` move time on. UMi/UMa drops have spatially consistent UE tracks; CDL/TDL
drops are link-level with a random SNR per UE.
"""

from __future__ import annotations

from e2sim.channel.config import LINK_LEVEL, SCENARIOS, SYSTEM_LEVEL, ChannelConfig
from e2sim.channel.drop import ChannelDrop, ChannelSnapshot
from e2sim.channel.link_level import LinkLevelDrop
from e2sim.channel.system_level import SystemLevelDrop

__all__ = ["LINK_LEVEL", "SCENARIOS", "SYSTEM_LEVEL", "ChannelConfig", "ChannelDrop",
           "ChannelSnapshot", "LinkLevelDrop", "SystemLevelDrop", "make_drop"]


def make_drop(cfg: ChannelConfig) -> ChannelDrop:
    """A new drop for ``cfg``: system level for umi/uma, link level for cdl-*/tdl-*."""
    return SystemLevelDrop(cfg) if cfg.is_system_level else LinkLevelDrop(cfg)
