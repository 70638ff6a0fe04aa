"""``linkfm bench codecs``: encode/decode rates of the wire codecs, as JSON.

Reference loads (ISSUE: foundation, point 6):
- a 64-UE E2SM-KPM IndicationMessage Format3 (8 TS 28.552 measurements per UE), alone and
  inside an E2AP RICindication (what the xApp decodes per KPM indication);
- a 64-UE E2SM-CSI indication with channel tensors (13 subbands x 2 rx x 4 tx complex64),
  alone and inside a RICindication;
- a 64-UE recommendation batch (what the xApp encodes per E2 node and cycle).
Rates are per message and per UE; the E2AP-only figure is the envelope cost.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench._timing import machine, rate
from xapp.e2 import csi, e2ap, kpm, recommendation
from xapp.e2.e2ap_messages import IndicationType, RicIndication, RicRequestId

N_UES = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ues", type=int, default=N_UES, help="UEs per indication")


def _indication(header: bytes, message: bytes, ran_function_id: int) -> RicIndication:
    return RicIndication(request_id=RicRequestId(123, 7), ran_function_id=ran_function_id,
                         action_id=1, indication_type=IndicationType.REPORT,
                         header=header, message=message, indication_sn=1)


def _pair(encode: Callable[[], Any], decode: Callable[[], Any], n_ues: int, size: int,
          seconds: float) -> dict[str, Any]:
    enc, dec = rate(encode, seconds), rate(decode, seconds)
    return {
        "bytes": size,
        "encode_per_s": round(enc["per_s"], 1),
        "decode_per_s": round(dec["per_s"], 1),
        "encode_us_per_ue": round(enc["us_per_call"] / n_ues, 2),
        "decode_us_per_ue": round(dec["us_per_call"] / n_ues, 2),
        "encode_ue_per_s": round(enc["per_s"] * n_ues, 1),
        "decode_ue_per_s": round(dec["per_s"] * n_ues, 1),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    seconds = 0.5 if args.quick else 2.0
    n = args.ues
    results: dict[str, Any] = {"benchmark": "codecs", "ues_per_message": n,
                               "quick": bool(args.quick), "machine": machine()}

    kpm_header, kpm_message = kpm.sample_indication(n)
    kpm_h = kpm.encode_indication_header(kpm_header)
    kpm_m = kpm.encode_indication_message(kpm_message)
    results["kpm_format3"] = _pair(lambda: kpm.encode_indication_message(kpm_message),
                                   lambda: kpm.decode_indication_message(kpm_m), n,
                                   len(kpm_m), seconds)
    kpm_ind = _indication(kpm_h, kpm_m, 2)
    kpm_pdu = e2ap.encode(kpm_ind)
    results["e2ap_ric_indication_kpm"] = _pair(
        lambda: e2ap.encode(_indication(kpm.encode_indication_header(kpm_header),
                                        kpm.encode_indication_message(kpm_message), 2)),
        lambda: _decode_kpm(kpm_pdu), n, len(kpm_pdu), seconds)

    csi_ind = csi.example_indication(n_ues=n)
    csi_h, csi_m = csi.encode_indication(csi_ind)
    results["csi_with_channel"] = _pair(lambda: csi.encode_indication(csi_ind),
                                        lambda: csi.decode_indication(csi_h, csi_m), n,
                                        len(csi_h) + len(csi_m), seconds)
    csi_pdu = e2ap.encode(_indication(csi_h, csi_m, 200))
    results["e2ap_ric_indication_csi"] = _pair(
        lambda: e2ap.encode(_indication(*csi.encode_indication(csi_ind), 200)),
        lambda: _decode_csi(csi_pdu), n, len(csi_pdu), seconds)
    results["e2ap_envelope_only_csi"] = _pair(
        lambda: e2ap.encode(_indication(csi_h, csi_m, 200)),
        lambda: e2ap.decode(csi_pdu), n, len(csi_pdu), seconds)
    batch = recommendation.example_batch(n_ues=n)
    batch_bytes = recommendation.encode_batch(batch)
    results["recommendation_batch"] = _pair(lambda: recommendation.encode_batch(batch),
                                            lambda: recommendation.decode_batch(batch_bytes), n,
                                            len(batch_bytes), seconds)
    return results


def _decode_kpm(pdu: bytes) -> Any:
    indication = e2ap.decode(pdu)
    assert isinstance(indication, RicIndication)
    return (kpm.decode_indication_header(indication.header),
            kpm.decode_indication_message(indication.message))


def _decode_csi(pdu: bytes) -> Any:
    indication = e2ap.decode(pdu)
    assert isinstance(indication, RicIndication)
    return csi.decode_indication(indication.header, indication.message)
