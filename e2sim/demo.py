"""The local demo: a mini-RIC, simulated cells as E2 nodes, and a subscriber, on loopback.

Each E2 node is a real simulated cell (Sionna UMi channels, UEs at 60 km/h, Type-I CSI
from their own channel estimates, a proportional-fair scheduler's KPM, the closed-loop
scoreboard). The subscriber subscribes to E2SM-CSI (channel tensors included) and to
per-UE E2SM-KPM (format 4 -> format 3) on every cell through the Subscription Manager
REST API, and decodes every indication the mini-RIC routes to it over the pure-Python
RMR transport. It sends no recommendations, so the scoreboard shows legacy CSI against
the oracle; run the xApp against ``linkfm sim`` for the closed loop.

The cells step in simulated real time and never run ahead of the wall clock; when they
cannot keep up, the summary shows the real-time factor achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.live import Live
from rich.table import Table

from e2sim.miniric.ric import MiniRic
from e2sim.node.runner import NodeRunner, SimSpec
from e2sim.node.service_models import KPM_RAN_FUNCTION_ID
from e2sim.sim_cli import scoreboard_table
from xapp.e2 import csi, e2ap, kpm
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import CsiActionDefinition, CsiEventTrigger
from xapp.e2.e2ap_messages import RicIndication
from xapp.e2.kpm_types import (
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    KpmIndicationFormat3,
    MeasurementInfo,
    TestCondition,
)
from xapp.errors import MalformedInput
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
from xapp.subscription.client import Backoff, SubmgrClient, retry

KPM_PERIOD_MS = 100
KPM_NAMES = ("DRB.UEThpDl", "RRU.PrbUsedDl", "CARR.AverageLayersDl", "L1M.SS-RSRP",
             "MR.NRScSSSINR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cells", type=int, default=2, help="E2 nodes (one cell each)")
    parser.add_argument("--ues", type=int, default=32, help="UEs per cell")
    parser.add_argument("--period-ms", type=int, default=10, help="CSI report period")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to run")


def _transport() -> Si95Transport:
    return Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                     ctl_port=None, async_conn=False))


@dataclass
class Subscriber:
    """Decodes every indication it receives (CSI or KPM, told apart by sub_id)."""

    transport: Si95Transport = field(default_factory=_transport)
    book: SubscriptionBook = field(default_factory=SubscriptionBook)
    kpm_sub_ids: set[int] = field(default_factory=set)
    indications: int = 0
    csi_reports: int = 0
    kpm_ue_reports: int = 0
    bad: int = 0
    decode_s: list[float] = field(default_factory=list)

    async def run(self) -> None:
        async for msg in self.transport:
            start = time.perf_counter()
            try:
                indication = e2ap.decode(msg.payload)
                if not isinstance(indication, RicIndication):
                    raise MalformedInput("unexpected_pdu", type(indication).__name__)
                if msg.sub_id in self.kpm_sub_ids:
                    kpm.decode_indication_header(indication.header)
                    message = kpm.decode_indication_message(indication.message)
                    if isinstance(message, KpmIndicationFormat3):
                        self.kpm_ue_reports += len(message.reports)
                else:
                    decoded = csi.decode_indication(indication.header, indication.message)
                    self.csi_reports += len(decoded.reports)
            except MalformedInput:
                self.bad += 1
                continue
            self.decode_s.append(time.perf_counter() - start)
            self.indications += 1

    async def on_notification(self, request: web.Request) -> web.Response:
        self.book.notified(parse(SubscriptionResponse, await request.json()))
        return web.Response()


def _params(sub: Subscriber, http_port: int, meid: str, ran_function_id: int, trigger: bytes,
            action_definition: bytes) -> SubscriptionParams:
    return SubscriptionParams(
        client_endpoint=ClientEndpoint(host="127.0.0.1", http_port=http_port,
                                       rmr_port=sub.transport.port),
        meid=meid, ran_function_id=ran_function_id,
        subscription_details=[SubscriptionDetail(
            xapp_event_instance_id=1, event_triggers=list(trigger),
            action_to_be_setup_list=[ActionToBeSetup(
                action_id=1, action_type="report",
                action_definition=list(action_definition))])])


async def _subscribe_all(sub: Subscriber, client: SubmgrClient, http_port: int,
                         runner: NodeRunner, period_ms: int) -> None:
    csi_action = (csi.encode_event_trigger(CsiEventTrigger(period_ms)),
                  csi.encode_action_definition(CsiActionDefinition(report_channel_estimate=True)))
    kpm_action = (kpm.encode_event_trigger(KpmEventTrigger(KPM_PERIOD_MS)),
                  kpm.encode_action_definition(KpmActionDefinitionFormat4(
                      (TestCondition("cQI", "present"),),
                      tuple(MeasurementInfo(n) for n in KPM_NAMES), KPM_PERIOD_MS)))
    for node in runner.nodes:
        for function, (trigger, definition) in ((CSI_RAN_FUNCTION_ID, csi_action),
                                                (KPM_RAN_FUNCTION_ID, kpm_action)):
            params = _params(sub, http_port, node.meid, function, trigger, definition)
            response = await retry(functools.partial(client.subscribe, params), Backoff(), 5)
            entry = sub.book.accepted(response, node.meid, function)
            await asyncio.wait_for(entry.confirmed.wait(), 10)
            if function == KPM_RAN_FUNCTION_ID:
                sub.kpm_sub_ids.update(entry.sub_ids)


async def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    ric = MiniRic()
    await ric.start()
    spec = SimSpec(cells=args.cells, ues=args.ues, scenario="umi", speed_kmh=60.0,
                   period_ms=args.period_ms, seed=0)
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=True)
    await runner.start()
    sub = Subscriber()
    await sub.transport.start()
    app = web.Application()
    app.router.add_post(NOTIFICATION_PATH, sub.on_notification)
    http = web.AppRunner(app)
    await http.setup()
    await web.TCPSite(http, "127.0.0.1", 0).start()
    receiver = asyncio.create_task(sub.run())
    async with aiohttp.ClientSession() as session:
        client = SubmgrClient(ric.submgr_url, session)
        await _subscribe_all(sub, client, int(http.addresses[0][1]), runner, args.period_ms)
        start = time.monotonic()
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            while (elapsed := time.monotonic() - start) < args.duration:
                await runner.tick()
                sim_s = runner.sim_time_ms / 1e3
                live.update(f"[{elapsed:5.1f}/{args.duration:.0f} s] simulated {sim_s:6.2f} s"
                            f" (x{sim_s / max(elapsed, 1e-9):.2f} real time)  indications "
                            f"{sub.indications}  CSI reports {sub.csi_reports}  KPM UE "
                            f"reports {sub.kpm_ue_reports}  bad {sub.bad}")
        await asyncio.sleep(0.2)
    receiver.cancel()
    await http.cleanup()
    sent = sum(n.counters.indications for n in runner.nodes)
    board = runner.scoreboard()
    await runner.stop()
    await ric.stop()
    await sub.transport.close()
    lat = sorted(sub.decode_s) or [float("nan")]
    wall = time.monotonic() - start
    return {"cells": args.cells, "ues_per_cell": args.ues, "period_ms": args.period_ms,
            "seconds": wall, "simulated_s": runner.sim_time_ms / 1e3,
            "real_time_factor": runner.sim_time_ms / 1e3 / max(wall, 1e-9),
            "indications_sent": sent, "indications_received": sub.indications,
            "csi_ue_reports_decoded": sub.csi_reports,
            "kpm_ue_reports_decoded": sub.kpm_ue_reports,
            "csi_ue_reports_per_s": sub.csi_reports / max(wall, 1e-9), "bad": sub.bad,
            "decode_p50_ms": 1e3 * lat[len(lat) // 2],
            "decode_p99_ms": 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "scoreboard": board}


def main(args: argparse.Namespace) -> int:
    console = Console()
    console.print("[bold]LinkFM local demo[/]: mini-RIC, "
                  f"{args.cells} simulated cells x {args.ues} UEs (Sionna UMi, 60 km/h), "
                  f"CSI every {args.period_ms} ms and per-UE KPM every {KPM_PERIOD_MS} ms "
                  "to a decoding subscriber")
    summary = asyncio.run(_run(args, console))
    board = summary.pop("scoreboard")
    table = Table(title="summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(scoreboard_table(board))
    return 0 if summary["indications_received"] and not summary["bad"] else 1
