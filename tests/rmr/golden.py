"""Frames built by hand from the SI95 byte table (PROTOCOLS.md section 1), byte by byte.

Deliberately independent of xapp.rmr.frame: every offset below is read off the table.
"""

from __future__ import annotations

TP = 50  # the transport header; the RMR header starts here


def golden_frame(
    mtype: int,
    payload: bytes,
    *,
    sub_id: int = -1,
    meid: bytes = b"",
    xid: bytes = bytes(32),
    src: bytes = b"",
    srcip: bytes = b"",
    call_id: int = 0,
    flags: int = 0,
    trace: bytes = b"",
    d2: bytes = b"",
    header_extra: bytes = b"",
    dollar: bool = True,
    version: int = 3,
) -> bytes:
    """One frame; ``header_extra`` lengthens the RMR header (len0 > 280) as a newer peer might."""
    len0 = 280 + len(header_extra)
    total = TP + len0 + len(trace) + 4 + len(d2) + len(payload)
    f = bytearray(total)
    f[0:4] = total.to_bytes(4, "little")
    if dollar:
        f[4:8] = total.to_bytes(4, "big")
        f[8] = ord("$")
    h = TP
    f[h + 0 : h + 4] = mtype.to_bytes(4, "big", signed=True)
    f[h + 4 : h + 8] = len(payload).to_bytes(4, "big")
    f[h + 8 : h + 12] = version.to_bytes(4, "big")
    f[h + 12 : h + 44] = xid
    f[h + 76 : h + 76 + len(src)] = src
    f[h + 140 : h + 140 + len(meid)] = meid
    f[h + 192 : h + 196] = flags.to_bytes(4, "little")
    f[h + 196 : h + 200] = len0.to_bytes(4, "big")
    f[h + 200 : h + 204] = len(trace).to_bytes(4, "big")
    f[h + 204 : h + 208] = (4).to_bytes(4, "big")
    f[h + 208 : h + 212] = len(d2).to_bytes(4, "big")
    f[h + 212 : h + 216] = sub_id.to_bytes(4, "big", signed=True)
    f[h + 216 : h + 216 + len(srcip)] = srcip
    f[h + 280 : h + len0] = header_extra
    at = h + len0
    f[at : at + len(trace)] = trace
    at += len(trace)
    f[at] = call_id
    at += 4
    f[at : at + len(d2)] = d2
    at += len(d2)
    f[at:] = payload
    return bytes(f)
