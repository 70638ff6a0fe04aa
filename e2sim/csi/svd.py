"""The unquantised SVD precoder: the upper reference that measures codebook quantisation loss.

The wideband precoder is the top-r right singular vectors of the subbands stacked, i.e. the
top-r eigenvectors of ``sum_k H_k^H H_k``, scaled by ``1/sqrt(r)`` so that, like every
codebook precoder, its columns are orthogonal with total power 1. It is scored with the same
post-MMSE SE as the codebook (:func:`e2sim.csi.selection.subband_se`).

Which bound holds: on one subband (or a frequency-flat channel) the SVD precoder maximises
``log2 det(I + W^H R W)`` over all W with ``W^H W = I/r``, which bounds the MMSE SE of every
codebook precoder of rank r, so SE(SVD) >= SE(codebook). Across several subbands the
wideband eigenvectors of the summed covariance need not maximise the MEAN of per-subband
SEs, so there the strict bound is the per-subband SVD (``per_subband=True``).
"""

from __future__ import annotations

import math

import torch

from e2sim.csi.selection import subband_se


def svd_precoder(h: torch.Tensor, rank: int, per_subband: bool = False) -> torch.Tensor:
    """Top-``rank`` right singular vectors of the channel, scaled to total power 1.

    Args:
        h: [..., n_sb, n_rx, n_tx] complex channel.
        rank: number of layers, 1..n_tx.
        per_subband: one precoder per subband instead of one wideband precoder.

    Returns:
        [..., n_tx, rank] complex64 (wideband) or [..., n_sb, n_tx, rank] (per subband).
    """
    n_tx = h.shape[-1]
    if not 1 <= rank <= n_tx:
        raise ValueError(f"rank must be in 1..{n_tx}, got {rank}")
    cov = h.mH @ h  # [..., n_sb, n_tx, n_tx]
    if not per_subband:
        cov = cov.sum(-3)
    vectors: torch.Tensor = torch.linalg.eigh(cov).eigenvectors  # ascending eigenvalues
    top = vectors[..., -rank:].flip(-1)  # strongest first
    return (top / math.sqrt(rank)).to(torch.complex64)


def svd_se(h: torch.Tensor, rank: int, per_subband: bool = False) -> torch.Tensor:
    """SE of the SVD precoder with the MMSE receiver: [...] float32 bit/s/Hz."""
    return subband_se(h, svd_precoder(h, rank, per_subband)).mean(-1)
