"""Ingest: one RMR RIC indication -> decoded reports -> the UEs' windows.

The caller resolves the indication's sub_id to an :class:`IndicationSource` (E2 node, RAN
function, report period) through its subscriptions. KPM values are held for the UE's next
CSI slot; each CSI report appends a slot and marks the UE changed. Alongside the windows,
:class:`UeMeta` keeps what a recommendation needs that the model does not read: the cell,
the report slot and the UE-reported values it would replace. A bad message is counted per
reason in :class:`~xapp.ingest.bad_inputs.BadInputs` and skipped; nothing here raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from xapp.e2.csi_types import CsiReport, NrCgi
from xapp.e2.recommendation import ReportedCsi
from xapp.errors import MalformedInput
from xapp.ingest.bad_inputs import BadInputs
from xapp.ingest.cells import CellContexts
from xapp.ingest.decode import (
    KPM_RAN_FUNCTION_ID,
    IngestError,
    KpmUeValues,
    decode_csi,
    decode_kpm,
    decode_ric_indication,
)
from xapp.ingest.windows import UeKey, UeWindowStore
from xapp.rmr.message import RmrMessage


@dataclass(frozen=True)
class IndicationSource:
    """What a sub_id stands for: the E2 node, the RAN function and its report period."""

    meid: str
    ran_function_id: int
    period_ms: float


@dataclass(frozen=True)
class UeMeta:
    """A UE's latest report facts (not model inputs).

    Attributes:
        cell: the serving cell of the latest CSI indication.
        report_slot: absolute slot of the latest report.
        slot_ms: slot duration of the cell (ms).
        reported: the UE-reported rank/PMI/beam of that report (None without CSI fields).
        received_at: ``time.monotonic()`` when the indication arrived (latency origin).
        sinr_db, wideband_cqi: input summary for telemetry (None when not reported).
    """

    cell: NrCgi
    report_slot: int
    slot_ms: float
    reported: ReportedCsi | None
    received_at: float
    sinr_db: float | None = None
    wideband_cqi: int | None = None


def reported_csi(report: CsiReport) -> ReportedCsi | None:
    """The UE-reported values of ``report`` (strongest reported beam as the beam)."""
    if report.csi is None:
        return None
    beam = max(report.beams, key=lambda b: b.rsrp_dbm).beam_index if report.beams else None
    return ReportedCsi(rank=report.csi.ri, pmi=report.csi.pmi, report_slot=report.report_slot,
                       beam_index=beam)


class IndicationIngest:
    """Feeds a :class:`UeWindowStore` from RIC indications (see module docstring)."""

    def __init__(self, store: UeWindowStore, cells: CellContexts, bad: BadInputs,
                 csi_ran_function_id: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.cells = cells
        self.bad = bad
        self.csi_ran_function_id = csi_ran_function_id
        self._clock = clock
        self.meta: dict[UeKey, UeMeta] = {}
        self.indications = 0
        self.reports = 0

    def handle(self, msg: RmrMessage, source: IndicationSource | None) -> list[UeKey]:
        """Ingest one indication; returns the UEs whose window gained a slot."""
        now = self._clock()
        try:
            if source is None:
                raise IngestError("unknown_sub_id", f"sub_id {msg.sub_id} from {msg.meid!r}")
            indication = decode_ric_indication(msg.payload)
            if source.ran_function_id == KPM_RAN_FUNCTION_ID:
                self.add_kpm(source, decode_kpm(indication), now)
                return []
            if source.ran_function_id != self.csi_ran_function_id:
                raise IngestError("unknown_ran_function", str(source.ran_function_id))
            content = decode_csi(indication)
            slot_ms = self.cells.antennas(source.meid).slot_ms
            reports = content.reports
            changed = [UeKey(source.meid, report.ue_id) for report in reports]
            contexts = [self.cells.context(source.meid, report, source.period_ms)
                        for report in reports]
            self.store.add_csi_batch(changed, reports, contexts, now)
            cell = content.header.cell
            for key, report in zip(changed, reports, strict=True):
                self.meta[key] = UeMeta(
                    cell=cell, report_slot=report.report_slot, slot_ms=slot_ms,
                    reported=reported_csi(report), received_at=now, sinr_db=report.sinr_db,
                    wideband_cqi=report.csi.wideband_cqi if report.csi else None)
            self.indications += 1
            self.reports += len(changed)
            return changed
        except MalformedInput as exc:
            self.refuse(exc, msg)
            return []

    def add_kpm(self, source: IndicationSource, ues: list[KpmUeValues],
                now: float | None = None) -> None:
        """A decoded KPM indication's per-UE values, held for each UE's next slot."""
        now = self._clock() if now is None else now
        for ue in ues:
            self.store.add_kpm(UeKey(source.meid, ue.ue_id), ue.values, now)
        self.indications += 1

    def refuse(self, exc: MalformedInput, msg: RmrMessage) -> None:
        """Count an indication that could not be used."""
        self.bad.record(exc, f"mtype {msg.mtype} sub_id {msg.sub_id} meid {msg.meid!r}")

    def expire(self) -> list[UeKey]:
        """Drop UEs silent for the store's inactivity time (and their metadata)."""
        gone = self.store.expire(self._clock())
        for key in gone:
            self.meta.pop(key, None)
        return gone
