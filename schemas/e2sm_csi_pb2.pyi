from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CodebookType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CODEBOOK_TYPE_UNSPECIFIED: _ClassVar[CodebookType]
    CODEBOOK_TYPE_TYPE1_SINGLE_PANEL: _ClassVar[CodebookType]

class ChannelDtype(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_DTYPE_UNSPECIFIED: _ClassVar[ChannelDtype]
    CHANNEL_DTYPE_COMPLEX64: _ClassVar[ChannelDtype]
    CHANNEL_DTYPE_COMPLEX32: _ClassVar[ChannelDtype]
CODEBOOK_TYPE_UNSPECIFIED: CodebookType
CODEBOOK_TYPE_TYPE1_SINGLE_PANEL: CodebookType
CHANNEL_DTYPE_UNSPECIFIED: ChannelDtype
CHANNEL_DTYPE_COMPLEX64: ChannelDtype
CHANNEL_DTYPE_COMPLEX32: ChannelDtype

class NrCgi(_message.Message):
    __slots__ = ("plmn_id", "nr_cell_identity")
    PLMN_ID_FIELD_NUMBER: _ClassVar[int]
    NR_CELL_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    plmn_id: bytes
    nr_cell_identity: int
    def __init__(self, plmn_id: _Optional[bytes] = ..., nr_cell_identity: _Optional[int] = ...) -> None: ...

class Pmi(_message.Message):
    __slots__ = ("i11", "i12", "i13", "i2")
    I11_FIELD_NUMBER: _ClassVar[int]
    I12_FIELD_NUMBER: _ClassVar[int]
    I13_FIELD_NUMBER: _ClassVar[int]
    I2_FIELD_NUMBER: _ClassVar[int]
    i11: int
    i12: int
    i13: int
    i2: int
    def __init__(self, i11: _Optional[int] = ..., i12: _Optional[int] = ..., i13: _Optional[int] = ..., i2: _Optional[int] = ...) -> None: ...

class ReportStyle(_message.Message):
    __slots__ = ("style_type", "name")
    STYLE_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    style_type: int
    name: str
    def __init__(self, style_type: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class AntennaConfig(_message.Message):
    __slots__ = ("n_tx_ports", "n_rx", "codebook_type", "n1", "n2", "o1", "o2", "beam_codebook_size")
    N_TX_PORTS_FIELD_NUMBER: _ClassVar[int]
    N_RX_FIELD_NUMBER: _ClassVar[int]
    CODEBOOK_TYPE_FIELD_NUMBER: _ClassVar[int]
    N1_FIELD_NUMBER: _ClassVar[int]
    N2_FIELD_NUMBER: _ClassVar[int]
    O1_FIELD_NUMBER: _ClassVar[int]
    O2_FIELD_NUMBER: _ClassVar[int]
    BEAM_CODEBOOK_SIZE_FIELD_NUMBER: _ClassVar[int]
    n_tx_ports: int
    n_rx: int
    codebook_type: CodebookType
    n1: int
    n2: int
    o1: int
    o2: int
    beam_codebook_size: int
    def __init__(self, n_tx_ports: _Optional[int] = ..., n_rx: _Optional[int] = ..., codebook_type: _Optional[_Union[CodebookType, str]] = ..., n1: _Optional[int] = ..., n2: _Optional[int] = ..., o1: _Optional[int] = ..., o2: _Optional[int] = ..., beam_codebook_size: _Optional[int] = ...) -> None: ...

class Numerology(_message.Message):
    __slots__ = ("scs_khz", "bandwidth_prbs", "subband_size_prbs", "num_subbands")
    SCS_KHZ_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_PRBS_FIELD_NUMBER: _ClassVar[int]
    SUBBAND_SIZE_PRBS_FIELD_NUMBER: _ClassVar[int]
    NUM_SUBBANDS_FIELD_NUMBER: _ClassVar[int]
    scs_khz: int
    bandwidth_prbs: int
    subband_size_prbs: int
    num_subbands: int
    def __init__(self, scs_khz: _Optional[int] = ..., bandwidth_prbs: _Optional[int] = ..., subband_size_prbs: _Optional[int] = ..., num_subbands: _Optional[int] = ...) -> None: ...

class RanFunctionDefinition(_message.Message):
    __slots__ = ("short_name", "oid", "description", "version", "report_styles", "antenna", "numerology")
    SHORT_NAME_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REPORT_STYLES_FIELD_NUMBER: _ClassVar[int]
    ANTENNA_FIELD_NUMBER: _ClassVar[int]
    NUMEROLOGY_FIELD_NUMBER: _ClassVar[int]
    short_name: str
    oid: str
    description: str
    version: int
    report_styles: _containers.RepeatedCompositeFieldContainer[ReportStyle]
    antenna: AntennaConfig
    numerology: Numerology
    def __init__(self, short_name: _Optional[str] = ..., oid: _Optional[str] = ..., description: _Optional[str] = ..., version: _Optional[int] = ..., report_styles: _Optional[_Iterable[_Union[ReportStyle, _Mapping]]] = ..., antenna: _Optional[_Union[AntennaConfig, _Mapping]] = ..., numerology: _Optional[_Union[Numerology, _Mapping]] = ...) -> None: ...

class EventTrigger(_message.Message):
    __slots__ = ("reporting_period_ms",)
    REPORTING_PERIOD_MS_FIELD_NUMBER: _ClassVar[int]
    reporting_period_ms: int
    def __init__(self, reporting_period_ms: _Optional[int] = ...) -> None: ...

class UeFilter(_message.Message):
    __slots__ = ("all_ues", "ue_ids")
    ALL_UES_FIELD_NUMBER: _ClassVar[int]
    UE_IDS_FIELD_NUMBER: _ClassVar[int]
    all_ues: bool
    ue_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, all_ues: _Optional[bool] = ..., ue_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ActionDefinition(_message.Message):
    __slots__ = ("report_style", "report_csi_fields", "report_channel_estimate", "report_beam_rsrp", "ue_filter", "max_ues_per_indication")
    REPORT_STYLE_FIELD_NUMBER: _ClassVar[int]
    REPORT_CSI_FIELDS_FIELD_NUMBER: _ClassVar[int]
    REPORT_CHANNEL_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    REPORT_BEAM_RSRP_FIELD_NUMBER: _ClassVar[int]
    UE_FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_UES_PER_INDICATION_FIELD_NUMBER: _ClassVar[int]
    report_style: int
    report_csi_fields: bool
    report_channel_estimate: bool
    report_beam_rsrp: bool
    ue_filter: UeFilter
    max_ues_per_indication: int
    def __init__(self, report_style: _Optional[int] = ..., report_csi_fields: _Optional[bool] = ..., report_channel_estimate: _Optional[bool] = ..., report_beam_rsrp: _Optional[bool] = ..., ue_filter: _Optional[_Union[UeFilter, _Mapping]] = ..., max_ues_per_indication: _Optional[int] = ...) -> None: ...

class IndicationHeader(_message.Message):
    __slots__ = ("ntp_timestamp", "cell", "sequence_number")
    NTP_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CELL_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ntp_timestamp: int
    cell: NrCgi
    sequence_number: int
    def __init__(self, ntp_timestamp: _Optional[int] = ..., cell: _Optional[_Union[NrCgi, _Mapping]] = ..., sequence_number: _Optional[int] = ...) -> None: ...

class UciCsi(_message.Message):
    __slots__ = ("ri", "cri", "pmi", "wideband_cqi", "subband_cqi")
    RI_FIELD_NUMBER: _ClassVar[int]
    CRI_FIELD_NUMBER: _ClassVar[int]
    PMI_FIELD_NUMBER: _ClassVar[int]
    WIDEBAND_CQI_FIELD_NUMBER: _ClassVar[int]
    SUBBAND_CQI_FIELD_NUMBER: _ClassVar[int]
    ri: int
    cri: int
    pmi: Pmi
    wideband_cqi: int
    subband_cqi: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ri: _Optional[int] = ..., cri: _Optional[int] = ..., pmi: _Optional[_Union[Pmi, _Mapping]] = ..., wideband_cqi: _Optional[int] = ..., subband_cqi: _Optional[_Iterable[int]] = ...) -> None: ...

class BeamRsrp(_message.Message):
    __slots__ = ("beam_index", "rsrp_dbm")
    BEAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    RSRP_DBM_FIELD_NUMBER: _ClassVar[int]
    beam_index: int
    rsrp_dbm: float
    def __init__(self, beam_index: _Optional[int] = ..., rsrp_dbm: _Optional[float] = ...) -> None: ...

class ChannelEstimate(_message.Message):
    __slots__ = ("dtype", "shape", "scale", "data")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    dtype: ChannelDtype
    shape: _containers.RepeatedScalarFieldContainer[int]
    scale: float
    data: bytes
    def __init__(self, dtype: _Optional[_Union[ChannelDtype, str]] = ..., shape: _Optional[_Iterable[int]] = ..., scale: _Optional[float] = ..., data: _Optional[bytes] = ...) -> None: ...

class UeCsiReport(_message.Message):
    __slots__ = ("ue_id", "report_slot", "csi", "beams", "sinr_db", "channel_estimate")
    UE_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_SLOT_FIELD_NUMBER: _ClassVar[int]
    CSI_FIELD_NUMBER: _ClassVar[int]
    BEAMS_FIELD_NUMBER: _ClassVar[int]
    SINR_DB_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    ue_id: int
    report_slot: int
    csi: UciCsi
    beams: _containers.RepeatedCompositeFieldContainer[BeamRsrp]
    sinr_db: float
    channel_estimate: ChannelEstimate
    def __init__(self, ue_id: _Optional[int] = ..., report_slot: _Optional[int] = ..., csi: _Optional[_Union[UciCsi, _Mapping]] = ..., beams: _Optional[_Iterable[_Union[BeamRsrp, _Mapping]]] = ..., sinr_db: _Optional[float] = ..., channel_estimate: _Optional[_Union[ChannelEstimate, _Mapping]] = ...) -> None: ...

class IndicationMessage(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[UeCsiReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[UeCsiReport, _Mapping]]] = ...) -> None: ...
