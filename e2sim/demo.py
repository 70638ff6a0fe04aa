"""The local demo (``make demo``): the whole closed loop on one machine, on loopback.

- the mini-RIC: Subscription Manager REST API + E2 termination over RMR;
- simulated E2 nodes, one cell each (Sionna UMi channels, UEs at 60 km/h, Type-I CSI from
  their own channel estimates, proportional-fair KPM, the SE scoreboard);
- the real xApp (``xapp.main.serve``, the same start-up path as ``linkfm xapp``) on the
  pure-Python RMR backend: it subscribes through the REST API, ingests KPM and CSI,
  decides in micro-batches (the model when a checkpoint is configured, else the clearly
  labelled classical policy), publishes recommendations that the nodes apply after their
  control delay, and logs every decision to InfluxDB (``INFLUX_URL``) or to a
  line-protocol file under ``runs/``.

``--duration`` is wall-clock time. The cells step in simulated real time and never run
ahead of the wall clock; when this machine cannot keep up, the progress line and the
summary show the real-time factor achieved. The dashboard stays up until Ctrl-C
(``--no-wait``: exit at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from e2sim.miniric.ric import MiniRic
from e2sim.node.runner import NodeRunner, SimSpec
from e2sim.sim_cli import export_scoreboard, scoreboard_table
from xapp.app import DecisionEvent, LinkFmApp
from xapp.config import Controls, Settings, read_controls, settings_from
from xapp.main import serve

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config-file.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cells", type=int, default=2, help="E2 nodes (one cell each)")
    parser.add_argument("--ues", type=int, default=32, help="UEs per cell")
    parser.add_argument("--speed", type=float, default=60.0, help="UE speed [km/h]")
    parser.add_argument("--period-ms", type=int, default=10, help="CSI report period")
    parser.add_argument("--duration", type=float, default=60.0, help="wall seconds to run")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same reports")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="xApp descriptor whose controls to start from")
    parser.add_argument("--no-wait", action="store_true",
                        help="exit after the summary instead of serving the dashboard")
    parser.add_argument("--classical", action="store_true",
                        help="decide with the classical policy instead of the model checkpoint")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LoopWatch:
    """What the demo reads from the running xApp."""

    app: LinkFmApp | None = None
    telemetry: Any = None
    latencies_s: list[float] = field(default_factory=list)
    decisions: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def on_started(self, app: LinkFmApp, telemetry: Any) -> None:
        self.app, self.telemetry = app, telemetry
        app.sinks.append(self.on_decision)
        self.started.set()

    def on_decision(self, event: DecisionEvent) -> None:
        self.decisions += 1
        if len(self.latencies_s) < 1_000_000:
            self.latencies_s.append(event.latency_s)


def _xapp_settings(args: argparse.Namespace, ric: MiniRic, runner: NodeRunner,
                   workdir: Path) -> Settings:
    routes = workdir / "xapp.rt"
    routes.write_text(runner.xapp_routes())
    base = read_controls(args.config)
    controls = Controls.model_validate({
        **base.model_dump(), "e2_nodes": [n.meid for n in runner.nodes],
        "submgr_host": "127.0.0.1", "submgr_port": ric.http_port,
        "csi_report_period_ms": args.period_ms, "grpc_port": _free_port()})
    environ = {
        "RMR_SEED_RT": str(routes), "RMR_RTG_SVC": "-1", "RMR_SRC_ID": "127.0.0.1",
        "RMR_BIND_IF": "127.0.0.1", "RMR_DATA_PORT": str(_free_port()),
        "RMR_CTL_PORT": str(_free_port()), "RMR_ASYNC_CONN": "0",
        "HTTP_PORT": str(_free_port()), "LINKFM_CLIENT_HOST": "127.0.0.1",
        "XAPP_NAME": "linkfm-demo"}
    for name in ("INFLUX_URL", "INFLUX_ORG", "INFLUX_BUCKET", "INFLUX_TOKEN"):
        if os.environ.get(name):
            environ[name] = os.environ[name]
    return settings_from(controls, environ, args.config)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _line(runner: NodeRunner, watch: LoopWatch, wall_start: float, duration: float) -> str:
    wall = time.monotonic() - wall_start
    sim = runner.sim_time_ms / 1e3
    board = runner.scoreboard()
    se = [(c["se_legacy"], c["se_xapp"], c["se_oracle"]) for c in board.values()
          if isinstance(c.get("se_xapp"), float)]
    se_text = ("  SE legacy {:.2f} xApp {:.2f} oracle {:.2f}".format(
        *(sum(v[i] for v in se) / len(se) for i in range(3))) if se else "")
    app = watch.app
    subs = sum(w.state == "active" for w in app.subscriber.wants) if app else 0
    return (f"[{wall:5.1f}/{duration:.0f} s] sim {sim:6.2f} s (x{sim / max(wall, 1e-9):.2f} "
            f"real time)  subscriptions {subs}  decisions {watch.decisions}{se_text}")


async def _feed_scoreboard(runner: NodeRunner, watch: LoopWatch) -> None:
    """The simulator's running SE totals to the xApp's telemetry (dashboard, InfluxDB)."""
    while True:
        await asyncio.sleep(1.0)
        if watch.telemetry is not None:
            export_scoreboard(watch.telemetry, runner)


async def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    spec = SimSpec(cells=args.cells, ues=args.ues, speed_kmh=args.speed,
                   period_ms=args.period_ms, seed=args.seed)
    ric = MiniRic()
    await ric.start()
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=True)
    console.print(f"building {args.cells} cells x {args.ues} UEs (Sionna UMi) ...")
    await runner.start()
    watch = LoopWatch()
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory() as tmp:
        settings = _xapp_settings(args, ric, runner, Path(tmp))
        xapp = asyncio.create_task(serve(settings, backend="si95", http_host="127.0.0.1",
                                         classical=args.classical, stop=stop,
                                         on_started=watch.on_started))
        await asyncio.wait_for(watch.started.wait(), 60)
        feeder = asyncio.create_task(_feed_scoreboard(runner, watch))
        dashboard = f"http://127.0.0.1:{settings.http_port}/dashboard"
        console.print(f"xApp up: predictor {watch.app.predictor.version if watch.app else '?'}"
                      f", dashboard {dashboard}")
        wall_start = time.monotonic()
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            while time.monotonic() - wall_start < args.duration:
                await runner.tick()
                live.update(_line(runner, watch, wall_start, args.duration))
        wall = time.monotonic() - wall_start
        console.print(_line(runner, watch, wall_start, args.duration))
        summary = _summary(runner, watch, wall, settings)
        _print_summary(console, summary, runner.scoreboard())
        if not args.no_wait:
            console.print(f"dashboard: {dashboard}  (Ctrl-C to stop)")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        feeder.cancel()
        stop.set()
        await xapp
    await runner.stop()
    await ric.stop()
    return summary


def _summary(runner: NodeRunner, watch: LoopWatch, wall: float,
             settings: Settings) -> dict[str, Any]:
    board = runner.scoreboard()
    cells = [c for c in board.values() if isinstance(c.get("se_xapp"), float)]
    n = max(1, len(cells))
    telemetry = watch.telemetry
    stats = telemetry.stats if telemetry is not None else None
    sink = getattr(getattr(telemetry, "sink", None), "path", None)
    return {
        "wall_s": round(wall, 1),
        "simulated_s": round(runner.sim_time_ms / 1e3, 2),
        "real_time_factor": round(runner.sim_time_ms / 1e3 / max(wall, 1e-9), 2),
        "predictor": watch.app.predictor.version if watch.app else None,
        "se_legacy": round(sum(c["se_legacy"] for c in cells) / n, 3),
        "se_xapp": round(sum(c["se_xapp"] for c in cells) / n, 3),
        "se_oracle": round(sum(c["se_oracle"] for c in cells) / n, 3),
        "decisions": watch.decisions,
        "decisions_per_s": round(watch.decisions / max(wall, 1e-9), 1),
        "latency_p50_ms": round(1e3 * _percentile(watch.latencies_s, 0.50), 2),
        "latency_p99_ms": round(1e3 * _percentile(watch.latencies_s, 0.99), 2),
        "telemetry_dropped": stats.dropped if stats else None,
        "telemetry_written": stats.written if stats else None,
        "bad_inputs": watch.app.bad.total if watch.app else None,
        "telemetry_to": settings.influx.url or (str(sink) if sink else "runs/"),
    }


def _print_summary(console: Console, summary: dict[str, Any], board: dict[str, Any]) -> None:
    table = Table(title="LinkFM demo summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(table)
    console.print(scoreboard_table(board))


def main(args: argparse.Namespace) -> int:
    console = Console()
    console.print(f"[bold]LinkFM local demo[/]: mini-RIC, {args.cells} simulated cells x "
                  f"{args.ues} UEs (UMi, {args.speed:g} km/h, CSI every {args.period_ms} ms) "
                  "and the xApp, closed loop on loopback")
    with contextlib.suppress(KeyboardInterrupt):
        summary = asyncio.run(_run(args, console))
        return 0 if summary["decisions"] > 0 else 1
    return 0
