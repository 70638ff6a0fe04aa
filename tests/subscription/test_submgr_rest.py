"""The Subscription Manager REST contract: the xApp's client against the mini-RIC's server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from e2sim.miniric.submgr import E2Outcome, NotifyPolicy, SubscriptionManager
from tests.conftest import free_port
from xapp.subscription.api import (
    NOTIFICATION_PATH,
    ActionToBeSetup,
    ClientEndpoint,
    E2SubscriptionDirectives,
    SubscriptionDetail,
    SubscriptionParams,
    SubscriptionResponse,
    SubsequentAction,
    parse,
    to_wire,
)
from xapp.subscription.book import SubscriptionBook
from xapp.subscription.client import (
    Backoff,
    SubmgrClient,
    SubmgrRejected,
    SubmgrUnavailable,
    retry,
)


@dataclass
class RecordingE2Node:
    """Stands in for the E2 side of the mini-RIC (an E2 node over RMR is tested elsewhere)."""

    connected: set[str] = field(default_factory=lambda: {"gnb_001_001_00000001"})
    refuse: bool = False
    subscribed: list[tuple[str, int, int, str]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)

    def is_connected(self, meid: str) -> bool:
        return meid in self.connected

    async def subscribe(self, meid: str, ran_function_id: int, instance_id: int,
                        detail: SubscriptionDetail, endpoint: str) -> E2Outcome:
        self.subscribed.append((meid, ran_function_id, instance_id, endpoint))
        cause = "ric-resource-limit" if self.refuse else ""
        return E2Outcome(admitted=not self.refuse, cause=cause)

    async def unsubscribe(self, meid: str, ran_function_id: int, instance_id: int) -> None:
        self.deleted.append(instance_id)


def params(meid: str = "gnb_001_001_00000001", http_port: int = 8080) -> SubscriptionParams:
    return SubscriptionParams(
        client_endpoint=ClientEndpoint(host="127.0.0.1", http_port=http_port, rmr_port=4560),
        meid=meid, ran_function_id=2,
        e2_subscription_directives=E2SubscriptionDirectives(),
        subscription_details=[SubscriptionDetail(
            xapp_event_instance_id=1, event_triggers=[8, 3, 231],
            action_to_be_setup_list=[ActionToBeSetup(
                action_id=1, action_type="report", action_definition=[0, 1, 2],
                subsequent_action=SubsequentAction(subsequent_action_type="continue",
                                                   time_to_wait="w10ms"))])])


@dataclass
class Harness:
    node: RecordingE2Node
    submgr: SubscriptionManager
    client: SubmgrClient
    book: SubscriptionBook
    xapp_port: int
    notifications: asyncio.Queue[SubscriptionResponse]
    xapp_status: list[int]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    node = RecordingE2Node()
    submgr = SubscriptionManager(node, NotifyPolicy(attempts=5, interval_s=0.05))
    submgr_runner = web.AppRunner(submgr.app())
    await submgr_runner.setup()
    submgr_port = free_port()
    await web.TCPSite(submgr_runner, "127.0.0.1", submgr_port).start()

    book = SubscriptionBook()
    notifications: asyncio.Queue[SubscriptionResponse] = asyncio.Queue()
    xapp_status = [200]

    async def on_notification(request: web.Request) -> web.Response:
        if xapp_status[0] != 200:
            xapp_status.pop(0)
            return web.Response(status=500)
        notification = parse(SubscriptionResponse, await request.json())
        book.notified(notification)
        await notifications.put(notification)
        return web.Response(status=200)

    xapp_app = web.Application()
    xapp_app.router.add_post(NOTIFICATION_PATH, on_notification)
    xapp_runner = web.AppRunner(xapp_app)
    await xapp_runner.setup()
    xapp_port = free_port()
    await web.TCPSite(xapp_runner, "127.0.0.1", xapp_port).start()

    async with aiohttp.ClientSession() as session:
        client = SubmgrClient(f"http://127.0.0.1:{submgr_port}", session)
        yield Harness(node, submgr, client, book, xapp_port, notifications, xapp_status)
    await xapp_runner.cleanup()
    await submgr_runner.cleanup()


def test_request_body_uses_the_submgr_camel_case_keys() -> None:
    body = to_wire(params())
    assert set(body) == {"SubscriptionId", "ClientEndpoint", "Meid", "RANFunctionID",
                         "E2SubscriptionDirectives", "SubscriptionDetails"}
    assert body["ClientEndpoint"] == {"Host": "127.0.0.1", "HTTPPort": 8080, "RMRPort": 4560}
    assert body["E2SubscriptionDirectives"] == {
        "E2TimeoutTimerValue": 2, "E2RetryCount": 2, "RMRRoutingNeeded": True}
    action = body["SubscriptionDetails"][0]["ActionToBeSetupList"][0]
    assert action == {"ActionID": 1, "ActionType": "report", "ActionDefinition": [0, 1, 2],
                      "SubsequentAction": {"SubsequentActionType": "continue",
                                           "TimeToWait": "w10ms"}}
    assert body["SubscriptionDetails"][0]["EventTriggers"] == [8, 3, 231]


async def test_subscribe_then_notification_maps_e2_instance_id_to_sub_id(
        harness: Harness) -> None:
    request = params(http_port=harness.xapp_port)
    response = await harness.client.subscribe(request)
    harness.book.accepted(response, request.meid, request.ran_function_id)
    notification = await asyncio.wait_for(harness.notifications.get(), 5)
    assert notification.subscription_id == response.subscription_id
    entry = harness.book.by_sub_id(notification.subscription_instances[0].e2_event_instance_id)
    assert entry is not None and entry.meid == request.meid
    assert harness.node.subscribed[0][3] == "127.0.0.1:4560"
    assert harness.submgr.route_entries() == [(entry.sub_ids[0], "127.0.0.1:4560")]


async def test_node_refusal_is_reported_in_the_notification(harness: Harness) -> None:
    harness.node.refuse = True
    await harness.client.subscribe(params(http_port=harness.xapp_port))
    notification = await asyncio.wait_for(harness.notifications.get(), 5)
    instance = notification.subscription_instances[0]
    assert instance.error_cause == "ric-resource-limit" and instance.error_source == "E2Node"
    assert harness.book.notified(notification).sub_ids == []


async def test_notification_is_retried_until_the_xapp_answers_200(harness: Harness) -> None:
    harness.xapp_status[:] = [500, 500, 200]
    await harness.client.subscribe(params(http_port=harness.xapp_port))
    await asyncio.wait_for(harness.notifications.get(), 5)
    assert harness.submgr.notifications_failed == 0


async def test_unconnected_node_answers_503_as_unavailable(harness: Harness) -> None:
    with pytest.raises(SubmgrUnavailable):
        await harness.client.subscribe(params(meid="gnb_unknown"))


async def test_retry_with_backoff_succeeds_once_the_node_connects(harness: Harness) -> None:
    harness.node.connected.clear()

    async def connect_later() -> None:
        await asyncio.sleep(0.2)
        harness.node.connected.add("gnb_001_001_00000001")

    task = asyncio.create_task(connect_later())
    response = await retry(lambda: harness.client.subscribe(params(http_port=harness.xapp_port)),
                           Backoff(initial_s=0.05, cap_s=0.1), attempts=20, rng=random.Random(1))
    await task
    assert response.subscription_id


async def test_malformed_body_is_rejected_with_400(harness: Harness) -> None:
    bad = to_wire(params())
    del bad["Meid"]
    async with aiohttp.ClientSession() as session:
        url = harness.client._url  # the same endpoint the client posts to
        async with session.post(url, json=bad) as response:
            assert response.status == 400
            assert "Meid" in await response.text()


async def test_unknown_subscription_delete_is_not_an_error_and_known_one_is_deleted(
        harness: Harness) -> None:
    response = await harness.client.subscribe(params(http_port=harness.xapp_port))
    await asyncio.wait_for(harness.notifications.get(), 5)
    assert [s.subscription_id for s in await harness.client.list()] == [
        int(response.subscription_id)]
    await harness.client.unsubscribe(response.subscription_id)
    await harness.client.unsubscribe("999")
    assert await harness.client.list() == []
    assert harness.node.deleted == [harness.node.subscribed[0][2]]


async def test_node_down_drops_its_subscriptions(harness: Harness) -> None:
    await harness.client.subscribe(params(http_port=harness.xapp_port))
    assert harness.submgr.node_down("gnb_001_001_00000001") == 1
    assert await harness.client.list() == []


async def test_rejection_carries_status_and_body() -> None:
    error = SubmgrRejected(400, "bad")
    assert error.status == 400 and "400" in str(error)
