"""Points and their line protocol: names from names.py, escaping, field types, precision."""

from __future__ import annotations

import math

import pytest

from tests.telemetry.conftest import CELL, recommendation
from xapp.e2.recommendation import Reason
from xapp.telemetry import names
from xapp.telemetry.points import (
    InputSummary,
    Point,
    build,
    cell_tag,
    recommendation_point,
    to_line,
)


def test_integers_carry_the_i_suffix_and_floats_do_not() -> None:
    line = to_line(Point("m", {}, {"a": 3, "b": 0.5, "c": True}, 7))
    assert line == "m a=3i,b=0.5,c=true 7"


def test_tags_are_sorted_by_key() -> None:
    line = to_line(Point("m", {"z": "1", "a": "2"}, {"v": 1}, 1))
    assert line == "m,a=2,z=1 v=1i 1"


def test_commas_spaces_and_equals_in_tags_are_escaped() -> None:
    line = to_line(Point("my m", {"model_version": "v 1,a=b"}, {"v": 1}, 1))
    assert line == r"my\ m,model_version=v\ 1\,a\=b v=1i 1"


def test_control_characters_cannot_split_a_line() -> None:
    line = to_line(Point("m", {"t": "a\nb"}, {"v": 1}, 1))
    assert line is not None and "\n" not in line


def test_non_finite_fields_are_left_out() -> None:
    assert to_line(Point("m", {}, {"a": math.nan, "b": 1.5}, 1)) == "m b=1.5 1"


def test_a_point_without_a_writable_field_gives_no_line() -> None:
    assert to_line(Point("m", {}, {"a": math.inf}, 1)) is None


def test_microsecond_precision_divides_the_nanosecond_time() -> None:
    assert to_line(Point("m", {}, {"v": 1}, 1_234_567_890), "us") == "m v=1i 1234567"


def test_a_field_the_measurement_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="se_legacy"):
        build(names.CYCLE, {}, {names.FieldName.SE_LEGACY: 1.0}, 0)


def test_a_tag_the_measurement_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="cell"):
        build(names.HEALTH, {names.Tag.CELL: "x"}, {names.FieldName.DECISIONS: 1}, 0)


def test_a_recommendation_point_uses_only_declared_names() -> None:
    point = recommendation_point(recommendation(5), 0.002, InputSummary(12.0, 9), xapp="x",
                                 time_ns=1)
    assert set(point.tags) == set(names.RECOMMENDATION.tags)
    assert set(point.fields) <= set(names.RECOMMENDATION.fields)


def test_a_recommendation_without_beam_writes_no_beam_or_beam_confidence() -> None:
    point = recommendation_point(recommendation(5, beam=None), 0.002, InputSummary(), xapp="x",
                                 time_ns=1)
    assert names.FieldName.BEAM not in point.fields
    assert names.FieldName.CONFIDENCE_BEAM not in point.fields


def test_a_recommendation_point_tags_reason_and_cell() -> None:
    point = recommendation_point(recommendation(5, reason=Reason.POLICY), 0.002, InputSummary(),
                                 xapp="x", time_ns=1)
    assert point.tags[names.Tag.REASON] == names.Reason.POLICY
    assert point.tags[names.Tag.CELL] == "00f110-74565" == cell_tag(CELL)


def test_latency_is_written_in_whole_microseconds() -> None:
    point = recommendation_point(recommendation(5), 0.001234, InputSummary(), xapp="x",
                                 time_ns=1)
    assert point.fields[names.FieldName.LATENCY_US] == 1234
