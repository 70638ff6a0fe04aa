"""Small timing helpers shared by the benchmarks (wall clock, repeated calls, percentiles)."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from typing import Any


def rate(fn: Callable[[], Any], min_seconds: float, min_calls: int = 3) -> dict[str, float]:
    """Call ``fn`` repeatedly for at least ``min_seconds``; return calls/s and mean µs/call."""
    fn()  # warm-up (imports, caches)
    calls = 0
    start = time.perf_counter()
    elapsed = 0.0
    while calls < min_calls or elapsed < min_seconds:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
    return {"calls": calls, "per_s": calls / elapsed, "us_per_call": 1e6 * elapsed / calls}


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p99/mean of durations given in seconds, returned in microseconds."""
    ordered = sorted(samples_s)
    if not ordered:
        return {"p50_us": float("nan"), "p99_us": float("nan"), "mean_us": float("nan")}

    def pick(q: float) -> float:
        return 1e6 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50_us": pick(0.50), "p99_us": pick(0.99), "mean_us": 1e6 * statistics.fmean(ordered)}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "machine": platform.machine()}
