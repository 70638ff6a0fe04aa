"""Proportional-fair downlink scheduler of one cell and the KPM it yields (TS 28.552 names).

The model (deliberately simple, every choice stated):
- Traffic: full buffer; every UE always has data, so every PRB of every slot is used.
- Resources: a subband (``subband_prb`` PRBs) is the unit of allocation; a slot
  (0.5 ms at 30 kHz) is the unit of time; a report period holds ``slots_per_report``
  slots. The period that ends at a report instant is scheduled with the link state of
  that instant, held fixed over its slots (the channel is sampled once per report).
- Achievable rate of UE u on subband k: ``SE_{u,k} * PRBs_k * 12 * SCS * (1 - OH)`` with
  ``SE_{u,k}`` the post-MMSE spectral efficiency of the (rank, PMI) the gNB APPLIES (the
  UE's report, or an active recommendation) evaluated on the TRUE channel: the link is
  assumed perfectly rate-adapted, so a worse precoder costs rate rather than errors.
  ``OH = 0.14`` is the FR1 downlink overhead of TS 38.306's peak-rate formula.
- Proportional fair: in each slot each subband goes to the UE maximising
  ``rate_{u,k} / R_u`` (lowest UE index on ties), where ``R_u`` is the exponentially
  averaged throughput with time constant ``tc`` slots,
  ``R_u <- (1 - 1/tc) R_u + (1/tc) served_u``, starting from each UE's mean achievable
  rate so that no UE starts at zero.

KPM per UE and report period: ``DRB.UEThpDl`` [kbit/s] served bits over the period;
``RRU.PrbUsedDl`` mean PRBs per slot; ``CARR.AverageLayersDl`` layers sent (the applied
rank) on those PRBs; ``RRU.MaxLayerDlMimo`` min(N_T, N_R); ``L1M.SS-RSRP`` [dBm] and
``MR.NRScSSSINR`` [dB] of the strongest beam. Per cell: ``RRU.PrbUsedDl`` (sum),
``RRU.PrbAvailDl``, ``RRU.PrbTotDl`` [%], ``DRB.UEThpDl`` (sum), ``CARR.AverageLayersDl``
(PRB-weighted), ``RRU.MaxLayerDlMimo``, and ``CARR.WBCQIDist.BinX.BinY.BinZ`` (see
`cqi_rank_histogram`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from xapp.e2.kpm_types import MeasurementLabel

OVERHEAD_DL_FR1 = 0.14

THP_DL = "DRB.UEThpDl"
PRB_USED_DL = "RRU.PrbUsedDl"
PRB_AVAIL_DL = "RRU.PrbAvailDl"
PRB_TOT_DL = "RRU.PrbTotDl"
AVG_LAYERS_DL = "CARR.AverageLayersDl"
MAX_LAYER_DL = "RRU.MaxLayerDlMimo"
SS_RSRP = "L1M.SS-RSRP"
SS_SINR = "MR.NRScSSSINR"
WB_CQI_DIST = "CARR.WBCQIDist.BinX.BinY.BinZ"

UE_KPM_NAMES = (THP_DL, PRB_USED_DL, AVG_LAYERS_DL, MAX_LAYER_DL, SS_RSRP, SS_SINR)
CELL_KPM_NAMES = (PRB_USED_DL, PRB_AVAIL_DL, PRB_TOT_DL, THP_DL, AVG_LAYERS_DL, MAX_LAYER_DL)


@dataclass(frozen=True)
class Allocation:
    """What the scheduler gave every UE over one report period.

    prb_per_slot: [n_ue] float64 mean PRBs per slot; bits: [n_ue] float64 bits served;
    prb_total: PRBs allocated in the period (= n_prb * slots under full buffer).
    """

    prb_per_slot: torch.Tensor
    bits: torch.Tensor
    prb_total: float


class ProportionalFairScheduler:
    """PF over subbands and slots (module docstring); keeps the average throughputs.

    Args:
        n_ue: UEs of the cell.
        subband_prbs: [n_sb] PRBs in each subband (the last may be shorter).
        scs_hz: subcarrier spacing; slot_s: slot length [s].
        time_constant_slots: the PF averaging window tc.
    """

    def __init__(self, n_ue: int, subband_prbs: list[int], scs_hz: float, slot_s: float,
                 time_constant_slots: float) -> None:
        self.prbs = torch.tensor(subband_prbs, dtype=torch.float64)
        # bits one PRB carries per slot per bit/s/Hz of SE
        self._bits_per_prb = 12 * scs_hz * slot_s * (1.0 - OVERHEAD_DL_FR1)
        self.slot_s = slot_s
        self.alpha = 1.0 / time_constant_slots
        self.avg_bits: torch.Tensor | None = None  # R_u [n_ue], bits per slot
        self.n_ue = n_ue

    def schedule(self, subband_se: torch.Tensor, n_slots: int) -> Allocation:
        """Allocate ``n_slots`` slots given ``subband_se`` [n_ue, n_sb] (bit/s/Hz)."""
        # numpy: the per-slot loop runs on arrays of a few hundred entries, where torch's
        # per-call overhead would dominate.
        prbs = self.prbs.numpy()
        rate = subband_se.double().clamp_min(0.0).numpy() * prbs * self._bits_per_prb
        n_ue, n_sb = rate.shape
        if self.avg_bits is None:
            self.avg_bits = torch.from_numpy(np.maximum(rate.sum(1) / max(1, n_sb), 1.0))
        avg = self.avg_bits.numpy().copy()
        served_total = np.zeros(n_ue)
        prb_total = np.zeros(n_ue)
        cols = np.arange(n_sb)
        for _ in range(n_slots):
            winner = (rate / np.maximum(avg, 1e-9)[:, None]).argmax(0)  # [n_sb]
            served = np.bincount(winner, weights=rate[winner, cols], minlength=n_ue)
            prb_total += np.bincount(winner, weights=prbs, minlength=n_ue)
            served_total += served
            avg = (1.0 - self.alpha) * avg + self.alpha * served
        self.avg_bits = torch.from_numpy(avg)
        return Allocation(prb_per_slot=torch.from_numpy(prb_total / n_slots),
                          bits=torch.from_numpy(served_total),
                          prb_total=float(prb_total.sum()))


def ue_kpm(alloc: Allocation, period_s: float, layers: torch.Tensor, max_layers: int,
           ss_rsrp_dbm: torch.Tensor, ss_sinr_db: torch.Tensor) -> list[dict[str, float]]:
    """Per-UE measurements of one period (module docstring), in UE order."""
    thp = (alloc.bits / period_s / 1e3).tolist()
    prb = alloc.prb_per_slot.tolist()
    lay, rsrp, sinr = layers.tolist(), ss_rsrp_dbm.tolist(), ss_sinr_db.tolist()
    return [{THP_DL: thp[u], PRB_USED_DL: prb[u], AVG_LAYERS_DL: float(lay[u]),
             MAX_LAYER_DL: float(max_layers), SS_RSRP: rsrp[u], SS_SINR: sinr[u]}
            for u in range(len(thp))]


def cell_kpm(alloc: Allocation, period_s: float, n_prb: int, layers: torch.Tensor,
             max_layers: int) -> dict[str, float]:
    """Per-cell measurements of one period (module docstring)."""
    used = float(alloc.prb_per_slot.sum())
    weights = alloc.prb_per_slot
    avg_layers = float((weights * layers.double()).sum() / weights.sum()) if used > 0 else 0.0
    return {PRB_USED_DL: used, PRB_AVAIL_DL: float(n_prb), PRB_TOT_DL: 100.0 * used / n_prb,
            THP_DL: float(alloc.bits.sum()) / period_s / 1e3, AVG_LAYERS_DL: avg_layers,
            MAX_LAYER_DL: float(max_layers)}


def cqi_rank_histogram(cqi_wb: torch.Tensor, ri: torch.Tensor,
                       cqi_table: int) -> dict[MeasurementLabel, int]:
    """``CARR.WBCQIDist.BinX.BinY.BinZ`` of one period's reports: label -> UE count.

    E2SM-KPM bins start at 1, so BinX = CQI + 1 (CQI 0..15), BinY = rank (1..4) and
    BinZ = the CQI table (1 or 2). Only non-empty bins are listed.
    """
    counts: dict[tuple[int, int], int] = {}
    for c, r in zip(cqi_wb.tolist(), ri.tolist(), strict=True):
        counts[(c, r)] = counts.get((c, r), 0) + 1
    return {MeasurementLabel(dist_bin_x=c + 1, dist_bin_y=r, dist_bin_z=cqi_table): n
            for (c, r), n in sorted(counts.items())}
