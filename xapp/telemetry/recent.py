"""The last few hundred records, in memory, for the built-in ``/dashboard`` page.

The telemetry writer appends here next to queueing points for InfluxDB, so the page shows
the loop even when no database is configured. Each ring is a bounded deque: appends are
O(1) and thread-safe in CPython; :meth:`RecentRecords.snapshot` copies them into the JSON
the page polls.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

from xapp.e2.recommendation import Recommendation
from xapp.telemetry.points import InputSummary, cell_tag


@dataclass(frozen=True)
class DecisionRecord:
    """One recommendation as the page plots it (``t``: Unix seconds, latency in ms)."""

    t: float
    e2_node: str
    cell: str
    ue_id: int
    rank: int
    pmi: str
    beam: int | None
    confidence_rank: float
    confidence_pmi: float
    confidence_beam: float | None
    reason: str
    latency_ms: float
    model_version: str
    reported_rank: int | None
    sinr_db: float | None


@dataclass(frozen=True)
class ScoreRecord:
    """One scoreboard sample: spectral efficiency (bit/s/Hz) legacy vs xApp vs oracle."""

    t: float
    e2_node: str
    cell: str
    se_legacy: float
    se_xapp: float
    se_oracle: float | None
    ues: int


def _pmi_text(rec: Recommendation) -> str:
    p = rec.pmi
    i1 = f"{p.i11},{p.i12}" + ("" if p.i13 is None else f",{p.i13}")
    return f"[{i1}] {p.i2}"


class RecentRecords:
    """Bounded rings of recent decisions and scoreboard samples."""

    def __init__(self, decisions: int = 500, scores: int = 300) -> None:
        self.decisions: deque[DecisionRecord] = deque(maxlen=decisions)
        self.scores: deque[ScoreRecord] = deque(maxlen=scores)
        self.total_decisions = 0

    def add_decision(self, rec: Recommendation, latency_s: float, summary: InputSummary,
                     t: float) -> None:
        beam = rec.beam_index
        self.decisions.append(DecisionRecord(
            t=t, e2_node=rec.e2_node, cell=cell_tag(rec.cell), ue_id=rec.ue_id, rank=rec.rank,
            pmi=_pmi_text(rec), beam=beam, confidence_rank=float(rec.confidence.rank),
            confidence_pmi=float(rec.confidence.pmi),
            confidence_beam=None if beam is None else float(rec.confidence.beam),
            reason=rec.reason.name.lower(), latency_ms=latency_s * 1e3,
            model_version=rec.model_version,
            reported_rank=None if rec.replaces is None else rec.replaces.rank,
            sinr_db=summary.sinr_db))
        self.total_decisions += 1

    def add_score(self, record: ScoreRecord) -> None:
        self.scores.append(record)

    def snapshot(self) -> dict[str, Any]:
        """The page's data: decisions and scores oldest first, plus the decision mix.

        ``mix`` counts the ring's decisions by reason and by rank (keys are strings).
        """
        decisions = list(self.decisions)
        return {
            "total_decisions": self.total_decisions,
            "decisions": [asdict(d) for d in decisions],
            "scores": [asdict(s) for s in list(self.scores)],
            "mix": {
                "reason": dict(Counter(d.reason for d in decisions)),
                "rank": {str(k): v for k, v in sorted(Counter(d.rank for d in decisions).items())},
            },
        }
