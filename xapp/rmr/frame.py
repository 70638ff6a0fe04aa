"""Sans-IO codec for RMR SI95 frames: bytes in, :class:`RmrMessage` out, and back.

Wire layout (PROTOCOLS.md section 1, RMR 4.x header version 3)::

    frame = transport header (50 B) | RMR header (len0 B) | trace (len1 B)
            | d1 (len2 B) | d2 (len3 B) | payload (plen B)

Transport header: bytes 0-3 total frame length little-endian, 4-7 the same big-endian,
byte 8 ``$`` (then the receiver trusts bytes 4-7), 9-49 zero. RMR header fields are
big-endian except ``flags`` (host order, little-endian on every platform RMR ships on).
The payload offset is always computed from len0..len3 so that a peer sending trace
data, a longer header or a d2 section is still understood.

Nothing here owns a socket: :func:`encode_frame` returns bytes, :class:`FrameDecoder`
consumes whatever chunks a stream delivers and returns complete messages.
"""

from __future__ import annotations

import struct

from xapp.errors import EncodeError, MalformedInput
from xapp.rmr.message import MEID_MAX, SRC_MAX, XID_LEN, RmrMessage

TRANSPORT_HEADER_LEN = 50
RMR_HEADER_LEN = 280
"""len0 this codec sends; receivers accept any len0 >= this."""
RMR_VERSION = 3
D1_LEN = 4
"""librmr expects a 4-byte d1 section (byte 0 = call id); sending 0 breaks calls."""
MIN_FRAME_LEN = TRANSPORT_HEADER_LEN + RMR_HEADER_LEN
DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
"""Refuse bigger frames: a corrupt length must not make a receiver buffer gigabytes."""
_LENGTH_MARKER = 0x24  # '$'
_LENGTH_PEEK = 9  # bytes 0-8 decide the frame length

# The transport header and the fixed RMR v3 fields in one big-endian struct. The two
# little-endian fields (length at 0-3, flags) are packed as byte-swapped integers.
_HEADER = struct.Struct(
    ">I"  # 0: frame length, little-endian (byte-swapped here)
    "I"  # 4: frame length, big-endian
    "c"  # 8: '$'
    "41x"  # 9-49: zero
    "i"  # +0 mtype
    "I"  # +4 plen
    "I"  # +8 rmr_ver
    "32s"  # +12 xid
    "32x"  # +44 sid
    "64s"  # +76 src
    "32s"  # +140 meid
    "4x"  # +172 padding
    "16x"  # +176 timestamp
    "I"  # +192 flags, little-endian (byte-swapped here)
    "I"  # +196 len0 (header)
    "I"  # +200 len1 (trace)
    "I"  # +204 len2 (d1)
    "I"  # +208 len3 (d2)
    "i"  # +212 sub_id
    "64s"  # +216 srcip
)
assert _HEADER.size == MIN_FRAME_LEN
_U32_LE = struct.Struct("<I")
_U32_BE = struct.Struct(">I")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _swap32(value: int) -> int:
    """The integer whose big-endian bytes are ``value``'s little-endian bytes."""
    return (
        ((value & 0xFF) << 24) | ((value & 0xFF00) << 8) | ((value >> 8) & 0xFF00) | (value >> 24)
    )


class RmrFrameError(MalformedInput):
    """Bytes that are not a valid SI95 frame.

    ``reason`` is one of: ``short_frame``, ``oversize``, ``bad_version``,
    ``bad_header_length``, ``section_overrun``, ``plen_overrun``, ``length_mismatch``,
    ``unterminated_string``, ``bad_string``, ``truncated``, ``stream_broken``.

    Attributes:
        decoded: messages the failing :meth:`FrameDecoder.feed` call had already
            decoded from the same chunk before the bad frame (deliver them, then close).
    """

    source = "rmr.frame"

    def __init__(
        self, reason: str, detail: str = "", decoded: list[RmrMessage] | None = None
    ) -> None:
        super().__init__(reason, detail)
        self.decoded: list[RmrMessage] = decoded if decoded is not None else []


def _c_string(value: str, size: int, name: str) -> bytes:
    raw = value.encode("utf-8")
    if b"\0" in raw or len(raw) >= size:
        raise EncodeError(
            f"{name} must be at most {size - 1} UTF-8 bytes without NUL, got {value!r}"
        )
    return raw


def encode_frame(msg: RmrMessage, *, src: str | None = None, srcip: str | None = None) -> bytes:
    """The complete SI95 frame (transport header + RMR v3 header + d1 + payload) for ``msg``.

    ``src``/``srcip``, when given, replace the message's own (a transport stamps its
    name this way without copying the message).

    Raises:
        EncodeError: a field does not fit its wire slot (xid not 32 bytes, meid over 31
            bytes, mtype/sub_id outside int32, call id outside 0..255, ...).
    """
    if len(msg.xid) != XID_LEN:
        raise EncodeError(f"xid must be exactly {XID_LEN} bytes, got {len(msg.xid)}")
    if not (_INT32_MIN <= msg.mtype <= _INT32_MAX and _INT32_MIN <= msg.sub_id <= _INT32_MAX):
        raise EncodeError(f"mtype {msg.mtype} and sub_id {msg.sub_id} must fit int32")
    if not 0 <= msg.call_id <= 255:
        raise EncodeError(f"call_id must be 0..255, got {msg.call_id}")
    if not 0 <= msg.flags <= 0xFFFFFFFF:
        raise EncodeError(f"flags must fit uint32, got {msg.flags}")
    src_raw = _c_string(msg.src if src is None else src, SRC_MAX, "src")
    srcip_raw = _c_string(msg.srcip if srcip is None else srcip, SRC_MAX, "srcip")
    meid = _c_string(msg.meid, MEID_MAX, "meid")
    total = MIN_FRAME_LEN + len(msg.trace) + D1_LEN + len(msg.payload)
    header = _HEADER.pack(
        _swap32(total),
        total,
        b"$",
        msg.mtype,
        len(msg.payload),
        RMR_VERSION,
        msg.xid,
        src_raw,
        meid,
        _swap32(msg.flags),
        RMR_HEADER_LEN,
        len(msg.trace),
        D1_LEN,
        0,
        msg.sub_id,
        srcip_raw,
    )
    return b"".join((header, msg.trace, bytes((msg.call_id, 0, 0, 0)), msg.payload))


def _frame_length(buf: bytes | bytearray, pos: int) -> int:
    """Total frame length announced by the transport header starting at ``pos``."""
    if buf[pos + 8] == _LENGTH_MARKER:
        return int(_U32_BE.unpack_from(buf, pos + 4)[0])
    return int(_U32_LE.unpack_from(buf, pos)[0])


def _check_length(length: int, max_frame_bytes: int) -> None:
    if length < MIN_FRAME_LEN:
        raise RmrFrameError("short_frame", f"frame length {length} < minimum {MIN_FRAME_LEN}")
    if length > max_frame_bytes:
        raise RmrFrameError("oversize", f"frame length {length} > limit {max_frame_bytes}")


def _field_string(raw: bytes, name: str) -> str:
    end = raw.find(b"\0")
    if end < 0:
        raise RmrFrameError("unterminated_string", f"{name} has no NUL terminator")
    try:
        return raw[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RmrFrameError("bad_string", f"{name} is not UTF-8: {exc.reason}") from None


def _decode_at(
    buf: bytes | bytearray, pos: int, length: int, origin: object | None = None
) -> RmrMessage:
    """Decode the frame of ``length`` bytes at ``pos`` (its length already checked)."""
    (
        _,
        _,
        _,
        mtype,
        plen,
        version,
        xid,
        src,
        meid,
        flags_swapped,
        len0,
        len1,
        len2,
        len3,
        sub_id,
        srcip,
    ) = _HEADER.unpack_from(buf, pos)
    if version != RMR_VERSION:
        raise RmrFrameError("bad_version", f"rmr_ver {version}, only {RMR_VERSION} is spoken")
    if len0 < RMR_HEADER_LEN:
        raise RmrFrameError("bad_header_length", f"len0 {len0} < {RMR_HEADER_LEN}")
    start = pos + TRANSPORT_HEADER_LEN
    payload_at = start + len0 + len1 + len2 + len3
    end = pos + length
    if payload_at > end:
        raise RmrFrameError(
            "section_overrun",
            f"header sections ({len0}+{len1}+{len2}+{len3}) exceed frame {length}",
        )
    # A frame longer than header + plen is accepted (librmr reads plen, not the slack).
    if payload_at + plen > end:
        raise RmrFrameError(
            "plen_overrun", f"plen {plen} exceeds the {end - payload_at} bytes left in the frame"
        )
    d1_at = start + len0 + len1
    return RmrMessage(
        mtype=mtype,
        payload=bytes(buf[payload_at : payload_at + plen]),
        sub_id=sub_id,
        meid=_field_string(meid, "meid"),
        xid=xid,
        src=_field_string(src, "src"),
        srcip=_field_string(srcip, "srcip"),
        call_id=buf[d1_at] if len2 else 0,
        flags=_swap32(flags_swapped),
        trace=bytes(buf[start + len0 : d1_at]),
        origin=origin,
    )


def decode_frame(frame: bytes, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> RmrMessage:
    """Decode exactly one complete frame.

    Raises:
        RmrFrameError: the bytes are not one valid frame (``length_mismatch`` when the
            announced length differs from ``len(frame)``).
    """
    if len(frame) < _LENGTH_PEEK:
        raise RmrFrameError("short_frame", f"{len(frame)} bytes cannot hold a frame")
    length = _frame_length(frame, 0)
    _check_length(length, max_frame_bytes)
    if length != len(frame):
        raise RmrFrameError("length_mismatch", f"header says {length} bytes, got {len(frame)}")
    return _decode_at(frame, 0, length)


class FrameDecoder:
    """Incremental decoder for one byte stream (one TCP connection).

    Feed it chunks as they arrive, split anywhere; it returns every message completed
    by the chunk, in order, and keeps the partial tail. A frame whose announced length
    is below the minimum or above ``max_frame_bytes`` is refused as soon as bytes 0-8
    arrive, before its body is buffered.

    Resynchronisation: SI95 has no frame delimiter, so after a bad frame the position
    of the next one is unknown. The decoder therefore fails for good: the error carries
    the messages decoded before the fault (``error.decoded``), every later
    :meth:`feed` raises ``stream_broken``, and the owner should close the connection.

    Args:
        max_frame_bytes: largest frame accepted.
        origin: opaque tag (the transport's connection) set as ``origin`` on every
            decoded message, so a reply can go back the way the message came.
    """

    def __init__(
        self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, origin: object | None = None
    ) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.origin = origin
        self._tail = bytearray()
        self._failure: RmrFrameError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held of a frame not yet complete."""
        return len(self._tail)

    @property
    def failed(self) -> bool:
        """True after a bad frame: the stream cannot be decoded any further."""
        return self._failure is not None

    def feed(self, data: bytes | bytearray | memoryview) -> list[RmrMessage]:
        """Add ``data`` to the stream; return the messages it completes, in order.

        Raises:
            RmrFrameError: a bad frame; ``error.decoded`` holds the messages this call
                decoded before it.
        """
        if self._failure is not None:
            raise RmrFrameError("stream_broken", f"earlier error: {self._failure.reason}")
        if self._tail:
            self._tail += data
            buf: bytes | bytearray = self._tail
        else:
            buf = bytes(data)  # the common case (whole frames per read) skips one copy
        messages: list[RmrMessage] = []
        pos, size = 0, len(buf)
        try:
            while size - pos >= _LENGTH_PEEK:
                length = _frame_length(buf, pos)
                _check_length(length, self.max_frame_bytes)
                if size - pos < length:
                    break
                messages.append(_decode_at(buf, pos, length, self.origin))
                pos += length
        except RmrFrameError as exc:
            self._failure = exc
            self._tail = bytearray()
            exc.decoded = messages
            raise
        if buf is self._tail:
            del self._tail[:pos]
        else:
            self._tail = bytearray(buf[pos:])
        return messages

    def end_of_stream(self) -> None:
        """Declare the stream closed; raise if it stopped inside a frame.

        Raises:
            RmrFrameError: ``truncated`` when a partial frame was left over.
        """
        if self._tail and self._failure is None:
            held = len(self._tail)
            self._tail = bytearray()
            self._failure = RmrFrameError("truncated", f"stream ended {held} bytes into a frame")
            raise self._failure
