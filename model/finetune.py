"""Fine-tuning modes: which parameters train.

FULL trains everything; PROBE freezes the backbone (tokenizers, encoder, reconstruction heads)
and trains the task heads (final and early-exit); LORA freezes everything and trains only
LoRA adapters on the encoder's linears (see model.lora). Prototype calibration, the fourth
mode, trains nothing (see model.prototypes).
"""

from __future__ import annotations

from enum import StrEnum

from torch import nn

from model.lora import apply_lora
from model.network import LinkFM


class FinetuneMode(StrEnum):
    FULL = "full"
    PROBE = "probe"
    LORA = "lora"


def prepare_finetune(
    model: LinkFM, mode: FinetuneMode, lora_rank: int = 4, lora_alpha: float = 8.0
) -> list[nn.Parameter]:
    """Set ``requires_grad`` for ``mode`` (LORA also inserts adapters); returns the trainables."""
    if mode is FinetuneMode.LORA:
        return apply_lora(model, lora_rank, lora_alpha)
    model.requires_grad_(mode is FinetuneMode.FULL)
    if mode is FinetuneMode.PROBE:
        model.heads.requires_grad_(True)
        model.exit_heads.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]
