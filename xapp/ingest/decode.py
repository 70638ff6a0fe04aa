"""RIC indication -> the service model's typed content (sans-IO).

The RMR sub_id of an indication is the E2 instance id the Subscription Manager assigned;
the caller looks it up to learn the E2 node and RAN function, and this module decodes
the E2AP PDU and then the E2SM-KPM (ASN.1 APER) or E2SM-CSI (protobuf) header/message.
Every failure is an :class:`IngestError` or the codec's own ``MalformedInput``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xapp.e2 import csi, e2ap, kpm
from xapp.e2.csi_types import CsiIndication, CsiRanFunctionDefinition
from xapp.e2.e2ap_messages import RicIndication
from xapp.e2.kpm_types import KpmIndicationFormat1, KpmIndicationFormat3, UeIdGnb
from xapp.errors import MalformedInput

KPM_RAN_FUNCTION_ID = 2


class IngestError(MalformedInput):
    """An indication that decodes but cannot be used (wrong PDU, unknown subscription)."""

    source = "ingest"


@dataclass(frozen=True)
class KpmUeValues:
    """The latest values of one UE's per-UE KPM measurements (TS 28.552 names)."""

    ue_id: int
    values: dict[str, float]


def decode_ric_indication(payload: bytes) -> RicIndication:
    """The E2AP RICindication in an RMR 12050 payload."""
    message = e2ap.decode(payload)
    if not isinstance(message, RicIndication):
        raise IngestError("unexpected_pdu", f"{type(message).__name__} as RIC_INDICATION")
    return message


def decode_csi(indication: RicIndication,
               definition: CsiRanFunctionDefinition | None = None) -> CsiIndication:
    """The E2SM-CSI content; ``definition`` (the node's antenna set-up) tightens checks."""
    return csi.decode_indication(indication.header, indication.message, definition)


def _last_values(report: KpmIndicationFormat1) -> dict[str, float]:
    """Each named, unlabelled-or-first-label column's newest numeric value."""
    out: dict[str, float] = {}
    for column, series in report.series().items():
        name = column[0]
        if not isinstance(name, str) or name in out:
            continue
        for value in reversed(series):
            if isinstance(value, int | float) and not isinstance(value, bool) \
                    and math.isfinite(float(value)):
                out[name] = float(value)
                break
    return out


def decode_kpm(indication: RicIndication) -> list[KpmUeValues]:
    """Per-UE values of a format 3 indication (gNB UE ids: the AMF UE NGAP id).

    A node-level format 1 indication holds no per-UE values: it gives an empty list.
    """
    kpm.decode_indication_header(indication.header)  # validates; the time is not needed
    message = kpm.decode_indication_message(indication.message)
    if not isinstance(message, KpmIndicationFormat3):
        return []
    out = []
    for report in message.reports:
        if not isinstance(report.ue_id, UeIdGnb):
            raise IngestError("unsupported_ue_id", type(report.ue_id).__name__)
        out.append(KpmUeValues(report.ue_id.amf_ue_ngap_id, _last_values(report.report)))
    return out
