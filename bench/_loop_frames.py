"""The indications ``linkfm bench loop`` replays, built once from simulated cells.

Each cell is a real :class:`e2sim.cell.Cell` (UMi, 64 UEs by default) stepped through a
number of 10 ms report periods; every step becomes the E2SM-CSI indications the node would
send (CSI fields, beam RSRPs and the SRS channel estimate, 64 UEs per indication), and the
KPM history of those steps one E2SM-KPM format 3 indication per cell with the xApp's own
measurement list, exactly as :class:`e2sim.node.simulated.SimulatedNode` builds them. The
payloads are wrapped in RMR frames (mtype 12050, the subscription's sub_id, the node's
meid) so that the replaying node only writes bytes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from xapp.rmr.frame import encode_frame
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType

UES_PER_CELL = 64
CSI_SUB_ID_BASE = 1000  # cell i: CSI sub_id 1000 + 2 i, KPM sub_id 1001 + 2 i


def meid_of(cell: int) -> str:
    return f"gnb_001_001_{cell + 1:08x}"


def csi_sub_id(cell: int) -> int:
    return CSI_SUB_ID_BASE + 2 * cell


def kpm_sub_id(cell: int) -> int:
    return CSI_SUB_ID_BASE + 2 * cell + 1


@dataclass(frozen=True)
class CellFrames:
    """One cell's RMR frames: ``csi[step]`` the frames of one report period (in order),
    ``kpm`` the frame of one KPM report (empty without KPM)."""

    meid: str
    n_ues: int
    csi: tuple[tuple[bytes, ...], ...]
    kpm: tuple[bytes, ...]

    @property
    def csi_bytes_per_step(self) -> int:
        return sum(len(f) for f in self.csi[0])


def _frame(payload: bytes, sub_id: int, meid: str) -> bytes:
    return encode_frame(RmrMessage(mtype=MessageType.RIC_INDICATION, payload=payload,
                                   sub_id=sub_id, meid=meid), src="e2term:38000",
                        srcip="127.0.0.1:38000")


def build_cell(index: int, n_ues: int, steps: int, period_ms: int, kpm_period_ms: int,
               kpm_measurements: tuple[str, ...]) -> CellFrames:
    """Simulate cell ``index`` for ``steps`` report periods and frame what it reports."""
    from e2sim.cell import Cell, CellConfig
    from e2sim.channel import ChannelConfig
    from e2sim.node.csi_reports import csi_indications, ntp_of
    from e2sim.node.kpm_reports import KpmHistory, KpmSample, kpm_header, ue_report
    from xapp.e2 import csi, e2ap, kpm
    from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
    from xapp.e2.csi_types import CsiActionDefinition, NrCgi
    from xapp.e2.e2ap_messages import IndicationType, RicIndication, RicRequestId
    from xapp.e2.kpm_types import (
        Guami,
        KpmActionDefinitionFormat4,
        MeasurementInfo,
        TestCondition,
        plmn_id,
    )

    meid = meid_of(index)
    cell = Cell(CellConfig(channel=ChannelConfig(scenario="umi"), n_ues=n_ues,
                           cell_id=NrCgi(plmn_id("001", "01"), index + 1),
                           report_period_ms=period_ms, scoring=False, seed=index + 1))
    action = CsiActionDefinition(report_channel_estimate=True)
    start_unix_s = time.time()
    history = KpmHistory(max(1000.0, float(kpm_period_ms)))
    sequence = 0
    csi_steps: list[tuple[bytes, ...]] = []

    def pdu(sub_id: int, ran_function: int, header: bytes, message: bytes, sn: int) -> bytes:
        return e2ap.encode(RicIndication(
            request_id=RicRequestId(123, sub_id), ran_function_id=ran_function, action_id=1,
            indication_type=IndicationType.REPORT, header=header, message=message,
            indication_sn=sn % 65536))

    for _ in range(steps):
        step = cell.step()
        history.add(KpmSample.from_step(step))
        frames = []
        for indication in csi_indications(step.reports, action, cell.cfg.cell_id,
                                          ntp_of(start_unix_s + step.time_ms / 1e3), sequence):
            header, message = csi.encode_indication(indication, step.definition)
            frames.append(_frame(pdu(csi_sub_id(index), CSI_RAN_FUNCTION_ID, header, message,
                                     sequence), csi_sub_id(index), meid))
            sequence += 1
        csi_steps.append(tuple(frames))
    kpm_frames: tuple[bytes, ...] = ()
    if kpm_period_ms > 0 and kpm_measurements:
        kpm_action = KpmActionDefinitionFormat4(
            conditions=(TestCondition("cQI", "present"),),
            measurements=tuple(MeasurementInfo(name) for name in kpm_measurements),
            granularity_period_ms=kpm_period_ms)
        guami = Guami(cell.cfg.cell_id.plmn_id, 1, 1, 1)
        now_ms = cell.time_ms
        report = ue_report(history, now_ms, kpm_period_ms, kpm_action, guami)
        if report is not None:
            header = kpm.encode_indication_header(kpm_header(start_unix_s,
                                                             now_ms - kpm_period_ms))
            message = kpm.encode_indication_message(report)
            kpm_frames = (_frame(pdu(kpm_sub_id(index), 2, header, message, 0),
                                 kpm_sub_id(index), meid),)
    return CellFrames(meid, n_ues, tuple(csi_steps), kpm_frames)
