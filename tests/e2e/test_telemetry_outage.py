"""The telemetry database stopped for 30 s in the middle of the running loop (issue 5
point 8): the VictoriaMetrics process is stopped, then restarted on the same port and data
folder. Decisions go on at the same pace and latency (the machine is noisy: the figures are
written to test-artifacts/e2e-telemetry-outage.json and compared loosely); the writer
buffers up to its (small) queue bound, counts the rest as drops, the same number /metrics
shows, and after recovery everything it buffered is stored.

``LINKFM_E2E_OUTAGE_S`` shortens or lengthens the outage (default 30 s).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import aiohttp

from tests.e2e.conftest import FullLoop, dump, full_loop, percentile
from tests.e2e.readback import difference, parse_line, read_back, sent_samples, stored_samples
from tests.telemetry.victoria import VictoriaMetrics

OUTAGE_S = float(os.environ.get("LINKFM_E2E_OUTAGE_S", "30"))
BEFORE_S = 6.0
QUEUE_BOUND = 500  # a few flush intervals of this loop's points: an outage overflows it


def latencies(loop: FullLoop, start: float, end: float) -> list[float]:
    return [d.event.latency_s for d in loop.decided if start <= d.at < end]


async def metric(loop: FullLoop, name: str) -> float:
    """One unlabelled sample of the xApp's ``/metrics``."""
    url = f"http://127.0.0.1:{loop.settings.http_port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    [value] = re.findall(rf"^{name} (\S+)$", text, flags=re.MULTILINE)
    return float(value)


class LoopLag:
    """The event loop's longest stall since :meth:`reset` (a 10 ms sleep that overslept)."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst_s = max(self.worst_s, time.monotonic() - start - 0.01)

    def reset(self) -> float:
        worst, self.worst_s = self.worst_s, 0.0
        return worst

    def stop(self) -> None:
        self._task.cancel()


async def test_a_telemetry_outage_neither_slows_decisions_nor_loses_what_was_buffered(
        victoria: VictoriaMetrics, tmp_path: Path, artifacts_dir: Path) -> None:
    async with full_loop(victoria, tmp_path, telemetry={"queue_bound": QUEUE_BOUND}) as loop:
        writer = loop.telemetry
        await loop.wait_for(lambda: loop.decisions >= 100, "decisions before the outage")
        lag = LoopLag()
        t_before = time.monotonic()
        await asyncio.sleep(BEFORE_S)
        lag_before = lag.reset()

        await asyncio.to_thread(victoria.stop)
        t_down, down_ns, at_down = time.monotonic(), time.time_ns(), writer.stats
        await asyncio.sleep(OUTAGE_S)
        t_up, up_ns, at_up = time.monotonic(), time.time_ns(), writer.stats
        lag_during = lag.reset()
        lag.stop()
        await asyncio.to_thread(victoria.start)

        # Decisions went on at the same pace and latency while the database was down.
        before = latencies(loop, t_before, t_down - 0.5)
        during = latencies(loop, t_down, t_up)
        figures = {
            "outage_s": OUTAGE_S, "queue_bound": QUEUE_BOUND,
            "decisions_per_s_before": round(len(before) / (t_down - 0.5 - t_before), 1),
            "decisions_per_s_during": round(len(during) / (t_up - t_down), 1),
            "latency_p50_ms_before": round(1e3 * percentile(before, 0.5), 2),
            "latency_p50_ms_during": round(1e3 * percentile(during, 0.5), 2),
            "latency_p99_ms_before": round(1e3 * percentile(before, 0.99), 2),
            "latency_p99_ms_during": round(1e3 * percentile(during, 0.99), 2),
            "event_loop_worst_stall_ms_before": round(1e3 * lag_before, 1),
            "event_loop_worst_stall_ms_during": round(1e3 * lag_during, 1),
            "buffered_during": at_up.accepted - at_down.accepted,
            "dropped_during": at_up.dropped - at_down.dropped,
            "write_failures": at_up.write_failures,
        }
        dump("e2e-telemetry-outage", figures, artifacts_dir)
        # Loose bounds: with ~10 runnable processes on 2 cores, this process's CPU share
        # alone moves the decision rate by 2x between 8 s windows (measured without an
        # outage); a loop waiting on the database would stall for whole write timeouts.
        assert figures["decisions_per_s_during"] >= 0.25 * figures["decisions_per_s_before"]
        assert figures["latency_p99_ms_during"] <= \
            5 * figures["latency_p99_ms_before"] + 50, figures
        assert lag_during < 3.0, figures  # nothing waited on the database

        # The queue was the buffer: it filled to its bound, and the rest was counted.
        assert at_up.failing and at_up.write_failures > at_down.write_failures
        assert at_up.queue_depth == QUEUE_BOUND
        assert at_up.accepted - at_down.accepted == QUEUE_BOUND - at_down.queue_depth
        assert at_up.dropped > at_down.dropped

        # After recovery: everything buffered is stored, and nothing else.
        await loop.wait_for(lambda: not writer.stats.failing, "the writer recovering", 30)
        await loop.pause()
        await loop.settle()
        assert await asyncio.to_thread(writer.flush, 30)
        stats = writer.stats
        # (a health point, written every 10 s even while the cells pause, may be queued)
        assert stats.written + stats.queue_depth == stats.accepted and stats.rejected == 0
        assert await metric(loop, "linkfm_telemetry_drops_total") == stats.dropped
        stamps = [int(line.rsplit(" ", 1)[1]) for line in loop.written_lines]
        assert sum(down_ns <= t < up_ns for t in stamps) == at_up.accepted - at_down.accepted
        sent, stored = await read_back(
            victoria, '{__name__=~"linkfm_.*"}',
            lambda: sent_samples(parse_line(line) for line in loop.written_lines))
        assert not (diff := difference(sent, stored_samples(stored))), diff
