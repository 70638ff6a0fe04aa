"""`linkfm sim --influx-url`: the scoreboard reaches a real InfluxDB-compatible server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.telemetry.conftest import victoria  # noqa: F401  (the real server fixture)
from tests.telemetry.victoria import VictoriaMetrics, by_name
from xapp.cli import main


def test_scoreboard_is_exported_per_cell(tmp_path: Path, victoria: VictoriaMetrics,  # noqa: F811
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "--cells", "2", "--ues", "2", "--scenario", "cdl-c", "--duration",
                 "0.05", "--realtime", "off", "--influx-url", victoria.url]) == 0
    assert "points, 0 dropped" in capsys.readouterr().out
    series = victoria.export(samples=("linkfm_scoreboard_se_legacy", 2))
    legacy = by_name(series, "linkfm_scoreboard_se_legacy")
    assert sorted(s.tags["e2_node"] for s in legacy) == ["gnb_001_001_00000001",
                                                         "gnb_001_001_00000002"]
    assert all(0 < v <= 30 for s in legacy for _, v in s.samples)
    assert by_name(series, "linkfm_scoreboard_se_oracle")
