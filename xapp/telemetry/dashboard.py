"""The Grafana dashboard (``dashboards/linkfm.json``), built from :mod:`xapp.telemetry.names`.

Every query is Flux over an InfluxDB 2 data source chosen by the ``DS_INFLUXDB`` variable,
reading the bucket in the ``bucket`` variable and the E2 nodes in ``e2_node``. Queries are
assembled here from the declared measurements, so asking for a field or tag that the
telemetry writer does not write fails when the dashboard is built.

Run ``python -m xapp.telemetry.dashboard`` to rewrite the committed JSON (the repository
copy and the Helm chart's copy, which Helm can only read from inside the chart).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xapp.telemetry.names import (
    BAD_INPUT,
    CYCLE,
    DECISIONS,
    HEALTH,
    RECOMMENDATION,
    SCOREBOARD,
    SUBSCRIPTION,
    FieldName,
    Measurement,
    Tag,
)

UID = "linkfm-xapp"
DATASOURCE = {"type": "influxdb", "uid": "${DS_INFLUXDB}"}
OUTPUTS = (Path("dashboards/linkfm.json"), Path("helm/linkfm/dashboards/linkfm.json"))

_Panel = dict[str, Any]


def flux(measurement: Measurement, fields: Sequence[str], *, group: Sequence[str] = (),
         every: str | None = "v.windowPeriod", fn: str = "mean",
         by_e2_node: bool = True, tail: Sequence[str] = ()) -> str:
    """A Flux query for ``fields`` of ``measurement``, grouped by ``group`` tags.

    Raises:
        ValueError: a field or tag that ``measurement`` does not declare.
    """
    unknown = [f for f in fields if f not in measurement.fields]
    unknown += [t for t in group if t not in measurement.tags]
    if by_e2_node and Tag.E2_NODE not in measurement.tags:
        unknown.append(Tag.E2_NODE)
    if unknown:
        raise ValueError(f"{measurement.name} does not declare {unknown}")
    field_test = " or ".join(f'r._field == "{f}"' for f in fields)
    lines = [
        'from(bucket: "${bucket}")',
        "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)",
        f'  |> filter(fn: (r) => r._measurement == "{measurement.name}")',
        f"  |> filter(fn: (r) => {field_test})",
    ]
    if by_e2_node:
        lines.append(f"  |> filter(fn: (r) => r.{Tag.E2_NODE} =~ /^${{e2_node:regex}}$/)")
    columns = ", ".join(f'"{c}"' for c in ("_field", *group))
    lines.append(f"  |> group(columns: [{columns}])")
    if every is not None:
        lines.append(f"  |> aggregateWindow(every: {every}, fn: {fn}, createEmpty: false)")
    lines.extend(f"  |> {step}" for step in tail)
    return "\n".join(lines)


def _target(query: str, ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "query": query, "refId": ref}


class _Layout:
    """Places panels left to right, wrapping at Grafana's 24 grid columns."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0
        self.next_id = 1

    def panel(self, kind: str, title: str, queries: Sequence[str], *, width: int = 12,
              height: int = 8, unit: str | None = None, description: str = "",
              options: dict[str, Any] | None = None) -> _Panel:
        if self.x + width > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        defaults: dict[str, Any] = {"unit": unit} if unit else {}
        panel: _Panel = {
            "id": self.next_id,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DATASOURCE,
            "gridPos": {"h": height, "w": width, "x": self.x, "y": self.y},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options or {},
            "targets": [_target(q, chr(ord("A") + i)) for i, q in enumerate(queries)],
        }
        self.next_id += 1
        self.x += width
        self.row_height = max(self.row_height, height)
        return panel


def _panels() -> list[_Panel]:
    f = FieldName
    layout = _Layout()
    legend = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
    return [
        layout.panel("stat", "xApp health", [flux(
            HEALTH, (f.ROUTE_TABLE_LOADED, f.MODEL_LOADED, f.SUBSCRIPTIONS_ACTIVE,
                     f.ACTIVE_UES), group=(Tag.REPLICA,), every=None, by_e2_node=False,
            tail=("last()",))], width=24, height=4,
            description="route table and model loaded (1 = yes), active subscriptions, UEs",
            options={"reduceOptions": {"calcs": ["lastNotNull"]}}),
        layout.panel("timeseries", "Decisions per cell and kind", [flux(
            DECISIONS, (f.COUNT,), group=(Tag.CELL, Tag.KIND), fn="sum")],
            description="decisions per window, by cell and kind (rank, pmi, beam)",
            options=legend),
        layout.panel("piechart", "Decision reasons", [flux(
            DECISIONS, (f.COUNT,), group=(Tag.KIND, Tag.REASON), every=None,
            tail=("sum()",))],
            description="model vs fallback (UE-reported values) vs policy",
            options={"reduceOptions": {"calcs": ["sum"]}, **legend}),
        layout.panel("histogram", "Recommended rank", [flux(
            RECOMMENDATION, (f.RANK, f.REPORTED_RANK), every=None)], width=8,
            options={"bucketSize": 1}),
        layout.panel("histogram", "Recommended PMI (i1,1 and i2)", [flux(
            RECOMMENDATION, (f.PMI_I11, f.PMI_I2), every=None)], width=8,
            options={"bucketSize": 1}),
        layout.panel("histogram", "Recommended beam", [flux(
            RECOMMENDATION, (f.BEAM, f.REPORTED_BEAM), every=None)], width=8,
            options={"bucketSize": 1}),
        layout.panel("timeseries", "Confidence per decision", [flux(
            RECOMMENDATION, (f.CONFIDENCE_RANK, f.CONFIDENCE_PMI, f.CONFIDENCE_BEAM))],
            unit="percentunit", options=legend),
        layout.panel("timeseries", "Spectral efficiency: xApp vs legacy vs oracle", [flux(
            SCOREBOARD, (f.SE_XAPP, f.SE_LEGACY, f.SE_ORACLE))],
            unit="bits/s/Hz", description="from the simulator's scoreboard", options=legend),
        layout.panel("timeseries", "Decision latency", [
            flux(CYCLE, (f.LATENCY_US, f.INFERENCE_US)),
            flux(CYCLE, (f.LATENCY_US,), fn="max", tail=('set(key: "_field", value: "max")',)),
        ], unit="µs", description="indication to recommendation, and the model call alone",
            options=legend),
        layout.panel("timeseries", "Batch size", [flux(CYCLE, (f.BATCH_SIZE,))],
                     options=legend),
        layout.panel("timeseries", "Bad inputs by source and reason", [flux(
            BAD_INPUT, (f.COUNT,), group=(Tag.SOURCE, Tag.REASON), fn="sum",
            by_e2_node=False)], options=legend),
        layout.panel("timeseries", "Telemetry queue and drops", [flux(
            HEALTH, (f.QUEUE_DEPTH, f.TELEMETRY_DROPS), group=(Tag.REPLICA,), fn="max",
            by_e2_node=False)], options=legend),
        layout.panel("table", "Subscriptions", [flux(
            SUBSCRIPTION, (f.ACTIVE, f.INDICATIONS),
            group=(Tag.E2_NODE, Tag.SERVICE_MODEL, Tag.STATE), every=None,
            tail=("last()",))], width=24, height=6),
    ]


def _variables() -> list[dict[str, Any]]:
    e2_nodes = (
        'import "influxdata/influxdb/schema"\n'
        f'schema.tagValues(bucket: "${{bucket}}", tag: "{Tag.E2_NODE}", '
        f'predicate: (r) => r._measurement == "{RECOMMENDATION.name}", start: -7d)'
    )
    return [
        {"name": "DS_INFLUXDB", "label": "InfluxDB", "type": "datasource",
         "query": "influxdb", "current": {}, "hide": 0, "refresh": 1},
        {"name": "bucket", "label": "Bucket", "type": "textbox", "query": "default",
         "current": {"text": "default", "value": "default"}, "hide": 0},
        {"name": "e2_node", "label": "E2 node", "type": "query", "datasource": DATASOURCE,
         "query": e2_nodes, "definition": e2_nodes, "multi": True, "includeAll": True,
         "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "refresh": 2,
         "sort": 1, "hide": 0},
    ]


def build_dashboard() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (schemaVersion 39)."""
    return {
        "uid": UID,
        "title": "LinkFM xApp",
        "description": "Rank/PMI/beam recommendations, confidence, spectral efficiency "
                       "against legacy CSI and an oracle, latency and health.",
        "tags": ["linkfm", "o-ran", "xapp"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "10s",
        "time": {"from": "now-15m", "to": "now"},
        "timezone": "browser",
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "links": [],
        "panels": _panels(),
    }


def render() -> str:
    """The committed file's exact text."""
    return json.dumps(build_dashboard(), indent=2, ensure_ascii=False) + "\n"


def write(root: Path) -> list[Path]:
    """Write every copy under the repository ``root``; returns the paths written."""
    text = render()
    written = []
    for relative in OUTPUTS:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write(Path(__file__).resolve().parents[2]):
        print(written)
