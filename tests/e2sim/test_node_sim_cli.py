"""`linkfm sim` end to end on a tiny cell: it runs, prints what an xApp needs, scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xapp.cli import main


def test_linkfm_sim_runs_the_cells_and_writes_the_scoreboard(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "board.json"
    assert main(["sim", "--cells", "2", "--ues", "2", "--scenario", "cdl-c", "--duration",
                 "0.05", "--realtime", "off", "--seed", "5", "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "/ric/v1/subscriptions" in printed
    assert "mse|30100|-1|%meid" in printed
    assert "mme_ar|" in printed and "gnb_001_001_00000002" in printed
    result = json.loads(out.read_text())
    assert result["spec"]["seed"] == 5 and result["simulated_s"] == pytest.approx(0.04)
    cells = result["cells"]
    assert sorted(cells) == ["gnb_001_001_00000001", "gnb_001_001_00000002"]
    for cell in cells.values():
        assert cell["reports"] == 2 * 4  # 5 steps: the first reports, the other 4 score
        assert cell["reports_with_recommendation"] == 0
        assert cell["se_xapp"] == cell["se_legacy"]  # no xApp: the node used legacy CSI
        assert 0 < cell["se_legacy"] <= cell["se_oracle"]
        assert cell["bad_messages"] == 0


def test_linkfm_sim_with_parallel_cells_scores_what_it_scores_one_cell_at_a_time(
        tmp_path: Path) -> None:
    boards = []
    for extra in ([], ["--parallel-cells"]):
        out = tmp_path / f"board{len(extra)}.json"
        assert main(["sim", "--cells", "2", "--ues", "2", "--scenario", "umi", "--duration",
                     "0.05", "--realtime", "off", "--seed", "3", "--out", str(out),
                     *extra]) == 0
        boards.append(json.loads(out.read_text())["cells"])
    for cell in ("gnb_001_001_00000001", "gnb_001_001_00000002"):
        sequential, parallel = boards[0][cell], boards[1][cell]
        assert parallel["reports"] == sequential["reports"] > 0
        for key in ("se_legacy", "se_oracle", "beam_rsrp_loss_legacy_db"):
            assert parallel[key] == sequential[key]


def test_linkfm_sim_scores_the_same_with_anchor_draws_in_a_thread_or_the_worker(
        tmp_path: Path) -> None:
    boards = []
    for where in ("thread", "process"):
        out = tmp_path / f"board_{where}.json"
        assert main(["sim", "--cells", "1", "--ues", "3", "--scenario", "umi", "--duration",
                     "0.3", "--realtime", "off", "--seed", "4", "--anchor-draws", where,
                     "--out", str(out)]) == 0
        boards.append(json.loads(out.read_text())["cells"]["gnb_001_001_00000001"])
    assert boards[0]["reports"] == boards[1]["reports"] > 0
    for key in ("se_legacy", "se_oracle", "beam_rsrp_loss_legacy_db"):
        assert boards[0][key] == boards[1][key]
