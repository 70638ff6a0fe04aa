"""The other side of ``linkfm bench loop``, in its own process: the E2 side and the consumer.

It plays E2T towards the xApp: one TCP connection to the xApp's RMR port, on which it
writes the pre-built indication frames of every cell at each report period (and the KPM
frames at the KPM period), as fast as asyncio wakes up on time. Before a frame is written
its RMR transaction id (xid) is stamped with ``time.monotonic_ns()`` and a sequence number,
so the xApp side can measure from the moment the node sent it (CLOCK_MONOTONIC is shared
by the processes of one machine). It also runs the recommendation consumer: a pure-Python
RMR endpoint that counts the batches it receives (without acknowledging them: decoding
them here would take a core the xApp needs).

Runs as ``multiprocessing`` (spawn) target :func:`serve`, driven through a pipe:
``-> ("port", consumer_port)``, ``<- ("go", xapp_port, start_at_monotonic)``,
``-> ("sent", stats)`` once the replay is over (frames it could not write because the
xApp had fallen behind are counted as dropped, not queued), ``<- ("stop",)``,
``-> ("received", n)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import struct
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from xapp.rmr.message import XID_LEN
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport

XID_OFFSET = 50 + 12  # transport header, then mtype and plen
STAMP = struct.Struct(">qq")  # monotonic ns at send, frame sequence


def stamp(frame: bytes, sent_ns: int, sequence: int) -> bytes:
    return b"".join((frame[:XID_OFFSET], STAMP.pack(sent_ns, sequence),
                     bytes(XID_LEN - STAMP.size), frame[XID_OFFSET + XID_LEN:]))


def sent_at_ns(xid: bytes) -> int:
    """The send time a replayed frame's xid carries (0 for any other xid)."""
    return int(STAMP.unpack_from(xid)[0])


async def _replay(port: int, plan: dict[str, Any], start_at: float) -> dict[str, Any]:
    """Write each period's frames at ``start_at + k * period`` for ``seconds``."""
    csi_steps: list[list[bytes]] = plan["csi_steps"]  # [step] -> frames of all cells
    kpm: list[bytes] = plan["kpm"]
    period_s = plan["period_ms"] / 1000
    kpm_every = max(1, round(plan["kpm_period_ms"] / plan["period_ms"])) if kpm else 0
    periods = max(1, round(plan["seconds"] / period_s))
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    # What RMR does when a receiver falls behind: the sender's buffer fills and messages
    # are dropped. Here: a period is skipped while more than two periods' bytes wait
    # in this process (the kernel's socket buffers hold a few MB more).
    limit = 2 * sum(len(f) for f in csi_steps[0]) + sum(len(f) for f in kpm)
    lags: list[float] = []
    frames = csi_frames = kpm_frames = dropped = 0
    try:
        for k in range(periods):
            due = start_at + k * period_s
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            lags.append(time.monotonic() - due)
            batch = list(csi_steps[k % len(csi_steps)])
            kpm_due = bool(kpm_every and k % kpm_every == kpm_every - 1)
            if kpm_due:
                batch += kpm
            if writer.transport.get_write_buffer_size() > limit:
                dropped += len(batch)
                continue
            csi_frames += len(csi_steps[k % len(csi_steps)])
            kpm_frames += len(kpm) if kpm_due else 0
            for frame in batch:
                writer.write(stamp(frame, time.monotonic_ns(), frames))
                frames += 1
        ended = time.monotonic()
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(writer.drain(), 5.0)
    finally:
        writer.close()
    lags.sort()
    return {"periods": periods, "frames": frames, "csi_frames": csi_frames,
            "kpm_frames": kpm_frames, "dropped_frames": dropped, "started": start_at,
            "ended": ended,
            "send_lag_p50_ms": 1e3 * lags[len(lags) // 2],
            "send_lag_max_ms": 1e3 * lags[-1]}


async def _serve(pipe: Connection, plan_path: Path) -> None:
    plan = pickle.loads(plan_path.read_bytes())
    consumer = Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                         ctl_port=None, async_conn=False))
    await consumer.start()
    received = 0

    async def consume() -> None:
        nonlocal received
        async for _ in consumer:
            received += 1

    consuming = asyncio.create_task(consume())
    pipe.send(("port", consumer.port))
    _, xapp_port, start_at = await asyncio.to_thread(pipe.recv)
    pipe.send(("sent", await _replay(xapp_port, plan, start_at)))
    await asyncio.to_thread(pipe.recv)  # stop
    pipe.send(("received", received))
    consuming.cancel()
    await consumer.close()


def serve(pipe: Connection, plan_path: str) -> None:
    """Process entry point (see the module docstring)."""
    asyncio.run(_serve(pipe, Path(plan_path)))
