"""The vectorised window store path: a whole indication appended at once must give exactly
the windows that appending its UEs one by one gives (``add_csi`` is the reference), over
random reports with missing parts, odd shapes, repeated UEs, KPM values and departures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.pmi_space import CODEBOOK_CONFIGS
from model.registry import FeatureRegistry
from xapp.e2.csi_types import BeamRsrp, ChannelEstimate, CsiReport, Pmi, UciCsi
from xapp.ingest.windows import CellContext, UeKey, UeWindowStore

T = 4
REGISTRY = FeatureRegistry()
CONTEXTS = [CellContext(n_tx=n_tx, n_rx=2, n_subbands=13, n_beams=32, codebook=cfg,
                        report_period_ms=10, horizon_ms=10)
            for n_tx, cfg in ((4, CODEBOOK_CONFIGS[1]), (8, CODEBOOK_CONFIGS[2]))]
SHAPES = [(13, 2, 4), (8, 4, 8), (20, 2, 4), (3, 1, 2)]  # 20 subbands: more than the registry's


@st.composite
def channel(draw: st.DrawFn) -> ChannelEstimate:
    shape = draw(st.sampled_from(SHAPES))
    seed = draw(st.integers(0, 2**16))
    h = np.random.default_rng(seed).standard_normal((*shape, 2)).astype(np.float32)
    return ChannelEstimate.from_array(h[..., 0] + 1j * h[..., 1],
                                      compress=draw(st.booleans()))


@st.composite
def reports(draw: st.DrawFn) -> CsiReport:
    csi = None
    if draw(st.booleans()):
        csi = UciCsi(ri=draw(st.integers(1, 4)), cri=draw(st.integers(0, 7)),
                     pmi=Pmi(draw(st.integers(0, 15)), draw(st.integers(0, 3)),
                             draw(st.integers(0, 3)), draw(st.none() | st.integers(0, 3))),
                     wideband_cqi=draw(st.integers(0, 15)),
                     subband_cqi=tuple(draw(st.lists(st.integers(0, 15), max_size=20))))
    beam_ids = draw(st.lists(st.integers(0, 40), max_size=5, unique=True))  # >= 32: dropped
    beams = tuple(BeamRsrp(b, draw(st.floats(-140, -40, width=32))) for b in beam_ids)
    sinr = draw(st.none() | st.just(math.nan) | st.floats(-10, 40, width=32))
    return CsiReport(ue_id=draw(st.integers(0, 7)), report_slot=0, csi=csi, beams=beams,
                     sinr_db=sinr, channel_estimate=draw(st.none() | channel()))


# One step: an indication (reports of one node), KPM values for a UE, or time passing.
steps = st.lists(st.one_of(
    st.tuples(st.just("csi"), st.sampled_from(["gnb_a", "gnb_b"]),
              st.lists(reports(), max_size=10), st.integers(0, 1)),
    st.tuples(st.just("kpm"), st.sampled_from(["gnb_a", "gnb_b"]), st.integers(0, 7),
              st.floats(0, 1e5, width=32)),
    st.tuples(st.just("wait"), st.floats(0.1, 1.5))), min_size=1, max_size=12)


def assert_same(one: UeWindowStore, batch: UeWindowStore) -> None:
    assert one.take_changed() == batch.take_changed()
    keys = sorted(one._rows, key=lambda k: (k.meid, k.ue_id))
    assert keys == sorted(batch._rows, key=lambda k: (k.meid, k.ue_id))
    assert one.departed == batch.departed
    if not keys:
        return
    a, b = one.windows(keys), batch.windows(keys)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name][1].numpy(), b[name][1].numpy(), err_msg=name)
        np.testing.assert_array_equal(a[name][0].numpy(), b[name][0].numpy(), err_msg=name)
    for key in keys:
        assert one.latest_csi(key) == batch.latest_csi(key)
        assert one.context(key) == batch.context(key)


@pytest.mark.parametrize("max_ues", [65_536, 5])  # 5: departures inside an indication
@settings(max_examples=60, deadline=None)
@given(script=steps)
def test_a_batch_equals_its_reports_one_by_one(script: list[tuple], max_ues: int) -> None:
    one = UeWindowStore(REGISTRY, T, inactivity_s=1.0, max_ues=max_ues)
    batch = UeWindowStore(REGISTRY, T, inactivity_s=1.0, max_ues=max_ues)
    now = 0.0
    for step in script:
        if step[0] == "csi":
            _, meid, found, ctx = step
            keys = [UeKey(meid, r.ue_id) for r in found]
            contexts = [CONTEXTS[ctx]] * len(found)
            for key, report, context in zip(keys, found, contexts, strict=True):
                one.add_csi(key, report, context, now)
            batch.add_csi_batch(keys, found, contexts, now)
        elif step[0] == "kpm":
            _, meid, ue, value = step
            for store in (one, batch):
                store.add_kpm(UeKey(meid, ue), {"DRB.UEThpDl": value, "L1M.SS-RSRP": -value},
                              now)
        else:
            now += step[1]
            assert one.expire(now) == batch.expire(now)
        assert_same(one, batch)


def test_rows_of_departed_ues_are_reused_clean() -> None:
    store = UeWindowStore(REGISTRY, T, inactivity_s=1.0)
    h = ChannelEstimate.from_array(np.ones((13, 2, 4), np.complex64))
    full = CsiReport(ue_id=1, report_slot=0,
                     csi=UciCsi(ri=2, cri=0, pmi=Pmi(1, 0, 1, 0), wideband_cqi=9),
                     channel_estimate=h)
    store.add_csi_batch([UeKey("g", 1)], [full], [CONTEXTS[0]], now_s=0.0)
    assert store.expire(now_s=2.0) == [UeKey("g", 1)]
    store.add_csi_batch([UeKey("g", 2)], [CsiReport(ue_id=2, report_slot=0)], [CONTEXTS[0]],
                        now_s=2.0)  # takes the departed UE's row
    w = store.windows([UeKey("g", 2)])
    assert not any(bool(mask.any()) for name, (_, mask) in w.items() if name.startswith("csi."))
    assert not w["csi.h_est"][0].abs().sum()


def test_mismatched_lengths_are_refused() -> None:
    store = UeWindowStore(REGISTRY, T)
    with pytest.raises(ValueError, match="same length"):
        store.add_csi_batch([UeKey("g", 1)], [], [CONTEXTS[0]], now_s=0.0)
