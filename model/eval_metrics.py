"""Scoring functions of `linkfm evaluate` (RADIO.md section 6), on per-sample tensors.

Everything takes flat [N] (or [N, K]) tensors of one group of samples and returns Python
floats, so a breakdown is the same call on a boolean row mask. Ratios are of sums (not
means of per-sample ratios): a sample with a larger oracle SE weighs more, as in the cell.
An undefined value (empty group, zero denominator) is NaN, written to JSON as null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from model.calibration import expected_calibration_error

NAN = float("nan")

# Speed bins (km/h): [lo, hi) named by their centre as the targets name them.
SPEED_BINS: tuple[tuple[str, float, float], ...] = (
    ("5", 0.0, 15.0), ("30", 15.0, 45.0), ("60", 45.0, 90.0), ("120", 90.0, math.inf))
# SNR bins (dB, meta.snr_db: the drop's configured SNR).
SNR_BINS: tuple[tuple[str, float, float], ...] = (
    ("<5", -math.inf, 5.0), ("5-10", 5.0, 10.0), ("10-15", 10.0, 15.0),
    ("15-20", 15.0, 20.0), (">=20", 20.0, math.inf))


def bin_masks(values: torch.Tensor, bins: tuple[tuple[str, float, float], ...]
              ) -> dict[str, torch.Tensor]:
    """name -> bool [N] rows with lo <= value < hi."""
    return {name: (values >= lo) & (values < hi) for name, lo, hi in bins}


def accuracy(pred: torch.Tensor, label: torch.Tensor) -> float:
    """Share of pred == label."""
    if pred.numel() == 0:
        return NAN
    return float((pred == label).double().mean())


def balanced_accuracy(pred: torch.Tensor, label: torch.Tensor) -> float:
    """Mean over the classes present in ``label`` of the recall of that class."""
    classes = torch.unique(label)
    if classes.numel() == 0:
        return NAN
    recalls = [float((pred[label == c] == c).double().mean()) for c in classes]
    return sum(recalls) / len(recalls)


def top_k_hit(order: torch.Tensor | None, pred: torch.Tensor, label: torch.Tensor,
              k: int) -> torch.Tensor:
    """bool [N]: label among the first k of ``order`` [N, K] (best first); without an
    order only the single choice ``pred`` counts."""
    if order is None:
        return pred == label
    return (order[:, :k] == label[:, None]).any(-1)


def se_ratio(se: torch.Tensor, se_oracle: torch.Tensor) -> float:
    """Sum of achieved SE over sum of oracle SE."""
    den = float(se_oracle.double().sum())
    return float(se.double().sum()) / den if den > 0 else NAN


def gap_closed(se: torch.Tensor, se_persistence: torch.Tensor, se_oracle: torch.Tensor) -> float:
    """(SE - SE_persistence) / (SE_oracle - SE_persistence), sums over the samples: the
    share of what persistence leaves on the table that the method recovers."""
    gap = float((se_oracle.double() - se_persistence.double()).sum())
    if not gap > 1e-9 * max(float(se_oracle.double().abs().sum()), 1e-30):
        return NAN
    return float((se.double() - se_persistence.double()).sum()) / gap


def beam_hit(rsrp_db: torch.Tensor, beams: torch.Tensor, tol_db: float = 1e-4) -> torch.Tensor:
    """bool [N]: one of ``beams`` [N, k] (-1 = none) is a best beam of rsrp [N, B], i.e.
    within ``tol_db`` of the maximum. Ties count as hits: on a 2-port array every beam of the
    grid is the same beam, and which index an argmax returns says nothing."""
    got = rsrp_db.gather(1, beams.clamp(0, rsrp_db.shape[1] - 1))
    got = torch.where(beams >= 0, got, -torch.inf)
    return got.max(-1).values >= rsrp_db.max(-1).values - tol_db


def rsrp_loss_db(rsrp_db: torch.Tensor, beam: torch.Tensor) -> torch.Tensor:
    """Per-sample loss [N] (dB) of using ``beam`` [N] instead of the best of rsrp [N, B]."""
    used = rsrp_db.gather(1, beam.clamp(0, rsrp_db.shape[1] - 1)[:, None])[:, 0]
    return rsrp_db.max(-1).values - used


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram: per confidence bin, the mean confidence, accuracy and count."""

    ece: float
    confidence: list[float]
    accuracy: list[float]
    count: list[int]


def reliability(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> Reliability:
    """ECE (model.calibration) and the diagram of class probabilities [N, K] vs labels [N]."""
    if labels.numel() == 0:
        return Reliability(NAN, [], [], [])
    conf, pred = probs.max(-1)
    correct = (pred == labels).double()
    bins = torch.clamp((conf * n_bins).long(), max=n_bins - 1)
    count = torch.bincount(bins, minlength=n_bins)
    acc = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, correct)
    cnf = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, conf.double())
    safe = count.clamp_min(1)
    return Reliability(
        ece=expected_calibration_error(probs.float(), labels, n_bins),
        confidence=[float(x) if c else NAN for x, c in zip(cnf / safe, count, strict=True)],
        accuracy=[float(x) if c else NAN for x, c in zip(acc / safe, count, strict=True)],
        count=[int(c) for c in count])


@dataclass(frozen=True)
class Scored:
    """One method's decisions scored on N samples (every tensor [N]).

    Attributes:
        ri_ok, pmi_ok: rank right; rank and PMI right (the PMI is only right at the right
            rank). rank_top2: the oracle rank among the method's two best ranks.
        beam_top1, beam_top3: the chosen beam / one of the three best is a best beam
            (ties count, see :func:`beam_hit`).
        pred_ri, label_ri: for balanced accuracy.
        se: SE of the chosen (rank, PMI) on the true channel at apply time.
        rsrp_loss_db: true RSRP of the best beam minus that of the chosen beam.
    """

    ri_ok: torch.Tensor
    pmi_ok: torch.Tensor
    rank_top2: torch.Tensor
    beam_top1: torch.Tensor
    beam_top3: torch.Tensor
    pred_ri: torch.Tensor
    label_ri: torch.Tensor
    se: torch.Tensor
    rsrp_loss_db: torch.Tensor

    def take(self, rows: torch.Tensor) -> Scored:
        return Scored(**{k: v[rows] for k, v in self.__dict__.items()})

    @staticmethod
    def cat(parts: list[Scored]) -> Scored:
        return Scored(**{k: torch.cat([getattr(p, k) for p in parts])
                         for k in Scored.__dataclass_fields__})


def summarise(s: Scored, se_oracle: torch.Tensor, se_persistence: torch.Tensor
              ) -> dict[str, float]:
    """The metrics of one method on one group of samples (module docstring)."""
    n = int(s.se.numel())

    def mean(t: torch.Tensor) -> float:
        return float(t.double().mean()) if n else NAN

    return {
        "n": n,
        "ri_accuracy": mean(s.ri_ok),
        "pmi_accuracy": mean(s.pmi_ok),
        "rank_top2": mean(s.rank_top2),
        "ri_balanced_accuracy": balanced_accuracy(s.pred_ri, s.label_ri),
        "se_mean": mean(s.se),
        "se_ratio": se_ratio(s.se, se_oracle),
        "gap_closed": gap_closed(s.se, se_persistence, se_oracle),
        "beam_top1": mean(s.beam_top1),
        "beam_top3": mean(s.beam_top3),
        "rsrp_loss_db": mean(s.rsrp_loss_db),
        "within_1db": mean(s.rsrp_loss_db <= 1.0),
    }
