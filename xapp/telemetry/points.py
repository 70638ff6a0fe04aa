"""Telemetry points and their InfluxDB line protocol, built from :mod:`xapp.telemetry.names`.

Sans-IO: a :class:`Point` is a measurement, tags, numeric fields and a time in ns since the
Unix epoch; :func:`to_line` renders one line of InfluxDB line protocol at a chosen
precision. Builders (``recommendation_point`` ...) turn the xApp's objects into points
and refuse, at build time, any tag or field the measurement does not declare, so nothing
is written that a dashboard query could not name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from xapp.e2.csi_types import NrCgi
from xapp.e2.recommendation import Recommendation
from xapp.telemetry.names import (
    CYCLE,
    RECOMMENDATION,
    SCOREBOARD,
    FieldName,
    Measurement,
    Tag,
)

Precision = Literal["ns", "us"]
FieldValue = int | float | bool

_NS_PER_UNIT: dict[str, int] = {"ns": 1, "us": 1_000}
# Line protocol cannot carry control characters in keys or tag values (no escape exists).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MEASUREMENT_ESCAPE = str.maketrans({",": r"\,", " ": r"\ ", "\\": "\\\\"})
_KEY_ESCAPE = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\"})


@dataclass(frozen=True)
class Point:
    """One point: ``fields`` are numbers (ints stay integers), ``time_ns`` is Unix time in ns."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int


def cell_tag(cell: NrCgi) -> str:
    """The ``cell`` tag value: ``<plmn as 6 hex digits>-<NR cell identity>``."""
    return f"{cell.plmn_id.hex()}-{cell.nr_cell_identity}"


def build(measurement: Measurement, tags: Mapping[str, str],
          fields: Mapping[str, FieldValue | None], time_ns: int) -> Point:
    """A point of ``measurement``; ``None`` fields and empty tag values are left out.

    Raises:
        ValueError: a tag or field that ``measurement`` does not declare (a bug).
    """
    unknown = [k for k in tags if k not in measurement.tags]
    unknown += [k for k in fields if k not in measurement.fields]
    if unknown:
        raise ValueError(f"{measurement.name} does not declare {unknown}")
    return Point(measurement.name, {k: v for k, v in tags.items() if v},
                 {k: v for k, v in fields.items() if v is not None}, time_ns)


def _escape_key(text: str) -> str:
    return _CONTROL.sub(" ", text).translate(_KEY_ESCAPE)


def _field_value(value: FieldValue) -> str | None:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if not math.isfinite(value):  # line protocol has no NaN or infinity
        return None
    return repr(float(value))


def to_line(point: Point, precision: Precision = "ns") -> str | None:
    """``point`` as one line of line protocol (tags sorted), or None if no field is writable."""
    fields = []
    for key, value in point.fields.items():
        text = _field_value(value)
        if text is not None:
            fields.append(f"{_escape_key(key)}={text}")
    if not fields:
        return None
    head = _CONTROL.sub(" ", point.measurement).translate(_MEASUREMENT_ESCAPE)
    tags = "".join(f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(point.tags.items()))
    return f"{head}{tags} {','.join(fields)} {point.time_ns // _NS_PER_UNIT[precision]}"


@dataclass(frozen=True)
class InputSummary:
    """What the decision was made from, beyond what the recommendation itself replaces.

    Attributes:
        sinr_db: the UE's latest reported SINR (dB), None when not reported.
        wideband_cqi: the wideband CQI index of the replaced report, None when not reported.
    """

    sinr_db: float | None = None
    wideband_cqi: int | None = None


def recommendation_point(rec: Recommendation, latency_s: float, summary: InputSummary,
                         *, xapp: str, time_ns: int) -> Point:
    """One ``linkfm_recommendation`` point: outputs, confidences, replaced values, latency."""
    f = FieldName
    replaced = rec.replaces
    fields: dict[str, FieldValue | None] = {
        f.UE_ID: rec.ue_id, f.APPLY_FROM_SLOT: rec.apply_from_slot,
        f.VALIDITY_MS: rec.validity_ms, f.RANK: rec.rank,
        f.PMI_I11: rec.pmi.i11, f.PMI_I12: rec.pmi.i12, f.PMI_I13: rec.pmi.i13,
        f.PMI_I2: rec.pmi.i2, f.BEAM: rec.beam_index,
        f.CONFIDENCE_RANK: float(rec.confidence.rank),
        f.CONFIDENCE_PMI: float(rec.confidence.pmi),
        f.CONFIDENCE_BEAM: float(rec.confidence.beam) if rec.beam_index is not None else None,
        f.REPORTED_CQI: summary.wideband_cqi, f.SINR_DB: summary.sinr_db,
        f.LATENCY_US: round(latency_s * 1e6),
    }
    if replaced is not None:
        fields.update({
            f.REPORTED_RANK: replaced.rank, f.REPORTED_PMI_I11: replaced.pmi.i11,
            f.REPORTED_PMI_I12: replaced.pmi.i12, f.REPORTED_PMI_I13: replaced.pmi.i13,
            f.REPORTED_PMI_I2: replaced.pmi.i2, f.REPORTED_BEAM: replaced.beam_index,
        })
    tags = {Tag.XAPP: xapp, Tag.MODEL_VERSION: rec.model_version, Tag.E2_NODE: rec.e2_node,
            Tag.CELL: cell_tag(rec.cell), Tag.REASON: rec.reason.name.lower()}
    return build(RECOMMENDATION, tags, fields, time_ns)


def cycle_point(e2_node: str, model_version: str, sequence: int, batch_size: int,
                inference_s: float, latency_s: float, *, xapp: str, time_ns: int) -> Point:
    """One ``linkfm_cycle`` point (one decision cycle of one E2 node; times in seconds)."""
    return build(CYCLE,
                 {Tag.XAPP: xapp, Tag.MODEL_VERSION: model_version, Tag.E2_NODE: e2_node},
                 {FieldName.SEQUENCE: sequence, FieldName.BATCH_SIZE: batch_size,
                  FieldName.INFERENCE_US: round(inference_s * 1e6),
                  FieldName.LATENCY_US: round(latency_s * 1e6)}, time_ns)


def scoreboard_point(e2_node: str, cell: NrCgi | str, se_legacy: float, se_xapp: float,
                     se_oracle: float | None, ues: int, *, xapp: str, time_ns: int) -> Point:
    """One ``linkfm_scoreboard`` point: spectral efficiencies in bit/s/Hz over ``ues`` UEs."""
    label = cell if isinstance(cell, str) else cell_tag(cell)
    return build(SCOREBOARD, {Tag.XAPP: xapp, Tag.E2_NODE: e2_node, Tag.CELL: label},
                 {FieldName.SE_LEGACY: float(se_legacy), FieldName.SE_XAPP: float(se_xapp),
                  FieldName.SE_ORACLE: None if se_oracle is None else float(se_oracle),
                  FieldName.UES: ues}, time_ns)
