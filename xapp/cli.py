"""The ``linkfm`` command: one entry point with a subcommand per job.

Subcommands import their implementation lazily, so ``linkfm xapp`` never loads the
simulator (Sionna) or the training code, and a missing optional extra only affects the
subcommand that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

# name -> module with `add_arguments(parser)` and `run(args) -> dict` (printed as JSON).
BENCHMARKS: dict[str, str] = {
    "codecs": "bench.codecs",
    "rmr": "bench.rmr",
}

# name -> module with `add_arguments(parser)` and `main(args) -> int`.
COMMANDS: dict[str, str] = {}


def _add_bench(subparsers: Any) -> None:
    bench = subparsers.add_parser("bench", help="run a benchmark and print JSON figures")
    kinds = bench.add_subparsers(dest="benchmark", required=True)
    for name, module_name in BENCHMARKS.items():
        parser = kinds.add_parser(name, help=f"benchmark: {name}")
        parser.add_argument("--quick", action="store_true", help="a short run (under 30 s)")
        parser.set_defaults(_module=module_name, _kind="bench")
        _module_hook(module_name, "add_arguments")(parser)


def _module_hook(module_name: str, attr: str) -> Callable[..., Any]:
    def hook(*args: Any) -> Any:
        return getattr(importlib.import_module(module_name), attr)(*args)

    return hook


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkfm", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_bench(subparsers)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=(module.__doc__ or name).splitlines()[0])
        module.add_arguments(sub)
        sub.set_defaults(_module=module_name, _kind="command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(args._module)
    if args._kind == "bench":
        result = module.run(args)
        json.dump(result, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
        return 0
    return int(module.main(args))


if __name__ == "__main__":
    sys.exit(main())
