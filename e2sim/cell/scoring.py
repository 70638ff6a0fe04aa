"""The closed loop's bookkeeping: which recommendation acts when, and what it scores.

Timing (RADIO.md section 7): a recommendation received at ``now_ms`` acts from
``start = max(now_ms + control_delay_ms, apply_from_slot * slot_ms)`` until
``end = apply_from_slot * slot_ms + validity_ms``; one with ``start >= end`` is *late*
and never acts. At a scoring instant t the gNB uses the newest (by arrival) recommendation
of the UE with ``start <= t < end`` and otherwise the UE's last report (legacy). A
recommendation that acted at least once is *applied*; when its end passes it is *expired*
if it was still the newest, *superseded* if a newer one had taken over; one that never
acted before its end is *unused*.

Scores (RADIO.md section 6): at every scoring instant and for every UE, the SE on the TRUE
channel of (a) the legacy choice, (b) the choice in effect (the recommendation when one is
active, else legacy), (c) the oracle (best RI/PMI on the true channel), and the true RSRP
loss of the beam in use against the best beam. :class:`Scoreboard` keeps the running
totals per cell and per UE and renders them as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class ActiveRecommendation:
    """A recommendation accepted by the cell, in flat codebook terms."""

    arrival: int  # arrival order (newest wins)
    start_ms: float
    end_ms: float
    rank: int
    pmi: int  # flat PMI index at ``rank``
    beam: int  # -1: keep the UE's reported beam
    applied: bool = False


@dataclass
class Choices:
    """The (rank, flat PMI, beam) in effect per UE: [n_ue] int64 each, and which UEs follow
    a recommendation (``from_recommendation`` [n_ue] bool)."""

    rank: torch.Tensor
    pmi: torch.Tensor
    beam: torch.Tensor
    from_recommendation: torch.Tensor


@dataclass
class LifecycleCounts:
    received: int = 0
    rejected: int = 0
    late: int = 0
    applied: int = 0
    expired: int = 0
    superseded: int = 0
    unused: int = 0


class RecommendationBook:
    """Pending and active recommendations of every UE of one cell."""

    def __init__(self, n_ue: int) -> None:
        self._by_ue: list[list[ActiveRecommendation]] = [[] for _ in range(n_ue)]
        self._arrivals = 0
        self.counts = LifecycleCounts()

    def add(self, ue: int, start_ms: float, end_ms: float, rank: int, pmi: int,
            beam: int) -> bool:
        """Accept one recommendation; False (and counted late) when it can never act."""
        self.counts.received += 1
        if start_ms >= end_ms:
            self.counts.late += 1
            return False
        self._arrivals += 1
        self._by_ue[ue].append(ActiveRecommendation(self._arrivals, start_ms, end_ms, rank,
                                                    pmi, beam))
        return True

    def choices_at(self, t_ms: float, legacy_rank: torch.Tensor, legacy_pmi: torch.Tensor,
                   legacy_beam: torch.Tensor) -> Choices:
        """The choice in effect at ``t_ms`` for every UE; retires what has ended."""
        rank, pmi, beam = legacy_rank.clone(), legacy_pmi.clone(), legacy_beam.clone()
        follows = torch.zeros(rank.shape[0], dtype=torch.bool)
        for u, recs in enumerate(self._by_ue):
            if not recs:
                continue
            acting = [r for r in recs if r.start_ms <= t_ms < r.end_ms]
            newest = max(acting, key=lambda r: r.arrival) if acting else None
            kept = []
            for rec in recs:
                if newest is not None and rec.arrival < newest.arrival and (
                        rec.applied or rec.start_ms <= t_ms):
                    self.counts.superseded += 1  # a newer one acts now
                elif rec.end_ms <= t_ms:
                    if rec.applied:
                        self.counts.expired += 1
                    else:
                        self.counts.unused += 1
                else:
                    kept.append(rec)
            self._by_ue[u] = kept
            if newest is not None:
                if not newest.applied:
                    newest.applied = True
                    self.counts.applied += 1
                rank[u], pmi[u], follows[u] = newest.rank, newest.pmi, True
                if newest.beam >= 0:
                    beam[u] = newest.beam
        return Choices(rank, pmi, beam, follows)


@dataclass
class StepScores:
    """Scores of one scoring instant, per UE ([n_ue] tensors).

    se_legacy, se_xapp, se_oracle: bit/s/Hz on the true channel; se_xapp equals se_legacy
    where no recommendation acts (``active`` False). oracle_rank / oracle_pmi: the best
    choice on the true channel; oracle_beam: the strongest beam by true RSRP;
    beam_loss_legacy_db / beam_loss_xapp_db: true RSRP of the best beam minus that of the
    beam in use [dB] (>= 0).
    """

    time_ms: float
    se_legacy: torch.Tensor
    se_xapp: torch.Tensor
    se_oracle: torch.Tensor
    active: torch.Tensor
    oracle_rank: torch.Tensor
    oracle_pmi: torch.Tensor
    oracle_beam: torch.Tensor
    beam_loss_legacy_db: torch.Tensor
    beam_loss_xapp_db: torch.Tensor


def _gap_closed(xapp: float, legacy: float, oracle: float) -> float | None:
    room = oracle - legacy
    return (xapp - legacy) / room if room > 1e-9 else None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@dataclass
class Scoreboard:
    """Running totals of the closed loop for one cell (sums over UEs and instants)."""

    n_ue: int
    reports: int = 0  # scored (UE, instant) pairs
    active_reports: int = 0  # of which a recommendation acted
    instants: int = 0
    se_legacy: torch.Tensor = field(init=False)
    se_xapp: torch.Tensor = field(init=False)
    se_oracle: torch.Tensor = field(init=False)
    count: torch.Tensor = field(init=False)
    beam_loss_legacy: float = 0.0
    beam_loss_xapp: float = 0.0
    beam_hits_legacy: int = 0
    beam_hits_xapp: int = 0

    def __post_init__(self) -> None:
        self.se_legacy = torch.zeros(self.n_ue, dtype=torch.float64)
        self.se_xapp = torch.zeros(self.n_ue, dtype=torch.float64)
        self.se_oracle = torch.zeros(self.n_ue, dtype=torch.float64)
        self.count = torch.zeros(self.n_ue, dtype=torch.int64)

    def add(self, s: StepScores) -> None:
        self.instants += 1
        self.reports += self.n_ue
        self.active_reports += int(s.active.sum())
        self.se_legacy += s.se_legacy.double()
        self.se_xapp += s.se_xapp.double()
        self.se_oracle += s.se_oracle.double()
        self.count += 1
        self.beam_loss_legacy += float(s.beam_loss_legacy_db.double().sum())
        self.beam_loss_xapp += float(s.beam_loss_xapp_db.double().sum())
        self.beam_hits_legacy += int((s.beam_loss_legacy_db <= 0).sum())
        self.beam_hits_xapp += int((s.beam_loss_xapp_db <= 0).sum())

    def as_dict(self, counts: LifecycleCounts, ue_ids: list[int]) -> dict[str, Any]:
        """JSON-able totals: mean SE per scored report, ratios, gap closed, beam figures,
        recommendation counts, and per-UE means."""
        n = max(self.reports, 1)
        legacy, xapp, oracle = (float(x.sum()) / n for x in
                                (self.se_legacy, self.se_xapp, self.se_oracle))
        per_ue = {}
        for u, ue_id in enumerate(ue_ids):
            c = max(int(self.count[u]), 1)
            leg, xa, orc = (float(x[u]) / c for x in
                            (self.se_legacy, self.se_xapp, self.se_oracle))
            per_ue[str(ue_id)] = {"se_legacy": leg, "se_xapp": xa, "se_oracle": orc,
                                  "gap_closed": _gap_closed(xa, leg, orc)}
        return {
            "instants": self.instants,
            "reports": self.reports,
            "reports_with_recommendation": self.active_reports,
            "se_legacy": legacy,
            "se_xapp": xapp,
            "se_oracle": oracle,
            "ratio_legacy": _ratio(legacy, oracle),
            "ratio_xapp": _ratio(xapp, oracle),
            "gap_closed": _gap_closed(xapp, legacy, oracle),
            "beam_rsrp_loss_legacy_db": self.beam_loss_legacy / n,
            "beam_rsrp_loss_xapp_db": self.beam_loss_xapp / n,
            "beam_top1_legacy": self.beam_hits_legacy / n,
            "beam_top1_xapp": self.beam_hits_xapp / n,
            "recommendations": dict(vars(counts)),
            "per_ue": per_ue,
        }
