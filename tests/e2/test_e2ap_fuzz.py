"""Decoding mutated E2AP PDUs raises only E2apDecodeError and leaves the codec working.

The corpus is one valid PDU per message type; the mutations (seeded, so failures replay)
are bit flips, truncations, insertions, deletions, boundary bytes in likely length
fields, duplicated segments and plain random bytes.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrate_asn1rt.codecs import ASN1CodecPER

from tests.e2.e2ap_strategies import BY_TYPE, messages, samples
from xapp.e2 import E2apDecodeError, E2apMessage, decode, encode

MUTANTS = 12_000
SEED = 20_261_122
MESSAGE_TYPES = tuple(BY_TYPE)


def _flip_bits(rng: random.Random, data: bytearray) -> bytearray:
    for _ in range(rng.randint(1, 4)):
        bit = rng.randrange(len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
    return data


def _truncate(rng: random.Random, data: bytearray) -> bytearray:
    return data[: rng.randrange(len(data))]


def _insert(rng: random.Random, data: bytearray) -> bytearray:
    at = rng.randrange(len(data) + 1)
    data[at:at] = rng.randbytes(rng.randint(1, 8))
    return data


def _delete(rng: random.Random, data: bytearray) -> bytearray:
    at = rng.randrange(len(data))
    del data[at : at + rng.randint(1, 4)]
    return data


def _boundary_byte(rng: random.Random, data: bytearray) -> bytearray:
    # 0x80/0xC0-0xC4 are APER long and fragmented length determinants; 0xFF is everything.
    data[rng.randrange(len(data))] = rng.choice([0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC4, 0xFF])
    return data


def _duplicate(rng: random.Random, data: bytearray) -> bytearray:
    start = rng.randrange(len(data))
    segment = data[start : start + rng.randint(1, 16)]
    at = rng.randrange(len(data) + 1)
    data[at:at] = segment
    return data


def _random_bytes(rng: random.Random, data: bytearray) -> bytearray:
    return bytearray(rng.randbytes(rng.randint(1, 128)))


MUTATIONS: tuple[Callable[[random.Random, bytearray], bytearray], ...] = (
    _flip_bits,
    _truncate,
    _insert,
    _delete,
    _boundary_byte,
    _duplicate,
    _random_bytes,
)


def test_mutated_pdus_raise_only_e2ap_decode_errors() -> None:
    rng = random.Random(SEED)
    corpus = [encode(message) for message in samples()]
    outcomes: Counter[str] = Counter()
    for _ in range(MUTANTS):
        data = bytes(rng.choice(MUTATIONS)(rng, bytearray(rng.choice(corpus))))
        try:
            message = decode(data)
        except E2apDecodeError as err:
            outcomes[err.reason] += 1
        else:
            assert isinstance(message, MESSAGE_TYPES)
            outcomes["decoded"] += 1
    assert sum(outcomes.values()) == MUTANTS
    # The mutations reach past the APER layer into the IE checks, not only the parser.
    assert {"aper", "missing_ie", "unknown_procedure", "decoded"} <= set(outcomes)


def test_failed_decodes_leave_no_pycrate_state_behind() -> None:
    rng = random.Random(SEED + 1)
    depth = len(ASN1CodecPER._off)
    for _ in range(500):
        with contextlib.suppress(E2apDecodeError):
            decode(rng.randbytes(rng.randint(1, 64)))
    assert len(ASN1CodecPER._off) == depth


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages, garbage=st.binary(min_size=1, max_size=64))
def test_the_codec_still_round_trips_after_garbage(message: E2apMessage, garbage: bytes) -> None:
    with contextlib.suppress(E2apDecodeError):
        decode(garbage)
    assert decode(encode(message)) == message
