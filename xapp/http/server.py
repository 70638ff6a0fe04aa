"""The xApp's HTTP server (aiohttp), PROTOCOLS.md section 8.

Routes:

- ``GET /ric/v1/health/alive``: 200 while the process serves requests.
- ``GET /ric/v1/health/ready``: 200 when every readiness check passes, else 503; the JSON
  body names each check. The checks are callables the app passes (route table loaded,
  subscriptions active, model loaded). The telemetry database's ``ping()`` is reported
  in the body but does not gate readiness: decisions go on while it is down.
- ``GET /ric/v1/config``: the controls in force, as JSON (no secrets live there).
- ``POST /ric/v1/subscriptions/response``: the submgr's notification, passed as bytes to
  the app's callback; 200, or 400 with the ``MalformedInput`` reason.
- ``GET /metrics``: Prometheus text format.
- ``GET /dashboard`` and ``GET /dashboard/data``: the built-in page and its JSON.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from xapp.errors import MalformedInput
from xapp.http.dashboard_page import render_page
from xapp.metrics import XappMetrics
from xapp.telemetry.recent import RecentRecords

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], bool | Awaitable[bool]]
NotificationCallback = Callable[[bytes], Awaitable[None]]

ALIVE = "/ric/v1/health/alive"
READY = "/ric/v1/health/ready"
CONFIG = "/ric/v1/config"
SUBSCRIPTION_RESPONSE = "/ric/v1/subscriptions/response"
METRICS = "/metrics"
DASHBOARD = "/dashboard"
DASHBOARD_DATA = "/dashboard/data"


@dataclass
class HttpHooks:
    """What the server reads from the app; every part is optional.

    Attributes:
        ready_checks: name -> callable; ready when all return True (none: not ready).
        controls: the controls in force now (called per request: hot reload shows).
        on_subscription_notification: the submgr callback's handler (raises
            ``MalformedInput`` for a body that is not a notification).
        metrics: the Prometheus registry behind ``/metrics``.
        recent: the dashboard's ring of recent records.
        telemetry_ping: the telemetry database's ping (blocking: run in a thread).
        title: shown on the dashboard page.
    """

    ready_checks: Mapping[str, ReadyCheck] = field(default_factory=dict)
    controls: Callable[[], BaseModel | Mapping[str, Any]] | None = None
    on_subscription_notification: NotificationCallback | None = None
    metrics: XappMetrics | None = None
    recent: RecentRecords | None = None
    telemetry_ping: Callable[[], bool] | None = None
    title: str = "linkfm"


_HOOKS = web.AppKey("hooks", HttpHooks)


async def _check(check: ReadyCheck) -> bool:
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        return bool(result)
    except Exception:  # a failing check means "not ready", not a 500
        log.exception("readiness check failed")
        return False


async def _alive(request: web.Request) -> web.Response:
    return web.json_response({"alive": True})


async def _ready(request: web.Request) -> web.Response:
    hooks = request.app[_HOOKS]
    checks = {name: await _check(check) for name, check in hooks.ready_checks.items()}
    ready = bool(checks) and all(checks.values())
    body: dict[str, Any] = {"ready": ready, "checks": checks}
    if hooks.telemetry_ping is not None:
        try:
            body["telemetry"] = await asyncio.wait_for(
                asyncio.to_thread(hooks.telemetry_ping), timeout=3.0)
        except Exception:  # includes the timeout: the database did not answer
            body["telemetry"] = False
    return web.json_response(body, status=200 if ready else 503)


async def _config(request: web.Request) -> web.Response:
    hooks = request.app[_HOOKS]
    if hooks.controls is None:
        return web.json_response({"error": "no configuration loaded"}, status=503)
    controls = hooks.controls()
    data = controls.model_dump(mode="json") if isinstance(controls, BaseModel) else dict(controls)
    return web.json_response(data)


async def _subscription_response(request: web.Request) -> web.Response:
    hooks = request.app[_HOOKS]
    if hooks.on_subscription_notification is None:
        return web.json_response({"error": "no subscriptions handled here"}, status=503)
    body = await request.read()
    try:
        await hooks.on_subscription_notification(body)
    except MalformedInput as exc:
        return web.json_response({"reason": exc.reason, "detail": exc.detail}, status=400)
    return web.json_response({})


async def _metrics(request: web.Request) -> web.Response:
    hooks = request.app[_HOOKS]
    if hooks.metrics is None:
        return web.Response(status=404, text="no metrics registry\n")
    body = await asyncio.to_thread(hooks.metrics.exposition)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def _snapshot(hooks: HttpHooks) -> dict[str, Any]:
    recent = hooks.recent if hooks.recent is not None else RecentRecords()
    return recent.snapshot()


async def _dashboard(request: web.Request) -> web.Response:
    hooks = request.app[_HOOKS]
    return web.Response(text=render_page(_snapshot(hooks), hooks.title),
                        content_type="text/html", charset="utf-8")


async def _dashboard_data(request: web.Request) -> web.Response:
    response = web.json_response(_snapshot(request.app[_HOOKS]))
    response.headers["Cache-Control"] = "no-store"
    return response


def build_app(hooks: HttpHooks) -> web.Application:
    """The aiohttp application with every route of the module docstring."""
    app = web.Application()
    app[_HOOKS] = hooks
    app.router.add_get(ALIVE, _alive)
    app.router.add_get(READY, _ready)
    app.router.add_get(CONFIG, _config)
    app.router.add_post(SUBSCRIPTION_RESPONSE, _subscription_response)
    app.router.add_get(METRICS, _metrics)
    app.router.add_get(DASHBOARD, _dashboard)
    app.router.add_get(DASHBOARD_DATA, _dashboard_data)
    return app


class HttpServer:
    """Serves :func:`build_app` on ``host:port`` (port 0: any free port, see :attr:`port`)."""

    def __init__(self, hooks: HttpHooks, host: str = "0.0.0.0", port: int = 8080) -> None:
        self.hooks = hooks
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one once started with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        runner = web.AppRunner(build_app(self.hooks), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        if self._port == 0:
            self._port = int(runner.addresses[0][1])
        log.info("HTTP on %s (dashboard %s%s)", self.url, self.url, DASHBOARD)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
