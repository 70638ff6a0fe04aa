"""`to_reports` packs every UE's columns and SRS estimate as the E2 types do one by one."""

from __future__ import annotations

import pytest
import torch

from e2sim.cell.ue_csi import UeCsi, to_reports
from xapp.e2.csi_types import BeamRsrp, ChannelEstimate, Pmi


def _csi(n_ue: int, n_sb: int, top_k: int) -> UeCsi:
    gen = torch.Generator().manual_seed(3)

    def ints(high: int, *shape: int) -> torch.Tensor:
        return torch.randint(0, high, shape, generator=gen)

    return UeCsi(ri=1 + ints(4, n_ue), pmi=ints(16, n_ue), i11=ints(8, n_ue), i12=ints(4, n_ue),
                 i13=ints(4, n_ue), i2=ints(4, n_ue), cqi_wb=ints(16, n_ue),
                 cqi_sb=ints(16, n_ue, n_sb), beam_top=ints(32, n_ue, top_k),
                 beam_rsrp_dbm=-100.0 + torch.randn(n_ue, top_k, generator=gen),
                 sinr_db=torch.randn(n_ue, generator=gen))


@pytest.mark.parametrize("n_tx", [2, 4, 8])
def test_reports_match_the_e2_types_built_one_ue_at_a_time(n_tx: int) -> None:
    n_ue, n_sb, top_k = 5, 3, 4
    csi = _csi(n_ue, n_sb, top_k)
    h = torch.randn(n_ue, n_sb, 2, n_tx, dtype=torch.complex64)
    ids = [10 + u for u in range(n_ue)]
    reports = to_reports(csi, ids, report_slot=9, n_tx=n_tx, h_gnb_est=h)
    assert [r.ue_id for r in reports] == ids
    for u, report in enumerate(reports):
        assert report.report_slot == 9 and report.csi is not None
        rank = int(csi.ri[u])
        assert report.csi.ri == rank
        assert report.csi.pmi == Pmi.from_dense(rank, n_tx, int(csi.i11[u]), int(csi.i12[u]),
                                                int(csi.i13[u]), int(csi.i2[u]))
        assert report.csi.subband_cqi == tuple(csi.cqi_sb[u].tolist())
        assert report.beams == tuple(BeamRsrp(int(b), float(p)) for b, p in
                                     zip(csi.beam_top[u], csi.beam_rsrp_dbm[u], strict=True))
        assert report.sinr_db == pytest.approx(float(csi.sinr_db[u]))
        assert report.channel_estimate == ChannelEstimate.from_array(h[u].numpy())
        assert torch.equal(torch.from_numpy(report.channel_estimate.as_array()), h[u])
    without = to_reports(csi, ids, report_slot=9, n_tx=n_tx, h_gnb_est=None)
    assert all(r.channel_estimate is None for r in without)
    assert [r.csi for r in without] == [r.csi for r in reports]
