"""``linkfm xapp`` as a real process against the mini-RIC and a simulated node: it
subscribes, decides, serves gRPC, and on SIGTERM deletes its subscriptions and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from grpc import aio

from schemas import linkfm_service_pb2 as spb
from schemas import linkfm_service_pb2_grpc as sgrpc
from tests.conftest import REPO_ROOT, free_port
from tests.xapp.harness import MEID, world
from xapp.config import Controls, settings_from
from xapp.decide.predictor import CLASSICAL_VERSION
from xapp.e2.recommendation import recommendation_from_proto
from xapp.main import load_predictor, start_http_server
from xapp.rmr.mtypes import MessageType
from xapp.subscription.api import NOTIFICATION_PATH


def write_config(path: Path, submgr_port: int, grpc_port: int) -> Path:
    descriptor = json.loads((REPO_ROOT / "config-file.json").read_text())
    descriptor["controls"].update({
        "e2_nodes": [MEID], "submgr_host": "127.0.0.1", "submgr_port": submgr_port,
        "csi_report_period_ms": 20, "kpm_report_period_ms": 100,
        "request_csi_channel": True, "grpc_port": grpc_port,
        "model_checkpoint": str(path.parent / "no-checkpoint"),
        "recommendation_validity_ms": 60_000})
    path.write_text(json.dumps(descriptor))
    return path


async def test_the_xapp_process_decides_and_unsubscribes_on_sigterm(tmp_path: Path) -> None:
    async with world() as w:  # the in-test xApp of the harness is never started here
        rmr_port, grpc_port = free_port(), free_port()
        routes = tmp_path / "routes.rt"
        routes.write_text(
            "newrt|start\n"
            f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|127.0.0.1:{w.node.transport.port}\n"
            "newrt|end\n")
        env = {**os.environ, "CONFIG_FILE": str(write_config(
                   tmp_path / "config-file.json", w.ric.http_port, grpc_port)),
               "RMR_DATA_PORT": str(rmr_port), "RMR_SRC_ID": "127.0.0.1",
               "RMR_BIND_IF": "127.0.0.1", "RMR_CTL_PORT": str(free_port()),
               "RMR_SEED_RT": str(routes), "HTTP_PORT": str(free_port()),
               "LINKFM_CLIENT_HOST": "127.0.0.1", "PYTHONPATH": str(REPO_ROOT),
               # nothing listens there: decisions must not depend on the telemetry store
               "INFLUX_URL": f"http://127.0.0.1:{free_port()}"}
        env.pop("RMR_RTG_SVC", None)
        log = (tmp_path / "xapp.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "xapp.cli", "xapp", "--rmr-backend", "si95", env=env,
            cwd=REPO_ROOT, stdout=log, stderr=log)
        try:
            await w.wait_for(lambda: len(w.node.subscriptions) == 2, "the process subscribed",
                             timeout=45)
            await w.wait_for(lambda: len(w.consumer.batches) >= 3, "recommendations", 20)
            async with aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                latest = await sgrpc.LinkAdaptationStub(channel).GetLatest(
                    spb.UeQuery(e2_node=MEID, ue_id=1000), timeout=5)
            assert recommendation_from_proto(latest).ue_id == 1000
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            log.close()
        assert w.node.subscriptions == {}
        assert await w.app.subscriber.client.list() == []
        text = (tmp_path / "xapp.log").read_text()
        # no checkpoint at the configured path: the one shipped in the package decides
        assert "model linkfm-v1 loaded" in text and "2 subscriptions deleted" in text


async def test_without_the_http_package_the_submgr_callback_is_still_served(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xapp.http.server", None)  # import now fails
    port = free_port()
    settings = settings_from(Controls(), {"HTTP_PORT": str(port)}, Path("config-file.json"))
    async with world() as w:
        server = await start_http_server(w.app, settings, "127.0.0.1", None)
        try:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}{NOTIFICATION_PATH}"
                body = {"SubscriptionId": "9", "SubscriptionInstances": [
                    {"XappEventInstanceId": 1, "E2EventInstanceId": 4}]}
                async with session.post(url, json=body) as ok:
                    assert ok.status == 200
                async with session.post(url, data=b"{not json") as bad:
                    assert bad.status == 400
        finally:
            await server.stop()
        assert w.app.subscriber.notifications == 1


def test_an_unusable_checkpoint_falls_back_to_the_classical_policy(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    (broken / "weights.safetensors").write_bytes(b"")
    predictor = load_predictor(Controls(model_checkpoint=str(broken)))
    assert predictor.version == CLASSICAL_VERSION


def test_the_classical_policy_can_be_forced(tmp_path: Path) -> None:
    assert load_predictor(Controls(model_checkpoint=str(tmp_path)), classical=True).version \
        == CLASSICAL_VERSION
