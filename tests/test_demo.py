"""`linkfm demo`: the closed loop (mini-RIC, simulated cells, the real xApp) runs and reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_demo_closes_the_loop_and_prints_the_scoreboard(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")}
    result = subprocess.run(
        [sys.executable, "-m", "xapp.cli", "demo", "--cells", "1", "--ues", "4",
         "--duration", "6", "--no-wait"],
        cwd=tmp_path, env={**env, "COLUMNS": "200", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=240)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "LinkFM demo summary" in out and "scoreboard" in out
    assert "decisions_per_s" in out and "latency_p99_ms" in out
    assert "predictor linkfm-v1" in out  # the shipped checkpoint decides by default
    # without INFLUX_URL the decisions go to a line-protocol file under runs/
    [lp] = list((tmp_path / "runs").glob("telemetry-*.lp"))
    lines = lp.read_text().splitlines()
    assert any(line.startswith("linkfm_recommendation,") for line in lines)
