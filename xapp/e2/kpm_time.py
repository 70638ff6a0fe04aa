"""``colletStartTime``: the collection start time of a KPM indication, in its wire conventions.

E2SM-KPM defines the field as the 64-bit NTP timestamp (v3.00, 8 octets: seconds since
1900-01-01 in the first 4 octets, binary fraction of a second in the last 4) or its first
4 octets (v2.0x). Nodes in the wild fill it differently; :func:`read_collet_time` accepts:

8 octets, tried in this order:

- ``"ascii"``: every octet an ASCII digit, space or NUL, the digits one run (e.g.
  ``b"86400\\0\\0\\0"``): decimal Unix seconds, the only unit eight digits can hold.
- ``"unix_ms"``: a big-endian integer below 2**48 (the first two octets zero), i.e. Unix
  milliseconds up to the year 10889. No NTP time since 1900 is that small.
- ``"ntp"``: anything else, read as NTP era 0 (1900-2036).

4 octets (v2.0x):

- ``"ntp_seconds"``: a big-endian integer at or above 2208988800 (1970 in NTP seconds).
- ``"unix_seconds"``: a smaller one, which can only be a Unix time in seconds (as sent by
  nodes that put ``time(NULL)`` there).

:func:`ntp_collet_time` writes the 8-octet NTP form, the only one this project emits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NTP_UNIX_OFFSET_S = 2_208_988_800
"""Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01)."""

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NTP_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)
_ASCII_OK = frozenset(b"0123456789 \x00")
_FRACTION = 1 << 32


class ColletTimeError(ValueError):
    """Octets that no known convention reads as a time (wrong length, or no digits)."""


def ntp_collet_time(when: datetime) -> bytes:
    """The 8-octet NTP timestamp of ``when`` (timezone-aware; naive means UTC).

    Microseconds survive a round trip through :func:`read_collet_time` exactly: the
    fraction is rounded to the nearest 2**-32 s, and read back to the nearest microsecond.
    Raises ``ValueError`` outside NTP era 0 (1900-01-01 to 2036-02-07).
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - _NTP_EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, frac_us = divmod(micros, 1_000_000)
    fraction = (frac_us * _FRACTION + 500_000) // 1_000_000
    if not 0 <= seconds < _FRACTION:
        raise ValueError(f"{when.isoformat()} is outside NTP era 0 (1900-2036)")
    return seconds.to_bytes(4, "big") + fraction.to_bytes(4, "big")


def read_collet_time(octets: bytes) -> tuple[datetime, str]:
    """The UTC time in ``octets`` and the name of the convention it was read with.

    See the module docstring for the conventions and the order they are tried in.
    """
    if len(octets) == 8:
        if octets.strip(b" \x00") and all(b in _ASCII_OK for b in octets):
            return _from_ascii(octets), "ascii"
        value = int.from_bytes(octets, "big")
        if value < 1 << 48:
            return _UNIX_EPOCH + timedelta(milliseconds=value), "unix_ms"
        seconds, fraction = divmod(value, _FRACTION)
        micros = (fraction * 1_000_000 + _FRACTION // 2) // _FRACTION
        return _NTP_EPOCH + timedelta(seconds=seconds, microseconds=micros), "ntp"
    if len(octets) == 4:
        value = int.from_bytes(octets, "big")
        if value >= NTP_UNIX_OFFSET_S:
            return _NTP_EPOCH + timedelta(seconds=value), "ntp_seconds"
        return _UNIX_EPOCH + timedelta(seconds=value), "unix_seconds"
    raise ColletTimeError(f"a collection start time has 4 or 8 octets, not {len(octets)}")


def _from_ascii(octets: bytes) -> datetime:
    digits = octets.replace(b"\x00", b" ").strip()
    if not digits.isdigit():
        raise ColletTimeError(f"ASCII time {octets!r} is not one run of digits")
    return _UNIX_EPOCH + timedelta(seconds=int(digits))
