"""E2SM-KPM decoding in a worker process, so that it never stalls the CSI path.

KPM is ASN.1 APER decoded by pure-Python pycrate: a 64-UE format 3 indication takes
35-150 ms of CPU (2 loaded cores), while a CSI indication must be turned into decisions
within 10 ms. Decoded on the event loop, every KPM report (once per KPM period per E2
node) holds up the CSI indications queued behind it for that long, which alone puts the
p99 decision latency past the budget (``linkfm bench loop`` measures it). So the KPM bytes
go to one worker process (the GIL would serialise a thread with the loop) and only the
per-UE values come back; they are applied to the windows when they arrive, i.e. a few
tens of ms later, which the per-UE windows do not notice (KPM is held for the next slot).

A decode failure comes back as data and is re-raised on the caller's side as the same
:class:`~xapp.errors.MalformedInput` subclass, so bad inputs are counted as before.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from xapp.errors import MalformedInput
from xapp.ingest.decode import IngestError, KpmUeValues, decode_kpm, decode_ric_indication

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodeFailure:
    """A :class:`MalformedInput` as it crosses the process boundary."""

    kind: type[MalformedInput]
    reason: str
    detail: str

    def error(self) -> MalformedInput:
        try:
            return self.kind(self.reason, self.detail)
        except TypeError:  # a subclass with another constructor
            return IngestError(self.reason, self.detail)


def decode_kpm_payload(payload: bytes) -> list[KpmUeValues] | DecodeFailure:
    """RMR payload -> per-UE KPM values (runs in the worker)."""
    try:
        return decode_kpm(decode_ric_indication(payload))
    except MalformedInput as exc:
        return DecodeFailure(type(exc), exc.reason, exc.detail)


MAX_RESTARTS = 3
"""Worker deaths after which KPM is decoded inline (a process that cannot start at all
must not cost a failed start per KPM indication)."""


class KpmWorker:
    """One spawned worker process, started on first use; ``await decode(payload)``.

    Args:
        max_pending: KPM indications queued or being decoded at most; beyond that a new
            one is refused (``IngestError("kpm_backlog")``) rather than queued without
            bound.
    """

    def __init__(self, max_pending: int = 64) -> None:
        self.max_pending = max_pending
        self.pending = 0
        self.decoded = 0  # indications decoded in the worker (or inline after a crash)
        self.broken = 0  # times the worker process died
        self._pool: ProcessPoolExecutor | None = None

    async def decode(self, payload: bytes) -> list[KpmUeValues]:
        """The per-UE values of a KPM indication; raises ``MalformedInput``."""
        if self.pending >= self.max_pending:
            raise IngestError("kpm_backlog",
                              f"{self.pending} KPM indications still being decoded")
        self.pending += 1
        try:
            if self.broken >= MAX_RESTARTS:  # the worker cannot run here: decode inline
                result = decode_kpm_payload(payload)
            else:
                try:
                    result = await asyncio.get_running_loop().run_in_executor(
                        self._executor(), decode_kpm_payload, payload)
                except BrokenProcessPool:
                    self.broken += 1
                    log.error("the KPM decoding process died (%d of %d): %s", self.broken,
                              MAX_RESTARTS, "starting another" if self.broken < MAX_RESTARTS
                              else "decoding KPM on the event loop from now on")
                    self.close()
                    result = decode_kpm_payload(payload)
        finally:
            self.pending -= 1
        if isinstance(result, DecodeFailure):
            raise result.error()
        self.decoded += 1
        return result

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
