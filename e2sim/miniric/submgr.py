"""The Subscription Manager's REST face (``/ric/v1/subscriptions``) for the mini-RIC.

The E2 side (sending RICsubscriptionRequest to a node and waiting for its answer) is an
:class:`E2Link`; the REST semantics follow the OSC submgr:

- ``POST`` validates the body, answers 201 ``{"SubscriptionId", "SubscriptionInstances": null}``
  at once (503 when the E2 node is not connected), then sets up each detail on the node
  and POSTs the outcome to ``http://Host:HTTPPort/ric/v1/subscriptions/response``, retrying
  until the xApp answers 200;
- ``DELETE /ric/v1/subscriptions/{id}`` deletes on the node and answers 204;
- ``GET /ric/v1/subscriptions`` lists them;
- when a node goes down, its subscriptions are dropped (the xApp must resubscribe).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import ClientSession, ClientTimeout, web

from xapp.subscription.api import (
    NOTIFICATION_PATH,
    RIC_REQUESTOR_ID,
    SUBSCRIPTIONS_PATH,
    SubmgrApiError,
    SubscriptionData,
    SubscriptionDetail,
    SubscriptionInstance,
    SubscriptionParams,
    SubscriptionResponse,
    parse,
    to_wire,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class E2Outcome:
    """What the E2 node answered to one RICsubscriptionRequest."""

    admitted: bool
    cause: str = ""


class E2Link(Protocol):
    """The mini-RIC's side of the E2 interface, as the submgr needs it."""

    def is_connected(self, meid: str) -> bool: ...

    async def subscribe(self, meid: str, ran_function_id: int, instance_id: int,
                        detail: SubscriptionDetail, endpoint: str) -> E2Outcome: ...

    async def unsubscribe(self, meid: str, ran_function_id: int, instance_id: int) -> None: ...


@dataclass
class _Subscription:
    subscription_id: int
    params: SubscriptionParams
    instance_ids: dict[int, int] = field(default_factory=dict)  # xapp event id -> E2 id

    @property
    def rmr_endpoint(self) -> str:
        ep = self.params.client_endpoint
        return f"{ep.host}:{ep.rmr_port}"


@dataclass
class NotifyPolicy:
    """How hard to try to deliver a notification (OSC: 10 tries, 5 s apart)."""

    attempts: int = 10
    interval_s: float = 5.0
    timeout_s: float = 2.0


class SubscriptionManager:
    """The REST application plus the state behind it."""

    def __init__(self, link: E2Link, notify: NotifyPolicy | None = None) -> None:
        self._link = link
        self._notify = notify or NotifyPolicy()
        self._subscriptions: dict[int, _Subscription] = {}
        self._ids = itertools.count(1)
        self._instance_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: ClientSession | None = None
        self.notifications_failed = 0

    # --- the REST application -------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(SUBSCRIPTIONS_PATH, self._post)
        app.router.add_get(SUBSCRIPTIONS_PATH, self._get)
        app.router.add_delete(SUBSCRIPTIONS_PATH + "/{id}", self._delete)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        try:
            params = parse(SubscriptionParams, await request.json())
        except (SubmgrApiError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if not self._link.is_connected(params.meid):
            return web.json_response({"error": f"E2 node {params.meid} not connected"},
                                     status=503)
        sub = _Subscription(next(self._ids), params)
        for detail in params.subscription_details:
            sub.instance_ids[detail.xapp_event_instance_id] = next(self._instance_ids)
        self._subscriptions[sub.subscription_id] = sub
        self._spawn(self._set_up(sub))
        body = SubscriptionResponse(subscription_id=str(sub.subscription_id))
        return web.json_response(to_wire(body) | {"SubscriptionInstances": None}, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        listing = [to_wire(SubscriptionData(
            subscription_id=s.subscription_id, meid=s.params.meid,
            client_endpoint=[s.rmr_endpoint],
            e2_event_instance_ids=list(s.instance_ids.values())))
            for s in self._subscriptions.values()]
        return web.json_response(listing)

    async def _delete(self, request: web.Request) -> web.Response:
        try:
            sub = self._subscriptions.pop(int(request.match_info["id"]))
        except (KeyError, ValueError):
            return web.json_response({"error": "no such subscription"}, status=404)
        if self._link.is_connected(sub.params.meid):
            for instance_id in sub.instance_ids.values():
                await self._link.unsubscribe(sub.params.meid, sub.params.ran_function_id,
                                             instance_id)
        return web.Response(status=204)

    # --- E2 side and notifications ------------------------------------------------------
    async def _set_up(self, sub: _Subscription) -> None:
        instances = []
        for detail in sub.params.subscription_details:
            instance_id = sub.instance_ids[detail.xapp_event_instance_id]
            try:
                outcome = await self._link.subscribe(
                    sub.params.meid, sub.params.ran_function_id, instance_id, detail,
                    sub.rmr_endpoint)
            except Exception as exc:  # the node's failure must not kill the submgr
                log.warning("E2 subscription %s failed: %r", instance_id, exc)
                outcome = E2Outcome(False, f"E2 error: {exc!r}")
            instances.append(SubscriptionInstance(
                xapp_event_instance_id=detail.xapp_event_instance_id,
                e2_event_instance_id=instance_id,
                error_cause=outcome.cause if not outcome.admitted else "",
                error_source="" if outcome.admitted else "E2Node",
                timeout_type=""))
        notification = SubscriptionResponse(subscription_id=str(sub.subscription_id),
                                            subscription_instances=instances)
        await self._deliver(sub, notification)

    async def _deliver(self, sub: _Subscription, notification: SubscriptionResponse) -> None:
        ep = sub.params.client_endpoint
        url = f"http://{ep.host}:{ep.http_port}{NOTIFICATION_PATH}"
        session = self._session = self._session or ClientSession(
            timeout=ClientTimeout(total=self._notify.timeout_s))
        for _ in range(self._notify.attempts):
            try:
                async with session.post(url, json=to_wire(notification)) as response:
                    if response.status == 200:
                        return
            except Exception as exc:  # any failure to reach the xApp: try again later
                log.info("notification to %s failed: %r", url, exc)
            await asyncio.sleep(self._notify.interval_s)
        self.notifications_failed += 1

    def node_down(self, meid: str) -> int:
        """Drop every subscription of ``meid`` (as submgr does on E2 link loss)."""
        gone = [k for k, s in self._subscriptions.items() if s.params.meid == meid]
        for key in gone:
            del self._subscriptions[key]
        return len(gone)

    def route_entries(self) -> list[tuple[int, str]]:
        """(E2 instance id, xApp RMR endpoint) for E2T routing of indications by sub_id."""
        return [(iid, s.rmr_endpoint) for s in self._subscriptions.values()
                for iid in s.instance_ids.values()]

    @property
    def requestor_id(self) -> int:
        return RIC_REQUESTOR_ID

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cleanup(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
