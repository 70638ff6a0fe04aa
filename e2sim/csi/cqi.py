"""CQI: effective SINR over subbands and layers, the 4-bit CQI tables, subband CQI.

Tables: TS 38.214 Table 5.2.2.1-2 ("table 1", up to 64QAM) and Table 5.2.2.1-3 ("table 2",
up to 256QAM); efficiency = Qm * R in bit/s/Hz per layer. The default is table 1 because
every NR UE supports it; pass ``table=2`` for 256QAM-capable UEs.

Effective SINR (MI-based, Gaussian-input mutual information): the SINRs of all the
resources a codeword spans (subbands k and, since ranks <= 4 carry one codeword, layers l)
are mapped to capacity, averaged, and mapped back:
``SINR_eff = 2^{mean_{k,l} log2(1 + SINR_{k,l})} - 1``. From the selection's per-subband SE
``se_k = sum_l log2(1 + SINR_{k,l})`` this is ``2^{mean_k se_k / r} - 1`` (wideband) and
``2^{se_k / r} - 1`` (subband k). Gaussian MI ignores the saturation of a finite
constellation; the gap below absorbs part of that.

Thresholds (10 % BLER): CQI c needs ``SINR >= gap * (2^{eff_c} - 1)``, the AWGN Shannon
bound for the table's efficiency plus a fixed implementation gap (default 2 dB), the usual
gap-to-capacity abstraction of practical LDPC coding at a 10 % block error target. The
reported CQI is the highest index whose threshold the effective SINR meets; 0 means out of
range (below CQI 1). The gap is a parameter: calibrate it against link-level BLER curves
when they exist.

Subband CQI is given both as the index and as the 2-bit differential of TS 38.214 Table
5.2.2.1-1: offset = subband - wideband; value 0 -> offset 0, 1 -> +1, 2 -> >= +2, 3 -> <= -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DEFAULT_CQI_TABLE = 1
DEFAULT_GAP_DB = 2.0


@dataclass(frozen=True)
class CqiEntry:
    """One row of a 4-bit CQI table (indices 1..15; 0 is "out of range")."""

    index: int
    modulation: str
    qm: int
    code_rate_x1024: int
    efficiency: float


def _rows(rows: list[tuple[str, int, float]]) -> tuple[CqiEntry, ...]:
    qm = {"QPSK": 2, "16QAM": 4, "64QAM": 6, "256QAM": 8}
    return tuple(CqiEntry(i + 1, mod, qm[mod], rate, eff)
                 for i, (mod, rate, eff) in enumerate(rows))


# TS 38.214 Table 5.2.2.1-2.
CQI_TABLE_1 = _rows([
    ("QPSK", 78, 0.1523), ("QPSK", 120, 0.2344), ("QPSK", 193, 0.3770),
    ("QPSK", 308, 0.6016), ("QPSK", 449, 0.8770), ("QPSK", 602, 1.1758),
    ("16QAM", 378, 1.4766), ("16QAM", 490, 1.9141), ("16QAM", 616, 2.4063),
    ("64QAM", 466, 2.7305), ("64QAM", 567, 3.3223), ("64QAM", 666, 3.9023),
    ("64QAM", 772, 4.5234), ("64QAM", 873, 5.1152), ("64QAM", 948, 5.5547),
])

# TS 38.214 Table 5.2.2.1-3.
CQI_TABLE_2 = _rows([
    ("QPSK", 78, 0.1523), ("QPSK", 193, 0.3770), ("QPSK", 449, 0.8770),
    ("16QAM", 378, 1.4766), ("16QAM", 490, 1.9141), ("16QAM", 616, 2.4063),
    ("64QAM", 466, 2.7305), ("64QAM", 567, 3.3223), ("64QAM", 666, 3.9023),
    ("64QAM", 772, 4.5234), ("64QAM", 873, 5.1152), ("256QAM", 711, 5.5547),
    ("256QAM", 797, 6.2266), ("256QAM", 885, 6.9141), ("256QAM", 948, 7.4063),
])


def cqi_table(table: int = DEFAULT_CQI_TABLE) -> tuple[CqiEntry, ...]:
    """The 15 in-range rows of CQI table 1 or 2."""
    if table == 1:
        return CQI_TABLE_1
    if table == 2:
        return CQI_TABLE_2
    raise ValueError(f"CQI table must be 1 or 2, not {table}")


def cqi_efficiency(cqi: torch.Tensor, table: int = DEFAULT_CQI_TABLE) -> torch.Tensor:
    """Spectral efficiency per layer of CQI indices (any shape, 0..15): bit/s/Hz, 0 for CQI 0."""
    eff = torch.tensor([0.0] + [row.efficiency for row in cqi_table(table)])
    cqi = torch.as_tensor(cqi, dtype=torch.int64)
    if bool(((cqi < 0) | (cqi > 15)).any()):
        raise ValueError("CQI indices run from 0 to 15")
    return eff.to(cqi.device)[cqi]


def cqi_spectral_efficiency(cqi: torch.Tensor, rank: torch.Tensor | int,
                            table: int = DEFAULT_CQI_TABLE) -> torch.Tensor:
    """Spectral efficiency of a CQI sent over ``rank`` layers: rank * Qm * R, bit/s/Hz."""
    return cqi_efficiency(cqi, table) * torch.as_tensor(rank, dtype=torch.float32)


def sinr_thresholds_db(table: int = DEFAULT_CQI_TABLE,
                       gap_db: float = DEFAULT_GAP_DB) -> torch.Tensor:
    """SINR needed for CQI 1..15 at 10 % BLER (module docstring): [15] float32, dB."""
    eff = torch.tensor([row.efficiency for row in cqi_table(table)], dtype=torch.float64)
    return (10.0 * torch.log10(torch.exp2(eff) - 1.0) + gap_db).float()


def cqi_from_sinr_db(sinr_db: torch.Tensor, table: int = DEFAULT_CQI_TABLE,
                     gap_db: float = DEFAULT_GAP_DB) -> torch.Tensor:
    """Highest CQI whose threshold ``sinr_db`` (any shape) meets: int64 0..15, same shape."""
    thresholds = sinr_thresholds_db(table, gap_db).to(sinr_db.device)
    return torch.searchsorted(thresholds, sinr_db.float().contiguous(), right=True)


def effective_sinr(sinr: torch.Tensor, dim: int | tuple[int, ...]) -> torch.Tensor:
    """MI-based effective SINR (linear) over ``dim``: ``2^{mean log2(1 + sinr)} - 1``."""
    return torch.exp2(torch.log2(1.0 + sinr.clamp_min(0.0)).mean(dim)) - 1.0


def _db(x: torch.Tensor) -> torch.Tensor:
    return 10.0 * torch.log10(x.clamp_min(1e-12))


def differential_cqi(subband: torch.Tensor, wideband: torch.Tensor) -> torch.Tensor:
    """2-bit subband differential CQI values (Table 5.2.2.1-1): int64 0..3.

    Args:
        subband: [..., n_sb] CQI indices; wideband: [...] CQI indices.
    """
    offset = subband - wideband[..., None]
    value = offset.clamp(max=2)  # 0 -> 0, 1 -> 1, >= 2 -> 2
    return torch.where(offset < 0, torch.full_like(value, 3), value)


def subband_cqi_from_differential(wideband: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """What a gNB reconstructs from (wideband, 2-bit value): offset 0, +1, +2 or -1; 0..15."""
    offset = torch.tensor([0, 1, 2, -1], device=value.device)[value]
    return (wideband[..., None] + offset).clamp(0, 15)


@dataclass(frozen=True)
class CqiReport:
    """Wideband and subband CQI of one (RI, PMI) choice; batch shape ``[...]``.

    Attributes:
        wideband: [...] int64 0..15.
        subband: [..., n_sb] int64 0..15 (the full index per subband).
        subband_differential: [..., n_sb] int64 0..3 (Table 5.2.2.1-1 values).
        effective_sinr_db: [...] float32, the wideband effective SINR per layer.
        subband_sinr_db: [..., n_sb] float32, the effective SINR per layer of each subband.
    """

    wideband: torch.Tensor
    subband: torch.Tensor
    subband_differential: torch.Tensor
    effective_sinr_db: torch.Tensor
    subband_sinr_db: torch.Tensor


def cqi_report(subband_se: torch.Tensor, rank: torch.Tensor | int,
               table: int = DEFAULT_CQI_TABLE, gap_db: float = DEFAULT_GAP_DB) -> CqiReport:
    """CQI from the per-subband SE of a choice (``CsiSelection.subband_se`` or ``subband_se_of``).

    Args:
        subband_se: [..., n_sb] ``sum_l log2(1 + SINR_{k,l})``, bit/s/Hz.
        rank: the number of layers, int or [...] tensor.
    """
    r = torch.as_tensor(rank, dtype=torch.float32, device=subband_se.device)
    if bool((r < 1).any()):
        raise ValueError("rank must be at least 1")
    per_layer = subband_se / r[..., None]  # log2(1 + SINR_eff) per layer, per subband
    sb_sinr_db = _db(torch.exp2(per_layer) - 1.0)
    wb_sinr_db = _db(torch.exp2(per_layer.mean(-1)) - 1.0)
    wideband = cqi_from_sinr_db(wb_sinr_db, table, gap_db)
    subband = cqi_from_sinr_db(sb_sinr_db, table, gap_db)
    return CqiReport(wideband=wideband, subband=subband,
                     subband_differential=differential_cqi(subband, wideband),
                     effective_sinr_db=wb_sinr_db, subband_sinr_db=sb_sinr_db)
