"""E2SM-KPM information elements <-> pycrate value trees (private to the KPM codec).

pycrate represents a SEQUENCE as a dict (absent OPTIONAL components are missing keys), a
CHOICE as ``(alternative, value)``, ENUMERATED as its name, BIT STRING as ``(value, bits)``
and REAL as ``(mantissa, base, exponent)``. ``to_*`` functions build those trees; ``from_*``
read decoded ones and raise :class:`ValueTreeError` (or a ``KeyError``/``TypeError`` for a
tree of an unexpected shape, which the codec also reports as malformed input).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, cast, get_args

from xapp.e2.kpm_types import (
    NO_LABEL,
    Cgi,
    EutraCgi,
    GlobalGnbId,
    Guami,
    MeasurementInfo,
    MeasurementLabel,
    MeasValue,
    NrCgi,
    Snssai,
    TestCondition,
    TestType,
    UeId,
    UeIdGnb,
    UeIdGnbCuUp,
    UeIdGnbDu,
    UeIdOther,
)

Tree = Any  # a pycrate value tree: nested dicts, tuples, lists and scalars
TRUE = "true"


class ValueTreeError(ValueError):
    """A decoded tree that the KPM dataclasses cannot represent (reason, detail)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------


def to_real(value: float) -> tuple[int, int, int]:
    """``value`` as an exact base-2 REAL (mantissa odd unless zero)."""
    if not math.isfinite(value):
        # pycrate 0.8.1 refuses to encode its own special REAL values.
        raise ValueError(f"REAL values must be finite, not {value}")
    numerator, denominator = value.as_integer_ratio()
    exponent = 1 - denominator.bit_length()  # denominator is a power of two
    while numerator and numerator % 2 == 0:
        numerator //= 2
        exponent += 1
    return (numerator, 2, exponent if numerator else 0)


def from_real(value: tuple[int, int | None, int | None]) -> float:
    """A decoded REAL as the nearest float (specials: +-inf and nan)."""
    mantissa, base, exponent = value
    if base is None or exponent is None:
        return {1: math.inf, -1: -math.inf}.get(mantissa, math.nan)
    if base == 10:
        return float(f"{mantissa}e{exponent}")  # correctly rounded, cheap for any exponent
    excess = max(abs(mantissa).bit_length() - 64, 0)  # keep float() from overflowing
    try:
        return math.ldexp(
            float(mantissa >> excess if mantissa >= 0 else -(-mantissa >> excess)),
            exponent + excess,
        )
    except OverflowError:
        return math.copysign(math.inf, mantissa)


def to_record(value: MeasValue) -> tuple[str, Any]:
    if value is None:
        return ("noValue", 0)
    # numbers.Integral/Real also admit numpy scalars, so np.int64 stays an INTEGER record.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return ("integer", int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return ("real", to_real(float(value)))
    raise ValueError(f"a measurement value is an int, a float or None, not {value!r}")


def from_record(item: Tree) -> MeasValue:
    kind, value = item
    if kind == "integer":
        return cast(int, value)
    if kind == "real":
        return from_real(value)
    if kind == "noValue":
        return None
    raise ValueTreeError("unknown_record", f"measurement record alternative {kind!r}")


def flag(tree: Tree, key: str) -> bool:
    return key in tree


def _bits(value: int, width: int) -> tuple[int, int]:
    if not 0 <= value < 1 << width:
        raise ValueError(f"{value} does not fit in {width} bits")
    return (value, width)


# ---------------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------------


def to_cgi(cgi: Cgi) -> tuple[str, Tree]:
    if isinstance(cgi, NrCgi):
        return ("nR-CGI", {"pLMNIdentity": cgi.plmn, "nRCellIdentity": _bits(cgi.nr_cell_id, 36)})
    return (
        "eUTRA-CGI",
        {"pLMNIdentity": cgi.plmn, "eUTRACellIdentity": _bits(cgi.eutra_cell_id, 28)},
    )


def from_cgi(tree: Tree) -> Cgi:
    kind, value = tree
    if kind == "nR-CGI":
        return NrCgi(value["pLMNIdentity"], value["nRCellIdentity"][0])
    if kind == "eUTRA-CGI":
        return EutraCgi(value["pLMNIdentity"], value["eUTRACellIdentity"][0])
    raise ValueTreeError("unknown_cgi", f"CGI alternative {kind!r}")


def _to_guami(g: Guami) -> Tree:
    return {
        "pLMNIdentity": g.plmn,
        "aMFRegionID": _bits(g.amf_region_id, 8),
        "aMFSetID": _bits(g.amf_set_id, 10),
        "aMFPointer": _bits(g.amf_pointer, 6),
    }


def _from_guami(t: Tree) -> Guami:
    return Guami(t["pLMNIdentity"], t["aMFRegionID"][0], t["aMFSetID"][0], t["aMFPointer"][0])


def to_ue_id(ue: UeId, decode_opaque: Callable[[bytes], Tree]) -> tuple[str, Tree]:
    """The UEID CHOICE of ``ue``; ``decode_opaque`` turns a :class:`UeIdOther` back into one."""
    if isinstance(ue, UeIdGnb):
        tree: dict[str, Any] = {"amf-UE-NGAP-ID": ue.amf_ue_ngap_id, "guami": _to_guami(ue.guami)}
        if ue.cu_ue_f1ap_ids:
            tree["gNB-CU-UE-F1AP-ID-List"] = [{"gNB-CU-UE-F1AP-ID": i} for i in ue.cu_ue_f1ap_ids]
        if ue.cu_cp_ue_e1ap_ids:
            tree["gNB-CU-CP-UE-E1AP-ID-List"] = [
                {"gNB-CU-CP-UE-E1AP-ID": i} for i in ue.cu_cp_ue_e1ap_ids
            ]
        if ue.ran_ue_id is not None:
            tree["ran-UEID"] = ue.ran_ue_id
        if ue.m_ng_ran_ue_xnap_id is not None:
            tree["m-NG-RAN-UE-XnAP-ID"] = ue.m_ng_ran_ue_xnap_id
        if ue.global_gnb_id is not None:
            g = ue.global_gnb_id
            tree["globalGNB-ID"] = {
                "pLMNIdentity": g.plmn,
                "gNB-ID": ("gNB-ID", _bits(g.gnb_id, g.gnb_id_bits)),
            }
        return ("gNB-UEID", tree)
    if isinstance(ue, UeIdGnbDu):
        tree = {"gNB-CU-UE-F1AP-ID": ue.cu_ue_f1ap_id}
        if ue.ran_ue_id is not None:
            tree["ran-UEID"] = ue.ran_ue_id
        return ("gNB-DU-UEID", tree)
    if isinstance(ue, UeIdGnbCuUp):
        tree = {"gNB-CU-CP-UE-E1AP-ID": ue.cu_cp_ue_e1ap_id}
        if ue.ran_ue_id is not None:
            tree["ran-UEID"] = ue.ran_ue_id
        return ("gNB-CU-UP-UEID", tree)
    return cast(tuple[str, Tree], decode_opaque(ue.aper))


def from_ue_id(tree: Tree, encode_opaque: Callable[[Tree], bytes]) -> UeId:
    """The dataclass of a decoded UEID; LTE-side alternatives stay opaque APER bytes."""
    kind, v = tree
    if kind == "gNB-UEID":
        gnb = v.get("globalGNB-ID")
        return UeIdGnb(
            amf_ue_ngap_id=v["amf-UE-NGAP-ID"],
            guami=_from_guami(v["guami"]),
            cu_ue_f1ap_ids=tuple(
                i["gNB-CU-UE-F1AP-ID"] for i in v.get("gNB-CU-UE-F1AP-ID-List", ())
            ),
            cu_cp_ue_e1ap_ids=tuple(
                i["gNB-CU-CP-UE-E1AP-ID"] for i in v.get("gNB-CU-CP-UE-E1AP-ID-List", ())
            ),
            ran_ue_id=v.get("ran-UEID"),
            m_ng_ran_ue_xnap_id=v.get("m-NG-RAN-UE-XnAP-ID"),
            global_gnb_id=None
            if gnb is None
            else GlobalGnbId(gnb["pLMNIdentity"], gnb["gNB-ID"][1][0], gnb["gNB-ID"][1][1]),
        )
    if kind == "gNB-DU-UEID":
        return UeIdGnbDu(v["gNB-CU-UE-F1AP-ID"], v.get("ran-UEID"))
    if kind == "gNB-CU-UP-UEID":
        return UeIdGnbCuUp(v["gNB-CU-CP-UE-E1AP-ID"], v.get("ran-UEID"))
    if kind in ("ng-eNB-UEID", "ng-eNB-DU-UEID", "en-gNB-UEID", "eNB-UEID"):
        return UeIdOther(kind, encode_opaque(tree))
    raise ValueTreeError("unknown_ueid", f"UEID alternative {kind!r}")


# ---------------------------------------------------------------------------------------------
# Labels, measurement lists, conditions
# ---------------------------------------------------------------------------------------------

# (dataclass field, ASN.1 component) of the optional integer/octet label components.
_LABEL_VALUES = (
    ("plmn_id", "plmnID"),
    ("five_qi", "fiveQI"),
    ("qfi", "qFI"),
    ("qci", "qCI"),
    ("qci_max", "qCImax"),
    ("qci_min", "qCImin"),
    ("arp_max", "aRPmax"),
    ("arp_min", "aRPmin"),
    ("bitrate_range", "bitrateRange"),
    ("layer_mu_mimo", "layerMU-MIMO"),
    ("dist_bin_x", "distBinX"),
    ("dist_bin_y", "distBinY"),
    ("dist_bin_z", "distBinZ"),
    ("start_end_ind", "startEndInd"),
    ("ssb_index", "ssbIndex"),
    ("non_gob_bf_mode_index", "nonGoB-BFmode-Index"),
    ("mimo_mode_index", "mIMO-mode-Index"),
)
_LABEL_FLAGS = (
    ("no_label", "noLabel"),
    ("sum", "sUM"),
    ("pre_label_override", "preLabelOverride"),
    ("min", "min"),
    ("max", "max"),
    ("avg", "avg"),
)


_LABEL_EXTENSIONS = ("ssb_index", "non_gob_bf_mode_index", "mimo_mode_index")


_NO_LABEL_TREE = {"noLabel": TRUE}


def to_label(label: MeasurementLabel) -> Tree:
    if label == NO_LABEL:  # by far the most common label: skip the field walk
        return dict(_NO_LABEL_TREE)
    # pycrate 0.8.1's aligned-PER encoder misplaces the padding before the extension additions
    # of a SEQUENCE whose extension bitmap is not 8 bits long (MeasurementLabel's is 10): it
    # writes an extra zero octet for some bit offsets. Its decoder is right, so these labels
    # are decoded but never encoded.
    used = [attr for attr in _LABEL_EXTENSIONS if getattr(label, attr) is not None]
    if used:
        raise ValueError(f"label extension additions {used} cannot be encoded (pycrate bug)")
    tree: dict[str, Any] = {asn: TRUE for attr, asn in _LABEL_FLAGS if getattr(label, attr)}
    for attr, asn in _LABEL_VALUES:
        value = getattr(label, attr)
        if value is not None:
            tree[asn] = value
    if label.slice_id is not None:
        tree["sliceID"] = _to_snssai(label.slice_id)
    return tree


def from_label(tree: Tree) -> MeasurementLabel:
    if tree == _NO_LABEL_TREE:
        return NO_LABEL
    kwargs: dict[str, Any] = {attr: flag(tree, asn) for attr, asn in _LABEL_FLAGS}
    kwargs.update({attr: tree.get(asn) for attr, asn in _LABEL_VALUES})
    if "sliceID" in tree:
        kwargs["slice_id"] = Snssai(tree["sliceID"]["sST"][0], tree["sliceID"].get("sD"))
    return MeasurementLabel(**kwargs)


def _to_snssai(s: Snssai) -> Tree:
    if not 0 <= s.sst <= 255:
        raise ValueError(f"SST is 0..255, not {s.sst}")
    tree: dict[str, Any] = {"sST": bytes([s.sst])}
    if s.sd is not None:
        tree["sD"] = s.sd
    return tree


def to_meas_info_list(infos: tuple[MeasurementInfo, ...]) -> list[Tree]:
    return [
        {
            "measType": _to_meas_type(i.meas_type),
            "labelInfoList": [{"measLabel": to_label(lab)} for lab in i.labels],
        }
        for i in infos
    ]


def from_meas_info_list(trees: list[Tree]) -> tuple[MeasurementInfo, ...]:
    return tuple(
        MeasurementInfo(
            t["measType"][1], tuple(from_label(i["measLabel"]) for i in t["labelInfoList"])
        )
        for t in trees
    )


def _to_meas_type(meas_type: str | int) -> tuple[str, str | int]:
    if isinstance(meas_type, bool):
        raise ValueError("a measurement type is a name or an id, not a bool")
    return ("measID", meas_type) if isinstance(meas_type, int) else ("measName", meas_type)


def to_condition(c: TestCondition) -> Tree:
    info: dict[str, Any] = {"testType": (c.test_type, TRUE)}
    if c.expression is not None:
        info["testExpr"] = c.expression
    if c.value_kind is not None:
        info["testValue"] = _to_test_value(c)
    item: dict[str, Any] = {"testCondInfo": info}
    if c.logical_or:
        item["logicalOR"] = TRUE
    return item


_VALUE_TYPES: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "int": ("valueInt", int),
    "enum": ("valueEnum", int),
    "bool": ("valueBool", bool),
    "bits": ("valueBitS", tuple),
    "octets": ("valueOctS", bytes),
    "printable": ("valuePrtS", str),
    "real": ("valueReal", (int, float)),
}
_VALUE_KINDS = {asn: kind for kind, (asn, _) in _VALUE_TYPES.items()}


def _to_test_value(c: TestCondition) -> tuple[str, Any]:
    assert c.value_kind is not None
    asn, expected = _VALUE_TYPES[c.value_kind]
    if not isinstance(c.value, expected) or (c.value_kind != "bool" and isinstance(c.value, bool)):
        raise ValueError(f"a {c.value_kind!r} test value cannot be {c.value!r}")
    if c.value_kind == "real":
        return (asn, to_real(float(cast(float, c.value))))
    return (asn, c.value)


def from_condition(item: Tree) -> TestCondition:
    info = item["testCondInfo"]
    kind = value = None
    if "testValue" in info:
        asn, raw = info["testValue"]
        if asn not in _VALUE_KINDS:
            raise ValueTreeError("unknown_test_value", f"test value alternative {asn!r}")
        kind = _VALUE_KINDS[asn]
        value = from_real(raw) if kind == "real" else raw
    test_type = info["testType"][0]
    if test_type not in get_args(TestType):
        raise ValueTreeError("unknown_test_type", f"test type alternative {test_type!r}")
    return TestCondition(
        test_type=test_type,
        expression=info.get("testExpr"),
        value_kind=cast(Any, kind),
        value=value,
        logical_or=flag(item, "logicalOR"),
    )
