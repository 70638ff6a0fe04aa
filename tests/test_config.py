"""The runtime configuration: controls from config-file.json, settings from the environment,
and hot reload of a ConfigMap-mounted file (real files, real symlink swaps)."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from xapp.config import (
    ConfigError,
    Controls,
    ShardingControls,
    load_settings,
    read_controls,
    settings_from,
)
from xapp.config_watch import ConfigWatcher
from xapp.policy.a1 import LINKFM_POLICY_TYPE_ID
from xapp.rmr.mtypes import HTTP_PORT, RMR_DATA_PORT

# --- helpers: a ConfigMap volume laid out as the kubelet does -------------------------------


def _descriptor(**controls: Any) -> dict[str, Any]:
    return {"name": "linkfm", "version": "0.1.0", "controls": controls}


class ConfigMapVolume:
    """``dir/..data -> ..<stamp>``, ``dir/config-file.json -> ..data/config-file.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generation = 0
        self.publish(_descriptor())
        (root / "config-file.json").symlink_to("..data/config-file.json")

    @property
    def path(self) -> Path:
        return self.root / "config-file.json"

    def publish(self, document: dict[str, Any] | str) -> None:
        """Write a new timestamped folder and swap ``..data`` atomically (rename)."""
        self.generation += 1
        stamp = f"..2026_01_01_00_00_{self.generation:02d}.{os.getpid()}"
        folder = self.root / stamp
        folder.mkdir()
        text = document if isinstance(document, str) else json.dumps(document)
        (folder / "config-file.json").write_text(text)
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(stamp)
        os.replace(tmp, self.root / "..data")


@pytest.fixture
def volume(tmp_path: Path) -> ConfigMapVolume:
    return ConfigMapVolume(tmp_path)


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "config-file.json"
    path.write_text(json.dumps(document))
    return path


# --- controls ---------------------------------------------------------------------------------


def test_a_descriptor_without_controls_gives_every_default(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "linkfm", "version": "0.1.0"})
    assert read_controls(path) == Controls()


def test_defaults_follow_the_a1_policy_type_and_the_5_ms_batch_deadline() -> None:
    controls = Controls()
    assert controls.a1_policy_type_id == LINKFM_POLICY_TYPE_ID
    assert controls.batch_deadline_ms == 5.0
    assert controls.e2_nodes == ()


def test_controls_values_from_the_file_replace_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(e2_nodes=["gnb_001_001_00000001"], max_batch_size=64,
                                        policy={"max_rank": 2, "cells": {"001-1": False}}))
    controls = read_controls(path)
    assert controls.e2_nodes == ("gnb_001_001_00000001",)
    assert controls.max_batch_size == 64
    assert controls.policy.max_rank == 2
    assert not controls.policy.cell_enabled("001-1")


def test_an_invalid_value_is_reported_with_its_field_path(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(telemetry={"queue_bound": 0}))
    with pytest.raises(ConfigError) as caught:
        read_controls(path)
    assert caught.value.reason == "invalid_controls"
    assert "controls.telemetry.queue_bound:" in str(caught.value)


def test_every_bad_field_is_listed_not_only_the_first(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(policy={"max_rank": 9}, window_slots="many"))
    with pytest.raises(ConfigError) as caught:
        read_controls(path)
    assert "controls.policy.max_rank:" in caught.value.detail
    assert "controls.window_slots:" in caught.value.detail


def test_an_unknown_control_is_refused_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(batch_deadline=5))
    with pytest.raises(ConfigError, match=r"controls\.batch_deadline: Extra inputs"):
        read_controls(path)


def test_a_replica_index_outside_the_count_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(sharding={"replica_index": 2, "replica_count": 2}))
    with pytest.raises(ConfigError, match=r"controls\.sharding"):
        read_controls(path)


def test_a_backoff_cap_below_its_start_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(telemetry={"retry_backoff_initial_ms": 1000,
                                                   "retry_backoff_max_ms": 10}))
    with pytest.raises(ConfigError, match="retry_backoff_max_ms"):
        read_controls(path)


def test_a_token_in_the_file_is_refused_with_a_pointer_to_the_secret(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(influx={"token": "s3cr3t"}))
    with pytest.raises(ConfigError) as caught:
        read_controls(path)
    assert caught.value.reason == "secret_in_file"
    assert "controls.influx.token" in caught.value.detail
    assert "INFLUX_TOKEN" in caught.value.detail
    assert "s3cr3t" not in str(caught.value)


def test_a_token_in_appenv_is_refused_too(tmp_path: Path) -> None:
    document = {**_descriptor(), "appenv": {"INFLUX_TOKEN": "abc"}}
    with pytest.raises(ConfigError, match=r"appenv\.INFLUX_TOKEN"):
        read_controls(_write(tmp_path, document))


def test_broken_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config-file.json"
    path.write_text('{"controls": ')
    with pytest.raises(ConfigError) as caught:
        read_controls(path)
    assert caught.value.reason == "bad_json"


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.json") as caught:
        read_controls(tmp_path / "nowhere.json")
    assert caught.value.reason == "unreadable"


# --- settings from the environment ----------------------------------------------------------


def test_settings_read_config_file_and_influx_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor(max_batch_size=32))
    settings = load_settings({
        "CONFIG_FILE": str(path), "INFLUX_URL": "http://influx:8086", "INFLUX_ORG": "ran",
        "INFLUX_BUCKET": "linkfm", "INFLUX_TOKEN": "tok"})
    assert settings.controls.max_batch_size == 32
    assert settings.config_file == path
    assert (settings.influx.url, settings.influx.org, settings.influx.bucket) == (
        "http://influx:8086", "ran", "linkfm")
    assert settings.influx.token is not None
    assert settings.influx.token.get_secret_value() == "tok"


def test_the_token_never_shows_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings({"CONFIG_FILE": str(_write(tmp_path, _descriptor())),
                              "INFLUX_TOKEN": "very-secret-token"})
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in settings.model_dump_json()


def test_without_environment_the_platform_defaults_apply(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {}, tmp_path / "c.json")
    assert settings.http_port == HTTP_PORT
    assert settings.rmr.data_port == RMR_DATA_PORT
    assert settings.influx.token is None
    assert settings.influx.bucket == "default"


def test_the_callback_host_follows_the_osc_service_name_by_default(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"POD_NAMESPACE": "ricxapp"}, tmp_path / "c.json")
    assert settings.client_host == "service-ricxapp-linkfm-http.ricxapp"


def test_a_sharded_pod_advertises_its_own_callback_host(tmp_path: Path) -> None:
    host = "linkfm-1.service-ricxapp-linkfm-http-headless.ricxapp"
    settings = settings_from(Controls(), {"LINKFM_CLIENT_HOST": host}, tmp_path / "c.json")
    assert settings.client_host == host


def test_new_controls_replace_only_the_controls(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"HTTP_PORT": "9090"}, tmp_path / "c.json")
    updated = settings.with_controls(Controls(max_batch_size=7))
    assert updated.controls.max_batch_size == 7
    assert updated.http_port == 9090
    assert settings.controls.max_batch_size == Controls().max_batch_size


def test_rmr_variables_become_rmr_settings(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {
        "RMR_SEED_RT": "/opt/route/local.rt", "RMR_RTG_SVC": "rtmgr:4561",
        "RMR_SRC_ID": "service-ricxapp-linkfm-rmr.ricxapp", "RMR_BIND_IF": "0.0.0.0",
        "RMR_CTL_PORT": "4561", "RMR_DATA_PORT": "4570"}, tmp_path / "c.json")
    rmr = settings.rmr.to_rmr_settings()
    assert rmr.seed_rt == Path("/opt/route/local.rt")
    assert rmr.rtg_svc == "rtmgr:4561"
    assert rmr.src_id == "service-ricxapp-linkfm-rmr.ricxapp"
    assert rmr.port == 4570
    assert rmr.ctl_port == 4561


def test_a_bare_route_manager_port_means_push_only(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"RMR_RTG_SVC": "4561"}, tmp_path / "c.json")
    assert settings.rmr.to_rmr_settings().rtg_svc is None


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(Controls(), {"HTTP_PORT": "eighty", "RMR_CTL_PORT": "0"},
                      tmp_path / "c.json")
    assert caught.value.reason == "invalid_environment"
    assert "HTTP_PORT:" in caught.value.detail
    assert "RMR_CTL_PORT:" in caught.value.detail


def test_the_replica_index_comes_from_the_statefulset_pod_name(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"POD_NAME": "linkfm-2", "LINKFM_REPLICA_COUNT": "3"},
                             tmp_path / "c.json")
    assert settings.sharding == ShardingControls(replica_index=2, replica_count=3)


def test_an_unsharded_deployment_pod_name_ending_in_digits_is_not_an_index(
        tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"POD_NAME": "linkfm-7d9f8c6b5-12345",
                                          "LINKFM_REPLICA_COUNT": "1"}, tmp_path / "c.json")
    assert settings.sharding == ShardingControls(replica_index=0, replica_count=1)


def test_an_explicit_replica_index_wins_over_the_pod_name(tmp_path: Path) -> None:
    settings = settings_from(Controls(), {"POD_NAME": "linkfm-2", "LINKFM_REPLICA_INDEX": "1",
                                          "LINKFM_REPLICA_COUNT": "3"}, tmp_path / "c.json")
    assert settings.sharding.replica_index == 1


def test_a_pod_ordinal_beyond_the_replica_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sharding"):
        settings_from(Controls(), {"POD_NAME": "linkfm-3", "LINKFM_REPLICA_COUNT": "3"},
                      tmp_path / "c.json")


def test_shards_split_e2_nodes_between_replicas_without_overlap() -> None:
    nodes = [f"gnb_001_001_{i:08x}" for i in range(200)]
    shards = [ShardingControls(replica_index=i, replica_count=3) for i in range(3)]
    owners = [[s.replica_index for s in shards if s.owns(node)] for node in nodes]
    assert all(len(o) == 1 for o in owners)
    assert {o[0] for o in owners} == {0, 1, 2}


# --- hot reload -------------------------------------------------------------------------------


def test_a_configmap_swap_delivers_the_new_controls(volume: ConfigMapVolume) -> None:
    seen: list[Controls] = []
    watcher = ConfigWatcher(volume.path, read_controls(volume.path), seen.append,
                            use_inotify=False)
    volume.publish(_descriptor(max_batch_size=8))
    assert watcher.check()
    assert [c.max_batch_size for c in seen] == [8]
    assert watcher.reloads == 1


def test_an_unchanged_file_delivers_nothing(volume: ConfigMapVolume) -> None:
    seen: list[Controls] = []
    watcher = ConfigWatcher(volume.path, read_controls(volume.path), seen.append,
                            use_inotify=False)
    assert not watcher.check()
    assert seen == []


def test_a_swap_to_identical_controls_is_not_a_reload(volume: ConfigMapVolume) -> None:
    seen: list[Controls] = []
    watcher = ConfigWatcher(volume.path, read_controls(volume.path), seen.append,
                            use_inotify=False)
    volume.publish(_descriptor())
    assert not watcher.check()
    assert seen == []


def test_a_bad_new_file_keeps_the_old_controls_and_is_counted(volume: ConfigMapVolume) -> None:
    seen: list[Controls] = []
    start = read_controls(volume.path)
    watcher = ConfigWatcher(volume.path, start, seen.append, use_inotify=False)
    volume.publish(_descriptor(max_batch_size=-1))
    assert not watcher.check()
    assert watcher.controls == start
    assert watcher.rejected == 1
    assert watcher.last_error is not None
    assert "controls.max_batch_size" in str(watcher.last_error)
    volume.publish(_descriptor(max_batch_size=16))
    assert watcher.check()
    assert [c.max_batch_size for c in seen] == [16]


def test_a_plain_file_rewritten_in_place_is_reloaded(tmp_path: Path) -> None:
    path = _write(tmp_path, _descriptor())
    seen: list[Controls] = []
    watcher = ConfigWatcher(path, read_controls(path), seen.append, use_inotify=False)
    replacement = tmp_path / "next.json"
    replacement.write_text(json.dumps(_descriptor(window_slots=12)))
    os.replace(replacement, path)
    assert watcher.check()
    assert seen[-1].window_slots == 12


def _wait_for_reload(volume: ConfigMapVolume, use_inotify: bool) -> Controls:
    arrived = threading.Event()
    seen: list[Controls] = []

    def on_change(controls: Controls) -> None:
        seen.append(controls)
        arrived.set()

    watcher = ConfigWatcher(volume.path, read_controls(volume.path), on_change,
                            poll_interval_s=0.05, use_inotify=use_inotify)
    watcher.start()
    try:
        volume.publish(_descriptor(csi_report_period_ms=20))
        assert arrived.wait(30), "no reload arrived"
    finally:
        watcher.stop()
    return seen[0]


def test_the_polling_thread_notices_a_configmap_swap(volume: ConfigMapVolume) -> None:
    assert _wait_for_reload(volume, use_inotify=False).csi_report_period_ms == 20


def test_the_inotify_thread_notices_a_configmap_swap(volume: ConfigMapVolume) -> None:
    require(importlib.util.find_spec("inotify_simple") is not None,
            "inotify_simple (the ric extra)")
    assert _wait_for_reload(volume, use_inotify=True).csi_report_period_ms == 20


def test_a_failing_callback_does_not_stop_the_watcher(volume: ConfigMapVolume) -> None:
    first, arrived = threading.Event(), threading.Event()
    calls: list[int] = []

    def on_change(controls: Controls) -> None:
        calls.append(controls.max_batch_size)
        if len(calls) == 1:
            first.set()
            raise RuntimeError("consumer bug")
        arrived.set()

    watcher = ConfigWatcher(volume.path, read_controls(volume.path), on_change,
                            poll_interval_s=0.05, use_inotify=False)
    watcher.start()
    try:
        volume.publish(_descriptor(max_batch_size=3))
        assert first.wait(30)
        volume.publish(_descriptor(max_batch_size=4))
        assert arrived.wait(30)
    finally:
        watcher.stop()
    assert calls == [3, 4]
