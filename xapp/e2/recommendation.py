"""Recommendation codec: RecommendationBatch / RecommendationAck (schemas/recommendation.proto).

The xApp sends one :class:`RecommendationBatch` per E2 node per decision cycle over RMR
(``LINKFM_RECOMMENDATION``, meid = the E2 node); the consumer answers with a
:class:`RecommendationAck` (``LINKFM_RECOMMENDATION_ACK``). The gRPC service serves single
:class:`Recommendation` messages: :func:`recommendation_to_proto` / ``_from_proto``.

Sans-IO, like every codec here: decoders raise only :class:`RecommendationDecodeError`
(source ``"recommendation"``; reasons ``too_large``, ``not_bytes``, ``not_protobuf``,
``missing_field``, ``out_of_range``, ``not_finite``, ``inconsistent_pmi``, ``bad_text``,
``unknown_enum``, ``e2_node_mismatch``, ``duplicate``, ``too_many``); encoders raise only
``EncodeError``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar, cast

from google.protobuf.message import DecodeError, Message

from schemas import recommendation_pb2 as rpb
from xapp.e2 import csi_rules
from xapp.e2.csi import nr_cgi_from_proto, nr_cgi_to_proto, pmi_from_proto, pmi_to_proto
from xapp.e2.csi_types import CsiDecodeError, NrCgi, Pmi
from xapp.errors import EncodeError, MalformedInput

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
MAX_RECOMMENDATIONS = 4096
MAX_E2_NODE_NAME = 31  # RMR meid: 32 bytes including the terminating NUL
MAX_MODEL_VERSION = 64
MAX_VALIDITY_MS = 60_000
MAX_DETAIL = 200

_M = TypeVar("_M", bound=Message)


class RecommendationDecodeError(MalformedInput):
    """Recommendation or acknowledgement bytes that do not decode into a valid message."""

    source = "recommendation"


class Reason(IntEnum):
    """Why the values are what they are (proto enum numbers)."""

    MODEL = 1
    FALLBACK = 2  # the UE-reported values, repeated
    POLICY = 3  # an A1 policy changed the model's output


class RejectReason(IntEnum):
    UNKNOWN_UE = 1
    EXPIRED = 2
    OUT_OF_RANGE = 3
    NOT_SUPPORTED = 4
    OTHER = 5


@dataclass(frozen=True)
class Confidence:
    """Probability (0..1) that each decision is the best; ``beam`` 0 when none is made.

    Carried as float32: 0.9 comes back as 0.8999999761581421.
    """

    rank: float
    pmi: float
    beam: float = 0.0


@dataclass(frozen=True)
class ReportedCsi:
    """The UE-reported values a recommendation replaces."""

    rank: int
    pmi: Pmi
    report_slot: int
    beam_index: int | None = None


@dataclass(frozen=True)
class Recommendation:
    """Link-adaptation values for one UE, valid from ``apply_from_slot`` for ``validity_ms``."""

    e2_node: str
    cell: NrCgi
    ue_id: int
    apply_from_slot: int
    validity_ms: int
    rank: int
    pmi: Pmi
    confidence: Confidence
    model_version: str
    reason: Reason
    beam_index: int | None = None
    replaces: ReportedCsi | None = None


@dataclass(frozen=True)
class RecommendationBatch:
    """One decision cycle's recommendations for one E2 node (``ntp_timestamp``: 64-bit NTP)."""

    e2_node: str
    sequence: int
    ntp_timestamp: int
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True)
class Rejection:
    ue_id: int
    reason: RejectReason
    detail: str = ""


@dataclass(frozen=True)
class RecommendationAck:
    e2_node: str
    batch_sequence: int
    accepted_count: int
    rejected: tuple[Rejection, ...] = ()


# --- validation ------------------------------------------------------------------------------

def _check_e2_node(name: str) -> None:
    if not 1 <= len(name) <= MAX_E2_NODE_NAME or not all(" " <= ch <= "~" for ch in name):
        raise RecommendationDecodeError(
            "bad_text", f"e2_node {name[:40]!r} must be 1..{MAX_E2_NODE_NAME} printable ASCII")


def _check_confidence(confidence: Confidence) -> None:
    for name in ("rank", "pmi", "beam"):
        csi_rules.finite_in_range(f"confidence.{name}", getattr(confidence, name), 0.0, 1.0)


def _check_recommendation(rec: Recommendation) -> None:
    _check_e2_node(rec.e2_node)
    if len(rec.cell.plmn_id) != 3:
        raise RecommendationDecodeError("out_of_range", "plmn_id must be 3 octets")
    csi_rules.in_range("nr_cell_identity", rec.cell.nr_cell_identity, 0,
                       csi_rules.MAX_NR_CELL_IDENTITY)
    csi_rules.in_range("ue_id", rec.ue_id, 0, csi_rules.MAX_UE_ID)
    csi_rules.in_range("apply_from_slot", rec.apply_from_slot, 0, csi_rules.MAX_UINT64)
    csi_rules.in_range("validity_ms", rec.validity_ms, 1, MAX_VALIDITY_MS)
    csi_rules.check_pmi(rec.pmi, rec.rank)
    if rec.beam_index is not None:
        csi_rules.in_range("beam_index", rec.beam_index, 0, csi_rules.MAX_BEAM_CODEBOOK - 1)
    _check_confidence(rec.confidence)
    if not 1 <= len(rec.model_version) <= MAX_MODEL_VERSION:
        raise RecommendationDecodeError("bad_text", f"model_version must be 1..{MAX_MODEL_VERSION}"
                                        " characters")
    if rec.replaces is not None:
        csi_rules.check_pmi(rec.replaces.pmi, rec.replaces.rank)
        csi_rules.in_range("replaces.report_slot", rec.replaces.report_slot, 0,
                           csi_rules.MAX_UINT64)
        if rec.replaces.beam_index is not None:
            csi_rules.in_range("replaces.beam_index", rec.replaces.beam_index, 0,
                               csi_rules.MAX_BEAM_CODEBOOK - 1)


def _check_batch(batch: RecommendationBatch) -> None:
    _check_e2_node(batch.e2_node)
    csi_rules.in_range("sequence", batch.sequence, 0, csi_rules.MAX_UINT64)
    csi_rules.in_range("ntp_timestamp", batch.ntp_timestamp, 0, csi_rules.MAX_UINT64)
    if len(batch.recommendations) > MAX_RECOMMENDATIONS:
        raise RecommendationDecodeError("too_many", f"{len(batch.recommendations)} recommendations")
    seen: set[tuple[NrCgi, int]] = set()
    for rec in batch.recommendations:
        _check_recommendation(rec)
        if rec.e2_node != batch.e2_node:
            raise RecommendationDecodeError(
                "e2_node_mismatch",
                f"recommendation for {rec.e2_node!r} in {batch.e2_node!r}'s batch")
        if (rec.cell, rec.ue_id) in seen:
            raise RecommendationDecodeError("duplicate", f"UE {rec.ue_id} twice in one cell")
        seen.add((rec.cell, rec.ue_id))


def _check_ack(ack: RecommendationAck) -> None:
    _check_e2_node(ack.e2_node)
    csi_rules.in_range("batch_sequence", ack.batch_sequence, 0, csi_rules.MAX_UINT64)
    csi_rules.in_range("accepted_count", ack.accepted_count, 0, MAX_RECOMMENDATIONS)
    if len(ack.rejected) > MAX_RECOMMENDATIONS:
        raise RecommendationDecodeError("too_many", f"{len(ack.rejected)} rejections")
    for rejection in ack.rejected:
        csi_rules.in_range("rejected.ue_id", rejection.ue_id, 0, csi_rules.MAX_UE_ID)
        if len(rejection.detail) > MAX_DETAIL:
            raise RecommendationDecodeError("bad_text", f"detail over {MAX_DETAIL} characters")


def _validated(check: Callable[[], None]) -> None:
    """Run ``check``; the shared CSI rules raise CsiDecodeError, re-raise it as ours."""
    try:
        check()
    except CsiDecodeError as exc:
        raise RecommendationDecodeError(exc.reason, exc.detail) from None


# --- proto mapping ---------------------------------------------------------------------------

def _enum(kind: type[IntEnum], value: int, what: str) -> IntEnum:
    try:
        return kind(value)
    except ValueError:
        raise RecommendationDecodeError("unknown_enum", f"{what}={value}") from None


def _require(message: Message, field: str) -> None:
    if not message.HasField(field):
        raise RecommendationDecodeError("missing_field", f"{type(message).__name__}.{field}")


def recommendation_to_proto(rec: Recommendation) -> rpb.Recommendation:
    """The protobuf message of ``rec`` (not validated: use the encoders for the wire)."""
    message = rpb.Recommendation(
        e2_node=rec.e2_node, cell=nr_cgi_to_proto(rec.cell), ue_id=rec.ue_id,
        apply_from_slot=rec.apply_from_slot, validity_ms=rec.validity_ms, rank=rec.rank,
        pmi=pmi_to_proto(rec.pmi),
        confidence=rpb.Confidence(rank=rec.confidence.rank, pmi=rec.confidence.pmi,
                                  beam=rec.confidence.beam),
        model_version=rec.model_version, reason=cast(rpb.Reason, int(rec.reason)))
    if rec.beam_index is not None:
        message.beam_index = rec.beam_index
    if rec.replaces is not None:
        r = rec.replaces
        message.replaces.CopyFrom(rpb.ReportedCsi(rank=r.rank, pmi=pmi_to_proto(r.pmi),
                                                  report_slot=r.report_slot))
        if r.beam_index is not None:
            message.replaces.beam_index = r.beam_index
    return message


def recommendation_from_proto(message: rpb.Recommendation) -> Recommendation:
    """The validated dataclass of a protobuf Recommendation; raises RecommendationDecodeError."""
    for field in ("cell", "pmi", "confidence"):
        _require(message, field)
    replaces = None
    if message.HasField("replaces"):
        r = message.replaces
        _require(r, "pmi")
        replaces = ReportedCsi(r.rank, pmi_from_proto(r.pmi), r.report_slot,
                               r.beam_index if r.HasField("beam_index") else None)
    c = message.confidence
    rec = Recommendation(
        e2_node=message.e2_node, cell=nr_cgi_from_proto(message.cell), ue_id=message.ue_id,
        apply_from_slot=message.apply_from_slot, validity_ms=message.validity_ms,
        rank=message.rank, pmi=pmi_from_proto(message.pmi),
        confidence=Confidence(c.rank, c.pmi, c.beam), model_version=message.model_version,
        reason=cast(Reason, _enum(Reason, message.reason, "reason")),
        beam_index=message.beam_index if message.HasField("beam_index") else None,
        replaces=replaces)
    _validated(lambda: _check_recommendation(rec))
    return rec


# --- wire codec ------------------------------------------------------------------------------

def _parse(message_type: type[_M], data: bytes) -> _M:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RecommendationDecodeError("not_bytes", f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise RecommendationDecodeError("too_large", f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    message = message_type()
    try:
        message.ParseFromString(bytes(data))
    except (DecodeError, ValueError, RuntimeError, RecursionError) as exc:
        # DecodeError is the documented one; the others cover parser back-ends (upb, cpp,
        # pure Python) that report some malformed inputs differently.
        raise RecommendationDecodeError("not_protobuf", f"{message_type.__name__}: {exc}") from None
    return message


def _encode(build: Callable[[], Message], check: Callable[[], None]) -> bytes:
    try:
        _validated(check)
        return build().SerializeToString()
    except RecommendationDecodeError as exc:
        raise EncodeError(f"recommendation: {exc.reason}: {exc.detail}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise EncodeError(f"recommendation: {exc}") from None


def encode_batch(batch: RecommendationBatch) -> bytes:
    """The LINKFM_RECOMMENDATION payload for ``batch``."""
    return _encode(lambda: rpb.RecommendationBatch(
        e2_node=batch.e2_node, sequence=batch.sequence, ntp_timestamp=batch.ntp_timestamp,
        recommendations=[recommendation_to_proto(r) for r in batch.recommendations]),
        lambda: _check_batch(batch))


def decode_batch(data: bytes) -> RecommendationBatch:
    message = _parse(rpb.RecommendationBatch, data)
    if len(message.recommendations) > MAX_RECOMMENDATIONS:
        raise RecommendationDecodeError("too_many",
                                        f"{len(message.recommendations)} recommendations")
    batch = RecommendationBatch(
        e2_node=message.e2_node, sequence=message.sequence, ntp_timestamp=message.ntp_timestamp,
        recommendations=tuple(recommendation_from_proto(r) for r in message.recommendations))
    _validated(lambda: _check_batch(batch))
    return batch


def encode_ack(ack: RecommendationAck) -> bytes:
    """The LINKFM_RECOMMENDATION_ACK payload for ``ack``."""
    return _encode(lambda: rpb.RecommendationAck(
        e2_node=ack.e2_node, batch_sequence=ack.batch_sequence,
        accepted_count=ack.accepted_count,
        rejected=[rpb.Rejection(ue_id=r.ue_id, reason=cast(rpb.RejectReason, int(r.reason)),
                                detail=r.detail) for r in ack.rejected]),
        lambda: _check_ack(ack))


def decode_ack(data: bytes) -> RecommendationAck:
    message = _parse(rpb.RecommendationAck, data)
    if len(message.rejected) > MAX_RECOMMENDATIONS:
        raise RecommendationDecodeError("too_many", f"{len(message.rejected)} rejections")
    ack = RecommendationAck(
        e2_node=message.e2_node, batch_sequence=message.batch_sequence,
        accepted_count=message.accepted_count,
        rejected=tuple(Rejection(r.ue_id, cast(RejectReason, _enum(RejectReason, r.reason,
                                                                   "reject reason")), r.detail)
                       for r in message.rejected))
    _validated(lambda: _check_ack(ack))
    return ack



def example_batch(n_ues: int = 64, e2_node: str = "gnb_001_001_00000001",
                  seed: int = 0) -> RecommendationBatch:
    """A full batch (beam and replaced values on every UE) for benchmarks and examples.

    Four-port rank 1/2 Type-I PMIs, as :func:`xapp.e2.csi.example_indication` reports them.
    """
    rng = random.Random(seed)
    cell = NrCgi(b"\x00\xf1\x10", 0x12345678)
    recs = []
    for ue in range(n_ues):
        rank = rng.randint(1, 2)
        pmi = Pmi(rng.randrange(8), 0, rng.randrange(4 if rank == 1 else 2),
                  rng.randrange(2) if rank == 2 else None)
        recs.append(Recommendation(
            e2_node=e2_node, cell=cell, ue_id=1000 + ue, apply_from_slot=20 * ue + 10,
            validity_ms=20, rank=rank, pmi=pmi,
            confidence=Confidence(rng.randrange(257) / 256, rng.randrange(257) / 256,
                                  rng.randrange(257) / 256),
            model_version="linkfm-example", reason=Reason.MODEL, beam_index=rng.randrange(32),
            replaces=ReportedCsi(1, Pmi(rng.randrange(8), 0, rng.randrange(4)), 20 * ue,
                                 beam_index=rng.randrange(32))))
    return RecommendationBatch(e2_node, 0, 3_970_000_000 << 32, tuple(recs))
