"""One RMR message as the application sees it (PROTOCOLS.md section 1).

The same dataclass is produced by both backends (the pure-Python SI95 transport and
librmr) and by the sans-IO frame codec, so xApp code never touches a C buffer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from xapp.rmr.mtypes import NO_SUB_ID

XID_LEN = 32
"""Transaction id size in bytes; call replies are matched on all of them."""
MEID_MAX = 32
"""meid field size including the terminating NUL (so at most 31 name bytes)."""
SRC_MAX = 64
"""src and srcip field size including the terminating NUL."""
FLAG_CALL = 0x04
"""Header flag set on a call request; a reply clears it."""


def new_xid() -> bytes:
    """A fresh 32-byte transaction id: a random UUID as 32 hex digits.

    Printable on purpose: ricxappframe reads xids as C strings (up to the first NUL),
    so a binary id with a zero byte would be cut short by Python xApps echoing it.
    """
    return uuid.uuid4().hex.encode("ascii")


@dataclass(frozen=True, slots=True)
class RmrMessage:
    """An RMR message: routing fields, transaction fields and an opaque payload.

    Attributes:
        mtype: message type (int32); routing key together with ``sub_id``.
        payload: the application bytes (plen of them on the wire).
        sub_id: subscription id (int32), ``-1`` when the message belongs to none.
        meid: managed entity id (the E2 node / RAN name), at most 31 UTF-8 bytes.
        xid: the 32 raw transaction-id bytes; a reply to a call carries the same ones.
        src: ``"host:port"`` of the sender, where return-to-sender connects. Backends
            stamp their own value on send.
        srcip: ``"ip:port"`` of the sender, the second return-to-sender choice.
        call_id: d1 byte 0; nonzero on call requests and their replies.
        flags: header flags (``FLAG_CALL`` = call request).
        trace: optional trace bytes carried between the header and the payload.
        origin: backend handle of the connection or buffer the message arrived on,
            used by return-to-sender; ``None`` for messages built locally. Not part of
            equality.
    """

    mtype: int
    payload: bytes = b""
    sub_id: int = NO_SUB_ID
    meid: str = ""
    xid: bytes = bytes(XID_LEN)
    src: str = ""
    srcip: str = ""
    call_id: int = 0
    flags: int = 0
    trace: bytes = b""
    origin: object | None = field(default=None, compare=False, repr=False)

    @property
    def is_call(self) -> bool:
        """True when the sender waits for a reply (``rmr_call``)."""
        return bool(self.flags & FLAG_CALL)

    def reply(self, mtype: int, payload: bytes) -> RmrMessage:
        """The return-to-sender message answering this one, as librmr builds it.

        Keeps xid, call id, sub_id, meid and trace (so a waiting call matches it), clears
        the call flag, and leaves ``src``/``srcip`` to be stamped by the sending backend.
        """
        return replace(
            self,
            mtype=mtype,
            payload=payload,
            flags=self.flags & ~FLAG_CALL,
            src="",
            srcip="",
            origin=None,
        )
