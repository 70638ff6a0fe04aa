"""What makes an E2SM-CSI message valid: ranges, cross-field consistency, tensor sizes.

Every check raises :class:`CsiDecodeError` with one of the stable ``reason`` codes below.
The decoder runs them on what it parsed; the encoder runs the same ones (and turns the
error into ``EncodeError``) so that nothing is sent that a peer would refuse.

Reason codes: ``out_of_range``, ``not_finite``, ``missing_field``, ``inconsistent_pmi``,
``rank_exceeds_antennas``, ``subband_count``, ``bad_shape``, ``shape_mismatch``,
``tensor_size``, ``duplicate``, ``too_many``, ``bad_text``, ``bad_ue_filter``,
``nothing_requested``, ``antenna_layout``, ``subband_layout``. The codec in
:mod:`xapp.e2.csi` adds ``not_bytes``, ``too_large``, ``not_protobuf``, ``unknown_codebook``
and ``unknown_dtype``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from xapp.e2.csi_types import (
    AntennaConfig,
    BeamRsrp,
    ChannelDtype,
    ChannelEstimate,
    CsiActionDefinition,
    CsiDecodeError,
    CsiEventTrigger,
    CsiIndicationHeader,
    CsiRanFunctionDefinition,
    CsiReport,
    Numerology,
    Pmi,
    UciCsi,
)

MAX_UE_ID = 2**40 - 1  # amf-UE-NGAP-ID is 40 bits
MAX_NR_CELL_IDENTITY = 2**36 - 1
MAX_UINT64 = 2**64 - 1
MAX_UES = 4096
MAX_SUBBANDS = 275  # one subband per PRB at the widest NR carrier
MAX_RX = 8
MAX_TX = 64
MAX_BEAMS_PER_REPORT = 64
MAX_BEAM_CODEBOOK = 1024
MAX_PMI_INDEX = 64  # N1 * O1 and N2 * O2 are at most 16 * 4
MAX_TEXT = 150
# TS 38.214 Table 5.2.2.2.1-2: the supported (N1, N2) per port count P = 2 N1 N2.
LAYOUTS: dict[int, frozenset[tuple[int, int]]] = {
    2: frozenset({(1, 1)}), 4: frozenset({(2, 1)}), 8: frozenset({(2, 2), (4, 1)}),
    12: frozenset({(3, 2), (6, 1)}), 16: frozenset({(4, 2), (8, 1)}),
    24: frozenset({(4, 3), (6, 2), (12, 1)}), 32: frozenset({(4, 4), (8, 2), (16, 1)})}
TX_PORT_COUNTS = frozenset(LAYOUTS)
_I13_RANK34_BELOW_16_PORTS = {(2, 1): 1, (4, 1): 3, (6, 1): 4, (2, 2): 3, (3, 2): 4}
SCS_KHZ = frozenset({15, 30, 60, 120, 240})
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")


def _fail(reason: str, detail: str) -> CsiDecodeError:
    return CsiDecodeError(reason, detail)


def in_range(name: str, value: int, low: int, high: int) -> None:
    """Reject an integer outside ``low..high`` (inclusive)."""
    if not low <= value <= high:
        raise _fail("out_of_range", f"{name}={value} not in {low}..{high}")


def finite_in_range(name: str, value: float, low: float, high: float) -> None:
    """Reject a NaN/infinite float or one outside ``low..high``."""
    if not math.isfinite(value):
        raise _fail("not_finite", f"{name}={value}")
    if not low <= value <= high:
        raise _fail("out_of_range", f"{name}={value} not in {low}..{high}")


def _text(name: str, value: str, *, required: bool, limit: int = MAX_TEXT) -> None:
    if (required and not value) or len(value) > limit:
        raise _fail("bad_text", f"{name} must be {int(required)}..{limit} characters")


def _unique(name: str, values: Iterable[int]) -> None:
    seen: set[int] = set()
    for value in values:
        if value in seen:
            raise _fail("duplicate", f"{name} {value} appears twice")
        seen.add(value)


def i13_choices(rank: int, antenna: AntennaConfig) -> int:
    """How many second-beam offsets (k1, k2) i13 selects from; 0 when the PMI has no i13.

    TS 38.214 Table 5.2.2.2.1-3 (rank 2) and 5.2.2.2.1-4 (ranks 3-4 with P < 16); ranks
    3-4 with P >= 16 use four offsets.
    """
    if not 2 <= rank <= 4 or antenna.n_tx_ports == 2:
        return 0
    layout = (antenna.n1, antenna.n2)
    if rank == 2:
        return 2 if layout == (2, 1) else 4
    if antenna.n_tx_ports >= 16:
        return 4
    return _I13_RANK34_BELOW_16_PORTS.get(layout, 4)


def i11_choices(rank: int, antenna: AntennaConfig) -> int:
    """Values of i11: N1 O1, halved for ranks 3-4 with P >= 16 (TS 38.214 5.2.2.2.1)."""
    full = antenna.n1 * antenna.o1
    return full // 2 if 3 <= rank <= 4 and antenna.n_tx_ports >= 16 else full


def check_pmi(pmi: Pmi, rank: int, antenna: AntennaConfig | None = None) -> None:
    """PMI fields consistent with ``rank`` (and with the codebook when ``antenna`` is known).

    i2 is 0..3 at rank 1 and 0..1 above; i13 exists exactly for ranks 2..4 with more than
    two ports (with an unknown port count it may be absent, for 2-port nodes), and with a
    known antenna i13 and i11 stay within :func:`i13_choices` and :func:`i11_choices`.
    """
    in_range("rank", rank, 1, 8)
    i11_size = i11_choices(rank, antenna) if antenna else MAX_PMI_INDEX
    i12_size = antenna.n2 * antenna.o2 if antenna else MAX_PMI_INDEX
    in_range("pmi.i11", pmi.i11, 0, i11_size - 1)
    in_range("pmi.i12", pmi.i12, 0, i12_size - 1)
    if pmi.i2 > (3 if rank == 1 else 1) or pmi.i2 < 0:
        raise _fail("inconsistent_pmi", f"i2={pmi.i2} not allowed at rank {rank}")
    i13_size = i13_choices(rank, antenna) if antenna else (4 if 2 <= rank <= 4 else 0)
    if pmi.i13 is None:
        if i13_size and antenna is not None:
            raise _fail("inconsistent_pmi", f"rank {rank} needs i13")
        return
    if not i13_size:
        raise _fail("inconsistent_pmi", f"i13 not allowed at rank {rank}")
    if not 0 <= pmi.i13 < i13_size:
        raise _fail("inconsistent_pmi", f"i13={pmi.i13} not in 0..{i13_size - 1} at rank {rank}")


def check_antenna(antenna: AntennaConfig) -> None:
    if antenna.n_tx_ports not in TX_PORT_COUNTS:
        raise _fail("out_of_range",
                    f"n_tx_ports={antenna.n_tx_ports} not in {sorted(TX_PORT_COUNTS)}")
    in_range("n_rx", antenna.n_rx, 1, MAX_RX)
    for name in ("n1", "n2"):
        in_range(name, getattr(antenna, name), 1, 16)
    for name in ("o1", "o2"):
        in_range(name, getattr(antenna, name), 1, 4)
    if (antenna.n1, antenna.n2) not in LAYOUTS[antenna.n_tx_ports]:
        raise _fail("antenna_layout", f"(N1, N2) = ({antenna.n1}, {antenna.n2}) is not a "
                    f"{antenna.n_tx_ports}-port layout: {sorted(LAYOUTS[antenna.n_tx_ports])}")
    # A single vertical element (or the 2-port codebook's single beam) has nothing to oversample.
    if (antenna.n2 == 1 and antenna.o2 != 1) or (antenna.n_tx_ports == 2 and antenna.o1 != 1):
        raise _fail("antenna_layout", f"(N1, N2, O1, O2) = ({antenna.n1}, {antenna.n2}, "
                    f"{antenna.o1}, {antenna.o2}): O2 must be 1 when N2 = 1, O1 when P = 2")
    in_range("beam_codebook_size", antenna.beam_codebook_size, 1, MAX_BEAM_CODEBOOK)


def check_numerology(numerology: Numerology) -> None:
    if numerology.scs_khz not in SCS_KHZ:
        raise _fail("out_of_range", f"scs_khz={numerology.scs_khz} not in {sorted(SCS_KHZ)}")
    in_range("bandwidth_prbs", numerology.bandwidth_prbs, 1, 275)
    in_range("subband_size_prbs", numerology.subband_size_prbs, 1, 32)
    expected = math.ceil(numerology.bandwidth_prbs / numerology.subband_size_prbs)
    if numerology.num_subbands != expected:
        raise _fail("subband_layout", f"num_subbands={numerology.num_subbands}, "
                    f"ceil(bandwidth/subband size) = {expected}")


def check_ran_function(definition: CsiRanFunctionDefinition) -> None:
    _text("short_name", definition.short_name, required=True)
    _text("description", definition.description, required=False)
    if len(definition.oid) > 1024 or not _OID.fullmatch(definition.oid):
        raise _fail("bad_text", f"oid {definition.oid[:64]!r} is not a dotted OID")
    in_range("version", definition.version, 1, 2**32 - 1)
    if not definition.report_styles:
        raise _fail("missing_field", "at least one report style")
    if len(definition.report_styles) > 63:
        raise _fail("too_many", f"{len(definition.report_styles)} report styles")
    for style in definition.report_styles:
        in_range("report style", style.style_type, 1, 2**32 - 1)
        _text("report style name", style.name, required=False)
    _unique("report style", (s.style_type for s in definition.report_styles))
    check_antenna(definition.antenna)
    check_numerology(definition.numerology)


def check_event_trigger(trigger: CsiEventTrigger) -> None:
    in_range("reporting_period_ms", trigger.reporting_period_ms, 1, 10240)


def check_action(action: CsiActionDefinition) -> None:
    in_range("report_style", action.report_style, 1, 2**32 - 1)
    if not (action.report_csi_fields or action.report_channel_estimate or action.report_beam_rsrp):
        raise _fail("nothing_requested", "no report part selected")
    if action.ue_ids is not None:
        if not action.ue_ids:
            raise _fail("bad_ue_filter", "neither all UEs nor a UE list")
        if len(action.ue_ids) > MAX_UES:
            raise _fail("too_many", f"{len(action.ue_ids)} UEs in the filter")
        for ue_id in action.ue_ids:
            in_range("ue_id", ue_id, 0, MAX_UE_ID)
        _unique("ue_id", action.ue_ids)
    in_range("max_ues_per_indication", action.max_ues_per_indication, 1, MAX_UES)


def check_header(header: CsiIndicationHeader) -> None:
    in_range("ntp_timestamp", header.ntp_timestamp, 0, MAX_UINT64)
    in_range("sequence_number", header.sequence_number, 0, MAX_UINT64)
    if len(header.cell.plmn_id) != 3:
        raise _fail("out_of_range", f"plmn_id has {len(header.cell.plmn_id)} octets, not 3")
    in_range("nr_cell_identity", header.cell.nr_cell_identity, 0, MAX_NR_CELL_IDENTITY)


def check_uci(csi: UciCsi, definition: CsiRanFunctionDefinition | None) -> None:
    antenna = definition.antenna if definition else None
    in_range("ri", csi.ri, 1, 8)
    if antenna and csi.ri > min(antenna.n_tx_ports, antenna.n_rx):
        raise _fail("rank_exceeds_antennas", f"ri={csi.ri} with {antenna.n_tx_ports} ports "
                    f"and {antenna.n_rx} rx antennas")
    in_range("cri", csi.cri, 0, 7)
    check_pmi(csi.pmi, csi.ri, antenna)
    in_range("wideband_cqi", csi.wideband_cqi, 0, 15)
    if len(csi.subband_cqi) > MAX_SUBBANDS:
        raise _fail("too_many", f"{len(csi.subband_cqi)} subband CQIs")
    for cqi in csi.subband_cqi:
        in_range("subband_cqi", cqi, 0, 15)
    subbands = definition.numerology.num_subbands if definition else None
    if csi.subband_cqi and subbands is not None and len(csi.subband_cqi) != subbands:
        raise _fail("subband_count", f"{len(csi.subband_cqi)} subband CQIs for {subbands} subbands")


def check_beams(beams: tuple[BeamRsrp, ...], definition: CsiRanFunctionDefinition | None) -> None:
    if len(beams) > MAX_BEAMS_PER_REPORT:
        raise _fail("too_many", f"{len(beams)} beams in one report")
    size = definition.antenna.beam_codebook_size if definition else MAX_BEAM_CODEBOOK
    for beam in beams:
        in_range("beam_index", beam.beam_index, 0, size - 1)
        finite_in_range("rsrp_dbm", beam.rsrp_dbm, -200.0, 50.0)
    _unique("beam_index", (b.beam_index for b in beams))


def check_channel_estimate(estimate: ChannelEstimate,
                           definition: CsiRanFunctionDefinition | None,
                           *, values: bool = True) -> None:
    """Shape, size, scale and (``values``) every value finite; shape as the RAN function says."""
    shape = estimate.shape
    if len(shape) != 3 or not all(1 <= n <= high for n, high in
                                  zip(shape, (MAX_SUBBANDS, MAX_RX, MAX_TX), strict=True)):
        raise _fail("bad_shape", f"shape {shape} is not [1..{MAX_SUBBANDS}, 1..{MAX_RX}, "
                    f"1..{MAX_TX}]")
    if definition:
        expected = (definition.numerology.num_subbands, definition.antenna.n_rx,
                    definition.antenna.n_tx_ports)
        if shape != expected:
            raise _fail("shape_mismatch", f"shape {shape}, RAN function says {expected}")
    if not math.isfinite(estimate.scale) or estimate.scale <= 0:
        raise _fail("not_finite" if not math.isfinite(estimate.scale) else "out_of_range",
                    f"scale={estimate.scale} must be finite and > 0")
    size = shape[0] * shape[1] * shape[2] * estimate.dtype.itemsize
    if len(estimate.data) != size:
        raise _fail("tensor_size", f"{len(estimate.data)} bytes for shape {shape} of "
                    f"{estimate.dtype.name} ({size} expected)")
    if values:
        _all_finite(estimate.dtype, [estimate.data])


def _all_finite(dtype: ChannelDtype, blobs: list[bytes]) -> None:
    real = "<f4" if dtype is ChannelDtype.COMPLEX64 else "<f2"
    if not np.isfinite(np.frombuffer(b"".join(blobs), dtype=real)).all():
        raise _fail("not_finite", "channel estimate holds NaN or infinity")


def check_report(report: CsiReport, definition: CsiRanFunctionDefinition | None,
                 *, tensor_values: bool = True) -> None:
    """One UE report, against the RAN function definition when the caller knows it."""
    in_range("ue_id", report.ue_id, 0, MAX_UE_ID)
    in_range("report_slot", report.report_slot, 0, MAX_UINT64)
    if report.csi is not None:
        check_uci(report.csi, definition)
    check_beams(report.beams, definition)
    if report.sinr_db is not None:
        finite_in_range("sinr_db", report.sinr_db, -50.0, 80.0)
    if report.channel_estimate is not None:
        check_channel_estimate(report.channel_estimate, definition, values=tensor_values)


def check_reports(reports: tuple[CsiReport, ...],
                  definition: CsiRanFunctionDefinition | None) -> None:
    """Every report; tensor values are checked in one pass per dtype (one numpy call, not 64)."""
    if len(reports) > MAX_UES:
        raise _fail("too_many", f"{len(reports)} UE reports in one indication")
    blobs: dict[ChannelDtype, list[bytes]] = {}
    for report in reports:
        check_report(report, definition, tensor_values=False)
        if report.channel_estimate is not None:
            blobs.setdefault(report.channel_estimate.dtype, []).append(report.channel_estimate.data)
    for dtype, data in blobs.items():
        _all_finite(dtype, data)
