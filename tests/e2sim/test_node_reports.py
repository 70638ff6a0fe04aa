"""KPM and CSI report assembly of the simulated node, on small hand-made cell samples."""

from __future__ import annotations

import pytest

from e2sim.node.csi_reports import csi_indications, ntp_of
from e2sim.node.kpm_reports import KpmHistory, KpmSample, cell_report, ue_matches, ue_report
from xapp.e2 import csi
from xapp.e2.csi_types import CsiActionDefinition, NrCgi
from xapp.e2.kpm_types import (
    Guami,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    MeasurementInfo,
    MeasurementLabel,
    TestCondition,
    UeIdGnb,
    plmn_id,
)

DIST = "CARR.WBCQIDist.BinX.BinY.BinZ"
GUAMI = Guami(plmn_id("001", "01"), 1, 1, 1)


def cqi_bin(cqi: int, rank: int) -> MeasurementLabel:
    return MeasurementLabel(dist_bin_x=cqi + 1, dist_bin_y=rank, dist_bin_z=1)


def sample(t: float, thp: float, bins: dict[MeasurementLabel, float] | None = None,
           ues: dict[int, tuple[float, float, int]] | None = None) -> KpmSample:
    """Cell throughput ``thp``; ``ues``: ue_id -> (throughput, RSRP dBm, wideband CQI)."""
    ues = ues or {}
    return KpmSample(
        time_ms=t,
        ue={u: {"DRB.UEThpDl": v[0], "L1M.SS-RSRP": v[1]} for u, v in ues.items()},
        cell={"DRB.UEThpDl": thp, "RRU.PrbUsedDl": 52.0},
        binned={DIST: bins or {}},
        cqi={u: v[2] for u, v in ues.items()})


def history(*samples: KpmSample) -> KpmHistory:
    h = KpmHistory(window_ms=1000)
    for s in samples:
        h.add(s)
    return h


# --- format 1 ------------------------------------------------------------------------------

def test_each_granularity_period_holds_the_mean_of_its_samples() -> None:
    h = history(*(sample(t, thp) for t, thp in ((10, 1.0), (20, 3.0), (30, 5.0), (40, 9.0))))
    action = KpmActionDefinitionFormat1((MeasurementInfo("DRB.UEThpDl"),), 20)
    report = cell_report(h, 40, 40, action)
    assert report.values("DRB.UEThpDl") == (2.0, 7.0)
    assert report.granularity_period_ms == 20


def test_a_period_without_samples_is_novalue_and_incomplete() -> None:
    h = history(sample(40, 9.0))
    report = cell_report(h, 40, 40, KpmActionDefinitionFormat1(
        (MeasurementInfo("DRB.UEThpDl"),), 20))
    assert report.values("DRB.UEThpDl") == (None, 9.0)
    assert [p.incomplete for p in report.periods] == [True, False]


def test_distribution_bins_are_summed_and_an_unlabelled_request_lists_every_bin_seen() -> None:
    h = history(sample(10, 1.0, {cqi_bin(15, 2): 3, cqi_bin(7, 1): 1}),
                sample(20, 1.0, {cqi_bin(15, 2): 4}))
    report = cell_report(h, 20, 20, KpmActionDefinitionFormat1((MeasurementInfo(DIST),), 20))
    [info] = report.measurements
    assert info.labels == (cqi_bin(7, 1), cqi_bin(15, 2))  # ordered by bin
    assert report.periods[0].values == (1, 7)


def test_a_requested_bin_never_seen_counts_zero() -> None:
    h = history(sample(10, 1.0, {cqi_bin(15, 2): 3}))
    action = KpmActionDefinitionFormat1((MeasurementInfo(DIST, (cqi_bin(3, 1),)),), 10)
    assert cell_report(h, 10, 10, action).periods[0].values == (0,)


def test_measurements_the_cell_does_not_keep_are_novalue() -> None:
    h = history(sample(10, 1.0))
    action = KpmActionDefinitionFormat1(
        (MeasurementInfo("DRB.UEThpUl"), MeasurementInfo("DRB.UEThpDl",
                                                         (MeasurementLabel(max=True),))), 10)
    assert cell_report(h, 10, 10, action).periods[0].values == (None, None)


def test_history_keeps_only_its_window() -> None:
    h = KpmHistory(window_ms=30)
    for t in (10, 20, 30, 40, 50):
        h.add(sample(t, float(t)))
    assert [s.time_ms for s in h.between(0, 100)] == [30, 40, 50]


# --- format 3 and UE matching ------------------------------------------------------------

UES = {0: (100.0, -80.0, 15), 1: (50.0, -100.0, 7), 2: (10.0, -115.0, 2)}


def test_format3_reports_only_the_ues_that_match_with_their_own_values() -> None:
    h = history(sample(10, 1.0, ues=UES))
    action = KpmActionDefinitionFormat4(
        (TestCondition("cQI", "greaterthan", "int", 5),),
        (MeasurementInfo("DRB.UEThpDl"), MeasurementInfo("DRB.UEThpUl")), 10)
    report = ue_report(h, 10, 10, action, GUAMI)
    assert report is not None
    by_ue = report.by_ue()
    assert list(by_ue) == [UeIdGnb(0, GUAMI), UeIdGnb(1, GUAMI)]
    assert by_ue[UeIdGnb(1, GUAMI)].periods[0].values == (50.0, None)


def test_format3_is_not_sent_when_no_ue_matches() -> None:
    h = history(sample(10, 1.0, ues=UES))
    action = KpmActionDefinitionFormat4((TestCondition("rSRP", "greaterthan", "int", 0),),
                                        (MeasurementInfo("DRB.UEThpDl"),), 10)
    assert ue_report(h, 10, 10, action, GUAMI) is None


@pytest.mark.parametrize(("conditions", "matches"), [
    ((TestCondition("cQI", "present"),), True),
    ((TestCondition("cQI", "equal", "int", 7),), True),
    ((TestCondition("cQI", "lessthan", "int", 7),), False),
    ((TestCondition("cQI", "greaterthan", "int", 5), TestCondition("rSRP", "lessthan",
                                                                  "int", -110)), False),
    ((TestCondition("cQI", "greaterthan", "int", 9, logical_or=True),
      TestCondition("rSRP", "greaterthan", "int", -105)), True),
    ((TestCondition("cQI", "greaterthan", "int", 9, logical_or=True),
      TestCondition("rSRP", "greaterthan", "int", -95)), False),
])
def test_conditions_are_anded_unless_marked_or(conditions: tuple[TestCondition, ...],
                                               matches: bool) -> None:
    assert ue_matches(conditions, cqi=7, rsrp=-100.0) is matches


def test_a_ue_without_the_tested_quantity_does_not_match() -> None:
    assert not ue_matches((TestCondition("cQI", "present"),), cqi=None, rsrp=-90.0)


# --- CSI -----------------------------------------------------------------------------------

REPORTS = csi.example_indication(n_ues=5).reports
CELL = NrCgi(plmn_id("001", "01"), 1)


def test_csi_reports_are_split_into_indications_of_at_most_max_ues() -> None:
    found = csi_indications(REPORTS, CsiActionDefinition(report_channel_estimate=True,
                                                         max_ues_per_indication=2),
                            CELL, 123, first_sequence=10)
    assert [len(i.reports) for i in found] == [2, 2, 1]
    assert [i.header.sequence_number for i in found] == [10, 11, 12]
    assert [r for i in found for r in i.reports] == list(REPORTS)
    assert {(i.header.cell, i.header.ntp_timestamp) for i in found} == {(CELL, 123)}


def test_csi_reports_keep_only_the_parts_and_ues_asked_for() -> None:
    wanted = (REPORTS[1].ue_id, REPORTS[3].ue_id)
    [indication] = csi_indications(REPORTS, CsiActionDefinition(
        report_csi_fields=False, report_beam_rsrp=True, ue_ids=wanted), CELL, 0, 0)
    assert tuple(r.ue_id for r in indication.reports) == wanted
    assert all(r.csi is None and r.sinr_db is None and r.channel_estimate is None
               for r in indication.reports)
    assert [r.beams for r in indication.reports] == [REPORTS[1].beams, REPORTS[3].beams]


def test_no_csi_indication_when_no_ue_is_selected() -> None:
    assert csi_indications(REPORTS, CsiActionDefinition(ue_ids=(1,)), CELL, 0, 0) == []


def test_ntp_time_counts_seconds_from_1900_in_the_upper_32_bits() -> None:
    assert ntp_of(0.0) >> 32 == 2_208_988_800
    assert ntp_of(1.5) - ntp_of(0.0) == 3 << 31
