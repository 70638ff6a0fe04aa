"""The LinkAdaptation gRPC service (schemas/linkfm_service.proto) on grpc.aio.

:class:`RecommendationLog` is the state behind it: the latest recommendation per UE with
the monotonic time it stops being valid, and the queues of live streams. The decision
loop calls :meth:`RecommendationLog.record` once per cycle; it never blocks: a stream
whose client reads too slowly loses its oldest queued recommendations (counted in
``dropped``), it does not slow decisions down.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc import aio

from schemas import linkfm_service_pb2 as spb
from schemas import recommendation_pb2 as rpb
from xapp.e2.csi import nr_cgi_from_proto
from xapp.e2.csi_types import NrCgi
from xapp.e2.recommendation import Recommendation, recommendation_to_proto

# The generated registration helper is untyped: load it as a plain module (Any) so strict
# mypy does not descend into protoc's output.
_grpc_stubs: Any = importlib.import_module("schemas.linkfm_service_pb2_grpc")

STREAM_QUEUE = 1024


@dataclass(frozen=True)
class StreamSelection:
    """A stream's filter: empty fields match everything."""

    e2_node: str = ""
    cell: NrCgi | None = None
    ue_ids: frozenset[int] = frozenset()

    def matches(self, rec: Recommendation) -> bool:
        return ((not self.e2_node or rec.e2_node == self.e2_node)
                and (self.cell is None or rec.cell == self.cell)
                and (not self.ue_ids or rec.ue_id in self.ue_ids))


@dataclass(eq=False)  # identity: each open stream is its own set member
class _Stream:
    selection: StreamSelection
    queue: asyncio.Queue[Recommendation] = field(
        default_factory=lambda: asyncio.Queue(STREAM_QUEUE))


class RecommendationLog:
    """Latest recommendation per (E2 node, UE) and fan-out to streams.

    A recommendation is valid until ``validity_ms`` after the slot it applies from; the
    log approximates that as ``record time + horizon_ms + validity_ms`` on its clock.
    """

    def __init__(self, horizon_ms: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.horizon_ms = horizon_ms
        self._clock = clock
        self._latest: dict[tuple[str, int], tuple[Recommendation, float]] = {}
        self._streams: set[_Stream] = set()
        self.dropped = 0

    def record(self, recommendations: Iterable[Recommendation]) -> None:
        now = self._clock()
        for rec in recommendations:
            expires = now + (self.horizon_ms + rec.validity_ms) / 1000.0
            self._latest[(rec.e2_node, rec.ue_id)] = (rec, expires)
            for stream in self._streams:
                if not stream.selection.matches(rec):
                    continue
                if stream.queue.full():
                    stream.queue.get_nowait()
                    self.dropped += 1
                stream.queue.put_nowait(rec)

    def latest(self, e2_node: str, ue_id: int) -> Recommendation | None:
        """The UE's latest recommendation while it is valid, else None."""
        entry = self._latest.get((e2_node, ue_id))
        if entry is None or entry[1] < self._clock():
            return None
        return entry[0]

    def forget(self, e2_node: str, ue_id: int) -> None:
        self._latest.pop((e2_node, ue_id), None)

    @property
    def streams(self) -> int:
        return len(self._streams)

    async def follow(self, selection: StreamSelection) -> AsyncIterator[Recommendation]:
        """Recommendations matching ``selection`` from now on, until the caller stops."""
        stream = _Stream(selection)
        self._streams.add(stream)
        try:
            while True:
                yield await stream.queue.get()
        finally:
            self._streams.discard(stream)


class LinkAdaptationService:
    """GetLatest and StreamRecommendations over a :class:`RecommendationLog` (the methods
    of the generated ``LinkAdaptationServicer``)."""

    def __init__(self, log: RecommendationLog) -> None:
        self._log = log

    async def GetLatest(self, request: spb.UeQuery,
                        context: aio.ServicerContext[spb.UeQuery, rpb.Recommendation],
                        ) -> rpb.Recommendation:
        if not request.e2_node:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "e2_node is required")
        rec = self._log.latest(request.e2_node, request.ue_id)
        if rec is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no valid recommendation for UE {request.ue_id} of "
                                f"{request.e2_node}")
            raise AssertionError("abort returned")  # pragma: no cover (abort raises)
        return recommendation_to_proto(rec)

    async def StreamRecommendations(
            self, request: spb.StreamFilter,
            context: aio.ServicerContext[spb.StreamFilter, rpb.Recommendation],
    ) -> AsyncIterator[rpb.Recommendation]:
        selection = StreamSelection(
            e2_node=request.e2_node,
            cell=nr_cgi_from_proto(request.cell) if request.HasField("cell") else None,
            ue_ids=frozenset(request.ue_ids))
        async for rec in self._log.follow(selection):
            yield recommendation_to_proto(rec)


async def start_grpc_server(log: RecommendationLog, host: str = "0.0.0.0",
                            port: int = 0) -> tuple[aio.Server, int]:
    """Start the service on ``host:port`` (0 = any free port); returns (server, bound port).

    Raises:
        OSError: the port could not be bound.
    """
    server = aio.server()
    _grpc_stubs.add_LinkAdaptationServicer_to_server(LinkAdaptationService(log), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound <= 0:
        raise OSError(f"gRPC could not bind {host}:{port}")
    await server.start()
    return server, bound
