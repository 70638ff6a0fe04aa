"""The E2SM-KPM codec: aligned-PER bytes of ``schemas/e2sm_kpm.asn`` <-> :mod:`kpm_types` values.

Sans-IO: every function takes bytes or a dataclass and returns the other.

- RIC event trigger definition (format 1): :func:`encode_event_trigger`,
  :func:`decode_event_trigger`;
- RIC action definition (formats 1 and 4): :func:`encode_action_definition`,
  :func:`decode_action_definition`;
- RIC indication header (format 1): :func:`encode_indication_header`,
  :func:`decode_indication_header`;
- RIC indication message (formats 1 and 3): :func:`encode_indication_message`,
  :func:`decode_indication_message`; :func:`build_format3` makes a format 3 from arrays;
- RAN function definition (E2 setup): :func:`encode_ran_function`,
  :func:`decode_ran_function` (:mod:`xapp.e2.kpm_ran_function`).

Decoders raise :class:`KpmDecodeError` and nothing else: for input over
:data:`MAX_KPM_BYTES`, bytes that are not a complete value of the type (trailing octets
included), and formats this project does not interpret (``reason="unsupported_format"``).
Encoders raise :class:`xapp.errors.EncodeError` for values outside the ASN.1 ranges.

Compatibility choices (see docs in ``schemas/e2sm_kpm.asn`` and ``xapp.e2.kpm_time``):

- headers are read as KPM v3.00 (8-octet ``colletStartTime``), then as v2.0x (4 octets);
  the time is read in any of the conventions in :mod:`xapp.e2.kpm_time`; NTP is written.
- measurement names with characters outside PrintableString (``_`` in
  ``DRB.PdcpSduVolumeDL_Filter``) are decoded as sent, but never encoded: the encoder
  refuses them, as the standard does not allow them.
- REAL values are written in base 2 exactly; reals from other encoders (base 10 included)
  decode to the nearest float. Compare them by value, not by bytes.
- the v3.00 label extension additions (``ssbIndex``, ``nonGoB-BFmode-Index``,
  ``mIMO-mode-Index``) are decoded but not encoded: pycrate 0.8.1 misaligns them.
- empty indication header strings are left out (peers disagree on the padding after one).

The tests check all this byte for byte against asn1tools, an independent APER implementation.
Every pycrate call runs under :data:`xapp.e2._pycrate_lock.PYCRATE_LOCK`, and a failed
decode is cleaned off pycrate's shared PER offset stack (pycrate leaves it there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from pycrate_asn1rt.codecs import ASN1CodecPER
from pycrate_core.charpy import Charpy

from schemas import e2sm_kpm_asn
from xapp.e2 import _kpm_values as tree
from xapp.e2 import kpm_ran_function
from xapp.e2._kpm_ies import ValueTreeError
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.kpm_ran_function import KpmRanFunctionDescription
from xapp.e2.kpm_types import (
    Guami,
    KpmActionDefinition,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    KpmIndicationMessage,
    MeasurementInfo,
    MeasurementPeriod,
    MeasValue,
    UeId,
    UeIdGnb,
    UeMeasurementReport,
    plmn_id,
)
from xapp.errors import EncodeError, MalformedInput

MAX_KPM_BYTES = 256 * 1024
"""Largest KPM payload decoded. A 64-UE x 8-measurement format 3 indication with names is
about 15 KiB and takes ~50 ms in pure-Python PER; this bounds one decode to about a second."""

_ASN = e2sm_kpm_asn.LinkFM_E2SM_KPM
_EVENT_TRIGGER = _ASN.E2SM_KPM_EventTriggerDefinition
_ACTION_DEFINITION = _ASN.E2SM_KPM_ActionDefinition
_HEADER = _ASN.E2SM_KPM_IndicationHeader
_HEADER_V2 = _ASN.E2SM_KPM_IndicationHeader_v2
_MESSAGE = _ASN.E2SM_KPM_IndicationMessage
_UEID = _ASN.UEID
_RAN_FUNCTION = _ASN.E2SM_KPM_RANfunction_Description

T = TypeVar("T")


class KpmDecodeError(MalformedInput):
    """E2SM-KPM bytes that do not decode into a supported KPM message."""

    source = "e2sm_kpm"


# ---------------------------------------------------------------------------------------------
# pycrate access (always under the lock)
# ---------------------------------------------------------------------------------------------


def _aper_encode(asn: Any, value: Any) -> bytes:
    with PYCRATE_LOCK:
        return bytes(asn.to_aper(value))


def _aper_decode(asn: Any, data: bytes) -> Any:
    """The value tree of ``data``, which must be exactly one aligned-PER value of ``asn``."""
    with PYCRATE_LOCK:
        # A failed decode leaves its entry on pycrate's shared offset stack: trim it.
        depth = len(ASN1CodecPER._off)
        try:
            char = Charpy(data)
            asn.from_aper(char)
            if char.len_bit():
                raise KpmDecodeError(
                    "trailing_bytes", f"{char.len_bit() // 8} octet(s) after the value"
                )
            return asn.get_val()
        finally:
            del ASN1CodecPER._off[depth:]


def _encode(asn: Any, build: Callable[[], Any], what: str) -> bytes:
    try:
        return _aper_encode(asn, build())
    except EncodeError:
        raise
    except Exception as err:  # pycrate raises several unrelated classes for bad values
        raise EncodeError(f"cannot encode {what}: {err}") from err


def _decode(
    asn: Any, data: bytes | bytearray | memoryview, read: Callable[[Any], T], what: str
) -> T:
    blob = _checked_input(data, what)
    try:
        value = _aper_decode(asn, blob)
    except KpmDecodeError:
        raise
    except Exception as err:  # pycrate's decode errors have no common base (asserts included)
        raise KpmDecodeError("asn1", f"{what}: {type(err).__name__}: {err}") from err
    return _read(read, value, what)


def _checked_input(data: bytes | bytearray | memoryview, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise KpmDecodeError("not_bytes", f"{what} must be bytes, not {type(data).__name__}")
    if len(data) > MAX_KPM_BYTES:
        raise KpmDecodeError("too_large", f"{what} of {len(data)} octets > {MAX_KPM_BYTES}")
    if not data:
        raise KpmDecodeError("empty", f"{what} is empty")
    return bytes(data)


def _read(read: Callable[[Any], T], value: Any, what: str) -> T:
    try:
        return read(value)
    except KpmDecodeError:
        raise
    except ValueTreeError as err:
        raise KpmDecodeError(err.reason, f"{what}: {err.detail}") from err
    except Exception as err:  # a tree with an unexpected shape (unknown extension values)
        raise KpmDecodeError("content", f"{what}: {type(err).__name__}: {err}") from err


def _ue_id_tree(aper: bytes) -> Any:
    return _aper_decode(_UEID, aper)


def _ue_id_aper(value: Any) -> bytes:
    return _aper_encode(_UEID, value)


# ---------------------------------------------------------------------------------------------
# Public codec
# ---------------------------------------------------------------------------------------------


def encode_event_trigger(trigger: KpmEventTrigger) -> bytes:
    """Event trigger definition format 1 (periodic report)."""
    return _encode(
        _EVENT_TRIGGER, lambda: tree.to_event_trigger(trigger.reporting_period_ms), "event trigger"
    )


def decode_event_trigger(data: bytes | bytearray | memoryview) -> KpmEventTrigger:
    """The periodic event trigger in ``data``."""

    def read(t: Any) -> KpmEventTrigger:
        kind, fmt = t["eventDefinition-formats"]
        if kind != "eventDefinition-Format1":
            raise ValueTreeError("unsupported_format", f"event trigger {kind}")
        return KpmEventTrigger(fmt["reportingPeriod"])

    return _decode(_EVENT_TRIGGER, data, read, "event trigger")


def encode_action_definition(action: KpmActionDefinition) -> bytes:
    """Action definition format 1 (node measurements) or 4 (UEs matching conditions)."""
    return _encode(
        _ACTION_DEFINITION, lambda: tree.to_action_definition(action), "action definition"
    )


def decode_action_definition(data: bytes | bytearray | memoryview) -> KpmActionDefinition:
    """Action definition format 1 or 4 (formats 2, 3, 5: ``unsupported_format``)."""
    return _decode(_ACTION_DEFINITION, data, tree.from_action_definition, "action definition")


def encode_indication_header(header: KpmIndicationHeader) -> bytes:
    """Indication header format 1 (v3.00, NTP collection start time)."""
    return _encode(_HEADER, lambda: tree.to_indication_header(header), "indication header")


def decode_indication_header(data: bytes | bytearray | memoryview) -> KpmIndicationHeader:
    """Indication header format 1 of KPM v3.00 (8-octet time) or, failing that, v2.0x (4)."""
    try:
        return _decode(_HEADER, data, tree.from_indication_header, "indication header")
    except KpmDecodeError as v3_error:
        if v3_error.reason not in ("asn1", "trailing_bytes"):
            raise
        try:
            return _decode(_HEADER_V2, data, tree.from_indication_header, "indication header")
        except KpmDecodeError:
            raise v3_error from None


def encode_indication_message(message: KpmIndicationMessage) -> bytes:
    """Indication message format 1 (one table) or 3 (one table per UE)."""
    return _encode(
        _MESSAGE, lambda: tree.to_indication_message(message, _ue_id_tree), "indication message"
    )


def decode_indication_message(data: bytes | bytearray | memoryview) -> KpmIndicationMessage:
    """Indication message format 1 or 3 (format 2: ``unsupported_format``)."""
    return _decode(
        _MESSAGE, data, lambda t: tree.from_indication_message(t, _ue_id_aper), "indication message"
    )


def encode_ran_function(description: KpmRanFunctionDescription) -> bytes:
    """The ``ranFunctionDefinition`` of a KPM RAN function."""
    return _encode(_RAN_FUNCTION, lambda: kpm_ran_function.to_tree(description), "RAN function")


def decode_ran_function(data: bytes | bytearray | memoryview) -> KpmRanFunctionDescription:
    """What a node's KPM RAN function offers."""
    return _decode(_RAN_FUNCTION, data, kpm_ran_function.from_tree, "RAN function")


# ---------------------------------------------------------------------------------------------
# Building messages from arrays
# ---------------------------------------------------------------------------------------------


def build_format3(
    ue_ids: Sequence[UeId],
    names: Sequence[str | int],
    values: npt.ArrayLike,
    granularity_period_ms: int | None = None,
    include_names: bool = True,
) -> KpmIndicationFormat3:
    """A format 3 indication from an array of per-UE measurements.

    ``values`` has shape ``(n_ues, n_measurements)`` (one period) or ``(n_ues, n_periods,
    n_measurements)``. Integer arrays give INTEGER records (0..2**32-1), floating ones REAL
    records, and NaN in a floating array noValue. ``include_names=False`` leaves the
    measurement list out of every UE's report (allowed when the subscription fixes it).
    """
    array = np.asarray(values)
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3 or array.shape[0] != len(ue_ids) or array.shape[2] != len(names):
        raise ValueError(
            f"values of shape {np.shape(values)} do not match {len(ue_ids)} UEs "
            f"x {len(names)} measurements"
        )
    if np.issubdtype(array.dtype, np.integer):
        rows: list[list[list[MeasValue]]] = array.tolist()
    elif np.issubdtype(array.dtype, np.floating):
        rows = [
            [[None if v != v else v for v in period] for period in ue]  # NaN -> noValue
            for ue in array.astype(np.float64).tolist()
        ]
    else:
        raise ValueError(f"values must be an integer or floating array, not {array.dtype}")
    infos = tuple(MeasurementInfo(n) for n in names) if include_names else ()
    return KpmIndicationFormat3(
        tuple(
            UeMeasurementReport(
                ue,
                KpmIndicationFormat1(
                    tuple(MeasurementPeriod(tuple(period)) for period in periods),
                    infos,
                    granularity_period_ms,
                ),
            )
            for ue, periods in zip(ue_ids, rows, strict=True)
        )
    )


SAMPLE_MEASUREMENTS = (
    "DRB.UEThpDl",
    "DRB.UEThpUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "CARR.AverageLayersDl",
    "RRU.MaxLayerDlMimo",
    "L1M.SS-RSRP",
    "MR.NRScSSSINR",
)
"""TS 28.552 names of the per-UE measurements in :func:`sample_indication`."""


def sample_indication(
    n_ues: int = 64, seed: int = 0
) -> tuple[KpmIndicationHeader, KpmIndicationFormat3]:
    """A realistic RIC indication: header plus format 3 with :data:`SAMPLE_MEASUREMENTS`.

    Throughputs (kbps) and PRB counts are INTEGER records; layers, RSRP (dBm) and SINR (dB)
    are REAL. Deterministic for a given ``seed``; used by tests and the codec benchmark.
    """
    rng = np.random.default_rng(seed)
    plmn = plmn_id("001", "01")
    ues: list[UeId] = [
        UeIdGnb(1000 + i, Guami(plmn, 1, 1, 1), cu_ue_f1ap_ids=(i,)) for i in range(n_ues)
    ]
    integers = rng.integers(0, 400_000, size=(n_ues, 4))
    reals = np.column_stack(
        [
            rng.uniform(1, 4, n_ues),
            rng.integers(1, 5, n_ues),
            rng.uniform(-120, -60, n_ues),
            rng.uniform(-5, 30, n_ues),
        ]
    )
    message = KpmIndicationFormat3(
        tuple(
            UeMeasurementReport(
                ue,
                KpmIndicationFormat1(
                    (
                        MeasurementPeriod(
                            tuple(int(v) for v in integers[i]) + tuple(float(v) for v in reals[i])
                        ),
                    ),
                    tuple(MeasurementInfo(n) for n in SAMPLE_MEASUREMENTS),
                    1000,
                ),
            )
            for i, ue in enumerate(ues)
        )
    )
    header = KpmIndicationHeader(
        datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC),
        sender_name="linkfm-e2sim",
        vendor_name="LinkFM",
    )
    return header, message
