"""Every E2SM-KPM value survives encode -> decode unchanged (REALs compared by value)."""

from __future__ import annotations

import math

from hypothesis import given, settings

from tests.e2 import kpm_strategies as s
from xapp.e2 import kpm
from xapp.e2.kpm_ran_function import KpmRanFunctionDescription
from xapp.e2.kpm_types import (
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    MeasurementPeriod,
)

EXAMPLES = settings(max_examples=60, deadline=None)


@EXAMPLES
@given(s.event_triggers)
def test_event_trigger_round_trips(trigger: KpmEventTrigger) -> None:
    assert kpm.decode_event_trigger(kpm.encode_event_trigger(trigger)) == trigger


@EXAMPLES
@given(s.action_format1)
def test_action_definition_format1_round_trips(action: KpmActionDefinitionFormat1) -> None:
    assert kpm.decode_action_definition(kpm.encode_action_definition(action)) == action


@EXAMPLES
@given(s.action_format4)
def test_action_definition_format4_round_trips(action: KpmActionDefinitionFormat4) -> None:
    decoded = kpm.decode_action_definition(kpm.encode_action_definition(action))
    assert decoded == action


@EXAMPLES
@given(s.headers)
def test_indication_header_round_trips_to_the_microsecond(header: KpmIndicationHeader) -> None:
    decoded = kpm.decode_indication_header(kpm.encode_indication_header(header))
    assert decoded == header
    assert decoded.time_convention == "ntp"


@EXAMPLES
@given(s.format1_messages())
def test_indication_format1_round_trips(message: KpmIndicationFormat1) -> None:
    assert kpm.decode_indication_message(kpm.encode_indication_message(message)) == message


@settings(max_examples=30, deadline=None)
@given(s.format3_messages)
def test_indication_format3_round_trips(message: KpmIndicationFormat3) -> None:
    assert kpm.decode_indication_message(kpm.encode_indication_message(message)) == message


@EXAMPLES
@given(s.ran_functions)
def test_ran_function_description_round_trips(description: KpmRanFunctionDescription) -> None:
    assert kpm.decode_ran_function(kpm.encode_ran_function(description)) == description


def test_real_records_keep_their_value_and_integer_records_stay_integers() -> None:
    values = (0.1, -2.5e-300, 1.7976931348623157e308, 7, 0, 2**32 - 1, None)
    message = KpmIndicationFormat1((MeasurementPeriod(values),))
    decoded = kpm.decode_indication_message(kpm.encode_indication_message(message))
    assert isinstance(decoded, KpmIndicationFormat1)
    got = decoded.periods[0].values
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]


def test_negative_zero_decodes_as_zero() -> None:
    message = KpmIndicationFormat1((MeasurementPeriod((-0.0,)),))
    decoded = kpm.decode_indication_message(kpm.encode_indication_message(message))
    assert isinstance(decoded, KpmIndicationFormat1)
    value = decoded.periods[0].values[0]
    assert isinstance(value, float) and value == 0.0 and not math.isnan(value)
