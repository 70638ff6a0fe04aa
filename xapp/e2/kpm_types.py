"""The E2SM-KPM messages LinkFM exchanges, as typed immutable values.

Everything here is plain data (ints, floats, str, bytes, tuples, datetimes): values compare
by content, hash, and print readably. :mod:`xapp.e2.kpm` turns them into aligned-PER bytes
of ``schemas/e2sm_kpm.asn`` and back. Field ranges follow that module; the encoder refuses
values outside them with :class:`xapp.errors.EncodeError`.

Units: periods are milliseconds; ``collet_start_time`` is a timezone-aware UTC datetime.
PLMN identities are the 3 TBCD octets of NGAP (see :func:`plmn_id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MeasValue = int | float | None
"""One measurement record item: ``int`` (INTEGER 0..2**32-1), ``float`` (REAL) or ``None``
(noValue). ``bool`` is refused by the encoder."""

MeasType = str | int
"""A measurement type: its TS 28.552 name (``"DRB.UEThpDl"``) or its numeric id (1..65536)."""


def plmn_id(mcc: str, mnc: str) -> bytes:
    """The 3-octet TBCD PLMN identity of ``mcc`` (3 digits) and ``mnc`` (2 or 3 digits).

    >>> plmn_id("001", "01").hex()
    '00f110'
    """
    if not (len(mcc) == 3 and mcc.isdigit() and len(mnc) in (2, 3) and mnc.isdigit()):
        raise ValueError(f"MCC must be 3 digits and MNC 2 or 3 digits, not {mcc!r}/{mnc!r}")
    d = [int(c) for c in mcc + mnc]
    mnc3 = d[5] if len(mnc) == 3 else 0xF
    return bytes([d[1] << 4 | d[0], mnc3 << 4 | d[2], d[4] << 4 | d[3]])


# ---------------------------------------------------------------------------------------------
# Cells and nodes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NrCgi:
    """NR cell global identity: PLMN (3 octets) and the 36-bit NR cell identity."""

    plmn: bytes
    nr_cell_id: int


@dataclass(frozen=True)
class EutraCgi:
    """E-UTRA cell global identity: PLMN (3 octets) and the 28-bit E-UTRA cell identity."""

    plmn: bytes
    eutra_cell_id: int


Cgi = NrCgi | EutraCgi


@dataclass(frozen=True)
class GlobalGnbId:
    """A gNB: PLMN (3 octets) and its gNB id of ``gnb_id_bits`` (22..32) bits."""

    plmn: bytes
    gnb_id: int
    gnb_id_bits: int = 32


@dataclass(frozen=True)
class Guami:
    """The AMF serving a UE: PLMN, AMF region (8 bits), set (10 bits) and pointer (6 bits)."""

    plmn: bytes
    amf_region_id: int
    amf_set_id: int
    amf_pointer: int


@dataclass(frozen=True)
class Snssai:
    """A network slice: SST (0..255) and optional SD (3 octets)."""

    sst: int
    sd: bytes | None = None


# ---------------------------------------------------------------------------------------------
# UE identities (E2SM common UEID)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UeIdGnb:
    """A UE of a gNB (``UEID-GNB``): NGAP id (0..2**40-1) and GUAMI, plus optional ids.

    ``cu_ue_f1ap_ids`` holds 0..4 F1AP ids and ``cu_cp_ue_e1ap_ids`` 0..65535 E1AP ids
    (empty: absent); ``ran_ue_id`` is 8 octets.
    """

    amf_ue_ngap_id: int
    guami: Guami
    cu_ue_f1ap_ids: tuple[int, ...] = ()
    cu_cp_ue_e1ap_ids: tuple[int, ...] = ()
    ran_ue_id: bytes | None = None
    m_ng_ran_ue_xnap_id: int | None = None
    global_gnb_id: GlobalGnbId | None = None


@dataclass(frozen=True)
class UeIdGnbDu:
    """A UE of a gNB-DU (``UEID-GNB-DU``): its CU F1AP id and optional 8-octet RAN UE id."""

    cu_ue_f1ap_id: int
    ran_ue_id: bytes | None = None


@dataclass(frozen=True)
class UeIdGnbCuUp:
    """A UE of a gNB-CU-UP (``UEID-GNB-CU-UP``): its CU-CP E1AP id and optional RAN UE id."""

    cu_cp_ue_e1ap_id: int
    ran_ue_id: bytes | None = None


@dataclass(frozen=True)
class UeIdOther:
    """A UE of an LTE-side node (ng-eNB, ng-eNB-DU, en-gNB, eNB), kept opaque.

    ``kind`` is the UEID alternative name (``"eNB-UEID"``, ...); ``aper`` the aligned-PER
    bytes of the whole UEID, which the encoder writes back unchanged.
    """

    kind: str
    aper: bytes


UeId = UeIdGnb | UeIdGnbDu | UeIdGnbCuUp | UeIdOther


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurementLabel:
    """How a measurement is filtered or split (``MeasurementLabel``); all fields optional.

    Flags (``no_label``, ``sum``, ``pre_label_override``, ``min``, ``max``, ``avg``) are the
    ``ENUMERATED {true}`` components: ``True`` means present. ``dist_bin_x/y/z`` select a
    bin of a distribution measurement (e.g. ``CARR.WBCQIDist.BinX.BinY.BinZ``: CQI x rank).
    """

    no_label: bool = False
    plmn_id: bytes | None = None
    slice_id: Snssai | None = None
    five_qi: int | None = None
    qfi: int | None = None
    qci: int | None = None
    qci_max: int | None = None
    qci_min: int | None = None
    arp_max: int | None = None
    arp_min: int | None = None
    bitrate_range: int | None = None
    layer_mu_mimo: int | None = None
    sum: bool = False
    dist_bin_x: int | None = None
    dist_bin_y: int | None = None
    dist_bin_z: int | None = None
    pre_label_override: bool = False
    start_end_ind: Literal["start", "end"] | None = None
    min: bool = False
    max: bool = False
    avg: bool = False
    ssb_index: int | None = None
    non_gob_bf_mode_index: int | None = None
    mimo_mode_index: int | None = None


NO_LABEL = MeasurementLabel(no_label=True)
"""The label of an unfiltered measurement."""


@dataclass(frozen=True)
class MeasurementInfo:
    """A measurement type and its labels (1 or more): one record column per label."""

    meas_type: MeasType
    labels: tuple[MeasurementLabel, ...] = (NO_LABEL,)


TestType = Literal[
    "gBR", "aMBR", "isStat", "isCatM", "rSRP", "rSRQ", "ul-rSRP", "cQI", "fiveQI", "qCI", "sNSSAI"
]
TestExpression = Literal["equal", "greaterthan", "lessthan", "contains", "present"]
TestValueKind = Literal["int", "enum", "bool", "bits", "octets", "printable", "real"]


@dataclass(frozen=True)
class TestCondition:
    """One UE matching condition (``TestCondInfo`` plus the OR flag of its list item).

    ``value`` is typed by ``value_kind``: ``int``/``enum`` int, ``bool`` bool, ``bits`` a
    ``(value, bit_length)`` tuple, ``octets`` bytes, ``printable`` str, ``real`` float.
    ``logical_or=True`` ORs this condition with the next one (AND otherwise).
    """

    __test__ = False  # not a pytest test class despite the name

    test_type: TestType
    expression: TestExpression | None = None
    value_kind: TestValueKind | None = None
    value: int | bool | bytes | str | float | tuple[int, int] | None = None
    logical_or: bool = False


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpmEventTrigger:
    """Event trigger definition format 1: report every ``reporting_period_ms`` (1..2**32-1)."""

    reporting_period_ms: int


@dataclass(frozen=True)
class KpmActionDefinitionFormat1:
    """Action definition format 1: node-level measurements collected per granularity period."""

    measurements: tuple[MeasurementInfo, ...]
    granularity_period_ms: int
    cell_global_id: Cgi | None = None
    ric_style_type: int = 1


@dataclass(frozen=True)
class KpmActionDefinitionFormat4:
    """Action definition format 4: per-UE measurements of the UEs matching ``conditions``.

    The measurement fields are format 4's ``subscriptionInfo`` (an action format 1).
    """

    conditions: tuple[TestCondition, ...]
    measurements: tuple[MeasurementInfo, ...]
    granularity_period_ms: int
    cell_global_id: Cgi | None = None
    ric_style_type: int = 4


KpmActionDefinition = KpmActionDefinitionFormat1 | KpmActionDefinitionFormat4


@dataclass(frozen=True)
class KpmIndicationHeader:
    """Indication header format 1.

    ``time_convention`` says how the received ``colletStartTime`` was read (see
    :mod:`xapp.e2.kpm_time`); the encoder always writes ``"ntp"``. The encoder leaves empty
    strings out (they decode as ``None``): peers disagree on how to align after one.
    """

    collet_start_time: datetime
    file_format_version: str | None = None
    sender_name: str | None = None
    sender_type: str | None = None
    vendor_name: str | None = None
    time_convention: str = field(default="ntp", compare=False)

    @property
    def collet_start_unix(self) -> float:
        """``collet_start_time`` as Unix seconds."""
        return self.collet_start_time.timestamp()


@dataclass(frozen=True)
class MeasurementPeriod:
    """The records of one granularity period: one value per column, in column order."""

    values: tuple[MeasValue, ...]
    incomplete: bool = False


@dataclass(frozen=True)
class KpmIndicationFormat1:
    """Indication message format 1: a table of ``periods`` x columns.

    Columns are the (measurement, label) pairs of ``measurements`` in order. A node may
    leave ``measurements`` empty when the subscription already fixes them.
    """

    periods: tuple[MeasurementPeriod, ...]
    measurements: tuple[MeasurementInfo, ...] = ()
    granularity_period_ms: int | None = None

    @classmethod
    def from_series(
        cls,
        series: Mapping[MeasType, Sequence[MeasValue]],
        granularity_period_ms: int | None = None,
    ) -> KpmIndicationFormat1:
        """One unlabelled column per measurement, ``series[name][t]`` the value of period t."""
        lengths = {len(v) for v in series.values()}
        if len(lengths) != 1:
            raise ValueError(f"every series needs the same number of periods, got {lengths}")
        columns = list(series.values())
        periods = tuple(
            MeasurementPeriod(tuple(col[t] for col in columns)) for t in range(lengths.pop())
        )
        return cls(periods, tuple(MeasurementInfo(name) for name in series), granularity_period_ms)

    def with_measurements(self, measurements: Sequence[MeasurementInfo]) -> KpmIndicationFormat1:
        """This report headed by ``measurements`` (typically the subscription's action
        definition, for a node that leaves them out). Raises ``ValueError`` when a period's
        width does not match their (measurement, label) count."""
        infos = tuple(measurements)
        width = sum(len(i.labels) for i in infos)
        if any(len(p.values) != width for p in self.periods):
            raise ValueError(f"the periods do not all have {width} value(s)")
        return KpmIndicationFormat1(self.periods, infos, self.granularity_period_ms)

    def columns(self) -> list[tuple[MeasType, MeasurementLabel]]:
        """The (measurement type, label) heading each column."""
        return [(info.meas_type, label) for info in self.measurements for label in info.labels]

    def series(self) -> dict[tuple[MeasType, MeasurementLabel], tuple[MeasValue, ...]]:
        """Each column's values over the periods, keyed by (measurement type, label)."""
        return {
            column: tuple(p.values[i] for p in self.periods)
            for i, column in enumerate(self.columns())
        }

    def values(
        self, meas_type: MeasType, label: MeasurementLabel | None = None
    ) -> tuple[MeasValue, ...]:
        """The values of one measurement over the periods.

        ``label=None`` works for a measurement with a single label. Raises ``KeyError``
        when there is no such column and ``ValueError`` when ``label`` is needed.
        """
        matches = [
            i
            for i, (t, lab) in enumerate(self.columns())
            if t == meas_type and (label is None or lab == label)
        ]
        if not matches:
            raise KeyError((meas_type, label))
        if len(matches) > 1:
            raise ValueError(f"{meas_type!r} has {len(matches)} labels: pass one")
        return tuple(p.values[matches[0]] for p in self.periods)


@dataclass(frozen=True)
class UeMeasurementReport:
    """One UE's part of an indication format 3."""

    ue_id: UeId
    report: KpmIndicationFormat1


@dataclass(frozen=True)
class KpmIndicationFormat3:
    """Indication message format 3: a format 1 report per UE (1..65535 UEs)."""

    reports: tuple[UeMeasurementReport, ...]

    def by_ue(self) -> dict[UeId, KpmIndicationFormat1]:
        """The reports keyed by UE identity (a later duplicate replaces an earlier one)."""
        return {r.ue_id: r.report for r in self.reports}


KpmIndicationMessage = KpmIndicationFormat1 | KpmIndicationFormat3
