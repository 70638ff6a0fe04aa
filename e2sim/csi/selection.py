"""RI/PMI selection on a noise-whitened channel: post-MMSE SINR, spectral efficiency, argmax.

The rule (RADIO.md section 3, the standard UE-side search): for each rank r and each
codebook precoder W, ``G_k = H_k W`` per subband k and the linear-MMSE SINR of layer l is
``SINR_{k,l} = 1 / [(I_r + G_k^H G_k)^{-1}]_{ll} - 1``. H is whitened (noise variance 1 per
receive antenna) and W already splits the unit transmit power over the layers, so nothing
is divided by r again. ``SE(r, W) = mean_k sum_l log2(1 + SINR_{k,l})`` in bit/s/Hz;
``PMI*(r) = argmax_W SE(r, W)`` and ``RI = argmax_r SE(r, PMI*(r))``. Ranks run up to
min(N_T, N_R, codebook.max_rank, max_rank).

Ties: the Type-I codebook holds exactly equivalent precoders (at rank 4, the beam pairs
(v_l, v_l') and (v_l', v_l) give the same four columns in another order, hence the same SE,
e.g. 4 ports i11 = l and i11 = l + 4), and float rounding would pick among such twins at
random. Every argmax here therefore takes the LOWEST index whose SE is within ``TIE_RTOL``
(relative) of the maximum, so equivalent channels get one canonical (RI, PMI) and training
labels stay stable.

How: one real GEMM gives ``G = H W`` for every precoder at once (`precoder_subband_se`),
the Gram entries follow as elementwise real ops, and ranks 1-2 (what a 2-antenna UE
searches) use the closed forms of `mmse.sum_log2_one_plus_sinr`. (Building the SE from
the channel's response to the codebook's DFT beams instead was tried and measured slower:
it saves GEMM work, which is cheap here, but not elementwise work, which dominates.)

All functions take channels ``H: [..., n_sb, n_rx, n_tx]`` complex64 with any leading batch
dims (UEs, time), and loop only over ranks and memory chunks, never over UEs or subbands.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.mmse import gram_from_columns, log2_one_plus_sinr, sum_log2_one_plus_sinr

# Working-set bound per chunk of UEs. Smaller than memory requires: chunks that stay near
# the CPU caches measured about 2x faster than 64 MB ones on the 8-port search.
DEFAULT_CHUNK_BYTES = 16 * 2**20
TIE_RTOL = 1e-5


@dataclass(frozen=True)
class CsiSelection:
    """The chosen CSI per channel; every tensor has the channel's batch shape ``[...]``.

    Attributes:
        ri: chosen rank, int64 in 1..max_rank.
        pmi: flat PMI index at rank ``ri`` (see TypeICodebook), int64.
        i11, i12, i13, i2: the PMI components of ``pmi``, int64.
        se: SE of the choice, bit/s/Hz (float32).
        subband_se: per-subband SE of the choice ``sum_l log2(1 + SINR_{k,l})``:
            [..., n_sb] float32; ``se`` is its mean. Feeds the CQI computation.
        se_per_rank: best SE at each rank 1..codebook.max_rank: [..., codebook.max_rank]
            float32; ``-inf`` for ranks above min(N_T, N_R, max_rank).
        pmi_per_rank: the PMI reaching ``se_per_rank``: [..., codebook.max_rank] int64 (0
            where the rank is not allowed).
    """

    ri: torch.Tensor
    pmi: torch.Tensor
    i11: torch.Tensor
    i12: torch.Tensor
    i13: torch.Tensor
    i2: torch.Tensor
    se: torch.Tensor
    subband_se: torch.Tensor
    se_per_rank: torch.Tensor
    pmi_per_rank: torch.Tensor


def layer_sinr(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Post-MMSE SINR per subband and layer (linear).

    Args:
        h: [..., n_sb, n_rx, n_tx] whitened channel.
        w: precoder broadcastable to [..., n_sb, n_tx, r] (a wideband [..., n_tx, r] must
            be unsqueezed at -3 by the caller, or use :func:`subband_se`).

    Returns:
        [..., n_sb, r] float32.
    """
    g = h @ w.to(h.dtype)
    return torch.exp2(log2_one_plus_sinr(g.mH @ g)) - 1.0


def subband_se(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``sum_l log2(1 + SINR_{k,l})`` per subband.

    Args:
        h: [..., n_sb, n_rx, n_tx] whitened channel.
        w: a wideband precoder [..., n_tx, r] or a per-subband one [..., n_sb, n_tx, r].

    Returns:
        [..., n_sb] float32, bit/s/Hz.
    """
    if w.dim() < h.dim():
        w = w.unsqueeze(-3)
    g = h @ w.to(h.dtype)
    return log2_one_plus_sinr(g.mH @ g).sum(-1)


def se_of(codebook: TypeICodebook, h: torch.Tensor, rank: torch.Tensor | int,
          pmi: torch.Tensor | int) -> torch.Tensor:
    """Score any (rank, PMI) choice on any channel: the SE of that precoder, bit/s/Hz.

    Args:
        codebook: the codebook the PMI indexes.
        h: [..., n_sb, n_rx, n_tx] whitened channel (e.g. the TRUE channel at apply time).
        rank: int or int tensor broadcastable to the batch shape ``[...]``.
        pmi: flat PMI index (at that rank), int or tensor broadcastable to ``[...]``.

    Returns:
        [...] float32.
    """
    return subband_se_of(codebook, h, rank, pmi).mean(-1)


def subband_se_of(codebook: TypeICodebook, h: torch.Tensor, rank: torch.Tensor | int,
                  pmi: torch.Tensor | int) -> torch.Tensor:
    """Like :func:`se_of` but per subband: [..., n_sb] float32."""
    batch = h.shape[:-3]
    n_sb = h.shape[-3]
    ranks = torch.broadcast_to(torch.as_tensor(rank, dtype=torch.int64), batch).reshape(-1)
    pmis = torch.broadcast_to(torch.as_tensor(pmi, dtype=torch.int64), batch).reshape(-1)
    flat = h.reshape(-1, *h.shape[-3:])
    out = torch.zeros(flat.shape[0], n_sb, dtype=torch.float32, device=h.device)
    for r in sorted(set(ranks.tolist())):
        rows = (ranks == r).nonzero().squeeze(-1)
        sel = pmis[rows]
        if bool(((sel < 0) | (sel >= codebook.n_pmi(r))).any()):
            raise ValueError(f"PMI index outside 0..{codebook.n_pmi(r) - 1} at rank {r}")
        w = codebook.precoders(r).to(h.device)[sel]  # [m, P, r]
        out[rows] = subband_se(flat[rows], w).float()
    return out.reshape(*batch, n_sb)


def precoder_subband_se(h: torch.Tensor, w: torch.Tensor,
                        chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> torch.Tensor:
    """Per-subband SE of every precoder of any set, one product ``H W`` per precoder.

    Args:
        h: [B, K, n_rx, P] whitened channels; w: [n, P, r] precoders.

    Returns:
        [B, K, n] float32.
    """
    b, k, n_rx, n_tx = h.shape
    n, _, r = w.shape
    if b == 0:
        return torch.zeros(0, k, n, device=h.device)
    w_real = _real_precoder_rows(w)  # [2 r n, 2P]
    # Bytes per UE of the big intermediates: real G, the Gram products, the Cholesky terms.
    per_ue = k * n * (n_rx * r * 8 * 3 + r * r * 4 * 6)
    step = max(1, chunk_bytes // max(per_ue, 1))
    parts = []
    for start in range(0, b, step):
        chunk = h[start:start + step]
        # Rows ordered (Nr, UE, subband) so that the GEMM below leaves, for every layer and
        # precoder, the receive antennas as contiguous [Nr, b' K] planes.
        h_real = torch.cat([chunk.real, chunk.imag], dim=-1).permute(2, 0, 1, 3)
        h_real = h_real.reshape(-1, 2 * n_tx)
        # One real GEMM for all precoders: [2 (re, im), r, n, Nr, b' K].
        g = (w_real @ h_real.T).reshape(2, r, n, n_rx, -1)
        se = sum_log2_one_plus_sinr(gram_from_columns(g[0], g[1], rx_dim=-2))
        parts.append(se.T.reshape(-1, k, n))
    return torch.cat(parts, dim=0)


def _real_precoder_rows(w: torch.Tensor) -> torch.Tensor:
    """[n, P, r] complex -> [2 r n, 2P] real rows with ``rows @ [Re H; Im H]^T = [Re G; Im G]``.

    ``Re(H W) = Re H Re W - Im H Im W`` and ``Im(H W) = Re H Im W + Im H Re W``.
    """
    wt = w.permute(2, 0, 1)  # [r, n, P]
    re_rows = torch.cat([wt.real, -wt.imag], dim=-1)
    im_rows = torch.cat([wt.imag, wt.real], dim=-1)
    return torch.stack([re_rows, im_rows]).reshape(-1, 2 * w.shape[1]).contiguous()


def searched_ranks(codebook: TypeICodebook, h: torch.Tensor,
                   max_rank: int | None = None) -> range:
    """Ranks the search covers: 1..min(N_T, N_R, codebook.max_rank, max_rank)."""
    if h.dim() < 3:
        raise ValueError("channel must be [..., n_sb, n_rx, n_tx]")
    if h.shape[-1] != codebook.n_ports:
        raise ValueError(f"channel has {h.shape[-1]} transmit ports, codebook {codebook.n_ports}")
    n_rx, n_tx = h.shape[-2:]
    return range(1, min(n_tx, n_rx, codebook.max_rank, max_rank or codebook.max_rank) + 1)


def subband_se_tables(codebook: TypeICodebook, h: torch.Tensor, max_rank: int | None = None,
                      chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> dict[int, torch.Tensor]:
    """Per-subband SE of every precoder at every searched rank (`searched_ranks`).

    Args:
        codebook, h, max_rank, chunk_bytes: as for :func:`select_csi`.

    Returns:
        rank -> [..., n_sb, n_pmi(rank)] float32, bit/s/Hz, flat PMI order. Look a choice
        up with :func:`lookup_subband_se`.
    """
    ranks = searched_ranks(codebook, h, max_rank)
    batch, (n_sb, n_rx, n_tx) = h.shape[:-3], h.shape[-3:]
    flat = h.reshape(-1, n_sb, n_rx, n_tx).to(torch.complex64)
    tables = {}
    for r in ranks:
        sb = precoder_subband_se(flat, codebook.precoders(r).to(h.device), chunk_bytes)
        tables[r] = sb.reshape(*batch, n_sb, codebook.n_pmi(r))
    return tables


def lookup_subband_se(tables: dict[int, torch.Tensor], rank: torch.Tensor,
                      pmi: torch.Tensor) -> torch.Tensor:
    """The per-subband SE of choices (rank, pmi) [B] from tables of batch [B]: [B, n_sb].

    Equals :func:`subband_se_of` on the channels the tables were computed from.
    """
    first = next(iter(tables.values()))
    out = torch.zeros(first.shape[:-1], dtype=torch.float32, device=first.device)
    for r in sorted(set(rank.tolist())):
        if r not in tables:
            raise ValueError(f"rank {r} was not searched (ranks {sorted(tables)})")
        rows = (rank == r).nonzero().squeeze(-1)
        table = tables[r][rows]  # [m, n_sb, n_pmi]
        sel = pmi[rows]
        if bool(((sel < 0) | (sel >= table.shape[-1])).any()):
            raise ValueError(f"PMI index outside 0..{table.shape[-1] - 1} at rank {r}")
        out[rows] = table.gather(2, sel[:, None, None].expand(-1, table.shape[1], 1))[..., 0]
    return out


def select_csi(codebook: TypeICodebook, h: torch.Tensor, max_rank: int | None = None,
               chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> CsiSelection:
    """Exhaustive RI/PMI search (module docstring) over the whole codebook.

    Args:
        codebook: precoders to search; ``codebook.n_ports`` must equal n_tx.
        h: [..., n_sb, n_rx, n_tx] complex, noise-whitened.
        max_rank: optional cap on the rank (e.g. a UE capability); the search also stops
            at min(n_tx, n_rx, codebook.max_rank).
        chunk_bytes: rough bound on the working memory of one chunk of UEs.

    Returns:
        a :class:`CsiSelection` with batch shape ``h.shape[:-3]``.
    """
    return select_from_tables(codebook, subband_se_tables(codebook, h, max_rank, chunk_bytes))


def select_from_tables(codebook: TypeICodebook,
                       tables: dict[int, torch.Tensor]) -> CsiSelection:
    """The RI/PMI choice from :func:`subband_se_tables` (batch shape ``[...]`` kept)."""
    first = next(iter(tables.values()))
    batch, n_sb = first.shape[:-2], first.shape[-2]
    dev = first.device
    b = int(first[..., 0, 0].numel())
    se_rank = torch.full((b, codebook.max_rank), float("-inf"), device=dev)
    pmi_rank = torch.zeros(b, codebook.max_rank, dtype=torch.int64, device=dev)
    sb_rank = torch.zeros(b, codebook.max_rank, n_sb, device=dev)
    for r, table in tables.items():
        sb = table.reshape(b, n_sb, table.shape[-1])
        se = sb.mean(1)  # [B, n_pmi]
        best_pmi = _first_near_max(se)
        se_rank[:, r - 1] = se.gather(1, best_pmi[:, None])[:, 0]
        pmi_rank[:, r - 1] = best_pmi
        sb_rank[:, r - 1] = sb.gather(2, best_pmi[:, None, None].expand(b, n_sb, 1))[..., 0]
    ri = _first_near_max(se_rank) + 1
    pick = (ri - 1)[:, None]
    pmi = pmi_rank.gather(1, pick)[:, 0]
    parts = _components(codebook, ri, pmi)
    return CsiSelection(
        ri=ri.reshape(batch), pmi=pmi.reshape(batch),
        i11=parts[0].reshape(batch), i12=parts[1].reshape(batch),
        i13=parts[2].reshape(batch), i2=parts[3].reshape(batch),
        se=se_rank.gather(1, pick)[:, 0].reshape(batch),
        subband_se=sb_rank.gather(1, pick[:, :, None].expand(b, 1, n_sb))[:, 0].reshape(
            *batch, n_sb),
        se_per_rank=se_rank.reshape(*batch, codebook.max_rank),
        pmi_per_rank=pmi_rank.reshape(*batch, codebook.max_rank),
    )


def _first_near_max(x: torch.Tensor) -> torch.Tensor:
    """Index of the first entry of the last dim within TIE_RTOL of its maximum: [...] int64."""
    best = x.max(-1, keepdim=True).values
    near = x >= best - TIE_RTOL * best.abs()
    return near.to(torch.uint8).argmax(-1)  # argmax returns the first maximal entry


def _components(codebook: TypeICodebook, ri: torch.Tensor,
                pmi: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(i11, i12, i13, i2) of per-UE (rank, PMI) pairs, by table lookup per rank."""
    out = torch.zeros(4, ri.shape[0], dtype=torch.int64, device=ri.device)
    for r in sorted(set(ri.tolist())):
        rows = (ri == r).nonzero().squeeze(-1)
        out[:, rows] = codebook.indices(r).to(ri.device)[pmi[rows]].T
    return tuple(out.unbind(0))
