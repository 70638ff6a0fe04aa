"""Synthetic windows with learnable structure, for tests and smoke training.

Not a radio model (the simulator is): SNR drives rank, CQI and SE; a best beam drives the
beam RSRP profile and i11; antenna configurations mix 2/4/8 ports, 1/2/4 receive antennas,
different subband and beam counts, exactly as padded windows from the ingest will.
"""

from __future__ import annotations

import torch

from model.losses import Targets
from model.pmi_space import CODEBOOK_CONFIGS, PMI_PARTS, max_rank, pmi_counts
from model.registry import FeatureRegistry


def synthetic_windows(
    registry: FeatureRegistry, batch: int, n_slots: int, gen: torch.Generator
) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], Targets]:
    """B random windows (raw units, padded, with masks) and their horizon labels."""
    d = registry.dims
    B, T = batch, n_slots

    def u(*shape: int) -> torch.Tensor:  # uniform [0, 1)
        return torch.rand(*shape, generator=gen)

    def n(*shape: int) -> torch.Tensor:  # standard normal
        return torch.randn(*shape, generator=gen)

    def ri(hi: int, *shape: int) -> torch.Tensor:  # integers in [0, hi)
        return torch.randint(0, hi, shape, generator=gen)

    codebook = ri(len(CODEBOOK_CONFIGS), B)
    n_tx = torch.tensor([CODEBOOK_CONFIGS[int(c)].n_ports for c in codebook])
    n_rx = torch.tensor([1, 2, 4])[ri(3, B)].clamp_max(d.max_rx)
    n_sb = torch.tensor([4, 8, 13, 16])[ri(4, B)].clamp_max(d.max_subbands)
    n_beams = torch.tensor([8, 16, 32])[ri(3, B)].clamp_max(d.max_beams)

    snr = 30 * u(B, 1) + 2 * n(B, T).cumsum(1) * 0.3  # [B, T] dB, slowly drifting
    top = torch.tensor([max_rank(CODEBOOK_CONFIGS[int(c)]) for c in codebook])
    limit = torch.minimum(top, n_rx)
    rank = (1 + (snr / 9).floor().long()).clamp(1, 4)
    rank = torch.minimum(rank, limit[:, None])  # [B, T]
    best = (u(B) * n_beams).long()  # [B]
    drift = torch.where(u(B, T) < 0.2, ri(3, B, T) - 1, 0).cumsum(1)
    beam = (best[:, None] + drift) % n_beams[:, None]  # [B, T]
    cqi = (snr / 2).clamp(0, 15)

    pmi = {p: torch.zeros(B, T, dtype=torch.long) for p in PMI_PARTS}
    for b in range(B):
        cfg = CODEBOOK_CONFIGS[int(codebook[b])]
        for t in range(T):
            counts = pmi_counts(cfg, int(rank[b, t]))
            pmi["i11"][b, t] = int(beam[b, t]) % counts["i11"]
            pmi["i12"][b, t] = int(beam[b, t]) // counts["i11"] % counts["i12"]
            pmi["i13"][b, t] = int(ri(counts["i13"]))
            pmi["i2"][b, t] = (int(t) + int(beam[b, 0])) % counts["i2"]

    slot = torch.ones(B, T, dtype=torch.bool)
    win = torch.ones(B, dtype=torch.bool)
    sb_ok = torch.arange(d.max_subbands)[None, :] < n_sb[:, None]  # [B, S]
    beam_ids = torch.arange(d.max_beams)
    rsrp = -70 - 1.5 * (beam_ids[None, None, :] - beam[..., None]).abs() + n(B, T, d.max_beams)
    # the UE reports its 4 strongest beams among those that exist
    reported = rsrp.masked_fill(beam_ids >= n_beams[:, None, None], -1e9).topk(4, -1).indices
    rsrp_mask = torch.zeros(B, T, d.max_beams, dtype=torch.bool).scatter(-1, reported, True)

    rx_ok = torch.arange(d.max_rx)[None, :] < n_rx[:, None]
    tx_ok = torch.arange(d.max_tx)[None, :] < n_tx[:, None]
    h_mask = sb_ok[:, None, :, None, None] & rx_ok[:, None, None, :, None]
    h_mask = (h_mask & tx_ok[:, None, None, None, :]).expand(B, T, -1, -1, -1)
    gain = (10 ** (snr / 20))[..., None, None, None] / 10
    h = gain * torch.complex(
        n(B, T, d.max_subbands, d.max_rx, d.max_tx), n(B, T, d.max_subbands, d.max_rx, d.max_tx)
    )

    thp = 1000 * torch.exp(snr / 6) * (1 + 0.1 * u(B, T))
    w: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
        "csi.ri": (rank - 1, slot),
        "csi.cri": (torch.zeros(B, T, dtype=torch.long), slot),
        **{f"csi.pmi_{p}": (v, slot) for p, v in pmi.items()},
        "csi.cqi_wb": (cqi.round(), slot),
        "csi.cqi_sb": (
            (cqi[..., None] + n(B, T, d.max_subbands)).clamp(0, 15).round(),
            sb_ok[:, None, :].expand(B, T, -1),
        ),
        "csi.sinr_db": (snr + n(B, T), slot),
        "csi.beam_rsrp": (rsrp, rsrp_mask),
        "csi.beam_id": (beam, slot),
        "csi.h_est": (h.to(torch.complex64), h_mask),
        # KPM: one value per window (the latest granularity period's)
        "kpm.DRB.UEThpDl": (thp[:, -1], win),
        "kpm.DRB.UEThpUl": (thp[:, -1] / 4, win),
        "kpm.RRU.PrbUsedDl": (100 * u(B), win),
        "kpm.L1M.SS-RSRP": (rsrp.max(-1).values.mean(1), win),
        "kpm.MR.NRScSSSINR": (snr.mean(1) + n(B), win),
        "kpm.CARR.AverageLayersDl": (rank.float().mean(1) + 0.2 * n(B), win),
        "ctx.codebook": (codebook, win),
        "ctx.n_tx": (n_tx.float(), win),
        "ctx.n_rx": (n_rx.float(), win),
        "ctx.n_subbands": (n_sb.float(), win),
        "ctx.n_beams": (n_beams.float(), win),
        "ctx.report_period_ms": (torch.full((B,), 10.0), win),
        "ctx.horizon_ms": (torch.full((B,), 10.0), win),
    }
    # the label at the horizon is the latest slot's state (persistence is a fair synthetic law)
    targets = Targets(
        rank=rank[:, -1].clone(),
        pmi={p: v[:, -1].clone() for p, v in pmi.items()},
        beam=beam[:, -1].clone(),
        cqi=cqi[:, -1].clone(),
        se=torch.log2(1 + 10 ** (snr[:, -1] / 10)) * rank[:, -1] / 2,
    )
    return w, targets
