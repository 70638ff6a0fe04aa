"""The node runner with several cells: routing by meid, per-node batches, simulated time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from e2sim.channel import ChannelConfig
from e2sim.miniric.ric import MiniRic
from e2sim.node.runner import NodeRunner, SimSpec, node_name
from tests.e2sim.test_sim_e2e import SPEC, Loop, running_loop
from xapp.e2 import recommendation as rec_codec
from xapp.e2.csi_types import CsiReport, Pmi
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationAck,
    RecommendationBatch,
    RejectReason,
)
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType

TWO_CELLS = replace(SPEC, cells=2, ues=3, scenario="cdl-c")


@pytest.fixture
async def loop() -> AsyncIterator[Loop]:
    async with running_loop(TWO_CELLS) as env:
        yield env


def batch(loop: Loop, e2_node: str, sequence: int) -> RecommendationBatch:
    node = next(n for n in loop.runner.nodes if n.meid == e2_node)
    return RecommendationBatch(e2_node, sequence, 0, (Recommendation(
        e2_node=e2_node, cell=node.cell.cfg.cell_id, ue_id=0, apply_from_slot=0,
        validity_ms=20, rank=1, pmi=Pmi(0, 0, 0), confidence=Confidence(0.9, 0.9),
        model_version="test", reason=Reason.MODEL),))


async def send(loop: Loop, meid: str, b: RecommendationBatch) -> RecommendationAck:
    reply = await loop.rmr.call(RmrMessage(mtype=MessageType.LINKFM_RECOMMENDATION,
                                           payload=rec_codec.encode_batch(b), meid=meid),
                                timeout=10)
    return rec_codec.decode_ack(reply.payload)


async def test_every_cell_is_an_e2_node_known_to_the_ric(loop: Loop) -> None:
    assert [n.meid for n in loop.runner.nodes] == [node_name(1), node_name(2)]
    assert sorted(loop.ric.e2t.nodes) == [node_name(1), node_name(2)]
    cells = [n.cell.cfg.cell_id for n in loop.runner.nodes]
    assert len(set(cells)) == 2


async def test_the_xapp_route_table_sends_each_batch_to_the_node_it_names(loop: Loop) -> None:
    await loop.runner.tick()
    for sequence, node in enumerate(loop.runner.nodes):
        ack = await send(loop, node.meid, batch(loop, node.meid, sequence))
        assert (ack.e2_node, ack.batch_sequence, ack.accepted_count) == (node.meid, sequence, 1)
    assert [n.counters.batches for n in loop.runner.nodes] == [1, 1]


async def test_a_batch_naming_another_node_is_rejected_whole(loop: Loop) -> None:
    await loop.runner.tick()
    first, second = (n.meid for n in loop.runner.nodes)
    ack = await send(loop, first, batch(loop, second, 0))  # routed to the first node
    assert ack.accepted_count == 0
    assert [r.reason for r in ack.rejected] == [RejectReason.OTHER]
    assert loop.runner.nodes[0].cell.book.counts.received == 0  # the cell never saw it


async def test_cells_advance_together_one_report_period_per_tick(loop: Loop) -> None:
    for expected in (0.0, 10.0, 20.0):
        steps = await loop.runner.tick()
        assert [s.time_ms for s in steps] == [expected, expected]
    assert loop.runner.sim_time_ms == 20.0
    assert all(n.now_ms() == 20.0 for n in loop.runner.nodes)  # as fast as possible


async def test_in_real_time_a_node_places_arrivals_within_the_current_period() -> None:
    ric = MiniRic()
    await ric.start()
    spec = SimSpec(cells=1, ues=2, scenario="cdl-c", period_ms=10)
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=True)
    try:
        await runner.start()
        await runner.run(0.03)
        [node] = runner.nodes
        assert runner.ticks == 3 and node.cell.time_ms == 20.0
        assert 20.0 <= node.now_ms() < 30.0
        assert runner.lag_ms >= 0.0
    finally:
        await runner.stop()
        await ric.stop()


async def reports_of(spec: SimSpec, ticks: int,
                     parallel: bool = False) -> list[list[tuple[CsiReport, ...]]]:
    ric = MiniRic()
    await ric.start()
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=False,
                        parallel=parallel)
    try:
        await runner.start()
        return [[s.reports for s in await runner.tick()] for _ in range(ticks)]
    finally:
        await runner.stop()
        await ric.stop()


async def test_several_cells_with_the_same_seed_give_the_same_reports_run_after_run() -> None:
    # Fast UEs and short segments: every cell redraws its rays several times.
    spec = SimSpec(cells=2, ues=3, scenario="umi", speed_kmh=120.0, seed=4,
                   channel=ChannelConfig(anchors_per_segment=2))
    first = await reports_of(spec, 20)
    assert first == await reports_of(spec, 20)
    assert first[-1][0] != first[-1][1]  # the cells are not copies of each other


async def test_cells_stepped_in_parallel_threads_report_what_they_report_one_at_a_time() -> None:
    spec = SimSpec(cells=2, ues=3, scenario="umi", speed_kmh=120.0, seed=6,
                   channel=ChannelConfig(anchors_per_segment=2))
    assert await reports_of(spec, 20, parallel=True) == await reports_of(spec, 20)
