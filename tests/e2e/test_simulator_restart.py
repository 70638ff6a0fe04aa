"""The simulator restarted mid-run (issue 5 point 8): the node runner is stopped and a new
one starts with the same E2 node names and cell ids. The mini-RIC sees a new E2 setup and
drops the node's subscriptions; the xApp notices the silence, resubscribes through the
REST API, and its decisions resume and reach the new node."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import full_loop
from tests.telemetry.victoria import VictoriaMetrics

DECISIONS = 50


async def test_a_restarted_simulator_is_resubscribed_and_decisions_resume(
        victoria: VictoriaMetrics, tmp_path: Path) -> None:
    async with full_loop(victoria, tmp_path) as loop:
        await loop.wait_for(lambda: loop.decisions >= DECISIONS, "decisions before the restart")
        [old] = loop.runner.nodes
        first_ids = {s["SubscriptionId"] for s in await loop.submgr_subscriptions()}
        assert len(first_ids) == 2

        runner = await loop.restart_simulator()
        [node] = runner.nodes
        assert (node.meid, node.cell.cfg.cell_id) == (old.meid, old.cell.cfg.cell_id)
        assert node.counters.accepted == 0
        wants = loop.app.subscriber.wants
        await loop.wait_for(lambda: all(w.state == "active" and w.subscriptions >= 2
                                        for w in wants), "both subscriptions renewed")
        resumed_from = loop.decisions
        await loop.wait_for(
            lambda: loop.decisions >= resumed_from + DECISIONS and node.counters.accepted > 0,
            "decisions after resubscribing, accepted by the new node")

        listed = await loop.submgr_subscriptions()
        assert len(listed) == 2 and {s["SubscriptionId"] for s in listed}.isdisjoint(first_ids)
        assert sorted(s.ran_function_id for s in node.agent.subscriptions.values()) == [2, 200]
        await loop.wait_for(
            lambda: loop.runner.scoreboard()[node.meid]["reports_with_recommendation"] > 0,
            "the new cell scoring reports made with the xApp's recommendations")
