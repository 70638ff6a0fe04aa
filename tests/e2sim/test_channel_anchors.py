"""Ray anchors: drawn ahead in a background thread, each Sionna call from its own generator,
and evolved between draws without redrawing."""

from __future__ import annotations

from dataclasses import replace

import sionna.phy
import torch

from e2sim.channel import ChannelConfig, ChannelSnapshot, SystemLevelDrop, make_drop

# Fast UEs and short segments: several Sionna calls within a second of simulated time.
FAST = ChannelConfig(scenario="umi", n_ue=6, n_prb=24, speed_kmh=(90.0, 120.0),
                     anchors_per_segment=3, ues_per_sionna_call=4, seed=21)


def _after(cfg: ChannelConfig, steps: int, between: object = None) -> tuple[ChannelSnapshot,
                                                                          SystemLevelDrop]:
    drop = make_drop(cfg)
    assert isinstance(drop, SystemLevelDrop)
    for i in range(steps):
        drop.advance(cfg.report_period_s)
        if callable(between):
            between(i)
    return drop.snapshot(), drop


def test_anchors_drawn_in_the_background_equal_anchors_drawn_inline() -> None:
    ahead, drop = _after(FAST, 100)
    inline, _ = _after(replace(FAST, prefetch_anchors=False), 100)
    assert drop.segments_drawn >= 4  # the comparison covers several calls
    assert torch.equal(ahead.h_true, inline.h_true)
    assert torch.equal(ahead.h_ue_est, inline.h_ue_est)


def test_draws_ignore_the_process_wide_sionna_seed_and_torch_generator() -> None:
    def reseed_everything(i: int) -> None:
        sionna.phy.config.seed = 1000 + i
        torch.manual_seed(2000 + i)

    quiet, _ = _after(FAST, 100)
    noisy, _ = _after(FAST, 100, reseed_everything)
    assert torch.equal(quiet.h_true, noisy.h_true)


def test_another_seed_draws_other_anchors() -> None:
    a, _ = _after(FAST, 60)
    b, _ = _after(replace(FAST, seed=22), 60)
    assert not torch.allclose(a.h_true, b.h_true)


def test_without_lookahead_anchors_are_still_drawn_when_a_ue_runs_out() -> None:
    snap, drop = _after(replace(FAST, anchor_lookahead_s=0.0), 100)
    assert drop.segments_drawn >= 4
    assert bool(torch.isfinite(snap.h_true.abs()).all())


def test_rays_evolved_report_by_report_equal_the_response_computed_afresh() -> None:
    # Between anchors nothing is redrawn: the channel is the anchors' rays rotated to the
    # distance travelled, so 60 reports 1 ms apart end where one 60 ms move does (< 2.5 m
    # at 120 km/h: no anchor is passed, whatever is drawn ahead meanwhile).
    cfg = replace(FAST, report_period_s=0.001)
    stepped, _ = _after(cfg, 60)
    drop = make_drop(cfg)
    drop.advance(60 * cfg.report_period_s)
    jumped = drop.snapshot()
    scale = float(stepped.h_true.abs().amax())
    assert torch.allclose(stepped.h_true, jumped.h_true, atol=1e-5 * scale)
    first = make_drop(cfg).snapshot()
    assert not torch.allclose(first.h_true, jumped.h_true, atol=1e-2 * scale)  # it moved
