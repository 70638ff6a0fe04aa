"""FrameDecoder over a byte stream: round trips, any split, several frames per chunk, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rmr.golden import golden_frame
from xapp.rmr.frame import FrameDecoder, RmrFrameError, decode_frame, encode_frame
from xapp.rmr.message import FLAG_CALL, RmrMessage, new_xid

_name = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=20)

messages = st.builds(
    RmrMessage,
    mtype=st.integers(-(2**31), 2**31 - 1),
    payload=st.binary(max_size=2000),
    sub_id=st.integers(-(2**31), 2**31 - 1),
    meid=_name.filter(lambda s: len(s.encode()) <= 31),
    xid=st.binary(min_size=32, max_size=32),
    src=_name,
    srcip=_name,
    call_id=st.integers(0, 255),
    flags=st.sampled_from([0, FLAG_CALL, 0xFFFFFFFF, 0x80000000]),
    trace=st.binary(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_any_message_survives_encode_then_decode(msg: RmrMessage) -> None:
    assert decode_frame(encode_frame(msg)) == msg


@settings(max_examples=100, deadline=None)
@given(st.lists(messages, min_size=1, max_size=5), st.data())
def test_stream_cut_into_random_chunks_yields_the_same_messages_in_order(
    batch: list[RmrMessage], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(m) for m in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = FrameDecoder()
    out: list[RmrMessage] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += decoder.feed(stream[start:end])
    assert out == batch
    assert decoder.buffered == 0


def test_two_frames_split_at_every_byte_position_decode_identically() -> None:
    first, second = RmrMessage(1, b"one", xid=bytes([1]) * 32), RmrMessage(2, b"two", sub_id=3)
    stream = encode_frame(first) + encode_frame(second)
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == [first, second]


def test_byte_by_byte_feeding_yields_each_message_when_its_last_byte_arrives() -> None:
    frame = encode_frame(RmrMessage(5, b"abc"))
    decoder = FrameDecoder()
    results = [decoder.feed(frame[i : i + 1]) for i in range(len(frame))]
    assert all(r == [] for r in results[:-1])
    assert results[-1] == [RmrMessage(5, b"abc")]


def test_many_frames_in_one_chunk_all_come_out_in_order() -> None:
    batch = [RmrMessage(100 + i, bytes([i]) * i) for i in range(50)]
    assert FrameDecoder().feed(b"".join(encode_frame(m) for m in batch)) == batch


def test_oversize_frame_is_refused_from_its_first_nine_bytes_without_buffering() -> None:
    decoder = FrameDecoder(max_frame_bytes=4096)
    frame = encode_frame(RmrMessage(1, bytes(5000)))
    with pytest.raises(RmrFrameError) as excinfo:
        decoder.feed(frame[:9])
    assert excinfo.value.reason == "oversize"
    assert decoder.buffered == 0


def test_frames_before_a_bad_one_in_the_same_chunk_are_handed_over_with_the_error() -> None:
    good = [RmrMessage(1, b"a"), RmrMessage(2, b"b")]
    bad = golden_frame(3, b"c", version=9)
    with pytest.raises(RmrFrameError) as excinfo:
        FrameDecoder().feed(b"".join(encode_frame(m) for m in good) + bad)
    assert excinfo.value.reason == "bad_version"
    assert excinfo.value.decoded == good


def test_decoder_refuses_everything_after_a_bad_frame() -> None:
    decoder = FrameDecoder()
    with pytest.raises(RmrFrameError):
        decoder.feed(golden_frame(3, b"c", version=1))
    with pytest.raises(RmrFrameError) as excinfo:
        decoder.feed(encode_frame(RmrMessage(1)))
    assert excinfo.value.reason == "stream_broken"
    assert decoder.failed


def test_stream_ending_inside_a_frame_is_reported_as_truncated() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame(RmrMessage(1, b"abc"))[:-1])
    with pytest.raises(RmrFrameError) as excinfo:
        decoder.end_of_stream()
    assert excinfo.value.reason == "truncated"


def test_stream_ending_on_a_frame_boundary_is_clean() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame(RmrMessage(1, b"abc")))
    decoder.end_of_stream()
    assert not decoder.failed


def test_decoded_messages_carry_the_decoders_origin_tag() -> None:
    tag = object()
    [msg] = FrameDecoder(origin=tag).feed(encode_frame(RmrMessage(1)))
    assert msg.origin is tag


def test_reply_keeps_xid_call_id_and_routing_but_clears_the_call_flag() -> None:
    request = RmrMessage(
        12010,
        b"req",
        sub_id=4,
        meid="gnb",
        xid=bytes(range(32)),
        src="a:1",
        srcip="1.1.1.1:1",
        call_id=7,
        flags=FLAG_CALL | 0x100,
    )
    reply = request.reply(12011, b"resp")
    assert (reply.mtype, reply.payload, reply.xid, reply.call_id) == (
        12011,
        b"resp",
        request.xid,
        7,
    )
    assert (reply.sub_id, reply.meid, reply.flags) == (4, "gnb", 0x100)
    assert not reply.is_call and request.is_call
    assert reply.src == ""  # stamped by the sending backend


def test_new_transaction_ids_are_32_printable_bytes_without_nul() -> None:
    xids = {new_xid() for _ in range(1000)}
    assert len(xids) == 1000
    assert all(len(x) == 32 and x.isalnum() for x in xids)
