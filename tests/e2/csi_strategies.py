"""Hypothesis strategies for valid E2SM-CSI and recommendation messages.

Every strategy draws only messages the codecs must accept: ranges from schemas/e2sm_csi.proto,
PMI fields consistent with the rank (TS 38.214 Type-I), floats exactly representable in
float32 (the wire type), tensors whose byte size matches their shape.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from xapp.e2.csi import (
    AntennaConfig,
    BeamRsrp,
    ChannelEstimate,
    CsiActionDefinition,
    CsiEventTrigger,
    CsiIndicationHeader,
    CsiRanFunctionDefinition,
    CsiReport,
    NrCgi,
    Numerology,
    Pmi,
    ReportStyle,
    UciCsi,
)
from xapp.e2.csi_rules import i11_choices, i13_choices
from xapp.e2.recommendation import (
    Confidence,
    Reason,
    Recommendation,
    RecommendationAck,
    RecommendationBatch,
    Rejection,
    RejectReason,
    ReportedCsi,
)

MAX_UE_ID = 2**40 - 1
UINT64 = st.integers(0, 2**64 - 1)
# (ports, N1, N2) of the Type-I single-panel layouts with P = 2 N1 N2.
LAYOUTS = [(2, 1, 1), (4, 2, 1), (8, 4, 1), (8, 2, 2), (12, 6, 1), (12, 3, 2), (16, 8, 1),
           (16, 4, 2), (24, 6, 2), (24, 4, 3), (24, 12, 1), (32, 8, 2), (32, 4, 4), (32, 16, 1)]


def f32(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, width=32, allow_nan=False, allow_infinity=False)


def text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                   min_size=min_size, max_size=max_size)


@st.composite
def antenna_configs(draw: st.DrawFn) -> AntennaConfig:
    ports, n1, n2 = draw(st.sampled_from(LAYOUTS))
    o1 = 1 if ports == 2 else draw(st.integers(1, 4))
    o2 = 1 if n2 == 1 else draw(st.integers(1, 4))
    return AntennaConfig(ports, draw(st.integers(1, 8)), n1, n2, o1, o2,
                         draw(st.integers(1, 1024)))


@st.composite
def numerologies(draw: st.DrawFn) -> Numerology:
    return Numerology.for_carrier(draw(st.sampled_from([15, 30, 60, 120, 240])),
                                  draw(st.integers(1, 275)), draw(st.integers(1, 32)))


@st.composite
def ran_functions(draw: st.DrawFn) -> CsiRanFunctionDefinition:
    styles = draw(st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=4, unique=True))
    return CsiRanFunctionDefinition(
        antenna=draw(antenna_configs()), numerology=draw(numerologies()),
        report_styles=tuple(ReportStyle(s, draw(text(150))) for s in styles),
        short_name=draw(text(150, min_size=1)),
        oid=draw(st.from_regex(r"\A[0-2](\.(0|[1-9][0-9]{0,20})){1,12}\Z")),
        description=draw(text(150)), version=draw(st.integers(1, 2**32 - 1)))


def event_triggers() -> st.SearchStrategy[CsiEventTrigger]:
    return st.builds(CsiEventTrigger, st.integers(1, 10240))


@st.composite
def action_definitions(draw: st.DrawFn) -> CsiActionDefinition:
    flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any))
    ue_ids = draw(st.none() | st.lists(st.integers(0, MAX_UE_ID), min_size=1, max_size=50,
                                       unique=True).map(tuple))
    return CsiActionDefinition(*flags, ue_ids=ue_ids,
                               max_ues_per_indication=draw(st.integers(1, 4096)),
                               report_style=draw(st.integers(1, 2**32 - 1)))


def cells() -> st.SearchStrategy[NrCgi]:
    return st.builds(NrCgi, st.binary(min_size=3, max_size=3), st.integers(0, 2**36 - 1))


def headers() -> st.SearchStrategy[CsiIndicationHeader]:
    return st.builds(CsiIndicationHeader, UINT64, cells(), UINT64)


@st.composite
def pmis(draw: st.DrawFn, rank: int, antenna: AntennaConfig | None = None) -> Pmi:
    """A PMI valid at ``rank``: for a known antenna within its codebook, else generic."""
    i11 = draw(st.integers(0, (i11_choices(rank, antenna) if antenna else 64) - 1))
    i12 = draw(st.integers(0, (antenna.n2 * antenna.o2 if antenna else 64) - 1))
    i2 = draw(st.integers(0, 3 if rank == 1 else 1))
    i13_size = i13_choices(rank, antenna) if antenna else 4 * draw(st.booleans())
    if not 2 <= rank <= 4:
        i13_size = 0
    return Pmi(i11, i12, i2, draw(st.integers(0, i13_size - 1)) if i13_size else None)


@st.composite
def uci_csi(draw: st.DrawFn, definition: CsiRanFunctionDefinition | None = None) -> UciCsi:
    antenna = definition.antenna if definition else None
    rank = draw(st.integers(1, min(antenna.n_tx_ports, antenna.n_rx) if antenna else 8))
    subbands = (st.sampled_from([0, definition.numerology.num_subbands]) if definition
                else st.integers(0, 19))
    n_subbands = draw(subbands)
    return UciCsi(rank, draw(st.integers(0, 7)), draw(pmis(rank, antenna)),
                  draw(st.integers(0, 15)),
                  tuple(draw(st.lists(st.integers(0, 15), min_size=n_subbands,
                                      max_size=n_subbands))))


@st.composite
def channel_estimates(draw: st.DrawFn, shape: tuple[int, int, int] | None = None,
                      ) -> ChannelEstimate:
    """A channel of random shape (or ``shape``) and random values, complex64 or float16 pairs."""
    if shape is None:
        shape = (draw(st.integers(1, 20)), draw(st.integers(1, 8)), draw(st.integers(1, 16)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    amplitude = draw(st.sampled_from([1e-6, 1e-3, 1.0, 1e3]))
    h = amplitude * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    return ChannelEstimate.from_array(h, compress=draw(st.booleans()))


@st.composite
def beam_lists(draw: st.DrawFn, codebook_size: int = 1024) -> tuple[BeamRsrp, ...]:
    indices = draw(st.lists(st.integers(0, codebook_size - 1), max_size=min(8, codebook_size),
                            unique=True))
    return tuple(BeamRsrp(i, draw(f32(-200.0, 50.0))) for i in indices)


@st.composite
def reports(draw: st.DrawFn, definition: CsiRanFunctionDefinition | None = None) -> CsiReport:
    """One UE report; parts present at random, each consistent with ``definition`` if given."""
    shape = None
    if definition:
        shape = (definition.numerology.num_subbands, definition.antenna.n_rx,
                 definition.antenna.n_tx_ports)
        if shape[0] * shape[1] * shape[2] > 4096:  # keep examples small and fast
            shape = None
    codebook = definition.antenna.beam_codebook_size if definition else 1024
    estimate = None
    if draw(st.booleans()) and (definition is None or shape is not None):
        estimate = draw(channel_estimates(shape))
    return CsiReport(
        ue_id=draw(st.integers(0, MAX_UE_ID)), report_slot=draw(UINT64),
        csi=draw(st.none() | uci_csi(definition)), beams=draw(beam_lists(codebook)),
        sinr_db=draw(st.none() | f32(-50.0, 80.0)), channel_estimate=estimate)


# --- recommendations -------------------------------------------------------------------------

E2_NODE_NAMES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                        max_size=31)


def confidences() -> st.SearchStrategy[Confidence]:
    return st.builds(Confidence, f32(0.0, 1.0), f32(0.0, 1.0), f32(0.0, 1.0))


@st.composite
def reported_csi(draw: st.DrawFn) -> ReportedCsi:
    rank = draw(st.integers(1, 8))
    return ReportedCsi(rank, draw(pmis(rank)), draw(UINT64),
                       draw(st.none() | st.integers(0, 1023)))


@st.composite
def recommendations(draw: st.DrawFn, e2_node: str | None = None) -> Recommendation:
    rank = draw(st.integers(1, 8))
    return Recommendation(
        e2_node=e2_node if e2_node is not None else draw(E2_NODE_NAMES), cell=draw(cells()),
        ue_id=draw(st.integers(0, MAX_UE_ID)), apply_from_slot=draw(UINT64),
        validity_ms=draw(st.integers(1, 60_000)), rank=rank, pmi=draw(pmis(rank)),
        confidence=draw(confidences()), model_version=draw(text(64, min_size=1)),
        reason=draw(st.sampled_from(Reason)), beam_index=draw(st.none() | st.integers(0, 1023)),
        replaces=draw(st.none() | reported_csi()))


@st.composite
def batches(draw: st.DrawFn) -> RecommendationBatch:
    node = draw(E2_NODE_NAMES)
    recs = draw(st.lists(recommendations(node), max_size=6,
                         unique_by=lambda r: (r.cell, r.ue_id)))
    return RecommendationBatch(node, draw(UINT64), draw(UINT64), tuple(recs))


@st.composite
def acks(draw: st.DrawFn) -> RecommendationAck:
    rejected = draw(st.lists(st.builds(Rejection, st.integers(0, MAX_UE_ID),
                                       st.sampled_from(RejectReason), text(200)), max_size=6))
    return RecommendationAck(draw(E2_NODE_NAMES), draw(UINT64), draw(st.integers(0, 4096)),
                             tuple(rejected))
