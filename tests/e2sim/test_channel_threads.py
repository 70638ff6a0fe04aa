"""Drops stepped in parallel threads draw exactly what they draw when stepped alone."""

from __future__ import annotations

import threading

import pytest
import torch

from e2sim.channel import ChannelConfig, ChannelSnapshot, make_drop

SMALL = dict(n_ue=4, n_tx=4, n_rx=2, n_prb=24)


def _h_after(cfg: ChannelConfig, seconds: float) -> ChannelSnapshot:
    drop = make_drop(cfg)
    t = 0.0
    while t < seconds:  # many small steps, so the threads' Sionna draws interleave
        drop.advance(0.05)
        t += 0.05
    return drop.snapshot()


@pytest.mark.parametrize("scenario", ["umi", "cdl-a"])
def test_two_drops_in_two_threads_match_the_same_drops_stepped_alone(scenario: str) -> None:
    cfgs = [ChannelConfig(scenario=scenario, seed=s, **SMALL) for s in (11, 12)]  # type: ignore[arg-type]
    alone = [_h_after(c, 3.0) for c in cfgs]
    together: list[ChannelSnapshot | None] = [None, None]

    def work(i: int) -> None:
        together[i] = _h_after(cfgs[i], 3.0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a, b in zip(alone, together, strict=True):
        assert b is not None
        assert torch.equal(a.h_true, b.h_true)
        assert torch.equal(a.h_ue_est, b.h_ue_est)
