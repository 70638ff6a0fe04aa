"""Instrumentation for ``linkfm bench loop``: time spent in wrapped calls, by stage.

The benchmark wraps the xApp's real functions and methods (codec entry points, the window
store, the predictor, the policy, the sinks) with :class:`Probe` for the duration of a run
and puts them back afterwards (:func:`patched`); nothing of the pipeline is copied.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Probe:
    """Exclusive time per category of the wrapped calls (nested calls subtract): wall
    (``perf_counter``) and CPU of the calling thread (``thread_time``, which time slices
    lost to other processes on a shared machine do not inflate)."""

    spent: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    _stack: list[list[float]] = field(default_factory=list)

    def wrap(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([0.0, 0.0])
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
                inner_wall, inner_cpu = self._stack.pop()
                self.spent[category] += wall - inner_wall
                self.cpu[category] += cpu - inner_cpu
                self.calls[category] += 1
                if self._stack:
                    self._stack[-1][0] += wall
                    self._stack[-1][1] += cpu
        return timed

    def wrap_async(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """For coroutines that rarely suspend (an RMR send on a cached connection)."""
        async def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.spent[category] += time.perf_counter() - wall
                self.cpu[category] += time.thread_time() - cpu
                self.calls[category] += 1
        return timed

    def reset(self) -> None:
        self.spent.clear()
        self.cpu.clear()
        self.calls.clear()


@contextlib.contextmanager
def patched(target: object, name: str, value: object) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)
