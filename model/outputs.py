"""What LinkFM returns: head predictions, reconstructions, and their helpers.

Masked logits use ``finfo.min`` rather than ``-inf``: a row with no valid entry then stays
finite (uniform after softmax) instead of turning into NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from model.pmi_space import PMI_PARTS


def mask_logits(logits: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``logits`` with entries where ``valid`` is False set to finfo.min."""
    return logits.masked_fill(~valid, torch.finfo(logits.dtype).min)


def masked_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of softmax(logits) over the last axis: [..., K] -> [...]."""
    logp = F.log_softmax(logits, -1)
    p = logp.exp()
    return -torch.where(p > 0, p * logp, 0.0).sum(-1)


@dataclass
class HeadOutputs:
    """Predictions from the CLS token (B windows).

    Attributes:
        rank_logits: [B, 4] over rank 1..4, invalid ranks at finfo.min.
        pmi_logits: part -> [B, PMI_SIZES[part]], invalid values at finfo.min.
        pmi_rank: [B] the rank (1..4) the PMI logits are conditioned on.
        beam_logits: [B, max_beams], beams beyond the UE's count at finfo.min.
        cqi: [B] wideband CQI at the horizon (CQI index units).
        se: [B] spectral efficiency at the horizon (bit/s/Hz).
    """

    rank_logits: torch.Tensor
    pmi_logits: dict[str, torch.Tensor]
    pmi_rank: torch.Tensor
    beam_logits: torch.Tensor
    cqi: torch.Tensor
    se: torch.Tensor

    def rank(self) -> torch.Tensor:
        """Predicted rank 1..4: [B] int64."""
        return self.rank_logits.argmax(-1) + 1

    def top_k_beams(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k likeliest beams: (indices [B, k] int64, probabilities [B, k])."""
        p = self.beam_logits.softmax(-1)
        top = p.topk(k, -1)
        return top.indices, top.values

    def confidence(self) -> torch.Tensor:
        """rank + beam entropy in nats [B]: the early-exit criterion."""
        return masked_entropy(self.rank_logits) + masked_entropy(self.beam_logits)

    @staticmethod
    def merge(parts: list[tuple[torch.Tensor, HeadOutputs]], batch: int) -> HeadOutputs:
        """Reassemble outputs computed on disjoint item subsets ([k] indices each)."""
        order = torch.cat([idx for idx, _ in parts]).argsort()
        assert order.numel() == batch
        heads = [h for _, h in parts]

        def cat(tensors: list[torch.Tensor]) -> torch.Tensor:
            return torch.cat(tensors)[order]

        return HeadOutputs(
            rank_logits=cat([h.rank_logits for h in heads]),
            pmi_logits={p: cat([h.pmi_logits[p] for h in heads]) for p in PMI_PARTS},
            pmi_rank=cat([h.pmi_rank for h in heads]),
            beam_logits=cat([h.beam_logits for h in heads]),
            cqi=cat([h.cqi for h in heads]),
            se=cat([h.se for h in heads]),
        )

    def select(self, rows: torch.Tensor) -> HeadOutputs:
        """The outputs of ``rows`` ([B] bool or [k] int64)."""
        return HeadOutputs(
            rank_logits=self.rank_logits[rows],
            pmi_logits={p: t[rows] for p, t in self.pmi_logits.items()},
            pmi_rank=self.pmi_rank[rows],
            beam_logits=self.beam_logits[rows],
            cqi=self.cqi[rows],
            se=self.se[rows],
        )


@dataclass
class Reconstruction:
    """Every token decoded back to its own normalised space (layout order within a kind).

    scalar [B, Ns]; vector [B, Nv, L]; matrix [B, Nm, P]; categorical [B, Nc, K] logits with
    classes beyond the feature's count at finfo.min (K = the largest class count).
    """

    scalar: torch.Tensor
    vector: torch.Tensor
    matrix: torch.Tensor
    categorical: torch.Tensor


@dataclass
class LinkFMOutput:
    """What a forward pass returns.

    Attributes:
        heads: the predictions used (per item from its exit when early exit is on).
        exits: head outputs at every early exit (training, no threshold), else [].
        recon: per-token reconstructions (full passes only), else None.
        cls: [B, d_model] final-layer CLS embedding (after the final LayerNorm);
             at early exit, the CLS of the layer where the item stopped.
        exit_layer: [B] int64 number of encoder layers each item went through.
    """

    heads: HeadOutputs
    exits: list[HeadOutputs] = field(default_factory=list)
    recon: Reconstruction | None = None
    cls: torch.Tensor | None = None
    exit_layer: torch.Tensor | None = None
