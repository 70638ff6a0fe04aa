"""The chart rendered (with tests/deploy/gotemplate.py, a Helm subset) for the default values
and for a sharded install, then read back by the xApp's own configuration code: the objects
fit together and a pod started from them would configure itself as intended."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from tests.conftest import REPO_ROOT
from tests.deploy.gotemplate import Renderer, TemplateError, parse
from xapp.config import controls_from_descriptor, parse_descriptor, settings_from

CHART = REPO_ROOT / "helm" / "linkfm"
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
DESCRIPTOR = json.loads((REPO_ROOT / "config-file.json").read_text())
NAMESPACE = "ricxapp"


class _Files:
    def Get(self, name: str) -> str:  # named as Helm calls it: .Files.Get
        return (CHART / name).read_text()


def render(values: dict[str, Any]) -> dict[str, str]:
    """Template file name -> rendered text (helpers and NOTES left out)."""
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    defines: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for template in sorted((CHART / "templates").glob("*")):
        nodes, defined = parse(template.read_text())
        defines.update(defined)
        files[template.name] = nodes
        defines[f"linkfm/templates/{template.name}"] = nodes
    context = {
        "Values": values,
        "Release": {"Name": "linkfm", "Namespace": NAMESPACE, "Service": "Helm"},
        "Chart": {"Name": meta["name"], "Version": meta["version"]},
        "Files": _Files(),
        "Template": {"BasePath": "linkfm/templates"},
    }
    renderer = Renderer(defines)
    return {name: renderer.execute(nodes, context, {"$": context})
            for name, nodes in files.items() if name.endswith(".yaml")}


def objects(rendered: dict[str, str]) -> list[dict[str, Any]]:
    docs = [d for text in rendered.values() for d in yaml.safe_load_all(text)]
    return [d for d in docs if d]


def one(objs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objs if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def sharded_values(replicas: int = 3) -> dict[str, Any]:
    values = copy.deepcopy(VALUES)
    values["sharding"]["enabled"] = True
    values["replicaCount"] = replicas
    values["metrics"]["serviceMonitor"]["enabled"] = True
    return values


@pytest.fixture(scope="module")
def default_objects() -> list[dict[str, Any]]:
    return objects(render(VALUES))


@pytest.fixture(scope="module")
def sharded_objects() -> list[dict[str, Any]]:
    return objects(render(sharded_values()))


def pod_environment(objs: list[dict[str, Any]], pod_name: str) -> dict[str, str]:
    """The environment Kubernetes would give the container of a pod called ``pod_name``."""
    workload = next(o for o in objs if o["kind"] in ("Deployment", "StatefulSet"))
    container = workload["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env.update(one(objs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], item["value"])
        elif "fieldRef" in item["valueFrom"]:
            path = item["valueFrom"]["fieldRef"]["fieldPath"]
            env[item["name"]] = {"metadata.name": pod_name, "metadata.namespace": NAMESPACE}[path]
        else:
            env[item["name"]] = "token-from-secret"
    return env


# --- the renderer keeps to the subset ---------------------------------------------------------


def test_the_renderer_trims_whitespace_like_go_templates() -> None:
    nodes, _ = parse("a:\n  {{- if true }}\n  b: 1\n  {{- end }}\n")
    assert Renderer({}).execute(nodes, {}, {}) == "a:\n  b: 1\n"


def test_the_renderer_ranges_over_maps_in_key_order() -> None:
    nodes, _ = parse("{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}")
    assert Renderer({}).execute(nodes, {"m": {"b": 2, "a": 1}}, {}) == "a=1;b=2;"


def test_the_renderer_refuses_a_missing_value() -> None:
    nodes, _ = parse("{{ .Values.nothing }}")
    with pytest.raises(TemplateError):
        Renderer({}).execute(nodes, {"Values": {}}, {})


def test_the_renderer_refuses_functions_outside_the_subset() -> None:
    nodes, _ = parse('{{ upper "x" }}')
    with pytest.raises(TemplateError):
        Renderer({}).execute(nodes, {}, {})


# --- default install --------------------------------------------------------------------------


def test_the_default_install_is_the_onboarder_set_of_objects(
        default_objects: list[dict[str, Any]]) -> None:
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in default_objects)
    assert kinds == sorted([
        ("ConfigMap", f"configmap-{NAMESPACE}-linkfm-appconfig"),
        ("ConfigMap", f"configmap-{NAMESPACE}-linkfm-appenv"),
        ("ConfigMap", "linkfm-grafana-dashboard"),
        ("Deployment", "linkfm"),
        ("Service", f"service-{NAMESPACE}-linkfm-rmr"),
        ("Service", f"service-{NAMESPACE}-linkfm-http"),
    ])


def test_rendered_manifests_pass_yamllint() -> None:
    # Embedded JSON (config, schema, dashboard) has long lines by nature.
    config = YamlLintConfig("extends: default\nrules:\n  document-start: disable\n"
                            "  line-length: disable\n")
    for values in (VALUES, sharded_values()):
        for name, text in render(values).items():
            problems = [str(p) for p in linter.run(text, config)]
            assert problems == [], name


def test_the_mounted_config_file_is_the_descriptor(default_objects: list[dict[str, Any]]) -> None:
    data = one(default_objects, "ConfigMap", f"configmap-{NAMESPACE}-linkfm-appconfig")["data"]
    assert json.loads(data["config-file.json"]) == DESCRIPTOR
    assert json.loads(data["schema.json"]) == json.loads(
        (REPO_ROOT / "schemas" / "schema.json").read_text())


def test_a_pod_of_the_default_install_configures_itself(
        default_objects: list[dict[str, Any]]) -> None:
    data = one(default_objects, "ConfigMap", f"configmap-{NAMESPACE}-linkfm-appconfig")["data"]
    controls = controls_from_descriptor(parse_descriptor(data["config-file.json"]))
    env = pod_environment(default_objects, "linkfm-7d9f8c6b5-12345")
    settings = settings_from(controls, env, Path(env["CONFIG_FILE"]))
    assert settings.client_host == f"service-{NAMESPACE}-linkfm-http.{NAMESPACE}"
    assert settings.rmr.src_id == f"service-{NAMESPACE}-linkfm-rmr.{NAMESPACE}"
    assert settings.rmr.to_rmr_settings().rtg_svc is None  # pushed to 4561 by rtmgr
    assert settings.influx.token is not None
    assert (settings.sharding.replica_index, settings.sharding.replica_count) == (0, 1)


def test_the_config_volume_and_env_come_from_the_chart_configmaps(
        default_objects: list[dict[str, Any]]) -> None:
    pod = one(default_objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volume = next(v for v in pod["volumes"] if v["name"] == "app-config")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "app-config")
    assert volume["configMap"]["name"] == f"configmap-{NAMESPACE}-linkfm-appconfig"
    assert mount["mountPath"] == "/opt/ric/config"
    assert pod["hostname"] == "linkfm"


def test_services_select_the_pods_and_target_named_container_ports(
        default_objects: list[dict[str, Any]]) -> None:
    template = one(default_objects, "Deployment")["spec"]["template"]
    labels = template["metadata"]["labels"]
    port_names = {p["name"] for p in template["spec"]["containers"][0]["ports"]}
    for service in (o for o in default_objects if o["kind"] == "Service"):
        assert service["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_rmr_ports_and_http_ports_are_split_between_the_services(
        default_objects: list[dict[str, Any]]) -> None:
    rmr = one(default_objects, "Service", f"service-{NAMESPACE}-linkfm-rmr")
    http = one(default_objects, "Service", f"service-{NAMESPACE}-linkfm-http")
    assert {p["name"] for p in rmr["spec"]["ports"]} == {"rmr-data", "rmr-route"}
    assert {p["name"] for p in http["spec"]["ports"]} == {"http"}


def test_the_container_uses_the_descriptor_image_and_probes(
        default_objects: list[dict[str, Any]]) -> None:
    container = one(default_objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    image = DESCRIPTOR["containers"][0]["image"]
    assert container["image"] == f"{image['registry']}/{image['name']}:{image['tag']}"
    assert container["livenessProbe"] == DESCRIPTOR["livenessProbe"]
    assert container["readinessProbe"] == DESCRIPTOR["readinessProbe"]


def test_the_grafana_configmap_carries_the_dashboard(
        default_objects: list[dict[str, Any]]) -> None:
    config_map = one(default_objects, "ConfigMap", "linkfm-grafana-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["linkfm.json"]) == json.loads(
        (REPO_ROOT / "dashboards" / "linkfm.json").read_text())


# --- sharded install --------------------------------------------------------------------------


def test_a_sharded_install_is_a_statefulset_behind_headless_services(
        sharded_objects: list[dict[str, Any]]) -> None:
    workload = one(sharded_objects, "StatefulSet")
    assert workload["spec"]["replicas"] == 3
    headless = one(sharded_objects, "Service", workload["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    one(sharded_objects, "Service", f"service-{NAMESPACE}-linkfm-http-headless")
    assert not [o for o in sharded_objects if o["kind"] == "Deployment"]


@pytest.mark.parametrize("ordinal", [0, 1, 2])
def test_each_shard_knows_its_index_and_its_own_addresses(
        sharded_objects: list[dict[str, Any]], ordinal: int) -> None:
    pod = f"linkfm-{ordinal}"
    env = pod_environment(sharded_objects, pod)
    data = one(sharded_objects, "ConfigMap", f"configmap-{NAMESPACE}-linkfm-appconfig")["data"]
    controls = controls_from_descriptor(parse_descriptor(data["config-file.json"]))
    settings = settings_from(controls, env, Path(env["CONFIG_FILE"]))
    assert (settings.sharding.replica_index, settings.sharding.replica_count) == (ordinal, 3)
    assert settings.rmr.src_id == f"{pod}.service-{NAMESPACE}-linkfm-rmr-headless.{NAMESPACE}"
    assert settings.client_host == f"{pod}.service-{NAMESPACE}-linkfm-http-headless.{NAMESPACE}"


def test_the_service_monitor_scrapes_the_http_service_only(
        sharded_objects: list[dict[str, Any]]) -> None:
    monitor = one(sharded_objects, "ServiceMonitor")
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    selected = [o["metadata"]["name"] for o in sharded_objects
                if o["kind"] == "Service" and wanted <= o["metadata"]["labels"].items()]
    assert selected == [f"service-{NAMESPACE}-linkfm-http"]
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
