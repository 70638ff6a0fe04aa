"""Hypothesis strategies for every E2SM-KPM value, inside the ranges of schemas/e2sm_kpm.asn."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from schemas import e2sm_kpm_asn
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.kpm_ran_function import (
    KpmEventTriggerStyle,
    KpmRanFunctionDescription,
    KpmReportStyle,
)
from xapp.e2.kpm_types import (
    EutraCgi,
    GlobalGnbId,
    Guami,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    MeasurementInfo,
    MeasurementLabel,
    MeasurementPeriod,
    NrCgi,
    Snssai,
    TestCondition,
    UeIdGnb,
    UeIdGnbCuUp,
    UeIdGnbDu,
    UeIdOther,
    UeMeasurementReport,
)

PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
U32 = st.integers(0, 2**32 - 1)
POSITIVE_U32 = st.integers(1, 2**32 - 1)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def octets(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


def printable(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(PRINTABLE, min_size=min_size, max_size=max_size)


plmns = octets(3)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
meas_values = st.one_of(U32, finite_floats, st.none())
meas_types = printable(1, 40) | st.integers(1, 65536)

cgis = st.builds(NrCgi, plmns, st.integers(0, 2**36 - 1)) | st.builds(
    EutraCgi, plmns, st.integers(0, 2**28 - 1)
)
guamis = st.builds(Guami, plmns, st.integers(0, 255), st.integers(0, 1023), st.integers(0, 63))


@st.composite
def global_gnb_ids(draw: st.DrawFn) -> GlobalGnbId:
    bits = draw(st.integers(22, 32))
    return GlobalGnbId(draw(plmns), draw(st.integers(0, 2**bits - 1)), bits)


def _enb_ue_id_aper(mme_ue_s1ap_id: int, mme_code: bytes) -> bytes:
    # An LTE-side UEID only travels opaque: make real APER bytes of one with pycrate.
    value = (
        "eNB-UEID",
        {
            "mME-UE-S1AP-ID": mme_ue_s1ap_id,
            "gUMMEI": {
                "pLMN-Identity": b"\x00\xf1\x10",
                "mME-Group-ID": b"\x00\x01",
                "mME-Code": mme_code,
            },
        },
    )
    with PYCRATE_LOCK:
        return bytes(e2sm_kpm_asn.LinkFM_E2SM_KPM.UEID.to_aper(value))


ue_ids = st.one_of(
    st.builds(
        UeIdGnb,
        st.integers(0, 2**40 - 1),
        guamis,
        st.lists(U32, max_size=4).map(tuple),
        st.lists(U32, max_size=3).map(tuple),
        _opt(octets(8)),
        _opt(U32),
        _opt(global_gnb_ids()),
    ),
    st.builds(UeIdGnbDu, U32, _opt(octets(8))),
    st.builds(UeIdGnbCuUp, U32, _opt(octets(8))),
    st.builds(lambda i, code: UeIdOther("eNB-UEID", _enb_ue_id_aper(i, code)), U32, octets(1)),
)

_small = st.integers(1, 65535)
labels = st.builds(
    MeasurementLabel,
    no_label=st.booleans(),
    plmn_id=_opt(plmns),
    slice_id=_opt(st.builds(Snssai, st.integers(0, 255), _opt(octets(3)))),
    five_qi=_opt(st.integers(0, 255)),
    qfi=_opt(st.integers(0, 63)),
    qci=_opt(st.integers(0, 255)),
    qci_max=_opt(st.integers(0, 255)),
    qci_min=_opt(st.integers(0, 255)),
    arp_max=_opt(st.integers(1, 15)),
    arp_min=_opt(st.integers(1, 15)),
    bitrate_range=_opt(_small),
    layer_mu_mimo=_opt(_small),
    sum=st.booleans(),
    dist_bin_x=_opt(_small),
    dist_bin_y=_opt(_small),
    dist_bin_z=_opt(_small),
    pre_label_override=st.booleans(),
    start_end_ind=_opt(st.sampled_from(["start", "end"])),
    min=st.booleans(),
    max=st.booleans(),
    avg=st.booleans(),
)
"""Labels without the v3.00 extension additions (ssbIndex, ...), which the codec only decodes."""
measurement_infos = st.builds(
    MeasurementInfo, meas_types, st.lists(labels, min_size=1, max_size=3).map(tuple)
)

_test_values = st.one_of(
    st.tuples(st.just("int"), st.integers(-(2**63), 2**63)),
    st.tuples(st.just("enum"), st.integers(-(2**31), 2**31)),
    st.tuples(st.just("bool"), st.booleans()),
    st.integers(0, 40).flatmap(
        lambda n: st.tuples(st.just("bits"), st.tuples(st.integers(0, 2**n - 1), st.just(n)))
    ),
    st.tuples(st.just("octets"), st.binary(max_size=16)),
    st.tuples(st.just("printable"), printable()),
    st.tuples(st.just("real"), finite_floats),
    st.tuples(st.none(), st.none()),
)
test_conditions = st.builds(
    lambda t, e, kv, o: TestCondition(t, e, kv[0], kv[1], o),
    st.sampled_from(
        [
            "gBR",
            "aMBR",
            "isStat",
            "isCatM",
            "rSRP",
            "rSRQ",
            "ul-rSRP",
            "cQI",
            "fiveQI",
            "qCI",
            "sNSSAI",
        ]
    ),
    _opt(st.sampled_from(["equal", "greaterthan", "lessthan", "contains", "present"])),
    _test_values,
    st.booleans(),
)

event_triggers = st.builds(KpmEventTrigger, POSITIVE_U32)
_infos = st.lists(measurement_infos, min_size=1, max_size=4).map(tuple)
action_format1 = st.builds(
    KpmActionDefinitionFormat1, _infos, POSITIVE_U32, _opt(cgis), st.integers(-(2**31), 2**31)
)
action_format4 = st.builds(
    KpmActionDefinitionFormat4,
    st.lists(test_conditions, min_size=1, max_size=3).map(tuple),
    _infos,
    POSITIVE_U32,
    _opt(cgis),
    st.integers(-(2**31), 2**31),
)


def _headers(
    version: int, sender_name: int, sender_type: int, vendor: int
) -> st.SearchStrategy[KpmIndicationHeader]:
    return st.builds(
        KpmIndicationHeader,
        st.datetimes(
            min_value=datetime(1970, 1, 2), max_value=datetime(2036, 1, 1), timezones=st.just(UTC)
        ),
        _opt(printable(1, version)),
        _opt(printable(1, sender_name)),
        _opt(printable(1, sender_type)),
        _opt(printable(1, vendor)),
    )


headers = _headers(20, 60, 12, 40)
"""Headers whose strings sometimes exceed the root sizes (15, 400, 8, 32): the extension.
Strings are never empty: the encoder leaves empty ones out."""
headers_in_root = _headers(15, 60, 8, 32)


@st.composite
def format1_messages(draw: st.DrawFn) -> KpmIndicationFormat1:
    infos = draw(st.lists(measurement_infos, max_size=4).map(tuple))
    width = sum(len(i.labels) for i in infos) or draw(st.integers(1, 5))
    periods = draw(
        st.lists(
            st.builds(
                MeasurementPeriod,
                st.lists(meas_values, min_size=width, max_size=width).map(tuple),
                st.booleans(),
            ),
            min_size=1,
            max_size=3,
        ).map(tuple)
    )
    return KpmIndicationFormat1(periods, infos, draw(_opt(POSITIVE_U32)))


format3_messages = st.builds(
    KpmIndicationFormat3,
    st.lists(
        st.builds(UeMeasurementReport, ue_ids, format1_messages()), min_size=1, max_size=3
    ).map(tuple),
)


_style_names = printable(1, 40)
ran_functions = st.builds(
    KpmRanFunctionDescription,
    printable(1, 30),
    st.text("0123456789.", min_size=1, max_size=40),
    printable(1, 40),
    _opt(st.integers(-(2**31), 2**31)),
    st.lists(
        st.builds(KpmEventTriggerStyle, st.integers(0, 2**16), _style_names, st.integers(0, 9)),
        max_size=2,
    ).map(tuple),
    st.lists(
        st.builds(
            KpmReportStyle,
            st.integers(0, 2**16),
            _style_names,
            st.integers(0, 9),
            st.lists(
                st.tuples(printable(1, 30), _opt(st.integers(1, 65536))), min_size=1, max_size=4
            ).map(tuple),
            st.integers(0, 9),
            st.integers(0, 9),
        ),
        max_size=3,
    ).map(tuple),
)
