"""The xApp runtime: RMR in, decisions out, with every part wired together.

``LinkFmApp`` owns the loop of ARCHITECTURE.md: it reads the RMR transport (indications,
A1 policy requests, recommendation acks), feeds the windows, lets the micro-batcher run the
predictor (inline by default, see ``RuntimeOptions.predict_in_thread``), applies the
decision policy, publishes one batch per E2 node per cycle, and tells the gRPC log and
every :data:`DecisionSink` what it decided.

Telemetry, metrics and the HTTP server live elsewhere and plug in here: append a callable
to :attr:`LinkFmApp.sinks` (it gets each :class:`DecisionEvent`; it must not block) or to
:attr:`LinkFmApp.batch_sinks` (it gets a cycle's events in one list), read
:attr:`LinkFmApp.counters` and the parts' own counters, and route the submgr's callback
to :meth:`LinkFmApp.on_subscription_notification`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from xapp.decide.batcher import Batch, MicroBatcher
from xapp.decide.predictor import Prediction, PredictionRequest, Predictor
from xapp.e2.recommendation import Recommendation
from xapp.errors import MalformedInput
from xapp.grpc_service import RecommendationLog
from xapp.ingest.bad_inputs import BadInputs
from xapp.ingest.cells import CellContexts
from xapp.ingest.decode import KPM_RAN_FUNCTION_ID
from xapp.ingest.kpm_worker import KpmWorker
from xapp.ingest.pipeline import IndicationIngest, IndicationSource, UeMeta
from xapp.ingest.windows import UeKey, UeWindowStore
from xapp.policy import a1
from xapp.policy.decision import DecisionPolicy
from xapp.publish import Publisher
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.transport import RmrTransport
from xapp.subscriber import Subscriber

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeOptions:
    """The runtime's knobs (built from the controls by ``xapp.main``).

    Attributes:
        xapp_name: handler id in A1 responses.
        deadline_s: batch deadline from its first change (default 5 ms).
        max_batch: most UEs per predictor call.
        inactivity_s: a UE without reports for this long departs.
        expire_interval_s: how often departures are checked.
        a1_query: send A1_POLICY_QUERY at start.
        predict_in_thread: run the predictor in a worker thread instead of on the event
            loop. Off by default: torch releases the GIL around every small op, and each
            re-acquisition can wait a whole switch interval behind the decoding loop, which
            made a 10 ms classical search take 50 ms (measured, 64 UEs, 2 loaded cores);
            inline, ingest simply pauses for the few ms the batch takes.
        default_policy: the policy in force while no A1 instance exists (the controls').
        kpm_in_process: decode E2SM-KPM indications in a worker process
            (:mod:`xapp.ingest.kpm_worker`): pure-Python APER takes tens of ms per node
            report, which on the event loop delays every CSI indication behind it.
    """

    xapp_name: str = "linkfm"
    deadline_s: float = 0.005
    max_batch: int = 256
    inactivity_s: float = 5.0
    expire_interval_s: float = 1.0
    a1_query: bool = True
    predict_in_thread: bool = False
    default_policy: a1.LinkPolicy = field(default_factory=a1.LinkPolicy)
    kpm_in_process: bool = True


@dataclass(frozen=True)
class DecisionEvent:
    """One recommendation as made, for telemetry and dashboards.

    Attributes:
        recommendation: what was decided (reason MODEL/FALLBACK/POLICY).
        inputs: the UE's report facts (cell, slot, reported CSI, SINR, wideband CQI).
        latency_s: indication received -> batch handed to RMR, seconds.
        predict_s: the predictor's time for the whole batch, seconds.
        batch_size: UEs in that batch.
        published: False when RMR could not deliver the node's batch.
    """

    recommendation: Recommendation
    inputs: UeMeta
    latency_s: float
    predict_s: float
    batch_size: int
    published: bool


DecisionSink = Callable[[DecisionEvent], None]
DecisionBatchSink = Callable[[Sequence[DecisionEvent]], None]
"""Gets a whole cycle's events in one call: cheaper than a :data:`DecisionSink` per UE."""


@dataclass(frozen=True)
class CycleEvent:
    """One E2 node's share of a decision cycle (one RecommendationBatch).

    Attributes:
        e2_node, sequence: the batch sent (sequence per node, from 0).
        model_version: the predictor's version.
        batch_size: recommendations in the node's batch.
        predict_s: the predictor's time for the whole micro-batch, seconds.
        latency_s: the batch's oldest indication received -> batch sent, seconds.
    """

    e2_node: str
    sequence: int
    model_version: str
    batch_size: int
    predict_s: float
    latency_s: float


CycleSink = Callable[[CycleEvent], None]


@dataclass
class AppCounters:
    """Runtime totals (the parts keep their own: ingest, batcher, publisher, subscriber)."""

    decisions: Counter[str] = field(default_factory=Counter)  # by reason name
    no_decision: int = 0  # UEs with neither a usable prediction nor reported CSI
    predict_failed: int = 0
    a1_requests: Counter[str] = field(default_factory=Counter)  # OK / ERROR
    unexpected_mtypes: Counter[int] = field(default_factory=Counter)
    sink_errors: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {"decisions": dict(self.decisions), "no_decision": self.no_decision,
                "predict_failed": self.predict_failed, "a1_requests": dict(self.a1_requests),
                "unexpected_mtypes": {str(k): v for k, v in self.unexpected_mtypes.items()},
                "sink_errors": self.sink_errors}


class LinkFmApp:
    """See the module docstring. ``await start()``, run, ``await stop()``.

    The transport must be started by the caller (it is shared with health checks) and is
    not closed by :meth:`stop`.
    """

    def __init__(self, transport: RmrTransport, subscriber: Subscriber, predictor: Predictor,
                 options: RuntimeOptions | None = None, cells: CellContexts | None = None,
                 decision: DecisionPolicy | None = None,
                 recommendation_log: RecommendationLog | None = None) -> None:
        self.options = options or RuntimeOptions()
        self.transport = transport
        self.subscriber = subscriber
        self.predictor = predictor
        self.bad = BadInputs()
        self.cells = cells or CellContexts()
        self.store = UeWindowStore(predictor.registry, predictor.n_slots,
                                   inactivity_s=self.options.inactivity_s)
        self.ingest = IndicationIngest(self.store, self.cells, self.bad,
                                       subscriber.options.csi_ran_function_id)
        self.policies = a1.PolicyStore()
        self.decision = decision or DecisionPolicy()
        self.publisher = Publisher(transport, self.bad)
        self.recommendations = recommendation_log or RecommendationLog()
        self.batcher: MicroBatcher[UeKey] = MicroBatcher(
            self._decide, self.options.deadline_s, self.options.max_batch)
        self.sinks: list[DecisionSink] = []
        self.batch_sinks: list[DecisionBatchSink] = []
        self.cycle_sinks: list[CycleSink] = []
        self.counters = AppCounters()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="linkfm-predict")
        self.kpm_worker = KpmWorker() if self.options.kpm_in_process else None
        self._tasks: list[asyncio.Task[None]] = []
        self._kpm_tasks: set[asyncio.Task[None]] = set()
        self._apply_policy()

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._receive(), name="linkfm-receive"),
            asyncio.create_task(self.batcher.run(), name="linkfm-batcher"),
            asyncio.create_task(self._expire(), name="linkfm-expire"),
        ]
        self.subscriber.start()
        if self.options.a1_query:
            result = await self.transport.send(RmrMessage(
                mtype=MessageType.A1_POLICY_QUERY, payload=a1.encode_query()))
            if not result:
                log.info("A1_POLICY_QUERY not delivered (%s): no A1 mediator route",
                         result.reason or "send failed")

    async def stop(self) -> int:
        """Unsubscribe everything, stop the loops; returns the subscriptions deleted."""
        deleted = await self.subscriber.stop()
        tasks = [*self._tasks, *self._kpm_tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self.kpm_worker is not None:
            self.kpm_worker.close()
        return deleted

    async def on_subscription_notification(self, body: bytes) -> None:
        """The submgr's notification body; raises ``MalformedInput`` when it is not one."""
        await self.subscriber.on_subscription_notification(body)

    @property
    def ready(self) -> bool:
        """Route table loaded and every subscription active."""
        return self.transport.is_ready and self.subscriber.all_active

    # --- RMR -----------------------------------------------------------------------------------
    async def _receive(self) -> None:
        async for msg in self.transport:
            try:
                await self._dispatch(msg)
            except Exception:  # a bug in one message's path must not stop the xApp
                log.exception("handling mtype %d failed", msg.mtype)

    async def _dispatch(self, msg: RmrMessage) -> None:
        if msg.mtype == MessageType.RIC_INDICATION:
            source = self.subscriber.source(msg.sub_id)
            if source is not None:
                self.subscriber.seen(msg.sub_id)
                if self.kpm_worker is not None and source.ran_function_id == KPM_RAN_FUNCTION_ID:
                    task = asyncio.create_task(self._ingest_kpm(msg, source))
                    self._kpm_tasks.add(task)
                    task.add_done_callback(self._kpm_tasks.discard)
                    return
            self.ingest.handle(msg, source)
            self.batcher.add(self.store.take_changed())
        elif msg.mtype == MessageType.LINKFM_RECOMMENDATION_ACK:
            self.publisher.on_ack(msg)
        elif msg.mtype == MessageType.A1_POLICY_REQ:
            await self._on_a1(msg)
        else:
            self.counters.unexpected_mtypes[msg.mtype] += 1

    async def _ingest_kpm(self, msg: RmrMessage, source: IndicationSource) -> None:
        assert self.kpm_worker is not None
        try:
            ues = await self.kpm_worker.decode(msg.payload)
        except MalformedInput as exc:
            self.ingest.refuse(exc, msg)
            return
        self.ingest.add_kpm(source, ues)

    async def _on_a1(self, msg: RmrMessage) -> None:
        try:
            request = a1.decode_request(msg.payload)
        except a1.A1PolicyError as exc:
            self.bad.record(exc, "A1_POLICY_REQ")  # without ids there is nobody to answer
            self.counters.a1_requests["ERROR"] += 1
            return
        ok = True
        try:
            self.policies.apply(request)
        except a1.A1PolicyError as exc:
            self.bad.record(exc, f"A1 policy {request.policy_instance_id}")
            ok = False
        self.counters.a1_requests["OK" if ok else "ERROR"] += 1
        self._apply_policy()
        await self.transport.rts(msg, MessageType.A1_POLICY_RESP,
                                 a1.encode_response(request, self.options.xapp_name, ok))

    def refresh_policy(self) -> None:
        """Re-apply the policy in force (after ``options.default_policy`` changed)."""
        self._apply_policy()

    def _apply_policy(self) -> None:
        policy = self.policies.current if self.policies.instance_ids \
            else self.options.default_policy
        self.decision.policy = policy
        self.cells.horizon_ms = float(policy.horizon_ms)
        self.recommendations.horizon_ms = float(policy.horizon_ms)

    # --- decisions -----------------------------------------------------------------------------
    async def _decide(self, batch: Batch[UeKey]) -> None:
        keys = [k for k in batch.keys if k in self.store and k in self.ingest.meta]
        if not keys:
            return
        request = PredictionRequest(self.store.windows(keys, self.predictor.features),
                                    [self.store.context(k) for k in keys],
                                    [self.decision.rank_cap()] * len(keys))
        started = time.monotonic()
        predictions: list[Prediction | None]
        try:
            if self.options.predict_in_thread:
                predictions = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self.predictor.predict, request)
            else:
                predictions = self.predictor.predict(request)
        except Exception:
            log.exception("predictor failed on %d UEs: falling back", len(keys))
            self.counters.predict_failed += 1
            predictions = [None] * len(keys)
        predict_s = time.monotonic() - started
        decided: list[tuple[Recommendation, UeMeta]] = []
        for key, prediction in zip(keys, predictions, strict=True):
            meta = self.ingest.meta[key]
            rec = self.decision.decide(key, meta, prediction, self.predictor.version)
            if rec is None:
                self.counters.no_decision += 1
                continue
            self.counters.decisions[rec.reason.name] += 1
            decided.append((rec, meta))
        if not decided:
            return
        sent = await self.publisher.publish(rec for rec, _ in decided)
        done = time.monotonic()
        delivered = {b.e2_node for b in sent}
        self.recommendations.record(rec for rec, _ in decided)
        oldest: dict[str, float] = {}
        events = []
        for rec, meta in decided:
            oldest[rec.e2_node] = min(oldest.get(rec.e2_node, meta.received_at),
                                      meta.received_at)
            event = DecisionEvent(rec, meta, done - meta.received_at, predict_s, len(keys),
                                  rec.e2_node in delivered)
            events.append(event)
            self._emit(self.sinks, event)
        self._emit(self.batch_sinks, events)
        for node_batch in sent:
            self._emit(self.cycle_sinks, CycleEvent(
                node_batch.e2_node, node_batch.sequence, self.predictor.version,
                len(node_batch.recommendations), predict_s, done - oldest[node_batch.e2_node]))

    def _emit(self, sinks: Sequence[Callable[[Any], None]], event: object) -> None:
        for sink in sinks:
            try:
                sink(event)
            except Exception:  # a broken sink must not cost decisions
                self.counters.sink_errors += 1
                log.exception("event sink failed")

    async def _expire(self) -> None:
        while True:
            await asyncio.sleep(self.options.expire_interval_s)
            for key in self.ingest.expire():
                self.recommendations.forget(key.meid, key.ue_id)
