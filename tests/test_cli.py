"""The `linkfm` command line: one entry point, subcommands, JSON benchmarks."""

from __future__ import annotations

import pytest

from xapp import cli


def test_every_registered_benchmark_has_a_subcommand_with_quick_flag() -> None:
    parser = cli.build_parser()
    for name in cli.BENCHMARKS:
        args = parser.parse_args(["bench", name, "--quick"])
        assert args.quick is True
        assert args._module == cli.BENCHMARKS[name]


def test_unknown_subcommand_is_refused_with_usage_error() -> None:
    with pytest.raises(SystemExit) as excinfo:
        cli.build_parser().parse_args(["no-such-command"])
    assert excinfo.value.code == 2
