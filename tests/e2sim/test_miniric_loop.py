"""An xApp-side client against the mini-RIC and a simulated E2 node, all over loopback.

Real parts end to end: the submgr REST API over HTTP, E2AP (pycrate) and E2SM-CSI
(protobuf) codecs, and the pure-Python SI95 RMR transport between three endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from e2sim.miniric.ric import MiniRic
from e2sim.miniric.submgr import NotifyPolicy
from e2sim.node.agent import E2NodeAgent
from e2sim.node.service_models import CsiServiceModel
from xapp.e2 import csi, e2ap
from xapp.e2.csi_types import RAN_FUNCTION_ID, CsiActionDefinition, CsiEventTrigger
from xapp.e2.e2ap_messages import GlobalGnbId, RicIndication
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.subscription.api import (
    NOTIFICATION_PATH,
    ActionToBeSetup,
    ClientEndpoint,
    SubscriptionDetail,
    SubscriptionParams,
    SubscriptionResponse,
    parse,
)
from xapp.subscription.book import SubscriptionBook
from xapp.subscription.client import SubmgrClient

MEID = "gnb_001_001_00000001"


def transport() -> Si95Transport:
    return Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                     ctl_port=None, async_conn=False))


@dataclass
class Loop:
    ric: MiniRic
    node: E2NodeAgent
    node_rmr: Si95Transport
    xapp_rmr: Si95Transport
    client: SubmgrClient
    book: SubscriptionBook
    notifications: asyncio.Queue[SubscriptionResponse]
    xapp_http_port: int


@pytest.fixture
async def loop() -> AsyncIterator[Loop]:
    ric = MiniRic(notify=NotifyPolicy(attempts=3, interval_s=0.05))
    await ric.start()
    node_rmr = transport()
    await node_rmr.start()
    node = E2NodeAgent(node_rmr, MEID, GlobalGnbId(plmn=bytes.fromhex("00f110"), gnb_id=1),
                       {RAN_FUNCTION_ID: CsiServiceModel(csi.example_ran_function())})
    xapp_rmr = transport()
    await xapp_rmr.start()
    node_rmr.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.E2_SETUP_REQ}|-1|{ric.rmr_endpoint}\n"
        f"mse|{MessageType.RIC_INDICATION}|-1|{ric.rmr_endpoint}\n"
        "newrt|end\n")
    xapp_rmr.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|127.0.0.1:{node_rmr.port}\n"
        "newrt|end\n")

    book = SubscriptionBook()
    notifications: asyncio.Queue[SubscriptionResponse] = asyncio.Queue()

    async def on_notification(request: web.Request) -> web.Response:
        notification = parse(SubscriptionResponse, await request.json())
        book.notified(notification)
        await notifications.put(notification)
        return web.Response()

    app = web.Application()
    app.router.add_post(NOTIFICATION_PATH, on_notification)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    http_port = int(runner.addresses[0][1])
    async with aiohttp.ClientSession() as session:
        yield Loop(ric, node, node_rmr, xapp_rmr, SubmgrClient(ric.submgr_url, session), book,
                   notifications, http_port)
    await runner.cleanup()
    await node.stop()
    await ric.stop()
    await node_rmr.close()
    await xapp_rmr.close()


def csi_subscription(loop: Loop, period_ms: int = 10) -> SubscriptionParams:
    return SubscriptionParams(
        client_endpoint=ClientEndpoint(host="127.0.0.1", http_port=loop.xapp_http_port,
                                       rmr_port=loop.xapp_rmr.port),
        meid=MEID, ran_function_id=RAN_FUNCTION_ID,
        subscription_details=[SubscriptionDetail(
            xapp_event_instance_id=1,
            event_triggers=list(csi.encode_event_trigger(CsiEventTrigger(period_ms))),
            action_to_be_setup_list=[ActionToBeSetup(
                action_id=1, action_type="report",
                action_definition=list(csi.encode_action_definition(
                    CsiActionDefinition(report_channel_estimate=True))))])])


async def subscribed(loop: Loop, period_ms: int = 10) -> int:
    await loop.node.setup()
    loop.node.start()
    params = csi_subscription(loop, period_ms)
    response = await loop.client.subscribe(params)
    entry = loop.book.accepted(response, params.meid, params.ran_function_id)
    await asyncio.wait_for(entry.confirmed.wait(), 5)
    assert entry.errors == []
    return entry.sub_ids[0]


async def test_csi_indication_reaches_the_subscriber_with_its_e2_instance_id(loop: Loop) -> None:
    sub_id = await subscribed(loop, period_ms=20)
    [(sub, plan)] = loop.node.due(now_ms=0.0)
    assert plan.period_ms == 20 and plan.definition.report_channel_estimate
    sent = csi.example_indication(n_ues=3)
    header, message = csi.encode_indication(sent)
    assert await loop.node.indicate(sub, plan.action_id, header, message)

    msg = await asyncio.wait_for(loop.xapp_rmr.receive(), 5)
    assert (msg.mtype, msg.sub_id, msg.meid) == (MessageType.RIC_INDICATION, sub_id, MEID)
    indication = e2ap.decode(msg.payload)
    assert isinstance(indication, RicIndication)
    assert csi.decode_indication(indication.header, indication.message) == sent


async def test_reports_fall_due_once_per_period(loop: Loop) -> None:
    await subscribed(loop, period_ms=10)
    assert len(loop.node.due(0.0)) == 1
    assert loop.node.due(5.0) == []
    assert len(loop.node.due(10.0)) == 1


async def test_recommendation_reaches_the_node_and_is_acknowledged(loop: Loop) -> None:
    received: list[bytes] = []

    async def on_recommendation(msg: RmrMessage) -> bytes:
        received.append(msg.payload)
        return b"ack:" + msg.payload

    loop.node.on_recommendation = on_recommendation
    await subscribed(loop)
    reply = await loop.xapp_rmr.call(RmrMessage(
        mtype=MessageType.LINKFM_RECOMMENDATION, payload=b"batch-1", meid=MEID), timeout=5)
    assert received == [b"batch-1"]
    assert (reply.mtype, reply.payload) == (MessageType.LINKFM_RECOMMENDATION_ACK, b"ack:batch-1")


async def test_delete_removes_the_subscription_on_the_node(loop: Loop) -> None:
    await subscribed(loop)
    [entry] = list(loop.book)
    await loop.client.unsubscribe(entry.subscription_id)
    assert loop.node.subscriptions == {}
    assert await loop.client.list() == []


async def test_node_restart_drops_its_subscriptions_at_the_submgr(loop: Loop) -> None:
    await subscribed(loop)
    assert len(await loop.client.list()) == 1
    await loop.node.setup()  # the node came back with a new E2 setup
    assert await loop.client.list() == []
    assert loop.node.subscriptions == {}


async def test_subscription_to_an_unoffered_ran_function_reports_an_error(loop: Loop) -> None:
    await loop.node.setup()
    loop.node.start()
    params = csi_subscription(loop).model_copy(update={"ran_function_id": 2})
    response = await loop.client.subscribe(params)
    entry = loop.book.accepted(response, params.meid, 2)
    await asyncio.wait_for(entry.confirmed.wait(), 5)
    assert entry.sub_ids == [] and "not offered" in entry.errors[0]
