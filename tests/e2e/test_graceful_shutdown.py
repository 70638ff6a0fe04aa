"""Graceful shutdown of the running loop (issue 5 point 8): whether ``serve`` is stopped by
its stop event or by SIGTERM (what Kubernetes sends), the xApp deletes its subscriptions,
so the mini-RIC's Subscription Manager holds none and the node reports nothing more."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.e2e.conftest import FullLoop, full_loop
from tests.telemetry.victoria import VictoriaMetrics


async def assert_unsubscribed(loop: FullLoop) -> None:
    [node] = loop.runner.nodes
    assert await loop.submgr_subscriptions() == []
    assert node.agent.subscriptions == {}  # the E2 deletes reached the node
    sent = node.counters.indications
    await asyncio.sleep(0.3)  # 30 report periods: the cells still step
    assert node.counters.indications == sent


async def test_the_stop_event_unsubscribes_everything(victoria: VictoriaMetrics,
                                                      tmp_path: Path) -> None:
    async with full_loop(victoria, tmp_path) as loop:
        await loop.wait_for(lambda: loop.decisions > 0, "a decision")
        assert len(await loop.submgr_subscriptions()) == 2
        assert await loop.shutdown() == 0
        await assert_unsubscribed(loop)


async def test_sigterm_unsubscribes_everything(victoria: VictoriaMetrics,
                                               tmp_path: Path) -> None:
    async with full_loop(victoria, tmp_path, signals=True) as loop:
        await loop.wait_for(lambda: loop.decisions > 0, "a decision")
        assert len(await loop.submgr_subscriptions()) == 2
        assert loop.serve_task is not None
        os.kill(os.getpid(), signal.SIGTERM)  # handled by serve's handler on this loop
        assert await asyncio.wait_for(loop.serve_task, 60) == 0
        await assert_unsubscribed(loop)
