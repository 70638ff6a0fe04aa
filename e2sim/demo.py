"""The local demo: a mini-RIC, simulated E2 nodes and a subscriber, all on loopback.

What runs today (the wire layer, end to end): the subscriber subscribes to E2SM-CSI on
every cell through the Subscription Manager REST API, each E2 node sends a CSI
indication per report period (E2AP + protobuf, channel tensors included) over the
pure-Python RMR transport, the mini-RIC routes them by sub_id, and the subscriber
decodes every one. The reports are synthetic (random channels): the Sionna channel
physics, the model and the spectral-efficiency scoreboard join this loop as the
simulator and xApp issues land.
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
from e2sim.node.agent import E2NodeAgent
from e2sim.node.service_models import CsiServiceModel
from xapp.e2 import csi, e2ap
from xapp.e2.csi_types import RAN_FUNCTION_ID, CsiActionDefinition, CsiEventTrigger
from xapp.e2.e2ap_messages import GlobalGnbId, RicIndication
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
from xapp.subscription.book import SubscriptionBook
from xapp.subscription.client import Backoff, SubmgrClient, retry


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
    """Decodes every indication it receives and keeps the tallies."""

    transport: Si95Transport = field(default_factory=_transport)
    book: SubscriptionBook = field(default_factory=SubscriptionBook)
    indications: int = 0
    reports: int = 0
    bad: int = 0
    decode_s: list[float] = field(default_factory=list)

    async def run(self) -> None:
        async for msg in self.transport:
            start = time.perf_counter()
            try:
                indication = e2ap.decode(msg.payload)
                assert isinstance(indication, RicIndication)
                decoded = csi.decode_indication(indication.header, indication.message)
            except Exception:
                self.bad += 1
                continue
            self.decode_s.append(time.perf_counter() - start)
            self.indications += 1
            self.reports += len(decoded.reports)

    async def on_notification(self, request: web.Request) -> web.Response:
        self.book.notified(parse(SubscriptionResponse, await request.json()))
        return web.Response()


async def _node(ric: MiniRic, index: int, ues: int) -> tuple[E2NodeAgent, Si95Transport]:
    transport = _transport()
    await transport.start()
    transport.load_routes(
        "newrt|start\n"
        f"mse|{MessageType.E2_SETUP_REQ}|-1|{ric.rmr_endpoint}\n"
        f"mse|{MessageType.RIC_INDICATION}|-1|{ric.rmr_endpoint}\n"
        "newrt|end\n")
    agent = E2NodeAgent(transport, f"gnb_001_001_{index:08x}",
                        GlobalGnbId(plmn=bytes.fromhex("00f110"), gnb_id=index),
                        {RAN_FUNCTION_ID: CsiServiceModel(csi.example_ran_function())})
    await agent.setup()
    agent.start()
    return agent, transport


async def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    ric = MiniRic()
    await ric.start()
    nodes = [await _node(ric, i + 1, args.ues) for i in range(args.cells)]
    sub = Subscriber()
    await sub.transport.start()
    app = web.Application()
    app.router.add_post(NOTIFICATION_PATH, sub.on_notification)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver = asyncio.create_task(sub.run())
    payloads = {agent.meid: csi.encode_indication(csi.example_indication(n_ues=args.ues,
                                                                        seed=i))
                for i, (agent, _) in enumerate(nodes)}
    async with aiohttp.ClientSession() as session:
        client = SubmgrClient(ric.submgr_url, session)
        for agent, _ in nodes:
            params = SubscriptionParams(
                client_endpoint=ClientEndpoint(host="127.0.0.1",
                                               http_port=int(runner.addresses[0][1]),
                                               rmr_port=sub.transport.port),
                meid=agent.meid, ran_function_id=RAN_FUNCTION_ID,
                subscription_details=[SubscriptionDetail(
                    xapp_event_instance_id=1,
                    event_triggers=list(csi.encode_event_trigger(
                        CsiEventTrigger(args.period_ms))),
                    action_to_be_setup_list=[ActionToBeSetup(
                        action_id=1, action_type="report",
                        action_definition=list(csi.encode_action_definition(
                            CsiActionDefinition(report_channel_estimate=True))))])])
            response = await retry(functools.partial(client.subscribe, params), Backoff(), 5)
            entry = sub.book.accepted(response, agent.meid, RAN_FUNCTION_ID)
            await asyncio.wait_for(entry.confirmed.wait(), 10)

        start = time.monotonic()
        sent = 0
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            while (elapsed := time.monotonic() - start) < args.duration:
                for agent, _ in nodes:
                    for subscription, plan in agent.due(elapsed * 1000):
                        header, message = payloads[agent.meid]
                        sent += await agent.indicate(subscription, plan.action_id, header,
                                                     message)
                live.update(f"[{elapsed:5.1f}/{args.duration:.0f} s] indications sent {sent}"
                            f"  received {sub.indications}  UE reports {sub.reports}"
                            f"  bad {sub.bad}")
                await asyncio.sleep(args.period_ms / 4000)
        await asyncio.sleep(0.2)
    receiver.cancel()
    await runner.cleanup()
    for agent, transport in nodes:
        await agent.stop()
        await transport.close()
    await ric.stop()
    await sub.transport.close()
    lat = sorted(sub.decode_s) or [float("nan")]
    return {"cells": args.cells, "ues_per_cell": args.ues, "period_ms": args.period_ms,
            "seconds": args.duration, "indications_sent": sent,
            "indications_received": sub.indications, "ue_reports_decoded": sub.reports,
            "ue_reports_per_s": sub.reports / args.duration, "bad": sub.bad,
            "decode_p50_ms": 1e3 * lat[len(lat) // 2],
            "decode_p99_ms": 1e3 * lat[min(len(lat) - 1, int(0.99 * len(lat)))]}


def main(args: argparse.Namespace) -> int:
    console = Console()
    console.print("[bold]LinkFM local demo[/] — wire layer end to end (mini-RIC, "
                  f"{args.cells} E2 nodes x {args.ues} UEs, CSI every {args.period_ms} ms)")
    console.print("[yellow]Synthetic reports; the Sionna physics, the model and the SE "
                  "scoreboard join this loop with the simulator and xApp issues.[/]")
    summary = asyncio.run(_run(args, console))
    table = Table(title="summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)
    return 0 if summary["indications_received"] and not summary["bad"] else 1
