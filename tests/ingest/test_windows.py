"""Per-UE windows: slots from CSI reports, KPM alignment, ring order, padding, departures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.pmi_space import CODEBOOK_CONFIGS
from model.registry import FeatureRegistry, NormaliserStats
from model.tokenize import TokenLayout, tokenize
from xapp.e2.csi_types import BeamRsrp, ChannelEstimate, CsiReport, Pmi, UciCsi
from xapp.ingest.windows import CellContext, UeKey, UeWindowStore

T = 4
FOUR_PORTS = CellContext(n_tx=4, n_rx=2, n_subbands=13, n_beams=32,
                         codebook=CODEBOOK_CONFIGS[1], report_period_ms=10, horizon_ms=10)
EIGHT_PORTS = CellContext(n_tx=8, n_rx=4, n_subbands=8, n_beams=16,
                          codebook=CODEBOOK_CONFIGS[2], report_period_ms=20, horizon_ms=20)


def report(ri: int = 2, i11: int = 3, cqi: int = 9, beam: int = 5, subbands: int = 13,
           n_rx: int = 2, n_tx: int = 4, channel: bool = True) -> CsiReport:
    h = np.full((subbands, n_rx, n_tx), 0.5 + 0.25j, dtype=np.complex64)
    return CsiReport(
        ue_id=1, report_slot=0,
        csi=UciCsi(ri=ri, cri=0, pmi=Pmi(i11=i11, i12=0, i2=1, i13=1 if ri == 2 else None),
                   wideband_cqi=cqi, subband_cqi=tuple([cqi] * subbands)),
        beams=(BeamRsrp(beam, -80.0), BeamRsrp(beam + 1, -83.0)),
        sinr_db=12.5, channel_estimate=ChannelEstimate.from_array(h) if channel else None)


@pytest.fixture
def store() -> UeWindowStore:
    return UeWindowStore(FeatureRegistry(), n_slots=T, inactivity_s=1.0)


def test_a_report_becomes_the_newest_slot_with_its_fields(store: UeWindowStore) -> None:
    ue = UeKey("gnb1", 1)
    store.add_csi(ue, report(ri=2, i11=3, cqi=9, beam=5), FOUR_PORTS, now_s=0.0)
    w = store.windows([ue])
    ri, ri_mask = w["csi.ri"]
    assert ri.shape == (1, T) and ri[0, -1] == 1 and ri_mask[0].tolist() == [0, 0, 0, 1]
    assert w["csi.pmi_i11"][0][0, -1] == 3 and w["csi.cqi_wb"][0][0, -1] == 9
    assert w["csi.beam_id"][0][0, -1] == 5  # the strongest reported beam
    rsrp, rsrp_mask = w["csi.beam_rsrp"]
    assert rsrp[0, -1, 5] == -80.0 and rsrp_mask[0, -1].sum() == 2
    assert store.latest_csi(ue)["csi.ri"] == 2


def test_ring_keeps_the_last_t_reports_oldest_first(store: UeWindowStore) -> None:
    ue = UeKey("gnb1", 1)
    for cqi in range(1, T + 3):
        store.add_csi(ue, report(cqi=cqi), FOUR_PORTS, now_s=0.0)
    cqi_wb, mask = store.windows([ue])["csi.cqi_wb"]
    assert cqi_wb[0].tolist() == [3.0, 4.0, 5.0, 6.0] and bool(mask.all())


def test_kpm_is_placed_as_the_registry_declares_it(store: UeWindowStore) -> None:
    """Per-slot KPM features are observed only in the slot after the value arrives;
    per-window ones (``per_slot=False``) hold the UE's latest value."""
    ue = UeKey("gnb1", 1)
    store.add_csi(ue, report(), FOUR_PORTS, now_s=0.0)
    store.add_kpm(ue, {"DRB.UEThpDl": 1234.0, "NotInRegistry": 1.0}, now_s=0.0)
    store.add_csi(ue, report(), FOUR_PORTS, now_s=0.01)
    store.add_csi(ue, report(), FOUR_PORTS, now_s=0.02)
    thp, mask = store.windows([ue])["kpm.DRB.UEThpDl"]
    if store.registry["kpm.DRB.UEThpDl"].per_slot:
        assert mask[0].tolist() == [False, False, True, False] and thp[0, 2] == 1234.0
    else:
        assert mask.tolist() == [True] and thp.tolist() == [1234.0]


def test_kpm_before_any_csi_opens_no_window(store: UeWindowStore) -> None:
    store.add_kpm(UeKey("gnb1", 9), {"DRB.UEThpDl": 1.0}, now_s=0.0)
    assert len(store) == 0


def test_mixed_antenna_configurations_pad_to_one_batch(store: UeWindowStore) -> None:
    a, b = UeKey("gnb1", 1), UeKey("gnb2", 1)
    store.add_csi(a, report(), FOUR_PORTS, now_s=0.0)
    store.add_csi(b, report(subbands=8, n_rx=4, n_tx=8), EIGHT_PORTS, now_s=0.0)
    w = store.windows([a, b])
    h, h_mask = w["csi.h_est"]
    dims = store.registry.dims
    assert h.shape == (2, T, dims.max_subbands, dims.max_rx, dims.max_tx)
    assert h_mask[0, -1].sum() == 13 * 2 * 4 and h_mask[1, -1].sum() == 8 * 4 * 8
    assert w["ctx.codebook"][0].tolist() == [1, 2]
    assert w["ctx.n_tx"][0].tolist() == [4.0, 8.0]


def test_windows_tokenize_for_the_model(store: UeWindowStore) -> None:
    registry = store.registry
    for i in range(3):
        store.add_csi(UeKey("gnb1", i), report(channel=i != 1), FOUR_PORTS, now_s=0.0)
    layout = TokenLayout.build(registry, n_slots=T, patch_subbands=4, matrix_slots=1)
    batch = tokenize(store.windows(store.take_changed()), layout, NormaliserStats({}))
    assert batch.scalar.shape[0] == 3
    assert torch.isfinite(batch.scalar).all()


def test_changed_ues_are_handed_out_once(store: UeWindowStore) -> None:
    a, b = UeKey("gnb1", 1), UeKey("gnb1", 2)
    store.add_csi(a, report(), FOUR_PORTS, now_s=0.0)
    store.add_csi(b, report(), FOUR_PORTS, now_s=0.0)
    store.add_csi(a, report(), FOUR_PORTS, now_s=0.0)
    assert store.take_changed() == [a, b]
    assert store.take_changed() == []


def test_silent_ues_depart_and_the_oldest_makes_room(store: UeWindowStore) -> None:
    a, b = UeKey("gnb1", 1), UeKey("gnb1", 2)
    store.add_csi(a, report(), FOUR_PORTS, now_s=0.0)
    store.add_csi(b, report(), FOUR_PORTS, now_s=0.9)
    assert store.expire(now_s=1.5) == [a] and a not in store and b in store
    small = UeWindowStore(FeatureRegistry(), n_slots=T, max_ues=1)
    small.add_csi(a, report(), FOUR_PORTS, now_s=0.0)
    small.add_csi(b, report(), FOUR_PORTS, now_s=1.0)
    assert a not in small and b in small and small.departed == 1
