"""The publisher over real RMR on loopback: one batch per E2 node per cycle, meid = node,
acknowledgements matched and counted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from tests.xapp.harness import rmr_transport
from xapp.e2 import recommendation as codec
from xapp.e2.recommendation import (
    Recommendation,
    RecommendationAck,
    Rejection,
    RejectReason,
    example_batch,
)
from xapp.ingest.bad_inputs import BadInputs
from xapp.publish import Publisher
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.si95 import Si95Transport

Pair = tuple[Si95Transport, Si95Transport]
BASE = example_batch(n_ues=2, e2_node="gnb_a").recommendations


def for_node(node: str, n: int) -> list[Recommendation]:
    return [dataclasses.replace(BASE[0], e2_node=node, ue_id=i) for i in range(n)]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    xapp, consumer = rmr_transport(), rmr_transport()
    await xapp.start()
    await consumer.start()
    xapp.load_routes("newrt|start\n"
                     f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|127.0.0.1:{consumer.port}\n"
                     "newrt|end\n")
    yield xapp, consumer
    await xapp.close()
    await consumer.close()


async def receive(t: Si95Transport) -> RmrMessage:
    return await asyncio.wait_for(t.receive(), 5)


async def test_one_batch_per_node_goes_out_with_the_node_as_meid(pair: Pair) -> None:
    xapp, consumer = pair
    publisher = Publisher(xapp, BadInputs())
    cycle = for_node("gnb_a", 3) + for_node("gnb_b", 2)
    sent = await publisher.publish(cycle)
    assert [(b.e2_node, len(b.recommendations)) for b in sent] == [("gnb_a", 3), ("gnb_b", 2)]
    got = [await receive(consumer), await receive(consumer)]
    assert sorted(m.meid for m in got) == ["gnb_a", "gnb_b"]
    assert all(m.mtype == MessageType.LINKFM_RECOMMENDATION for m in got)
    decoded = {m.meid: codec.decode_batch(m.payload) for m in got}
    assert [r.ue_id for r in decoded["gnb_a"].recommendations] == [0, 1, 2]


async def test_sequences_count_up_per_node(pair: Pair) -> None:
    xapp, _ = pair
    publisher = Publisher(xapp, BadInputs())
    for _ in range(3):
        await publisher.publish(for_node("gnb_a", 1))
    await publisher.publish(for_node("gnb_b", 1))
    assert sorted(publisher.outstanding) == [("gnb_a", 0), ("gnb_a", 1), ("gnb_a", 2),
                                             ("gnb_b", 0)]


async def test_an_ack_returned_to_sender_is_matched_and_counted(pair: Pair) -> None:
    xapp, consumer = pair
    publisher = Publisher(xapp, BadInputs())
    await publisher.publish(for_node("gnb_a", 3))
    msg = await receive(consumer)
    batch = codec.decode_batch(msg.payload)
    ack = RecommendationAck("gnb_a", batch.sequence, 2,
                            (Rejection(1, RejectReason.EXPIRED, "late"),))
    await consumer.rts(msg, MessageType.LINKFM_RECOMMENDATION_ACK, codec.encode_ack(ack))
    reply = await receive(xapp)
    assert reply.mtype == MessageType.LINKFM_RECOMMENDATION_ACK
    assert publisher.on_ack(reply) == ack
    counters = publisher.counters
    assert (counters.acks, counters.accepted, dict(counters.rejected)) == (1, 2, {"EXPIRED": 1})
    assert publisher.outstanding == {}


async def test_an_ack_for_no_outstanding_batch_is_counted_as_unmatched(pair: Pair) -> None:
    xapp, _ = pair
    publisher = Publisher(xapp, BadInputs())
    ack = RecommendationAck("gnb_a", 41, 1)
    assert publisher.on_ack(RmrMessage(MessageType.LINKFM_RECOMMENDATION_ACK,
                                       codec.encode_ack(ack))) == ack
    assert (publisher.counters.acks, publisher.counters.unmatched_acks) == (0, 1)


async def test_a_malformed_ack_is_counted_as_a_bad_input(pair: Pair) -> None:
    xapp, _ = pair
    bad = BadInputs()
    publisher = Publisher(xapp, bad)
    assert publisher.on_ack(RmrMessage(MessageType.LINKFM_RECOMMENDATION_ACK, b"\xff\x00")) \
        is None
    assert [source for source, _ in bad.counts] == ["recommendation"]


async def test_a_batch_without_a_route_is_counted_as_a_send_failure() -> None:
    lonely = rmr_transport()
    await lonely.start()
    try:
        publisher = Publisher(lonely, BadInputs())
        assert await publisher.publish(for_node("gnb_a", 1)) == []
        assert (publisher.counters.send_failed, publisher.counters.batches_sent) == (1, 0)
        assert publisher.outstanding == {}
    finally:
        await lonely.close()


async def test_the_oldest_unacknowledged_batches_are_forgotten_beyond_the_bound(pair: Pair) -> None:
    xapp, _ = pair
    publisher = Publisher(xapp, BadInputs(), max_outstanding=2)
    for _ in range(5):
        await publisher.publish(for_node("gnb_a", 1))
    assert list(publisher.outstanding) == [("gnb_a", 3), ("gnb_a", 4)]
    assert publisher.counters.unacked == 3
