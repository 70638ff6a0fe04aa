"""``linkfm bench loop --quick``: the decision path end to end prints every figure."""

from __future__ import annotations

import json
import math
import subprocess

from tests.conftest import require_executable

RUN_KEYS = {"ues", "cells", "measured_s", "latency_from_node_send", "latency_from_ingest",
            "decisions", "decisions_per_s", "offered_reports_per_s", "backlog_frames_at_end",
            "pending_ues_at_end", "drain_s", "kept_up", "node", "cpu_s_per_wall_s",
            "time_ms_per_s", "time_share", "batches", "mean_batch", "bad_inputs",
            "kpm_decoded_in_worker", "telemetry", "ue_reports_ingested", "cpu_us_per_ue",
            "cpu_ms_per_period_at_offered_load"}
TOP_KEYS = {"benchmark", "quick", "machine", "load_avg_1min", "predictor", "model_version",
            "torch_threads", "csi_period_ms", "kpm_period_ms", "ues_per_cell", "distinct_steps",
            "warmup_s", "batch_deadline_ms", "max_batch", "kpm_decoding", "gil_switch_interval_ms",
            "frame_build_s",
            "csi_indication_bytes", "target", "runs"}
STAGES = {"rmr_receive", "decode", "window", "ingest_other", "tokenize", "model", "policy",
          "encode", "rmr_send", "telemetry"}


def test_quick_loop_benchmark_reports_every_figure_with_decisions() -> None:
    linkfm = require_executable("linkfm")
    done = subprocess.run([linkfm, "bench", "loop", "--quick"], capture_output=True,
                          text=True, timeout=240, check=True)
    result = json.loads(done.stdout)
    assert result.keys() >= TOP_KEYS
    assert result["benchmark"] == "loop" and result["quick"] is True
    assert "classical" in result["predictor"] or "checkpoint" in result["predictor"]
    [run] = result["runs"]
    assert run.keys() >= RUN_KEYS
    assert run["ues"] == 64 and run["decisions"] > 0 and run["decisions_per_s"] > 0
    assert run["node"]["frames_sent"] > 0 and run["node"]["recommendation_batches_received"] > 0
    assert run["bad_inputs"] == 0
    for latency in (run["latency_from_node_send"], run["latency_from_ingest"]):
        assert all(math.isfinite(v) for v in latency.values())
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    # From the node's send includes the time before ingest took the indication.
    assert run["latency_from_node_send"]["p50_ms"] >= run["latency_from_ingest"]["p50_ms"]
    assert run["time_share"].keys() == STAGES == run["time_ms_per_s"].keys()
    assert run["cpu_us_per_ue"].keys() == STAGES and run["ue_reports_ingested"] > 0
    assert run["cpu_ms_per_period_at_offered_load"] > 0
    assert abs(sum(run["time_share"].values()) - 1.0) < 0.01
    assert run["time_ms_per_s"]["decode"] > 0 and run["time_ms_per_s"]["model"] > 0
    target = result["target"]
    assert target["measured_p99_ms"] == run["latency_from_node_send"]["p99_ms"]
    assert target["met"] == (target["measured_p99_ms"] < target["p99_ms_below"])
