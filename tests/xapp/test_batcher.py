"""The micro-batcher: batches close when full or at the deadline, never overlap, and a
failing batch does not stop the next ones."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from xapp.decide.batcher import Batch, MicroBatcher


class Recorder:
    def __init__(self) -> None:
        self.batches: list[Batch[int]] = []
        self.arrived: asyncio.Queue[Batch[int]] = asyncio.Queue()
        self.fail_next = False

    async def __call__(self, batch: Batch[int]) -> None:
        self.batches.append(batch)
        self.arrived.put_nowait(batch)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("predictor exploded")

    async def next(self) -> Batch[int]:
        return await asyncio.wait_for(self.arrived.get(), 5)


@contextlib.asynccontextmanager
async def running(deadline_s: float, max_batch: int) -> AsyncIterator[
        tuple[MicroBatcher[int], Recorder]]:
    recorder = Recorder()
    batcher = MicroBatcher(recorder, deadline_s=deadline_s, max_batch=max_batch)
    task = asyncio.create_task(batcher.run())
    try:
        yield batcher, recorder
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_full_batch_is_dispatched_without_waiting_for_the_deadline() -> None:
    async with running(deadline_s=3600, max_batch=3) as (batcher, recorder):
        batcher.add([1, 2, 3])
        batch = await recorder.next()  # a one-hour deadline would time this out
        assert (batch.keys, batch.trigger) == ((1, 2, 3), "full")


async def test_a_partial_batch_is_dispatched_at_the_deadline() -> None:
    async with running(deadline_s=0.02, max_batch=100) as (batcher, recorder):
        batcher.add([7, 8])
        batch = await recorder.next()
        assert (batch.keys, batch.trigger) == ((7, 8), "deadline")


async def test_batches_never_exceed_the_maximum_size() -> None:
    async with running(deadline_s=0.01, max_batch=4) as (batcher, recorder):
        batcher.add(range(10))
        sizes = [len((await recorder.next()).keys) for _ in range(3)]
        assert sizes == [4, 4, 2]
        assert [k for b in recorder.batches for k in b.keys] == list(range(10))


async def test_a_ue_that_changes_twice_while_pending_is_decided_once() -> None:
    async with running(deadline_s=0.02, max_batch=100) as (batcher, recorder):
        batcher.add([5, 6, 5])
        assert (await recorder.next()).keys == (5, 6)


async def test_changes_during_a_dispatch_go_into_the_next_batch() -> None:
    gate = asyncio.Event()
    seen: list[tuple[int, ...]] = []

    async def slow(batch: Batch[int]) -> None:
        seen.append(batch.keys)
        if len(seen) == 1:
            await gate.wait()

    batcher = MicroBatcher(slow, deadline_s=0.01, max_batch=100)
    task = asyncio.create_task(batcher.run())
    batcher.add([1])
    while not seen:
        await asyncio.sleep(0.005)
    batcher.add([2, 3])
    assert batcher.pending == 2  # held while the first batch is still being decided
    gate.set()
    while len(seen) < 2:
        await asyncio.sleep(0.005)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert seen == [(1,), (2, 3)]


async def test_a_failing_batch_is_counted_and_the_next_one_still_runs() -> None:
    async with running(deadline_s=0.01, max_batch=100) as (batcher, recorder):
        recorder.fail_next = True
        batcher.add([1])
        await recorder.next()
        batcher.add([2])
        assert (await recorder.next()).keys == (2,)
        assert batcher.counters.failed == 1
        assert (batcher.counters.batches, batcher.counters.items) == (2, 2)


def test_nonsense_limits_are_refused() -> None:
    async def handle(batch: Batch[int]) -> None:
        return None

    with pytest.raises(ValueError):
        MicroBatcher(handle, deadline_s=0.01, max_batch=0)
