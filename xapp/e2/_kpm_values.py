"""E2SM-KPM messages <-> pycrate value trees (private to the KPM codec).

Built on the information elements of :mod:`xapp.e2._kpm_ies`; see there for how pycrate
represents values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from xapp.e2._kpm_ies import (
    TRUE,
    Tree,
    ValueTreeError,
    flag,
    from_cgi,
    from_condition,
    from_meas_info_list,
    from_record,
    from_ue_id,
    to_cgi,
    to_condition,
    to_meas_info_list,
    to_record,
    to_ue_id,
)
from xapp.e2.kpm_time import ntp_collet_time, read_collet_time
from xapp.e2.kpm_types import (
    KpmActionDefinition,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmIndicationFormat1,
    KpmIndicationFormat3,
    KpmIndicationHeader,
    MeasurementPeriod,
    UeMeasurementReport,
)


def to_event_trigger(period_ms: int) -> Tree:
    return {"eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": period_ms})}


def _to_subscription(a: KpmActionDefinitionFormat1 | KpmActionDefinitionFormat4) -> Tree:
    tree: dict[str, Any] = {
        "measInfoList": to_meas_info_list(a.measurements),
        "granulPeriod": a.granularity_period_ms,
    }
    if a.cell_global_id is not None:
        tree["cellGlobalID"] = to_cgi(a.cell_global_id)
    return tree


def to_action_definition(a: KpmActionDefinition) -> Tree:
    if isinstance(a, KpmActionDefinitionFormat1):
        formats: tuple[str, Tree] = ("actionDefinition-Format1", _to_subscription(a))
    else:
        formats = (
            "actionDefinition-Format4",
            {
                "matchingUeCondList": [to_condition(c) for c in a.conditions],
                "subscriptionInfo": _to_subscription(a),
            },
        )
    return {"ric-Style-Type": a.ric_style_type, "actionDefinition-formats": formats}


def from_action_definition(tree: Tree) -> KpmActionDefinition:
    style = tree["ric-Style-Type"]
    kind, v = tree["actionDefinition-formats"]
    if kind == "actionDefinition-Format1":
        sub = v
    elif kind == "actionDefinition-Format4":
        sub = v["subscriptionInfo"]
    else:
        raise ValueTreeError("unsupported_format", f"action definition {kind}")
    measurements = from_meas_info_list(sub["measInfoList"])
    cgi = from_cgi(sub["cellGlobalID"]) if "cellGlobalID" in sub else None
    if kind == "actionDefinition-Format1":
        return KpmActionDefinitionFormat1(measurements, sub["granulPeriod"], cgi, style)
    return KpmActionDefinitionFormat4(
        tuple(from_condition(c) for c in v["matchingUeCondList"]),
        measurements,
        sub["granulPeriod"],
        cgi,
        style,
    )


_HEADER_STRINGS = (
    ("file_format_version", "fileFormatversion"),
    ("sender_name", "senderName"),
    ("sender_type", "senderType"),
    ("vendor_name", "vendorName"),
)


def to_indication_header(h: KpmIndicationHeader) -> Tree:
    fmt: dict[str, Any] = {"colletStartTime": ntp_collet_time(h.collet_start_time)}
    for attr, asn in _HEADER_STRINGS:
        # An empty string is left out: aligned-PER encoders disagree on whether padding
        # follows an empty constrained string (pycrate and asn1c pad, asn1tools does not),
        # which shifts every later field for the other side.
        if getattr(h, attr):
            fmt[asn] = getattr(h, attr)
    return {"indicationHeader-formats": ("indicationHeader-Format1", fmt)}


def from_indication_header(tree: Tree) -> KpmIndicationHeader:
    kind, fmt = tree["indicationHeader-formats"]
    if kind != "indicationHeader-Format1":
        raise ValueTreeError("unsupported_format", f"indication header {kind}")
    when: datetime
    try:
        when, convention = read_collet_time(fmt["colletStartTime"])
    except (ValueError, OverflowError) as err:
        raise ValueTreeError("collet_time", str(err)) from err
    strings = {attr: fmt.get(asn) for attr, asn in _HEADER_STRINGS}
    return KpmIndicationHeader(when, time_convention=convention, **strings)


def to_format1(m: KpmIndicationFormat1) -> Tree:
    width = len(m.columns())
    data = []
    for period in m.periods:
        if m.measurements and len(period.values) != width:
            raise ValueError(f"a period has {len(period.values)} values for {width} columns")
        item: dict[str, Any] = {"measRecord": [to_record(v) for v in period.values]}
        if period.incomplete:
            item["incompleteFlag"] = TRUE
        data.append(item)
    tree: dict[str, Any] = {"measData": data}
    if m.measurements:
        tree["measInfoList"] = to_meas_info_list(m.measurements)
    if m.granularity_period_ms is not None:
        tree["granulPeriod"] = m.granularity_period_ms
    return tree


def from_format1(tree: Tree) -> KpmIndicationFormat1:
    infos = from_meas_info_list(tree.get("measInfoList", []))
    width = sum(len(i.labels) for i in infos)
    periods = []
    for item in tree["measData"]:
        values = tuple(from_record(r) for r in item["measRecord"])
        if infos and len(values) != width:
            raise ValueTreeError(
                "record_shape", f"{len(values)} values for {width} measurement columns"
            )
        periods.append(MeasurementPeriod(values, flag(item, "incompleteFlag")))
    return KpmIndicationFormat1(tuple(periods), infos, tree.get("granulPeriod"))


def to_indication_message(
    m: KpmIndicationFormat1 | KpmIndicationFormat3, decode_opaque: Callable[[bytes], Tree]
) -> Tree:
    if isinstance(m, KpmIndicationFormat1):
        return {"indicationMessage-formats": ("indicationMessage-Format1", to_format1(m))}
    reports = [
        {"ueID": to_ue_id(r.ue_id, decode_opaque), "measReport": to_format1(r.report)}
        for r in m.reports
    ]
    return {
        "indicationMessage-formats": ("indicationMessage-Format3", {"ueMeasReportList": reports})
    }


def from_indication_message(
    tree: Tree, encode_opaque: Callable[[Tree], bytes]
) -> KpmIndicationFormat1 | KpmIndicationFormat3:
    kind, v = tree["indicationMessage-formats"]
    if kind == "indicationMessage-Format1":
        return from_format1(v)
    if kind == "indicationMessage-Format3":
        return KpmIndicationFormat3(
            tuple(
                UeMeasurementReport(
                    from_ue_id(r["ueID"], encode_opaque), from_format1(r["measReport"])
                )
                for r in v["ueMeasReportList"]
            )
        )
    raise ValueTreeError("unsupported_format", f"indication message {kind}")
