"""The telemetry vocabulary (xapp/telemetry/names.py) and the Grafana dashboard built from it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from xapp.telemetry import names
from xapp.telemetry.dashboard import build_dashboard, flux, render

COMMITTED = REPO_ROOT / "dashboards" / "linkfm.json"
CHART_COPY = REPO_ROOT / "helm" / "linkfm" / "dashboards" / "linkfm.json"
DASHBOARD = json.loads(COMMITTED.read_text())
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def queries(dashboard: dict[str, Any]) -> list[str]:
    found = [t["query"] for p in dashboard["panels"] for t in p["targets"]]
    found += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return found


def referenced(query: str) -> tuple[set[str], set[str], set[str]]:
    """(measurements, fields, tags) a Flux query reads, parsed from its text."""
    measurements = set(re.findall(r'r\._measurement == "([^"]+)"', query))
    fields = set(re.findall(r'r\._field == "([^"]+)"', query))
    tags = set(re.findall(r"\br\.([A-Za-z]\w*)", query))
    tags |= set(re.findall(r'\br\["([^"]+)"\]', query))
    tags |= set(re.findall(r'\btag: "([^"]+)"', query))
    for columns in re.findall(r"columns: \[([^\]]*)\]", query):
        tags |= {c for c in re.findall(r'"([^"]+)"', columns) if not c.startswith("_")}
    return measurements, fields, tags


# --- names.py ---------------------------------------------------------------------------------


def test_measurement_names_are_unique_and_prefixed() -> None:
    measurement_names = [m.name for m in names.MEASUREMENTS]
    assert len(set(measurement_names)) == len(measurement_names)
    assert all(n.startswith("linkfm_") and IDENTIFIER.match(n) for n in measurement_names)


@pytest.mark.parametrize("measurement", names.MEASUREMENTS, ids=lambda m: m.name)
def test_a_measurement_uses_only_declared_tags_and_fields(
        measurement: names.Measurement) -> None:
    assert set(measurement.tags) <= names.all_tags()
    assert set(measurement.fields) <= names.all_fields()
    assert len(set(measurement.fields)) == len(measurement.fields)
    assert not set(measurement.tags) & set(measurement.fields)


@pytest.mark.parametrize("measurement", names.MEASUREMENTS, ids=lambda m: m.name)
def test_every_point_says_which_xapp_wrote_it(measurement: names.Measurement) -> None:
    assert measurement.tags[0] == names.Tag.XAPP


def test_tag_and_field_keys_are_plain_identifiers() -> None:
    assert all(IDENTIFIER.match(k) for k in names.all_tags() | names.all_fields())


def test_ue_ids_are_fields_not_tags() -> None:
    # A tag per UE would create one series per UE: unbounded cardinality.
    assert names.FieldName.UE_ID in names.RECOMMENDATION.fields
    assert all("ue" not in tag for tag in names.all_tags())


def test_recommendations_carry_every_decision_its_confidence_and_what_it_replaces() -> None:
    fields = set(names.RECOMMENDATION.fields)
    for decision in ("rank", "pmi_i11", "pmi_i2", "beam"):
        assert {decision, f"reported_{decision}"} <= fields
    for kind in names.DecisionKind.ALL:
        assert f"confidence_{kind}" in fields


def test_a_measurement_can_be_looked_up_by_name() -> None:
    assert names.measurement("linkfm_health") is names.HEALTH
    with pytest.raises(KeyError):
        names.measurement("linkfm_nothing")


# --- the dashboard ----------------------------------------------------------------------------


def test_the_committed_dashboard_is_current() -> None:
    assert COMMITTED.read_text() == render(), "run: python -m xapp.telemetry.dashboard"


def test_the_chart_carries_the_same_dashboard() -> None:
    assert CHART_COPY.read_bytes() == COMMITTED.read_bytes()


@pytest.mark.parametrize("query", queries(DASHBOARD),
                         ids=[f"query{i}" for i in range(len(queries(DASHBOARD)))])
def test_every_query_reads_only_declared_names(query: str) -> None:
    measurements, fields, tags = referenced(query)
    assert measurements, "every query names its measurement"
    declared = [names.measurement(m) for m in measurements]
    assert fields <= {f for m in declared for f in m.fields}
    assert tags <= {t for m in declared for t in m.tags}


def test_the_query_parser_sees_fields_and_tags() -> None:
    # The check above would pass vacuously if the parser found nothing.
    query = flux(names.DECISIONS, ("count",), group=("cell", "kind"))
    assert referenced(query) == ({"linkfm_decisions"}, {"count"}, {"cell", "kind", "e2_node"})


def test_flux_refuses_a_field_the_measurement_does_not_write() -> None:
    with pytest.raises(ValueError, match="se_xapp"):
        flux(names.RECOMMENDATION, ("se_xapp",))


def test_flux_refuses_a_tag_the_measurement_does_not_carry() -> None:
    with pytest.raises(ValueError, match="kind"):
        flux(names.CYCLE, ("latency_us",), group=("kind",))


def test_every_panel_uses_the_datasource_variable() -> None:
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"] == "${DS_INFLUXDB}"
        assert all(t["datasource"]["uid"] == "${DS_INFLUXDB}" for t in panel["targets"])


def test_every_query_reads_the_bucket_variable() -> None:
    assert all('bucket: "${bucket}"' in q for q in queries(DASHBOARD))


def test_variables_pick_datasource_bucket_and_e2_nodes() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["DS_INFLUXDB"]["type"] == "datasource"
    assert variables["DS_INFLUXDB"]["query"] == "influxdb"
    assert variables["bucket"]["query"] == "default"
    assert variables["e2_node"]["includeAll"]


def test_panels_cover_what_an_operator_watches() -> None:
    read = {m for q in queries(DASHBOARD) for m in referenced(q)[0]}
    assert read == {m.name for m in names.MEASUREMENTS}
    titles = " ".join(p["title"].lower() for p in DASHBOARD["panels"])
    for topic in ("decisions", "rank", "pmi", "beam", "confidence", "spectral efficiency",
                  "latency", "bad inputs", "drops", "subscriptions"):
        assert topic in titles


def test_panels_have_unique_ids_and_fit_the_grid_without_overlap() -> None:
    panels = DASHBOARD["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area


def test_the_dashboard_is_grafana_schema_39_with_a_stable_uid() -> None:
    assert build_dashboard()["schemaVersion"] == 39
    assert DASHBOARD["uid"] == "linkfm-xapp"
