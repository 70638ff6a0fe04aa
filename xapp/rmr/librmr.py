"""The librmr backend: RMR through the C library, via ricxappframe's ctypes wrapper.

Used in the container image, where ``librmr_si.so`` is installed from the OSC release
packages; on developer and CI machines the library is absent and
:func:`load_librmr` returns ``None`` (importing ``ricxappframe.rmr.rmr`` raises OSError).

librmr calls block, so a daemon thread receives (``rmr_torcv_msg``) and hands
messages to the event loop, and sends/calls run in worker threads. The context is
initialised with ``RMRFL_MTCALL`` so calls from several threads are matched correctly.

ricxappframe pitfalls avoided here (PROTOCOLS.md section 1): its helpers skip mtype 0
and sub_id 0 (``if mtype:``), its ``set_payload_and_length`` reallocates without
returning the new buffer, and ``get_xaction`` stops at the first NUL; so fields are set
on the buffer directly, buffers are allocated big enough up front, the 32 xid bytes
are copied raw, and every buffer is freed exactly once.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib
import itertools
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import cache
from typing import Any

from xapp.rmr.message import XID_LEN, RmrMessage, new_xid
from xapp.rmr.mtypes import MessageType
from xapp.rmr.settings import RmrSettings
from xapp.rmr.transport import RmrCallTimeout, RmrCounters, RmrError, RmrSendFailed, SendResult

_RECEIVE_POLL_MS = 100
_MIN_ALLOC = 4096


@cache
def load_librmr() -> Any | None:
    """ricxappframe's ``rmr`` module when librmr_si.so loads, else ``None``."""
    try:
        return importlib.import_module("ricxappframe.rmr.rmr")
    except (OSError, ImportError):
        return None


class _ReceivedBuffer:
    """Owns a received librmr buffer until return-to-sender reuses it, or frees it."""

    def __init__(self, rmr: Any, sbuf: Any) -> None:
        self._rmr = rmr
        self._sbuf: Any | None = sbuf
        self._lock = threading.Lock()
        self._replies: set[asyncio.Future[bool]] = set()

    def take(self) -> Any | None:
        with self._lock:
            sbuf, self._sbuf = self._sbuf, None
        return sbuf

    def __del__(self) -> None:
        sbuf = self.take()
        if sbuf is not None:
            self._rmr.rmr_free_msg(sbuf)


class LibRmrTransport:
    """:class:`xapp.rmr.transport.RmrTransport` on top of librmr (route tables, health
    checks and mtype 20 pushes are librmr's own business; 100 is answered here)."""

    def __init__(self, settings: RmrSettings, queue_size: int = 10_000) -> None:
        rmr = load_librmr()
        if rmr is None:
            raise RmrError("librmr_si.so cannot be loaded")
        self._rmr = rmr
        self.settings = settings
        self.counters = RmrCounters()
        self._ctx: Any | None = None
        self._queue: asyncio.Queue[RmrMessage | None] = asyncio.Queue(queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._call_ids = itertools.cycle(range(2, 256))  # 0 and 1 are reserved by librmr
        self._lock = threading.Lock()
        self._replies: set[asyncio.Future[bool]] = set()

    @property
    def is_ready(self) -> bool:
        return self._ctx is not None and bool(self._rmr.rmr_ready(self._ctx))

    @property
    def source_name(self) -> str:
        return self.settings.source_name()

    async def start(self) -> None:
        # librmr reads its settings from the environment inside rmr_init.
        os.environ.update(self.settings.to_env())
        rmr = self._rmr
        self._ctx = rmr.rmr_init(
            str(self.settings.port).encode(), self.settings.max_frame_bytes, rmr.RMRFL_MTCALL
        )
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._receive_forever, args=(loop,), name="librmr-receive", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._ctx is not None:
            self._rmr.rmr_close(self._ctx)
            self._ctx = None
        self._queue.put_nowait(None)

    def load_routes(self, text: str) -> bool:
        """librmr only loads tables from RMR_SEED_RT or the Route Manager; write a seed
        file and restart to change them. Always False here."""
        return False

    # -- buffers -------------------------------------------------------------------------

    def _alloc(self, msg: RmrMessage) -> Any:
        rmr = self._rmr
        sbuf = rmr.rmr_alloc_msg(self._ctx, max(_MIN_ALLOC, len(msg.payload)))
        sbuf = self._fill(sbuf, msg.mtype, msg.payload)
        sbuf.contents.sub_id = msg.sub_id
        ctypes.memmove(sbuf.contents.xaction, msg.xid, XID_LEN)
        if msg.meid:
            rmr.rmr_set_meid(sbuf, msg.meid.encode())
        return sbuf

    def _fill(self, sbuf: Any, mtype: int, payload: bytes) -> Any:
        if self._rmr.rmr_payload_size(sbuf) < len(payload):
            sbuf = self._rmr.rmr_realloc_payload(sbuf, len(payload), False, False)
        ctypes.memmove(sbuf.contents.payload, payload, len(payload))
        sbuf.contents.len = len(payload)
        sbuf.contents.mtype = mtype
        return sbuf

    def _to_message(self, sbuf: Any, origin: object | None) -> RmrMessage:
        contents = sbuf.contents
        return RmrMessage(
            mtype=contents.mtype,
            payload=ctypes.string_at(contents.payload, contents.len),
            sub_id=contents.sub_id,
            meid=self._rmr.rmr_get_meid(sbuf).decode("utf-8", "replace"),
            xid=ctypes.string_at(contents.xaction, XID_LEN),
            src=self._rmr.get_src(sbuf),
            origin=origin,
        )

    # -- receiving -----------------------------------------------------------------------

    def _receive_forever(self, loop: asyncio.AbstractEventLoop) -> None:
        rmr = self._rmr
        sbuf = None
        while not self._stop.is_set():
            sbuf = rmr.rmr_torcv_msg(self._ctx, sbuf, _RECEIVE_POLL_MS)
            if not sbuf or sbuf.contents.state != rmr.RMR_OK:
                continue  # timeout: poll the stop flag again
            msg = self._to_message(sbuf, _ReceivedBuffer(rmr, sbuf))
            sbuf = None  # now owned by the message; librmr allocates the next one
            loop.call_soon_threadsafe(self._deliver, msg)
        if sbuf is not None:
            rmr.rmr_free_msg(sbuf)

    def _deliver(self, msg: RmrMessage) -> None:
        if msg.mtype == MessageType.RIC_HEALTH_CHECK_REQ:
            self.counters.health_checks += 1
            task = asyncio.ensure_future(self.rts(msg, MessageType.RIC_HEALTH_CHECK_RESP, b"OK"))
            self._replies.add(task)  # keep a reference until it is done
            task.add_done_callback(self._replies.discard)
            return
        self.counters.received += 1
        try:
            self._queue.put_nowait(msg)
        except asyncio.QueueFull:
            self.counters.dropped += 1

    async def receive(self) -> RmrMessage:
        msg = await self._queue.get()
        if msg is None:
            self._queue.put_nowait(None)
            raise RmrError("transport closed")
        return msg

    async def __aiter__(self) -> AsyncIterator[RmrMessage]:
        while True:
            try:
                yield await self.receive()
            except RmrError:
                return

    # -- sending -------------------------------------------------------------------------

    def _send_blocking(self, msg: RmrMessage) -> SendResult:
        rmr = self._rmr
        sbuf = rmr.rmr_send_msg(self._ctx, self._alloc(msg))
        state = sbuf.contents.state
        rmr.rmr_free_msg(sbuf)
        if state == rmr.RMR_OK:
            self.counters.sent += 1
            return SendResult(delivered=("librmr",))
        self.counters.dropped += 1
        reason = "no_route" if state == rmr.RMR_ERR_NOENDPT else "send_failed"
        return SendResult(failed=("librmr",), reason=reason)

    async def send(self, msg: RmrMessage) -> SendResult:
        return await asyncio.to_thread(self._send_blocking, msg)

    def _rts_blocking(self, holder: _ReceivedBuffer, mtype: int, payload: bytes) -> bool:
        sbuf = holder.take()
        if sbuf is None:
            return False  # this message was already answered
        rmr = self._rmr
        sbuf = rmr._rmr_rts_msg(self._ctx, self._fill(sbuf, mtype, payload))
        ok = bool(sbuf.contents.state == rmr.RMR_OK)
        rmr.rmr_free_msg(sbuf)
        return ok

    async def rts(self, received: RmrMessage, mtype: int, payload: bytes) -> bool:
        if not isinstance(received.origin, _ReceivedBuffer):
            return False
        ok = await asyncio.to_thread(self._rts_blocking, received.origin, mtype, payload)
        if ok:
            self.counters.sent += 1
        else:
            self.counters.dropped += 1
        return ok

    def _call_blocking(self, msg: RmrMessage, timeout_ms: int) -> RmrMessage:
        rmr = self._rmr
        # ricxappframe wraps rmr_call but not rmr_mt_call, the one with a timeout.
        mt_call = rmr._wrap_rmr_function(
            "rmr_mt_call",
            ctypes.POINTER(rmr.rmr_mbuf_t),
            [ctypes.c_void_p, ctypes.POINTER(rmr.rmr_mbuf_t), ctypes.c_int, ctypes.c_int],
        )
        with self._lock:
            call_id = next(self._call_ids)
        reply = mt_call(self._ctx, self._alloc(msg), call_id, timeout_ms)
        if not reply:
            raise RmrSendFailed(f"rmr_mt_call returned no buffer for mtype {msg.mtype}")
        try:
            state = reply.contents.state
            if state == rmr.RMR_ERR_TIMEOUT:
                raise RmrCallTimeout(f"no reply to mtype {msg.mtype} within {timeout_ms} ms")
            if state != rmr.RMR_OK:
                raise RmrSendFailed(f"rmr_mt_call state {state}")
            return self._to_message(reply, None)
        finally:
            rmr.rmr_free_msg(reply)

    async def call(self, msg: RmrMessage, timeout: float) -> RmrMessage:
        request = replace(msg, xid=new_xid())
        return await asyncio.to_thread(self._call_blocking, request, int(timeout * 1000))
