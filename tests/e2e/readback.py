"""What the xApp's telemetry wrote, and what VictoriaMetrics gives back, as comparable sets.

The writer sends InfluxDB line protocol; VictoriaMetrics stores each field as the series
``<measurement>_<field>{tags}`` with millisecond timestamps and about 12 significant
digits. Several points share a millisecond (one decision cycle stamps all its UEs alike),
so a field's samples are compared per (series, tags, ms) as sorted values: every field of
every point sent must come back, with its tags, and nothing else.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tests.e2e.conftest import FullLoop
from tests.telemetry.victoria import Series, VictoriaMetrics
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


def sent_samples(points: Iterable[LinePoint]) -> Counter[Sample]:
    return Counter((f"{p.measurement}_{name}", p.tags, p.time_ms, value)
                   for p in points for name, value in p.fields.items())


def stored_samples(series: Iterable[Series]) -> Counter[Sample]:
    return Counter((s.name, tuple(sorted(s.tags.items())), t, v)
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


def _by_key(samples: Counter[Sample]) -> dict[tuple[str, Tags, int], list[float]]:
    grouped: dict[tuple[str, Tags, int], list[float]] = {}
    for (name, tags, t, value), n in samples.items():
        grouped.setdefault((name, tags, t), []).extend([value] * n)
    return {k: sorted(v) for k, v in grouped.items()}


def difference(sent: Counter[Sample], stored: Counter[Sample]) -> str:
    """Empty when ``stored`` holds every sample of ``sent`` and nothing else, values equal
    to 1e-9 relative (the store keeps about 12 significant digits of a float); else what
    differs, for assertion messages."""
    want, got = _by_key(sent), _by_key(stored)
    keys = sorted(want.keys() | got.keys())
    bad = [(k, want.get(k, []), got.get(k, [])) for k in keys
           if len(want.get(k, [])) != len(got.get(k, []))
           or not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
                      for a, b in zip(want[k], got[k], strict=True))]
    if not bad:
        return ""
    return f"{len(bad)} (series, tags, ms) differ, e.g. (key, sent, stored): {bad[:3]}"


async def read_back(victoria: VictoriaMetrics, match: str, sent: Callable[[], Counter[Sample]],
                    timeout_s: float = 30.0) -> tuple[Counter[Sample], list[Series]]:
    """(what ``sent()`` says was sent, the series matching ``match``) once the store holds
    exactly that, or the last pair after ``timeout_s``. Both sides are read again each
    time: newly ingested series take a second or more to become searchable, and the xApp
    may write more (its health points) meanwhile. Reads off the event loop."""
    deadline = time.monotonic() + timeout_s
    while True:
        expected = sent()
        stored = await asyncio.to_thread(victoria.export, match, settle_s=0.0)
        if not difference(expected, stored_samples(stored)) or time.monotonic() > deadline:
            return expected, stored
        await asyncio.sleep(0.5)


async def assert_recommendations_read_back(loop: FullLoop) -> list[Series]:
    """With the loop quiet (:meth:`FullLoop.quiet`), check that every decision the xApp
    made was counted, sent as one point with the same facts, and stored with every field,
    tag and timestamp. Returns what was stored."""
    async with loop.quiet():
        lines = points_of(loop.written_lines, "linkfm_recommendation")
        # what the xApp decided == what it counted == what its writer sent
        assert len(loop.decided) == loop.decisions == len(lines)
        assert Counter(decision_row(d.event) for d in loop.decided) == \
            Counter(point_row(p) for p in lines)
        sent, stored = await read_back(loop.victoria, '{__name__=~"linkfm_recommendation_.*"}',
                                       lambda: sent_samples(lines))
        # every field of every point, with its tags and timestamp, and nothing else
        assert not (diff := difference(sent, stored_samples(stored))), diff
        assert {tuple(sorted(s.tags)) for s in stored} == \
            {("cell", "e2_node", "model_version", "reason", "xapp")}
        return stored
