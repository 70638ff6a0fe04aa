"""The /dashboard page rendered by a real headless Chromium, with data in every plot."""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import require_executable
from xapp.e2.recommendation import example_batch
from xapp.http.server import HttpHooks, HttpServer
from xapp.telemetry.points import InputSummary
from xapp.telemetry.recent import RecentRecords, ScoreRecord

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--virtual-time-budget=3000"]


@pytest.fixture
async def dashboard() -> AsyncIterator[HttpServer]:
    recent = RecentRecords()
    for i, rec in enumerate(example_batch(n_ues=24).recommendations):
        recent.add_decision(rec, 0.002 + 0.0002 * i, InputSummary(sinr_db=10.0 + i % 7),
                            t=1000.0 + i)
    for i in range(20):
        recent.add_score(ScoreRecord(t=1000.0 + i, e2_node="gnb_001_001_00000001",
                                     cell="cell-1", se_legacy=4.0 + 0.05 * i,
                                     se_xapp=4.3 + 0.05 * i, se_oracle=4.6 + 0.05 * i, ues=32))
    server = HttpServer(HttpHooks(recent=recent, title="linkfm test"), host="127.0.0.1", port=0)
    await server.start()
    yield server
    await server.stop()


async def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_executable("chromium")
    with tempfile.TemporaryDirectory() as profile:
        return await asyncio.to_thread(
            subprocess.run, [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=90)


async def test_every_plot_is_drawn_with_data(dashboard: HttpServer) -> None:
    dom = (await chromium("--dump-dom", dashboard.url + "/dashboard")).stdout
    drawn = set(re.findall(r'<polyline[^>]*points="[\d.,\- ]+"[^>]*data-series="(\w+)"', dom))
    assert {"rank", "pmi", "latency", "legacy", "xapp", "oracle"} <= drawn
    assert len(re.findall(r'<rect[^>]*class="bar"', dom)) >= 2  # reason and rank bars
    assert dom.count("<tr") >= 13  # header + the 12 latest decisions
    assert not re.search(r'<text[^>]*class="empty"', dom)  # no plot left empty


async def test_the_screenshot_is_not_blank(dashboard: HttpServer, artifacts_dir: Path) -> None:
    shot = artifacts_dir / "dashboard.png"
    shot.unlink(missing_ok=True)
    await chromium(f"--screenshot={shot}", "--window-size=1280,900",
                   dashboard.url + "/dashboard")
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, lines and bars, not one flat fill
