"""Seeded byte-level mutations of valid encodings, for the codec fuzz tests."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF)


def mutate(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    """One to three random edits of ``data``: bit flips, byte sets, inserts, deletes,
    truncation, duplicated slices, splices from another seed, or plain garbage."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(9)
        pos = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[pos % len(out)] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:
            out[pos % len(out)] = rng.choice((*_INTERESTING, rng.randrange(256)))
        elif kind == 2:
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif kind == 3:
            del out[pos:pos + rng.randint(1, 16)]
        elif kind == 4:
            del out[pos:]
        elif kind == 5:
            end = min(len(out), pos + rng.randint(1, 32))
            out[pos:pos] = out[pos:end]
        elif kind == 6:
            donor = rng.choice(donors)
            start = rng.randrange(len(donor) + 1)
            out[pos:pos] = donor[start:start + rng.randint(1, 64)]
        elif kind == 7:
            out = bytearray(rng.randbytes(rng.randint(0, 64)))
        else:
            out += rng.randbytes(rng.randint(1, 4))
    return bytes(out)


def mutations(seeds: Sequence[bytes], rng: random.Random, count: int) -> Iterator[bytes]:
    """``count`` mutated inputs, each from a randomly chosen seed."""
    for _ in range(count):
        yield mutate(rng.choice(seeds), rng, seeds)


_INT_VALUES = (0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 255, 1024, 2**31 - 1, 2**32 - 1)
_FLOAT_VALUES = (0.0, -1.0, 1e-30, 1e30, -300.0, 100.0, float("nan"), float("inf"), float("-inf"))


def mutate_fields(message: Message, rng: random.Random) -> Message:
    """Change one to three fields anywhere in ``message`` (in place) to edge values:
    keeps the wire format valid so the input reaches the codec's validation rules."""
    for _ in range(rng.randint(1, 3)):
        _mutate_one(message, rng)
    return message


def _mutate_one(message: Message, rng: random.Random) -> None:
    fields = message.DESCRIPTOR.fields
    if not fields:
        return
    field = rng.choice(fields)
    value = getattr(message, field.name)
    repeated = field.is_repeated
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if repeated:
            if value and rng.random() < 0.7:
                _mutate_one(rng.choice(value), rng)
            elif value and rng.random() < 0.5:
                del value[rng.randrange(len(value))]
            else:
                value.add()
        elif rng.random() < 0.2:
            message.ClearField(field.name)
        else:
            _mutate_one(value, rng)
        return
    new = _edge_value(field, rng)
    if repeated:
        if value and rng.random() < 0.5:
            value[rng.randrange(len(value))] = new
        elif value and rng.random() < 0.5:
            del value[rng.randrange(len(value))]
        else:
            value.append(new)
    elif field.has_presence and rng.random() < 0.2:
        message.ClearField(field.name)
    else:
        setattr(message, field.name, new)


def _edge_value(field: FieldDescriptor, rng: random.Random) -> object:
    kind = field.type
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return rng.choice(_FLOAT_VALUES)
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(("", "x", "2.25.1", "1..2", "é" * 151))
    if kind == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.choice((0, 1, 3, 4, 7, 8, 64)))
    if kind == FieldDescriptor.TYPE_ENUM:
        return rng.choice((0, 1, 2, 3, 99))
    value = rng.choice(_INT_VALUES)
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        value = rng.choice((value, 2**36, 2**40, 2**64 - 1))
    return value


def field_mutations(seeds: Sequence[Message], rng: random.Random, count: int) -> Iterator[bytes]:
    """``count`` encodings of seed messages with edge values set in random fields."""
    for _ in range(count):
        message = type(seed := rng.choice(seeds))()
        message.CopyFrom(seed)
        yield mutate_fields(message, rng).SerializeToString()
