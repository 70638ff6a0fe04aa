"""What every UE measures and reports from its CSI-RS estimate, for all UEs at once.

Per UE (vectorised over UEs with torch): RI/PMI by the exhaustive post-MMSE search of
`e2sim.csi.select_csi` on ``h_ue_est``; wideband and subband CQI of that choice through
the configured 4-bit table; L1-RSRP of the ``top_k`` strongest DFT beams in dBm; L1-SINR
of the strongest beam. `to_reports` turns the tensors into `CsiReport` messages, with the
gNB's SRS estimate as the optional channel-estimate tensor.

dBm conversion: channels are noise-whitened (noise variance 1 per receive antenna and
resource element), so a beam's whitened power in dB plus the noise per resource element
in dBm (-174 dBm/Hz + 10 log10(SCS) + noise figure) is its RSRP per resource element in
dBm, the unit of L1-RSRP. RSRP sums the UE antennas; L1-SINR is per antenna.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from e2sim.channel import ChannelConfig
from e2sim.csi import (
    CsiSelection,
    DftBeamGrid,
    TypeICodebook,
    beam_rsrp_db,
    cqi_report,
    select_csi,
)
from xapp.e2.csi_types import (
    BeamRsrp,
    ChannelDtype,
    ChannelEstimate,
    CsiReport,
    Pmi,
    UciCsi,
)


def noise_per_re_dbm(cfg: ChannelConfig) -> float:
    """Thermal noise of one resource element plus the UE noise figure [dBm]."""
    return -174.0 + 10.0 * math.log10(cfg.scs_hz) + cfg.noise_figure_db


@dataclass(frozen=True)
class UeCsi:
    """The reported CSI of every UE; leading dim n_ue.

    Attributes:
        ri: [n_ue] int64 1..4; pmi: [n_ue] flat PMI index at that rank (TypeICodebook).
        i11, i12, i13, i2: [n_ue] int64 PMI parts (dense form: i13 = 0 where absent).
        cqi_wb: [n_ue] int64 0..15; cqi_sb: [n_ue, n_sb] int64 0..15.
        beam_top: [n_ue, k] int64 beam indices, strongest first.
        beam_rsrp_dbm: [n_ue, k] float32 their L1-RSRP [dBm].
        sinr_db: [n_ue] float32 L1-SINR of the strongest beam per UE antenna [dB].
    """

    ri: torch.Tensor
    pmi: torch.Tensor
    i11: torch.Tensor
    i12: torch.Tensor
    i13: torch.Tensor
    i2: torch.Tensor
    cqi_wb: torch.Tensor
    cqi_sb: torch.Tensor
    beam_top: torch.Tensor
    beam_rsrp_dbm: torch.Tensor
    sinr_db: torch.Tensor

    @property
    def best_beam(self) -> torch.Tensor:
        """[n_ue] int64: the strongest reported beam."""
        return self.beam_top[:, 0]


def measure(h_ue_est: torch.Tensor, codebook: TypeICodebook, grid: DftBeamGrid, top_k: int,
            cqi_table: int, noise_dbm: float) -> UeCsi:
    """The UE-side CSI of ``h_ue_est`` [n_ue, n_sb, n_rx, n_tx] (whitened CSI-RS estimates)."""
    return from_measurements(select_csi(codebook, h_ue_est), beam_rsrp_db(h_ue_est, grid),
                             top_k, cqi_table, noise_dbm, n_rx=h_ue_est.shape[-2])


def from_measurements(sel: CsiSelection, rsrp_db: torch.Tensor, top_k: int, cqi_table: int,
                      noise_dbm: float, n_rx: int) -> UeCsi:
    """The report of an RI/PMI search ``sel`` (batch [n_ue]) and beam RSRPs ``rsrp_db``
    [n_ue, n_beams] (whitened, dB) that the caller computed, e.g. batched with other
    channels."""
    cqi = cqi_report(sel.subband_se, sel.ri, table=cqi_table)
    # A stable sort: equal beams (e.g. a 2-port grid, where every beam is the same) are
    # reported lowest index first, as argmax picks the oracle's.
    top_rsrp, top = (x[..., :top_k] for x in rsrp_db.sort(dim=-1, descending=True, stable=True))
    return UeCsi(
        ri=sel.ri, pmi=sel.pmi, i11=sel.i11, i12=sel.i12, i13=sel.i13, i2=sel.i2,
        cqi_wb=cqi.wideband, cqi_sb=cqi.subband, beam_top=top,
        beam_rsrp_dbm=top_rsrp + noise_dbm, sinr_db=top_rsrp[:, 0] - 10.0 * math.log10(n_rx))


def to_reports(csi: UeCsi, ue_ids: list[int], report_slot: int, n_tx: int,
               h_gnb_est: torch.Tensor | None) -> tuple[CsiReport, ...]:
    """One `CsiReport` per UE; ``h_gnb_est`` [n_ue, n_sb, n_rx, n_tx] or None (no tensor).

    Every column leaves torch once (``tolist``, one byte string for all the estimates), so
    the per-UE work is building the report objects only."""
    ri, i11, i12, i13, i2, cqi_wb, cqi_sb, beam_top, beam_rsrp, sinr = (
        getattr(csi, name).tolist()
        for name in ("ri", "i11", "i12", "i13", "i2", "cqi_wb", "cqi_sb", "beam_top",
                     "beam_rsrp_dbm", "sinr_db"))
    estimates: list[ChannelEstimate | None] = [None] * len(ue_ids)
    if h_gnb_est is not None:  # what ChannelEstimate.from_array packs, cut per UE
        h = h_gnb_est.numpy()
        shape = (int(h.shape[1]), int(h.shape[2]), int(h.shape[3]))
        packed = np.ascontiguousarray(h, dtype="<c8").tobytes()
        size = len(packed) // max(1, h.shape[0])
        estimates = [ChannelEstimate(ChannelDtype.COMPLEX64, shape, 1.0,
                                     packed[u * size:(u + 1) * size]) for u in range(h.shape[0])]
    has_i13 = n_tx > 2
    out = []
    for u, ue_id in enumerate(ue_ids):
        rank = ri[u]
        pmi = Pmi(i11[u], i12[u], i2[u], i13[u] if has_i13 and 2 <= rank <= 4 else None)
        uci = UciCsi(ri=rank, cri=0, pmi=pmi, wideband_cqi=cqi_wb[u],
                     subband_cqi=tuple(cqi_sb[u]))
        out.append(CsiReport(ue_id=ue_id, report_slot=report_slot, csi=uci,
                             beams=tuple(map(BeamRsrp, beam_top[u], beam_rsrp[u])),
                             sinr_db=sinr[u], channel_estimate=estimates[u]))
    return tuple(out)
