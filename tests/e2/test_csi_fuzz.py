"""Fuzzing: E2SM-CSI decoders given 10,000 mutated inputs each let only CsiDecodeError escape.

Mutations start from valid encodings and are seeded, so a failure reproduces: byte-level
edits (which mostly exercise the protobuf parser) plus field-level edits that keep the wire
format valid and set edge values (which exercise the validation rules). Whatever a decoder accepts
must also be accepted by the matching encoder: the decoder lets nothing invalid through.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest
from google.protobuf.message import Message

from schemas import e2sm_csi_pb2 as pb
from tests.e2.mutate import field_mutations, mutations
from xapp.e2 import csi
from xapp.e2.csi import CsiActionDefinition, CsiEventTrigger, CsiIndicationHeader, NrCgi

MUTATIONS_PER_DECODER = 10_000  # byte-level
FIELD_MUTATIONS_PER_DECODER = 5_000
MESSAGE_TYPES: dict[str, type[Message]] = {
    "ran_function": pb.RanFunctionDefinition, "event_trigger": pb.EventTrigger,
    "action_definition": pb.ActionDefinition, "indication_header": pb.IndicationHeader,
    "indication_message": pb.IndicationMessage}
DEFINITION = csi.example_ran_function(subbands=3, n_rx=2, n_tx=4)
SMALL = csi.example_indication(n_ues=3, subbands=3, n_rx=2, n_tx=4, seed=7)


Case = tuple[list[bytes], Callable[[bytes], object], Callable[[object], object]]


def _corpus() -> dict[str, Case]:
    """decoder name -> (valid seeds, decode, re-encode of the decoded value)."""
    header = CsiIndicationHeader(2**63 + 5, NrCgi(b"\x13\xf0\x84", 77), 9)
    return {
        "ran_function": (
            [csi.encode_ran_function(DEFINITION),
             csi.encode_ran_function(csi.example_ran_function(subbands=13, n_tx=8))],
            csi.decode_ran_function, csi.encode_ran_function),  # type: ignore[dict-item]
        "event_trigger": (
            [csi.encode_event_trigger(CsiEventTrigger(p)) for p in (1, 20, 10240)],
            csi.decode_event_trigger, csi.encode_event_trigger),
        "action_definition": (
            [csi.encode_action_definition(CsiActionDefinition()),
             csi.encode_action_definition(CsiActionDefinition(True, True, False, (1, 2**39)))],
            csi.decode_action_definition, csi.encode_action_definition),
        "indication_header": (
            [csi.encode_indication_header(header)],
            csi.decode_indication_header, csi.encode_indication_header),
        "indication_message": (
            [csi.encode_indication_message(SMALL.reports, DEFINITION),
             csi.encode_indication_message(SMALL.reports[:1])],
            lambda data: csi.decode_indication_message(data, DEFINITION),
            lambda reports: csi.encode_indication_message(reports, DEFINITION)),
    }


@pytest.mark.parametrize("name", sorted(_corpus()))
def test_decoder_lets_only_csi_decode_error_escape_on_mutated_input(name: str) -> None:
    seeds, decode, encode = _corpus()[name]
    rng = random.Random(f"e2sm_csi/{name}")
    messages = [MESSAGE_TYPES[name].FromString(seed) for seed in seeds]
    inputs = itertools.chain(mutations(seeds, rng, MUTATIONS_PER_DECODER),
                             field_mutations(messages, rng, FIELD_MUTATIONS_PER_DECODER))
    accepted = rejected = 0
    reasons: set[str] = set()
    for data in inputs:
        try:
            value = decode(data)
        except csi.CsiDecodeError as exc:
            rejected += 1
            reasons.add(exc.reason)
            continue
        accepted += 1
        encode(value)  # must not raise: anything decoded is valid
    assert accepted + rejected == MUTATIONS_PER_DECODER + FIELD_MUTATIONS_PER_DECODER
    # Both outcomes occur and the rules fire, so the mutations really exercise parser and rules.
    assert rejected > 0 and accepted > 0, (accepted, rejected)
    assert "not_protobuf" in reasons and len(reasons) >= 2, reasons
