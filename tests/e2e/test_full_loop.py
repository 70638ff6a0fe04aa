"""The full closed loop with real parts (issue 5 point 8): the xApp subscribes through the
mini-RIC's REST API, receives indications over RMR, decides, publishes; the simulated node
applies the recommendations and scores spectral efficiency; every recommendation and the
scoreboard are read back from a real VictoriaMetrics; the dashboard renders in Chromium.

One loop serves the whole module (starting it is most of the cost); the tests run in file
order and each leaves the loop running.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PIL import Image

from tests.conftest import REPO_ROOT, running_victoria
from tests.e2e.conftest import N_UES, XAPP_NAME, FullLoop, full_loop
from tests.e2e.readback import (
    assert_recommendations_read_back,
    difference,
    points_of,
    read_back,
    sent_samples,
    stored_samples,
)
from tests.http.test_dashboard_chromium import chromium
from xapp.decide.predictor import CLASSICAL_VERSION
from xapp.telemetry.points import cell_tag

pytestmark = pytest.mark.asyncio(loop_scope="module")

MIN_DECISIONS = 100


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def loop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FullLoop]:
    with running_victoria(tmp_path_factory.mktemp("victoria") / "data") as victoria:
        async with full_loop(victoria, tmp_path_factory.mktemp("xapp")) as running:
            await running.wait_for(
                lambda: running.decisions >= MIN_DECISIONS and running.applied_reports > 0,
                f"{MIN_DECISIONS} decisions and reports scored with them", timeout=45)
            yield running


async def test_the_xapp_subscribes_to_kpm_and_csi_through_the_submgr(loop: FullLoop) -> None:
    [node] = loop.runner.nodes
    listed = await loop.submgr_subscriptions()
    assert sorted(s["Meid"] for s in listed) == [node.meid, node.meid]
    assert sorted(s.ran_function_id for s in node.agent.subscriptions.values()) == [2, 200]
    assert [w.state for w in loop.app.subscriber.wants] == ["active", "active"]


async def test_indications_over_rmr_become_recommendations_the_node_accepts(
        loop: FullLoop) -> None:
    [node] = loop.runner.nodes
    assert loop.app.ingest.indications > 0
    # Every message the node sent decoded; at most an indication already in flight for a
    # subscription the xApp had just renewed (a stall on this busy machine) is refused.
    assert {reason for _, reason in loop.app.bad.counts} <= {"unknown_sub_id"}
    assert loop.app.counters.decisions["MODEL"] > 0  # the channel search, not a fallback
    sent = loop.app.publisher.counters
    assert sent.batches_sent > 0 and sent.send_failed == 0
    assert node.counters.batches > 0 and node.counters.accepted > 0
    assert sent.acks > 0 and sent.accepted > 0
    ues = {d.event.recommendation.ue_id for d in loop.decided}
    assert len(ues) == N_UES


async def test_the_node_scores_reports_made_with_the_xapps_recommendations(
        loop: FullLoop) -> None:
    [board] = loop.runner.scoreboard().values()
    assert board["reports_with_recommendation"] > 0
    assert 0 < board["se_legacy"] <= board["se_oracle"] + 1e-9
    assert 0 < board["se_xapp"] <= board["se_oracle"] + 1e-9


async def test_every_recommendation_is_read_back_from_victoria_metrics(loop: FullLoop) -> None:
    stored = await assert_recommendations_read_back(loop)
    [node] = loop.runner.nodes
    assert {(s.tags["xapp"], s.tags["e2_node"], s.tags["cell"], s.tags["model_version"])
            for s in stored} == \
        {(XAPP_NAME, node.meid, cell_tag(node.cell.cfg.cell_id), CLASSICAL_VERSION)}
    assert any(s.name == "linkfm_recommendation_pmi_i2" for s in stored)


async def test_the_scoreboard_is_read_back_per_cell(loop: FullLoop) -> None:
    await loop.wait_for(lambda: len(points_of(loop.written_lines, "linkfm_scoreboard")) >= 2,
                        "two scoreboard points written")
    async with loop.quiet():
        sent, stored = await read_back(
            loop.victoria, '{__name__=~"linkfm_scoreboard_.*"}',
            lambda: sent_samples(points_of(loop.written_lines, "linkfm_scoreboard")))
    assert not (diff := difference(sent, stored_samples(stored))), diff
    [node] = loop.runner.nodes
    # the same cell tag as the recommendations', so dashboards can put them side by side
    assert {(s.tags["e2_node"], s.tags["cell"]) for s in stored} == \
        {(node.meid, cell_tag(node.cell.cfg.cell_id))}
    assert all(v > 0 for s in stored if s.name == "linkfm_scoreboard_se_xapp"
               for _, v in s.samples)


async def test_the_dashboard_of_the_running_loop_renders_in_chromium(loop: FullLoop) -> None:
    url = f"http://127.0.0.1:{loop.settings.http_port}/dashboard"
    dom = (await chromium("--dump-dom", url)).stdout
    drawn = set(re.findall(r'<polyline[^>]*points="[\d.,\- ]+"[^>]*data-series="(\w+)"', dom))
    assert {"rank", "pmi", "latency", "legacy", "xapp", "oracle"} <= drawn
    assert loop.runner.nodes[0].meid in dom
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "e2e-dashboard.png"
    shot.unlink(missing_ok=True)
    await chromium(f"--screenshot={shot}", "--window-size=1280,900", url)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # plots and text, not a blank page
