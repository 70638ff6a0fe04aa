"""End to end (issue 3 point 9): a test client against the mini-RIC and real simulated cells.

Everything is real and on loopback: Sionna UMi cells, the node runner, the mini-RIC's
Subscription Manager REST API and E2 termination, E2AP/E2SM-KPM (pycrate) and E2SM-CSI /
recommendation (protobuf) codecs, and the pure-Python RMR transport. The client
subscribes through REST, decodes what arrives over RMR, and sends recommendations that
the node acknowledges, applies and scores. Time is simulated (``realtime=False``): the
test decides when each report period happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
import pytest
import torch
from aiohttp import web

from e2sim.cell import CellStep
from e2sim.cell.scheduler import CELL_KPM_NAMES, WB_CQI_DIST
from e2sim.miniric.ric import MiniRic
from e2sim.miniric.submgr import NotifyPolicy
from e2sim.node.runner import NodeRunner, SimSpec
from schemas import e2sm_kpm_asn
from xapp.e2 import csi, e2ap, kpm
from xapp.e2 import recommendation as rec_codec
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import CsiActionDefinition, CsiEventTrigger, CsiReport, Pmi
from xapp.e2.e2ap_messages import RicIndication
from xapp.e2.kpm_types import (
    NO_LABEL,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    MeasurementInfo,
    TestCondition,
    UeIdGnb,
)
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationBatch,
    RejectReason,
)
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
from xapp.subscription.book import SubscriptionBook, SubscriptionEntry
from xapp.subscription.client import SubmgrClient

KPM = 2
SPEC = SimSpec(cells=1, ues=6, scenario="umi", speed_kmh=60.0, period_ms=10, seed=3)


@dataclass
class Loop:
    ric: MiniRic
    runner: NodeRunner
    rmr: Si95Transport
    submgr: SubmgrClient
    book: SubscriptionBook
    http_port: int

    @property
    def meid(self) -> str:
        return self.runner.nodes[0].meid

    async def subscribe(self, ran_function_id: int, trigger: bytes,
                        action_definition: bytes) -> SubscriptionEntry:
        params = SubscriptionParams(
            client_endpoint=ClientEndpoint(host="127.0.0.1", http_port=self.http_port,
                                           rmr_port=self.rmr.port),
            meid=self.meid, ran_function_id=ran_function_id,
            subscription_details=[SubscriptionDetail(
                xapp_event_instance_id=1, event_triggers=list(trigger),
                action_to_be_setup_list=[ActionToBeSetup(
                    action_id=1, action_type="report",
                    action_definition=list(action_definition))])])
        entry = self.book.accepted(await self.submgr.subscribe(params), self.meid,
                                   ran_function_id)
        await asyncio.wait_for(entry.confirmed.wait(), 10)
        return entry

    async def indications(self, sub_id: int, count: int) -> list[RicIndication]:
        """The next ``count`` RIC indications of ``sub_id`` (others are dropped)."""
        out: list[RicIndication] = []
        while len(out) < count:
            msg = await asyncio.wait_for(self.rmr.receive(), 10)
            assert (msg.mtype, msg.meid) == (MessageType.RIC_INDICATION, self.meid)
            if msg.sub_id == sub_id:
                indication = e2ap.decode(msg.payload)
                assert isinstance(indication, RicIndication)
                out.append(indication)
        return out


@asynccontextmanager
async def running_loop(spec: SimSpec) -> AsyncIterator[Loop]:
    torch.set_num_threads(1)
    ric = MiniRic(notify=NotifyPolicy(attempts=3, interval_s=0.05))
    await ric.start()
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=False)
    await runner.start()
    rmr = Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                    ctl_port=None, async_conn=False))
    await rmr.start()
    rmr.load_routes(runner.xapp_routes())
    book = SubscriptionBook()

    async def on_notification(request: web.Request) -> web.Response:
        book.notified(parse(SubscriptionResponse, await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post(NOTIFICATION_PATH, on_notification)
    http = web.AppRunner(app)
    await http.setup()
    await web.TCPSite(http, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Loop(ric, runner, rmr, SubmgrClient(ric.submgr_url, session), book,
                       int(http.addresses[0][1]))
    finally:
        await http.cleanup()
        await runner.stop()
        await ric.stop()
        await rmr.close()


@pytest.fixture
async def loop() -> AsyncIterator[Loop]:
    async with running_loop(SPEC) as env:
        yield env


async def ticks(loop: Loop, n: int) -> dict[float, CellStep]:
    """Run ``n`` report periods; the cell's steps by time [ms]."""
    steps = {}
    for _ in range(n):
        [step] = await loop.runner.tick()
        steps[step.time_ms] = step
    return steps


def csi_subscription(action: CsiActionDefinition, period_ms: int = 10) -> tuple[bytes, bytes]:
    return (csi.encode_event_trigger(CsiEventTrigger(period_ms)),
            csi.encode_action_definition(action))


# --- KPM -----------------------------------------------------------------------------------

async def test_kpm_format1_reports_the_cell_per_granularity_period(loop: Loop) -> None:
    steps = await ticks(loop, 4)  # t = 0, 10, 20, 30 ms
    names = (*CELL_KPM_NAMES, WB_CQI_DIST)
    action = KpmActionDefinitionFormat1(tuple(MeasurementInfo(n) for n in names),
                                        granularity_period_ms=20)
    entry = await loop.subscribe(KPM, kpm.encode_event_trigger(KpmEventTrigger(40)),
                                 kpm.encode_action_definition(action))
    steps |= await ticks(loop, 1)  # t = 40: the report covers (0, 40] in two 20 ms periods
    [indication] = await loop.indications(entry.sub_ids[0], 1)

    report = kpm.decode_indication_message(indication.message)
    assert isinstance(report, KpmIndicationFormat1)
    assert report.granularity_period_ms == 20 and len(report.periods) == 2
    for period, times in zip(report.periods, ((10.0, 20.0), (30.0, 40.0)), strict=True):
        assert not period.incomplete
        row = dict(zip(report.columns(), period.values, strict=True))
        for name in CELL_KPM_NAMES:
            expected = sum(steps[t].cell_kpm[name] for t in times) / 2
            assert row[(name, NO_LABEL)] == pytest.approx(expected, rel=1e-9)
        bins = {label: v for (n, label), v in row.items() if n == WB_CQI_DIST}
        assert bins and all(label.dist_bin_x is not None for label in bins)
        assert all(isinstance(v, int) for v in bins.values())  # counts
        # every UE reports once per step, two steps per granularity period
        assert sum(v for v in bins.values() if isinstance(v, int)) == 2 * SPEC.ues
    header = kpm.decode_indication_header(indication.header)
    assert header.sender_name == "linkfm-e2sim"


async def test_kpm_format4_gives_format3_with_every_matching_ue(loop: Loop) -> None:
    await ticks(loop, 1)
    action = KpmActionDefinitionFormat4(
        conditions=(TestCondition("cQI", "present"),),
        measurements=(MeasurementInfo("DRB.UEThpDl"), MeasurementInfo("L1M.SS-RSRP"),
                      MeasurementInfo("DRB.UEThpUl")),
        granularity_period_ms=10)
    entry = await loop.subscribe(KPM, kpm.encode_event_trigger(KpmEventTrigger(10)),
                                 kpm.encode_action_definition(action))
    [step] = (await ticks(loop, 1)).values()
    [indication] = await loop.indications(entry.sub_ids[0], 1)

    report = kpm.decode_indication_message(indication.message)
    assert isinstance(report, KpmIndicationFormat3)
    by_ue = {ue.amf_ue_ngap_id: r for ue, r in report.by_ue().items()
             if isinstance(ue, UeIdGnb)}
    assert sorted(by_ue) == list(range(SPEC.ues))
    for ue, ue_report in by_ue.items():
        assert ue_report.values("DRB.UEThpDl")[0] == pytest.approx(
            step.ue_kpm[ue]["DRB.UEThpDl"])
        assert ue_report.values("L1M.SS-RSRP")[0] == pytest.approx(
            step.ue_kpm[ue]["L1M.SS-RSRP"])
        assert ue_report.values("DRB.UEThpUl") == (None,)  # not kept by the cell: noValue


async def test_kpm_subscription_with_an_unsupported_format_is_refused_with_a_cause(
        loop: Loop) -> None:
    format3 = {"ric-Style-Type": 3, "actionDefinition-formats": (
        "actionDefinition-Format3",
        {"measCondList": [{"measType": ("measName", "DRB.UEThpDl"),
                           "matchingCond": [{"matchingCondChoice": ("measLabel",
                                                                    {"noLabel": "true"})}]}],
         "granulPeriod": 10})}
    with PYCRATE_LOCK:
        asn = e2sm_kpm_asn.LinkFM_E2SM_KPM.E2SM_KPM_ActionDefinition
        asn.set_val(format3)
        definition = asn.to_aper()
    entry = await loop.subscribe(KPM, kpm.encode_event_trigger(KpmEventTrigger(10)),
                                 definition)
    assert entry.sub_ids == []
    assert entry.errors == ["E2Node: ricRequest:action-not-supported"]
    assert loop.runner.nodes[0].agent.subscriptions == {}


async def test_a_refused_kpm_action_reports_the_cause_the_node_gave(loop: Loop) -> None:
    too_coarse = KpmActionDefinitionFormat1((MeasurementInfo("DRB.UEThpDl"),),
                                            granularity_period_ms=100)
    entry = await loop.subscribe(KPM, kpm.encode_event_trigger(KpmEventTrigger(10)),
                                 kpm.encode_action_definition(too_coarse))
    assert entry.errors == ["E2Node: ricRequest:invalid-information-request"]


# --- CSI -----------------------------------------------------------------------------------

async def test_csi_reports_arrive_per_ue_with_channel_estimates_in_chunks(loop: Loop) -> None:
    action = CsiActionDefinition(report_channel_estimate=True, max_ues_per_indication=4)
    entry = await loop.subscribe(CSI_RAN_FUNCTION_ID, *csi_subscription(action))
    [step] = (await ticks(loop, 1)).values()
    indications = await loop.indications(entry.sub_ids[0], 2)  # 6 UEs: 4 + 2

    definition = loop.runner.nodes[0].cell.definition
    decoded = [csi.decode_indication(i.header, i.message, definition) for i in indications]
    assert [len(d.reports) for d in decoded] == [4, 2]
    assert [d.header.sequence_number for d in decoded] == [0, 1]
    reports = [r for d in decoded for r in d.reports]
    assert reports == list(step.reports)
    estimate = reports[0].channel_estimate
    assert estimate is not None
    assert estimate.shape == (definition.numerology.num_subbands, 2, 4)


async def test_csi_action_selects_ues_and_report_parts(loop: Loop) -> None:
    action = CsiActionDefinition(report_beam_rsrp=False, ue_ids=(1, 4))
    entry = await loop.subscribe(CSI_RAN_FUNCTION_ID, *csi_subscription(action))
    [step] = (await ticks(loop, 1)).values()
    [indication] = await loop.indications(entry.sub_ids[0], 1)

    reports = csi.decode_indication(indication.header, indication.message).reports
    assert [r.ue_id for r in reports] == [1, 4]
    assert all(r.beams == () and r.channel_estimate is None for r in reports)
    assert [r.csi for r in reports] == [step.reports[1].csi, step.reports[4].csi]


async def collect_csi(spec: SimSpec, periods: int) -> list[CsiReport]:
    async with running_loop(spec) as env:
        entry = await env.subscribe(CSI_RAN_FUNCTION_ID,
                                    *csi_subscription(CsiActionDefinition(
                                        report_channel_estimate=True)))
        await ticks(env, periods)
        indications = await env.indications(entry.sub_ids[0], periods)
        return [r for i in indications
                for r in csi.decode_indication(i.header, i.message).reports]


async def test_the_same_seed_gives_the_same_reports_and_another_seed_does_not() -> None:
    spec = replace(SPEC, ues=4)
    first = await collect_csi(spec, 3)
    again = await collect_csi(spec, 3)
    other = await collect_csi(replace(spec, seed=spec.seed + 1), 3)
    assert len(first) == 12
    assert first == again
    assert first != other


# --- recommendations -----------------------------------------------------------------------

def recommend(loop: Loop, step: CellStep, choose: dict[int, tuple[int, Pmi]],
              sequence: int = 0) -> RecommendationBatch:
    cell = loop.runner.nodes[0].cell.cfg.cell_id
    return RecommendationBatch(loop.meid, sequence, 0, tuple(
        Recommendation(e2_node=loop.meid, cell=cell, ue_id=ue, apply_from_slot=step.report_slot,
                       validity_ms=20, rank=rank, pmi=pmi, confidence=Confidence(0.9, 0.9),
                       model_version="test", reason=Reason.FALLBACK)
        for ue, (rank, pmi) in choose.items()))


def reported(step: CellStep) -> dict[int, tuple[int, Pmi]]:
    """Every UE's own reported rank and PMI (what the xApp falls back to)."""
    out = {}
    for r in step.reports:
        assert r.csi is not None
        p = r.csi.pmi
        out[r.ue_id] = (r.csi.ri, Pmi.from_dense(r.csi.ri, 4, p.i11, p.i12, p.i13 or 0, p.i2))
    return out


async def send(loop: Loop, batch: RecommendationBatch) -> rec_codec.RecommendationAck:
    reply = await loop.rmr.call(RmrMessage(mtype=MessageType.LINKFM_RECOMMENDATION,
                                           payload=rec_codec.encode_batch(batch),
                                           meid=loop.meid), timeout=10)
    assert reply.mtype == MessageType.LINKFM_RECOMMENDATION_ACK
    return rec_codec.decode_ack(reply.payload)


async def test_recommendation_is_acknowledged_applied_after_the_delay_and_scored(
        loop: Loop) -> None:
    [step] = (await ticks(loop, 1)).values()
    choice = reported(step)
    ack = await send(loop, recommend(loop, step, choice, sequence=7))
    assert (ack.e2_node, ack.batch_sequence, ack.accepted_count, ack.rejected) == (
        loop.meid, 7, SPEC.ues, ())

    [scored] = (await ticks(loop, 1)).values()  # t + 10 ms: past the 2 ms control delay
    assert scored.scores is not None
    assert bool(scored.scores.active.all())
    # The recommended values are the UEs' own: the xApp scores what legacy scores.
    assert torch.allclose(scored.scores.se_xapp, scored.scores.se_legacy)
    board = loop.runner.scoreboard()[loop.meid]
    assert board["reports_with_recommendation"] == SPEC.ues
    assert board["node"]["accepted"] == SPEC.ues


async def test_a_different_recommendation_changes_what_is_scored(loop: Loop) -> None:
    [step] = (await ticks(loop, 1)).values()
    own = reported(step)
    rank1 = {ue: (1, Pmi(0, 0, 0)) for ue in own}
    await send(loop, recommend(loop, step, rank1))
    [scored] = (await ticks(loop, 1)).values()
    assert scored.scores is not None
    differs = torch.tensor([own[ue] != rank1[ue] for ue in sorted(own)])
    assert bool(differs.any())
    changed = ~torch.isclose(scored.scores.se_xapp, scored.scores.se_legacy)
    assert torch.equal(changed, differs)


async def test_recommendations_the_cell_cannot_use_are_rejected_in_the_ack(loop: Loop) -> None:
    [step] = (await ticks(loop, 1)).values()
    batch = recommend(loop, step, {0: (1, Pmi(0, 0, 0)), 99: (1, Pmi(0, 0, 0))})
    ack = await send(loop, batch)
    assert ack.accepted_count == 1
    assert [(r.ue_id, r.reason) for r in ack.rejected] == [(99, RejectReason.UNKNOWN_UE)]


async def test_a_batch_that_does_not_decode_is_counted_and_the_node_keeps_serving(
        loop: Loop) -> None:
    [step] = (await ticks(loop, 1)).values()
    assert await loop.rmr.send(RmrMessage(mtype=MessageType.LINKFM_RECOMMENDATION,
                                          payload=b"\xff not protobuf", meid=loop.meid))
    ack = await send(loop, recommend(loop, step, reported(step)))
    assert ack.accepted_count == SPEC.ues
    assert loop.runner.nodes[0].counters.bad_batches == 1
    assert loop.runner.nodes[0].bad_messages == 1


# --- node restart --------------------------------------------------------------------------

async def test_node_restart_drops_its_subscriptions_and_a_resubscription_reports_again(
        loop: Loop) -> None:
    trigger, definition = csi_subscription(CsiActionDefinition())
    await loop.subscribe(CSI_RAN_FUNCTION_ID, trigger, definition)
    assert len(await loop.submgr.list()) == 1

    await loop.runner.nodes[0].restart()
    assert await loop.submgr.list() == []
    assert loop.runner.nodes[0].agent.subscriptions == {}

    entry = await loop.subscribe(CSI_RAN_FUNCTION_ID, trigger, definition)
    await ticks(loop, 1)
    [indication] = await loop.indications(entry.sub_ids[0], 1)
    assert len(csi.decode_indication(indication.header, indication.message).reports) == SPEC.ues
