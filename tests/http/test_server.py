"""The xApp's HTTP server on a real loopback port: health, config, callback, metrics, data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.telemetry.conftest import CELL, recommendation
from xapp.config import Controls, InfluxSettings
from xapp.errors import MalformedInput
from xapp.http.server import HttpHooks, HttpServer
from xapp.metrics import ScrapeSources, SubscriptionStatus, XappMetrics
from xapp.rmr.transport import RmrCounters
from xapp.subscription.api import SubscriptionResponse, parse
from xapp.telemetry.points import InputSummary
from xapp.telemetry.recent import RecentRecords, ScoreRecord
from xapp.telemetry.writer import WriterStats

NOTIFICATION = {"SubscriptionId": "abc", "SubscriptionInstances": [
    {"XappEventInstanceId": 1, "E2EventInstanceId": 7, "ErrorCause": "", "ErrorSource": "",
     "TimeoutType": ""}]}


class Flags:
    route_table = True
    subscriptions = True
    model = True


@pytest.fixture
async def served() -> AsyncIterator[tuple[HttpServer, Flags, list[SubscriptionResponse]]]:
    flags = Flags()
    notified: list[SubscriptionResponse] = []

    async def on_notification(body: bytes) -> None:
        try:
            notified.append(parse(SubscriptionResponse, json.loads(body)))
        except ValueError as exc:
            raise MalformedInput("bad_json", str(exc)) from None

    rmr = RmrCounters(sent=11, received=22)
    rmr.bad_frames["truncated"] = 2
    metrics = XappMetrics(ScrapeSources(
        bad_inputs=lambda: {("e2ap", "missing_ie"): 4},
        subscriptions=lambda: [SubscriptionStatus("gnb_a", "csi", "active")],
        rmr=lambda: rmr,
        telemetry=lambda: WriterStats(10, 6, 3, 0, 1, 4, None, False)))
    metrics.observe_decision(recommendation(1), 0.004)
    metrics.observe_decision(recommendation(2, beam=None), 0.012)
    recent = RecentRecords()
    recent.add_decision(recommendation(3), 0.002, InputSummary(sinr_db=7.0), t=1.0e9)
    recent.add_score(ScoreRecord(1.0e9, "gnb_a", "00f110-1", 3.0, 4.0, 4.5, 8))
    hooks = HttpHooks(
        ready_checks={"route_table": lambda: flags.route_table,
                      "subscriptions": lambda: flags.subscriptions,
                      "model": lambda: flags.model},
        controls=Controls, on_subscription_notification=on_notification, metrics=metrics,
        recent=recent)
    server = HttpServer(hooks, host="127.0.0.1", port=0)
    await server.start()
    yield server, flags, notified
    await server.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_alive_answers_200(served: tuple[HttpServer, Flags, list]) -> None:
    status, _ = await get(served[0].url + "/ric/v1/health/alive")
    assert status == 200


async def test_ready_when_routes_subscriptions_and_model_are_all_there(
        served: tuple[HttpServer, Flags, list]) -> None:
    status, body = await get(served[0].url + "/ric/v1/health/ready")
    assert status == 200
    assert json.loads(body)["ready"] is True


@pytest.mark.parametrize("missing", ["route_table", "subscriptions", "model"])
async def test_not_ready_names_what_is_missing(served: tuple[HttpServer, Flags, list],
                                               missing: str) -> None:
    setattr(served[1], missing, False)
    status, body = await get(served[0].url + "/ric/v1/health/ready")
    assert status == 503
    assert json.loads(body)["checks"][missing] is False


async def test_a_server_without_checks_is_not_ready() -> None:
    server = HttpServer(HttpHooks(), host="127.0.0.1", port=0)
    await server.start()
    try:
        status, _ = await get(server.url + "/ric/v1/health/ready")
    finally:
        await server.stop()
    assert status == 503


async def test_config_shows_the_controls_in_force(
        served: tuple[HttpServer, Flags, list]) -> None:
    status, body = await get(served[0].url + "/ric/v1/config")
    assert status == 200
    assert json.loads(body) == Controls().model_dump(mode="json")


async def test_config_never_shows_the_influx_token() -> None:
    influx = InfluxSettings(token="s3cr3t-token")  # type: ignore[arg-type]
    hooks = HttpHooks(controls=Controls)
    server = HttpServer(hooks, host="127.0.0.1", port=0)
    await server.start()
    try:
        _, body = await get(server.url + "/ric/v1/config")
    finally:
        await server.stop()
    assert influx.token is not None and influx.token.get_secret_value() not in body
    assert "token" not in body.lower()


async def test_the_submgr_callback_reaches_the_app(
        served: tuple[HttpServer, Flags, list]) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            served[0].url + "/ric/v1/subscriptions/response", json=NOTIFICATION) as response:
        assert response.status == 200
    [notification] = served[2]
    assert notification.subscription_id == "abc"


async def test_a_malformed_callback_is_answered_400_with_its_reason(
        served: tuple[HttpServer, Flags, list]) -> None:
    async with aiohttp.ClientSession() as session, session.post(
            served[0].url + "/ric/v1/subscriptions/response", data=b"{not json") as response:
        assert response.status == 400
        assert (await response.json())["reason"] == "bad_json"
    assert served[2] == []


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_expose_decisions_by_node_kind_and_reason(
        served: tuple[HttpServer, Flags, list]) -> None:
    status, text = await get(served[0].url + "/metrics")
    assert status == 200
    found = samples(text)
    labels = (("e2_node", "gnb_001_001_00000001"), ("reason", "model"))
    assert found[("linkfm_decisions_total", (labels[0], ("kind", "rank"), labels[1]))] == 2
    assert found[("linkfm_decisions_total", (labels[0], ("kind", "beam"), labels[1]))] == 1


async def test_metrics_expose_the_latency_histogram(
        served: tuple[HttpServer, Flags, list]) -> None:
    found = samples((await get(served[0].url + "/metrics"))[1])
    assert found[("linkfm_decision_latency_seconds_count", ())] == 2
    assert found[("linkfm_decision_latency_seconds_bucket", (("le", "0.005"),))] == 1


async def test_metrics_expose_queue_drops_bad_inputs_subscriptions_and_rmr(
        served: tuple[HttpServer, Flags, list]) -> None:
    found = samples((await get(served[0].url + "/metrics"))[1])
    assert found[("linkfm_telemetry_queue_depth", ())] == 4
    assert found[("linkfm_telemetry_drops_total", ())] == 3
    assert found[("linkfm_bad_inputs_total", (("reason", "missing_ie"), ("source", "e2ap")))] == 4
    assert found[("linkfm_subscription_state", (("e2_node", "gnb_a"),
                                                ("service_model", "csi"),
                                                ("state", "active")))] == 1
    assert found[("linkfm_rmr_messages_total", (("outcome", "received"),))] == 22
    assert found[("linkfm_rmr_bad_frames_total", (("reason", "truncated"),))] == 2


async def test_dashboard_data_holds_recent_decisions_scores_and_mix(
        served: tuple[HttpServer, Flags, list]) -> None:
    status, body = await get(served[0].url + "/dashboard/data")
    data = json.loads(body)
    assert status == 200
    [decision] = data["decisions"]
    assert (decision["ue_id"], decision["cell"], decision["sinr_db"]) == (
        3, f"{CELL.plmn_id.hex()}-{CELL.nr_cell_identity}", 7.0)
    assert data["scores"][0]["se_xapp"] == 4.0
    assert data["mix"] == {"reason": {"model": 1}, "rank": {"2": 1}}


async def test_the_dashboard_page_is_self_contained(
        served: tuple[HttpServer, Flags, list]) -> None:
    status, page = await get(served[0].url + "/dashboard")
    assert status == 200
    assert "<svg" in page and '"ue_id":3' in page  # the initial data is embedded
    assert "src=" not in page and "<link" not in page  # nothing fetched from elsewhere


async def test_a_database_outage_is_reported_but_does_not_make_the_xapp_unready() -> None:
    hooks = HttpHooks(ready_checks={"model": lambda: True}, telemetry_ping=lambda: False)
    server = HttpServer(hooks, host="127.0.0.1", port=0)
    await server.start()
    try:
        status, body = await get(server.url + "/ric/v1/health/ready")
    finally:
        await server.stop()
    assert status == 200
    assert json.loads(body)["telemetry"] is False
