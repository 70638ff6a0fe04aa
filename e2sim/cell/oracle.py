"""The oracle (best choices on the TRUE channel) and how persistence scores against it.

Used for dataset labels and the persistence baseline of `linkfm bench sim`; the closed
loop's own scoring lives in `scoring`. RADIO.md sections 4-6.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from e2sim.csi import DftBeamGrid, TypeICodebook, beam_rsrp_db, cqi_report, se_of, select_csi


@dataclass(frozen=True)
class Oracle:
    """Best RI/PMI/beam of channels with batch shape ``[...]``.

    Attributes:
        ri, pmi, i11, i12, i13, i2: [...] int64 (dense PMI parts, i13 = 0 where absent).
        cqi: [...] int64 wideband CQI of the best choice.
        se: [...] float32 SE of the best choice [bit/s/Hz].
        se_per_rank: [..., 4] float32 SE of the best PMI at each rank (0 where the rank
            is not allowed); pmi_per_rank: [..., 4] int64 those PMIs.
        beam: [...] int64 strongest beam; beam_rsrp_db: [..., n_beams] float32 true
            L1-RSRP of every beam relative to the noise per antenna [dB].
    """

    ri: torch.Tensor
    pmi: torch.Tensor
    i11: torch.Tensor
    i12: torch.Tensor
    i13: torch.Tensor
    i2: torch.Tensor
    cqi: torch.Tensor
    se: torch.Tensor
    se_per_rank: torch.Tensor
    pmi_per_rank: torch.Tensor
    beam: torch.Tensor
    beam_rsrp_db: torch.Tensor

    def take(self, rows: torch.Tensor) -> Oracle:
        """The oracle of the channels at ``rows`` (int64 indices into the first dim)."""
        return Oracle(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def oracle(codebook: TypeICodebook, grid: DftBeamGrid, h_true: torch.Tensor,
           cqi_table: int = 1) -> Oracle:
    """The oracle of ``h_true`` [..., n_sb, n_rx, n_tx] (noise-whitened)."""
    sel = select_csi(codebook, h_true)
    cqi = cqi_report(sel.subband_se, sel.ri, table=cqi_table)
    rsrp = beam_rsrp_db(h_true, grid)
    se_rank = torch.zeros(*sel.se_per_rank.shape[:-1], 4)
    allowed = sel.se_per_rank.shape[-1]
    se_rank[..., :allowed] = torch.nan_to_num(sel.se_per_rank, neginf=0.0)
    pmi_rank = torch.zeros(*sel.pmi_per_rank.shape[:-1], 4, dtype=torch.int64)
    pmi_rank[..., :allowed] = sel.pmi_per_rank
    return Oracle(ri=sel.ri, pmi=sel.pmi, i11=sel.i11, i12=sel.i12, i13=sel.i13, i2=sel.i2,
                  cqi=cqi.wideband, se=sel.se, se_per_rank=se_rank, pmi_per_rank=pmi_rank,
                  beam=rsrp.argmax(-1), beam_rsrp_db=rsrp)


@dataclass(frozen=True)
class PersistenceScore:
    """How the last report fares at a later instant, over a batch of (UE, instant) pairs."""

    samples: int
    ri_accuracy: float
    pmi_accuracy: float  # rank AND PMI equal to the oracle's
    se_ratio: float  # sum SE(reported on the true channel) / sum SE(oracle)
    beam_top1: float
    beam_rsrp_loss_db: float


def persistence_score(codebook: TypeICodebook, h_later: torch.Tensor, ri: torch.Tensor,
                      pmi: torch.Tensor, beam: torch.Tensor, later: Oracle) -> PersistenceScore:
    """Score reported (ri, pmi, beam) [B] on the true channel ``h_later`` [B, n_sb, n_rx,
    n_tx] whose oracle is ``later``."""
    se = se_of(codebook, h_later, ri, pmi)
    rank_ok = ri == later.ri
    best = later.beam_rsrp_db.max(-1).values
    used = later.beam_rsrp_db.gather(-1, beam[:, None])[:, 0]
    return PersistenceScore(
        samples=int(ri.numel()),
        ri_accuracy=float(rank_ok.float().mean()),
        pmi_accuracy=float((rank_ok & (pmi == later.pmi)).float().mean()),
        se_ratio=float(se.double().sum() / later.se.double().sum().clamp_min(1e-12)),
        beam_top1=float((beam == later.beam).float().mean()),
        beam_rsrp_loss_db=float((best - used).double().mean()))
