"""LoRA adapters on the encoder's attention and FFN linears.

``W x`` becomes ``W x + (alpha / r) B A x`` with A [r, in] random and B [out, r] zero, so an
adapted model starts exactly where the pretrained one is. Only A and B train; merging folds
them back into plain linears, giving a model (and checkpoint) shaped like the original.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from model.network import LinkFM

TARGETS = ("attn.qkv", "attn.proj", "fc", "fc_out")


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable rank-``r`` update.

    Args:
        base: the pretrained linear (its parameters are frozen).
        rank: r, the update's rank.
        alpha: scale numerator; the update is multiplied by alpha / r.
    """

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float = 8.0) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [.., in] -> [.., r] -> [.., out]: never materialise the full-size update
        out: torch.Tensor = self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale
        return out

    def merged(self) -> nn.Linear:
        """A plain linear computing the same function."""
        has_bias = self.base.bias is not None
        lin = nn.Linear(self.base.in_features, self.base.out_features, bias=has_bias)
        with torch.no_grad():
            lin.weight.copy_(self.base.weight + self.scale * self.lora_b @ self.lora_a)
            if self.base.bias is not None:
                lin.bias.copy_(self.base.bias)
        return lin


def _parent(root: nn.Module, dotted: str) -> tuple[nn.Module, str]:
    *path, leaf = dotted.split(".")
    for name in path:
        root = getattr(root, name)
    return root, leaf


def apply_lora(model: LinkFM, rank: int = 4, alpha: float = 8.0) -> list[nn.Parameter]:
    """Freeze ``model`` and wrap every block's attention/FFN linears; returns the LoRA params."""
    model.requires_grad_(False)
    params: list[nn.Parameter] = []
    for block in model.blocks:
        for target in TARGETS:
            parent, leaf = _parent(block, target)
            base = getattr(parent, leaf)
            if not isinstance(base, nn.Linear):
                raise TypeError(f"{target} is {type(base).__name__}, not a fresh nn.Linear")
            wrapped = LoRALinear(base, rank, alpha)
            setattr(parent, leaf, wrapped)
            params += [wrapped.lora_a, wrapped.lora_b]
    return params


def merge_lora(model: LinkFM) -> LinkFM:
    """Fold every adapter into its linear in place (the result saves as a plain checkpoint)."""
    for block in model.blocks:
        for target in TARGETS:
            parent, leaf = _parent(block, target)
            module = getattr(parent, leaf)
            if isinstance(module, LoRALinear):
                setattr(parent, leaf, module.merged())
    return model
