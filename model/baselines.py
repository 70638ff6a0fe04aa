"""The classical baselines of RADIO.md section 5, on the same evaluation samples as the model.

Every baseline maps a :class:`LinkSamples` batch (one antenna configuration, N UE windows)
to a :class:`Choice` of (rank, PMI, beam) per sample, vectorised over the batch:

- ``persistence``: the last UE report (``legacy.*``), 3GPP's "nearest historical CSI".
- ``mode``: the most frequent rank of the last W reports, then the most frequent PMI among
  the reports at that rank, and the most frequent beam; ties go to the most recent value.
- ``snr-rule``: rank from the last reported L1-SINR through fixed thresholds
  (:data:`SNR_THRESHOLDS_DB`, fitted on training data with :func:`fit_snr_thresholds`);
  PMI from the last report when it is at that rank, else the exhaustive search's best PMI
  at that rank on the latest channel estimate; beam from the last report.
- ``search``: exhaustive RI/PMI search (``e2sim.csi.select_csi``, the function the xApp's
  ClassicalPredictor uses) and the strongest DFT beam on the latest channel estimate.
- ``ar-search``: AR(p) prediction of the channel at the horizon from the estimate history
  (:func:`ar_predict_validated`), then the same search on the predicted channel.
- ``oracle``: the labels (best choice on the true channel at apply time), the upper bound.

AR prediction is in model.channel_prediction (the choices made are documented there).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from e2sim.csi import DftBeamGrid, TypeICodebook, beam_rsrp_db, select_csi
from e2sim.csi.selection import CsiSelection
from model.channel_prediction import AR_MAX_ORDER, ar_predict_validated

# L1-SINR (dB) from which rank 2, 3, 4 is chosen. The rank-2 threshold was fitted with
# fit_snr_thresholds on the training shards (/work/data/train, 82,880 windows, 10 ms labels:
# 2.03 dB, 92 % rank accuracy). Ranks 3-4 never occur in training (2 receive antennas), so
# theirs are unfitted guesses (about 7 dB more per added layer), not measurements.
SNR_THRESHOLDS_DB = (2.0, 9.0, 16.0)
MODE_WINDOW = 4
MAX_RANK = 4


@dataclass(frozen=True)
class LinkSamples:
    """N UE windows of ONE antenna configuration: what the baselines may read.

    Attributes:
        codebook, grid: the cell's Type-I codebook and DFT beam grid.
        report_period_ms: time between two slots of the window.
        ri: [N, T] reported rank 1..4 per slot (oldest first), 0 where not reported.
        pmi: [N, T] flat PMI at that slot's rank, -1 where not reported.
        beam: [N, T] reported strongest beam, -1 where not reported.
        h_est: [N, T, n_sb, n_rx, n_tx] complex64 channel estimates (noise-whitened).
        h_valid: [N, T] bool, True where the slot's estimate is complete.
        sinr_db: [N] last reported L1-SINR in dB (NaN where absent).
        reported_rsrp: [N, n_beams] last reported L1-RSRP per beam, -inf where not reported.
        legacy_ri, legacy_pmi, legacy_beam: [N] the last report.
    """

    codebook: TypeICodebook
    grid: DftBeamGrid
    report_period_ms: float
    ri: torch.Tensor
    pmi: torch.Tensor
    beam: torch.Tensor
    h_est: torch.Tensor
    h_valid: torch.Tensor
    sinr_db: torch.Tensor
    reported_rsrp: torch.Tensor
    legacy_ri: torch.Tensor
    legacy_pmi: torch.Tensor
    legacy_beam: torch.Tensor

    @property
    def size(self) -> int:
        return int(self.legacy_ri.shape[0])

    @property
    def max_rank(self) -> int:
        """Highest rank the antennas and the codebook allow."""
        return min(self.codebook.max_rank, int(self.h_est.shape[-2]), int(self.h_est.shape[-1]))

    @classmethod
    def from_shard(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                   codebook: TypeICodebook | None = None,
                   grid: DftBeamGrid | None = None) -> LinkSamples:
        """The samples of one shard (``e2sim.dataset.load_shard``), made with channel
        estimates; ``codebook``/``grid`` reuse already built ones of the same antennas."""
        if "x.csi.h_est" not in tensors:
            raise ValueError("the shard has no channel estimates (make it with "
                             "channel_estimate=True)")
        ant = meta["antennas"]
        codebook = codebook or codebook_of(ant)
        grid = grid or grid_of(ant)
        sb, rx, tx = int(ant["n_subbands"]), int(ant["n_rx"]), int(ant["n_tx"])
        ri_ok = tensors["m.csi.ri"]
        ri = torch.where(ri_ok, tensors["x.csi.ri"] + 1, 0)
        parts = tuple(tensors[f"x.csi.pmi_{p}"] for p in ("i11", "i12", "i13", "i2"))
        pmi_ok = ri_ok & tensors["m.csi.pmi_i11"] & tensors["m.csi.pmi_i2"]
        beam = torch.where(tensors["m.csi.beam_id"], tensors["x.csi.beam_id"], -1)
        rsrp = tensors["x.csi.beam_rsrp"][:, -1, :grid.n_beams]
        rsrp = torch.where(tensors["m.csi.beam_rsrp"][:, -1, :grid.n_beams], rsrp,
                           float("-inf"))
        sinr = torch.where(tensors["m.csi.sinr_db"][:, -1], tensors["x.csi.sinr_db"][:, -1],
                           float("nan"))
        return cls(
            codebook=codebook, grid=grid,
            report_period_ms=float(meta["spec"]["report_period_ms"]),
            ri=ri, pmi=flat_pmi(codebook, ri, parts, pmi_ok), beam=beam,
            h_est=tensors["x.csi.h_est"][:, :, :sb, :rx, :tx].contiguous(),
            h_valid=tensors["m.csi.h_est"][:, :, :sb, :rx, :tx].flatten(2).all(-1),
            sinr_db=sinr, reported_rsrp=rsrp,
            legacy_ri=tensors["legacy.ri"], legacy_pmi=tensors["legacy.pmi"],
            legacy_beam=tensors["legacy.beam"])

    def take(self, rows: torch.Tensor) -> LinkSamples:
        """The samples at ``rows`` ([k] int64 or [N] bool)."""
        kw: dict[str, Any] = {}
        for name in ("ri", "pmi", "beam", "h_est", "h_valid", "sinr_db", "reported_rsrp",
                     "legacy_ri", "legacy_pmi", "legacy_beam"):
            kw[name] = getattr(self, name)[rows]
        return replace(self, **kw)


@dataclass(frozen=True)
class Choice:
    """What a method decides for N samples.

    Attributes:
        ri: [N] rank 1..4. pmi: [N] flat PMI at that rank. beam: [N] beam index.
        rank_order: [N, R] ranks best first (for top-k), or None (top-k = top-1).
        beam_order: [N, K] beams best first, -1 padded, or None.
        rank_probs: [N, 4] probabilities of rank 1..4 (models only, for calibration).
        beam_probs: [N, n_beams] beam probabilities (models only).
    """

    ri: torch.Tensor
    pmi: torch.Tensor
    beam: torch.Tensor
    rank_order: torch.Tensor | None = None
    beam_order: torch.Tensor | None = None
    rank_probs: torch.Tensor | None = None
    beam_probs: torch.Tensor | None = None


def codebook_of(antennas: dict[str, Any]) -> TypeICodebook:
    """The Type-I codebook of a shard's ``antennas`` header block."""
    if int(antennas["n_tx"]) == 2:
        return TypeICodebook(2)
    n1, n2 = antennas["panel"]
    o1, o2 = antennas["oversampling"]
    return TypeICodebook(int(antennas["n_tx"]), n1, n2, o1, o2)


def grid_of(antennas: dict[str, Any]) -> DftBeamGrid:
    """The DFT beam grid of a shard's ``antennas`` header block (as the cell builds it)."""
    n1, n2 = antennas["panel"]
    return DftBeamGrid.with_size(int(antennas["n_beams"]), n1, n2)


def flat_pmi(codebook: TypeICodebook, ri: torch.Tensor, parts: tuple[torch.Tensor, ...],
             valid: torch.Tensor) -> torch.Tensor:
    """Flat PMI of (i11, i12, i13, i2) at ranks ``ri`` (any equal shapes); -1 where not
    ``valid`` or where a part is outside the codebook's range at that rank."""
    out = torch.full_like(ri, -1)
    for r in range(1, codebook.max_rank + 1):
        rng = codebook.ranges(r)
        at = valid & (ri == r)
        for value, count in zip(parts, (rng.n_i11, rng.n_i12, rng.n_i13, rng.n_i2),
                                strict=True):
            at &= (value >= 0) & (value < count)
        if bool(at.any()):
            out[at] = codebook.indices_to_pmi(r, *(p[at] for p in parts))
    return out


# ---------------------------------------------------------------------------- baselines
def persistence(s: LinkSamples) -> Choice:
    """The last report; beams ranked by the last reported RSRPs."""
    order = s.reported_rsrp.argsort(-1, descending=True)
    order = torch.where(s.reported_rsrp.gather(-1, order).isfinite(), order, -1)
    return Choice(s.legacy_ri, s.legacy_pmi, s.legacy_beam, beam_order=order)


def _mode(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Most frequent valid value per row of [N, W]; ties -> the latest; -1 if none valid."""
    w = values.shape[-1]
    same = (values[:, :, None] == values[:, None, :]) & valid[:, None, :]  # [N, W, W]
    count = same.sum(-1)  # occurrences of each position's value
    score = torch.where(valid, count * w + torch.arange(w), -1)  # count first, then recency
    best = score.argmax(-1)
    picked = values.gather(1, best[:, None])[:, 0]
    return torch.where(valid.any(-1), picked, -1)


def mode_of_last(s: LinkSamples, window: int = MODE_WINDOW) -> Choice:
    """Mode of the last ``window`` reports (module docstring); falls back to persistence
    where a window holds no valid report."""
    ri, pmi, beam = s.ri[:, -window:], s.pmi[:, -window:], s.beam[:, -window:]
    rank = _mode(ri, ri > 0)
    p = _mode(pmi, (pmi >= 0) & (ri == rank[:, None]))
    b = _mode(beam, beam >= 0)
    ok = (rank > 0) & (p >= 0)
    return Choice(torch.where(ok, rank, s.legacy_ri), torch.where(ok, p, s.legacy_pmi),
                  torch.where(b >= 0, b, s.legacy_beam))


def search_latest(s: LinkSamples) -> tuple[Choice, CsiSelection]:
    """Exhaustive search and strongest beam on the latest estimate (persistence where the
    latest slot has none). Also returns the search itself (the SNR rule reuses it)."""
    sel = select_csi(s.codebook, s.h_est[:, -1])
    rsrp = beam_rsrp_db(s.h_est[:, -1], s.grid)
    return _from_search(s, sel, rsrp, s.h_valid[:, -1]), sel


def _from_search(s: LinkSamples, sel: CsiSelection, rsrp: torch.Tensor,
                 ok: torch.Tensor) -> Choice:
    rank_order = sel.se_per_rank.argsort(dim=-1, descending=True, stable=True) + 1
    beam_order = rsrp.argsort(-1, descending=True)
    return Choice(torch.where(ok, sel.ri, s.legacy_ri), torch.where(ok, sel.pmi, s.legacy_pmi),
                  torch.where(ok, beam_order[:, 0], s.legacy_beam),
                  rank_order=rank_order, beam_order=beam_order)


def snr_rank(sinr_db: torch.Tensor, max_rank: int,
             thresholds_db: tuple[float, ...] = SNR_THRESHOLDS_DB) -> torch.Tensor:
    """Rank 1 + (thresholds passed), capped at ``max_rank``: [N] int64 (rank 1 for NaN)."""
    thr = torch.tensor(thresholds_db, dtype=sinr_db.dtype)
    rank = 1 + (sinr_db[:, None] >= thr[None, :]).sum(-1)
    return rank.clamp(max=max_rank).to(torch.int64)


def snr_rule(s: LinkSamples, search: CsiSelection | None = None,
             thresholds_db: tuple[float, ...] = SNR_THRESHOLDS_DB) -> Choice:
    """Rank from the SINR thresholds, PMI from the last report at that rank or the search."""
    rank = snr_rank(s.sinr_db, s.max_rank, thresholds_db)
    if search is None:
        search = select_csi(s.codebook, s.h_est[:, -1])
    searched = search.pmi_per_rank.gather(1, (rank - 1)[:, None])[:, 0]
    pmi = torch.where(rank == s.legacy_ri, s.legacy_pmi, searched)
    return Choice(rank, pmi, s.legacy_beam)


def fit_snr_thresholds(sinr_db: torch.Tensor, ri: torch.Tensor,
                       max_rank: int = MAX_RANK) -> tuple[float, ...]:
    """Thresholds (non-decreasing) for :func:`snr_rank` from labelled samples.

    Threshold k separates "rank <= k" from "rank > k": the cut with the most correct
    decisions over the observed SINRs (where P(rank > k | SINR) crosses one half, the
    Bayes rule for a single threshold). Where the data hold no sample
    on one side, :data:`SNR_THRESHOLDS_DB` keeps its constant. A running maximum makes the
    thresholds monotone.

    Args:
        sinr_db: [N] reported SINR (dB); ri: [N] label rank 1..4.
    """
    keep = sinr_db.isfinite()
    x, y = sinr_db[keep].double(), ri[keep]
    out: list[float] = []
    for k in range(1, max_rank):
        above = y > k
        n_pos, n_neg = int(above.sum()), int((~above).sum())
        if n_pos == 0 or n_neg == 0:
            out.append(SNR_THRESHOLDS_DB[k - 1])
            continue
        order = x.argsort()
        xs, pos = x[order], above[order].double()
        # cut between xs[i-1] and xs[i]: predict "above" for xs[i:], i = 0..N
        pos_below = torch.cat([torch.zeros(1, dtype=torch.float64), pos.cumsum(0)])
        neg_below = torch.arange(len(xs) + 1, dtype=torch.float64) - pos_below
        correct = (n_pos - pos_below) + neg_below
        i = int(correct.argmax())
        cut = xs[0] - 1.0 if i == 0 else (xs[i - 1] + xs[min(i, len(xs) - 1)]) / 2
        out.append(float(cut))
    for k in range(1, len(out)):
        out[k] = max(out[k], out[k - 1])
    return tuple(out)


def ar_search(s: LinkSamples, horizon_ms: float, max_order: int = AR_MAX_ORDER) -> Choice:
    """Search and strongest beam on the AR-predicted channel at ``horizon_ms`` (order
    chosen per UE by :func:`ar_predict_validated`)."""
    h = ar_predict_validated(s.h_est, s.h_valid, horizon_ms / s.report_period_ms, max_order)
    sel = select_csi(s.codebook, h)
    return _from_search(s, sel, beam_rsrp_db(h, s.grid), s.h_valid[:, -1])


def oracle_choice(ri: torch.Tensor, pmi: torch.Tensor, beam: torch.Tensor,
                  beam_rsrp_db: torch.Tensor | None = None) -> Choice:
    """The labels as a choice (the upper bound)."""
    order = None if beam_rsrp_db is None else beam_rsrp_db.argsort(-1, descending=True)
    return Choice(ri, pmi, beam, beam_order=order)


BASELINES = ("persistence", "mode", "snr-rule", "search", "ar-search")


def all_baselines(s: LinkSamples, horizons_ms: tuple[float, ...],
                  thresholds_db: tuple[float, ...] = SNR_THRESHOLDS_DB,
                  ar_max_order: int = AR_MAX_ORDER) -> dict[str, dict[float, Choice]]:
    """Every baseline (oracle aside) per horizon: name -> horizon -> Choice.

    Only ``ar-search`` depends on the horizon; the others are the same object for each.
    """
    searched, sel = search_latest(s)
    fixed = {"persistence": persistence(s), "mode": mode_of_last(s),
             "snr-rule": snr_rule(s, sel, thresholds_db), "search": searched}
    out = {name: dict.fromkeys(horizons_ms, c) for name, c in fixed.items()}
    out["ar-search"] = {h: ar_search(s, h, ar_max_order) for h in horizons_ms}
    return out
