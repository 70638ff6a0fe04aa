"""Benchmark cases for the E2AP codec, for ``linkfm bench codecs`` (bench/codecs.py).

:func:`cases` gives the messages whose encode and decode time is tracked; :func:`measure`
times them with the wall clock and returns microseconds per call (figures, not asserts).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from xapp.e2.e2ap import decode, encode
from xapp.e2.e2ap_messages import (
    ActionType,
    E2apMessage,
    IndicationType,
    RicAction,
    RicIndication,
    RicRequestId,
    RicSubscriptionRequest,
    SubsequentAction,
    SubsequentActionType,
    TimeToWait,
)

INDICATION_MESSAGE_BYTES = 4096


def cases() -> dict[str, E2apMessage]:
    """The benchmarked messages by name.

    ``indication_4k``: a RICindication whose E2SM message is 4 KiB of opaque bytes (a CSI
    report batch); ``subscription_request``: a RICsubscriptionRequest with two report
    actions carrying 64-byte definitions.
    """
    request_id = RicRequestId(requestor=123, instance=1)
    message = bytes(i % 251 for i in range(INDICATION_MESSAGE_BYTES))
    indication = RicIndication(
        request_id=request_id,
        ran_function_id=2,
        action_id=1,
        indication_type=IndicationType.REPORT,
        header=bytes(range(24)),
        message=message,
        indication_sn=42,
    )
    actions = tuple(
        RicAction(
            action_id=action_id,
            action_type=ActionType.REPORT,
            definition=bytes([action_id]) * 64,
            subsequent_action=SubsequentAction(SubsequentActionType.CONTINUE, TimeToWait.W10MS),
        )
        for action_id in (1, 2)
    )
    subscription = RicSubscriptionRequest(
        request_id=request_id, ran_function_id=2, event_trigger=b"\x08\x03\xe7", actions=actions
    )
    return {"indication_4k": indication, "subscription_request": subscription}


def _per_call_us(fn: Callable[[], object], min_seconds: float) -> float:
    fn()  # warm-up
    calls = 0
    start = time.perf_counter()
    while calls < 3 or time.perf_counter() - start < min_seconds:
        fn()
        calls += 1
    return 1e6 * (time.perf_counter() - start) / calls


def measure(min_seconds: float = 0.5) -> dict[str, dict[str, float]]:
    """Per case: encoded size (bytes) and mean encode/decode time (µs per call)."""
    results: dict[str, dict[str, float]] = {}
    for name, message in cases().items():
        data = encode(message)
        results[name] = {
            "bytes": float(len(data)),
            "encode_us": _per_call_us(functools.partial(encode, message), min_seconds),
            "decode_us": _per_call_us(functools.partial(decode, data), min_seconds),
        }
    return results
