"""The `linkfm` command line: one entry point, subcommands, JSON benchmarks."""

from __future__ import annotations

import json
import sys

import pytest

from xapp import cli


def test_every_registered_benchmark_accepts_quick() -> None:
    for name in cli.BENCHMARKS:
        assert cli.bench_parser(name).parse_args(["--quick"]).quick is True


def test_every_registered_command_builds_its_parser() -> None:
    for name in cli.COMMANDS:
        assert cli.command_parser(name).prog == f"linkfm {name}"


def test_unknown_subcommand_is_refused_with_usage_error() -> None:
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["no-such-command"])
    assert excinfo.value.code == 2


def test_building_the_top_level_parser_imports_no_subcommand_module() -> None:
    for module_name, _ in [*cli.BENCHMARKS.values(), *cli.COMMANDS.values()]:
        sys.modules.pop(module_name, None)
    cli.build_parser().parse_args(["bench", "codecs"])
    loaded = [m for m, _ in [*cli.BENCHMARKS.values(), *cli.COMMANDS.values()]
              if m in sys.modules]
    assert loaded == []


def test_codec_benchmark_prints_json_with_per_ue_rates(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import bench._timing

    # one call per measurement: this checks the plumbing, not the speed
    monkeypatch.setattr(bench._timing, "rate", lambda fn, seconds, min_calls=1: (
        fn(), {"calls": 1, "per_s": 1.0, "us_per_call": 1e6})[1])
    monkeypatch.setattr("bench.codecs.rate", bench._timing.rate)
    assert cli.main(["bench", "codecs", "--quick", "--ues", "4"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ues_per_message"] == 4
    for key in ("kpm_format3", "csi_with_channel", "e2ap_ric_indication_kpm",
                "e2ap_ric_indication_csi", "recommendation_batch"):
        assert result[key]["decode_us_per_ue"] == pytest.approx(1e6 / 4, rel=0.01)
        assert result[key]["bytes"] > 0
