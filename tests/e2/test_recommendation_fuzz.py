"""Fuzzing: recommendation decoders given mutated inputs let only their typed error escape."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable

import pytest
from google.protobuf.message import Message

from schemas import recommendation_pb2 as rpb
from tests.e2.mutate import field_mutations, mutations
from tests.e2.test_recommendation_validation import ACK, BATCH
from xapp.e2 import recommendation as rec
from xapp.e2.recommendation import RecommendationBatch

SPARSE = dataclasses.replace(BATCH.recommendations[0], beam_index=None, replaces=None)

MUTATIONS_PER_DECODER = 10_000  # byte-level
FIELD_MUTATIONS_PER_DECODER = 5_000

Case = tuple[list[bytes], type[Message], Callable[[bytes], object], Callable[[object], object]]
CASES: dict[str, Case] = {
    "batch": ([rec.encode_batch(BATCH),
               rec.encode_batch(RecommendationBatch(BATCH.e2_node, 0, 0, (SPARSE,)))],
              rpb.RecommendationBatch, rec.decode_batch, rec.encode_batch),  # type: ignore[dict-item]
    "ack": ([rec.encode_ack(ACK)], rpb.RecommendationAck, rec.decode_ack, rec.encode_ack),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_decoder_lets_only_recommendation_decode_error_escape(name: str) -> None:
    seeds, message_type, decode, encode = CASES[name]
    rng = random.Random(f"recommendation/{name}")
    messages = [message_type.FromString(seed) for seed in seeds]
    inputs = itertools.chain(mutations(seeds, rng, MUTATIONS_PER_DECODER),
                             field_mutations(messages, rng, FIELD_MUTATIONS_PER_DECODER))
    accepted = rejected = 0
    reasons: set[str] = set()
    for data in inputs:
        try:
            value = decode(data)
        except rec.RecommendationDecodeError as exc:
            rejected += 1
            reasons.add(exc.reason)
            continue
        accepted += 1
        encode(value)  # must not raise: anything decoded is valid
    assert accepted + rejected == MUTATIONS_PER_DECODER + FIELD_MUTATIONS_PER_DECODER
    assert rejected > 0 and accepted > 0, (accepted, rejected)
    assert "not_protobuf" in reasons and len(reasons) >= 2, reasons
