"""A simulated cell: UEs on Sionna channels, their CSI reports, KPM, and the closed loop.

`Cell.step()` moves time on by one report period and, at the new instant t:
1. scores the choice the gNB applies at t on the TRUE channel (module `scoring`): the
   UE's previous report (legacy, one report period old), the recommendation in effect,
   and the oracle;
2. schedules the period with proportional fair on the applied choices (`scheduler`) and
   derives per-UE and per-cell KPM;
3. has every UE measure its CSI-RS estimate and report RI/PMI/CQI/beams (`ue_csi`), with
   the gNB's SRS estimate attached; these reports become the legacy choice of t + period.

The first step reports at t = 0 and scores nothing (no UE has reported yet). Between
steps, `apply()` hands the cell recommendations that act after the control delay.
Everything is vectorised over UEs and deterministic from ``CellConfig.seed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

import torch

from e2sim.cell.config import CellConfig
from e2sim.cell.scheduler import (
    WB_CQI_DIST,
    ProportionalFairScheduler,
    cell_kpm,
    cqi_rank_histogram,
    ue_kpm,
)
from e2sim.cell.scoring import RecommendationBook, Scoreboard, StepScores
from e2sim.cell.ue_csi import UeCsi, from_measurements, noise_per_re_dbm, to_reports
from e2sim.channel import ChannelDrop, ChannelSnapshot, make_drop
from e2sim.csi import (
    CsiSelection,
    DftBeamGrid,
    TypeICodebook,
    beam_rsrp_db,
    lookup_subband_se,
    select_from_tables,
    subband_se_of,
    subband_se_tables,
)
from xapp.e2.csi_types import (
    AntennaConfig,
    CsiRanFunctionDefinition,
    CsiReport,
    Numerology,
)
from xapp.e2.kpm_types import MeasurementLabel
from xapp.e2.recommendation import Recommendation, Rejection, RejectReason

PHASES = ("channel", "csi", "scoring", "kpm", "reports")


@dataclass(frozen=True)
class CellStep:
    """What one report period produced.

    Attributes:
        time_ms: simulated time of the reports [ms].
        report_slot: absolute slot of the reports (time_ms / slot_ms).
        reports: one CsiReport per UE, in UE order.
        ue_kpm: ue_id -> {TS 28.552 name: value} for the period that ended at time_ms.
        cell_kpm: {TS 28.552 name: value} for the cell.
        cell_kpm_binned: name -> {label: value}, e.g. CARR.WBCQIDist.BinX.BinY.BinZ.
        definition: the cell's E2SM-CSI RAN function definition.
        scores: what the closed loop scored at time_ms (None at the first step).
        snapshot: the channels at time_ms (for datasets and tests; never sent on E2).
    """

    time_ms: float
    report_slot: int
    reports: tuple[CsiReport, ...]
    ue_kpm: dict[int, dict[str, float]]
    cell_kpm: dict[str, float]
    cell_kpm_binned: dict[str, dict[MeasurementLabel, float]]
    definition: CsiRanFunctionDefinition
    scores: StepScores | None
    snapshot: ChannelSnapshot


@dataclass(frozen=True)
class ApplyResult:
    """How many recommendations the cell took, and why it refused the others."""

    accepted: int
    rejected: tuple[Rejection, ...]


class Cell:
    """One gNB cell with ``cfg.n_ues`` UEs; see the module docstring for a step."""

    def __init__(self, cfg: CellConfig) -> None:
        self.cfg = cfg
        ch = cfg.channel_config
        self._drop = make_drop(ch)
        n1, n2 = cfg.panel
        o1, o2 = cfg.oversampling
        self.codebook = (TypeICodebook(2) if ch.n_tx == 2
                         else TypeICodebook(ch.n_tx, n1, n2, o1, o2))
        self.grid = DftBeamGrid.with_size(cfg.beam_grid_size, n1, n2)
        self.ue_ids = list(range(cfg.n_ues))
        self.max_layers = min(ch.n_tx, ch.n_rx, self.codebook.max_rank)
        self.definition = CsiRanFunctionDefinition(
            antenna=AntennaConfig(n_tx_ports=ch.n_tx, n_rx=ch.n_rx, n1=n1, n2=n2, o1=o1, o2=o2,
                                  beam_codebook_size=cfg.beam_grid_size),
            numerology=Numerology.for_carrier(round(ch.scs_hz / 1e3), ch.n_prb, ch.subband_prb))
        sb_prbs = [min(ch.subband_prb, ch.n_prb - k * ch.subband_prb)
                   for k in range(ch.n_subbands)]
        self._scheduler = ProportionalFairScheduler(
            cfg.n_ues, sb_prbs, ch.scs_hz, cfg.slot_ms / 1e3, cfg.pf_time_constant_slots)
        self._noise_dbm = noise_per_re_dbm(ch)
        self.book = RecommendationBook(cfg.n_ues)
        self.board = Scoreboard(cfg.n_ues)
        self._last: UeCsi | None = None
        # Wall time spent per phase of `step` [s], summed over steps (for benchmarks and
        # live summaries): channel (advance + snapshot), csi (RI/PMI/beam searches of the
        # UE estimates and, when scoring, of the true channels), scoring, kpm, reports.
        self.phase_s: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        # The same split in CPU time of the stepping thread (a busy machine inflates wall
        # time; the channel drop's background draws are not in it).
        self.phase_cpu_s: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self._steps = 0
        self.time_ms = 0.0

    @property
    def report_slot(self) -> int:
        """The absolute slot of the latest reports."""
        return round(self.time_ms / self.cfg.slot_ms)

    def step(self) -> CellStep:
        """Advance one report period (none before the first) and report (module docstring)."""
        lap = _Laps(self.phase_s, self.phase_cpu_s)
        if self._steps:
            self._drop.advance(self.cfg.report_period_ms / 1e3)
            self.time_ms = float(self._steps * self.cfg.report_period_ms)
        self._steps += 1
        snap = self._drop.snapshot()
        lap("channel")
        scoring = self.cfg.scoring and self._last is not None
        # One search over the UE estimates and (when scoring) the true channels together:
        # one call's fixed overhead instead of two.
        # The per-precoder SE tables of the true channel also score the applied choices.
        both = torch.stack([snap.h_ue_est, snap.h_true]) if scoring else snap.h_ue_est[None]
        tables = subband_se_tables(self.codebook, both)
        sel = select_from_tables(self.codebook, tables)
        rsrp = beam_rsrp_db(both, self.grid)
        csi = from_measurements(_take(sel, 0), rsrp[0], self.cfg.top_k_beams,
                                self.cfg.cqi_table, self._noise_dbm, n_rx=both.shape[-2])
        lap("csi")
        scores = None
        if scoring:
            true_tables = {r: t[1] for r, t in tables.items()}
            scores, applied_rank, applied_sb_se = self._score(true_tables, _take(sel, 1),
                                                              rsrp[1])
        else:  # the gNB serves what was last reported (this report at the first step)
            legacy = self._last or csi
            applied_rank = legacy.ri
            applied_sb_se = subband_se_of(self.codebook, snap.h_true, legacy.ri, legacy.pmi)
        lap("scoring")
        period_s = self.cfg.report_period_ms / 1e3
        alloc = self._scheduler.schedule(applied_sb_se, self.cfg.slots_per_report)
        per_ue = ue_kpm(alloc, period_s, applied_rank, self.max_layers, csi.beam_rsrp_dbm[:, 0],
                        csi.sinr_db)
        cell = cell_kpm(alloc, period_s, self.cfg.channel.n_prb, applied_rank, self.max_layers)
        hist = cqi_rank_histogram(csi.cqi_wb, csi.ri, self.cfg.cqi_table)
        self._last = csi
        lap("kpm")
        reports = to_reports(csi, self.ue_ids, self.report_slot, self.cfg.channel.n_tx,
                             snap.h_gnb_est if self.cfg.channel_estimate else None)
        lap("reports")
        return CellStep(
            time_ms=self.time_ms, report_slot=self.report_slot, reports=reports,
            ue_kpm=dict(zip(self.ue_ids, per_ue, strict=True)), cell_kpm=cell,
            cell_kpm_binned={WB_CQI_DIST: {k: float(v) for k, v in hist.items()}},
            definition=self.definition, scores=scores, snapshot=snap)

    def _score(self, true_tables: dict[int, torch.Tensor], oracle: CsiSelection,
               rsrp: torch.Tensor) -> tuple[StepScores, torch.Tensor, torch.Tensor]:
        """Score the applied choices at this instant given the SE of every precoder on the
        true channel (`subband_se_tables`), the oracle search on it and the true beam RSRPs
        [n_ue, n_beams]; also return the applied ranks and their per-subband SE on the true
        channel (for the scheduler)."""
        last = self._last
        assert last is not None
        chosen = self.book.choices_at(self.time_ms, last.ri, last.pmi, last.best_beam)
        sb_legacy = lookup_subband_se(true_tables, last.ri, last.pmi)
        sb_xapp = lookup_subband_se(true_tables, chosen.rank, chosen.pmi) \
            if bool(chosen.from_recommendation.any()) else sb_legacy
        best_rsrp, best_beam = rsrp.max(-1)

        def loss(beam: torch.Tensor) -> torch.Tensor:
            return best_rsrp - rsrp.gather(1, beam[:, None])[:, 0]

        scores = StepScores(
            time_ms=self.time_ms, se_legacy=sb_legacy.mean(-1), se_xapp=sb_xapp.mean(-1),
            se_oracle=oracle.se, active=chosen.from_recommendation, oracle_rank=oracle.ri,
            oracle_pmi=oracle.pmi, oracle_beam=best_beam,
            beam_loss_legacy_db=loss(last.best_beam), beam_loss_xapp_db=loss(chosen.beam))
        self.board.add(scores)
        return scores, chosen.rank, sb_xapp

    def apply(self, recommendations: list[Recommendation] | tuple[Recommendation, ...],
              now_ms: float) -> ApplyResult:
        """Take recommendations received at simulated time ``now_ms`` (see `scoring`)."""
        accepted, rejected = 0, []
        slot = self.cfg.slot_ms
        for rec in recommendations:
            problem = self._check(rec)
            if problem is not None:
                rejected.append(Rejection(rec.ue_id, *problem))
                self.book.counts.received += 1
                self.book.counts.rejected += 1
                continue
            i13 = rec.pmi.i13 or 0
            pmi = int(self.codebook.indices_to_pmi(rec.rank, torch.tensor(rec.pmi.i11),
                                                   torch.tensor(rec.pmi.i12), torch.tensor(i13),
                                                   torch.tensor(rec.pmi.i2)))
            begin = rec.apply_from_slot * slot
            validity = rec.validity_ms or self.cfg.default_validity_ms
            start = max(now_ms + self.cfg.control_delay_ms, begin)
            beam = -1 if rec.beam_index is None else rec.beam_index
            if self.book.add(rec.ue_id, start, begin + validity, rec.rank, pmi, beam):
                accepted += 1
            else:
                rejected.append(Rejection(rec.ue_id, RejectReason.EXPIRED,
                                          "expires before the control delay has passed"))
        return ApplyResult(accepted, tuple(rejected))

    def _check(self, rec: Recommendation) -> tuple[RejectReason, str] | None:
        if rec.cell != self.cfg.cell_id:
            return RejectReason.OTHER, "recommendation for another cell"
        if not 0 <= rec.ue_id < self.cfg.n_ues:
            return RejectReason.UNKNOWN_UE, f"no UE {rec.ue_id} in this cell"
        if not 1 <= rec.rank <= self.max_layers:
            return RejectReason.OUT_OF_RANGE, f"rank {rec.rank} outside 1..{self.max_layers}"
        r = self.codebook.ranges(rec.rank)
        parts = (rec.pmi.i11, rec.pmi.i12, rec.pmi.i13 or 0, rec.pmi.i2)
        if any(not 0 <= p < n for p, n in zip(parts, (r.n_i11, r.n_i12, r.n_i13, r.n_i2),
                                                 strict=True)):
            return RejectReason.OUT_OF_RANGE, "PMI outside the cell's codebook"
        if rec.beam_index is not None and not 0 <= rec.beam_index < self.grid.n_beams:
            return RejectReason.OUT_OF_RANGE, f"beam {rec.beam_index} outside the grid"
        return None

    def scoreboard(self) -> dict[str, Any]:
        """JSON-able running totals (see `scoring.Scoreboard.as_dict`), plus time."""
        out = self.board.as_dict(self.book.counts, self.ue_ids)
        out["time_ms"] = self.time_ms
        return out

    @property
    def channel_drop(self) -> ChannelDrop:
        """The cell's UE channels (for benchmarks and tests)."""
        return self._drop

    def legacy_csi(self) -> UeCsi | None:
        """The UEs' latest reports as tensors (None before the first step)."""
        return self._last


class _Laps:
    """Adds the wall and thread CPU time since the previous lap to ``wall[name]`` and
    ``cpu[name]``."""

    def __init__(self, wall: dict[str, float], cpu: dict[str, float]) -> None:
        self.wall, self.cpu = wall, cpu
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()

    def __call__(self, name: str) -> None:
        now, now_cpu = time.perf_counter(), time.thread_time()
        self.wall[name] += now - self.last
        self.cpu[name] += now_cpu - self.last_cpu
        self.last, self.last_cpu = now, now_cpu


def _take(sel: CsiSelection, index: int) -> CsiSelection:
    """The part ``index`` of a search over stacked channel sets (leading dim)."""
    return CsiSelection(**{f.name: getattr(sel, f.name)[index] for f in fields(sel)})
