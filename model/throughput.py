"""Inference throughput of LinkFM on CPU: windows/s for batched forward passes.

Follows the bench-module convention (``add_arguments(parser)``, ``run(args) -> dict``), so
the CLI can list it as a benchmark. Reports wall-clock rate and a CPU-time rate: on a shared
machine the wall clock counts other people's work, while ``threads / cpu_seconds`` estimates
what the same threads would do on dedicated cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from typing import Any

import torch

from model.network import LinkFM, LinkFMConfig
from model.synthetic import synthetic_windows
from model.tokenize import tokenize


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=64, help="windows per forward pass")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=50, help="timed forward passes")
    parser.add_argument(
        "--exit-threshold",
        type=float,
        default=0.0,
        help="early-exit entropy threshold in nats (0: every item runs every layer)",
    )
    parser.add_argument("--d-model", type=int, default=None, help="override the default config")
    parser.add_argument("--n-layers", type=int, default=None, help="override the default config")


def measure(
    cfg: LinkFMConfig,
    batch: int = 64,
    threads: int = 2,
    repeats: int = 50,
    exit_threshold: float = 0.0,
) -> dict[str, Any]:
    """Time ``repeats`` forward passes of ``batch`` synthetic windows under inference_mode."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _measure(cfg, batch, threads, repeats, exit_threshold)
    finally:
        torch.set_num_threads(previous)


def _measure(
    cfg: LinkFMConfig, batch: int, threads: int, repeats: int, exit_threshold: float
) -> dict[str, Any]:
    torch.manual_seed(0)
    model = LinkFM(cfg).eval()
    windows, _ = synthetic_windows(model.registry, batch, cfg.n_slots, torch.Generator())
    stats = model.registry.fit_stats(windows)
    tokens = tokenize(windows, model.layout, stats)
    wall, cpu = [], []
    with torch.inference_mode():
        for _ in range(3):  # warm-up: allocator, kernels
            model(tokens, exit_threshold=exit_threshold)
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            model(tokens, exit_threshold=exit_threshold)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        for _ in range(10):
            tokenize(windows, model.layout, stats)
        tokenize_s = (time.perf_counter() - t0) / 10
    wall_med, cpu_med = statistics.median(wall), statistics.median(cpu)
    return {
        "config": cfg.to_dict(),
        "parameters": model.num_parameters(),
        "tokens_per_window": model.layout.n_tokens + 1,  # + CLS
        "batch": batch,
        "threads": threads,
        "forward_ms_median": 1e3 * wall_med,
        "forward_ms_best": 1e3 * min(wall),
        "windows_per_s_wall": batch / wall_med,
        "windows_per_s_best": batch / min(wall),
        "windows_per_s_cpu_estimate": batch * threads / cpu_med,
        "tokenize_ms": 1e3 * tokenize_s,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = LinkFMConfig()
    if args.d_model is not None:
        cfg = replace(cfg, d_model=args.d_model)
    if args.n_layers is not None:
        cfg = replace(cfg, n_layers=args.n_layers)
    repeats = 10 if getattr(args, "quick", False) else args.repeats
    return measure(cfg, args.batch, args.threads, repeats, args.exit_threshold)
