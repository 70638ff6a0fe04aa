"""One simulated E2 node: an :class:`E2NodeAgent` serving one :class:`~e2sim.cell.Cell`.

Per report period the runner calls :meth:`SimulatedNode.step`: the cell advances (in a
worker thread, so RMR traffic keeps flowing), its KPM joins the node's history, and every
subscribed action that has fallen due gets its indications: E2SM-KPM format 1 (cell) or
format 3 (matching UEs), E2SM-CSI per UE (``max_ues_per_indication`` per message).

Recommendation batches (``LINKFM_RECOMMENDATION``) are decoded and handed to the cell,
which applies each after its control delay until it expires; the node answers each
decodable batch with a ``RecommendationAck`` (accepted count and per-UE rejections).
The cell is never touched by two threads at once: stepping and applying share a lock.
A batch that does not decode is counted and left unanswered; nothing a peer sends stops
the node.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from e2sim.cell import Cell, CellStep
from e2sim.cell.scheduler import CELL_KPM_NAMES, UE_KPM_NAMES, WB_CQI_DIST
from e2sim.node.agent import ActionPlan, E2NodeAgent, NodeSubscription
from e2sim.node.csi_reports import csi_indications, ntp_of
from e2sim.node.kpm_reports import KpmHistory, KpmSample, cell_report, kpm_header, ue_report
from e2sim.node.service_models import KPM_RAN_FUNCTION_ID, CsiServiceModel, KpmServiceModel
from xapp.e2 import csi, kpm
from xapp.e2 import recommendation as rec_codec
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import CsiActionDefinition
from xapp.e2.e2ap_messages import GlobalGnbId
from xapp.e2.kpm_types import (
    Guami,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmIndicationMessage,
    NrCgi,
)
from xapp.e2.recommendation import RecommendationAck, Rejection, RejectReason
from xapp.errors import EncodeError, MalformedInput
from xapp.rmr.message import RmrMessage
from xapp.rmr.transport import RmrTransport

log = logging.getLogger(__name__)

OFFERED_KPM = tuple(dict.fromkeys((*UE_KPM_NAMES, *CELL_KPM_NAMES, WB_CQI_DIST)))
"""Every TS 28.552 name the simulated cell keeps (the KPM RAN function's offer)."""
MIN_KPM_WINDOW_MS = 1000.0


@dataclass
class NodeCounters:
    """Totals of one node (read by ``linkfm sim`` and the tests).

    Attributes:
        steps: report periods simulated.
        indications / send_failed: RIC indications sent / that RMR could not deliver.
        batches: recommendation batches decoded; acks_sent: answered.
        accepted / rejected: recommendations the cell took / refused.
        bad_batches: recommendation payloads that did not decode (not answered).
        restarts: E2 setups after the first.
    """

    steps: int = 0
    indications: int = 0
    send_failed: int = 0
    batches: int = 0
    acks_sent: int = 0
    accepted: int = 0
    rejected: int = 0
    bad_batches: int = 0
    restarts: int = 0


class SimulatedNode:
    """An E2 node named ``meid`` (gNB id ``gnb_id``) whose only cell is ``cell``.

    ``start_unix_s`` anchors simulated time to wall time in the indication headers;
    ``realtime`` says whether a recommendation's arrival is timed by the wall clock
    within the current report period (else it arrives at the cell's current instant).
    """

    def __init__(self, cell: Cell, meid: str, gnb_id: int, transport: RmrTransport,
                 start_unix_s: float | None = None, realtime: bool = False) -> None:
        self.cell = cell
        self.meid = meid
        self.transport = transport
        self.realtime = realtime
        self.start_unix_s = time.time() if start_unix_s is None else start_unix_s
        self.counters = NodeCounters()
        self.history = KpmHistory(MIN_KPM_WINDOW_MS)
        self.last_step: CellStep | None = None
        cgi = cell.cfg.cell_id
        self.kpm_cell = NrCgi(cgi.plmn_id, cgi.nr_cell_identity)
        self.guami = Guami(cgi.plmn_id, 1, 1, 1)
        self.agent = E2NodeAgent(
            transport, meid, GlobalGnbId(plmn=cgi.plmn_id, gnb_id=gnb_id),
            {CSI_RAN_FUNCTION_ID: CsiServiceModel(cell.definition),
             KPM_RAN_FUNCTION_ID: KpmServiceModel(OFFERED_KPM, self.kpm_cell)},
            on_recommendation=self._on_recommendation)
        self._lock = asyncio.Lock()
        self._csi_sequence: dict[tuple[int, int], int] = {}
        self._step_wall = time.monotonic()
        self._setups = 0

    # --- lifecycle ---------------------------------------------------------------------------
    async def connect(self) -> None:
        """E2 setup with the RIC, then serve its procedures."""
        await self.agent.setup()
        self._setups += 1
        self.counters.restarts = self._setups - 1
        self.agent.start()

    async def restart(self) -> None:
        """What a gNB reboot looks like to the RIC: the agent stops, a new E2 setup follows
        (the RIC drops the node's subscriptions); the radio keeps running."""
        await self.agent.stop()
        self._csi_sequence.clear()
        await self.connect()

    async def stop(self) -> None:
        await self.agent.stop()

    @property
    def bad_messages(self) -> int:
        return self.agent.bad_messages + self.counters.bad_batches

    # --- time --------------------------------------------------------------------------------
    def now_ms(self) -> float:
        """The node's simulated time: the cell's last report instant, plus (in real time)
        the wall time since that step, up to one report period."""
        if not self.realtime:
            return self.cell.time_ms
        since = (time.monotonic() - self._step_wall) * 1e3
        return self.cell.time_ms + min(max(since, 0.0), self.cell.cfg.report_period_ms * 0.999)

    # --- one report period ---------------------------------------------------------------
    async def step(self) -> CellStep:
        """Advance the cell one report period and send what has fallen due."""
        async with self._lock:
            step = await asyncio.to_thread(self.cell.step)
            self._step_wall = time.monotonic()
        self.last_step = step
        self.counters.steps += 1
        self.history.window_ms = max([MIN_KPM_WINDOW_MS, *self._kpm_periods()])
        self.history.add(KpmSample.from_step(step))
        for sub, plan in self.agent.due(step.time_ms):
            await self._report(sub, plan, step)
        return step

    def _kpm_periods(self) -> list[float]:
        return [float(p.period_ms) for s in self.agent.subscriptions.values()
                for p in s.plans.values()
                if not isinstance(p.definition, CsiActionDefinition)]

    async def _report(self, sub: NodeSubscription, plan: ActionPlan, step: CellStep) -> None:
        action = plan.definition
        messages: list[tuple[bytes, bytes]] = []
        if isinstance(action, CsiActionDefinition):
            key = (sub.sub_id, plan.action_id)
            found = csi_indications(step.reports, action, self.cell.cfg.cell_id,
                                    ntp_of(self.start_unix_s + step.time_ms / 1e3),
                                    self._csi_sequence.get(key, 0))
            self._csi_sequence[key] = self._csi_sequence.get(key, 0) + len(found)
            messages = [csi.encode_indication(i, step.definition) for i in found]
        else:
            message: KpmIndicationMessage | None
            if isinstance(action, KpmActionDefinitionFormat1):
                message = cell_report(self.history, step.time_ms, plan.period_ms, action)
            elif isinstance(action, KpmActionDefinitionFormat4):
                message = ue_report(self.history, step.time_ms, plan.period_ms, action,
                                    self.guami)
            else:
                return
            if message is not None:
                header = kpm_header(self.start_unix_s, step.time_ms - plan.period_ms)
                messages = [(kpm.encode_indication_header(header),
                             kpm.encode_indication_message(message))]
        for header_bytes, message_bytes in messages:
            if await self.agent.indicate(sub, plan.action_id, header_bytes, message_bytes):
                self.counters.indications += 1
            else:
                self.counters.send_failed += 1

    # --- recommendations ---------------------------------------------------------------------
    async def _on_recommendation(self, msg: RmrMessage) -> bytes | None:
        try:
            batch = rec_codec.decode_batch(msg.payload)
        except MalformedInput as exc:
            self.counters.bad_batches += 1
            log.warning("%s: bad recommendation batch: %s", self.meid, exc)
            return None
        self.counters.batches += 1
        if batch.e2_node != self.meid:
            rejected = tuple(Rejection(r.ue_id, RejectReason.OTHER, "batch for another node")
                             for r in batch.recommendations)
            accepted = 0
        else:
            async with self._lock:
                result = self.cell.apply(batch.recommendations, self.now_ms())
            accepted, rejected = result.accepted, result.rejected
        self.counters.accepted += accepted
        self.counters.rejected += len(rejected)
        try:
            ack = rec_codec.encode_ack(RecommendationAck(self.meid, batch.sequence, accepted,
                                                         rejected))
        except EncodeError as exc:  # a bug, not the peer's fault: keep serving
            log.error("%s: cannot encode the ack: %s", self.meid, exc)
            return None
        self.counters.acks_sent += 1
        return ack
