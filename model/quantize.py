"""Int8 dynamic quantisation of LinkFM for CPU inference.

Every ``nn.Linear`` (tokenizers, attention, FFN, early-exit and final heads, reconstruction
heads) becomes a dynamically quantised linear: weights stored as int8 with one scale per
tensor, activations quantised on the fly per call, int8 GEMM with int32 accumulation
(fbgemm/x86 engine). Embeddings, LayerNorms and attention itself stay float32, so the
network's structure, its early exits and its outputs (float logits) are unchanged.

Whether it pays depends on the matrix sizes: at the default width (d_model 32) the per-call
cost of quantising activations is comparable to the matmul itself; ``linkfm bench model``
measures it.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from model.network import LinkFM

QUANTIZED_LINEAR = torch.ao.nn.quantized.dynamic.Linear


def quantize_int8(model: LinkFM) -> LinkFM:
    """A copy of ``model`` with every nn.Linear dynamic-quantised to int8, in eval mode.

    The original model is left untouched (still float, same mode). The copy is for
    inference only: quantised linears have no gradients.
    """
    float_copy = copy.deepcopy(model).eval()
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the API still works in the
        # pinned torch and is what the deployment design names.
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*", category=UserWarning)
        quantized = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            float_copy, {nn.Linear}, dtype=torch.qint8, inplace=True
        )
    assert isinstance(quantized, LinkFM)
    return quantized.eval()


def is_quantized(model: nn.Module) -> bool:
    """True when ``model`` holds no float nn.Linear and at least one int8 dynamic linear."""
    kinds = [type(m) for m in model.modules()]
    return QUANTIZED_LINEAR in kinds and nn.Linear not in kinds
