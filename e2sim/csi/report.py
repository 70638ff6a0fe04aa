"""One call for everything a UE reports from a channel: RI, PMI, CQI and the strongest beams.

The simulator runs it on the UE's channel ESTIMATE for the reported CSI and on the TRUE
channel for the oracle; both then score choices with :func:`e2sim.csi.selection.se_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from e2sim.csi.beams import BeamSelection, DftBeamGrid, select_beams
from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.cqi import DEFAULT_CQI_TABLE, DEFAULT_GAP_DB, CqiReport, cqi_report
from e2sim.csi.selection import DEFAULT_CHUNK_BYTES, CsiSelection, select_csi


@dataclass(frozen=True)
class UeCsi:
    """RI/PMI (with SE), the CQI of that choice, and optionally the beam measurement."""

    selection: CsiSelection
    cqi: CqiReport
    beams: BeamSelection | None


def compute_csi(codebook: TypeICodebook, h: torch.Tensor, *, grid: DftBeamGrid | None = None,
                top_k: int = 4, max_rank: int | None = None, table: int = DEFAULT_CQI_TABLE,
                gap_db: float = DEFAULT_GAP_DB,
                chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> UeCsi:
    """RI/PMI search, CQI of the chosen (RI, PMI), and top-k beams when ``grid`` is given.

    Args:
        codebook: the Type-I codebook of the CSI-RS ports.
        h: [..., n_sb, n_rx, n_tx] noise-whitened channel, 3GPP port order.
        grid: beams to measure on the same channel (its port count must match n_tx).
        top_k: how many beams to report.
        max_rank, table, gap_db, chunk_bytes: see :func:`select_csi` and :func:`cqi_report`.
    """
    selection = select_csi(codebook, h, max_rank=max_rank, chunk_bytes=chunk_bytes)
    cqi = cqi_report(selection.subband_se, selection.ri, table=table, gap_db=gap_db)
    beams = None if grid is None else select_beams(h, grid, k=top_k)
    return UeCsi(selection=selection, cqi=cqi, beams=beams)
