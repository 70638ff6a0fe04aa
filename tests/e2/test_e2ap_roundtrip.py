"""Every E2AP message survives encode -> decode unchanged, whatever its field values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.e2.e2ap_strategies import BY_TYPE
from xapp.e2 import (
    MAX_PDU_BYTES,
    ActionType,
    E2apMessage,
    IndicationType,
    RicAction,
    RicIndication,
    RicRequestId,
    RicSubscriptionRequest,
    decode,
    encode,
)
from xapp.e2.e2ap_bench import cases


@pytest.mark.parametrize("message_type", list(BY_TYPE), ids=lambda t: t.__name__)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_message_decodes_to_what_was_encoded(message_type: type, data: st.DataObject) -> None:
    message: E2apMessage = data.draw(BY_TYPE[message_type])
    assert decode(encode(message)) == message


@pytest.mark.parametrize("message_type", list(BY_TYPE), ids=lambda t: t.__name__)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_reencoding_a_decoded_message_gives_the_same_bytes(
    message_type: type, data: st.DataObject
) -> None:
    wire = encode(data.draw(BY_TYPE[message_type]))
    assert encode(decode(wire)) == wire


def test_indication_with_a_4_kib_message_keeps_every_byte() -> None:
    message = bytes(range(256)) * 16
    indication = RicIndication(
        request_id=RicRequestId(123, 9),
        ran_function_id=2,
        action_id=1,
        indication_type=IndicationType.REPORT,
        header=b"\x01\x02",
        message=message,
    )
    decoded = decode(encode(indication))
    assert isinstance(decoded, RicIndication)
    assert decoded.message == message


def test_subscription_with_sixteen_actions_keeps_their_order() -> None:
    actions = tuple(
        RicAction(action_id=255 - n, action_type=ActionType.REPORT, definition=bytes([n]))
        for n in range(16)
    )
    request = RicSubscriptionRequest(RicRequestId(123, 1), 2, b"\x00", actions)
    decoded = decode(encode(request))
    assert isinstance(decoded, RicSubscriptionRequest)
    assert [a.action_id for a in decoded.actions] == [255 - n for n in range(16)]


@pytest.mark.parametrize("name", list(cases()))
def test_benchmark_cases_round_trip(name: str) -> None:
    message = cases()[name]
    assert decode(encode(message)) == message


def test_an_indication_just_under_the_size_cap_round_trips() -> None:
    # Messages this long use APER length fragmentation (64 KiB fragments).
    message = bytes(range(256)) * ((MAX_PDU_BYTES - 1024) // 256)
    indication = RicIndication(RicRequestId(1, 1), 2, 1, IndicationType.REPORT, b"", message)
    wire = encode(indication)
    assert len(wire) <= MAX_PDU_BYTES
    assert decode(wire) == indication
