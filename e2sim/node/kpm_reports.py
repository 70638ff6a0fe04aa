"""E2SM-KPM reports of a simulated cell: format 1 per cell, format 3 per matching UE.

The cell produces one :class:`KpmSample` per report period (its KPM for the period that
just ended, see ``e2sim.cell.scheduler``). A KPM action asks for a report every
``reporting period`` R split into granularity periods of G ms: the report made at time t
holds ``R // G`` records per measurement, record j summarising the samples whose time
falls in ``(t - R + j G, t - R + (j + 1) G]``:

- a rate, level or mean (throughput, PRBs, layers, RSRP, SINR) is the MEAN of the samples;
- a distribution bin (``CARR.WBCQIDist.BinX.BinY.BinZ``) is the SUM of the samples' counts
  (TS 28.552 counts reports per bin over the granularity period);
- a period without samples is noValue and flagged incomplete.

A distribution asked for without a label is reported with one column per bin the window
saw (the labels travel in the indication's measurement list); a measurement the cell does
not keep (or a label other than none/avg on a scalar) is noValue, as a node reports a
counter it does not maintain. UEs are named ``UEID-GNB`` with their cell-local id as
AMF UE NGAP id (the id the E2SM-CSI reports carry).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from e2sim.cell import CellStep
from xapp.e2.kpm_types import (
    NO_LABEL,
    Guami,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    MeasurementInfo,
    MeasurementLabel,
    MeasurementPeriod,
    MeasValue,
    TestCondition,
    UeIdGnb,
    UeMeasurementReport,
)

SENDER_NAME = "linkfm-e2sim"
VENDOR_NAME = "LinkFM"


@dataclass(frozen=True)
class KpmSample:
    """One report period's KPM of a cell.

    Attributes:
        time_ms: simulated end of the period [ms].
        ue: ue_id -> {TS 28.552 name: value}.
        cell: {name: value} for the cell.
        binned: distribution name -> {bin label: count}.
        cqi: ue_id -> latest wideband CQI index (for UE matching conditions).
    """

    time_ms: float
    ue: Mapping[int, Mapping[str, float]]
    cell: Mapping[str, float]
    binned: Mapping[str, Mapping[MeasurementLabel, float]]
    cqi: Mapping[int, int]

    @classmethod
    def from_step(cls, step: CellStep) -> KpmSample:
        cqi = {r.ue_id: r.csi.wideband_cqi for r in step.reports if r.csi is not None}
        return cls(step.time_ms, step.ue_kpm, step.cell_kpm, step.cell_kpm_binned, cqi)


class KpmHistory:
    """The samples of the last ``window_ms`` (the longest reporting period subscribed)."""

    def __init__(self, window_ms: float = 1000.0) -> None:
        self.window_ms = window_ms
        self._samples: deque[KpmSample] = deque()

    def add(self, sample: KpmSample) -> None:
        self._samples.append(sample)
        while self._samples and self._samples[0].time_ms <= sample.time_ms - self.window_ms:
            self._samples.popleft()

    def clear(self) -> None:
        self._samples.clear()

    def between(self, start_ms: float, end_ms: float) -> list[KpmSample]:
        """Samples with ``start_ms < time_ms <= end_ms``."""
        return [s for s in self._samples if start_ms < s.time_ms <= end_ms]

    @property
    def latest(self) -> KpmSample | None:
        return self._samples[-1] if self._samples else None


def kpm_header(start_unix_s: float, collection_start_ms: float) -> KpmIndicationHeader:
    """Header format 1: when collection began (``start_unix_s`` + simulated time)."""
    when = datetime.fromtimestamp(start_unix_s + collection_start_ms / 1e3, tz=UTC)
    return KpmIndicationHeader(when, sender_name=SENDER_NAME, sender_type="gNB",
                               vendor_name=VENDOR_NAME)


def _windows(history: KpmHistory, now_ms: float, period_ms: int,
             granularity_ms: int) -> list[list[KpmSample]]:
    n = max(1, period_ms // granularity_ms)
    start = now_ms - n * granularity_ms
    return [history.between(start + j * granularity_ms, start + (j + 1) * granularity_ms)
            for j in range(n)]


def _mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else None


def _columns(measurements: Sequence[MeasurementInfo],
             windows: list[list[KpmSample]]) -> tuple[MeasurementInfo, ...]:
    """The requested measurements, unlabelled distributions expanded to the bins seen."""
    out = []
    for info in measurements:
        if isinstance(info.meas_type, str) and info.labels == (NO_LABEL,):
            bins = {label for w in windows for s in w
                    for label in s.binned.get(info.meas_type, {})}
            if bins:
                order = sorted(bins, key=lambda b: (b.dist_bin_x or 0, b.dist_bin_y or 0,
                                                    b.dist_bin_z or 0))
                out.append(MeasurementInfo(info.meas_type, tuple(order)))
                continue
        out.append(info)
    return tuple(out)


def _cell_value(samples: list[KpmSample], name: str, label: MeasurementLabel) -> MeasValue:
    if any(name in s.binned for s in samples):
        return round(sum(s.binned.get(name, {}).get(label, 0.0) for s in samples))
    if label not in (NO_LABEL, MeasurementLabel(avg=True)):
        return None
    return _mean(s.cell[name] for s in samples if name in s.cell)


def cell_report(history: KpmHistory, now_ms: float, period_ms: int,
                action: KpmActionDefinitionFormat1) -> KpmIndicationFormat1:
    """Format 1: the cell's measurements over the reporting period ending at ``now_ms``."""
    windows = _windows(history, now_ms, period_ms, action.granularity_period_ms)
    infos = _columns(action.measurements, windows)
    periods = []
    for samples in windows:
        values = tuple(
            _cell_value(samples, info.meas_type, label) if samples
            and isinstance(info.meas_type, str) else None
            for info in infos for label in info.labels)
        periods.append(MeasurementPeriod(values, incomplete=not samples))
    return KpmIndicationFormat1(tuple(periods), infos, action.granularity_period_ms)


def _condition_holds(c: TestCondition, cqi: int | None, rsrp: float | None) -> bool:
    value = {"cQI": cqi, "rSRP": rsrp}.get(c.test_type)
    if value is None:
        return False
    if c.expression in (None, "present"):
        return True
    if not isinstance(c.value, int | float) or isinstance(c.value, bool):
        return False
    if c.expression == "equal":
        return value == c.value
    if c.expression == "greaterthan":
        return value > c.value
    if c.expression == "lessthan":
        return value < c.value
    return False


def ue_matches(conditions: Sequence[TestCondition], cqi: int | None,
               rsrp: float | None) -> bool:
    """Conditions ANDed, except where ``logical_or`` ORs one with the next (so the list is
    a disjunction of AND groups). Only the cQI and rSRP tests can hold."""
    groups: list[list[TestCondition]] = [[]]
    for c in conditions:
        groups[-1].append(c)
        if c.logical_or:
            groups.append([])
    return any(all(_condition_holds(c, cqi, rsrp) for c in g) for g in groups if g)


def ue_report(history: KpmHistory, now_ms: float, period_ms: int,
              action: KpmActionDefinitionFormat4, guami: Guami) -> KpmIndicationFormat3 | None:
    """Format 3: per-UE measurements of the UEs that match the conditions now (None when
    no UE matches: format 3 needs at least one)."""
    latest = history.latest
    if latest is None:
        return None
    windows = _windows(history, now_ms, period_ms, action.granularity_period_ms)
    matching = [ue for ue in sorted(latest.ue)
                if ue_matches(action.conditions, latest.cqi.get(ue),
                              latest.ue[ue].get("L1M.SS-RSRP"))]
    if not matching:
        return None
    reports = []
    for ue in matching:
        periods = []
        for samples in windows:
            rows = [s.ue[ue] for s in samples if ue in s.ue]
            values: tuple[MeasValue, ...] = tuple(
                _mean(r[info.meas_type] for r in rows if info.meas_type in r)
                if isinstance(info.meas_type, str) and label in (NO_LABEL,
                                                                 MeasurementLabel(avg=True))
                else None
                for info in action.measurements for label in info.labels)
            periods.append(MeasurementPeriod(values, incomplete=not rows))
        reports.append(UeMeasurementReport(
            UeIdGnb(ue, guami),
            KpmIndicationFormat1(tuple(periods), action.measurements,
                                 action.granularity_period_ms)))
    return KpmIndicationFormat3(tuple(reports))
