"""The one RMR transport interface used by the xApp, the E2 simulator and the mini-RIC.

Two backends implement it: :class:`xapp.rmr.si95.Si95Transport` (pure Python, asyncio)
and :class:`xapp.rmr.librmr.LibRmrTransport` (the C library through ricxappframe).
Pick one with :func:`xapp.rmr.backends.open_transport`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from xapp.rmr.message import RmrMessage


class RmrError(Exception):
    """An RMR operation that could not be carried out (not a malformed input)."""


class RmrCallTimeout(RmrError, TimeoutError):
    """No reply with the call's transaction id arrived in time."""


class RmrSendFailed(RmrError):
    """A message could not be handed to any endpoint (no route, or all connections failed)."""


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send: truthy when every routed copy was written.

    Attributes:
        delivered: endpoints (``host:port``) a copy was written to.
        failed: endpoints that could not be written (not connected, connection lost).
        reason: ``""`` on success, else ``no_route``, ``not_ready``, ``send_failed``.
    """

    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    reason: str = ""

    def __bool__(self) -> bool:
        return not self.reason and bool(self.delivered) and not self.failed


@dataclass
class RmrCounters:
    """Running totals a transport keeps (exported as metrics by the xApp).

    Attributes:
        sent: copies written to a connection.
        received: messages delivered to the application (health and route traffic excluded).
        dropped: copies that found no route or no connection, or could not be delivered.
        bad_frames: malformed frames (connection closed afterwards) by reason code.
        health_checks: mtype 100 requests answered.
        route_tables: route-table sections activated or refused, by outcome.
    """

    sent: int = 0
    received: int = 0
    dropped: int = 0
    bad_frames: Counter[str] = field(default_factory=Counter)
    health_checks: int = 0
    route_tables: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return {
            "sent": self.sent,
            "received": self.received,
            "dropped": self.dropped,
            "bad_frames": dict(self.bad_frames),
            "health_checks": self.health_checks,
            "route_tables": dict(self.route_tables),
        }


@runtime_checkable
class RmrTransport(Protocol):
    """Send, receive, call and return-to-sender over RMR.

    Messages are routed by the active route table on (mtype, sub_id). Health checks
    (mtype 100) are answered with 101 ``OK`` and route pushes (mtype 20) are loaded and
    acknowledged (22) by the transport itself; neither reaches :meth:`receive`.
    """

    counters: RmrCounters

    @property
    def is_ready(self) -> bool:
        """True once a route table is active (librmr's ``rmr_ready``)."""
        ...

    @property
    def source_name(self) -> str:
        """The ``host:port`` this endpoint puts in ``src``."""
        ...

    async def start(self) -> None:
        """Listen, load the seed route table and request one from the Route Manager."""
        ...

    async def close(self) -> None:
        """Stop listening, close every connection and fail pending calls."""
        ...

    def load_routes(self, text: str) -> bool:
        """Apply route-table text (whole lines); True when a table became active."""
        ...

    async def send(self, msg: RmrMessage) -> SendResult:
        """Route ``msg`` by (mtype, sub_id) and write one copy per endpoint group."""
        ...

    async def rts(self, received: RmrMessage, mtype: int, payload: bytes) -> bool:
        """Return a reply to the sender of ``received`` (keeps xid and call id)."""
        ...

    async def call(self, msg: RmrMessage, timeout: float) -> RmrMessage:
        """Send ``msg`` as a call and wait for the reply carrying the same 32 xid bytes.

        Raises:
            RmrSendFailed: the request could not be sent.
            RmrCallTimeout: no reply within ``timeout`` seconds.
        """
        ...

    async def receive(self) -> RmrMessage:
        """The next message for the application (waits)."""
        ...

    def __aiter__(self) -> AsyncIterator[RmrMessage]:
        """Iterate over received messages until the transport closes."""
        ...
