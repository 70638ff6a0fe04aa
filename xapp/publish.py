"""Publishing recommendations: one RecommendationBatch per E2 node per decision cycle.

Each batch goes over RMR as ``LINKFM_RECOMMENDATION`` with the E2 node's name as meid
(routed by the route table, e.g. ``%meid`` to the node's agent); the consumer answers
``LINKFM_RECOMMENDATION_ACK`` by return-to-sender. Acks are matched on (E2 node, batch
sequence) against the batches still outstanding; the oldest outstanding batches are
forgotten beyond ``max_outstanding`` (counted as ``unacked``).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from xapp.e2 import recommendation as codec
from xapp.e2.recommendation import Recommendation, RecommendationAck, RecommendationBatch
from xapp.errors import EncodeError, MalformedInput
from xapp.ingest.bad_inputs import BadInputs
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType
from xapp.rmr.transport import RmrTransport

NTP_UNIX_OFFSET_S = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


def ntp_now(clock: Callable[[], float] = time.time) -> int:
    """The current time as 64-bit NTP (32.32 fixed point seconds since 1900)."""
    return int((clock() + NTP_UNIX_OFFSET_S) * 2**32) & (2**64 - 1)


@dataclass
class PublisherCounters:
    """Totals for metrics.

    Attributes:
        batches_sent / recommendations_sent: handed to RMR successfully.
        send_failed: batches RMR could not deliver (no route, connection down).
        encode_failed: batches that did not encode (a bug; the cycle is skipped).
        acks: acknowledgements matched to an outstanding batch.
        accepted / rejected: recommendations the consumers accepted / refused (by reason).
        unmatched_acks: acks for no outstanding batch (late, duplicate or foreign).
        unacked: outstanding batches forgotten without an ack.
    """

    batches_sent: int = 0
    recommendations_sent: int = 0
    send_failed: int = 0
    encode_failed: int = 0
    acks: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    unmatched_acks: int = 0
    unacked: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {**{k: v for k, v in vars(self).items() if k != "rejected"},
                "rejected": dict(self.rejected)}


class Publisher:
    """Groups a cycle's recommendations per E2 node, sends them, and matches the acks."""

    def __init__(self, transport: RmrTransport, bad: BadInputs,
                 max_outstanding: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self._transport = transport
        self._bad = bad
        self._max_outstanding = max_outstanding
        self._clock = clock
        self._sequence: dict[str, int] = {}
        # (e2 node, sequence) -> (sent at, recommendations): insertion order = age
        self.outstanding: OrderedDict[tuple[str, int], tuple[float, int]] = OrderedDict()
        self.counters = PublisherCounters()
        self.last_ack_latency_s: float | None = None

    def batches(self, recommendations: Iterable[Recommendation]) -> list[RecommendationBatch]:
        """One batch per E2 node (in order of first appearance), sequences counting up."""
        by_node: dict[str, list[Recommendation]] = {}
        for rec in recommendations:
            by_node.setdefault(rec.e2_node, []).append(rec)
        stamp = ntp_now(self._clock)
        out = []
        for node, recs in by_node.items():
            sequence = self._sequence.get(node, 0)
            self._sequence[node] = sequence + 1
            out.append(RecommendationBatch(node, sequence, stamp, tuple(recs)))
        return out

    async def publish(self, recommendations: Iterable[Recommendation]) -> list[RecommendationBatch]:
        """Send this cycle's recommendations; returns the batches that were sent."""
        sent = []
        for batch in self.batches(recommendations):
            try:
                payload = codec.encode_batch(batch)
            except EncodeError:
                self.counters.encode_failed += 1
                continue
            result = await self._transport.send(RmrMessage(
                mtype=MessageType.LINKFM_RECOMMENDATION, payload=payload, meid=batch.e2_node))
            if not result:
                self.counters.send_failed += 1
                continue
            self.counters.batches_sent += 1
            self.counters.recommendations_sent += len(batch.recommendations)
            self._remember(batch)
            sent.append(batch)
        return sent

    def _remember(self, batch: RecommendationBatch) -> None:
        self.outstanding[(batch.e2_node, batch.sequence)] = (
            self._clock(), len(batch.recommendations))
        while len(self.outstanding) > self._max_outstanding:
            self.outstanding.popitem(last=False)
            self.counters.unacked += 1

    def on_ack(self, msg: RmrMessage) -> RecommendationAck | None:
        """Match an ``LINKFM_RECOMMENDATION_ACK``; a bad one is counted and None returned."""
        try:
            ack = codec.decode_ack(msg.payload)
        except MalformedInput as exc:
            self._bad.record(exc, f"ack from {msg.src or msg.meid!r}")
            return None
        entry = self.outstanding.pop((ack.e2_node, ack.batch_sequence), None)
        if entry is None:
            self.counters.unmatched_acks += 1
            return ack
        self.counters.acks += 1
        self.counters.accepted += ack.accepted_count
        for rejection in ack.rejected:
            self.counters.rejected[rejection.reason.name] += 1
        self.last_ack_latency_s = self._clock() - entry[0]
        return ack
