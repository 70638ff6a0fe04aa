"""The mini-RIC's E2 termination: E2 setup, subscription procedures, indication routing.

E2 nodes of the simulator talk to it over RMR (no SCTP here): an E2setupRequest
(``E2_SETUP_REQ``) registers the node under its RAN name (the message's meid) and the
``host:port`` it sent from; the Subscription Manager asks it (as an :class:`E2Link`) to
run RICsubscription/RICsubscriptionDelete procedures, which go to the node as RMR calls
routed by meid; RIC indications from the node are forwarded by sub_id (the E2 instance id)
to the subscribing xApp's RMR endpoint through the route table, as the OSC E2T does.

A second E2 setup from a known node means the node restarted: its subscriptions are gone,
and the ``on_node_restart`` callback tells the Subscription Manager to drop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from e2sim.miniric.submgr import E2Outcome
from xapp.e2 import e2ap
from xapp.e2.e2ap_messages import (
    AcceptedRanFunction,
    ActionType,
    E2apMessage,
    E2NodeComponentAck,
    E2SetupRequest,
    E2SetupResponse,
    GlobalRicId,
    RanFunction,
    RicAction,
    RicRequestId,
    RicSubscriptionDeleteRequest,
    RicSubscriptionFailure,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
    SubsequentAction,
    SubsequentActionType,
    TimeToWait,
)
from xapp.errors import MalformedInput
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.transport import RmrError, RmrTransport
from xapp.subscription.api import RIC_REQUESTOR_ID, ActionToBeSetup, SubscriptionDetail

log = logging.getLogger(__name__)

RIC_PLMN = bytes.fromhex("00f110")  # MCC 001, MNC 01: the test network
RIC_ID = 0x51CF  # any 20-bit value identifies this mini-RIC


@dataclass
class ConnectedNode:
    meid: str
    endpoint: str
    ran_functions: dict[int, RanFunction]
    setups: int = 1


@dataclass
class E2Termination:
    """Implements :class:`e2sim.miniric.submgr.E2Link` over an RMR transport."""

    transport: RmrTransport
    on_node_restart: Callable[[str], object] = lambda meid: None
    procedure_timeout_s: float = 2.0
    nodes: dict[str, ConnectedNode] = field(default_factory=dict)
    bad_messages: int = 0
    forwarded: int = 0
    # E2 instance id -> (E2 node, subscribing xApp's RMR endpoint)
    _routes: dict[int, tuple[str, str]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    # --- E2Link --------------------------------------------------------------------------
    def is_connected(self, meid: str) -> bool:
        return meid in self.nodes

    async def subscribe(self, meid: str, ran_function_id: int, instance_id: int,
                        detail: SubscriptionDetail, endpoint: str) -> E2Outcome:
        node = self.nodes.get(meid)
        if node is None:
            return E2Outcome(False, f"E2 node {meid} not connected")
        if ran_function_id not in node.ran_functions:
            return E2Outcome(False, f"RAN function {ran_function_id} not offered by {meid}")
        request = RicSubscriptionRequest(
            request_id=RicRequestId(RIC_REQUESTOR_ID, instance_id),
            ran_function_id=ran_function_id,
            event_trigger=bytes(detail.event_triggers),
            actions=tuple(_action(a) for a in detail.action_to_be_setup_list))
        # Route first so that no indication sent right after the response is lost.
        self._set_route(instance_id, meid, endpoint)
        try:
            reply = await self._call(meid, MessageType.RIC_SUB_REQ, instance_id,
                                     e2ap.encode(request))
        except (RmrError, MalformedInput) as exc:
            self._drop_route(instance_id)
            return E2Outcome(False, f"E2 procedure failed: {exc}")
        if isinstance(reply, RicSubscriptionResponse) and reply.admitted:
            return E2Outcome(True)
        self._drop_route(instance_id)
        if isinstance(reply, RicSubscriptionFailure):
            return E2Outcome(False, f"{reply.cause.group}:{reply.cause.value}")
        return E2Outcome(False, "no action admitted")

    async def unsubscribe(self, meid: str, ran_function_id: int, instance_id: int) -> None:
        self._drop_route(instance_id)
        request = RicSubscriptionDeleteRequest(RicRequestId(RIC_REQUESTOR_ID, instance_id),
                                               ran_function_id)
        with contextlib.suppress(RmrError, MalformedInput):
            await self._call(meid, MessageType.RIC_SUB_DEL_REQ, instance_id,
                             e2ap.encode(request))

    # --- node management -------------------------------------------------------------------
    def disconnect(self, meid: str) -> None:
        """Forget a node (its E2 link went down) and tell the Subscription Manager."""
        if self.nodes.pop(meid, None) is not None:
            self._forget_routes(meid)
            self.on_node_restart(meid)

    def _forget_routes(self, meid: str) -> None:
        for iid in [i for i, (node, _) in self._routes.items() if node == meid]:
            del self._routes[iid]
        self._reload_routes()

    async def _call(self, meid: str, mtype: int, instance_id: int,
                    payload: bytes) -> E2apMessage:
        msg = RmrMessage(mtype=mtype, payload=payload, sub_id=instance_id, meid=meid)
        reply = await self.transport.call(msg, self.procedure_timeout_s)
        return e2ap.decode(reply.payload)

    def _set_route(self, instance_id: int, meid: str, endpoint: str) -> None:
        self._routes[instance_id] = (meid, endpoint)
        self._reload_routes()

    def _drop_route(self, instance_id: int) -> None:
        if self._routes.pop(instance_id, None) is not None:
            self._reload_routes()

    def _reload_routes(self) -> None:
        """Rebuild the whole table: indications by sub_id, procedures by meid."""
        lines = ["newrt|start"]
        lines += [f"mse|{MessageType.RIC_INDICATION}|{iid}|{ep}"
                  for iid, (_, ep) in self._routes.items()]
        for mtype in (MessageType.RIC_SUB_REQ, MessageType.RIC_SUB_DEL_REQ,
                      MessageType.LINKFM_RECOMMENDATION):
            lines.append(f"mse|{mtype}|-1|%meid")
        lines.append("newrt|end")
        owners = [f"mme_ar|{n.endpoint}|{n.meid}" for n in self.nodes.values()]
        if owners:
            lines += ["meid_map|start", *owners, f"meid_map|end|{len(owners)}"]
        self.transport.load_routes("\n".join(lines) + "\n")

    # --- the receive loop ------------------------------------------------------------------
    def start(self) -> None:
        self._reload_routes()
        self._task = asyncio.create_task(self._run(), name="miniric-e2t")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async for msg in self.transport:
            try:
                await self._handle(msg)
            except MalformedInput as exc:
                self.bad_messages += 1
                log.warning("bad message mtype %d from %s: %s", msg.mtype, msg.src, exc)
            except Exception:  # one peer's surprise must not stop routing for everybody
                self.bad_messages += 1
                log.exception("message mtype %d from %s failed", msg.mtype, msg.src)

    async def _handle(self, msg: RmrMessage) -> None:
        if msg.mtype == MessageType.E2_SETUP_REQ:
            await self._on_setup(msg, e2ap.decode(msg.payload))
        elif msg.mtype == MessageType.RIC_INDICATION:
            await self._forward(msg)
        else:
            self.bad_messages += 1

    async def _on_setup(self, msg: RmrMessage, request: E2apMessage) -> None:
        if not isinstance(request, E2SetupRequest) or not msg.meid:
            self.bad_messages += 1
            return
        previous = self.nodes.get(msg.meid)
        if previous is not None:  # a new setup: the node lost its subscriptions
            self._forget_routes(msg.meid)
            self.on_node_restart(msg.meid)
        self.nodes[msg.meid] = ConnectedNode(
            meid=msg.meid, endpoint=msg.src,
            ran_functions={f.ran_function_id: f for f in request.ran_functions},
            setups=previous.setups + 1 if previous else 1)
        self._reload_routes()
        response = E2SetupResponse(
            transaction_id=request.transaction_id,
            ric_id=GlobalRicId(plmn=RIC_PLMN, ric_id=RIC_ID),
            accepted=tuple(AcceptedRanFunction(f.ran_function_id, f.revision)
                           for f in request.ran_functions),
            component_acks=tuple(E2NodeComponentAck(c.component) for c in request.components))
        await self.transport.rts(msg, MessageType.E2_SETUP_RESP, e2ap.encode(response))

    async def _forward(self, msg: RmrMessage) -> None:
        """Pass an indication on to the subscriber of its sub_id, as E2T does."""
        if msg.sub_id not in self._routes:
            self.bad_messages += 1
            return
        result = await self.transport.send(replace(msg, src="", srcip="", origin=None))
        if result:
            self.forwarded += 1


def _action(action: ActionToBeSetup) -> RicAction:
    subsequent = None
    if action.subsequent_action is not None and action.subsequent_action.time_to_wait != "zero":
        subsequent = SubsequentAction(
            SubsequentActionType(action.subsequent_action.subsequent_action_type),
            TimeToWait(action.subsequent_action.time_to_wait))
    return RicAction(action_id=action.action_id, action_type=ActionType(action.action_type),
                     definition=bytes(action.action_definition) or None,
                     subsequent_action=subsequent)
