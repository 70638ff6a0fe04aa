"""``linkfm sim``: the mini-RIC and N simulated E2 nodes, for an xApp to connect to.

Starts the mini-RIC (Subscription Manager REST + E2 termination over RMR) and one E2
node per cell (Sionna channels, CSI and KPM reports, the closed-loop scoreboard), prints
what an external xApp needs (submgr URL, RMR endpoint, its route table), runs for
``--duration`` seconds of simulated time with a live summary line, and ends with the
scoreboard per cell: mean spectral efficiency with legacy CSI, with the xApp's
recommendations where they acted, and with the oracle's choice (table, and JSON with
``--out``). With no xApp connected the xApp column equals legacy.

Example::

    linkfm sim --cells 2 --ues 16 --scenario umi --speed 60 --period-ms 10 \\
        --duration 30 --seed 1 --out scoreboard.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from e2sim.channel.config import SCENARIOS, ChannelConfig
from e2sim.miniric.ric import MiniRic
from e2sim.node.runner import NodeRunner, SimSpec


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cells", type=_positive_int, default=2,
                        help="E2 nodes (one cell each)")
    parser.add_argument("--ues", type=_positive_int, default=16, help="UEs per cell")
    parser.add_argument("--scenario", default="umi", choices=SCENARIOS,
                        help="channel model (system-level umi/uma, link-level CDL/TDL)")
    parser.add_argument("--speed", type=_positive_float, default=60.0,
                        help="UE speed [km/h]")
    parser.add_argument("--period-ms", type=_positive_int, default=10,
                        help="CSI report period = simulation step [ms]")
    parser.add_argument("--duration", type=_positive_float, default=10.0,
                        help="simulated time to run [s] ('inf': until Ctrl-C)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same reports")
    parser.add_argument("--realtime", choices=("on", "off"), default="on",
                        help="pace simulated time by the wall clock, or run as fast as "
                             "possible")
    parser.add_argument("--control-delay-ms", type=float, default=2.0,
                        help="from a recommendation's arrival to its earliest effect")
    parser.add_argument("--parallel-cells", action="store_true",
                        help="step the cells concurrently in threads (pays on free cores)")
    parser.add_argument("--anchor-draws", choices=("process", "thread"), default="process",
                        help="where the cells' Sionna anchor draws run: one worker process "
                             "(on another core; 64 UEs per cell run faster than real time "
                             "with it) or a thread per cell (takes turns on the GIL)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--rmr-port", type=int, default=0,
                        help="mini-RIC RMR port (0: any free port)")
    parser.add_argument("--http-port", type=int, default=0,
                        help="mini-RIC submgr REST port (0: any free port)")
    parser.add_argument("--out", type=Path, help="write the scoreboard as JSON here")
    parser.add_argument("--xapp-routes", type=Path,
                        help="also write the xApp's route table here (for RMR_SEED_RT)")
    parser.add_argument("--influx-url", default=None,
                        help="also write the scoreboard every second to this InfluxDB (v2 "
                             "write API; token from $INFLUX_TOKEN)")
    parser.add_argument("--influx-org", default="influxdata")
    parser.add_argument("--influx-bucket", default="default")


def spec_of(args: argparse.Namespace) -> SimSpec:
    return SimSpec(cells=args.cells, ues=args.ues, scenario=args.scenario,
                   speed_kmh=args.speed, period_ms=args.period_ms, seed=args.seed,
                   control_delay_ms=args.control_delay_ms,
                   channel=ChannelConfig(anchor_draws=args.anchor_draws))


def _summary_line(runner: NodeRunner, wall_start: float, duration_s: float) -> str:
    sim_s = runner.sim_time_ms / 1e3
    wall = time.monotonic() - wall_start
    counters = [n.counters for n in runner.nodes]
    boards = [n.cell.board for n in runner.nodes]
    reports = max(sum(b.reports for b in boards), 1)
    legacy = sum(float(b.se_legacy.sum()) for b in boards) / reports
    xapp = sum(float(b.se_xapp.sum()) for b in boards) / reports
    oracle = sum(float(b.se_oracle.sum()) for b in boards) / reports
    return (f"sim {sim_s:6.2f}/{duration_s:.0f} s  x{sim_s / max(wall, 1e-9):4.2f} real time"
            f"  lag {runner.lag_ms:6.0f} ms"
            f"  subscriptions {sum(len(n.agent.subscriptions) for n in runner.nodes)}"
            f"  indications {sum(c.indications for c in counters)}"
            f"  recs ok {sum(c.accepted for c in counters)}"
            f" refused {sum(c.rejected for c in counters)}"
            f"  SE legacy {legacy:.2f} xApp {xapp:.2f} oracle {oracle:.2f} b/s/Hz")


def scoreboard_table(board: dict[str, Any]) -> Table:
    table = Table(title="scoreboard (mean SE per UE report, bit/s/Hz)")
    for column in ("E2 node", "reports", "with rec.", "SE legacy", "SE xApp", "SE oracle",
                   "legacy/oracle", "xApp/oracle", "gap closed"):
        table.add_column(column, justify="left" if column == "E2 node" else "right")

    def num(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else "-"

    for meid, cell in board.items():
        table.add_row(meid, str(cell["reports"]), str(cell["reports_with_recommendation"]),
                      num(cell["se_legacy"]), num(cell["se_xapp"]), num(cell["se_oracle"]),
                      num(cell["ratio_legacy"]), num(cell["ratio_xapp"]),
                      num(cell["gap_closed"]))
    return table


async def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    spec = spec_of(args)
    ric = MiniRic(host=args.host, rmr_port=args.rmr_port, http_port=args.http_port)
    await ric.start()
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint,
                        realtime=args.realtime == "on", host=args.host,
                        parallel=args.parallel_cells)
    try:
        await runner.start()
        # What exists now (torch, Sionna, the cells) lives as long as the process: out of
        # the collector's sight, a full collection scans ~4k objects instead of ~400k
        # (measured ~200 ms each, a few per minute at 64 UEs, paid by the report phase).
        gc.freeze()
        console.print(f"submgr REST   {ric.submgr_url}/ric/v1/subscriptions")
        console.print(f"RMR endpoint  {ric.rmr_endpoint} (E2 termination: indications are "
                      "routed to the subscriber's RMRPort by sub_id)")
        console.print("E2 nodes      " + ", ".join(n.meid for n in runner.nodes))
        console.print("xApp route table (RMR_SEED_RT) for recommendations:")
        console.print(runner.xapp_routes(), markup=False, highlight=False, end="")
        if args.xapp_routes is not None:
            args.xapp_routes.write_text(runner.xapp_routes())
        wall_start = time.monotonic()
        exporter = _scoreboard_exporter(args, console)
        last_export = [0.0]
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            def show(r: NodeRunner) -> None:
                live.update(_summary_line(r, wall_start, args.duration))
                if exporter is not None and r.sim_time_ms - last_export[0] >= 1000:
                    last_export[0] = r.sim_time_ms
                    export_scoreboard(exporter, r)

            try:
                await runner.run(args.duration, on_tick=show)
            except asyncio.CancelledError:  # Ctrl-C: still report what was scored
                console.print("[yellow]interrupted[/]")
        console.print()
        if exporter is not None:
            export_scoreboard(exporter, runner)
            exporter.close()
            console.print(f"scoreboard written to {args.influx_url}: "
                          f"{exporter.stats.written} points, {exporter.stats.dropped} dropped")
        return {"spec": {"cells": spec.cells, "ues": spec.ues, "scenario": spec.scenario,
                         "speed_kmh": spec.speed_kmh, "period_ms": spec.period_ms,
                         "seed": spec.seed, "realtime": args.realtime == "on",
                         "control_delay_ms": spec.control_delay_ms},
                "simulated_s": runner.sim_time_ms / 1e3,
                "wall_s": time.monotonic() - wall_start,
                "cells": runner.scoreboard()}
    finally:
        await runner.stop()
        await ric.stop()


def _scoreboard_exporter(args: argparse.Namespace, console: Console) -> Any:
    """The xApp's telemetry writer, used here for the ``linkfm_scoreboard`` measurement."""
    if not args.influx_url:
        return None
    from pydantic import SecretStr

    from xapp.config import InfluxSettings
    from xapp.telemetry.writer import TelemetryWriter, open_sink

    token = os.environ.get("INFLUX_TOKEN")
    influx = InfluxSettings(url=args.influx_url, org=args.influx_org, bucket=args.influx_bucket,
                            token=SecretStr(token) if token else None)
    console.print(f"scoreboard -> InfluxDB {args.influx_url} (bucket {args.influx_bucket})")
    return TelemetryWriter(open_sink(influx), xapp="linkfm-sim").start()


def export_scoreboard(writer: Any, runner: NodeRunner) -> None:
    """Each cell's running SE totals as one ``linkfm_scoreboard`` point (telemetry writer),
    tagged with the cell's NR CGI like the xApp's recommendations for that cell."""
    for meid, cell in runner.scoreboard().items():
        if isinstance(cell.get("se_legacy"), float):
            cell_id = runner.node(meid).cell.cfg.cell_id
            writer.record_scoreboard(meid, cell_id, cell["se_legacy"], cell["se_xapp"],
                                     cell.get("se_oracle"), cell.get("reports", 0))


def main(args: argparse.Namespace) -> int:
    console = Console()
    console.print(f"[bold]linkfm sim[/]: mini-RIC + {args.cells} E2 nodes x {args.ues} UEs, "
                  f"{args.scenario} at {args.speed:g} km/h, CSI every {args.period_ms} ms, "
                  f"seed {args.seed}, real time {args.realtime}")
    result = asyncio.run(_run(args, console))
    console.print(scoreboard_table(result["cells"]))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"scoreboard written to {args.out}")
    return 0
