from schemas import e2sm_csi_pb2 as _e2sm_csi_pb2
from schemas import recommendation_pb2 as _recommendation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UeQuery(_message.Message):
    __slots__ = ("e2_node", "ue_id")
    E2_NODE_FIELD_NUMBER: _ClassVar[int]
    UE_ID_FIELD_NUMBER: _ClassVar[int]
    e2_node: str
    ue_id: int
    def __init__(self, e2_node: _Optional[str] = ..., ue_id: _Optional[int] = ...) -> None: ...

class StreamFilter(_message.Message):
    __slots__ = ("e2_node", "cell", "ue_ids")
    E2_NODE_FIELD_NUMBER: _ClassVar[int]
    CELL_FIELD_NUMBER: _ClassVar[int]
    UE_IDS_FIELD_NUMBER: _ClassVar[int]
    e2_node: str
    cell: _e2sm_csi_pb2.NrCgi
    ue_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, e2_node: _Optional[str] = ..., cell: _Optional[_Union[_e2sm_csi_pb2.NrCgi, _Mapping]] = ..., ue_ids: _Optional[_Iterable[int]] = ...) -> None: ...
