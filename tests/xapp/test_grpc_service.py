"""The LinkAdaptation gRPC service of the xApp on a real grpc.aio server over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from schemas import linkfm_service_pb2 as spb
from schemas import linkfm_service_pb2_grpc as sgrpc
from xapp.e2.csi import nr_cgi_to_proto
from xapp.e2.csi_types import NrCgi
from xapp.e2.recommendation import Recommendation, example_batch, recommendation_from_proto
from xapp.grpc_service import RecommendationLog, StreamSelection, start_grpc_server

BASE = example_batch(n_ues=1, e2_node="gnb_a").recommendations[0]
OTHER_CELL = NrCgi(b"\x00\xf1\x10", 99)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rec(**changes: object) -> Recommendation:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def served() -> AsyncIterator[tuple[RecommendationLog, sgrpc.LinkAdaptationStub, Clock]]:
    clock = Clock()
    log = RecommendationLog(horizon_ms=10, clock=clock)
    server, port = await start_grpc_server(log, "127.0.0.1", 0)
    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield log, sgrpc.LinkAdaptationStub(channel), clock
    await server.stop(grace=None)


Served = tuple[RecommendationLog, sgrpc.LinkAdaptationStub, Clock]


async def status_of(call: object) -> grpc.StatusCode:
    with pytest.raises(aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    return info.value.code()


async def test_get_latest_answers_the_most_recent_recommendation_of_the_ue(served: Served) -> None:
    log, stub, _ = served
    log.record([rec(ue_id=1), rec(ue_id=2)])
    log.record([rec(ue_id=1, apply_from_slot=999)])
    answer = await stub.GetLatest(spb.UeQuery(e2_node="gnb_a", ue_id=1))
    assert recommendation_from_proto(answer) == rec(ue_id=1, apply_from_slot=999)


async def test_get_latest_is_not_found_once_the_validity_has_ended(served: Served) -> None:
    log, stub, clock = served
    log.record([rec(ue_id=1, validity_ms=20)])
    clock.now += 0.029  # horizon 10 ms + validity 20 ms: still valid
    assert await stub.GetLatest(spb.UeQuery(e2_node="gnb_a", ue_id=1))
    clock.now += 0.002
    code = await status_of(stub.GetLatest(spb.UeQuery(e2_node="gnb_a", ue_id=1)))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_get_latest_of_an_unknown_ue_is_not_found(served: Served) -> None:
    _, stub, _ = served
    code = await status_of(stub.GetLatest(spb.UeQuery(e2_node="gnb_a", ue_id=5)))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_get_latest_without_an_e2_node_is_an_invalid_argument(served: Served) -> None:
    _, stub, _ = served
    assert await status_of(stub.GetLatest(spb.UeQuery(ue_id=5))) \
        == grpc.StatusCode.INVALID_ARGUMENT


async def read(call: aio.UnaryStreamCall, n: int) -> list[Recommendation]:  # type: ignore[type-arg]
    out = []
    async for message in call:
        out.append(recommendation_from_proto(message))
        if len(out) == n:
            break
    call.cancel()
    return out


async def wait_streams(log: RecommendationLog, n: int) -> None:
    while log.streams < n:
        await asyncio.sleep(0.01)


async def test_a_stream_delivers_new_recommendations_that_match_its_filter(served: Served) -> None:
    log, stub, _ = served
    call = stub.StreamRecommendations(spb.StreamFilter(e2_node="gnb_a", ue_ids=[1, 2]))
    reader = asyncio.create_task(read(call, 2))
    await asyncio.wait_for(wait_streams(log, 1), 5)
    log.record([rec(ue_id=1), rec(ue_id=3), rec(ue_id=2, e2_node="gnb_b"), rec(ue_id=2)])
    got = await asyncio.wait_for(reader, 5)
    assert [(r.e2_node, r.ue_id) for r in got] == [("gnb_a", 1), ("gnb_a", 2)]


async def test_a_stream_filters_by_cell(served: Served) -> None:
    log, stub, _ = served
    call = stub.StreamRecommendations(spb.StreamFilter(cell=nr_cgi_to_proto(OTHER_CELL)))
    reader = asyncio.create_task(read(call, 1))
    await asyncio.wait_for(wait_streams(log, 1), 5)
    log.record([rec(ue_id=1), rec(ue_id=2, cell=OTHER_CELL)])
    assert [r.ue_id for r in await asyncio.wait_for(reader, 5)] == [2]


async def test_a_stream_does_not_replay_what_was_decided_before_it_opened(served: Served) -> None:
    log, stub, _ = served
    log.record([rec(ue_id=1)])
    call = stub.StreamRecommendations(spb.StreamFilter())
    reader = asyncio.create_task(read(call, 1))
    await asyncio.wait_for(wait_streams(log, 1), 5)
    log.record([rec(ue_id=2)])
    assert [r.ue_id for r in await asyncio.wait_for(reader, 5)] == [2]


async def test_a_cancelled_stream_is_forgotten(served: Served) -> None:
    log, stub, _ = served
    call = stub.StreamRecommendations(spb.StreamFilter())
    reader = asyncio.create_task(read(call, 1))
    await asyncio.wait_for(wait_streams(log, 1), 5)
    log.record([rec(ue_id=2)])
    await asyncio.wait_for(reader, 5)
    for _ in range(200):
        if log.streams == 0:
            break
        await asyncio.sleep(0.01)
    assert log.streams == 0


async def test_a_slow_stream_loses_its_oldest_recommendations_not_the_decision_loop() -> None:
    log = RecommendationLog()
    follower = log.follow(StreamSelection())
    first = asyncio.create_task(anext(follower))
    await wait_streams(log, 1)
    log.record(rec(ue_id=i) for i in range(1030))  # more than a stream queue holds
    received = [(await first).ue_id]
    while received[-1] != 1029:
        received.append((await anext(follower)).ue_id)
    await follower.aclose()
    assert log.dropped > 0 and len(received) + log.dropped == 1030
    assert received == sorted(received)
