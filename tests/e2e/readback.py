"""What the xApp's telemetry wrote, and what VictoriaMetrics gives back, as comparable sets.

The writer sends InfluxDB line protocol; VictoriaMetrics stores each field as the series
``<measurement>_<field>{tags}`` with millisecond timestamps. Several points can share a
millisecond (one decision cycle stamps all its UEs within microseconds), so a field's
samples are compared as a multiset of (series, tags, ms, value): every field of every
point sent must come back, with its tags, and nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tests.e2e.conftest import FullLoop
from tests.telemetry.victoria import Series
from xapp.app import DecisionEvent
from xapp.telemetry.points import cell_tag

Tags = tuple[tuple[str, str], ...]
Sample = tuple[str, Tags, int, float]  # series name, sorted tags, time [ms], value


@dataclass(frozen=True)
class LinePoint:
    """One parsed line of line protocol (``ns`` precision)."""

    measurement: str
    tags: Tags
    fields: dict[str, float]
    time_ms: int

    @property
    def tag(self) -> dict[str, str]:
        return dict(self.tags)


def _value(text: str) -> float:
    if text in ("true", "false"):
        return float(text == "true")
    return float(text.removesuffix("i"))


def parse_line(line: str) -> LinePoint:
    """A line as the writer makes it; the loop's names and values need no escaping."""
    assert "\\" not in line and '"' not in line, f"unexpected escaping in {line!r}"
    head, body, stamp = line.split(" ")
    measurement, *pairs = head.split(",")
    tags = tuple(sorted((k, v) for k, v in (p.split("=", 1) for p in pairs)))
    fields = {k: _value(v) for k, v in (f.split("=", 1) for f in body.split(","))}
    return LinePoint(measurement, tags, fields, int(stamp) // 1_000_000)


def points_of(lines: Iterable[str], measurement: str) -> list[LinePoint]:
    return [p for p in map(parse_line, lines) if p.measurement == measurement]


def _norm(value: float) -> float:
    return float(f"{value:.9g}")  # the store's float encoding may differ past ~15 digits


def sent_samples(points: Iterable[LinePoint]) -> Counter[Sample]:
    return Counter((f"{p.measurement}_{name}", p.tags, p.time_ms, _norm(value))
                   for p in points for name, value in p.fields.items())


def stored_samples(series: Iterable[Series]) -> Counter[Sample]:
    return Counter((s.name, tuple(sorted(s.tags.items())), t, _norm(v))
                   for s in series for t, v in s.samples)


Row = tuple[str, str, str, str, int, int, int, int, int | None, int, int | None]


def decision_row(event: DecisionEvent) -> Row:
    """(e2 node, cell, model version, reason, UE, rank, i11, i12, i13, i2, beam)."""
    r = event.recommendation
    return (r.e2_node, cell_tag(r.cell), r.model_version, r.reason.name.lower(), r.ue_id,
            r.rank, r.pmi.i11, r.pmi.i12, r.pmi.i13, r.pmi.i2, r.beam_index)


def point_row(p: LinePoint) -> Row:
    """The same facts from a ``linkfm_recommendation`` line (absent fields are None)."""
    t, f = p.tag, p.fields

    def opt(name: str) -> int | None:
        return int(f[name]) if name in f else None

    return (t["e2_node"], t["cell"], t["model_version"], t["reason"], int(f["ue_id"]),
            int(f["rank"]), int(f["pmi_i11"]), int(f["pmi_i12"]), opt("pmi_i13"),
            int(f["pmi_i2"]), opt("beam"))


async def assert_recommendations_read_back(loop: FullLoop) -> list[Series]:
    """Pause the cells, let decisions and telemetry settle, then check that every decision
    the xApp made was counted, sent as one point with the same facts, and stored with
    every field, tag and timestamp; the cells run again afterwards. Returns what was
    stored."""
    await loop.pause()
    try:
        await loop.settle()
        assert loop.telemetry.flush(timeout_s=20)
        lines = points_of(loop.written_lines, "linkfm_recommendation")
        # what the xApp decided == what it counted == what its writer sent
        assert len(loop.decided) == loop.decisions == len(lines)
        assert Counter(decision_row(d.event) for d in loop.decided) == \
            Counter(point_row(p) for p in lines)
        stored = loop.victoria.export('{__name__=~"linkfm_recommendation_.*"}',
                                      samples=("linkfm_recommendation_ue_id", len(lines)))
        # every field of every point, with its tags and timestamp, and nothing else
        assert stored_samples(stored) == sent_samples(lines)
        assert {tuple(sorted(s.tags)) for s in stored} == \
            {("cell", "e2_node", "model_version", "reason", "xapp")}
        return stored
    finally:
        loop.resume()
