"""Post-MMSE per-layer capacity ``log2(1 + SINR_l)`` from the Gram matrix ``A = G^H G``.

``1 + SINR_l = 1 / [(I + A)^{-1}]_{ll}``. With ``I + A = L L^H`` (Cholesky) and
``M = L^{-1}`` (lower triangular), ``(I + A)^{-1} = M^H M``, so its l-th diagonal entry is
``sum_{i >= l} |M_il|^2``.

Why real arithmetic and unrolled loops: the RI/PMI search evaluates 10^5 - 10^6 tiny
(r <= 4) Hermitian matrices at once. Batched LAPACK calls on such matrices and torch's
complex elementwise kernels on CPU are both an order of magnitude slower than float
elementwise kernels, so every complex number is carried as a (re, im) pair of float tensors
and the r x r algebra is unrolled over r (loops over layers, never over UEs or subbands).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Pair = tuple[torch.Tensor, torch.Tensor]  # (real part, imaginary part), same shape


@dataclass(frozen=True)
class GramEntries:
    """The lower triangle of a batch of Hermitian r x r matrices, as real tensors.

    Attributes:
        diag: r tensors [...]: the real diagonal ``A_ll``.
        lower: ``(i, j) -> (re, im)`` of ``A_ij`` for i > j, each [...].
    """

    diag: list[torch.Tensor]
    lower: dict[tuple[int, int], Pair]

    @property
    def rank(self) -> int:
        return len(self.diag)


def gram_from_columns(re: torch.Tensor, im: torch.Tensor, rx_dim: int = -1) -> GramEntries:
    """``A = G^H G`` from G's columns.

    Args:
        re, im: real and imaginary parts of G, layer (column) index first: [r, ...].
        rx_dim: the dimension of each layer's slice ``re[l]`` that holds the receive
            antennas (summed over). Keeping a large contiguous dimension after it
            (rx_dim=-2) makes the sums plain vectorised adds.
    """
    r = re.shape[0]
    diag = [(re[i].square() + im[i].square()).sum(rx_dim) for i in range(r)]
    lower = {}
    for i in range(r):
        for j in range(i):
            # A_ij = sum_a conj(G_ai) G_aj
            lower[i, j] = ((re[i] * re[j] + im[i] * im[j]).sum(rx_dim),
                           (re[i] * im[j] - im[i] * re[j]).sum(rx_dim))
    return GramEntries(diag, lower)


def gram_from_matrix(gram: torch.Tensor) -> GramEntries:
    """The entries of a complex Hermitian ``gram`` [..., r, r]."""
    r = gram.shape[-1]
    diag = [gram[..., i, i].real for i in range(r)]
    lower = {(i, j): (gram[..., i, j].real, gram[..., i, j].imag)
             for i in range(r) for j in range(i)}
    return GramEntries(diag, lower)


def _mul(p: Pair, q: Pair) -> Pair:
    return p[0] * q[0] - p[1] * q[1], p[0] * q[1] + p[1] * q[0]


def _mul_conj(p: Pair, q: Pair) -> Pair:
    """p * conj(q)."""
    return p[0] * q[0] + p[1] * q[1], p[1] * q[0] - p[0] * q[1]


def _abs2(p: Pair) -> torch.Tensor:
    return p[0].square() + p[1].square()


def inverse_diagonal(a: GramEntries) -> list[torch.Tensor]:
    """``diag((I + A)^{-1})`` (real, in (0, 1]) for Hermitian PSD A: r tensors [...]."""
    r = a.rank
    l_diag: list[torch.Tensor] = []
    l_low: dict[tuple[int, int], Pair] = {}
    for j in range(r):
        d = 1.0 + a.diag[j]
        for k in range(j):
            d = d - _abs2(l_low[j, k])
        l_diag.append(d.clamp_min(1e-12).sqrt())
        for i in range(j + 1, r):
            re, im = a.lower[i, j]
            for k in range(j):
                pr, pi = _mul_conj(l_low[i, k], l_low[j, k])
                re, im = re - pr, im - pi
            l_low[i, j] = (re / l_diag[j], im / l_diag[j])
    m_diag = [1.0 / d for d in l_diag]
    m_low: dict[tuple[int, int], Pair] = {}
    for i in range(r):
        for j in range(i):
            re = l_low[i, j][0] * m_diag[j]
            im = l_low[i, j][1] * m_diag[j]
            for k in range(j + 1, i):
                pr, pi = _mul(l_low[i, k], m_low[k, j])
                re, im = re + pr, im + pi
            m_low[i, j] = (-re * m_diag[i], -im * m_diag[i])
    out = []
    for col in range(r):
        total = m_diag[col].square()
        for row in range(col + 1, r):
            total = total + _abs2(m_low[row, col])
        out.append(total)
    return out


def log2_one_plus_sinr_entries(a: GramEntries) -> list[torch.Tensor]:
    """``log2(1 + SINR_l)`` per layer from the Gram entries: r tensors [...]."""
    return [-torch.log2(d.clamp(min=1e-30, max=1.0)) for d in inverse_diagonal(a)]


def sum_log2_one_plus_sinr(a: GramEntries) -> torch.Tensor:
    """``sum_l log2(1 + SINR_l)`` (the SE of one resource) from the Gram entries: [...].

    Ranks 1 and 2 in closed form, which the search evaluates for every precoder:
    ``log2(1 + A11)``, and with ``det = (1 + A11)(1 + A22) - |A21|^2 = det(I + A)``,
    ``1 + SINR_1 = det / (1 + A22)``, ``1 + SINR_2 = det / (1 + A11)``, so the sum is
    ``log2(det^2 / ((1 + A11)(1 + A22)))``; det is kept >= both diagonal terms (each SINR
    >= 0, as the clamp in `log2_one_plus_sinr_entries`). Ranks 3, 4: the Cholesky route.
    """
    if a.rank == 1:
        return torch.log2(1.0 + a.diag[0].clamp_min(0.0))
    if a.rank == 2:
        d1, d2 = 1.0 + a.diag[0], 1.0 + a.diag[1]
        prod = d1 * d2
        det = torch.maximum(prod - _abs2(a.lower[1, 0]), torch.maximum(d1, d2))
        return torch.log2(det.square() / prod)
    return torch.stack(log2_one_plus_sinr_entries(a)).sum(0)


def log2_one_plus_sinr(gram: torch.Tensor) -> torch.Tensor:
    """``log2(1 + SINR_l)`` of the MMSE receiver from complex ``G^H G``: [..., r, r] -> [..., r]."""
    return torch.stack(log2_one_plus_sinr_entries(gram_from_matrix(gram)), dim=-1)
