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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch

from model.pmi_space import CODEBOOK_CONFIGS, CodebookConfig
from model.registry import FeatureKind, FeatureRegistry
from xapp.e2.csi_types import CsiReport


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


@dataclass
class _Window:
    """Ring buffers of one UE: per feature values [T, *shape] and masks, newest at head-1."""

    values: dict[str, npt.NDArray[np.generic]]
    masks: dict[str, npt.NDArray[np.bool_]]
    context: CellContext
    head: int = 0  # next slot to write
    slots: int = 0  # slots written so far (saturates at T)
    last_seen_s: float = 0.0
    pending_kpm: dict[str, float] = field(default_factory=dict)
    latest_kpm: dict[str, float] = field(default_factory=dict)  # per-window KPM features


class UeWindowStore:
    """Windows of the last ``n_slots`` reports of every active UE.

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
        self._windows: dict[UeKey, _Window] = {}
        self._changed: dict[UeKey, None] = {}  # insertion-ordered set
        self.departed = 0

    def __len__(self) -> int:
        return len(self._windows)

    def __contains__(self, key: object) -> bool:
        return key in self._windows

    def _window(self, key: UeKey, context: CellContext, now_s: float) -> _Window:
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self.max_ues:
                oldest = min(self._windows, key=lambda k: self._windows[k].last_seen_s)
                self._depart(oldest)
            window = self._windows[key] = _Window(
                values={f.name: np.zeros((self.n_slots, *self.registry.shape(f.name)),
                                         _dtype(f.kind)) for f in self._slot_features},
                masks={f.name: np.zeros((self.n_slots, *self.registry.shape(f.name)), bool)
                       for f in self._slot_features},
                context=context)
        window.context = context
        window.last_seen_s = now_s
        return window

    def add_kpm(self, key: UeKey, measurements: Mapping[str, float], now_s: float) -> None:
        """Hold the UE's latest KPM values (TS 28.552 names) for its next slot."""
        window = self._windows.get(key)
        wanted = {f"kpm.{name}": value for name, value in measurements.items()
                  if f"kpm.{name}" in self.registry and math.isfinite(value)}
        if window is None:
            return  # KPM alone does not open a window: the UE has sent no CSI yet
        for name, value in wanted.items():
            if self.registry[name].per_slot:
                window.pending_kpm[name] = value
            else:
                window.latest_kpm[name] = value
        window.last_seen_s = now_s

    def add_csi(self, key: UeKey, report: CsiReport, context: CellContext, now_s: float) -> None:
        """Append one slot built from ``report`` (and pending KPM values)."""
        window = self._window(key, context, now_s)
        t = window.head
        for name in window.values:
            window.masks[name][t] = False
        self._write_csi(window, t, report)
        for name, value in window.pending_kpm.items():
            window.values[name][t] = value
            window.masks[name][t] = True
        window.pending_kpm.clear()
        window.head = (t + 1) % self.n_slots
        window.slots = min(window.slots + 1, self.n_slots)
        self._changed[key] = None

    def _write_csi(self, window: _Window, t: int, report: CsiReport) -> None:
        def put(name: str, value: float | int) -> None:
            window.values[name][t] = value
            window.masks[name][t] = True

        if report.csi is not None:
            put("csi.ri", report.csi.ri - 1)
            put("csi.cri", report.csi.cri)
            put("csi.pmi_i11", report.csi.pmi.i11)
            put("csi.pmi_i12", report.csi.pmi.i12)
            put("csi.pmi_i13", report.csi.pmi.i13 or 0)
            put("csi.pmi_i2", report.csi.pmi.i2)
            put("csi.cqi_wb", report.csi.wideband_cqi)
            n = min(len(report.csi.subband_cqi), self.registry.dims.max_subbands)
            window.values["csi.cqi_sb"][t, :n] = report.csi.subband_cqi[:n]
            window.masks["csi.cqi_sb"][t, :n] = True
        if report.sinr_db is not None and math.isfinite(report.sinr_db):
            put("csi.sinr_db", report.sinr_db)
        beams = [b for b in report.beams if b.beam_index < self.registry.dims.max_beams]
        if beams:
            for beam in beams:
                window.values["csi.beam_rsrp"][t, beam.beam_index] = beam.rsrp_dbm
                window.masks["csi.beam_rsrp"][t, beam.beam_index] = True
            put("csi.beam_id", max(beams, key=lambda b: b.rsrp_dbm).beam_index)
        if report.channel_estimate is not None:
            h = report.channel_estimate.as_array()
            dims = self.registry.dims
            s, r, x = (min(a, b) for a, b in zip(h.shape, (dims.max_subbands, dims.max_rx,
                                                           dims.max_tx), strict=True))
            window.values["csi.h_est"][t, :s, :r, :x] = h[:s, :r, :x]
            window.masks["csi.h_est"][t, :s, :r, :x] = True

    def take_changed(self) -> list[UeKey]:
        """The UEs whose window gained a slot since the last call (oldest change first)."""
        changed = [k for k in self._changed if k in self._windows]
        self._changed.clear()
        return changed

    def latest_csi(self, key: UeKey) -> dict[str, int]:
        """The UE's most recent reported rank/PMI/beam (the legacy values), raw units."""
        window = self._windows[key]
        t = (window.head - 1) % self.n_slots
        out = {}
        for name in ("csi.ri", "csi.pmi_i11", "csi.pmi_i12", "csi.pmi_i13", "csi.pmi_i2",
                     "csi.beam_id", "csi.cqi_wb"):
            if window.masks[name][t]:
                out[name] = int(window.values[name][t]) + (1 if name == "csi.ri" else 0)
        return out

    def context(self, key: UeKey) -> CellContext:
        return self._windows[key].context

    def windows(self, keys: Iterable[UeKey], names: Iterable[str] | None = None,
                ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The windows of ``keys`` as a batch: name -> (values [B, T, ...], mask), oldest
        slot first; context features as [B] tensors. Ready for :func:`model.tokenize`.

        ``names`` limits the per-slot features gathered (a predictor that reads only the
        channel estimate need not pay for the rest); context features always come.
        """
        chosen = [self._windows[k] for k in keys]
        wanted = None if names is None else set(names)
        out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        # Ring slot of (item b, window position t): oldest first, one gather per feature.
        heads = np.array([w.head for w in chosen], dtype=np.int64)
        order = (heads[:, None] + np.arange(self.n_slots)[None, :]) % self.n_slots  # [B, T]
        items = np.arange(len(chosen))[:, None]
        for name in (f.name for f in self._slot_features):
            if wanted is not None and name not in wanted:
                continue
            values = np.stack([w.values[name] for w in chosen])[items, order]
            masks = np.stack([w.masks[name] for w in chosen])[items, order]
            out[name] = (torch.from_numpy(values), torch.from_numpy(masks))
        for name in self._window_kpm:
            known = [name in w.latest_kpm for w in chosen]
            latest = torch.tensor([w.latest_kpm.get(name, 0.0) for w in chosen],
                                  dtype=torch.float32)
            out[name] = (latest, torch.tensor(known, dtype=torch.bool))
        contexts = [w.context for w in chosen]
        ctx_values = {
            "ctx.codebook": [c.codebook_id for c in contexts],
            "ctx.n_tx": [c.n_tx for c in contexts],
            "ctx.n_rx": [c.n_rx for c in contexts],
            "ctx.n_subbands": [c.n_subbands for c in contexts],
            "ctx.n_beams": [c.n_beams for c in contexts],
            "ctx.report_period_ms": [c.report_period_ms for c in contexts],
            "ctx.horizon_ms": [c.horizon_ms for c in contexts],
        }
        for name, column in ctx_values.items():
            dtype = torch.int64 if name == "ctx.codebook" else torch.float32
            tensor = torch.tensor(column, dtype=dtype)
            out[name] = (tensor, torch.ones_like(tensor, dtype=torch.bool))
        return out

    def expire(self, now_s: float) -> list[UeKey]:
        """Remove UEs silent for ``inactivity_s``; returns who departed."""
        gone = [k for k, w in self._windows.items() if now_s - w.last_seen_s > self.inactivity_s]
        for key in gone:
            self._depart(key)
        return gone

    def _depart(self, key: UeKey) -> None:
        self._windows.pop(key, None)
        self._changed.pop(key, None)
        self.departed += 1
