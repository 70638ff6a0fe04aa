"""The pure-Python RMR backend: SI95 frames over asyncio TCP, wire-compatible with librmr.

What it does, in librmr's terms:

- listens on ``RMR_BIND_IF``:port (and on ``RMR_CTL_PORT`` for Route Manager pushes);
  unlike librmr it does not set SO_REUSEPORT, so a port already taken fails loudly;
- routes each send by the active table and caches one outbound connection per
  endpoint; it also reads those outbound sockets, since peers may write back on them;
- return-to-sender: connect to the header's ``src``, else write back on the connection
  the message came in on, else connect to ``srcip``;
- answers health checks (100 -> 101 ``OK``) and loads route tables pushed as mtype 20
  (a table may span several pushes), acknowledging each finished section with 22;
- a bad frame or a peer vanishing mid-frame is counted by reason and closes only that
  connection: SI95 cannot resynchronise inside a stream.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from xapp.rmr.frame import FrameDecoder, RmrFrameError, encode_frame
from xapp.rmr.message import FLAG_CALL, RmrMessage, new_xid
from xapp.rmr.mtypes import MessageType
from xapp.rmr.routes import RouteTableLoader
from xapp.rmr.settings import RmrSettings
from xapp.rmr.transport import (
    RmrCallTimeout,
    RmrCounters,
    RmrError,
    RmrSendFailed,
    SendResult,
)

_log = logging.getLogger("xapp.rmr")
_READ_CHUNK = 256 * 1024


class _Connection:
    """One TCP stream (accepted or dialled) and the decoder of what it delivers."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
        max_frame_bytes: int,
        send_timeout_s: float,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.send_timeout_s = send_timeout_s
        self._high_water = writer.transport.get_write_buffer_limits()[1]
        self.decoder = FrameDecoder(max_frame_bytes, origin=self)
        self.task: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    async def write(self, frame: bytes) -> bool:
        """Write one frame; False when the connection is gone."""
        if self.writer.is_closing():
            return False
        try:
            self.writer.write(frame)
            # Back-pressure above the high-water mark only; a peer that stops reading
            # for send_timeout_s is treated as dead rather than stalling the sender.
            if self.writer.transport.get_write_buffer_size() > self._high_water:
                await asyncio.wait_for(self.writer.drain(), self.send_timeout_s)
        except (ConnectionError, OSError, TimeoutError):
            self.writer.close()
            return False
        return True


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


class Si95Transport:
    """The pure-Python implementation of :class:`xapp.rmr.transport.RmrTransport`.

    Args:
        settings: where to listen, who to be and where routes come from.
        queue_size: messages held for :meth:`receive` before readers stop reading
            (TCP back-pressure, nothing is dropped).
    """

    def __init__(self, settings: RmrSettings, queue_size: int = 10_000) -> None:
        self.settings = settings
        self.counters = RmrCounters()
        self._port = settings.port
        self._source_name = settings.source_name(self._port)
        self._source_ip = settings.source_ip(self._port)
        self._routes = RouteTableLoader(self._own_names())
        self._queue: asyncio.Queue[RmrMessage | None] = asyncio.Queue(queue_size)
        self._servers: list[asyncio.Server] = []
        self._outbound: dict[str, _Connection] = {}
        self._connecting: dict[str, asyncio.Task[_Connection | None]] = {}
        self._connections: set[_Connection] = set()
        self._calls: dict[bytes, asyncio.Future[RmrMessage]] = {}
        self._call_ids = itertools.cycle(range(1, 256))
        self._closed = False

    # -- identity and state ------------------------------------------------------------

    def _own_names(self) -> set[str]:
        return {self._source_name, self._source_ip}

    @property
    def source_name(self) -> str:
        return self._source_name

    @property
    def port(self) -> int:
        """The data port actually listened on (differs from settings when that was 0)."""
        return self._port

    @property
    def is_ready(self) -> bool:
        return self._routes.active is not None

    @property
    def open_connections(self) -> int:
        """Live TCP connections, inbound and outbound (to check nothing leaks)."""
        return sum(1 for conn in self._connections if not conn.closed)

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        _log.setLevel(self.settings.log_level)
        try:
            await self._listen()
        except BaseException:
            await self.close()  # a half-started endpoint must not keep a port
            raise
        if self.settings.seed_rt is not None:
            self._load_seed(self.settings.seed_rt)
        if self.settings.rtg_svc:
            await self._request_table(self.settings.rtg_svc)

    async def _listen(self) -> None:
        host = self.settings.bind_if or None
        server = await asyncio.start_server(self._accept, host, self.settings.port)
        self._servers.append(server)
        self._port = int(server.sockets[0].getsockname()[1])
        self._source_name = self.settings.source_name(self._port)
        self._source_ip = self.settings.source_ip(self._port)
        self._routes.own_names = frozenset(self._own_names())
        ctl = self.settings.ctl_port
        if ctl is not None and ctl != self._port:
            self._servers.append(await asyncio.start_server(self._accept, host, ctl))

    def _load_seed(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            _log.warning(
                "RMR_SEED_RT %s unreadable (%s): not ready until a table arrives", path, exc
            )
            return
        self.load_routes(text)

    async def _request_table(self, rtg_svc: str) -> None:
        request = RmrMessage(
            MessageType.RMRRM_REQ_TABLE, f"{self.source_name}\n".encode(), xid=new_xid()
        )
        conn = await self._outbound_connection(rtg_svc, wait=True)
        if conn is None or not await conn.write(self._encode(request)):
            _log.warning("route table request to RMR_RTG_SVC %s failed", rtg_svc)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for server in self._servers:
            server.close()
        for task in list(self._connecting.values()):
            task.cancel()
        current = asyncio.current_task()  # close() may be called from a handler
        tasks = [
            conn.task
            for conn in self._connections
            if conn.task is not None and conn.task is not current
        ]
        for conn in list(self._connections):
            conn.writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        for future in self._calls.values():
            if not future.done():
                future.set_exception(RmrError("transport closed"))
        if not self._queue.full():  # else receivers drain it and then see _closed
            self._queue.put_nowait(None)

    # -- routes --------------------------------------------------------------------------

    def load_routes(self, text: str) -> bool:
        outcomes = self._routes.feed(text)
        for outcome in outcomes:
            self.counters.route_tables["loaded" if outcome.ok else "refused"] += 1
            if not outcome.ok:
                _log.warning(
                    "route table %s section %r refused: %s",
                    outcome.section,
                    outcome.table_id,
                    outcome.reason,
                )
        return any(outcome.ok for outcome in outcomes)

    # -- sending -------------------------------------------------------------------------

    def _encode(self, msg: RmrMessage) -> bytes:
        """The frame for ``msg`` with this endpoint's name in src and srcip."""
        return encode_frame(msg, src=self.source_name, srcip=self._source_ip)

    async def send(self, msg: RmrMessage) -> SendResult:
        table = self._routes.active
        if table is None:
            self.counters.dropped += 1
            return SendResult(reason="not_ready")
        endpoints = table.endpoints(msg.mtype, msg.sub_id, msg.meid)
        if not endpoints:
            self.counters.dropped += 1
            return SendResult(reason="no_route")
        frame = self._encode(msg)
        delivered: list[str] = []
        failed: list[str] = []
        for endpoint in endpoints:
            conn = await self._outbound_connection(endpoint, wait=not self.settings.async_conn)
            if conn is not None and await conn.write(frame):
                delivered.append(endpoint)
            else:
                failed.append(endpoint)
        self.counters.sent += len(delivered)
        self.counters.dropped += len(failed)
        return SendResult(tuple(delivered), tuple(failed), "send_failed" if failed else "")

    async def rts(self, received: RmrMessage, mtype: int, payload: bytes) -> bool:
        frame = self._encode(received.reply(mtype, payload))
        if received.src:
            conn = await self._outbound_connection(received.src, wait=True)
            if conn is not None and await conn.write(frame):
                self.counters.sent += 1
                return True
        origin = received.origin
        if isinstance(origin, _Connection) and await origin.write(frame):
            self.counters.sent += 1
            return True
        if received.srcip and received.srcip != received.src:
            conn = await self._outbound_connection(received.srcip, wait=True)
            if conn is not None and await conn.write(frame):
                self.counters.sent += 1
                return True
        self.counters.dropped += 1
        return False

    async def call(self, msg: RmrMessage, timeout: float) -> RmrMessage:
        request = replace(
            msg, xid=new_xid(), call_id=next(self._call_ids), flags=msg.flags | FLAG_CALL
        )
        future: asyncio.Future[RmrMessage] = asyncio.get_running_loop().create_future()
        self._calls[request.xid] = future
        try:
            result = await self.send(request)
            if not result:
                raise RmrSendFailed(f"call mtype {msg.mtype}: {result.reason}")
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise RmrCallTimeout(f"no reply to mtype {msg.mtype} within {timeout} s") from None
        finally:
            self._calls.pop(request.xid, None)

    async def _outbound_connection(self, endpoint: str, wait: bool) -> _Connection | None:
        """The cached connection to ``endpoint``; dial it when there is none.

        With ``wait`` false (``RMR_ASYNC_CONN``) the dial runs in the background and
        this send fails now, as in librmr.
        """
        conn = self._outbound.get(endpoint)
        if conn is not None and not conn.closed:
            return conn
        if self._closed:
            return None
        task = self._connecting.get(endpoint)
        if task is None:
            task = asyncio.create_task(self._dial(endpoint))
            self._connecting[endpoint] = task
            task.add_done_callback(lambda _: self._connecting.pop(endpoint, None))
        if not wait:
            return None
        return await asyncio.shield(task)

    async def _dial(self, endpoint: str) -> _Connection | None:
        try:
            host, port = _split_endpoint(endpoint)
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), self.settings.connect_timeout_s
            )
        except (OSError, ValueError, TimeoutError) as exc:
            _log.debug("connect to %s failed: %s", endpoint, exc)
            return None
        if self._closed:  # closed while dialling
            writer.close()
            return None
        conn = self._adopt(reader, writer, endpoint)
        self._outbound[endpoint] = conn
        conn.task = asyncio.create_task(self._read_loop(conn))
        return conn

    # -- receiving -----------------------------------------------------------------------

    def _adopt(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> _Connection:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(
            reader, writer, peer, self.settings.max_frame_bytes, self.settings.send_timeout_s
        )
        self._connections.add(conn)
        return conn

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        conn = self._adopt(reader, writer, f"{peer[0]}:{peer[1]}" if peer else "?")
        conn.task = asyncio.current_task()
        if self._closed:
            writer.close()
            self._connections.discard(conn)
            return
        try:
            await self._read_loop(conn)
        except asyncio.CancelledError:
            # close() cancels readers; Python 3.11's start_server then calls
            # task.exception() on this task, which raises for a cancelled one.
            return

    async def _read_loop(self, conn: _Connection) -> None:
        try:
            while True:
                data = await conn.reader.read(_READ_CHUNK)
                if not data:
                    conn.decoder.end_of_stream()
                    return
                try:
                    messages = conn.decoder.feed(data)
                except RmrFrameError as exc:
                    messages = exc.decoded
                    for msg in messages:
                        await self._dispatch(msg)
                    raise
                for msg in messages:
                    await self._dispatch(msg)
        except RmrFrameError as exc:
            self.counters.bad_frames[exc.reason] += 1
            _log.warning("closing RMR connection %s: %s", conn.peer, exc)
        except (ConnectionError, OSError) as exc:
            _log.debug("RMR connection %s lost: %s", conn.peer, exc)
        finally:
            conn.writer.close()
            self._connections.discard(conn)
            if self._outbound.get(conn.peer) is conn:
                del self._outbound[conn.peer]

    async def _dispatch(self, msg: RmrMessage) -> None:
        if self._calls and not msg.is_call:
            future = self._calls.get(msg.xid)
            if future is not None and not future.done():
                future.set_result(msg)
                return
        if msg.mtype == MessageType.RIC_HEALTH_CHECK_REQ:
            self.counters.health_checks += 1
            await self.rts(msg, MessageType.RIC_HEALTH_CHECK_RESP, b"OK")
        elif msg.mtype == MessageType.RMRRM_TABLE_DATA:
            await self._route_push(msg)
        else:
            self.counters.received += 1
            await self._queue.put(msg)

    async def _route_push(self, msg: RmrMessage) -> None:
        # C senders may include the string's NUL terminator; the text ends there.
        text = msg.payload.split(b"\0", 1)[0].decode("utf-8", "replace")
        for outcome in self._routes.feed(text):
            self.counters.route_tables["loaded" if outcome.ok else "refused"] += 1
            # librmr's ack: "OK|ERR <table id> <reason>\n" and the C string's NUL.
            state = "OK" if outcome.ok else "ERR"
            ack = f"{state} {outcome.table_id or '<id-missing>'} {outcome.reason}\n\0"
            await self.rts(msg, MessageType.RMRRM_TABLE_STATE, ack.encode())

    async def receive(self) -> RmrMessage:
        if self._closed and self._queue.empty():
            raise RmrError("transport closed")
        msg = await self._queue.get()
        if msg is None:
            self._queue.put_nowait(None)  # wake the next waiter too
            raise RmrError("transport closed")
        return msg

    async def __aiter__(self) -> AsyncIterator[RmrMessage]:
        while True:
            try:
                yield await self.receive()
            except RmrError:
                return

    async def __aenter__(self) -> Si95Transport:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
