"""The micro-batcher: gather UEs whose window changed, run one decision per batch.

The first change after an idle period opens a batch; the batch is dispatched when it holds
``max_batch`` UEs or when ``deadline_s`` has passed since that first change, whichever
comes first. A UE that changes again while pending is counted once. Changes that arrive
while a batch is being decided open the next batch (dispatches never overlap), so the
decision rate adapts to the load: small batches at low load, full ones under pressure.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

DEFAULT_DEADLINE_S = 0.005
DEFAULT_MAX_BATCH = 256


@dataclass(frozen=True)
class Batch(Generic[K]):
    """One dispatched batch.

    Attributes:
        keys: the UEs, in order of their first pending change.
        opened_at: ``time.monotonic()`` of the first change of the batch (seconds).
        trigger: ``"full"`` (max_batch reached) or ``"deadline"``.
    """

    keys: tuple[K, ...]
    opened_at: float
    trigger: Literal["full", "deadline"]


@dataclass
class BatcherCounters:
    batches: int = 0
    items: int = 0
    full: int = 0
    deadline: int = 0
    failed: int = 0  # batches whose handler raised (the batcher keeps going)


class MicroBatcher(Generic[K]):
    """Collects keys and hands them to ``handle`` in batches (see module docstring).

    Args:
        handle: awaited with each :class:`Batch`; an exception is counted and logged by
            the caller's handler, never propagated (the loop must not stop).
        deadline_s: longest wait from a batch's first change to its dispatch.
        max_batch: most keys per batch.
    """

    def __init__(self, handle: Callable[[Batch[K]], Awaitable[None]],
                 deadline_s: float = DEFAULT_DEADLINE_S,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if deadline_s < 0 or max_batch < 1:
            raise ValueError("deadline_s must be >= 0 and max_batch >= 1")
        self._handle = handle
        self.deadline_s = deadline_s
        self.max_batch = max_batch
        self._pending: dict[K, None] = {}  # insertion-ordered set
        self._opened_at = 0.0
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()
        self.counters = BatcherCounters()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, keys: Iterable[K]) -> None:
        """Mark ``keys`` as changed (call from the event loop's thread)."""
        for key in keys:
            if not self._pending:
                self._opened_at = time.monotonic()
                self._wakeup.set()
            self._pending[key] = None
        if len(self._pending) >= self.max_batch:
            self._full.set()

    def _take(self, trigger: Literal["full", "deadline"]) -> Batch[K]:
        keys = tuple(list(self._pending)[: self.max_batch])
        for key in keys:
            del self._pending[key]
        batch = Batch(keys, self._opened_at, trigger)
        if self._pending:  # the rest opens the next batch now: its clock starts here
            self._opened_at = time.monotonic()
        else:
            self._wakeup.clear()
        if len(self._pending) < self.max_batch:
            self._full.clear()
        return batch

    async def run(self) -> None:
        """Dispatch batches until cancelled."""
        while True:
            await self._wakeup.wait()
            remaining = self._opened_at + self.deadline_s - time.monotonic()
            trigger: Literal["full", "deadline"] = "full"
            if not self._full.is_set():
                try:
                    await asyncio.wait_for(self._full.wait(), max(remaining, 0.0))
                except TimeoutError:
                    trigger = "deadline"
            if not self._pending:
                self._wakeup.clear()
                continue
            batch = self._take(trigger)
            self.counters.batches += 1
            self.counters.items += len(batch.keys)
            if trigger == "full":
                self.counters.full += 1
            else:
                self.counters.deadline += 1
            try:
                await self._handle(batch)
            except Exception:  # one bad batch must not stop decisions (cancel still does)
                self.counters.failed += 1
                log.exception("decision batch of %d failed", len(batch.keys))
