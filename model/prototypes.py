"""Prototype calibration for beams: a new site or antenna from a few labelled windows.

Each beam's prototype is the mean embedding of its labelled windows; windows are classified
by cosine similarity to the prototypes. Embeddings are centred on the support set's mean and
L2-normalised first (prototype normalisation), which keeps one dominant direction shared by
every window from swamping the differences between beams. No network weight changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model.network import LinkFM
from model.tokenize import TokenBatch


@dataclass(frozen=True)
class BeamPrototypes:
    """Per-beam prototypes.

    Attributes:
        centre: [d] mean support embedding subtracted before normalising.
        prototypes: [n_beams, d] unit vectors (zero for beams without samples).
        known: [n_beams] bool, the beam had at least one labelled sample.
    """

    centre: torch.Tensor
    prototypes: torch.Tensor
    known: torch.Tensor

    @classmethod
    def fit(cls, embeddings: torch.Tensor, beams: torch.Tensor, n_beams: int) -> BeamPrototypes:
        """Prototypes from support embeddings [N, d] labelled with beams [N] (int64)."""
        centre = embeddings.mean(0)
        z = F.normalize(embeddings - centre, dim=-1)  # [N, d]
        sums = torch.zeros(n_beams, z.shape[1]).index_add_(0, beams, z)  # [n_beams, d]
        counts = torch.bincount(beams, minlength=n_beams)  # [n_beams]
        protos = F.normalize(sums / counts.clamp_min(1)[:, None], dim=-1)
        return cls(centre=centre, prototypes=protos, known=counts > 0)

    def logits(self, embeddings: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
        """Cosine similarity / temperature [N, n_beams]; unknown beams at finfo.min."""
        z = F.normalize(embeddings - self.centre, dim=-1)
        sim = z @ self.prototypes.T / temperature
        return sim.masked_fill(~self.known, torch.finfo(sim.dtype).min)

    def predict(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The nearest beam [N] int64."""
        return self.logits(embeddings).argmax(-1)


def calibrate_beams(
    model: LinkFM, support: TokenBatch, beams: torch.Tensor, n_beams: int
) -> BeamPrototypes:
    """Fit prototypes on the frozen model's CLS embeddings of labelled ``support`` windows."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        emb = model.embed(support)
    model.train(was_training)
    return BeamPrototypes.fit(emb, beams, n_beams)


def classify_beams(model: LinkFM, batch: TokenBatch, protos: BeamPrototypes) -> torch.Tensor:
    """Beam logits [B, n_beams] of ``batch`` against calibrated prototypes."""
    with torch.inference_mode():
        return protos.logits(model.embed(batch))
