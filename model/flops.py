"""FLOPs of a LinkFM inference pass: counted by torch's FlopCounterMode and derived by hand.

Both count the matrix products only (linear layers, attention's QK^T and AV), one
multiply-add = 2 FLOPs, over every token position including padded ones (padding is
computed, then masked). Element-wise work (LayerNorm, GELU, softmax, Fourier features) is
left out: it is memory-bound and not what a matmul peak measures.

The inference pass (``exit_threshold`` a float) runs every block on every token except the
last, which only updates the CLS token (keys and values still need every token); early-exit
heads run at their layer when the threshold can let windows leave (> 0), the final heads at
the end. Tokens that no window of the batch observes are dropped before the encoder, so
its share depends on the batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from model.network import LinkFM, LinkFMConfig
from model.pmi_space import PMI_SIZES
from model.registry import MAX_RANK
from model.tokenize import TokenBatch, TokenLayout

aten = torch.ops.aten


def _sdpa_flops(
    query_shape: tuple[int, ...],
    key_shape: tuple[int, ...],
    value_shape: tuple[int, ...],
    *args: Any,
    out_shape: Any = None,
    **kwargs: Any,
) -> int:
    """QK^T plus AV of scaled_dot_product_attention: q [B, H, n, d], k/v [B, H, N, d]."""
    b, h, n, d = query_shape
    n_keys, d_v = key_shape[2], value_shape[3]
    return 2 * b * h * n * n_keys * d + 2 * b * h * n * n_keys * d_v


# torch's counter knows the CUDA attention kernels; on CPU SDPA dispatches to this one
_CPU_ATTENTION = {aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_flops}


def counted_flops(
    model: LinkFM, batch: TokenBatch, exit_threshold: float = 0.0
) -> tuple[float, dict[str, float]]:
    """FLOPs per window of one inference forward of ``batch``, by FlopCounterMode.

    Returns (total per window, per aten op per window).
    """
    counter = FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION)
    with torch.inference_mode(), counter:
        model(batch, exit_threshold=exit_threshold)
    B = batch.batch_size
    by_op = {str(op): n / B for op, n in counter.get_flop_counts()["Global"].items()}
    return counter.get_total_flops() / B, by_op


def _heads_flops(cfg: LinkFMConfig) -> int:
    """One Heads module on one CLS vector: rank, PMI parts, beam, CQI/SE linears."""
    outputs = MAX_RANK + sum(PMI_SIZES.values()) + cfg.max_beams + 2
    return 2 * cfg.d_model * outputs


def encoder_tokens(batch: TokenBatch) -> int:
    """Tokens (CLS included) the inference pass keeps for ``batch``: those observed in at
    least one of its windows."""
    return 1 + int(batch.present.any(0).sum())


def analytic_flops(
    cfg: LinkFMConfig, layout: TokenLayout, n_encoder: int | None = None
) -> dict[str, int]:
    """FLOPs per window of the inference pass with early exit off (threshold 0), by part.

    ``n_encoder``: tokens entering the encoder, CLS included (see :func:`encoder_tokens`);
    default every token of the layout.
    """
    D, dv = cfg.d_model, cfg.d_model - cfg.d_feature_emb
    hidden = cfg.mlp_ratio * D
    Ns, Nv, Nm, _ = layout.counts  # categoricals are table lookups: no FLOPs
    n = layout.n_tokens + 1 if n_encoder is None else n_encoder
    tokenizers = 2 * dv * (
        Ns * (2 * cfg.n_fourier + 1) + Nv * 2 * layout.vector_len + Nm * 2 * layout.patch_dim
    )
    per_token_mlp = 2 * (D * D + 2 * D * hidden)  # proj, fc, fc_out
    full_block = n * (2 * D * 3 * D + per_token_mlp) + 2 * 2 * n * n * D
    # last block: q/k/v for every token, but one query (CLS) and one row through the MLP
    cls_block = n * 2 * D * 3 * D + 2 * 2 * n * D + per_token_mlp
    encoder = (cfg.n_layers - 1) * full_block + cls_block
    heads = _heads_flops(cfg)  # exit heads are skipped when no one may leave
    return {
        "tokenizers": tokenizers,
        "encoder": encoder,
        "heads": heads,
        "total": tokenizers + encoder + heads,
    }
