"""The simulated cell: what its UEs report, the KPM of its scheduler, determinism."""

from __future__ import annotations

import math
import re

import pytest
import torch

from e2sim.cell import CELL_KPM_NAMES, UE_KPM_NAMES, WB_CQI_DIST, Cell, CellConfig
from e2sim.cell.scheduler import ProportionalFairScheduler
from e2sim.cell.ue_csi import measure, to_reports
from e2sim.channel import ChannelConfig
from e2sim.csi import DftBeamGrid, TypeICodebook
from model.registry import FeatureRegistry

torch.set_num_threads(1)

TS28552_NAME = re.compile(r"^(DRB|RRU|CARR|L1M|MR)\.[A-Za-z0-9-]+(\.[A-Za-z0-9]+)*$")


def small_cell(seed: int = 1, n_ues: int = 4, **kw: object) -> Cell:
    channel = ChannelConfig(scenario="cdl-c", n_prb=24, subband_prb=4)
    return Cell(CellConfig(channel=channel, n_ues=n_ues, seed=seed, **kw))  # type: ignore[arg-type]


def rank_one_channel(codebook: TypeICodebook, pmi: int, n_ue: int, n_sb: int,
                     snr_db: float) -> torch.Tensor:
    """H_k = sqrt(snr) x w^H: every subband sees the conjugate of precoder ``pmi``."""
    w = codebook.precoders(1)[pmi][:, 0] * math.sqrt(codebook.n_ports)  # unit-modulus taps
    x = torch.tensor([1.0, 0.5j], dtype=torch.complex64)
    h = math.sqrt(10 ** (snr_db / 10)) * x[:, None] * w.conj()[None, :]
    return h.expand(n_ue, n_sb, 2, codebook.n_ports).clone()


@pytest.mark.parametrize("pmi", [0, 5, 13, 31])
def test_a_rank_one_channel_is_reported_with_its_own_precoder(pmi: int) -> None:
    codebook = TypeICodebook(4)
    grid = DftBeamGrid.with_size(16, 2, 1)
    h = rank_one_channel(codebook, pmi, n_ue=2, n_sb=6, snr_db=10.0)
    csi = measure(h, codebook, grid, top_k=4, cqi_table=1, noise_dbm=-130.0)
    assert csi.ri.tolist() == [1, 1]
    assert csi.pmi.tolist() == [pmi, pmi]
    report = to_reports(csi, [7, 8], report_slot=3, n_tx=4, h_gnb_est=None)[0]
    i11, i12, _, i2 = codebook.indices(1)[pmi].tolist()
    assert report.csi is not None
    assert (report.csi.pmi.i11, report.csi.pmi.i12, report.csi.pmi.i2) == (i11, i12, i2)
    assert report.csi.pmi.i13 is None  # rank 1 has no i13
    assert report.ue_id == 7 and report.report_slot == 3


def test_reported_beams_are_strongest_first_and_in_dbm() -> None:
    cell = small_cell()
    step = cell.step()
    for report in step.reports:
        rsrp = [b.rsrp_dbm for b in report.beams]
        assert len(rsrp) == cell.cfg.top_k_beams
        assert rsrp == sorted(rsrp, reverse=True)
        assert all(-160.0 < p < 0.0 for p in rsrp)
        assert all(0 <= b.beam_index < cell.cfg.beam_grid_size for b in report.beams)


def test_every_ue_reports_once_per_step_with_cqi_per_subband_and_the_srs_estimate() -> None:
    cell = small_cell(n_ues=3)
    step = cell.step()
    assert [r.ue_id for r in step.reports] == cell.ue_ids
    for report in step.reports:
        assert report.csi is not None and report.channel_estimate is not None
        assert len(report.csi.subband_cqi) == cell.cfg.channel.n_subbands
        assert report.channel_estimate.shape == (6, 2, 4)
        assert 1 <= report.csi.ri <= 2


def test_the_same_seed_gives_identical_reports_and_kpm() -> None:
    a, b = small_cell(seed=5), small_cell(seed=5)
    for _ in range(3):
        sa, sb = a.step(), b.step()
        assert sa.reports == sb.reports
        assert sa.ue_kpm == sb.ue_kpm
        assert sa.cell_kpm == sb.cell_kpm


def test_another_seed_gives_other_reports() -> None:
    assert small_cell(seed=5).step().reports != small_cell(seed=6).step().reports


def test_steps_advance_time_by_the_report_period_in_slots() -> None:
    cell = small_cell(report_period_ms=5)
    times = [(s.time_ms, s.report_slot) for s in (cell.step() for _ in range(3))]
    assert times == [(0.0, 0), (5.0, 10), (10.0, 20)]  # 30 kHz: 0.5 ms slots


def test_the_pf_scheduler_gives_every_ue_a_share_and_every_prb_once() -> None:
    prbs = [4, 4, 4, 4, 4, 4, 4, 2]
    sched = ProportionalFairScheduler(4, prbs, 30e3, 0.5e-3, time_constant_slots=50)
    gen = torch.Generator().manual_seed(0)
    scale = torch.tensor([1.0, 3.0, 0.2, 8.0])[:, None]  # very different link qualities
    shares = torch.zeros(4, dtype=torch.float64)
    for _ in range(50):
        se = scale * (0.5 + torch.rand(4, len(prbs), generator=gen))
        alloc = sched.schedule(se, n_slots=20)
        assert float(alloc.prb_per_slot.sum()) == pytest.approx(sum(prbs))
        assert alloc.prb_total == pytest.approx(20 * sum(prbs))
        shares += alloc.prb_per_slot
    shares /= shares.sum()
    assert bool((shares > 0.25 / 4).all()), shares  # PF: even the weakest UE gets its turn


def test_the_pf_scheduler_favours_a_ue_at_its_relative_peak() -> None:
    sched = ProportionalFairScheduler(2, [4, 4], 30e3, 0.5e-3, time_constant_slots=100)
    sched.schedule(torch.ones(2, 2), n_slots=200)  # equal averages
    peak = torch.tensor([[1.0, 1.0], [1.0, 3.0]])  # UE 1 peaks on subband 1
    alloc = sched.schedule(peak, n_slots=1)
    assert alloc.prb_per_slot.tolist() == [4.0, 4.0]  # subband 0 to UE 0, subband 1 to UE 1


def test_cell_kpm_adds_up_the_ues() -> None:
    cell = small_cell(n_ues=5)
    for _ in range(3):
        step = cell.step()
    used = sum(kpm["RRU.PrbUsedDl"] for kpm in step.ue_kpm.values())
    thp = sum(kpm["DRB.UEThpDl"] for kpm in step.ue_kpm.values())
    assert step.cell_kpm["RRU.PrbUsedDl"] == pytest.approx(used)
    assert step.cell_kpm["RRU.PrbUsedDl"] == pytest.approx(cell.cfg.channel.n_prb)
    assert step.cell_kpm["RRU.PrbTotDl"] == pytest.approx(100.0)  # full buffer
    assert step.cell_kpm["DRB.UEThpDl"] == pytest.approx(thp)
    assert all(kpm["DRB.UEThpDl"] >= 0 for kpm in step.ue_kpm.values())
    assert 1.0 <= step.cell_kpm["CARR.AverageLayersDl"] <= 2.0


def test_the_cqi_rank_histogram_counts_every_report_once() -> None:
    cell = small_cell(n_ues=6)
    step = cell.step()
    hist = step.cell_kpm_binned[WB_CQI_DIST]
    assert sum(hist.values()) == 6
    for report in step.reports:
        assert report.csi is not None
        label = next(lab for lab in hist if lab.dist_bin_x == report.csi.wideband_cqi + 1
                     and lab.dist_bin_y == report.csi.ri)
        assert label.dist_bin_z == cell.cfg.cqi_table


def test_kpm_names_are_ts28552_names_the_model_reads() -> None:
    registry = FeatureRegistry()
    step = small_cell().step()
    for kpm in step.ue_kpm.values():
        assert set(kpm) == set(UE_KPM_NAMES)
    for name in UE_KPM_NAMES:
        assert f"kpm.{name}" in registry
    for name in (*CELL_KPM_NAMES, WB_CQI_DIST, *UE_KPM_NAMES):
        assert TS28552_NAME.match(name), name
    assert set(step.cell_kpm) == set(CELL_KPM_NAMES)


@pytest.mark.parametrize(("n_tx", "panel", "n_beams"), [(2, None, 16), (8, (2, 2), 64),
                                                        (8, (4, 1), 32)])
def test_the_ran_function_definition_describes_the_antennas(
        n_tx: int, panel: tuple[int, int] | None, n_beams: int) -> None:
    channel = ChannelConfig(scenario="tdl-a", n_tx=n_tx, panel=panel, n_prb=12)
    cell = Cell(CellConfig(channel=channel, n_ues=2, beam_grid_size=n_beams))
    antenna = cell.definition.antenna
    assert antenna.n_tx_ports == n_tx and antenna.beam_codebook_size == n_beams
    assert 2 * antenna.n1 * antenna.n2 == n_tx
    assert cell.definition.numerology.num_subbands == channel.n_subbands
    step = cell.step()
    assert step.reports[0].channel_estimate is not None
    assert step.reports[0].channel_estimate.shape[2] == n_tx


def test_a_cell_config_refuses_an_unsupported_beam_grid() -> None:
    with pytest.raises(ValueError, match="beam_grid_size"):
        CellConfig(beam_grid_size=24)


def test_the_config_rules_over_the_channel_copy_of_ues_period_and_seed() -> None:
    cfg = CellConfig(channel=ChannelConfig(n_ue=99, seed=4), n_ues=3, report_period_ms=20,
                     seed=8)
    ch = cfg.channel_config
    assert (ch.n_ue, ch.report_period_s, ch.seed) == (3, 0.02, 8)


def test_equal_beams_are_reported_lowest_index_first_like_the_oracle() -> None:
    channel = ChannelConfig(scenario="tdl-a", n_tx=2, n_prb=12)
    cell = Cell(CellConfig(channel=channel, n_ues=3, beam_grid_size=16))
    cell.step()
    scores = cell.step().scores  # on one element per polarisation every DFT beam is the same
    assert scores is not None
    assert scores.oracle_beam.tolist() == [0, 0, 0]
    assert float(scores.beam_loss_legacy_db.abs().max()) == 0.0
