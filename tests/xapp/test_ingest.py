"""Ingest: RIC indications -> KPM or CSI -> UE windows, cell contexts, bad-input counting."""

from __future__ import annotations

import pytest

from model.pmi_space import CodebookConfig
from model.registry import FeatureRegistry
from xapp.e2 import csi, e2ap, kpm
from xapp.e2.csi_types import ChannelEstimate, CsiDecodeError, CsiReport
from xapp.e2.e2ap_messages import IndicationType, RicIndication, RicRequestId
from xapp.errors import MalformedInput
from xapp.ingest.bad_inputs import BadInputs
from xapp.ingest.cells import CellContexts, NodeAntennas
from xapp.ingest.decode import IngestError
from xapp.ingest.pipeline import IndicationIngest, IndicationSource
from xapp.ingest.windows import UeKey, UeWindowStore
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType

CSI_SOURCE = IndicationSource("gnb_a", 200, 20.0)
KPM_SOURCE = IndicationSource("gnb_a", 2, 1000.0)


def indication_msg(header: bytes, message: bytes, ran_function_id: int) -> RmrMessage:
    pdu = RicIndication(request_id=RicRequestId(123, 7), ran_function_id=ran_function_id,
                        action_id=1, indication_type=IndicationType.REPORT, header=header,
                        message=message, indication_sn=1)
    return RmrMessage(MessageType.RIC_INDICATION, e2ap.encode(pdu), sub_id=7, meid="gnb_a")


def csi_msg(n_ues: int = 3) -> RmrMessage:
    return indication_msg(*csi.encode_indication(csi.example_indication(n_ues=n_ues)), 200)


def kpm_msg(n_ues: int = 3) -> RmrMessage:
    header, body = kpm.sample_indication(n_ues)
    return indication_msg(kpm.encode_indication_header(header),
                          kpm.encode_indication_message(body), 2)


@pytest.fixture
def ingest() -> IndicationIngest:
    clock = iter(float(t) for t in range(1000))
    return IndicationIngest(UeWindowStore(FeatureRegistry(), 4, inactivity_s=2.5),
                            CellContexts(), BadInputs(), 200, clock=lambda: next(clock))


def test_a_csi_indication_appends_a_slot_for_every_ue(ingest: IndicationIngest) -> None:
    changed = ingest.handle(csi_msg(3), CSI_SOURCE)
    assert changed == [UeKey("gnb_a", 1000 + i) for i in range(3)]
    assert ingest.store.take_changed() == changed
    sent = csi.example_indication(n_ues=3).reports[0]
    meta = ingest.meta[UeKey("gnb_a", 1000)]
    assert meta.reported is not None and sent.csi is not None
    assert (meta.reported.rank, meta.reported.pmi) == (sent.csi.ri, sent.csi.pmi)
    assert meta.cell == csi.example_indication(n_ues=1).header.cell


def test_kpm_values_of_a_format3_indication_reach_the_ues_window(
        ingest: IndicationIngest) -> None:
    ingest.handle(csi_msg(2), CSI_SOURCE)
    assert ingest.handle(kpm_msg(2), KPM_SOURCE) == []  # KPM alone changes no decision
    ingest.handle(csi_msg(2), CSI_SOURCE)
    values, mask = ingest.store.windows([UeKey("gnb_a", 1000)])["kpm.DRB.UEThpDl"]
    _, body = kpm.sample_indication(2)
    sent = body.reports[0].report.values("DRB.UEThpDl")[0]
    assert isinstance(sent, int)
    assert values[mask].tolist() == [pytest.approx(float(sent))]


def test_an_indication_of_an_unknown_subscription_is_counted(ingest: IndicationIngest) -> None:
    assert ingest.handle(csi_msg(), None) == []
    assert ingest.bad.counts == {("ingest", "unknown_sub_id"): 1}


def test_bytes_that_are_not_e2ap_are_counted_by_reason(ingest: IndicationIngest) -> None:
    garbage = RmrMessage(MessageType.RIC_INDICATION, b"\x01\x02garbage", sub_id=7)
    assert ingest.handle(garbage, CSI_SOURCE) == []
    [(source, _)] = ingest.bad.counts
    assert source == "e2ap"


def test_a_kpm_payload_on_the_csi_subscription_is_refused(ingest: IndicationIngest) -> None:
    assert ingest.handle(kpm_msg(), CSI_SOURCE) == []
    [(source, _)] = ingest.bad.counts
    assert source == CsiDecodeError.source


def test_ingest_continues_after_a_bad_message(ingest: IndicationIngest) -> None:
    ingest.handle(RmrMessage(MessageType.RIC_INDICATION, b"\xff"), CSI_SOURCE)
    assert len(ingest.handle(csi_msg(2), CSI_SOURCE)) == 2


def test_silent_ues_depart_with_their_metadata(ingest: IndicationIngest) -> None:
    ingest.handle(csi_msg(2), CSI_SOURCE)  # t = 0
    for _ in range(3):
        ingest.handle(kpm_msg(1), KPM_SOURCE)  # keeps UE 1000 alive only (t = 1..3)
    gone = ingest.expire()  # t = 4
    assert gone == [UeKey("gnb_a", 1001)]
    assert UeKey("gnb_a", 1001) not in ingest.meta and UeKey("gnb_a", 1000) in ingest.meta


# --- cell contexts -------------------------------------------------------------------------

def test_the_channel_estimate_shape_overrides_the_configured_antennas() -> None:
    cells = CellContexts(nodes={"gnb_a": NodeAntennas(n_tx=4, n_rx=4, n_subbands=10)})
    h = ChannelEstimate.from_array([[[1, 0]] * 1] * 6)  # [6 subbands, 1 rx, 2 tx]
    context = cells.context("gnb_a", CsiReport(1, 0, channel_estimate=h), 20.0)
    assert (context.n_subbands, context.n_rx, context.n_tx) == (6, 1, 2)
    assert context.codebook == CodebookConfig(2, 1, 1, 1, 1)


def test_configured_antennas_apply_without_a_channel_estimate() -> None:
    cells = CellContexts(nodes={"gnb_a": NodeAntennas(n_tx=8, n_rx=4, n1=4, n2=1, o1=4, o2=1)},
                         horizon_ms=5.0)
    context = cells.context("gnb_a", CsiReport(1, 0), 10.0)
    assert (context.n_tx, context.n_rx, context.codebook) == (8, 4, CodebookConfig(8, 4, 1, 4, 1))
    assert (context.report_period_ms, context.horizon_ms) == (10.0, 5.0)
    assert cells.context("gnb_b", CsiReport(1, 0), 10.0).n_tx == 4  # the default


def test_an_unsupported_port_count_is_an_ingest_error() -> None:
    cells = CellContexts(default=NodeAntennas(n_tx=16))
    with pytest.raises(IngestError, match="unsupported_antennas"):
        cells.context("gnb_a", CsiReport(1, 0), 10.0)


def test_antennas_can_come_from_the_nodes_csi_ran_function_definition() -> None:
    antennas = NodeAntennas.from_definition(csi.example_ran_function(subbands=7, n_rx=4))
    assert (antennas.n_tx, antennas.n_rx, antennas.n_subbands, antennas.slot_ms) == (4, 4, 7,
                                                                                   0.5)


# --- bad-input accounting ------------------------------------------------------------------

class Boom(MalformedInput):
    source = "test"


def test_repeated_bad_inputs_are_all_counted_but_logged_once_per_interval(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    bad = BadInputs(log_interval_s=10.0, clock=lambda: now[0])
    for _ in range(5):
        bad.record(Boom("truncated"))
    now[0] = 11.0
    bad.record(Boom("truncated"))
    bad.record(Boom("other"))
    assert bad.by_reason() == {"test:other": 1, "test:truncated": 6}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and "[4 similar suppressed]" in lines[1]
