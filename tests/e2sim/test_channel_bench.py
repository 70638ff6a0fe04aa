"""The channel cost helper that `linkfm bench sim` calls returns consistent JSON figures."""

from __future__ import annotations

import argparse
import json

from bench import sim_channel


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    sim_channel.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_each_ue_count_gets_a_run_with_per_report_costs() -> None:
    result = sim_channel.run(_args("--ues", "2", "3", "--sim-seconds", "0.05"))
    json.dumps(result)  # the CLI prints it as JSON
    runs = result["runs"]
    assert [r["ues"] for r in runs] == [2, 3]
    for r in runs:
        assert r["steps"] == 5
        assert r["real_time"] == (r["wall_s"] < r["sim_s"])
        assert abs(r["ms_per_report"] * r["steps"] / 1e3 - r["wall_s"]) < 1e-2
        assert 0.0 <= r["sionna_draw_s"] <= r["wall_s"] + 1e-6


def test_link_level_scenarios_can_be_measured_too() -> None:
    result = sim_channel.run(_args("--ues", "4", "--sim-seconds", "0.03", "--scenario", "tdl-c"))
    assert result["runs"][0]["steps"] == 3
    assert "sionna_draw_s" not in result["runs"][0]
