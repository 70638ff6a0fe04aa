"""The SI95 frame codec against frames hand-built from the byte table."""

from __future__ import annotations

import pytest

from tests.rmr.golden import TP, golden_frame
from xapp.errors import EncodeError
from xapp.rmr.frame import RmrFrameError, decode_frame, encode_frame
from xapp.rmr.message import FLAG_CALL, RmrMessage

XID = bytes(range(1, 33))
INDICATION = RmrMessage(
    mtype=12050,
    payload=b"\x00\x05e2ap",
    sub_id=7,
    meid="gnb_001_001_00000001",
    xid=XID,
    src="e2term:38000",
    srcip="10.0.0.5:38000",
)


def golden_indication() -> bytes:
    return golden_frame(
        12050,
        b"\x00\x05e2ap",
        sub_id=7,
        meid=b"gnb_001_001_00000001",
        xid=XID,
        src=b"e2term:38000",
        srcip=b"10.0.0.5:38000",
    )


def test_encoder_output_equals_the_hand_built_frame_byte_for_byte() -> None:
    assert encode_frame(INDICATION) == golden_indication()


def test_frame_length_is_little_endian_at_0_and_big_endian_at_4_with_dollar_marker() -> None:
    frame = encode_frame(INDICATION)
    assert int.from_bytes(frame[0:4], "little") == len(frame)
    assert int.from_bytes(frame[4:8], "big") == len(frame)
    assert frame[8:9] == b"$"
    assert frame[9:TP] == bytes(41)


def test_plain_frame_payload_starts_at_offset_334() -> None:
    frame = encode_frame(INDICATION)
    assert frame[334:] == INDICATION.payload


def test_header_sends_len0_280_trace_0_d1_4_d2_0() -> None:
    frame = encode_frame(INDICATION)
    lengths = [
        int.from_bytes(frame[TP + off : TP + off + 4], "big") for off in (196, 200, 204, 208)
    ]
    assert lengths == [280, 0, 4, 0]


def test_flags_are_little_endian_and_call_id_is_d1_byte_0() -> None:
    frame = encode_frame(RmrMessage(1, b"x", flags=FLAG_CALL, call_id=9))
    assert frame[TP + 192 : TP + 196] == b"\x04\x00\x00\x00"
    assert frame[TP + 280] == 9


def test_decoder_reads_every_field_of_the_hand_built_frame() -> None:
    assert decode_frame(golden_indication()) == INDICATION


def test_payload_offset_follows_len0_to_len3_when_trace_d2_and_header_grow() -> None:
    frame = golden_frame(
        30100,
        b"PAYLOAD",
        trace=b"trace-bytes",
        d2=b"d2-section",
        header_extra=b"H" * 20,
        call_id=5,
        xid=XID,
    )
    msg = decode_frame(frame)
    assert msg.payload == b"PAYLOAD"
    assert msg.trace == b"trace-bytes"
    assert msg.call_id == 5


def test_without_dollar_marker_length_comes_from_little_endian_bytes_0_to_3() -> None:
    frame = bytearray(golden_frame(42, b"abc", dollar=False))
    frame[4:8] = b"\xff\xff\xff\xff"  # bytes 4-7 must be ignored without the marker
    assert decode_frame(bytes(frame)).payload == b"abc"


def test_with_dollar_marker_bytes_4_to_7_win_over_bytes_0_to_3() -> None:
    frame = bytearray(golden_frame(42, b"abc"))
    frame[0:4] = b"\x01\x00\x00\x00"
    assert decode_frame(bytes(frame)).payload == b"abc"


def test_mtype_and_sub_id_are_signed_big_endian() -> None:
    msg = decode_frame(golden_frame(-5, b"", sub_id=-1))
    assert (msg.mtype, msg.sub_id) == (-5, -1)
    assert decode_frame(golden_frame(0x01020304, b"", sub_id=0x7F000001)).sub_id == 0x7F000001


def test_zero_mtype_and_zero_sub_id_survive_the_round_trip() -> None:
    msg = RmrMessage(0, b"z", sub_id=0)
    assert decode_frame(encode_frame(msg)) == msg


def test_slack_after_the_payload_is_ignored() -> None:
    frame = bytearray(golden_frame(7, b"abc") + b"SLACK")
    frame[0:4] = len(frame).to_bytes(4, "little")
    frame[4:8] = len(frame).to_bytes(4, "big")
    assert decode_frame(bytes(frame)).payload == b"abc"


def _patched(frame: bytes, offset: int, value: bytes) -> bytes:
    out = bytearray(frame)
    out[offset : offset + len(value)] = value
    return bytes(out)


BASE = golden_frame(7, b"payload", src=b"a:1", srcip=b"1.2.3.4:1", meid=b"gnb")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (BASE[:8], "short_frame"),
        (_patched(BASE, 4, (100).to_bytes(4, "big")), "short_frame"),
        (_patched(BASE, 4, (1 << 30).to_bytes(4, "big")), "oversize"),
        (BASE + b"extra", "length_mismatch"),
        (_patched(BASE, TP + 8, (2).to_bytes(4, "big")), "bad_version"),
        (_patched(BASE, TP + 196, (279).to_bytes(4, "big")), "bad_header_length"),
        (_patched(BASE, TP + 200, (1000).to_bytes(4, "big")), "section_overrun"),
        (_patched(BASE, TP + 4, (8).to_bytes(4, "big")), "plen_overrun"),
        (_patched(BASE, TP + 76, b"x" * 64), "unterminated_string"),
        (_patched(BASE, TP + 140, b"m" * 32), "unterminated_string"),
        (_patched(BASE, TP + 216, b"i" * 64), "unterminated_string"),
        (_patched(BASE, TP + 140, b"\xff\xfe\0"), "bad_string"),
    ],
)
def test_malformed_frame_is_refused_with_its_reason_code(frame: bytes, reason: str) -> None:
    with pytest.raises(RmrFrameError) as excinfo:
        decode_frame(frame)
    assert excinfo.value.reason == reason
    assert excinfo.value.source == "rmr.frame"


@pytest.mark.parametrize(
    "msg",
    [
        RmrMessage(1, xid=b"short"),
        RmrMessage(1, meid="m" * 32),
        RmrMessage(1, src="s" * 64),
        RmrMessage(1, srcip="a\0b"),
        RmrMessage(2**31),
        RmrMessage(1, sub_id=-(2**31) - 1),
        RmrMessage(1, call_id=256),
        RmrMessage(1, flags=-1),
    ],
)
def test_fields_that_do_not_fit_the_wire_are_refused_on_encode(msg: RmrMessage) -> None:
    with pytest.raises(EncodeError):
        encode_frame(msg)


def test_longest_meid_that_fits_is_31_bytes() -> None:
    msg = RmrMessage(1, meid="m" * 31)
    assert decode_frame(encode_frame(msg)).meid == "m" * 31
