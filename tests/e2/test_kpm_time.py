"""colletStartTime: NTP is written; NTP, Unix milliseconds, ASCII digits and the 4-octet
v2.0x forms are read (conventions documented in xapp.e2.kpm_time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from xapp.e2 import kpm
from xapp.e2.kpm_time import NTP_UNIX_OFFSET_S, ColletTimeError, ntp_collet_time, read_collet_time

NOON = datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)
NOON_UNIX_S = 1_767_268_800  # 2026-01-01T12:00:00Z


def header_bytes(octets: bytes) -> bytes:
    """An indication header format 1 with no optional strings: one octet holding the
    SEQUENCE/CHOICE/Format1 extension bits and four absent-OPTIONAL bits, then the time."""
    return b"\x00" + octets


def test_ntp_is_seconds_since_1900_then_a_binary_fraction() -> None:
    octets = ntp_collet_time(NOON)
    assert int.from_bytes(octets[:4], "big") == NOON_UNIX_S + NTP_UNIX_OFFSET_S
    assert int.from_bytes(octets[4:], "big") == 1 << 30  # 0.25 s


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert ntp_collet_time(NOON.replace(tzinfo=None)) == ntp_collet_time(NOON)


def test_other_timezones_are_converted_to_utc() -> None:
    paris = NOON.astimezone(timezone(timedelta(hours=1)))
    assert ntp_collet_time(paris) == ntp_collet_time(NOON)


def test_times_after_ntp_era_0_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="era"):
        ntp_collet_time(datetime(2036, 2, 8, tzinfo=UTC))


def test_the_encoder_writes_ntp() -> None:
    header = kpm.KpmIndicationHeader(NOON)
    assert kpm.encode_indication_header(header) == header_bytes(ntp_collet_time(NOON))


def test_ntp_time_is_read_from_an_8_octet_header() -> None:
    header = kpm.decode_indication_header(header_bytes(ntp_collet_time(NOON)))
    assert (header.collet_start_time, header.time_convention) == (NOON, "ntp")


def test_unix_milliseconds_big_endian_are_read() -> None:
    millis = NOON_UNIX_S * 1000 + 250
    header = kpm.decode_indication_header(header_bytes(millis.to_bytes(8, "big")))
    assert (header.collet_start_time, header.time_convention) == (NOON, "unix_ms")


def test_ascii_digits_are_read_as_unix_seconds() -> None:
    header = kpm.decode_indication_header(header_bytes(b"86400\x00\x00\x00"))
    assert header.collet_start_time == datetime(1970, 1, 2, tzinfo=UTC)
    assert header.time_convention == "ascii"


def test_space_padded_ascii_digits_are_read() -> None:
    assert read_collet_time(b"  123456")[0] == datetime(1970, 1, 2, 10, 17, 36, tzinfo=UTC)


def test_ascii_with_two_runs_of_digits_is_refused() -> None:
    with pytest.raises(kpm.KpmDecodeError) as info:
        kpm.decode_indication_header(header_bytes(b"12 34\x00\x00\x00"))
    assert info.value.reason == "collet_time"


def test_a_v2_4_octet_ntp_seconds_header_is_read() -> None:
    seconds = NOON_UNIX_S + NTP_UNIX_OFFSET_S
    header = kpm.decode_indication_header(header_bytes(seconds.to_bytes(4, "big")))
    assert header.collet_start_time == NOON.replace(microsecond=0)
    assert header.time_convention == "ntp_seconds"


def test_a_v2_4_octet_unix_seconds_header_is_read() -> None:
    header = kpm.decode_indication_header(header_bytes(NOON_UNIX_S.to_bytes(4, "big")))
    assert header.collet_start_time == NOON.replace(microsecond=0)
    assert header.time_convention == "unix_seconds"


def test_a_v2_header_keeps_its_strings() -> None:
    v3 = kpm.encode_indication_header(kpm.KpmIndicationHeader(NOON, sender_name="du-1"))
    v2 = v3[:1] + NOON_UNIX_S.to_bytes(4, "big") + v3[9:]  # same strings after a 4-octet time
    header = kpm.decode_indication_header(v2)
    assert header.sender_name == "du-1"
    assert header.time_convention == "unix_seconds"


@pytest.mark.parametrize("size", [0, 3, 5, 9])
def test_other_lengths_are_not_times(size: int) -> None:
    with pytest.raises(ColletTimeError):
        read_collet_time(bytes(size))


def test_collet_start_unix_is_float_seconds() -> None:
    assert kpm.KpmIndicationHeader(NOON).collet_start_unix == NOON_UNIX_S + 0.25
