"""Seeded fuzzing: mutated frames and route tables may only raise MalformedInput."""

from __future__ import annotations

import contextlib
import random

import pytest

from tests.rmr.golden import golden_frame
from xapp.errors import MalformedInput
from xapp.rmr.frame import FrameDecoder, encode_frame
from xapp.rmr.message import RmrMessage
from xapp.rmr.routes import RouteTableLoader, parse_route_table

CASES = 10_000

FRAME_CORPUS = [
    encode_frame(RmrMessage(12050, b"\x01" * 40, sub_id=7, meid="gnb", src="a:1", srcip="b:2")),
    encode_frame(RmrMessage(100, b"", call_id=3, flags=4, trace=b"tr")),
    golden_frame(30100, b"p" * 300, trace=b"t" * 9, d2=b"d" * 5, header_extra=b"h" * 12),
    golden_frame(1, b"abc", dollar=False),
]


def _mutate_frame(rng: random.Random) -> bytes:
    data = bytearray(b"".join(rng.choices(FRAME_CORPUS, k=rng.randint(1, 3))))
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(6)
        at = rng.randrange(len(data)) if data else 0
        if kind == 0 and data:
            data[at] = rng.randrange(256)
        elif kind == 1:
            data[at:at] = rng.randbytes(rng.randint(1, 16))
        elif kind == 2:
            del data[at : at + rng.randint(1, 32)]
        elif kind == 3:  # a length field (transport or RMR header) gets a random value
            field = rng.choice([0, 4, 54, 246, 250, 254, 258])
            data[field : field + 4] = rng.randbytes(4)
        elif kind == 4:
            data = data[: rng.randrange(len(data) + 1)]
        elif data:
            data[at] = rng.choice([0, 0x24, 0xFF])
    return bytes(data)


@pytest.mark.timeout(300)  # a hang fails the test instead of blocking the suite
def test_frame_decoder_survives_ten_thousand_mutated_streams() -> None:
    rng = random.Random(20261122)
    outcomes = {"ok": 0, "malformed": 0}
    for _ in range(CASES):
        stream = _mutate_frame(rng)
        decoder = FrameDecoder(max_frame_bytes=64 * 1024)
        pos = 0
        try:
            while pos < len(stream):
                step = rng.randint(1, 700)
                for msg in decoder.feed(stream[pos : pos + step]):
                    assert len(msg.xid) == 32 and len(msg.meid.encode()) <= 31
                pos += step
            decoder.end_of_stream()
            outcomes["ok"] += 1
        except MalformedInput:
            outcomes["malformed"] += 1
    # Both kinds must occur, or the mutations are not exercising the decoder.
    assert outcomes["ok"] > 100 and outcomes["malformed"] > 100


ROUTE_CORPUS = [
    "newrt|start|t1\nmse|12050|7|127.0.0.1:4560\nmse|30100|-1|a:1,b:2;c:3\nnewrt|end|2\n",
    "updatert|start\nrte|5,me:1|x:9|3\ndel|12050|7\nupdatert|end\n",
    "meid_map|start\nmme_ar|e2t:38000|gnb_a gnb_b\nmme_del|gnb_a\nmeid_map|end|2\n"
    "newrt|start\nmse|12040|-1|%meid\nnewrt|end\n",
]
_ALPHABET = "|,;:%#-\n \t0123456789abcdefmsertnwpdlu_"


def _mutate_routes(rng: random.Random) -> str:
    text = list("".join(rng.choices(ROUTE_CORPUS, k=rng.randint(1, 3))))
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(text)) if text else 0
        kind = rng.randrange(4)
        if kind == 0 and text:
            text[at] = rng.choice(_ALPHABET)
        elif kind == 1:
            text[at:at] = rng.choices(_ALPHABET, k=rng.randint(1, 6))
        elif kind == 2:
            del text[at : at + rng.randint(1, 10)]
        else:
            text[at:at] = list(rng.choice(["99999999999", "-", "%meid", "|", "\x00", "é"]))
    return "".join(text)


@pytest.mark.timeout(300)
def test_route_parser_survives_ten_thousand_mutated_tables() -> None:
    rng = random.Random(7_2026)
    parsed = refused = 0
    for _ in range(CASES):
        text = _mutate_routes(rng)
        loader = RouteTableLoader(own_names={"me:1"})
        loader.feed(text)  # the incremental loader counts problems and never raises
        if loader.active is not None:
            for mtype in (5, 12040, 12050, 30100):
                assert all(":" in ep for ep in loader.active.endpoints(mtype, 7, "gnb_b"))
        try:
            parse_route_table(text)
            parsed += 1
        except MalformedInput:
            refused += 1
    assert parsed > 100 and refused > 100


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_never_escape_as_anything_but_malformed_input(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        with contextlib.suppress(MalformedInput):
            FrameDecoder().feed(rng.randbytes(rng.randint(0, 600)))
