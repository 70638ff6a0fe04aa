"""The xApp's HTTP surface: health, config, the submgr callback, /metrics and /dashboard."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import require_executable
from xapp.config import Controls
from xapp.e2.recommendation import example_batch
from xapp.errors import MalformedInput
from xapp.http.server import HttpHooks, HttpServer
from xapp.metrics import XappMetrics
from xapp.telemetry.points import InputSummary
from xapp.telemetry.recent import RecentRecords, ScoreRecord


class NotANotification(MalformedInput):
    source = "test"


Served = tuple[HttpServer, list[bytes], dict[str, bool]]


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    received: list[bytes] = []
    state = {"routes": True, "subscriptions": False}

    async def on_notification(body: bytes) -> None:
        if not body.startswith(b"{"):
            raise NotANotification("bad_body", "not JSON")
        received.append(body)

    recent = RecentRecords()
    metrics = XappMetrics()
    for i, rec in enumerate(example_batch(n_ues=24).recommendations):
        latency = 0.002 + 0.0002 * i
        recent.add_decision(rec, latency, InputSummary(sinr_db=10.0 + i % 7), t=1000.0 + i)
        metrics.observe_decision(rec, latency)
    for i in range(20):
        recent.add_score(ScoreRecord(t=1000.0 + i, e2_node="gnb_001_001_00000001",
                                     cell="cell-1", se_legacy=4.0 + 0.05 * i,
                                     se_xapp=4.3 + 0.05 * i, se_oracle=4.6 + 0.05 * i, ues=32))
    hooks = HttpHooks(
        ready_checks={"route_table": lambda: state["routes"],
                      "subscriptions": lambda: state["subscriptions"]},
        controls=Controls, on_subscription_notification=on_notification, metrics=metrics,
        recent=recent, title="linkfm test")
    server = HttpServer(hooks, host="127.0.0.1", port=0)
    await server.start()
    yield server, received, state
    await server.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_alive_always_and_ready_only_when_every_check_passes(served: Served) -> None:
    server, _, state = served
    assert (await get(server.url + "/ric/v1/health/alive"))[0] == 200
    status, body = await get(server.url + "/ric/v1/health/ready")
    assert status == 503 and json.loads(body)["checks"] == {"route_table": True,
                                                            "subscriptions": False}
    state["subscriptions"] = True
    assert (await get(server.url + "/ric/v1/health/ready"))[0] == 200


async def test_config_shows_the_controls_in_force(served: Served) -> None:
    server, _, _ = served
    status, body = await get(server.url + "/ric/v1/config")
    assert status == 200 and json.loads(body)["batch_deadline_ms"] == Controls().batch_deadline_ms


async def test_submgr_callback_is_handed_over_and_bad_bodies_get_400(served: Served) -> None:
    server, received, _ = served
    async with aiohttp.ClientSession() as session:
        url = server.url + "/ric/v1/subscriptions/response"
        async with session.post(url, data=b'{"SubscriptionId": "1"}') as response:
            assert response.status == 200
        async with session.post(url, data=b"garbage") as response:
            assert response.status == 400 and (await response.json())["reason"] == "bad_body"
    assert received == [b'{"SubscriptionId": "1"}']


async def test_metrics_expose_decisions_and_the_latency_histogram(served: Served) -> None:
    server, _, _ = served
    status, text = await get(server.url + "/metrics")
    assert status == 200
    assert 'linkfm_decisions_total{e2_node="gnb_001_001_00000001",kind="rank"' in text
    assert "linkfm_decision_latency_seconds_count 24.0" in text


async def test_dashboard_data_carries_decisions_scores_and_mix(served: Served) -> None:
    server, _, _ = served
    status, body = await get(server.url + "/dashboard/data")
    data = json.loads(body)
    assert status == 200 and data["total_decisions"] == 24
    assert len(data["scores"]) == 20 and sum(data["mix"]["rank"].values()) == 24


async def test_dashboard_renders_plots_in_headless_chromium(
        served: Served, artifacts_dir: Path) -> None:
    server, _, _ = served
    chromium = require_executable("chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--virtual-time-budget=3000"]
    shot = artifacts_dir / "dashboard.png"
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        dom = await asyncio.to_thread(subprocess.run, [
            chromium, *flags, f"--user-data-dir={profile}", "--dump-dom",
            server.url + "/dashboard"], capture_output=True, text=True, timeout=90)
    with tempfile.TemporaryDirectory() as profile:
        await asyncio.to_thread(subprocess.run, [
            chromium, *flags, f"--user-data-dir={profile}", f"--screenshot={shot}",
            "--window-size=1280,900", server.url + "/dashboard"],
            capture_output=True, timeout=90)
    html = dom.stdout
    assert "<polyline" in html, "the confidence/latency/SE line plots were not drawn"
    assert "<rect" in html, "the decision-mix bars were not drawn"
    assert html.count("<tr") >= 10, "the latest-decisions table is empty"
    assert shot.exists() and shot.stat().st_size > 10_000
    # a page with content is not one flat colour
    png = shot.read_bytes()
    assert len(set(png[200:4000])) > 50  # the screenshot stays in test-artifacts/
