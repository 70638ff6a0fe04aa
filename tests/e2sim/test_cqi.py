"""CQI: the TS 38.214 4-bit tables, SINR thresholds, effective SINR and subband reporting."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import pytest
import torch

from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.cqi import (
    cqi_efficiency,
    cqi_from_sinr_db,
    cqi_report,
    cqi_spectral_efficiency,
    cqi_table,
    differential_cqi,
    effective_sinr,
    sinr_thresholds_db,
    subband_cqi_from_differential,
)
from e2sim.csi.report import compute_csi
from e2sim.csi.selection import select_csi


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Run on one intra-op thread: on the shared 2-core machine a second thread only spins
    on many small tensors (measured 10-30x slower under load); restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("table", [1, 2])
def test_each_table_has_fifteen_rows_whose_efficiency_is_qm_times_rate(table: int) -> None:
    rows = cqi_table(table)
    assert [row.index for row in rows] == list(range(1, 16))
    for row in rows:
        assert math.isclose(row.efficiency, row.qm * row.code_rate_x1024 / 1024, abs_tol=6e-5)


def test_table_1_known_entries() -> None:
    rows = cqi_table(1)
    assert (rows[0].modulation, rows[0].code_rate_x1024, rows[0].efficiency) == ("QPSK", 78, 0.1523)
    assert (rows[6].modulation, rows[6].code_rate_x1024, rows[6].efficiency) == (
        "16QAM", 378, 1.4766)
    assert (rows[14].modulation, rows[14].code_rate_x1024, rows[14].efficiency) == (
        "64QAM", 948, 5.5547)


def test_table_2_known_entries() -> None:
    rows = cqi_table(2)
    assert (rows[1].modulation, rows[1].code_rate_x1024) == ("QPSK", 193)
    assert (rows[11].modulation, rows[11].code_rate_x1024, rows[11].efficiency) == (
        "256QAM", 711, 5.5547)
    assert (rows[14].modulation, rows[14].code_rate_x1024, rows[14].efficiency) == (
        "256QAM", 948, 7.4063)


def test_unknown_table_is_refused() -> None:
    with pytest.raises(ValueError):
        cqi_table(3)


@pytest.mark.parametrize("table", [1, 2])
def test_thresholds_rise_with_the_cqi_index(table: int) -> None:
    assert bool((sinr_thresholds_db(table).diff() > 0).all())


def test_threshold_is_the_shannon_bound_plus_the_gap() -> None:
    eff = cqi_table(1)[9].efficiency
    shannon_db = 10 * math.log10(2**eff - 1)
    assert math.isclose(float(sinr_thresholds_db(1, gap_db=2.0)[9]), shannon_db + 2.0,
                        abs_tol=1e-4)
    assert math.isclose(float(sinr_thresholds_db(1, gap_db=0.0)[9]), shannon_db, abs_tol=1e-4)


@pytest.mark.parametrize("table", [1, 2])
def test_cqi_never_falls_as_sinr_rises(table: int) -> None:
    sinr = torch.linspace(-20, 40, 2001)
    cqi = cqi_from_sinr_db(sinr, table)
    assert bool((cqi.diff() >= 0).all())
    assert int(cqi[0]) == 0 and int(cqi[-1]) == 15


@pytest.mark.parametrize("table", [1, 2])
def test_cqi_steps_up_exactly_at_each_threshold(table: int) -> None:
    thresholds = sinr_thresholds_db(table)
    assert torch.equal(cqi_from_sinr_db(thresholds, table), torch.arange(1, 16))
    assert torch.equal(cqi_from_sinr_db(thresholds - 1e-3, table), torch.arange(0, 15))


def test_cqi_zero_has_no_efficiency_and_rank_multiplies_it() -> None:
    cqi = torch.tensor([0, 7, 15])
    assert cqi_efficiency(cqi, 1).tolist() == pytest.approx([0.0, 1.4766, 5.5547])
    assert torch.allclose(cqi_spectral_efficiency(cqi, 3, 1), 3 * cqi_efficiency(cqi, 1))


def test_efficiency_of_an_invalid_cqi_is_refused() -> None:
    with pytest.raises(ValueError):
        cqi_efficiency(torch.tensor([16]))


def test_effective_sinr_of_equal_sinrs_is_that_sinr() -> None:
    sinr = torch.full((3, 13), 7.5)
    assert torch.allclose(effective_sinr(sinr, dim=-1), torch.full((3,), 7.5))


def test_effective_sinr_lies_between_min_and_arithmetic_mean() -> None:
    sinr = torch.rand(50, 13, generator=torch.Generator().manual_seed(0)) * 100
    eff = effective_sinr(sinr, dim=-1)
    assert bool((eff >= sinr.min(-1).values).all())
    assert bool((eff <= sinr.mean(-1) + 1e-4).all())


def test_differential_values_follow_table_5_2_2_1_1() -> None:
    wideband = torch.tensor([7])
    subband = torch.tensor([[4, 6, 7, 8, 9, 12]])  # offsets -3, -1, 0, 1, 2, 5
    assert differential_cqi(subband, wideband).tolist() == [[3, 3, 0, 1, 2, 2]]


def test_gnb_reconstructs_offsets_zero_one_two_and_minus_one() -> None:
    rebuilt = subband_cqi_from_differential(torch.tensor([7, 15, 0]), torch.tensor([0, 1, 2, 3]))
    assert rebuilt.tolist() == [[7, 8, 9, 6], [15, 15, 15, 14], [0, 1, 2, 0]]


def test_flat_channel_report_has_equal_subband_and_wideband_cqi() -> None:
    report = cqi_report(torch.full((4, 13), 3.0), rank=1)
    assert torch.equal(report.subband, report.wideband[:, None].expand(4, 13))
    assert bool((report.subband_differential == 0).all())


def test_wideband_cqi_uses_the_capacity_per_layer() -> None:
    # 6 bit/s/Hz over 2 layers is 3 bit/s/Hz per layer: SINR_eff = 2^3 - 1 = 7.
    report = cqi_report(torch.full((1, 13), 6.0), rank=2)
    assert math.isclose(float(report.effective_sinr_db[0]), 10 * math.log10(7), abs_tol=1e-4)
    expected = cqi_from_sinr_db(torch.tensor([10 * math.log10(7)]))
    assert int(report.wideband[0]) == int(expected[0])


def test_a_strong_subband_reports_a_higher_subband_cqi() -> None:
    se = torch.full((1, 13), 2.0)
    se[0, 4] = 5.0
    report = cqi_report(se, rank=1)
    assert int(report.subband[0, 4]) > int(report.wideband[0])
    assert int(report.subband_differential[0, 4]) in (1, 2)


def test_table_2_reaches_higher_cqi_efficiency_at_high_sinr() -> None:
    se = torch.full((1, 13), 9.0)  # about 27 dB per layer
    eff1 = cqi_efficiency(cqi_report(se, 1, table=1).wideband, 1)
    eff2 = cqi_efficiency(cqi_report(se, 1, table=2).wideband, 2)
    assert float(eff2[0]) > float(eff1[0])


def test_cqi_of_a_selected_choice_rises_with_snr() -> None:
    gen = torch.Generator().manual_seed(5)
    h = torch.randn(8, 13, 2, 4, dtype=torch.complex64, generator=gen)
    cb = TypeICodebook(4)
    wideband = []
    for snr_db in (-5, 5, 15, 25):
        choice = select_csi(cb, h * math.sqrt(10 ** (snr_db / 10)))
        wideband.append(cqi_report(choice.subband_se, choice.ri).wideband)
    for low, high in itertools.pairwise(wideband):
        assert bool((high >= low).all())
    assert bool((wideband[-1] > wideband[0]).all())


def test_compute_csi_reports_the_cqi_of_its_own_ri_pmi_choice() -> None:
    gen = torch.Generator().manual_seed(6)
    h = torch.randn(5, 13, 2, 4, dtype=torch.complex64, generator=gen) * 3
    cb = TypeICodebook(4)
    csi = compute_csi(cb, h, table=2)
    choice = select_csi(cb, h)
    assert torch.equal(csi.selection.pmi, choice.pmi)
    assert torch.equal(csi.cqi.wideband, cqi_report(choice.subband_se, choice.ri, 2).wideband)
    assert csi.beams is None
