"""Recommendations to record, for telemetry tests (the ``victoria`` server fixture now lives
in tests/conftest.py; it is re-exported here for modules that import it from here)."""

from __future__ import annotations

from tests.conftest import victoria  # noqa: F401
from xapp.e2.csi_types import NrCgi, Pmi
from xapp.e2.recommendation import Confidence, Reason, Recommendation, ReportedCsi

CELL = NrCgi(plmn_id=bytes.fromhex("00f110"), nr_cell_identity=0x12345)


def recommendation(ue_id: int, *, e2_node: str = "gnb_001_001_00000001", rank: int = 2,
                   beam: int | None = 3, reason: Reason = Reason.MODEL,
                   model_version: str = "linkfm-test-1") -> Recommendation:
    """A valid recommendation whose values all derive from ``ue_id`` (distinct per UE)."""
    return Recommendation(
        e2_node=e2_node, cell=CELL, ue_id=ue_id, apply_from_slot=1000 + ue_id, validity_ms=20,
        rank=rank, pmi=Pmi(i11=ue_id % 8, i12=0, i2=ue_id % (4 if rank == 1 else 2),
                                i13=1 if rank > 1 else None),
        confidence=Confidence(rank=0.5 + (ue_id % 5) / 10, pmi=0.25 + (ue_id % 3) / 10,
                              beam=0.75 if beam is not None else 0.0),
        model_version=model_version, reason=reason, beam_index=beam,
        replaces=ReportedCsi(rank=1, pmi=Pmi(i11=ue_id % 4, i12=0, i2=1), report_slot=990,
                             beam_index=5))
