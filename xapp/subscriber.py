"""The subscription lifecycle: keep a KPM and a CSI subscription alive on every E2 node.

One supervisor task per (E2 node, RAN function) runs this loop until the xApp stops:

1. ``POST /ric/v1/subscriptions`` with the camelCase body (retried with backoff on 503,
   connection errors and refusals: a node that is down answers 503 until it is back);
2. wait for the submgr's notification (:meth:`Subscriber.on_subscription_notification`,
   which the HTTP server routes ``/ric/v1/subscriptions/response`` to); an instance with
   an error, or no notification within ``confirm_timeout_s``, deletes and retries;
3. while active, the RMR sub_ids (E2EventInstanceIds) map to the node and RAN function
   (:meth:`Subscriber.source`), and every indication refreshes the subscription
   (:meth:`Subscriber.seen`);
4. silence for ``silence_periods`` report periods (the node went away or restarted and the
   submgr dropped the subscription), or a later notification with an error, ends it: it is
   deleted (a 404 counts as deleted) and the loop starts again at 1.

On stop every active subscription is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from xapp.e2 import csi, kpm
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import CsiActionDefinition, CsiEventTrigger
from xapp.e2.kpm_types import (
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    MeasurementInfo,
    TestCondition,
)
from xapp.errors import MalformedInput
from xapp.ingest.decode import KPM_RAN_FUNCTION_ID
from xapp.ingest.pipeline import IndicationSource
from xapp.subscription.api import (
    ActionToBeSetup,
    ClientEndpoint,
    E2SubscriptionDirectives,
    SubscriptionDetail,
    SubscriptionParams,
    SubscriptionResponse,
    parse,
)
from xapp.subscription.book import SubscriptionBook, SubscriptionEntry
from xapp.subscription.client import Backoff, SubmgrClient, SubmgrError

log = logging.getLogger(__name__)

State = Literal["subscribing", "active", "retrying", "stopped"]


@dataclass(frozen=True)
class SubscriberOptions:
    """What to subscribe to and how persistently.

    Attributes:
        nodes: E2 node names (RMR meids) to subscribe on.
        endpoint: where the submgr sends notifications (HTTP) and E2T indications (RMR).
        kpm_period_ms: KPM reporting period; 0 subscribes to no KPM.
        kpm_measurements: TS 28.552 names asked per UE (action definition format 4).
        csi_period_ms: CSI reporting period.
        csi_ran_function_id: the E2SM-CSI RAN function id of the nodes.
        report_channel_estimate: ask the CSI action for SRS channel estimates.
        silence_periods: report periods without an indication before resubscribing.
        min_silence_s: lower bound of that silence (short periods jitter).
        confirm_timeout_s: longest wait for the submgr's notification.
        backoff: delays between attempts.
    """

    nodes: tuple[str, ...]
    endpoint: ClientEndpoint
    kpm_period_ms: int = 1000
    kpm_measurements: tuple[str, ...] = ()
    csi_period_ms: int = 10
    csi_ran_function_id: int = CSI_RAN_FUNCTION_ID
    report_channel_estimate: bool = True
    silence_periods: int = 20
    min_silence_s: float = 1.0
    confirm_timeout_s: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)


@dataclass
class Want:
    """One subscription the xApp wants to hold, and where it stands."""

    meid: str
    ran_function_id: int
    period_ms: int
    params: SubscriptionParams
    state: State = "subscribing"
    entry: SubscriptionEntry | None = None
    last_seen: float = 0.0
    attempts: int = 0
    subscriptions: int = 0  # times it became active (1 + resubscriptions)
    broken: asyncio.Event = field(default_factory=asyncio.Event)

    def snapshot(self) -> dict[str, Any]:
        return {"meid": self.meid, "ran_function_id": self.ran_function_id,
                "state": self.state,
                "subscription_id": self.entry.subscription_id if self.entry else None,
                "sub_ids": self.entry.sub_ids if self.entry else [],
                "subscriptions": self.subscriptions, "attempts": self.attempts}


def kpm_params(options: SubscriberOptions, meid: str) -> SubscriptionParams:
    """Per-UE KPM (format 4: every UE with a CQI, i.e. every connected UE)."""
    action = KpmActionDefinitionFormat4(
        conditions=(TestCondition("cQI", "present"),),
        measurements=tuple(MeasurementInfo(name) for name in options.kpm_measurements),
        granularity_period_ms=options.kpm_period_ms)
    return _params(options, meid, KPM_RAN_FUNCTION_ID,
                   kpm.encode_event_trigger(KpmEventTrigger(options.kpm_period_ms)),
                   kpm.encode_action_definition(action))


def csi_params(options: SubscriberOptions, meid: str) -> SubscriptionParams:
    action = CsiActionDefinition(report_channel_estimate=options.report_channel_estimate)
    return _params(options, meid, options.csi_ran_function_id,
                   csi.encode_event_trigger(CsiEventTrigger(options.csi_period_ms)),
                   csi.encode_action_definition(action))


def _params(options: SubscriberOptions, meid: str, ran_function_id: int, trigger: bytes,
            action_definition: bytes) -> SubscriptionParams:
    return SubscriptionParams(
        client_endpoint=options.endpoint, meid=meid, ran_function_id=ran_function_id,
        e2_subscription_directives=E2SubscriptionDirectives(),
        subscription_details=[SubscriptionDetail(
            xapp_event_instance_id=1, event_triggers=list(trigger),
            action_to_be_setup_list=[ActionToBeSetup(
                action_id=1, action_type="report", action_definition=list(action_definition))])])


class Subscriber:
    """Runs the lifecycle of the module docstring for every wanted subscription."""

    def __init__(self, client: SubmgrClient, options: SubscriberOptions,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self.options = options
        self._clock = clock
        self._rng = rng or random.Random()
        self.book = SubscriptionBook()
        self.wants: list[Want] = []
        self._by_sub_id: dict[int, Want] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        for meid in options.nodes:
            self.add_node(meid)
        self.notifications = 0
        self.bad_notifications = 0

    # --- what the rest of the xApp asks ------------------------------------------------------
    def source(self, sub_id: int) -> IndicationSource | None:
        """The node/RAN function/period of an active sub_id (None: not ours, or stale)."""
        want = self._by_sub_id.get(sub_id)
        if want is None:
            # The node may report before the supervisor has woken up to the notification:
            # the book already knows the sub_id then.
            entry = self.book.by_sub_id(sub_id)
            want = next((w for w in self.wants if entry is not None and w.entry is entry), None)
            if want is None:
                return None
        return IndicationSource(want.meid, want.ran_function_id, float(want.period_ms))

    def seen(self, sub_id: int) -> None:
        """An indication arrived for ``sub_id``: the subscription is alive."""
        want = self._by_sub_id.get(sub_id)
        if want is not None:
            want.last_seen = self._clock()

    @property
    def all_active(self) -> bool:
        return bool(self.wants) and all(w.state == "active" for w in self.wants)

    def snapshot(self) -> list[dict[str, Any]]:
        return [w.snapshot() for w in self.wants]

    async def on_subscription_notification(self, body: bytes) -> None:
        """The submgr's callback body (``POST /ric/v1/subscriptions/response``).

        Raises:
            MalformedInput: the body is not a SubscriptionResponse (answer 400).
        """
        try:
            notification = parse(SubscriptionResponse, json.loads(body))
        except ValueError as exc:
            self.bad_notifications += 1
            raise MalformedInput("bad_json", str(exc)) from None
        except MalformedInput:
            self.bad_notifications += 1
            raise
        self.notifications += 1
        self.book.notified(notification)
        errors = [i for i in notification.subscription_instances or [] if i.error_cause]
        for want in self.wants:
            entry = want.entry
            if errors and want.state == "active" and entry is not None \
                    and entry.subscription_id == notification.subscription_id:
                log.warning("subscription %s of %s reported errors: %s",
                            entry.subscription_id, want.meid,
                            "; ".join(f"{i.error_source}: {i.error_cause}" for i in errors))
                want.broken.set()

    # --- running -------------------------------------------------------------------------------
    def add_node(self, meid: str) -> bool:
        """Also subscribe on ``meid`` (a node discovered at run time); False if known."""
        if any(w.meid == meid for w in self.wants):
            return False
        options = self.options
        new = []
        if options.kpm_period_ms > 0 and options.kpm_measurements:
            new.append(Want(meid, KPM_RAN_FUNCTION_ID, options.kpm_period_ms,
                            kpm_params(options, meid)))
        new.append(Want(meid, options.csi_ran_function_id, options.csi_period_ms,
                        csi_params(options, meid)))
        self.wants += new
        if self._running:
            for want in new:
                self._supervise(want)
        return True

    def _supervise(self, want: Want) -> None:
        self._tasks.append(asyncio.create_task(
            self._maintain(want), name=f"subscription-{want.meid}-{want.ran_function_id}"))

    def start(self) -> None:
        self._running = True
        for want in self.wants:
            self._supervise(want)

    async def stop(self, timeout_s: float = 5.0) -> int:
        """Stop supervising and delete every active subscription; returns how many."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        deleted = 0
        for want in self.wants:
            if want.entry is not None:
                with contextlib.suppress(SubmgrError, TimeoutError):
                    await asyncio.wait_for(self._delete(want), timeout_s)
                    deleted += 1
            want.state = "stopped"
        return deleted

    async def _maintain(self, want: Want) -> None:
        while True:
            want.attempts += 1
            try:
                entry = await self._subscribe(want)
            except (SubmgrError, MalformedInput, TimeoutError) as exc:
                want.state = "retrying"
                delay = self.options.backoff.delay(min(want.attempts - 1, 16), self._rng)
                log.info("subscription to RAN function %d on %s failed (%s); retry in %.2f s",
                         want.ran_function_id, want.meid, exc, delay)
                await asyncio.sleep(delay)
                continue
            want.attempts = 0
            self._activate(want, entry)
            why = await self._watch(want)
            log.warning("subscription %s (RAN function %d on %s) %s: resubscribing",
                        entry.subscription_id, want.ran_function_id, want.meid, why)
            with contextlib.suppress(SubmgrError, TimeoutError):
                await asyncio.wait_for(self._delete(want), self.options.confirm_timeout_s)
            want.state = "subscribing"

    async def _subscribe(self, want: Want) -> SubscriptionEntry:
        want.state = "subscribing"
        response = await self.client.subscribe(want.params)
        entry = self.book.accepted(response, want.meid, want.ran_function_id)
        want.entry = entry  # so that a failure below deletes it
        try:
            await asyncio.wait_for(entry.confirmed.wait(), self.options.confirm_timeout_s)
        except TimeoutError:
            await self._delete(want)
            raise TimeoutError(f"no notification for subscription {entry.subscription_id}") \
                from None
        if entry.errors or not entry.sub_ids:
            await self._delete(want)
            raise SubmgrError(f"subscription {entry.subscription_id}: "
                              f"{'; '.join(entry.errors) or 'no instance set up'}")
        return entry

    def _activate(self, want: Want, entry: SubscriptionEntry) -> None:
        want.entry, want.state = entry, "active"
        want.last_seen = self._clock()
        want.subscriptions += 1
        want.broken.clear()
        for sub_id in entry.sub_ids:
            self._by_sub_id[sub_id] = want
        log.info("subscribed to RAN function %d on %s: sub_ids %s", want.ran_function_id,
                 want.meid, entry.sub_ids)

    def silence_s(self, want: Want) -> float:
        return max(self.options.silence_periods * want.period_ms / 1000.0,
                   self.options.min_silence_s)

    async def _watch(self, want: Want) -> str:
        """Wait until the subscription is broken or silent; returns which."""
        limit = self.silence_s(want)
        while True:
            try:
                await asyncio.wait_for(want.broken.wait(), limit / 4)
                return "reported an error"
            except TimeoutError:
                pass
            if self._clock() - want.last_seen > limit:
                return f"silent for {limit:.1f} s"

    async def _delete(self, want: Want) -> None:
        entry = want.entry
        if entry is None:
            return
        for sub_id in entry.sub_ids:
            if self._by_sub_id.get(sub_id) is want:
                del self._by_sub_id[sub_id]
        want.entry = None
        self.book.forget(entry.subscription_id)
        await self.client.unsubscribe(entry.subscription_id)


def measurement_names(feature_names: Sequence[str]) -> tuple[str, ...]:
    """The KPM measurement names the model reads (registry ``kpm.<name>`` features)."""
    return tuple(n.removeprefix("kpm.") for n in feature_names if n.startswith("kpm."))
