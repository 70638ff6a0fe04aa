"""E2SM-CSI indications of a simulated cell for one subscribed action.

The action definition picks the UEs (``ue_ids``, all when None) and the parts of each
report (CSI fields with the SINR, beam L1-RSRPs, the gNB's channel estimate); the UEs are
split over indications of at most ``max_ues_per_indication`` reports, in UE order, each
with its own header sequence number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from xapp.e2.csi_types import (
    CsiActionDefinition,
    CsiIndication,
    CsiIndicationHeader,
    CsiReport,
    NrCgi,
)

NTP_UNIX_OFFSET_S = 2_208_988_800
_MAX_SEQUENCE = 2**64


def ntp_of(unix_s: float) -> int:
    """64-bit NTP (32.32 fixed point seconds since 1900) of a Unix time [s]."""
    return int((unix_s + NTP_UNIX_OFFSET_S) * 2**32) % 2**64


def _trimmed(report: CsiReport, action: CsiActionDefinition) -> CsiReport:
    return replace(
        report,
        csi=report.csi if action.report_csi_fields else None,
        sinr_db=report.sinr_db if action.report_csi_fields else None,
        beams=report.beams if action.report_beam_rsrp else (),
        channel_estimate=report.channel_estimate if action.report_channel_estimate else None)


def csi_indications(reports: Sequence[CsiReport], action: CsiActionDefinition, cell: NrCgi,
                    ntp_timestamp: int, first_sequence: int) -> list[CsiIndication]:
    """The indications for ``reports`` (one step of the cell); sequence numbers count up
    from ``first_sequence``. No indication when no UE is selected."""
    wanted = None if action.ue_ids is None else set(action.ue_ids)
    chosen = [_trimmed(r, action) for r in reports if wanted is None or r.ue_id in wanted]
    size = action.max_ues_per_indication
    return [CsiIndication(CsiIndicationHeader(ntp_timestamp, cell,
                                              (first_sequence + k) % _MAX_SEQUENCE),
                          tuple(chosen[i:i + size]))
            for k, i in enumerate(range(0, len(chosen), size))]
