"""Anchor draws in the worker process give exactly the channels of draws in a thread."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from unittest import mock

import torch

from e2sim.channel import ChannelConfig, SystemLevelDrop, system_level
from e2sim.channel.anchor_draws import AnchorJob, draw_anchors
from e2sim.channel.sionna_rays import system_level_model

SMALL = ChannelConfig(scenario="umi", n_ue=6, n_prb=24, anchors_per_segment=3,
                      ues_per_sionna_call=4, seed=31)


def _run(cfg: ChannelConfig, steps: int) -> tuple[torch.Tensor, SystemLevelDrop]:
    drop = SystemLevelDrop(cfg)
    hs = []
    for _ in range(steps):  # 0.1 s reports at up to 120 km/h: several draws per UE
        drop.advance(0.1)
        hs.append(drop.snapshot().h_ue_est)
    return torch.stack(hs), drop


def test_worker_process_draws_the_same_channels_as_the_thread() -> None:
    in_thread, thread_drop = _run(replace(SMALL, anchor_draws="thread"), 40)
    in_worker, worker_drop = _run(replace(SMALL, anchor_draws="process"), 40)
    assert worker_drop.segments_drawn == thread_drop.segments_drawn >= 4
    assert torch.equal(in_thread, in_worker)
    # The worker reports what the draws cost it (the bench adds it to the CPU time).
    assert worker_drop.draw_cpu_seconds > 0.0


def test_a_dead_worker_is_replaced_by_a_draw_in_place() -> None:
    reference, _ = _run(replace(SMALL, anchor_draws="thread"), 12)

    class DeadPool:
        def submit(self, *args: object) -> Future[object]:
            future: Future[object] = Future()
            future.set_exception(BrokenProcessPool("the worker died"))
            return future

    with mock.patch.object(system_level, "worker_pool", DeadPool), \
            mock.patch.object(system_level, "reset_worker_pool") as reset:
        again, _ = _run(replace(SMALL, anchor_draws="process"), 12)
    assert torch.equal(reference, again)
    assert reset.called


def test_a_draw_depends_on_its_inputs_only() -> None:
    cfg = SMALL
    model = system_level_model(cfg)
    job = AnchorJob(positions=torch.tensor([[30.0, 5.0, 1.5]] * 3),
                    headings=torch.tensor([[1.0, 0.0, 0.0]] * 3),
                    indoor=torch.zeros(3, dtype=torch.bool), seed=5,
                    bs_loc=torch.tensor([0.0, 0.0, 10.0]), bs_orient=torch.zeros(3))
    first = draw_anchors(model, cfg, job)
    torch.manual_seed(0)
    torch.randn(100)  # the global generator moves: the draw must not
    second = draw_anchors(system_level_model(cfg), cfg, job)
    assert torch.equal(first.field.coef, second.field.coef)
    assert torch.equal(first.snr, second.snr)
