"""Seeded fuzzing: 10,000 mutated inputs for each of the five KPM decoders.

Each input either decodes or raises KpmDecodeError; whatever decodes, the encoder either
writes or refuses with EncodeError. No other exception may escape the codec.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pycrate_asn1rt.codecs import ASN1CodecPER

from tests.e2.mutate import mutations
from xapp.e2 import kpm
from xapp.e2.kpm_ran_function import KpmRanFunctionDescription, kpm_ran_function
from xapp.e2.kpm_types import (
    EutraCgi,
    Guami,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationHeader,
    MeasurementInfo,
    MeasurementLabel,
    MeasurementPeriod,
    NrCgi,
    Snssai,
    TestCondition,
    UeIdGnb,
    UeIdGnbCuUp,
    UeIdGnbDu,
    plmn_id,
)
from xapp.errors import EncodeError

MUTATIONS_PER_DECODER = 10_000
PLMN = plmn_id("001", "01")
LABELS = (
    MeasurementLabel(no_label=True),
    MeasurementLabel(slice_id=Snssai(1, b"\x00\x00\x01"), qfi=9, max=True),
)


def _seeds() -> dict[str, tuple[Callable[[bytes], Any], Callable[[Any], bytes], list[bytes]]]:
    infos = (MeasurementInfo("DRB.UEThpDl"), MeasurementInfo(7, LABELS))
    trigger = [kpm.encode_event_trigger(KpmEventTrigger(p)) for p in (1, 1000, 2**32 - 1)]
    actions = [
        kpm.encode_action_definition(KpmActionDefinitionFormat1(infos, 1000, NrCgi(PLMN, 5))),
        kpm.encode_action_definition(
            KpmActionDefinitionFormat4(
                (
                    TestCondition("cQI", "greaterthan", "int", 7, logical_or=True),
                    TestCondition("rSRP", "lessthan", "real", -100.5),
                    TestCondition("sNSSAI", "equal", "octets", b"\x01"),
                ),
                infos,
                100,
                EutraCgi(PLMN, 9),
            )
        ),
    ]
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    headers = [
        kpm.encode_indication_header(KpmIndicationHeader(when)),
        kpm.encode_indication_header(KpmIndicationHeader(when, "v1", "du-1", "DU", "LinkFM")),
        b"\x00" + (1_767_268_800).to_bytes(4, "big"),
        b"\x00" + b"12345678",
    ]
    format1 = KpmIndicationFormat1(
        (MeasurementPeriod((1, 0.5, None)), MeasurementPeriod((2, -3.25, 4), incomplete=True)),
        infos,
        1000,
    )
    ues = [
        UeIdGnb(5, Guami(PLMN, 1, 2, 3), (1,), (), b"\x00" * 8),
        UeIdGnbDu(9, b"\x01" * 8),
        UeIdGnbCuUp(11),
    ]
    messages = [
        kpm.encode_indication_message(format1),
        kpm.encode_indication_message(kpm.build_format3(ues, ["A", "B"], [[1, 2], [3, 4], [5, 6]])),
        kpm.encode_indication_message(kpm.sample_indication(n_ues=2)[1]),
    ]
    functions = [
        kpm.encode_ran_function(kpm_ran_function(["DRB.UEThpDl", "L1M.SS-RSRP"])),
        kpm.encode_ran_function(KpmRanFunctionDescription(instance=3, event_trigger_styles=())),
    ]
    return {
        "ran_function": (kpm.decode_ran_function, kpm.encode_ran_function, functions),
        "event_trigger": (kpm.decode_event_trigger, kpm.encode_event_trigger, trigger),
        "action_definition": (kpm.decode_action_definition, kpm.encode_action_definition, actions),
        "indication_header": (kpm.decode_indication_header, kpm.encode_indication_header, headers),
        "indication_message": (
            kpm.decode_indication_message,
            kpm.encode_indication_message,
            messages,
        ),
    }


SEEDS = _seeds()


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_inputs_only_ever_raise_kpm_decode_error(kind: str) -> None:
    decode, encode, seeds = SEEDS[kind]
    rng = random.Random(f"kpm-{kind}")
    outcomes = {"decoded": 0, "refused": 0}
    offset_stack = len(ASN1CodecPER._off)  # pycrate's shared PER state, left as found
    for data in mutations(seeds, rng, MUTATIONS_PER_DECODER):
        try:
            value = decode(data)
        except kpm.KpmDecodeError:
            outcomes["refused"] += 1
            continue
        outcomes["decoded"] += 1
        with contextlib.suppress(EncodeError):
            encode(value)
    # Both paths are exercised: the mutations are neither all fatal nor all harmless.
    assert outcomes["refused"] > 0 and outcomes["decoded"] > 0, outcomes
    assert len(ASN1CodecPER._off) == offset_stack
