"""The Helm chart in helm/linkfm: plain-YAML files lint clean, templates only use values that
exist, and the chart carries the same descriptor, controls schema and dashboard as the repo."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT, require_executable
from xapp.rmr.mtypes import RMR_ROUTE_PORT

CHART = REPO_ROOT / "helm" / "linkfm"
TEMPLATES = sorted((CHART / "templates").glob("*"))
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
CHART_META = yaml.safe_load((CHART / "Chart.yaml").read_text())
DESCRIPTOR = json.loads((REPO_ROOT / "config-file.json").read_text())

ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def template_text(path: Path) -> str:
    return path.read_text()


def actions(path: Path) -> list[str]:
    return ACTION.findall(template_text(path))


def test_chart_and_values_pass_yamllint() -> None:
    yamllint = require_executable("yamllint")
    result = subprocess.run(
        [yamllint, "--strict", "helm/linkfm/Chart.yaml", "helm/linkfm/values.yaml", ".yamllint"],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_is_a_helm_3_application_versioned_like_the_descriptor() -> None:
    assert CHART_META["apiVersion"] == "v2"
    assert CHART_META["name"] == DESCRIPTOR["name"]
    assert CHART_META["appVersion"] == DESCRIPTOR["version"]


def test_values_carry_the_descriptor_exactly() -> None:
    assert VALUES["descriptor"] == DESCRIPTOR


def test_values_carry_replicas_platform_services_and_influx() -> None:
    assert VALUES["replicaCount"] == 1
    assert {"dbaas", "e2term", "e2mgr", "rtmgr", "a1mediator", "appmgr"} <= set(VALUES["ricplt"])
    assert set(VALUES["influx"]) == {"url", "org", "bucket", "existingSecret", "secretKey"}


def test_no_credential_is_stored_in_values() -> None:
    text = (CHART / "values.yaml").read_text().lower()
    assert "token:" not in text
    assert "password" not in text


def _exists(tree: Any, path: list[str]) -> bool:
    for key in path:
        if not isinstance(tree, dict):
            return True  # into a list or scalar chosen at render time (range/index)
        if key not in tree:
            return False
        tree = tree[key]
    return True


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_value_a_template_reads_exists_in_values(template: Path) -> None:
    used = {m.group(1) for m in VALUES_PATH.finditer(template_text(template))}
    missing = [p for p in used if not _exists(VALUES, p.strip(".").split("."))]
    assert missing == []


def test_the_value_path_scan_finds_the_values_templates_use() -> None:
    used = {m.group(1) for t in TEMPLATES for m in VALUES_PATH.finditer(template_text(t))}
    assert {".descriptor.containers", ".influx.existingSecret", ".sharding.enabled",
            ".metrics.serviceMonitor.enabled", ".grafana.dashboard.enabled"} <= used


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_blocks_are_balanced(template: Path) -> None:
    depth = 0
    for action in actions(template):
        if action.startswith("/*"):
            continue
        word = action.split()[0] if action.split() else ""
        if word in ("if", "range", "with", "define", "block"):
            depth += 1
        elif word == "end":
            depth -= 1
            assert depth >= 0, f"unmatched end in {template.name}"
    assert depth == 0, f"{depth} unclosed block(s) in {template.name}"


def test_every_file_the_templates_read_is_in_the_chart() -> None:
    for template in TEMPLATES:
        for name in re.findall(r'\.Files\.Get "([^"]+)"', template_text(template)):
            assert (CHART / name).is_file(), f"{template.name} reads missing {name}"


def test_every_template_a_template_includes_is_defined() -> None:
    helpers = template_text(CHART / "templates" / "_helpers.tpl")
    defined = set(re.findall(r'define "([^"]+)"', helpers))
    for template in TEMPLATES:
        for name in re.findall(r'include "([^"]+)"', template_text(template)):
            assert name in defined, f"{template.name} includes undefined {name}"


def test_the_chart_controls_schema_is_schemas_schema_json() -> None:
    assert (CHART / "files" / "schema.json").read_bytes() == (
        REPO_ROOT / "schemas" / "schema.json").read_bytes()


def test_appconfig_holds_config_file_and_schema() -> None:
    text = template_text(CHART / "templates" / "appconfig.yaml")
    assert "configmap-{{ include \"linkfm.prefix\" . }}-appconfig" in text
    assert "config-file.json: |-" in text and "schema.json: |-" in text


def test_the_config_volume_is_mounted_where_config_file_points() -> None:
    deployment = template_text(CHART / "templates" / "deployment.yaml")
    appenv = template_text(CHART / "templates" / "appenv.yaml")
    assert "mountPath: /opt/ric/config\n" in deployment
    assert 'CONFIG_FILE: "/opt/ric/config/config-file.json"' in appenv


def test_appenv_points_rmr_at_the_route_manager_port() -> None:
    appenv = template_text(CHART / "templates" / "appenv.yaml")
    port = re.search(r'RMR_RTG_SVC: {{ if .Values.rmr.routeManager }}"(\d+)"', appenv)
    assert port is not None and int(port.group(1)) == RMR_ROUTE_PORT
    route_port = next(p for p in DESCRIPTOR["messaging"]["ports"] if p["name"] == "rmr-route")
    assert route_port["port"] == RMR_ROUTE_PORT


def test_appenv_names_this_xapp_as_osc_does() -> None:
    appenv = template_text(CHART / "templates" / "appenv.yaml")
    assert ('RMR_SRC_ID: "service-{{ include "linkfm.prefix" . }}-rmr.'
            '{{ .Release.Namespace }}"') in appenv
    assert "XAPP_DESCRIPTOR_PATH" in appenv
    assert "DBAAS_SERVICE_HOST" in appenv and "DBAAS_SERVICE_PORT" in appenv


def test_the_token_comes_from_the_existing_secret_only() -> None:
    deployment = template_text(CHART / "templates" / "deployment.yaml")
    token = deployment[deployment.index("- name: INFLUX_TOKEN"):]
    assert "secretKeyRef:" in token.splitlines()[2]
    assert "{{ $.Values.influx.existingSecret }}" in token
    assert "INFLUX_TOKEN" not in template_text(CHART / "templates" / "appenv.yaml")


def test_sharded_pods_get_their_index_and_own_addresses() -> None:
    deployment = template_text(CHART / "templates" / "deployment.yaml")
    assert "StatefulSet" in deployment
    assert "fieldPath: metadata.name" in deployment  # POD_NAME -> replica index
    assert "$(POD_NAME).service-" in deployment
    assert "LINKFM_CLIENT_HOST" in deployment
    assert "LINKFM_REPLICA_COUNT" in template_text(CHART / "templates" / "appenv.yaml")


def test_the_dashboard_configmap_is_labelled_for_the_grafana_sidecar() -> None:
    text = template_text(CHART / "templates" / "grafana-dashboard.yaml")
    assert 'grafana_dashboard: "1"' in text
    assert '.Files.Get "dashboards/linkfm.json"' in text


def test_the_dashboard_copy_in_the_chart_is_a_regular_file() -> None:
    # helm package and .Files.Get cannot be trusted with links pointing outside the chart.
    assert not (CHART / "dashboards" / "linkfm.json").is_symlink()
