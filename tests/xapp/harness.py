"""A loopback world for xApp tests: the mini-RIC, one simulated E2 node that reports CSI
(and KPM) on its own clock, a consumer that acknowledges recommendations, an A1 mediator
stand-in, and the xApp itself with its notification endpoint. Real codecs, real RMR
(pure-Python SI95 over TCP), real submgr REST over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from e2sim.miniric.ric import MiniRic
from e2sim.miniric.submgr import NotifyPolicy
from e2sim.node.agent import ActionPlan, E2NodeAgent, NodeSubscription
from e2sim.node.service_models import CsiServiceModel
from xapp.app import LinkFmApp, RuntimeOptions
from xapp.decide.predictor import ClassicalPredictor, Predictor
from xapp.e2 import csi, kpm
from xapp.e2 import recommendation as rec_codec
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.e2ap_messages import ActionType, GlobalGnbId, RanFunction, RicAction
from xapp.e2.recommendation import RecommendationAck, RecommendationBatch
from xapp.errors import MalformedInput
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.subscriber import Subscriber, SubscriberOptions
from xapp.subscription.api import NOTIFICATION_PATH, ClientEndpoint
from xapp.subscription.client import Backoff, SubmgrClient

MEID = "gnb_001_001_00000001"
N_UES = 4
CSI_PERIOD_MS = 20
KPM_PERIOD_MS = 100
PREDICT_IN_THREAD = False
# KPM decoded inline: a worker process per world costs seconds of start-up per test;
# tests/xapp/test_kpm_worker.py runs the xApp with it.
KPM_IN_PROCESS = False
KPM_NAMES = ("DRB.UEThpDl", "L1M.SS-RSRP")
CELL = csi.example_indication(n_ues=1).header.cell


def rmr_transport() -> Si95Transport:
    return Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                     ctl_port=None, async_conn=False))


@dataclass(frozen=True)
class KpmServiceModel:
    """E2SM-KPM as the simulated node offers it: any valid trigger and action definition."""

    @property
    def ran_function(self) -> RanFunction:
        return RanFunction(ran_function_id=2, definition=b"\x00", revision=1,
                           oid="1.3.6.1.4.1.53148.1.2.2.2")

    def admit(self, event_trigger: bytes, action: RicAction) -> ActionPlan:
        if action.action_type is not ActionType.REPORT or action.definition is None:
            raise MalformedInput("unsupported_action", "only REPORT with a definition")
        trigger = kpm.decode_event_trigger(event_trigger)
        return ActionPlan(action.action_id, trigger.reporting_period_ms,
                          kpm.decode_action_definition(action.definition))


@dataclass
class Consumer:
    """The node's recommendation handler: keeps every batch and acknowledges all of it."""

    batches: list[RecommendationBatch] = field(default_factory=list)
    acknowledge: bool = True

    async def __call__(self, msg: RmrMessage) -> bytes | None:
        batch = rec_codec.decode_batch(msg.payload)
        self.batches.append(batch)
        if not self.acknowledge:
            return None
        return rec_codec.encode_ack(RecommendationAck(batch.e2_node, batch.sequence,
                                                      len(batch.recommendations)))

    @property
    def recommendations(self) -> list[rec_codec.Recommendation]:
        return [r for b in self.batches for r in b.recommendations]


@dataclass
class CellDriver:
    """Sends every due report of the node: CSI with channel estimates, KPM format 3.

    ``garbage`` > 0 replaces that many of the next CSI indications' payloads with bytes
    that are not E2AP (sent with the right sub_id, as a broken node would).
    """

    node: E2NodeAgent
    garbage: int = 0
    sent: int = 0
    tick: int = 0
    _task: asyncio.Task[None] | None = None

    async def _send(self, sub: NodeSubscription, plan: ActionPlan) -> None:
        self.tick += 1
        if sub.ran_function_id == CSI_RAN_FUNCTION_ID:
            if self.garbage > 0:
                self.garbage -= 1
                await self.node.transport.send(RmrMessage(
                    mtype=MessageType.RIC_INDICATION, payload=b"\x00garbage\xff" * 3,
                    sub_id=sub.sub_id, meid=self.node.meid))
                return
            header, message = csi.encode_indication(csi.example_indication(
                n_ues=N_UES, seed=self.tick))
        else:
            kpm_header, _ = kpm.sample_indication(1)
            _, body = kpm.sample_indication(N_UES, seed=self.tick)
            header = kpm.encode_indication_header(kpm_header)
            message = kpm.encode_indication_message(body)
        if await self.node.indicate(sub, plan.action_id, header, message):
            self.sent += 1

    async def _run(self) -> None:
        while True:
            for sub, plan in self.node.due(time.monotonic() * 1000.0):
                await self._send(sub, plan)
            await asyncio.sleep(0.005)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class World:
    ric: MiniRic
    node: E2NodeAgent
    driver: CellDriver
    consumer: Consumer
    mediator: Si95Transport
    app: LinkFmApp

    async def wait_for(self, condition: Callable[[], bool], what: str,
                       timeout: float = 15.0) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def world(predictor: Predictor | None = None, kpm_period_ms: int = KPM_PERIOD_MS,
                silence_periods: int = 5,
                kpm_in_process: bool = KPM_IN_PROCESS) -> AsyncIterator[World]:
    """Everything started and the node set up; the xApp is started by the caller's test
    through ``w.app.start()`` so that it can adjust the parts first."""
    ric = MiniRic(notify=NotifyPolicy(attempts=3, interval_s=0.05))
    await ric.start()
    node_rmr, xapp_rmr, mediator = rmr_transport(), rmr_transport(), rmr_transport()
    for t in (node_rmr, xapp_rmr, mediator):
        await t.start()
    consumer = Consumer()
    node = E2NodeAgent(node_rmr, MEID, GlobalGnbId(plmn=bytes.fromhex("00f110"), gnb_id=1),
                       {CSI_RAN_FUNCTION_ID: CsiServiceModel(csi.example_ran_function()),
                        2: KpmServiceModel()},
                       on_recommendation=consumer)
    node_rmr.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.E2_SETUP_REQ}|-1|{ric.rmr_endpoint}\n"
        f"mse|{MessageType.RIC_INDICATION}|-1|{ric.rmr_endpoint}\n"
        "newrt|end\n")
    xapp_rmr.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|127.0.0.1:{node_rmr.port}\n"
        f"mse|{MessageType.A1_POLICY_QUERY}|-1|127.0.0.1:{mediator.port}\n"
        "newrt|end\n")
    mediator.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.A1_POLICY_REQ}|-1|127.0.0.1:{xapp_rmr.port}\n"
        "newrt|end\n")

    holder: list[LinkFmApp] = []

    async def on_notification(request: web.Request) -> web.Response:
        try:
            await holder[0].on_subscription_notification(await request.read())
        except MalformedInput as exc:
            return web.Response(status=400, text=str(exc))
        return web.Response()

    http = web.Application()
    http.router.add_post(NOTIFICATION_PATH, on_notification)
    runner = web.AppRunner(http)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    http_port = int(runner.addresses[0][1])

    await node.setup()
    node.start()
    driver = CellDriver(node)
    driver.start()
    async with aiohttp.ClientSession() as session:
        options = SubscriberOptions(
            nodes=(MEID,), endpoint=ClientEndpoint(host="127.0.0.1", http_port=http_port,
                                                   rmr_port=xapp_rmr.port),
            kpm_period_ms=kpm_period_ms, kpm_measurements=KPM_NAMES,
            csi_period_ms=CSI_PERIOD_MS, silence_periods=silence_periods, min_silence_s=1.0,
            confirm_timeout_s=3.0, backoff=Backoff(initial_s=0.05, cap_s=0.2))
        subscriber = Subscriber(SubmgrClient(ric.submgr_url, session), options)
        app = LinkFmApp(xapp_rmr, subscriber, predictor or ClassicalPredictor(),
                        RuntimeOptions(deadline_s=0.005, max_batch=64,
                                       predict_in_thread=PREDICT_IN_THREAD,
                                       kpm_in_process=kpm_in_process))
        holder.append(app)
        try:
            yield World(ric, node, driver, consumer, mediator, app)
        finally:
            await app.stop()
            await driver.stop()
            await runner.cleanup()
            await node.stop()
            await ric.stop()
            for t in (node_rmr, xapp_rmr, mediator):
                await t.close()
