"""Helpers that start real RMR endpoints on 127.0.0.1 for the transport tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from tests.conftest import free_port
from xapp.rmr.backends import open_transport
from xapp.rmr.message import RmrMessage
from xapp.rmr.settings import RmrSettings
from xapp.rmr.si95 import Si95Transport
from xapp.rmr.transport import RmrTransport

T = TypeVar("T")
LIMIT_S = 60.0  # generous: a hung test must fail, not block the suite


def run(coro: Awaitable[T]) -> T:
    """Run one test scenario on a fresh event loop, bounded in time."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, LIMIT_S)

    return asyncio.run(bounded())


def addr(port: int) -> str:
    return f"127.0.0.1:{port}"


def settings_for(tmp_path: Path, port: int, routes: str | None, **overrides: object) -> RmrSettings:
    """Loopback settings with ``routes`` as the seed table (none when ``routes`` is None)."""
    seed = None
    if routes is not None:
        seed = tmp_path / f"seed-{port}.rt"
        seed.write_text(routes)
    base: dict[str, object] = {
        "port": port,
        "bind_if": "127.0.0.1",
        "seed_rt": seed,
        "src_id": "127.0.0.1",
        "ctl_port": free_port(),
        "async_conn": False,
    }
    base.update(overrides)
    return RmrSettings(**base)  # type: ignore[arg-type]


def table(*records: str, table_id: str = "") -> str:
    head = f"newrt|start|{table_id}" if table_id else "newrt|start"
    return "\n".join([head, *records, "newrt|end", ""])


async def start(backend: str, settings: RmrSettings) -> RmrTransport:
    transport = open_transport(settings, prefer=backend)  # type: ignore[arg-type]
    await transport.start()
    assert_listening(settings.port)
    return transport


async def start_peer(settings: RmrSettings) -> Si95Transport:
    """The pure-Python endpoint every backend is tested against."""
    peer = Si95Transport(settings)
    await peer.start()
    assert_listening(peer.port)
    return peer


def assert_listening(port: int) -> None:
    """Something accepts TCP connections on 127.0.0.1:port right now."""
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


async def take(transport: RmrTransport, count: int) -> list[RmrMessage]:
    return [await transport.receive() for _ in range(count)]
