"""Calibrated confidence: temperature scaling and expected calibration error (ECE).

A recommendation's confidence is only useful if "0.8" means right 80 % of the time. Fit one
temperature per head on held-out logits (minimising NLL), then report ECE: the
sample-weighted mean |accuracy - confidence| over equal-width confidence bins.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def expected_calibration_error(
    probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15
) -> float:
    """ECE of class probabilities [N, K] against labels [N] (int64), in [0, 1]."""
    conf, pred = probs.max(-1)
    correct = (pred == labels).float()
    bins = torch.clamp((conf * n_bins).long(), max=n_bins - 1)  # [N] bin of each sample
    acc = torch.zeros(n_bins).index_add_(0, bins, correct)
    cnf = torch.zeros(n_bins).index_add_(0, bins, conf)
    gap = (acc - cnf).abs()  # |sum correct - sum confidence| per bin
    return float(gap.sum() / max(len(labels), 1))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """The temperature T > 0 minimising NLL of softmax(logits / T) on [N, K] logits."""
    logits = logits.detach()
    log_t = torch.zeros((), requires_grad=True)  # optimise log T: keeps T positive
    opt = torch.optim.Adam([log_t], lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        torch.autograd.backward(F.cross_entropy(logits / log_t.exp(), labels))
        opt.step()
    return float(log_t.detach().exp())
