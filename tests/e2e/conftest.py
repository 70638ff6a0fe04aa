"""The whole closed loop on loopback, for end-to-end tests (issue 5 point 8).

Every part is the real one: the mini-RIC (Subscription Manager REST + E2 termination over
RMR), simulated E2 nodes with Sionna UMi cells stepping in real time, and the xApp started
through :func:`xapp.main.serve` (the same start-up path as ``linkfm xapp``) with
``INFLUX_URL`` pointing at a real VictoriaMetrics. The simulator's running scoreboard is
fed to the xApp's telemetry as the demo does. :class:`FullLoop` keeps what the tests read
back: every decision the xApp announced, and every line its telemetry writer had accepted
by the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from e2sim.miniric.ric import MiniRic
from e2sim.miniric.submgr import NotifyPolicy
from e2sim.node.runner import NodeRunner, SimSpec
from e2sim.sim_cli import export_scoreboard
from tests.conftest import free_port
from tests.telemetry.victoria import VictoriaMetrics
from xapp.app import DecisionEvent, LinkFmApp
from xapp.config import Controls, Settings, settings_from
from xapp.main import serve
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.subscription.api import SUBSCRIPTIONS_PATH

N_UES = 4
PERIOD_MS = 10  # CSI report period and simulation step
KPM_PERIOD_MS = 100
SILENCE_PERIODS = 5  # resubscribe after max(5 periods, 1 s) without indications
XAPP_NAME = "linkfm-e2e"
SCOREBOARD_EVERY_S = 0.5


@dataclass(frozen=True)
class Decided:
    """One decision as the xApp announced it, with the monotonic time it was announced."""

    at: float
    event: DecisionEvent


@dataclass
class FullLoop:
    """The running loop; see the module docstring. Build it with :func:`full_loop`."""

    ric: MiniRic
    runner: NodeRunner
    victoria: VictoriaMetrics
    settings: Settings
    spec: SimSpec
    stop_event: asyncio.Event
    rmr_ctl_port: int
    app: LinkFmApp = field(init=False)
    telemetry: Any = field(init=False)
    decided: list[Decided] = field(default_factory=list)
    written_lines: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    serve_task: asyncio.Task[int] | None = None
    _driver: asyncio.Task[None] | None = None
    _feeder: asyncio.Task[None] | None = None

    # --- hooks into the xApp ---------------------------------------------------------------
    def on_started(self, app: LinkFmApp, telemetry: Any) -> None:
        """``serve``'s start hook: record decisions, and the lines the database stored."""
        self.app, self.telemetry = app, telemetry
        app.sinks.append(lambda e: self.decided.append(Decided(time.monotonic(), e)))
        sink = telemetry.sink
        write = sink.write

        def recording_write(lines: Sequence[str]) -> None:
            write(lines)  # raises when the database refuses or is down: nothing recorded
            self.written_lines.extend(lines)

        setattr(sink, "write", recording_write)  # noqa: B010  (a spy on the real write)
        self.started.set()

    # --- what the tests read -----------------------------------------------------------------
    @property
    def decisions(self) -> int:
        """The xApp's own decision counter (all reasons)."""
        return sum(self.app.counters.decisions.values())

    @property
    def applied_reports(self) -> int:
        """Reports the simulator scored with an xApp recommendation in force (all cells)."""
        return sum(int(c["reports_with_recommendation"])
                   for c in self.runner.scoreboard().values())

    async def submgr_subscriptions(self) -> list[dict[str, Any]]:
        """What the mini-RIC's Subscription Manager lists (``GET /ric/v1/subscriptions``)."""
        async with aiohttp.ClientSession() as session, \
                session.get(self.ric.submgr_url + SUBSCRIPTIONS_PATH) as response:
            response.raise_for_status()
            listed: list[dict[str, Any]] = await response.json()
            return listed

    async def wait_for(self, condition: Callable[[], bool], what: str,
                       timeout: float = 30.0) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            await asyncio.sleep(0.05)

    async def settle(self, quiet_s: float = 0.5, timeout: float = 15.0) -> None:
        """Wait until no decision has been made for ``quiet_s`` (after :meth:`pause`)."""
        deadline = time.monotonic() + timeout
        seen, since = self.decisions, time.monotonic()
        while time.monotonic() - since < quiet_s:
            if time.monotonic() > deadline:
                raise AssertionError("decisions never stopped")
            await asyncio.sleep(0.05)
            if self.decisions != seen:
                seen, since = self.decisions, time.monotonic()

    # --- driving the simulator ---------------------------------------------------------------
    def resume(self) -> None:
        """Step the cells in real time (and feed the scoreboard to telemetry)."""
        async def drive() -> None:
            while True:
                await self.runner.tick()

        async def feed() -> None:
            while True:
                await asyncio.sleep(SCOREBOARD_EVERY_S)
                export_scoreboard(self.telemetry, self.runner)

        self._driver = self._driver or asyncio.create_task(drive(), name="e2e-cells")
        self._feeder = self._feeder or asyncio.create_task(feed(), name="e2e-scoreboard")

    async def pause(self) -> None:
        """Stop stepping the cells: no more reports, so no more decisions."""
        for task in (self._driver, self._feeder):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._driver = self._feeder = None

    @contextlib.asynccontextmanager
    async def quiet(self) -> AsyncIterator[None]:
        """Paused, decisions settled and telemetry flushed: what was sent stays put while
        the body reads it back. The cells run again afterwards."""
        await self.pause()
        try:
            await self.settle()
            assert await asyncio.to_thread(self.telemetry.flush, 20)
            yield
        finally:
            self.resume()

    async def restart_simulator(self) -> NodeRunner:
        """Stop the node runner and start a new one with the same cells (same E2 node names
        and cell ids, new RMR ports); push the new route table to the xApp's RMR control
        port as the Route Manager would. Returns the new runner."""
        await self.pause()
        await self.runner.stop()
        self.runner = NodeRunner(self.spec.cell_configs(), self.ric.rmr_endpoint,
                                 realtime=True)
        await self.runner.start()
        await push_routes(self.rmr_ctl_port, self.runner.xapp_routes())
        self.resume()
        return self.runner

    async def shutdown(self) -> int:
        """Set the xApp's stop event and wait for ``serve`` to return (its exit code)."""
        self.stop_event.set()
        assert self.serve_task is not None
        return await asyncio.wait_for(self.serve_task, 60)


async def push_routes(ctl_port: int, table: str) -> None:
    """Send ``table`` to an RMR endpoint's control port as mtype 20; expect an OK ack."""
    rtmgr = Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                      ctl_port=None, async_conn=False))
    await rtmgr.start()
    try:
        rtmgr.load_routes("newrt|start\n"
                          f"mse|{MessageType.RMRRM_TABLE_DATA}|-1|127.0.0.1:{ctl_port}\n"
                          "newrt|end\n")
        assert await rtmgr.send(RmrMessage(MessageType.RMRRM_TABLE_DATA, table.encode()))
        acks = [await asyncio.wait_for(rtmgr.receive(), 10) for _ in range(2)]  # two sections
        assert all(a.mtype == MessageType.RMRRM_TABLE_STATE and a.payload.startswith(b"OK")
                   for a in acks), [a.payload for a in acks]
    finally:
        await rtmgr.close()


def xapp_settings(ric: MiniRic, runner: NodeRunner, victoria: VictoriaMetrics, workdir: Path,
                  telemetry: dict[str, Any], rmr_ctl_port: int,
                  checkpoint: Path | None = None) -> Settings:
    """The xApp's settings for this loop: the controls of config-file.json's schema with
    the loop's nodes and ports, RMR from a seed route table, telemetry to ``victoria``."""
    routes = workdir / "xapp.rt"
    routes.write_text(runner.xapp_routes())
    controls = Controls.model_validate({
        "e2_nodes": [n.meid for n in runner.nodes],
        "submgr_host": "127.0.0.1", "submgr_port": ric.http_port,
        "csi_report_period_ms": PERIOD_MS, "kpm_report_period_ms": KPM_PERIOD_MS,
        "request_csi_channel": True,  # the classical policy searches the channel estimate
        "subscription_silence_periods": SILENCE_PERIODS, "grpc_port": free_port(),
        "model_checkpoint": str(checkpoint or workdir / "no-checkpoint"),
        "telemetry": {"flush_interval_ms": 200, "batch_size": 200,
                      "retry_backoff_initial_ms": 100, "retry_backoff_max_ms": 1000,
                      **telemetry}})
    environ = {
        "RMR_SEED_RT": str(routes), "RMR_RTG_SVC": "-1", "RMR_SRC_ID": "127.0.0.1",
        "RMR_BIND_IF": "127.0.0.1", "RMR_DATA_PORT": str(free_port()),
        "RMR_CTL_PORT": str(rmr_ctl_port), "RMR_ASYNC_CONN": "0",
        "HTTP_PORT": str(free_port()), "LINKFM_CLIENT_HOST": "127.0.0.1",
        "XAPP_NAME": XAPP_NAME, "INFLUX_URL": victoria.url, "INFLUX_ORG": "influxdata",
        "INFLUX_BUCKET": "default"}
    # No config file on disk: nothing can hot-reload these controls during a test.
    return settings_from(controls, environ, workdir / "config-file.json")


@contextlib.asynccontextmanager
async def full_loop(victoria: VictoriaMetrics, workdir: Path, *, seed: int = 1,
                    telemetry: dict[str, Any] | None = None, signals: bool = False,
                    checkpoint: Path | None = None) -> AsyncIterator[FullLoop]:
    """The running loop: the xApp subscribed (both service models active) and the cells
    stepping. ``telemetry``: overrides of ``controls.telemetry``. ``signals``: let ``serve``
    install its SIGTERM/SIGINT handlers instead of passing it a stop event. ``checkpoint``:
    a LinkFM checkpoint folder for the xApp to load (default: the classical policy)."""
    spec = SimSpec(cells=1, ues=N_UES, speed_kmh=60.0, period_ms=PERIOD_MS, seed=seed)
    ric = MiniRic(notify=NotifyPolicy(attempts=5, interval_s=0.2))
    await ric.start()
    runner = NodeRunner(spec.cell_configs(), ric.rmr_endpoint, realtime=True)
    await runner.start()
    ctl_port = free_port()
    settings = xapp_settings(ric, runner, victoria, workdir, telemetry or {}, ctl_port,
                             checkpoint)
    loop = FullLoop(ric, runner, victoria, settings, spec, asyncio.Event(), ctl_port)
    loop.serve_task = asyncio.create_task(serve(
        settings, backend="si95", http_host="127.0.0.1", classical=checkpoint is None,
        stop=None if signals else loop.stop_event, on_started=loop.on_started))
    try:
        started = asyncio.ensure_future(loop.started.wait())
        await asyncio.wait({started, loop.serve_task}, timeout=60,
                           return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if loop.serve_task.done():
            raise AssertionError(f"serve returned {loop.serve_task.result()} at start-up")
        assert loop.started.is_set(), "the xApp did not start within 60 s"
        loop.resume()
        await loop.wait_for(lambda: loop.app.subscriber.all_active, "active subscriptions")
        yield loop
    finally:
        await loop.pause()
        if not loop.serve_task.done():
            if signals:
                os.kill(os.getpid(), signal.SIGTERM)  # serve's handler is still installed
            else:
                loop.stop_event.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(loop.serve_task, 60)
        await loop.runner.stop()
        await ric.stop()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def dump(name: str, figures: dict[str, Any], artifacts: Path) -> None:
    """Leave a test's measured figures in test-artifacts/ (and print them for -s runs)."""
    (artifacts / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(name, json.dumps(figures))
