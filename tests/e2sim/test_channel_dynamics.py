"""How channels evolve in time: Doppler decorrelation and beams moving along UMi tracks."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from e2sim.channel import ChannelConfig, SystemLevelDrop, make_drop


def _correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over UEs of |<a_u, b_u>| / (|a_u| |b_u|) over all subbands and antennas."""
    num = (a.conj() * b).flatten(1).sum(dim=1).abs()
    return float((num / (a.flatten(1).norm(dim=1) * b.flatten(1).norm(dim=1))).mean())


def _consecutive_correlation(scenario: str, speed_kmh: float, period_s: float) -> float:
    drop = make_drop(ChannelConfig(scenario=scenario, n_ue=16, speed_kmh=(speed_kmh, speed_kmh),
                                   anchors_per_segment=4, seed=5))
    values = []
    for _ in range(8):
        before = drop.snapshot().h_true
        drop.advance(period_s)
        values.append(_correlation(before, drop.snapshot().h_true))
        drop.advance(0.137)  # move on to a fresh, unrelated pair of instants
    return sum(values) / len(values)


@pytest.mark.parametrize("scenario", ["umi", "cdl-c", "tdl-a"])
def test_walking_speed_and_a_short_period_keep_consecutive_reports_alike(scenario: str) -> None:
    assert _consecutive_correlation(scenario, 3.0, 0.005) > 0.95


def _correlation_at_displacements(scenario: str, displacements_m: list[float]) -> list[float]:
    """Mean correlation between h(t) and h after moving each displacement from t, over the
    same 16 UEs and 8 start instants for every displacement (paired, so that the seed's
    luck is shared and only the displacement differs)."""
    speed_kmh = 30.0
    v = speed_kmh / 3.6
    drop = make_drop(ChannelConfig(scenario=scenario, n_ue=16, speed_kmh=(speed_kmh, speed_kmh),
                                   anchors_per_segment=4, seed=5))
    sums = [0.0] * len(displacements_m)
    for _ in range(8):
        start, moved = drop.snapshot().h_true, 0.0
        for i, d in enumerate(displacements_m):  # increasing: advance from one to the next
            drop.advance(d / v - moved)
            moved = d / v
            sums[i] += _correlation(start, drop.snapshot().h_true) / 8
        drop.advance(0.137)  # move on to a fresh, unrelated start
    return sums


@pytest.mark.parametrize("scenario", ["umi", "cdl-c"])
def test_correlation_falls_as_speed_times_period_grows(scenario: str) -> None:
    # Displacements of 4 mm, 14 mm, 83 mm and 0.67 m (lambda = 8.6 cm at 3.5 GHz): 3 km/h
    # over 5 ms, 10 km/h over 5 ms, 30 km/h over 10 ms, 120 km/h over 20 ms.
    corr = _correlation_at_displacements(scenario, [0.004, 0.014, 0.083, 0.67])
    assert all(a > b for a, b in itertools.pairwise(corr)), corr


def _beam_rsrp(h: torch.Tensor, n1: int = 4, oversampling: int = 4) -> torch.Tensor:
    """RSRP of an oversampled DFT grid over the N1 co-polar ports, both polarisations.

    h: [n_ue, n_sb, n_rx, 2 * n1] -> [n_ue, n1 * oversampling]
    """
    beams = torch.arange(n1 * oversampling)
    w = torch.exp(2j * math.pi * torch.outer(torch.arange(n1), beams) / (n1 * oversampling))
    w = (w / math.sqrt(n1)).to(torch.complex64)
    return ((h[..., :n1] @ w).abs().square() + (h[..., n1:] @ w).abs().square()).sum(dim=(1, 2))


def _beam_drift(speed_kmh: float) -> torch.Tensor:
    """Grid steps between the best beam of the first and of the last second of 4 s: [n_ue]."""
    cfg = ChannelConfig(scenario="umi", n_ue=16, n_tx=8, panel=(4, 1),
                        speed_kmh=(speed_kmh, speed_kmh), report_period_s=0.1, seed=2)
    rsrp = torch.stack([_beam_rsrp(s.h_true) for s in make_drop(cfg).reports(40)])
    first, last = rsrp[:10].mean(dim=0).argmax(dim=-1), rsrp[-10:].mean(dim=0).argmax(dim=-1)
    steps = (first - last).abs()
    return torch.minimum(steps, 16 - steps)


def test_best_beam_of_some_umi_ues_moves_within_seconds_at_60_kmh() -> None:
    assert int((_beam_drift(60.0) >= 2).sum()) >= 4


def test_beams_drift_more_at_60_kmh_than_at_walking_speed() -> None:
    assert int((_beam_drift(60.0) >= 2).sum()) > int((_beam_drift(3.0) >= 2).sum())


def test_crossing_anchors_and_redrawing_rays_causes_no_jump() -> None:
    # Anchors every 0.2 m and a Sionna redraw every 2 anchors: at 3 km/h and 5 ms the
    # UEs pass ~3 anchors and 1-2 redraws in 0.75 s; every step must stay smooth.
    cfg = ChannelConfig(scenario="umi", n_ue=8, speed_kmh=(3.0, 3.0), anchor_spacing_m=0.2,
                        anchors_per_segment=2, report_period_s=0.005, seed=9)
    drop = SystemLevelDrop(cfg)
    snaps = [s.h_true for s in drop.reports(150)]
    assert drop.segments_drawn >= 2
    worst = min(_correlation(a, b) for a, b in itertools.pairwise(snaps))
    assert worst > 0.9


def test_fast_ues_turn_back_at_the_sector_edge_and_stay_in_the_cell() -> None:
    cfg = ChannelConfig(scenario="umi", n_ue=4, speed_kmh=(120.0, 120.0), anchor_spacing_m=5.0,
                        report_period_s=1.0, seed=4)
    radii = torch.stack([s.position_m[:, :2].norm(dim=1) for s in make_drop(cfg).reports(12)])
    # 12 s at 33 m/s is 400 m, more than the 115 m cell radius: the tracks must fold back.
    assert float(radii.max()) <= 200.0 / math.sqrt(3.0) + 1e-3
    assert float(radii.min()) >= 10.0 - 1e-3


def test_iterating_a_drop_yields_reports_one_period_apart() -> None:
    drop = make_drop(ChannelConfig(scenario="cdl-a", n_ue=2, report_period_s=0.04))
    times = [snap.time_s for snap, _ in zip(drop, range(3), strict=False)]
    assert times == pytest.approx([0.0, 0.04, 0.08])
