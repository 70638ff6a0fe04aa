"""The LinkAdaptation gRPC contract (schemas/linkfm_service.proto) and its generated stubs.

A real grpc.aio server on 127.0.0.1 with a tiny in-test servicer answers through the
generated client stub: this checks the contract and the generated code, not the xApp.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest
from grpc import aio

from schemas import linkfm_service_pb2 as spb
from schemas import linkfm_service_pb2_grpc as sgrpc
from schemas import recommendation_pb2 as rpb
from tests.conftest import free_port
from xapp.e2 import recommendation as rec
from xapp.e2.csi import NrCgi, Pmi, nr_cgi_from_proto, nr_cgi_to_proto
from xapp.e2.recommendation import Confidence, Reason, Recommendation

CELL_A = NrCgi(b"\x00\xf1\x10", 1)
CELL_B = NrCgi(b"\x00\xf1\x10", 2)
BASE = Recommendation(
    e2_node="gnb_a", cell=CELL_A, ue_id=1, apply_from_slot=100, validity_ms=20, rank=1,
    pmi=Pmi(2, 0, 3), confidence=Confidence(0.75, 0.5, 0.25), model_version="linkfm-test",
    reason=Reason.MODEL, beam_index=4)
KNOWN = (BASE, dataclasses.replace(BASE, ue_id=2, cell=CELL_B),
         dataclasses.replace(BASE, e2_node="gnb_b", ue_id=3))


class InTestServicer(sgrpc.LinkAdaptationServicer):
    """Serves the fixed KNOWN recommendations with the documented status codes."""

    async def GetLatest(self, request: spb.UeQuery,
                        context: aio.ServicerContext) -> rpb.Recommendation:
        if not request.e2_node:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "e2_node is required")
        for value in KNOWN:
            if (value.e2_node, value.ue_id) == (request.e2_node, request.ue_id):
                return rec.recommendation_to_proto(value)
        await context.abort(grpc.StatusCode.NOT_FOUND, "no recommendation for this UE")
        raise AssertionError("abort returned")

    async def StreamRecommendations(self, request: spb.StreamFilter,
                                    context: aio.ServicerContext,
                                    ) -> AsyncIterator[rpb.Recommendation]:
        cell = nr_cgi_from_proto(request.cell) if request.HasField("cell") else None
        for value in KNOWN:
            if ((not request.e2_node or value.e2_node == request.e2_node)
                    and (cell is None or value.cell == cell)
                    and (not request.ue_ids or value.ue_id in request.ue_ids)):
                yield rec.recommendation_to_proto(value)


def _with_stub(body: Callable[[sgrpc.LinkAdaptationStub], Awaitable[None]]) -> None:
    async def run() -> None:
        server = aio.server()
        sgrpc.add_LinkAdaptationServicer_to_server(InTestServicer(), server)
        port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
        assert port > 0, "the server did not bind"
        await server.start()
        try:
            async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                await body(sgrpc.LinkAdaptationStub(channel))
        finally:
            await server.stop(grace=None)

    asyncio.run(run())


def _streamed(request: spb.StreamFilter) -> list[Recommendation]:
    received: list[Recommendation] = []

    async def body(stub: sgrpc.LinkAdaptationStub) -> None:
        async for message in stub.StreamRecommendations(request):
            received.append(rec.recommendation_from_proto(message))

    _with_stub(body)
    return received


# --- the descriptor ------------------------------------------------------------------------

def test_service_declares_exactly_the_two_methods() -> None:
    service = spb.DESCRIPTOR.services_by_name["LinkAdaptation"]
    assert service.full_name == "linkfm.service.v1.LinkAdaptation"
    assert sorted(m.name for m in service.methods) == ["GetLatest", "StreamRecommendations"]


def test_get_latest_is_unary_from_ue_query_to_recommendation() -> None:
    method = spb.DESCRIPTOR.services_by_name["LinkAdaptation"].methods_by_name["GetLatest"]
    assert (method.client_streaming, method.server_streaming) == (False, False)
    assert method.input_type.full_name == "linkfm.service.v1.UeQuery"
    assert method.output_type.full_name == "linkfm.recommendation.v1.Recommendation"


def test_stream_recommendations_streams_recommendations_for_a_filter() -> None:
    method = (spb.DESCRIPTOR.services_by_name["LinkAdaptation"]
              .methods_by_name["StreamRecommendations"])
    assert (method.client_streaming, method.server_streaming) == (False, True)
    assert method.input_type.full_name == "linkfm.service.v1.StreamFilter"
    assert method.output_type.full_name == "linkfm.recommendation.v1.Recommendation"


def test_stream_filter_selects_by_e2_node_cell_and_ue() -> None:
    fields = spb.StreamFilter.DESCRIPTOR.fields_by_name
    assert fields["e2_node"].type == fields["e2_node"].TYPE_STRING
    assert fields["cell"].message_type.full_name == "linkfm.e2sm_csi.v1.NrCgi"
    assert fields["ue_ids"].is_repeated


# --- the generated stubs over a real server -------------------------------------------------

def test_get_latest_returns_the_recommendation_of_a_known_ue() -> None:
    answers: list[Recommendation] = []

    async def body(stub: sgrpc.LinkAdaptationStub) -> None:
        answer = await stub.GetLatest(spb.UeQuery(e2_node="gnb_a", ue_id=2))
        answers.append(rec.recommendation_from_proto(answer))

    _with_stub(body)
    assert answers == [KNOWN[1]]


@pytest.mark.parametrize(("query", "code"), [
    (spb.UeQuery(e2_node="gnb_a", ue_id=99), grpc.StatusCode.NOT_FOUND),
    (spb.UeQuery(e2_node="gnb_b", ue_id=1), grpc.StatusCode.NOT_FOUND),
    (spb.UeQuery(ue_id=1), grpc.StatusCode.INVALID_ARGUMENT),
])
def test_get_latest_reports_the_documented_status_codes(query: spb.UeQuery,
                                                        code: grpc.StatusCode) -> None:
    codes: list[grpc.StatusCode] = []

    async def body(stub: sgrpc.LinkAdaptationStub) -> None:
        try:
            await stub.GetLatest(query)
        except aio.AioRpcError as exc:
            codes.append(exc.code())

    _with_stub(body)
    assert codes == [code]


def test_an_empty_filter_streams_every_recommendation() -> None:
    assert _streamed(spb.StreamFilter()) == list(KNOWN)


def test_a_filter_on_the_e2_node_streams_only_that_node() -> None:
    assert _streamed(spb.StreamFilter(e2_node="gnb_b")) == [KNOWN[2]]


def test_a_filter_on_the_cell_streams_only_that_cell() -> None:
    assert _streamed(spb.StreamFilter(cell=nr_cgi_to_proto(CELL_B))) == [KNOWN[1]]


def test_a_filter_on_ue_ids_streams_only_those_ues() -> None:
    assert _streamed(spb.StreamFilter(ue_ids=[1, 3])) == [KNOWN[0], KNOWN[2]]
