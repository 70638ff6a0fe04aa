"""config-file.json (the OSC xApp descriptor) and the two JSON schemas in schemas/."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO_ROOT
from xapp.config import Controls, controls_json_schema
from xapp.policy.a1 import LINKFM_POLICY_TYPE_ID
from xapp.rmr.mtypes import HTTP_PORT, RMR_DATA_PORT, RMR_ROUTE_PORT, MessageType

DESCRIPTOR = json.loads((REPO_ROOT / "config-file.json").read_text())
CONTROLS_SCHEMA = json.loads((REPO_ROOT / "schemas" / "schema.json").read_text())
DESCRIPTOR_SCHEMA = json.loads((REPO_ROOT / "schemas" / "xapp-descriptor.schema.json").read_text())


def onboarder_schema() -> dict[str, Any]:
    """The descriptor schema with the controls schema in ``properties.controls``, as
    ``dms_cli onboard config-file.json schema.json`` assembles it."""
    schema = copy.deepcopy(DESCRIPTOR_SCHEMA)
    schema["properties"]["controls"] = CONTROLS_SCHEMA
    return schema


def errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(onboarder_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def variant(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(DESCRIPTOR)
    change(document)
    return document


def _rmr_data_port(document: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in document["messaging"]["ports"] if p["name"] == "rmr-data")


# --- the schemas themselves -------------------------------------------------------------------


def test_both_schemas_are_valid_draft_07() -> None:
    jsonschema.Draft7Validator.check_schema(DESCRIPTOR_SCHEMA)
    jsonschema.Draft7Validator.check_schema(CONTROLS_SCHEMA)
    jsonschema.Draft7Validator.check_schema(onboarder_schema())


def test_the_committed_controls_schema_is_generated_from_the_model() -> None:
    assert controls_json_schema() == CONTROLS_SCHEMA, "run: python -m xapp.config"


def test_the_controls_schema_has_no_references_left() -> None:
    # Inside properties.controls a "#/$defs/..." pointer would resolve against the
    # descriptor schema, not this one.
    assert "$ref" not in json.dumps(CONTROLS_SCHEMA)


# --- config-file.json -----------------------------------------------------------------------


def test_config_file_validates_against_the_onboarder_schema() -> None:
    assert errors(DESCRIPTOR) == []


def test_config_file_controls_validate_against_the_controls_schema() -> None:
    jsonschema.Draft7Validator(CONTROLS_SCHEMA).validate(DESCRIPTOR["controls"])


def test_config_file_controls_build_the_pydantic_model() -> None:
    Controls.model_validate(DESCRIPTOR["controls"])


def test_config_file_controls_are_exactly_the_model_defaults() -> None:
    assert DESCRIPTOR["controls"] == Controls().model_dump(mode="json")


def test_descriptor_names_the_xapp_with_a_semver_version() -> None:
    assert DESCRIPTOR["name"] == "linkfm"
    assert DESCRIPTOR["version"] == "0.1.0"


def test_ports_follow_the_osc_convention() -> None:
    ports = {p["name"]: p["port"] for p in DESCRIPTOR["messaging"]["ports"]}
    assert ports == {"rmr-data": RMR_DATA_PORT, "rmr-route": RMR_ROUTE_PORT, "http": HTTP_PORT}
    assert DESCRIPTOR["rmr"]["protPort"] == f"tcp:{RMR_DATA_PORT}"


def test_message_names_are_message_types_the_xapp_knows() -> None:
    known = set(MessageType.__members__)
    port = _rmr_data_port(DESCRIPTOR)
    for key in ("rxMessages", "txMessages"):
        assert set(port[key]) <= known
        assert port[key] == DESCRIPTOR["rmr"][key], f"messaging and rmr disagree on {key}"


def test_the_xapp_receives_indications_acks_a1_and_health_checks() -> None:
    rx = set(DESCRIPTOR["rmr"]["rxMessages"])
    assert {"RIC_INDICATION", "LINKFM_RECOMMENDATION_ACK", "A1_POLICY_REQ",
            "RIC_HEALTH_CHECK_REQ"} <= rx


def test_the_xapp_sends_recommendations_a1_answers_and_health_replies() -> None:
    tx = set(DESCRIPTOR["rmr"]["txMessages"])
    assert {"LINKFM_RECOMMENDATION", "A1_POLICY_RESP", "A1_POLICY_QUERY",
            "RIC_HEALTH_CHECK_RESP"} <= tx


def test_the_a1_policy_type_is_declared_in_both_sections() -> None:
    assert DESCRIPTOR["rmr"]["policies"] == [LINKFM_POLICY_TYPE_ID]
    assert _rmr_data_port(DESCRIPTOR)["policies"] == [LINKFM_POLICY_TYPE_ID]
    assert DESCRIPTOR["controls"]["a1_policy_type_id"] == LINKFM_POLICY_TYPE_ID


def test_appenv_values_are_all_strings() -> None:
    assert all(isinstance(v, str) for v in DESCRIPTOR["appenv"].values())


def test_probes_use_the_ric_health_paths_on_the_http_port() -> None:
    assert DESCRIPTOR["livenessProbe"]["httpGet"] == {"path": "/ric/v1/health/alive",
                                                      "port": HTTP_PORT}
    assert DESCRIPTOR["readinessProbe"]["httpGet"] == {"path": "/ric/v1/health/ready",
                                                       "port": HTTP_PORT}


# --- what the onboarder refuses -------------------------------------------------------------


def _set_registry(value: str) -> Any:
    def change(d: dict[str, Any]) -> None:
        d["containers"][0]["image"]["registry"] = value
    return change


BAD_DESCRIPTORS = {
    "metrics as an array": lambda d: d.__setitem__("metrics", [{"objectName": "x"}]),
    "localhost registry": _set_registry("localhost:5000"),
    "registry with a path": _set_registry("registry.example.org/linkfm"),
    "port without container": lambda d: _rmr_data_port(d).pop("container"),
    "port number as a string": lambda d: _rmr_data_port(d).__setitem__("port", "4560"),
    "port name over 15 characters": lambda d: _rmr_data_port(d).__setitem__(
        "name", "rmr-data-port-xyz"),
    "policies without rx/tx": lambda d: [_rmr_data_port(d).pop(k)
                                         for k in ("rxMessages", "txMessages")],
    "rx without policies": lambda d: _rmr_data_port(d).pop("policies"),
    "policy id as a string": lambda d: _rmr_data_port(d).__setitem__("policies", ["30100"]),
    "version not semver": lambda d: d.__setitem__("version", "1.0"),
    "no version": lambda d: d.pop("version"),
    "no name": lambda d: d.pop("name"),
    "image without tag": lambda d: d["containers"][0]["image"].pop("tag"),
    "command as a string": lambda d: d["containers"][0].__setitem__("command", "linkfm xapp"),
    "probe without period": lambda d: d["livenessProbe"].pop("periodSeconds"),
    "probe without action": lambda d: d["readinessProbe"].pop("httpGet"),
    "unknown control": lambda d: d["controls"].__setitem__("turbo", True),
    "control out of range": lambda d: d["controls"].__setitem__("max_batch_size", 0),
}


@pytest.mark.parametrize("case", sorted(BAD_DESCRIPTORS))
def test_the_onboarder_schema_rejects(case: str) -> None:
    assert errors(variant(BAD_DESCRIPTORS[case])) != []


GOOD_VARIANTS = {
    "metrics as an object": lambda d: d.__setitem__("metrics", {"url": "/metrics"}),
    "IPv4 registry with port": _set_registry("10.0.0.5:5000"),
    "registry without port": _set_registry("ghcr.io"),
    "exec probe": lambda d: d.__setitem__("livenessProbe", {
        "exec": {"command": ["rmr_probe", "-h", "127.0.0.1:4560"]},
        "initialDelaySeconds": 5, "periodSeconds": 15}),
    "extra root key": lambda d: d.__setitem__("annotations", {"team": "ran"}),
    "pre-release version": lambda d: d.__setitem__("version", "0.2.0-rc.1"),
}


@pytest.mark.parametrize("case", sorted(GOOD_VARIANTS))
def test_the_onboarder_schema_accepts(case: str) -> None:
    assert errors(variant(GOOD_VARIANTS[case])) == []
