"""Snapshots of a drop: shapes, determinism, SNR normalisation, estimation error."""

from __future__ import annotations

import pytest
import torch

from e2sim.channel import LINK_LEVEL, ChannelConfig, ChannelSnapshot, make_drop

SMALL = {"n_ue": 4, "n_prb": 24, "subband_prb": 4, "anchors_per_segment": 3}


def _snapshot_after(cfg: ChannelConfig, seconds: float) -> ChannelSnapshot:
    drop = make_drop(cfg)
    drop.advance(seconds)
    return drop.snapshot()


def _assert_well_formed(snap: ChannelSnapshot, cfg: ChannelConfig) -> None:
    shape = (cfg.n_ue, cfg.n_subbands, cfg.n_rx, cfg.n_tx)
    for h in (snap.h_true, snap.h_ue_est, snap.h_gnb_est):
        assert h.shape == shape
        assert h.dtype == torch.complex64
        assert torch.isfinite(torch.view_as_real(h)).all()
    for per_ue in (snap.snr_db, snap.pathloss_db, snap.speed_mps):
        assert per_ue.shape == (cfg.n_ue,)
        assert per_ue.dtype == torch.float32
    assert snap.position_m.shape == (cfg.n_ue, 3)
    assert snap.los.shape == (cfg.n_ue,) and snap.los.dtype == torch.bool


@pytest.mark.parametrize("scenario", ["umi", "uma", *LINK_LEVEL])
def test_every_scenario_gives_per_subband_complex64_channels(scenario: str) -> None:
    cfg = ChannelConfig(scenario=scenario, **SMALL)
    _assert_well_formed(_snapshot_after(cfg, 0.05), cfg)


@pytest.mark.parametrize(("n_tx", "panel", "n_rx"),
                         [(2, None, 1), (4, None, 2), (8, (2, 2), 4), (8, (4, 1), 2)])
@pytest.mark.parametrize("scenario", ["umi", "cdl-c", "tdl-a"])
def test_every_antenna_configuration_gives_the_configured_shape(
        scenario: str, n_tx: int, panel: tuple[int, int] | None, n_rx: int) -> None:
    cfg = ChannelConfig(scenario=scenario, n_tx=n_tx, panel=panel, n_rx=n_rx, **SMALL)
    _assert_well_formed(_snapshot_after(cfg, 0.0), cfg)


def test_subbands_follow_bandwidth_and_subband_size() -> None:
    cfg = ChannelConfig(scenario="cdl-a", n_ue=2, n_prb=106, subband_prb=8, scs_hz=15e3,
                        carrier_hz=2.6e9)
    assert make_drop(cfg).snapshot().h_true.shape[1] == 14


@pytest.mark.parametrize("scenario", ["umi", "cdl-b", "tdl-c"])
def test_same_seed_gives_identical_tensors(scenario: str) -> None:
    # 1 s at up to 120 km/h crosses many anchors, so redraws are covered too.
    cfg = ChannelConfig(scenario=scenario, seed=7, **SMALL)
    first, second = _snapshot_after(cfg, 1.0), _snapshot_after(cfg, 1.0)
    for name in ("h_true", "h_ue_est", "h_gnb_est", "snr_db", "position_m", "los"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name


@pytest.mark.parametrize("scenario", ["umi", "cdl-b", "tdl-c"])
def test_different_seeds_give_different_channels(scenario: str) -> None:
    one = _snapshot_after(ChannelConfig(scenario=scenario, seed=1, **SMALL), 0.2)
    two = _snapshot_after(ChannelConfig(scenario=scenario, seed=2, **SMALL), 0.2)
    assert not torch.allclose(one.h_true, two.h_true)


def test_a_snapshot_taken_twice_at_one_instant_is_the_same() -> None:
    drop = make_drop(ChannelConfig(scenario="umi", **SMALL))
    drop.advance(0.3)
    assert torch.equal(drop.snapshot().h_ue_est, drop.snapshot().h_ue_est)


def _power_to_snr_ratio(snap: ChannelSnapshot) -> torch.Tensor:
    """mean over UEs and subbands of |H|^2 / SNR, per (rx, tx) pair: [n_rx, n_tx]."""
    snr = 10.0 ** (snap.snr_db / 10.0)
    return (snap.h_true.abs().square() / snr[:, None, None, None]).mean(dim=(0, 1))


@pytest.mark.parametrize("scenario", ["umi", "cdl-a", "tdl-b"])
def test_mean_channel_power_per_antenna_pair_is_the_snr(scenario: str) -> None:
    cfg = ChannelConfig(scenario=scenario, n_ue=48, n_tx=4, n_rx=2, n_prb=52,
                        anchors_per_segment=2, ues_per_sionna_call=24)
    ratio = _power_to_snr_ratio(_snapshot_after(cfg, 0.0))
    assert float(ratio.mean()) == pytest.approx(1.0, abs=0.15)
    # Single pairs may differ (co- vs cross-polar elements); each rx antenna averaged over
    # the tx ports, and each tx port averaged over the rx antennas, carries the SNR.
    per_rx, per_tx = ratio.mean(dim=1), ratio.mean(dim=0)
    assert torch.all((per_rx > 0.75) & (per_rx < 1.25)), per_rx
    assert torch.all((per_tx > 0.75) & (per_tx < 1.25)), per_tx


def test_link_level_snr_is_drawn_within_the_configured_range() -> None:
    cfg = ChannelConfig(scenario="tdl-a", n_ue=64, snr_db_range=(-5.0, 20.0))
    snr = make_drop(cfg).snapshot().snr_db
    assert float(snr.min()) >= -5.0 - 1e-4 and float(snr.max()) <= 20.0 + 1e-4
    assert float(snr.max() - snr.min()) > 10.0


def test_system_level_snr_follows_the_link_budget() -> None:
    cfg = ChannelConfig(scenario="uma", n_ue=32, snr_cap_db=60.0, anchors_per_segment=2)
    snap = make_drop(cfg).snapshot()
    budget_db = cfg.tx_power_dbm - snap.pathloss_db - cfg.interference_plus_noise_dbm
    antenna_gain_db = snap.snr_db - budget_db
    # The 38.901 element peaks at 8 dBi; off-boresight paths only lose gain.
    assert float(antenna_gain_db.max()) <= 8.5
    assert float(antenna_gain_db.median()) > -15.0


def test_snr_stays_below_the_cap_and_strong_links_approach_it() -> None:
    cfg = ChannelConfig(scenario="umi", n_ue=16, snr_cap_db=20.0, anchors_per_segment=2)
    snr = make_drop(cfg).snapshot().snr_db
    assert float(snr.max()) < 20.0
    assert float(snr.max()) > 17.0


def test_interference_lowers_every_snr_by_the_interference_over_thermal() -> None:
    quiet = ChannelConfig(scenario="uma", n_ue=8, interference_over_thermal_db=0.0,
                          snr_cap_db=90.0, anchors_per_segment=2)
    loaded = ChannelConfig(scenario="uma", n_ue=8, interference_over_thermal_db=12.0,
                           snr_cap_db=90.0, anchors_per_segment=2)
    drop = make_drop(quiet).snapshot().snr_db - make_drop(loaded).snapshot().snr_db
    assert torch.allclose(drop, torch.full_like(drop, 12.0), atol=0.05)


@pytest.mark.parametrize(("ue_db", "gnb_db"), [(20.0, 10.0), (5.0, 30.0)])
def test_estimation_error_power_matches_its_configured_snr(ue_db: float, gnb_db: float) -> None:
    cfg = ChannelConfig(scenario="cdl-c", n_ue=64, ue_est_snr_db=ue_db, gnb_est_snr_db=gnb_db)
    snap = make_drop(cfg).snapshot()
    for est, snr_db in ((snap.h_ue_est, ue_db), (snap.h_gnb_est, gnb_db)):
        err = (est - snap.h_true).abs().square().flatten(1).mean(dim=1)
        sig = snap.h_true.abs().square().flatten(1).mean(dim=1)
        measured_db = 10 * torch.log10(sig.sum() / err.sum())
        assert float(measured_db) == pytest.approx(snr_db, abs=0.5)


def test_ue_and_gnb_estimates_have_independent_errors() -> None:
    snap = make_drop(ChannelConfig(scenario="cdl-c", n_ue=16)).snapshot()
    e_ue = (snap.h_ue_est - snap.h_true).flatten()
    e_gnb = (snap.h_gnb_est - snap.h_true).flatten()
    corr = (e_ue.conj() * e_gnb).sum().abs() / (e_ue.norm() * e_gnb.norm())
    assert float(corr) < 0.1


def test_reports_are_spaced_by_the_report_period() -> None:
    cfg = ChannelConfig(scenario="tdl-a", n_ue=2, report_period_s=0.02)
    times = [snap.time_s for snap in make_drop(cfg).reports(4)]
    assert times == pytest.approx([0.0, 0.02, 0.04, 0.06])


def test_positions_move_at_the_ue_speed() -> None:
    drop = make_drop(ChannelConfig(scenario="umi", **SMALL))
    start = drop.snapshot()
    drop.advance(0.1)
    moved = (drop.snapshot().position_m - start.position_m).norm(dim=1)
    # Straight lines at constant speed (a U-turn at the sector edge shortens it).
    assert torch.all(moved <= start.speed_mps * 0.1 + 1e-3)
    assert float(moved.max()) > 0.5 * float((start.speed_mps * 0.1).max())
