"""Typed messages of E2SM-CSI, LinkFM's service model for per-UE CSI (schemas/e2sm_csi.proto).

Frozen dataclasses that mirror the protobuf messages one to one; ranges and units are those
documented in the ``.proto``. Validation lives in :mod:`xapp.e2.csi_rules`, the wire codec in
:mod:`xapp.e2.csi` (which re-exports everything here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from xapp.errors import MalformedInput

RAN_FUNCTION_ID = 200
"""The E2 RAN function id of E2SM-CSI (KPM uses 2, RC 3, FlexRIC 142-149)."""

RAN_FUNCTION_OID = "2.25.93962055451225557499503822015635406932"
"""UUID-derived OID (ITU-T X.667 arc 2.25): private, unregistered, collision-free."""

RAN_FUNCTION_SHORT_NAME = "LINKFM-CSI"
SERVICE_MODEL_VERSION = 1
REPORT_STYLE_PERIODIC_UE_CSI = 1
"""The one report style: periodic per-UE CSI reports."""


class CsiDecodeError(MalformedInput):
    """E2SM-CSI bytes that do not decode into a valid message (``reason`` says why)."""

    source = "e2sm_csi"


class CodebookType(IntEnum):
    TYPE1_SINGLE_PANEL = 1


class ChannelDtype(IntEnum):
    """Element type of :class:`ChannelEstimate` data (the value is the proto enum number)."""

    COMPLEX64 = 1  # float32 re, float32 im
    COMPLEX32 = 2  # float16 re, float16 im

    @property
    def itemsize(self) -> int:
        """Bytes per complex element."""
        return 8 if self is ChannelDtype.COMPLEX64 else 4


@dataclass(frozen=True)
class NrCgi:
    """NR cell global identity: 3-octet PLMN (TS 38.413 BCD) + 36-bit NR cell identity."""

    plmn_id: bytes
    nr_cell_identity: int


@dataclass(frozen=True)
class Pmi:
    """Type-I single-panel PMI (TS 38.214 5.2.2.2.1); ``i13`` only for ranks 2..4, P > 2."""

    i11: int
    i12: int
    i2: int
    i13: int | None = None

    @classmethod
    def from_dense(cls, rank: int, n_tx_ports: int, i11: int, i12: int, i13: int,
                   i2: int) -> Pmi:
        """From the dense form (i13 = 0 where the codebook has none, as in ``e2sim.csi``
        and ``model.pmi_space``): keeps i13 only for ranks 2..4 with more than 2 ports."""
        return cls(i11, i12, i2, i13 if 2 <= rank <= 4 and n_tx_ports > 2 else None)


@dataclass(frozen=True)
class ReportStyle:
    style_type: int
    name: str


@dataclass(frozen=True)
class AntennaConfig:
    """Downlink antenna set-up: N_T = 2 * n1 * n2 CSI-RS ports, N_R UE antennas."""

    n_tx_ports: int
    n_rx: int
    n1: int
    n2: int
    o1: int
    o2: int
    beam_codebook_size: int
    codebook_type: CodebookType = CodebookType.TYPE1_SINGLE_PANEL


@dataclass(frozen=True)
class Numerology:
    """Carrier numerology; ``num_subbands = ceil(bandwidth_prbs / subband_size_prbs)``."""

    scs_khz: int
    bandwidth_prbs: int
    subband_size_prbs: int
    num_subbands: int

    @property
    def slot_duration_ms(self) -> float:
        """Length of one slot in milliseconds (1 ms at 15 kHz, 0.5 ms at 30 kHz, ...)."""
        return 15.0 / self.scs_khz

    @classmethod
    def for_carrier(cls, scs_khz: int, bandwidth_prbs: int, subband_size_prbs: int) -> Numerology:
        """A numerology with the subband count derived from the bandwidth."""
        return cls(scs_khz, bandwidth_prbs, subband_size_prbs,
                   math.ceil(bandwidth_prbs / subband_size_prbs))


@dataclass(frozen=True)
class CsiRanFunctionDefinition:
    """What an E2 node announces for E2SM-CSI in E2 Setup."""

    antenna: AntennaConfig
    numerology: Numerology
    report_styles: tuple[ReportStyle, ...] = (
        ReportStyle(REPORT_STYLE_PERIODIC_UE_CSI, "periodic per-UE CSI"),)
    short_name: str = RAN_FUNCTION_SHORT_NAME
    oid: str = RAN_FUNCTION_OID
    description: str = "LinkFM per-UE CSI: UCI CSI fields, beam RSRP, SRS channel estimates"
    version: int = SERVICE_MODEL_VERSION


@dataclass(frozen=True)
class CsiEventTrigger:
    reporting_period_ms: int


@dataclass(frozen=True)
class CsiActionDefinition:
    """Which report parts to send, for which UEs (``ue_ids=None``: all UEs)."""

    report_csi_fields: bool = True
    report_channel_estimate: bool = False
    report_beam_rsrp: bool = True
    ue_ids: tuple[int, ...] | None = None
    max_ues_per_indication: int = 64
    report_style: int = REPORT_STYLE_PERIODIC_UE_CSI


@dataclass(frozen=True)
class CsiIndicationHeader:
    """``ntp_timestamp``: 64-bit NTP time of the slot the indication was assembled in."""

    ntp_timestamp: int
    cell: NrCgi
    sequence_number: int


@dataclass(frozen=True)
class UciCsi:
    """CSI fields as the UE reported them: RI 1..8, CRI 0..7, CQI indices 0..15."""

    ri: int
    cri: int
    pmi: Pmi
    wideband_cqi: int
    subband_cqi: tuple[int, ...] = ()


@dataclass(frozen=True)
class BeamRsrp:
    """L1-RSRP (dBm) of one beam of the gNB's grid of beams."""

    beam_index: int
    rsrp_dbm: float


@dataclass(frozen=True)
class ChannelEstimate:
    """Channel H per subband, ``shape = (subbands, n_rx, n_tx)``, value = stored * ``scale``.

    ``data`` holds ``prod(shape)`` little-endian complex values (re/im interleaved) of
    ``dtype``. Use :meth:`from_array` and :meth:`as_array` rather than touching bytes.
    """

    dtype: ChannelDtype
    shape: tuple[int, int, int]
    scale: float
    data: bytes

    @classmethod
    def from_array(cls, h: npt.ArrayLike, *, compress: bool = False) -> ChannelEstimate:
        """Pack ``h`` (complex, ``[subbands, n_rx, n_tx]``, linear amplitude).

        ``compress=True`` stores float16 pairs (half the bytes): the values are divided by
        their peak |re| or |im| first, so the relative error stays ~5e-4 of the peak.
        """
        array = np.asarray(h, dtype=np.complex64)
        if array.ndim != 3:
            raise ValueError(f"channel estimate must be [subbands, n_rx, n_tx], got {array.shape}")
        shape = (int(array.shape[0]), int(array.shape[1]), int(array.shape[2]))
        if not compress:
            return cls(ChannelDtype.COMPLEX64, shape, 1.0, array.astype("<c8").tobytes())
        pairs = array.view(np.float32).reshape(*shape, 2)
        peak = float(np.max(np.abs(pairs))) if pairs.size else 0.0
        # float32 because the proto carries `float`: the receiver must divide by the same value.
        scale = float(np.float32(peak)) if peak > 0 and math.isfinite(peak) else 1.0
        stored = (pairs / np.float32(scale)).astype("<f2")
        return cls(ChannelDtype.COMPLEX32, shape, scale, stored.tobytes())

    def as_array(self) -> npt.NDArray[np.complex64]:
        """The channel as a complex64 array ``[subbands, n_rx, n_tx]`` (scale applied)."""
        if self.dtype is ChannelDtype.COMPLEX64:
            values = np.frombuffer(self.data, dtype="<c8").astype(np.complex64)
        else:
            values = np.frombuffer(self.data, dtype="<f2").astype(np.float32).view(np.complex64)
        values = values.reshape(self.shape)
        if self.scale != 1.0:
            values = values * np.float32(self.scale)
        return values


@dataclass(frozen=True)
class CsiReport:
    """One UE's report; which parts are present depends on the action definition."""

    ue_id: int
    report_slot: int
    csi: UciCsi | None = None
    beams: tuple[BeamRsrp, ...] = ()
    sinr_db: float | None = None
    channel_estimate: ChannelEstimate | None = None


@dataclass(frozen=True)
class CsiIndication:
    """A decoded RIC indication of E2SM-CSI: header plus the UE reports of the message."""

    header: CsiIndicationHeader
    reports: tuple[CsiReport, ...]
