"""Batched inference for the xApp: windows in, one typed prediction per UE out.

The xApp's ingest builds padded windows (see model.tokenize) for the UEs due a decision,
calls :meth:`Predictor.predict` once per batch, and turns each :class:`Prediction` into a
recommendation message. Runs under ``torch.inference_mode`` with early exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from model.checkpoint import load_checkpoint
from model.network import LinkFM
from model.pmi_space import PMI_PARTS
from model.registry import NormaliserStats
from model.tokenize import Windows, tokenize


@dataclass(frozen=True)
class Prediction:
    """What the model recommends for one UE at the horizon.

    Attributes:
        rank: 1..4. rank_prob: its probability.
        pmi: part name (i11, i12, i13, i2) -> index, valid for the UE's codebook at ``rank``.
        pmi_prob: product of the parts' probabilities.
        beams: the top-k beam indices, best first; beam_probs: their probabilities.
        cqi: wideband CQI index (float). se: spectral efficiency in bit/s/Hz.
        exit_layer: encoder layers used (lower = an early exit).
    """

    rank: int
    rank_prob: float
    pmi: dict[str, int]
    pmi_prob: float
    beams: tuple[int, ...]
    beam_probs: tuple[float, ...]
    cqi: float
    se: float
    exit_layer: int


class Predictor:
    """A loaded model plus its normaliser statistics.

    Args:
        model: the network (put in eval mode here).
        stats: normaliser statistics from training (stored in the checkpoint).
        exit_threshold: early-exit entropy threshold in nats; 0 disables early exits.
        top_k: beams reported per UE.
    """

    def __init__(
        self, model: LinkFM, stats: NormaliserStats, exit_threshold: float = 0.0, top_k: int = 3
    ) -> None:
        self.model = model.eval()
        self.stats = stats
        self.exit_threshold = exit_threshold
        self.top_k = min(top_k, model.cfg.max_beams)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, exit_threshold: float = 0.0, top_k: int = 3
    ) -> Predictor:
        ckpt = load_checkpoint(path)
        return cls(ckpt.model, ckpt.stats, exit_threshold, top_k)

    def predict(self, windows: Windows) -> list[Prediction]:
        """One prediction per window in ``windows`` (batch order)."""
        with torch.inference_mode():
            batch = tokenize(windows, self.model.layout, self.stats)
            out = self.model(batch, exit_threshold=self.exit_threshold)
            h = out.heads
            rank_p = h.rank_logits.softmax(-1)  # [B, 4]
            rank = rank_p.argmax(-1)  # [B] class index = rank - 1
            pmi_p = {p: h.pmi_logits[p].softmax(-1) for p in PMI_PARTS}  # part -> [B, n]
            pmi_idx = {p: t.argmax(-1) for p, t in pmi_p.items()}
            pmi_prob = torch.ones_like(rank, dtype=torch.float32)
            for p in PMI_PARTS:
                pmi_prob *= pmi_p[p].gather(-1, pmi_idx[p][:, None]).squeeze(-1)
            beams, beam_p = h.top_k_beams(self.top_k)
            assert out.exit_layer is not None
            return [
                Prediction(
                    rank=int(rank[i]) + 1,
                    rank_prob=float(rank_p[i, rank[i]]),
                    pmi={p: int(pmi_idx[p][i]) for p in PMI_PARTS},
                    pmi_prob=float(pmi_prob[i]),
                    beams=tuple(int(b) for b in beams[i]),
                    beam_probs=tuple(float(q) for q in beam_p[i]),
                    cqi=float(h.cqi[i]),
                    se=float(h.se[i]),
                    exit_layer=int(out.exit_layer[i]),
                )
                for i in range(batch.batch_size)
            ]
