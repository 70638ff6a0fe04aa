"""The E2 node's E2AP agent: setup, subscriptions, indications, recommendations.

The agent owns the protocol, not the physics: each RAN function it offers is a
:class:`ServiceModel` that decides whether a subscription's event trigger and action
definitions are acceptable and how often to report. The cell simulation asks the agent
which subscriptions are due and hands it the header and message bytes to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from xapp.e2 import e2ap
from xapp.e2.e2ap_messages import (
    Cause,
    CauseGroup,
    ComponentInterface,
    E2NodeComponent,
    E2NodeComponentConfig,
    E2SetupRequest,
    E2SetupResponse,
    GlobalGnbId,
    IndicationType,
    NotAdmittedAction,
    RanFunction,
    RicAction,
    RicIndication,
    RicRequestId,
    RicSubscriptionDeleteRequest,
    RicSubscriptionDeleteResponse,
    RicSubscriptionFailure,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
)
from xapp.errors import MalformedInput
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.transport import RmrTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionPlan:
    """What one admitted action asks the node to report, every ``period_ms``."""

    action_id: int
    period_ms: int
    definition: Any = None


class RefusedAction(MalformedInput):
    """A service model's refusal of an action; ``cause`` is the E2AP ``CauseRICrequest``
    value the node answers with (an ASN.1 name, see ``xapp.e2.e2ap.cause_names``)."""

    source = "e2sim.subscription"

    def __init__(self, reason: str, detail: str = "",
                 cause: str = "action-not-supported") -> None:
        super().__init__(reason, detail)
        self.cause = cause


class ServiceModel(Protocol):
    """One RAN function (E2SM) the node offers."""

    @property
    def ran_function(self) -> RanFunction: ...

    def admit(self, event_trigger: bytes, action: RicAction) -> ActionPlan:
        """Accept an action of a subscription, or raise MalformedInput to refuse it."""
        ...


@dataclass
class NodeSubscription:
    request_id: RicRequestId
    ran_function_id: int
    plans: dict[int, ActionPlan]
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    next_due_ms: dict[int, float] = field(default_factory=dict)

    @property
    def sub_id(self) -> int:
        """The RMR sub_id of its indications (the E2 instance id)."""
        return self.request_id.instance


NG_COMPONENT = E2NodeComponentConfig(E2NodeComponent(ComponentInterface.NG, "amf-sim"))
"""E2 setup must announce at least one component: the gNB's NG interface to its AMF."""

RecommendationHandler = Callable[[RmrMessage], Awaitable[bytes | None]]
"""Receives a recommendation message; returns the acknowledgement payload to send back."""


@dataclass
class E2NodeAgent:
    """One E2 node (one RAN name) speaking E2AP over an RMR transport."""

    transport: RmrTransport
    meid: str
    node_id: GlobalGnbId
    models: dict[int, ServiceModel]
    on_recommendation: RecommendationHandler | None = None
    setup_timeout_s: float = 2.0
    component: E2NodeComponentConfig = NG_COMPONENT
    subscriptions: dict[int, NodeSubscription] = field(default_factory=dict)
    bad_messages: int = 0
    _transactions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _task: asyncio.Task[None] | None = None

    async def setup(self) -> E2SetupResponse:
        """E2 setup with the RIC (routed by the table entry for ``E2_SETUP_REQ``)."""
        self.subscriptions.clear()  # a (re)started node has no subscriptions
        request = E2SetupRequest(
            transaction_id=next(self._transactions) % 256, node_id=self.node_id,
            ran_functions=tuple(m.ran_function for m in self.models.values()),
            components=(self.component,))
        msg = RmrMessage(mtype=MessageType.E2_SETUP_REQ, payload=e2ap.encode(request),
                         meid=self.meid)
        reply = await self.transport.call(msg, self.setup_timeout_s)
        response = e2ap.decode(reply.payload)
        if not isinstance(response, E2SetupResponse):
            raise MalformedInput("e2_setup_refused", f"{type(response).__name__}")
        return response

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"e2node-{self.meid}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def due(self, now_ms: float) -> list[tuple[NodeSubscription, ActionPlan]]:
        """The (subscription, action) pairs whose report period has come round."""
        ready = []
        for sub in self.subscriptions.values():
            for action_id, plan in sub.plans.items():
                due_at = sub.next_due_ms.setdefault(action_id, now_ms)
                if now_ms >= due_at:
                    sub.next_due_ms[action_id] = due_at + plan.period_ms
                    ready.append((sub, plan))
        return ready

    async def indicate(self, sub: NodeSubscription, action_id: int, header: bytes,
                       message: bytes) -> bool:
        indication = RicIndication(
            request_id=sub.request_id, ran_function_id=sub.ran_function_id,
            action_id=action_id, indication_type=IndicationType.REPORT, header=header,
            message=message, indication_sn=next(sub.sequence) % 65536)
        msg = RmrMessage(mtype=MessageType.RIC_INDICATION, payload=e2ap.encode(indication),
                         sub_id=sub.sub_id, meid=self.meid)
        return bool(await self.transport.send(msg))

    # --- incoming procedures -----------------------------------------------------------------
    async def _run(self) -> None:
        async for msg in self.transport:
            try:
                await self._handle(msg)
            except MalformedInput as exc:
                self.bad_messages += 1
                log.warning("%s: bad message mtype %d: %s", self.meid, msg.mtype, exc)
            except Exception:  # a bug or a peer's surprise: count it, keep serving E2
                self.bad_messages += 1
                log.exception("%s: message mtype %d failed", self.meid, msg.mtype)

    async def _handle(self, msg: RmrMessage) -> None:
        if msg.mtype == MessageType.RIC_SUB_REQ:
            request = e2ap.decode(msg.payload)
            if not isinstance(request, RicSubscriptionRequest):
                raise MalformedInput("unexpected_pdu", type(request).__name__)
            mtype, reply = self._subscribe(request)
            await self.transport.rts(msg, mtype, e2ap.encode(reply))
        elif msg.mtype == MessageType.RIC_SUB_DEL_REQ:
            delete = e2ap.decode(msg.payload)
            if not isinstance(delete, RicSubscriptionDeleteRequest):
                raise MalformedInput("unexpected_pdu", type(delete).__name__)
            self.subscriptions.pop(delete.request_id.instance, None)
            response = RicSubscriptionDeleteResponse(delete.request_id, delete.ran_function_id)
            await self.transport.rts(msg, MessageType.RIC_SUB_DEL_RESP, e2ap.encode(response))
        elif msg.mtype == MessageType.LINKFM_RECOMMENDATION and self.on_recommendation:
            ack = await self.on_recommendation(msg)
            if ack is not None:
                await self.transport.rts(msg, MessageType.LINKFM_RECOMMENDATION_ACK, ack)
        else:
            self.bad_messages += 1

    def _subscribe(self, request: RicSubscriptionRequest) -> tuple[int, Any]:
        model = self.models.get(request.ran_function_id)
        if model is None:
            return MessageType.RIC_SUB_FAILURE, RicSubscriptionFailure(
                request.request_id, request.ran_function_id,
                Cause(CauseGroup.RIC_REQUEST, "ran-function-id-invalid"))
        plans: dict[int, ActionPlan] = {}
        refused: list[NotAdmittedAction] = []
        for action in request.actions:
            try:
                plans[action.action_id] = model.admit(request.event_trigger, action)
            except MalformedInput as exc:
                log.info("%s: refusing action %d: %s", self.meid, action.action_id, exc)
                cause = exc.cause if isinstance(exc, RefusedAction) else "action-not-supported"
                refused.append(NotAdmittedAction(
                    action.action_id, Cause(CauseGroup.RIC_REQUEST, cause)))
        if not plans:
            # The whole subscription fails with the first refused action's cause.
            first = refused[0].cause if refused else Cause(CauseGroup.RIC_REQUEST,
                                                           "action-not-supported")
            return MessageType.RIC_SUB_FAILURE, RicSubscriptionFailure(
                request.request_id, request.ran_function_id, first)
        self.subscriptions[request.request_id.instance] = NodeSubscription(
            request.request_id, request.ran_function_id, plans)
        return MessageType.RIC_SUB_RESP, RicSubscriptionResponse(
            request.request_id, request.ran_function_id, tuple(plans), tuple(refused))
