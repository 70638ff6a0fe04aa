"""Timing for ``linkfm bench model``: variants taken in turn, wall and CPU time, peak GEMMs.

On a shared machine absolute wall times wander with other people's load; calling the
variants in turn keeps their ratios fair, and CPU time (per call, all threads) estimates what
the same threads would do on dedicated cores.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from bench._timing import percentiles

# (M, K, N) of the peak GEMMs besides the model's own widest one
PEAK_SHAPES = ((256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (4096, 64, 256))


@dataclass
class Timings:
    """Per-call wall seconds and process CPU seconds (all threads) of one variant."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def interleaved(fns: dict[str, Callable[[], Any]], seconds: float,
                min_calls: int = 5) -> dict[str, Timings]:
    """Times of each of ``fns``, called in turn (round robin) after a warm-up call.

    Taking turns exposes every variant to the same load, so their ratios stay fair on a
    shared machine even when the absolute figures wander.
    """
    for fn in fns.values():
        fn()
    out = {name: Timings() for name in fns}
    start = time.perf_counter()
    rounds = 0
    while rounds < min_calls or time.perf_counter() - start < seconds * len(fns):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            out[name].wall.append(time.perf_counter() - t0)
            out[name].cpu.append(time.process_time() - c0)
        rounds += 1
    return out


def matmul_peak(seconds: float, model_shape: tuple[int, int, int]) -> dict[str, Any]:
    """Best float32 GFLOP/s of torch.mm over PEAK_SHAPES and the model's widest GEMM."""
    gemms: dict[str, Callable[[], Any]] = {}
    flops: dict[str, int] = {}
    for m, k, n in (*PEAK_SHAPES, model_shape):
        a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
        gemms[f"{m}x{k}x{n}"] = partial(torch.mm, a, b, out=c)
        flops[f"{m}x{k}x{n}"] = 2 * m * k * n
    times = interleaved(gemms, seconds / 4)
    by_shape = {s: round(flops[s] / min(t.wall) / 1e9, 2) for s, t in times.items()}
    best_shape = max(by_shape, key=lambda s: by_shape[s])
    threads = torch.get_num_threads()
    cpu = {s: flops[s] * threads / max(min(t.cpu), 1e-9) / 1e9 for s, t in times.items()}
    return {"gflops_by_shape": by_shape, "best_gflops": by_shape[best_shape],
            "best_shape": best_shape,
            "best_gflops_cpu_estimate": round(max(cpu.values()), 2)}


def figures(t: Timings, batch: int, flops: float, peak: dict[str, Any]) -> dict[str, Any]:
    """Windows/s, latency and achieved fraction of the peak from one variant's timings.

    ``*_cpu_estimate``: batch x threads / median CPU seconds, what the threads would do on
    dedicated cores (a waiting thread spends no CPU; a spinning one does, so it errs low:
    run with OMP_WAIT_POLICY=PASSIVE on a shared machine), against the peak estimated the
    same way.
    """
    peak_gflops, peak_cpu = peak["best_gflops"], peak["best_gflops_cpu_estimate"]
    p = percentiles(t.wall)
    median, best = statistics.median(t.wall), min(t.wall)
    cpu_rate = batch * torch.get_num_threads() / max(statistics.median(t.cpu), 1e-9)
    return {
        "batch": batch,
        "calls": len(t.wall),
        "windows_per_s": round(batch / median, 1),
        "windows_per_s_best": round(batch / best, 1),
        "windows_per_s_cpu_estimate": round(cpu_rate, 1),
        "latency_ms_p50": round(p["p50_us"] / 1e3, 3),
        "latency_ms_p99": round(p["p99_us"] / 1e3, 3),
        "latency_ms_best": round(best * 1e3, 3),
        "flops_per_window": flops,
        "achieved_gflops": round(flops * batch / median / 1e9, 2),
        "peak_fraction": round(flops * batch / median / 1e9 / peak_gflops, 4),
        "peak_fraction_best": round(flops * batch / best / 1e9 / peak_gflops, 4),
        "peak_fraction_cpu_estimate": round(flops * cpu_rate / 1e9 / peak_cpu, 4),
    }


def speedup(fig: dict[str, Any], ref: dict[str, Any]) -> dict[str, float]:
    return {f"speedup{k}": round(fig[f"windows_per_s{k}"] / ref[f"windows_per_s{k}"], 3)
            for k in ("", "_best", "_cpu_estimate")}


def tokenize_share(tok: Timings, fwd: Timings, batch: int) -> dict[str, Any]:
    """The tokenizer's share of tokenize + forward, and the end-to-end rate."""
    out: dict[str, Any] = {}
    for kind, pick in (("", statistics.median), ("_best", min)):
        t_ms, f_ms = 1e3 * pick(tok.wall), 1e3 * pick(fwd.wall)
        out[f"tokenize_ms{kind or '_p50'}"] = round(t_ms, 3)
        out[f"forward_ms{kind or '_p50'}"] = round(f_ms, 3)
        out[f"tokenize_share{kind}"] = round(t_ms / (t_ms + f_ms), 4)
        out[f"windows_per_s{kind}"] = round(1e3 * batch / (t_ms + f_ms), 1)
    t_cpu, f_cpu = statistics.median(tok.cpu), statistics.median(fwd.cpu)
    out["tokenize_share_cpu_estimate"] = round(t_cpu / max(t_cpu + f_cpu, 1e-9), 4)
    out["windows_per_s_cpu_estimate"] = round(
        batch * torch.get_num_threads() / max(t_cpu + f_cpu, 1e-9), 1)
    return out
