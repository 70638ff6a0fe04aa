"""Which PMI index values exist for a UE's ports and rank (Type-I single panel, mode 1).

Counts per TS 38.214 5.2.2.2.1 for the antenna configurations LinkFM supports:
i11 in 0..N1 O1 - 1 and i12 in 0..N2 O2 - 1 (for fewer than 16 ports, every rank);
i13 has one value at rank 1, Table 5.2.2.2.1-3 sets its range at rank 2 and
Table 5.2.2.2.1-4 at ranks 3-4; i2 has 4 values at rank 1 and 2 above.
Two ports use Table 5.2.2.2.1-1: only i2 is reported (4 values at rank 1, 2 at rank 2),
and ranks above 2 do not exist.

Parts that a configuration does not report keep exactly one valid value, 0, so every
classifier always has a well-defined (if trivial) distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.registry import MAX_RANK

PMI_PARTS = ("i11", "i12", "i13", "i2")
PMI_SIZES = {"i11": 16, "i12": 8, "i13": 4, "i2": 4}


@dataclass(frozen=True)
class CodebookConfig:
    """A Type-I single-panel antenna configuration: P = 2 N1 N2 CSI-RS ports."""

    n_ports: int
    n1: int
    n2: int
    o1: int
    o2: int


# The id of a configuration is its index here; the model reads it as ctx.codebook.
CODEBOOK_CONFIGS = (
    CodebookConfig(2, 1, 1, 1, 1),
    CodebookConfig(4, 2, 1, 4, 1),
    CodebookConfig(8, 2, 2, 4, 4),
    CodebookConfig(8, 4, 1, 4, 1),
)


def _i13_count(cfg: CodebookConfig, rank: int) -> int:
    if rank == 1:
        return 1
    if rank == 2:  # Table 5.2.2.2.1-3
        return 2 if (cfg.n1, cfg.n2) == (2, 1) else 4
    # Table 5.2.2.2.1-4 (P < 16): (2,1) -> 1, (4,1) -> 3, (2,2) -> 3, (6,1)/(3,2) -> 4
    return {(2, 1): 1, (4, 1): 3, (2, 2): 3}.get((cfg.n1, cfg.n2), 4)


def pmi_counts(cfg: CodebookConfig, rank: int) -> dict[str, int]:
    """How many values each PMI part takes; all zeros if ``rank`` does not exist."""
    if cfg.n_ports == 2:
        if rank > 2:
            return dict.fromkeys(PMI_PARTS, 0)
        return {"i11": 1, "i12": 1, "i13": 1, "i2": 4 if rank == 1 else 2}
    if rank > min(cfg.n_ports, MAX_RANK):
        return dict.fromkeys(PMI_PARTS, 0)
    return {
        "i11": cfg.n1 * cfg.o1,
        "i12": cfg.n2 * cfg.o2,
        "i13": _i13_count(cfg, rank),
        "i2": 4 if rank == 1 else 2,
    }


def max_rank(cfg: CodebookConfig) -> int:
    """Highest rank the codebook defines (capped at the model's 4 rank classes)."""
    return 2 if cfg.n_ports == 2 else min(cfg.n_ports, MAX_RANK)


def pmi_mask_table() -> dict[str, torch.Tensor]:
    """Validity of every PMI value: part -> bool [n_configs, MAX_RANK, PMI_SIZES[part]].

    ``table[part][c, r - 1, v]`` is True when value ``v`` exists for config ``c`` at rank ``r``.
    """
    table = {
        p: torch.zeros(len(CODEBOOK_CONFIGS), MAX_RANK, n, dtype=torch.bool)
        for p, n in PMI_SIZES.items()
    }
    for c, cfg in enumerate(CODEBOOK_CONFIGS):
        for rank in range(1, MAX_RANK + 1):
            for part, count in pmi_counts(cfg, rank).items():
                table[part][c, rank - 1, :count] = True
    return table


def rank_mask(codebook: torch.Tensor, n_rx: torch.Tensor) -> torch.Tensor:
    """Valid ranks per item: bool [B, MAX_RANK] from config ids [B] and antenna counts [B]."""
    top = torch.tensor([max_rank(c) for c in CODEBOOK_CONFIGS], device=codebook.device)
    limit = torch.minimum(top[codebook], n_rx.clamp_min(1))
    ranks = torch.arange(1, MAX_RANK + 1, device=codebook.device)
    return ranks[None, :] <= limit[:, None]
