"""The ``linkfm`` command: one entry point with a subcommand per job.

Subcommands import their implementation only when they run, so ``linkfm xapp`` never
loads the simulator (Sionna) or the training code, and a missing optional extra only
affects the subcommand that needs it.

A benchmark module has ``add_arguments(parser)`` and ``run(args) -> dict`` (printed as
JSON); a command module has ``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

# name -> (module, one-line help)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "codecs": ("bench.codecs", "E2AP/KPM/CSI encode and decode rates for 64-UE indications"),
    "rmr": ("bench.rmr", "pure-Python RMR throughput and round-trip latency on loopback"),
    "sim": ("bench.sim", "simulated cell cost per simulated second; persistence vs horizon"),
    "model": ("bench.model", "LinkFM inference: windows/s, latency, share of matmul peak, int8"),
    "loop": ("bench.loop", "the decision path end to end: latency, decisions/s, time shares"),
}

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("e2sim.demo", "the local demo loop (what `make demo` runs)"),
    "sim": ("e2sim.sim_cli", "the mini-RIC and N simulated E2 nodes, with the SE scoreboard"),
    "dataset": ("e2sim.dataset_cli", "write shards of UE windows with oracle labels for the model"),
    "xapp": ("xapp.main", "run the xApp until SIGTERM/SIGINT (config-file.json + environment)"),
    "train": ("model.train_cli", "pretrain or fine-tune LinkFM on dataset shards"),
    "evaluate": ("model.evaluate_cli", "score a checkpoint against every baseline (JSON + PNGs)"),
}


def _module(name: str) -> Any:
    return importlib.import_module(name)


def bench_parser(name: str) -> argparse.ArgumentParser:
    """The argument parser of ``linkfm bench NAME``."""
    module_name, description = BENCHMARKS[name]
    parser = argparse.ArgumentParser(prog=f"linkfm bench {name}", description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (under 30 s)")
    _module(module_name).add_arguments(parser)
    return parser


def command_parser(name: str) -> argparse.ArgumentParser:
    """The argument parser of ``linkfm NAME``."""
    module_name, description = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"linkfm {name}", description=description)
    _module(module_name).add_arguments(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkfm", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    bench = subparsers.add_parser(
        "bench", help="run a benchmark and print JSON figures",
        description="Benchmarks: " + "; ".join(f"{k}: {v[1]}" for k, v in BENCHMARKS.items()))
    bench.add_argument("benchmark", choices=sorted(BENCHMARKS))
    for name, (_, description) in COMMANDS.items():
        subparsers.add_parser(name, help=description)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Before torch loads: idle OpenMP threads sleep instead of spinning. On a shared or
    # oversubscribed CPU (the simulator and the xApp in one process, a busy node) spinning
    # threads made model inference 4-8x slower; on dedicated cores it costs nothing.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Everything after the subcommand (and benchmark name) belongs to its own parser.
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in BENCHMARKS:
        args = bench_parser(argv[1]).parse_args(argv[2:])
        result = _module(BENCHMARKS[argv[1]][0]).run(args)
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if argv and argv[0] in COMMANDS:
        args = command_parser(argv[0]).parse_args(argv[1:])
        return int(_module(COMMANDS[argv[0]][0]).main(args))
    build_parser().parse_args(argv)  # prints help or a usage error and exits
    return 2


if __name__ == "__main__":
    sys.exit(main())
