"""``linkfm xapp``: run the xApp until SIGTERM or SIGINT, then unsubscribe and exit.

Start-up: settings from ``config-file.json`` (``CONFIG_FILE``) and the environment; the
RMR transport (librmr when ``librmr_si.so`` loads, else the pure-Python backend); the
predictor (the checkpoint in ``controls.model_checkpoint`` when it loads, else the
classical policy, said in the log); the E2 nodes (``controls.e2_nodes``, or those e2mgr
lists as connected, re-read every 30 s, this replica's shard only); telemetry to InfluxDB
(every decision, every cycle, health every 10 s); the HTTP server (health, config, metrics,
dashboard, the submgr callback) and the gRPC service; then the subscriptions. Controls
reloaded from the file change the default policy, the batch deadline and size, and the
recommendation validity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, cast

import aiohttp
from aiohttp import web

from model.checkpoint import SHIPPED
from xapp.app import LinkFmApp, RuntimeOptions
from xapp.config import ConfigError, Controls, Settings, load_settings
from xapp.decide.predictor import ClassicalPredictor, ModelPredictor, Predictor
from xapp.errors import MalformedInput
from xapp.grpc_service import RecommendationLog, start_grpc_server
from xapp.ingest.cells import CellContexts, NodeAntennas
from xapp.policy.decision import DecisionPolicy
from xapp.rmr.backends import open_transport
from xapp.subscriber import Subscriber, SubscriberOptions
from xapp.subscription.api import NOTIFICATION_PATH, ClientEndpoint
from xapp.subscription.client import SubmgrClient

log = logging.getLogger("linkfm.xapp")

DISCOVERY_INTERVAL_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None,
                        help="config-file.json (default: $CONFIG_FILE or /opt/ric/config/...)")
    parser.add_argument("--rmr-backend", choices=("auto", "librmr", "si95"), default="auto",
                        help="RMR implementation (auto: librmr when it loads)")
    parser.add_argument("--http-host", default="0.0.0.0", help="address of the HTTP server")
    parser.add_argument("--classical", action="store_true",
                        help="use the classical policy even when a checkpoint exists")


def main(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    if args.config is not None:
        environ["CONFIG_FILE"] = str(args.config)
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        print(f"linkfm xapp: {exc}")
        return 2
    logging.basicConfig(level=settings.controls.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(settings, args.rmr_backend, args.http_host, args.classical))


def load_predictor(controls: Controls, classical: bool = False) -> Predictor:
    """The checkpoint's model, or the classical policy when there is none (logged).

    ``controls.model_checkpoint`` names the folder; when it does not exist, the checkpoint
    shipped inside the package (``model.checkpoint.SHIPPED``) is used if present.
    """
    path = Path(controls.model_checkpoint)
    if not path.is_dir() and SHIPPED.is_dir():
        log.info("no checkpoint at %s: using the shipped checkpoint %s", path, SHIPPED)
        path = SHIPPED
    if not classical and path.is_dir():
        try:
            predictor = ModelPredictor(path, exit_threshold=controls.model_exit_threshold)
            log.info("model %s loaded from %s", predictor.version, path)
            return predictor
        except (MalformedInput, RuntimeError, OSError, ValueError) as exc:
            # RuntimeError: torch refuses weights of the wrong shape even when not strict.
            log.error("checkpoint %s unusable (%s): using the classical policy", path, exc)
    else:
        log.warning("no model checkpoint%s: using the classical policy (exhaustive Type-I "
                    "search on channel estimates)", "" if classical else f" at {path}")
    return ClassicalPredictor(n_slots=controls.window_slots)


def predicts_in_thread(predictor: Predictor) -> bool:
    """Whether ``predictor`` runs in a worker thread rather than on the event loop.

    The network's few large ops release the GIL, so ingest goes on while a batch runs
    (`linkfm bench loop --ues 64`, idle machine: p99 from the node's send 16 ms in a thread
    against 42-58 ms inline). The classical search is many tiny ops and stays inline.
    """
    return isinstance(predictor, ModelPredictor)


def runtime_options(settings: Settings, predictor: Predictor | None = None) -> RuntimeOptions:
    c = settings.controls
    in_thread = predictor is not None and predicts_in_thread(predictor)
    return RuntimeOptions(xapp_name=settings.xapp_name, deadline_s=c.batch_deadline_ms / 1000,
                          max_batch=c.max_batch_size, inactivity_s=c.ue_inactivity_timeout_s,
                          default_policy=c.policy, predict_in_thread=in_thread)


def cell_contexts(controls: Controls) -> CellContexts:
    return CellContexts(
        nodes={meid: NodeAntennas(**a.model_dump()) for meid, a in controls.node_antennas.items()},
        horizon_ms=float(controls.policy.horizon_ms))


def subscriber_options(settings: Settings, nodes: tuple[str, ...]) -> SubscriberOptions:
    c = settings.controls
    return SubscriberOptions(
        nodes=nodes,
        endpoint=ClientEndpoint(host=settings.client_host, http_port=settings.http_port,
                                rmr_port=settings.rmr.data_port),
        kpm_period_ms=c.kpm_report_period_ms, kpm_measurements=c.kpm_measurements,
        csi_period_ms=c.csi_report_period_ms, report_channel_estimate=c.request_csi_channel,
        silence_periods=c.subscription_silence_periods)


async def discover_nodes(session: aiohttp.ClientSession, e2mgr_url: str) -> list[str]:
    """Names of the E2 nodes e2mgr lists as CONNECTED (``GET /v1/nodeb/states``)."""
    url = e2mgr_url.rstrip("/") + "/v1/nodeb/states"
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
        response.raise_for_status()
        body: Any = await response.json(content_type=None)
    return [str(n["inventoryName"]) for n in body if isinstance(n, dict)
            and n.get("connectionStatus") == "CONNECTED" and n.get("inventoryName")]


async def _discovery(subscriber: Subscriber, session: aiohttp.ClientSession,
                     settings: Settings) -> None:
    while True:
        try:
            for meid in await discover_nodes(session, settings.controls.e2mgr_url):
                if settings.sharding.owns(meid) and subscriber.add_node(meid):
                    log.info("E2 node %s discovered: subscribing", meid)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            log.warning("e2mgr node discovery failed: %r", exc)
        await asyncio.sleep(DISCOVERY_INTERVAL_S)


def _telemetry(app: LinkFmApp, settings: Settings) -> Any:
    """The telemetry writer (InfluxDB at ``settings.influx``, or a line-protocol file under
    ``runs/`` without ``INFLUX_URL``) fed by the app's event hooks, or None when
    ``controls.telemetry.enabled`` is false."""
    from xapp.telemetry.points import InputSummary
    from xapp.telemetry.writer import TelemetryWriter, WriterOptions, open_sink

    options = settings.controls.telemetry
    if not options.enabled:
        return None
    influx = settings.influx if settings.influx.url else None
    writer = TelemetryWriter(open_sink(influx, xapp=settings.xapp_name),
                             xapp=settings.xapp_name,
                             replica=str(settings.sharding.replica_index),
                             options=WriterOptions.from_controls(options)).start()
    app.batch_sinks.append(lambda events: writer.record_decisions([
        (e.recommendation, e.latency_s, InputSummary(e.inputs.sinr_db, e.inputs.wideband_cqi))
        for e in events]))
    app.cycle_sinks.append(lambda c: writer.record_cycle(
        c.e2_node, c.model_version, c.sequence, c.batch_size, c.predict_s, c.latency_s))
    return writer


async def _report_health(app: LinkFmApp, writer: Any, interval_s: float = 10.0) -> None:
    """Health counters, bad inputs and subscription states to telemetry, periodically."""
    from xapp.telemetry.writer import HealthCounters

    while True:
        await asyncio.sleep(interval_s)
        writer.record_health(HealthCounters(
            indications=app.ingest.indications,
            decisions=sum(app.counters.decisions.values()), bad_inputs=app.bad.total,
            active_ues=len(app.store),
            subscriptions_active=sum(w.state == "active" for w in app.subscriber.wants),
            route_table_loaded=app.transport.is_ready, model_loaded=True))
        writer.record_bad_inputs(dict(app.bad.counts))
        for want in app.subscriber.wants:
            writer.record_subscription(
                want.meid, "kpm" if want.ran_function_id == 2 else "csi",
                "active" if want.state == "active" else "pending", want.subscriptions)


async def start_http_server(app: LinkFmApp, settings: Settings, host: str,
                       telemetry: Any) -> Any:
    """The HTTP server of ``xapp.http`` with this app's hooks (health, config, metrics,
    dashboard, the submgr callback); without that package, the callback alone."""
    try:
        from xapp.http.server import HttpHooks, HttpServer
        from xapp.metrics import ScrapeSources, XappMetrics
    except ImportError:  # a build without the HTTP package still has to subscribe
        return await _callback_only_server(app, host, settings.http_port)

    from xapp.metrics import SubscriptionStatus

    def subscriptions() -> list[SubscriptionStatus]:
        return [SubscriptionStatus(w.meid, "kpm" if w.ran_function_id == 2 else "csi", w.state)
                for w in app.subscriber.wants]

    metrics = XappMetrics(ScrapeSources(
        bad_inputs=lambda: app.bad.counts, rmr=lambda: app.transport.counters,
        subscriptions=subscriptions,
        telemetry=(lambda: telemetry.stats) if telemetry is not None else None))
    app.batch_sinks.append(lambda events: metrics.observe_decisions(
        (e.recommendation, e.latency_s) for e in events))
    hooks = HttpHooks(
        ready_checks={"rmr": lambda: app.transport.is_ready,
                      "subscriptions": lambda: app.subscriber.all_active,
                      "model": lambda: True},
        controls=lambda: settings.controls,
        on_subscription_notification=app.on_subscription_notification,
        metrics=metrics, title=settings.xapp_name,
        recent=telemetry.recent if telemetry is not None else None,
        telemetry_ping=telemetry.ping if telemetry is not None else None)
    server = HttpServer(hooks, host, settings.http_port)
    await server.start()
    return server


async def _callback_only_server(app: LinkFmApp, host: str, port: int) -> Any:
    """``POST /ric/v1/subscriptions/response`` only, answering as the submgr expects."""
    async def notification(request: web.Request) -> web.Response:
        try:
            await app.on_subscription_notification(await request.read())
        except MalformedInput as exc:
            return web.Response(status=400, text=exc.reason)
        return web.Response()

    http = web.Application()
    http.router.add_post(NOTIFICATION_PATH, notification)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.warning("xapp.http is not installed: serving only the submgr callback on %d", port)

    class Stoppable:
        async def stop(self) -> None:
            await runner.cleanup()

    return Stoppable()


def apply_controls(app: LinkFmApp, controls: Controls) -> None:
    """Hot reload: what can change without resubscribing."""
    app.options = runtime_options_from(app.options, controls)
    app.batcher.deadline_s = controls.batch_deadline_ms / 1000
    app.batcher.max_batch = controls.max_batch_size
    app.decision.validity_ms = controls.recommendation_validity_ms
    app.refresh_policy()
    log.info("controls reloaded")


def runtime_options_from(options: RuntimeOptions, controls: Controls) -> RuntimeOptions:
    return replace(options, deadline_s=controls.batch_deadline_ms / 1000,
                   max_batch=controls.max_batch_size, default_policy=controls.policy)


async def serve(settings: Settings, backend: str = "auto", http_host: str = "0.0.0.0",
                classical: bool = False, stop: asyncio.Event | None = None,
                on_started: Callable[[LinkFmApp, Any], object] | None = None) -> int:
    """Run until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None); returns 0.

    ``on_started(app, telemetry_writer_or_None)`` is called once everything runs (the
    local demo uses it to read the app's counters and feed the scoreboard to telemetry).
    """
    stop = stop or _signal_event()
    controls = settings.controls
    choice = cast(Literal["auto", "librmr", "si95"], backend)
    transport = open_transport(settings.rmr.to_rmr_settings(), choice)
    await transport.start()
    session = aiohttp.ClientSession()
    nodes = tuple(n for n in controls.e2_nodes if settings.sharding.owns(n))
    subscriber = Subscriber(
        SubmgrClient(f"http://{controls.submgr_host}:{controls.submgr_port}", session),
        subscriber_options(settings, nodes))
    recommendations = RecommendationLog(float(controls.policy.horizon_ms))
    predictor = load_predictor(controls, classical)
    app = LinkFmApp(transport, subscriber, predictor,
                    runtime_options(settings, predictor), cell_contexts(controls),
                    DecisionPolicy(validity_ms=controls.recommendation_validity_ms),
                    recommendations)
    telemetry = _telemetry(app, settings)
    health = None if telemetry is None else asyncio.create_task(_report_health(app, telemetry))
    http = await start_http_server(app, settings, http_host, telemetry)
    grpc_server = None
    if controls.grpc_port:
        grpc_server, port = await start_grpc_server(recommendations, port=controls.grpc_port)
        log.info("gRPC LinkAdaptation on port %d", port)
    watcher = _watch_config(app, settings)
    discovery = None if controls.e2_nodes else asyncio.create_task(
        _discovery(subscriber, session, settings))
    # Everything long-lived exists now (codecs, model, servers): move it out of the cyclic
    # collector's sight, so that a full collection no longer walks it in the middle of a
    # decision cycle (pauses of tens of ms otherwise land in the latency's tail).
    gc.freeze()
    await app.start()
    if on_started is not None:
        on_started(app, telemetry)
    log.info("linkfm xapp running: E2 nodes %s, RMR %s", list(nodes) or "from e2mgr",
             transport.source_name)
    try:
        await stop.wait()
    finally:
        log.info("stopping: unsubscribing")
        for task in (discovery, health):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if watcher is not None:
            watcher.stop()
        deleted = await app.stop()
        log.info("%d subscriptions deleted", deleted)
        if grpc_server is not None:
            await grpc_server.stop(grace=1.0)
        await http.stop()
        if telemetry is not None:
            await asyncio.to_thread(telemetry.close)  # flushes what it can, bounded
        await session.close()
        await transport.close()
    return 0


def _watch_config(app: LinkFmApp, settings: Settings) -> Any:
    """Start the config watcher; reloads are applied on the event loop."""
    from xapp.config_watch import ConfigWatcher

    loop = asyncio.get_running_loop()
    if not settings.config_file.exists():
        return None
    def reloaded(controls: Controls) -> None:  # runs on the watcher thread
        loop.call_soon_threadsafe(apply_controls, app, controls)

    watcher = ConfigWatcher(settings.config_file, settings.controls, reloaded,
                            use_inotify=False)
    watcher.start()
    return watcher


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event
