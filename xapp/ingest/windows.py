"""Per-UE sliding windows of report slots, in the model's feature layout.

Every CSI report of a UE appends one slot: the UE-reported CSI fields, beam RSRPs, SINR
and (when reported) the channel estimate, padded to the registry's sizes with masks.
KPM values arrive on their own, slower period. A per-slot KPM feature is observed in the
next slot appended after the value arrives (it is not repeated in later slots: a stale
value is not an observation); a per-window KPM feature (``per_slot=False`` in the
registry) holds the UE's latest value, one per window. The window's context (ports,
antennas, subbands, beams, codebook, report period, horizon) comes from the cell's
:class:`CellContext`.

The store is the only state between ingest and inference: the micro-batcher asks for
the UEs whose window changed and gathers their windows as one batch of tensors in the
format of :func:`model.tokenize.tokenize`. The dataset writer uses the same store, so
the model trains on exactly what the xApp feeds it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from model.pmi_space import CODEBOOK_CONFIGS, CodebookConfig
from model.registry import FeatureKind, FeatureRegistry
from xapp.e2.csi_types import ChannelDtype, ChannelEstimate, CsiReport, UciCsi


@dataclass(frozen=True)
class UeKey:
    """A UE of an E2 node: the node's RAN name and the UE id its reports carry."""

    meid: str
    ue_id: int


@dataclass(frozen=True)
class CellContext:
    """What the model needs to know about a cell's antennas and reporting."""

    n_tx: int
    n_rx: int
    n_subbands: int
    n_beams: int
    codebook: CodebookConfig
    report_period_ms: float
    horizon_ms: float

    @property
    def codebook_id(self) -> int:
        return CODEBOOK_CONFIGS.index(self.codebook)


def _dtype(kind: FeatureKind) -> type:
    return {FeatureKind.CATEGORICAL: np.int64, FeatureKind.MATRIX: np.complex64}.get(
        kind, np.float32)


# The UE-reported CSI fields, as stored: feature name -> the value of a report's UciCsi.
_CSI_FIELDS: tuple[tuple[str, Callable[[UciCsi], int]], ...] = (
    ("csi.ri", lambda c: c.ri - 1),
    ("csi.cri", lambda c: c.cri),
    ("csi.pmi_i11", lambda c: c.pmi.i11),
    ("csi.pmi_i12", lambda c: c.pmi.i12),
    ("csi.pmi_i13", lambda c: c.pmi.i13 or 0),
    ("csi.pmi_i2", lambda c: c.pmi.i2),
    ("csi.cqi_wb", lambda c: c.wideband_cqi),
)


def _channels(estimates: Sequence[ChannelEstimate], shape: tuple[int, ...],
              dtype: ChannelDtype) -> npt.NDArray[np.complex64]:
    """Estimates of one shape and dtype as one array [n, *shape], as ``as_array`` gives
    each (decoded from their joined bytes at once)."""
    raw = b"".join(e.data for e in estimates)
    if dtype is ChannelDtype.COMPLEX64:
        h = np.frombuffer(raw, dtype="<c8").astype(np.complex64)
    else:
        h = np.frombuffer(raw, dtype="<f2").astype(np.float32).view(np.complex64)
    h = h.reshape(len(estimates), *shape)
    scales = [e.scale for e in estimates]
    if any(scale != 1.0 for scale in scales):
        h = h * np.array(scales, dtype=np.float32)[:, None, None, None]
    return h


class UeWindowStore:
    """Windows of the last ``n_slots`` reports of every active UE.

    Storage is one ring buffer per UE row: every per-slot feature is an array
    ``[rows, T, *shape]`` (values and masks), ``head[row]`` the next slot to write. A UE
    gets a row on its first report and gives it back when it departs, so a whole
    indication's UEs are appended with a few array operations per feature
    (:meth:`add_csi_batch`) and a batch is gathered with one indexing per feature
    (:meth:`windows`). :meth:`add_csi` appends one report field by field: it is the
    reference the batch path must match (tests compare them on random reports).

    Args:
        registry: the model's feature registry (names, shapes, padding).
        n_slots: slots per window (T).
        inactivity_s: a UE with no report for this long departs (see :meth:`expire`).
        max_ues: bound on tracked UEs; the least recently seen departs first.
    """

    def __init__(self, registry: FeatureRegistry, n_slots: int, inactivity_s: float = 5.0,
                 max_ues: int = 65_536) -> None:
        self.registry = registry
        self.n_slots = n_slots
        self.inactivity_s = inactivity_s
        self.max_ues = max_ues
        self._slot_features = [f for f in registry.features if f.per_slot]
        self._window_kpm = [f.name for f in registry.features
                            if not f.per_slot and f.name.startswith("kpm.")]
        dims = registry.dims
        self._max_beams = dims.max_beams
        self._max_subbands = dims.max_subbands
        self._h_dims = (dims.max_subbands, dims.max_rx, dims.max_tx)
        # Per-row state; rows grow by doubling and are reused after departures.
        self._values: dict[str, npt.NDArray[np.generic]] = {
            f.name: np.zeros((0, n_slots, *registry.shape(f.name)), _dtype(f.kind))
            for f in self._slot_features}
        self._masks: dict[str, npt.NDArray[np.bool_]] = {
            f.name: np.zeros((0, n_slots, *registry.shape(f.name)), bool)
            for f in self._slot_features}
        self._head = np.zeros(0, np.int64)  # next slot to write
        self._slots = np.zeros(0, np.int64)  # slots written so far (saturates at T)
        self._contexts: list[CellContext | None] = []
        self._last_seen: dict[UeKey, float] = {}
        self._pending_kpm: dict[int, dict[str, float]] = {}  # row -> for its next slot
        self._latest_kpm: dict[int, dict[str, float]] = {}  # row -> per-window KPM features
        self._rows: dict[UeKey, int] = {}
        self._free: list[int] = []
        self._changed: dict[UeKey, None] = {}  # insertion-ordered set
        self.departed = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    # --- rows ----------------------------------------------------------------------------------
    def _grow(self) -> None:
        old = len(self._head)
        new = max(64, 2 * old)
        for table in (self._values, self._masks):
            for name, array in table.items():
                grown = np.zeros((new, *array.shape[1:]), array.dtype)
                grown[:old] = array
                table[name] = grown
        self._head = np.concatenate([self._head, np.zeros(new - old, np.int64)])
        self._slots = np.concatenate([self._slots, np.zeros(new - old, np.int64)])
        self._contexts += [None] * (new - old)
        self._free += range(new - 1, old - 1, -1)  # lowest row first

    def _row(self, key: UeKey, context: CellContext, now_s: float) -> int:
        """The UE's row (a fresh, zeroed one for a new UE), its context and time updated."""
        row = self._rows.get(key)
        if row is None:
            if len(self._rows) >= self.max_ues:
                self._depart(min(self._last_seen, key=self._last_seen.__getitem__))
            if not self._free:
                self._grow()
            row = self._rows[key] = self._free.pop()
            for name in self._values:
                self._values[name][row] = 0
                self._masks[name][row] = False
            self._head[row] = 0
            self._slots[row] = 0
        self._contexts[row] = context
        self._last_seen[key] = now_s
        return row

    # --- appending -----------------------------------------------------------------------------
    def add_kpm(self, key: UeKey, measurements: Mapping[str, float], now_s: float) -> None:
        """Hold the UE's latest KPM values (TS 28.552 names) for its next slot."""
        row = self._rows.get(key)
        wanted = {f"kpm.{name}": value for name, value in measurements.items()
                  if f"kpm.{name}" in self.registry and math.isfinite(value)}
        if row is None:
            return  # KPM alone does not open a window: the UE has sent no CSI yet
        for name, value in wanted.items():
            if self.registry[name].per_slot:
                self._pending_kpm.setdefault(row, {})[name] = value
            else:
                self._latest_kpm.setdefault(row, {})[name] = value
        self._last_seen[key] = now_s

    def add_csi(self, key: UeKey, report: CsiReport, context: CellContext, now_s: float) -> None:
        """Append one slot built from ``report`` (and pending KPM values), field by field."""
        row = self._row(key, context, now_s)
        t = int(self._head[row])
        for name in self._masks:
            self._masks[name][row, t] = False

        def put(name: str, value: float | int) -> None:
            self._values[name][row, t] = value
            self._masks[name][row, t] = True

        if report.csi is not None:
            for name, value_of in _CSI_FIELDS:
                put(name, value_of(report.csi))
            n = min(len(report.csi.subband_cqi), self._max_subbands)
            self._values["csi.cqi_sb"][row, t, :n] = report.csi.subband_cqi[:n]
            self._masks["csi.cqi_sb"][row, t, :n] = True
        if report.sinr_db is not None and math.isfinite(report.sinr_db):
            put("csi.sinr_db", report.sinr_db)
        beams = [b for b in report.beams if b.beam_index < self._max_beams]
        if beams:
            for beam in beams:
                self._values["csi.beam_rsrp"][row, t, beam.beam_index] = beam.rsrp_dbm
                self._masks["csi.beam_rsrp"][row, t, beam.beam_index] = True
            put("csi.beam_id", max(beams, key=lambda b: b.rsrp_dbm).beam_index)
        if report.channel_estimate is not None:
            h = report.channel_estimate.as_array()
            s, r, x = (min(a, b) for a, b in zip(h.shape, self._h_dims, strict=True))
            self._values["csi.h_est"][row, t, :s, :r, :x] = h[:s, :r, :x]
            self._masks["csi.h_est"][row, t, :s, :r, :x] = True
        self._finish_slot([key], np.array([row]), np.array([t]))

    def add_csi_batch(self, keys: Sequence[UeKey], reports: Sequence[CsiReport],
                      contexts: Sequence[CellContext], now_s: float) -> None:
        """Append one slot per UE, as :meth:`add_csi` in order would, feature by feature."""
        if not len(keys) == len(reports) == len(contexts):
            raise ValueError("keys, reports and contexts must have the same length")
        if len(set(keys)) < len(keys):  # a UE twice: its slots must follow each other
            seen: set[UeKey] = set()
            start = 0
            for i, key in enumerate(keys):
                if key in seen:
                    self.add_csi_batch(keys[start:i], reports[start:i], contexts[start:i],
                                       now_s)
                    seen, start = set(), i
                seen.add(key)
            self.add_csi_batch(keys[start:], reports[start:], contexts[start:], now_s)
            return
        if not keys:
            return
        if len(self._rows) + sum(k not in self._rows for k in keys) > self.max_ues:
            # Departures in the middle of the batch could hand a row on twice: go one by one.
            for key, report, context in zip(keys, reports, contexts, strict=True):
                self.add_csi(key, report, context, now_s)
            return
        rows = np.fromiter((self._row(k, c, now_s) for k, c in zip(keys, contexts, strict=True)),
                           np.int64, len(keys))
        t = self._head[rows]
        for name in self._masks:
            self._masks[name][rows, t] = False
        self._write_fields(rows, t, reports)
        self._write_beams(rows, t, reports)
        self._write_channels(rows, t, reports)
        self._finish_slot(keys, rows, t)

    def _put(self, name: str, rows: npt.NDArray[np.int64], t: npt.NDArray[np.int64],
             column: Sequence[float] | npt.NDArray[np.generic]) -> None:
        self._values[name][rows, t] = column
        self._masks[name][rows, t] = True

    def _write_fields(self, rows: npt.NDArray[np.int64], t: npt.NDArray[np.int64],
                      reports: Sequence[CsiReport]) -> None:
        """CSI fields, subband CQIs (grouped by count) and SINR of a batch."""
        have = [i for i, r in enumerate(reports) if r.csi is not None]
        if have:
            csis = [c for r in reports if (c := r.csi) is not None]
            at = np.array(have)
            for name, value_of in _CSI_FIELDS:
                self._put(name, rows[at], t[at], [value_of(c) for c in csis])
            by_count: dict[int, list[int]] = {}
            for j, c in enumerate(csis):
                by_count.setdefault(min(len(c.subband_cqi), self._max_subbands), []).append(j)
            for n, members in by_count.items():
                if n:
                    sel = at[members]
                    self._values["csi.cqi_sb"][rows[sel], t[sel], :n] = \
                        [csis[j].subband_cqi[:n] for j in members]
                    self._masks["csi.cqi_sb"][rows[sel], t[sel], :n] = True
        sinr = [(i, r.sinr_db) for i, r in enumerate(reports)
                if r.sinr_db is not None and math.isfinite(r.sinr_db)]
        if sinr:
            at = np.array([i for i, _ in sinr])
            self._put("csi.sinr_db", rows[at], t[at], [v for _, v in sinr])

    def _write_beams(self, rows: npt.NDArray[np.int64], t: npt.NDArray[np.int64],
                     reports: Sequence[CsiReport]) -> None:
        """Beam L1-RSRPs of a batch in one scatter; the strongest beam per UE."""
        items, beams, rsrp, best_of, best = [], [], [], [], []
        for i, report in enumerate(reports):
            kept = [b for b in report.beams if b.beam_index < self._max_beams]
            if kept:
                items += [i] * len(kept)
                beams += [b.beam_index for b in kept]
                rsrp += [b.rsrp_dbm for b in kept]
                best_of.append(i)
                best.append(max(kept, key=lambda b: b.rsrp_dbm).beam_index)
        if items:
            at = np.array(items)
            self._values["csi.beam_rsrp"][rows[at], t[at], beams] = rsrp
            self._masks["csi.beam_rsrp"][rows[at], t[at], beams] = True
            self._put("csi.beam_id", rows[best_of], t[best_of], best)

    def _write_channels(self, rows: npt.NDArray[np.int64], t: npt.NDArray[np.int64],
                        reports: Sequence[CsiReport]) -> None:
        """Channel estimates of a batch, one stacked write per estimate shape."""
        by_shape: dict[tuple[tuple[int, ...], ChannelDtype], list[ChannelEstimate]] = {}
        where: dict[tuple[tuple[int, ...], ChannelDtype], list[int]] = {}
        for i, report in enumerate(reports):
            if (est := report.channel_estimate) is not None:
                by_shape.setdefault((est.shape, est.dtype), []).append(est)
                where.setdefault((est.shape, est.dtype), []).append(i)
        for (shape, dtype), estimates in by_shape.items():
            s, r, x = (min(a, b) for a, b in zip(shape, self._h_dims, strict=True))
            h = _channels(estimates, shape, dtype)
            sel = np.array(where[(shape, dtype)])
            self._values["csi.h_est"][rows[sel], t[sel], :s, :r, :x] = h[:, :s, :r, :x]
            self._masks["csi.h_est"][rows[sel], t[sel], :s, :r, :x] = True

    def _finish_slot(self, keys: Sequence[UeKey], rows: npt.NDArray[np.int64],
                     t: npt.NDArray[np.int64]) -> None:
        """Pending KPM into the new slots, heads on, UEs marked changed."""
        if self._pending_kpm:
            for row, slot in zip(rows.tolist(), t.tolist(), strict=True):
                for name, value in self._pending_kpm.pop(row, {}).items():
                    self._values[name][row, slot] = value
                    self._masks[name][row, slot] = True
        self._head[rows] = (t + 1) % self.n_slots
        self._slots[rows] = np.minimum(self._slots[rows] + 1, self.n_slots)
        for key in keys:
            self._changed[key] = None

    def take_changed(self) -> list[UeKey]:
        """The UEs whose window gained a slot since the last call (oldest change first)."""
        changed = [k for k in self._changed if k in self._rows]
        self._changed.clear()
        return changed

    def latest_csi(self, key: UeKey) -> dict[str, int]:
        """The UE's most recent reported rank/PMI/beam (the legacy values), raw units."""
        row = self._rows[key]
        t = (int(self._head[row]) - 1) % self.n_slots
        out = {}
        for name in ("csi.ri", "csi.pmi_i11", "csi.pmi_i12", "csi.pmi_i13", "csi.pmi_i2",
                     "csi.beam_id", "csi.cqi_wb"):
            if self._masks[name][row, t]:
                out[name] = int(self._values[name][row, t]) + (1 if name == "csi.ri" else 0)
        return out

    def context(self, key: UeKey) -> CellContext:
        context = self._contexts[self._rows[key]]
        assert context is not None  # every row in use has one
        return context

    def windows(self, keys: Iterable[UeKey], names: Iterable[str] | None = None,
                ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The windows of ``keys`` as a batch: name -> (values [B, T, ...], mask), oldest
        slot first; context features as [B] tensors. Ready for :func:`model.tokenize`.

        ``names`` limits the per-slot features gathered (a predictor that reads only the
        channel estimate need not pay for the rest); context features always come.
        """
        rows = np.array([self._rows[k] for k in keys], dtype=np.int64)
        wanted = None if names is None else set(names)
        out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        # Ring slot of (item b, window position t): oldest first, one gather per feature.
        order = (self._head[rows][:, None] + np.arange(self.n_slots)[None, :]) % self.n_slots
        items = rows[:, None]  # [B, 1] against order [B, T]
        for name in (f.name for f in self._slot_features):
            if wanted is not None and name not in wanted:
                continue
            out[name] = (torch.from_numpy(self._values[name][items, order]),
                         torch.from_numpy(self._masks[name][items, order]))
        latest = [self._latest_kpm.get(row, {}) for row in rows.tolist()]
        for name in self._window_kpm:
            out[name] = (torch.tensor([k.get(name, 0.0) for k in latest], dtype=torch.float32),
                         torch.tensor([name in k for k in latest], dtype=torch.bool))
        contexts = [self._contexts[row] for row in rows.tolist()]
        ctx_values = {
            "ctx.codebook": [c.codebook_id for c in contexts if c is not None],
            "ctx.n_tx": [c.n_tx for c in contexts if c is not None],
            "ctx.n_rx": [c.n_rx for c in contexts if c is not None],
            "ctx.n_subbands": [c.n_subbands for c in contexts if c is not None],
            "ctx.n_beams": [c.n_beams for c in contexts if c is not None],
            "ctx.report_period_ms": [c.report_period_ms for c in contexts if c is not None],
            "ctx.horizon_ms": [c.horizon_ms for c in contexts if c is not None],
        }
        for name, column in ctx_values.items():
            dtype = torch.int64 if name == "ctx.codebook" else torch.float32
            tensor = torch.tensor(column, dtype=dtype)
            out[name] = (tensor, torch.ones_like(tensor, dtype=torch.bool))
        return out

    def expire(self, now_s: float) -> list[UeKey]:
        """Remove UEs silent for ``inactivity_s``; returns who departed."""
        gone = [k for k, seen in self._last_seen.items() if now_s - seen > self.inactivity_s]
        for key in gone:
            self._depart(key)
        return gone

    def _depart(self, key: UeKey) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            self._free.append(row)
            self._contexts[row] = None
            self._pending_kpm.pop(row, None)
            self._latest_kpm.pop(row, None)
        self._last_seen.pop(key, None)
        self._changed.pop(key, None)
        self.departed += 1
