from schemas import e2sm_csi_pb2 as _e2sm_csi_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_MODEL: _ClassVar[Reason]
    REASON_FALLBACK: _ClassVar[Reason]
    REASON_POLICY: _ClassVar[Reason]

class RejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REJECT_REASON_UNSPECIFIED: _ClassVar[RejectReason]
    REJECT_REASON_UNKNOWN_UE: _ClassVar[RejectReason]
    REJECT_REASON_EXPIRED: _ClassVar[RejectReason]
    REJECT_REASON_OUT_OF_RANGE: _ClassVar[RejectReason]
    REJECT_REASON_NOT_SUPPORTED: _ClassVar[RejectReason]
    REJECT_REASON_OTHER: _ClassVar[RejectReason]
REASON_UNSPECIFIED: Reason
REASON_MODEL: Reason
REASON_FALLBACK: Reason
REASON_POLICY: Reason
REJECT_REASON_UNSPECIFIED: RejectReason
REJECT_REASON_UNKNOWN_UE: RejectReason
REJECT_REASON_EXPIRED: RejectReason
REJECT_REASON_OUT_OF_RANGE: RejectReason
REJECT_REASON_NOT_SUPPORTED: RejectReason
REJECT_REASON_OTHER: RejectReason

class Confidence(_message.Message):
    __slots__ = ("rank", "pmi", "beam")
    RANK_FIELD_NUMBER: _ClassVar[int]
    PMI_FIELD_NUMBER: _ClassVar[int]
    BEAM_FIELD_NUMBER: _ClassVar[int]
    rank: float
    pmi: float
    beam: float
    def __init__(self, rank: _Optional[float] = ..., pmi: _Optional[float] = ..., beam: _Optional[float] = ...) -> None: ...

class ReportedCsi(_message.Message):
    __slots__ = ("rank", "pmi", "beam_index", "report_slot")
    RANK_FIELD_NUMBER: _ClassVar[int]
    PMI_FIELD_NUMBER: _ClassVar[int]
    BEAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    REPORT_SLOT_FIELD_NUMBER: _ClassVar[int]
    rank: int
    pmi: _e2sm_csi_pb2.Pmi
    beam_index: int
    report_slot: int
    def __init__(self, rank: _Optional[int] = ..., pmi: _Optional[_Union[_e2sm_csi_pb2.Pmi, _Mapping]] = ..., beam_index: _Optional[int] = ..., report_slot: _Optional[int] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ("e2_node", "cell", "ue_id", "apply_from_slot", "validity_ms", "rank", "pmi", "beam_index", "confidence", "model_version", "replaces", "reason")
    E2_NODE_FIELD_NUMBER: _ClassVar[int]
    CELL_FIELD_NUMBER: _ClassVar[int]
    UE_ID_FIELD_NUMBER: _ClassVar[int]
    APPLY_FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_MS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    PMI_FIELD_NUMBER: _ClassVar[int]
    BEAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    e2_node: str
    cell: _e2sm_csi_pb2.NrCgi
    ue_id: int
    apply_from_slot: int
    validity_ms: int
    rank: int
    pmi: _e2sm_csi_pb2.Pmi
    beam_index: int
    confidence: Confidence
    model_version: str
    replaces: ReportedCsi
    reason: Reason
    def __init__(self, e2_node: _Optional[str] = ..., cell: _Optional[_Union[_e2sm_csi_pb2.NrCgi, _Mapping]] = ..., ue_id: _Optional[int] = ..., apply_from_slot: _Optional[int] = ..., validity_ms: _Optional[int] = ..., rank: _Optional[int] = ..., pmi: _Optional[_Union[_e2sm_csi_pb2.Pmi, _Mapping]] = ..., beam_index: _Optional[int] = ..., confidence: _Optional[_Union[Confidence, _Mapping]] = ..., model_version: _Optional[str] = ..., replaces: _Optional[_Union[ReportedCsi, _Mapping]] = ..., reason: _Optional[_Union[Reason, str]] = ...) -> None: ...

class RecommendationBatch(_message.Message):
    __slots__ = ("e2_node", "sequence", "ntp_timestamp", "recommendations")
    E2_NODE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NTP_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    e2_node: str
    sequence: int
    ntp_timestamp: int
    recommendations: _containers.RepeatedCompositeFieldContainer[Recommendation]
    def __init__(self, e2_node: _Optional[str] = ..., sequence: _Optional[int] = ..., ntp_timestamp: _Optional[int] = ..., recommendations: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("ue_id", "reason", "detail")
    UE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ue_id: int
    reason: RejectReason
    detail: str
    def __init__(self, ue_id: _Optional[int] = ..., reason: _Optional[_Union[RejectReason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class RecommendationAck(_message.Message):
    __slots__ = ("e2_node", "batch_sequence", "accepted_count", "rejected")
    E2_NODE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    e2_node: str
    batch_sequence: int
    accepted_count: int
    rejected: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, e2_node: _Optional[str] = ..., batch_sequence: _Optional[int] = ..., accepted_count: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...
