"""What an E2 node's KPM RAN function offers (``E2SM-KPM-RANfunction-Description``).

Carried as the ``ranFunctionDefinition`` of the RAN function in E2 Setup. The node lists its
event trigger styles (KPM has one: periodic report, format 1) and its report styles, each
with the action definition format it accepts, the measurements it can report and the
indication header / message formats it sends. :func:`kpm_ran_function` builds the one
the simulated node offers. Encoded by :func:`xapp.e2.kpm.encode_ran_function`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

KPM_RAN_FUNCTION_OID = "1.3.6.1.4.1.53148.1.2.2.2"
"""The E2SM-KPM object identifier nodes announce (KPM v2.0x and v3.00 alike)."""
KPM_SHORT_NAME = "ORAN-E2SM-KPM"


@dataclass(frozen=True)
class KpmEventTriggerStyle:
    """An event trigger style: its type, name and event trigger definition format."""

    style_type: int = 1
    name: str = "Periodic Report"
    format_type: int = 1


@dataclass(frozen=True)
class KpmReportStyle:
    """A report style and the measurements it can report, as ``(name, id or None)``."""

    style_type: int
    name: str
    action_format_type: int
    measurements: tuple[tuple[str, int | None], ...]
    header_format_type: int = 1
    message_format_type: int = 1


@dataclass(frozen=True)
class KpmRanFunctionDescription:
    """The KPM RAN function definition: names, OID, and the offered styles."""

    short_name: str = KPM_SHORT_NAME
    oid: str = KPM_RAN_FUNCTION_OID
    description: str = "KPM Monitor"
    instance: int | None = None
    event_trigger_styles: tuple[KpmEventTriggerStyle, ...] = (KpmEventTriggerStyle(),)
    report_styles: tuple[KpmReportStyle, ...] = ()

    def report_style(self, style_type: int) -> KpmReportStyle | None:
        """The report style of type ``style_type``, if offered."""
        return next((s for s in self.report_styles if s.style_type == style_type), None)


def kpm_ran_function(measurements: Sequence[str]) -> KpmRanFunctionDescription:
    """What LinkFM's simulated node offers: node-level reports (style 1: action format 1,
    message format 1) and per-UE reports of matching UEs (style 4: action format 4, message
    format 3), both for ``measurements``."""
    items = tuple((name, None) for name in measurements)
    return KpmRanFunctionDescription(
        report_styles=(
            KpmReportStyle(1, "E2 Node Measurement", 1, items, 1, 1),
            KpmReportStyle(4, "Common Condition-based, UE-level Measurement", 4, items, 1, 3),
        )
    )


# ---------------------------------------------------------------------------------------------
# pycrate value trees (used by xapp.e2.kpm)
# ---------------------------------------------------------------------------------------------


def to_tree(d: KpmRanFunctionDescription) -> dict[str, Any]:
    name: dict[str, Any] = {
        "ranFunction-ShortName": d.short_name,
        "ranFunction-E2SM-OID": d.oid,
        "ranFunction-Description": d.description,
    }
    if d.instance is not None:
        name["ranFunction-Instance"] = d.instance
    tree: dict[str, Any] = {"ranFunction-Name": name}
    if d.event_trigger_styles:
        tree["ric-EventTriggerStyle-List"] = [
            {
                "ric-EventTriggerStyle-Type": s.style_type,
                "ric-EventTriggerStyle-Name": s.name,
                "ric-EventTriggerFormat-Type": s.format_type,
            }
            for s in d.event_trigger_styles
        ]
    if d.report_styles:
        tree["ric-ReportStyle-List"] = [_to_report_style(s) for s in d.report_styles]
    return tree


def _to_report_style(s: KpmReportStyle) -> dict[str, Any]:
    items = []
    for name, meas_id in s.measurements:
        item: dict[str, Any] = {"measName": name}
        if meas_id is not None:
            item["measID"] = meas_id
        items.append(item)
    return {
        "ric-ReportStyle-Type": s.style_type,
        "ric-ReportStyle-Name": s.name,
        "ric-ActionFormat-Type": s.action_format_type,
        "measInfo-Action-List": items,
        "ric-IndicationHeaderFormat-Type": s.header_format_type,
        "ric-IndicationMessageFormat-Type": s.message_format_type,
    }


def from_tree(tree: dict[str, Any]) -> KpmRanFunctionDescription:
    name = tree["ranFunction-Name"]
    return KpmRanFunctionDescription(
        short_name=name["ranFunction-ShortName"],
        oid=name["ranFunction-E2SM-OID"],
        description=name["ranFunction-Description"],
        instance=name.get("ranFunction-Instance"),
        event_trigger_styles=tuple(
            KpmEventTriggerStyle(
                s["ric-EventTriggerStyle-Type"],
                s["ric-EventTriggerStyle-Name"],
                s["ric-EventTriggerFormat-Type"],
            )
            for s in tree.get("ric-EventTriggerStyle-List", ())
        ),
        report_styles=tuple(
            KpmReportStyle(
                s["ric-ReportStyle-Type"],
                s["ric-ReportStyle-Name"],
                s["ric-ActionFormat-Type"],
                tuple((m["measName"], m.get("measID")) for m in s["measInfo-Action-List"]),
                s["ric-IndicationHeaderFormat-Type"],
                s["ric-IndicationMessageFormat-Type"],
            )
            for s in tree.get("ric-ReportStyle-List", ())
        ),
    )
