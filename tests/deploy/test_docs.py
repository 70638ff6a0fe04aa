"""docs/deploy.md stays accurate to the files it describes."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from tests.conftest import REPO_ROOT
from xapp import config
from xapp.config import Controls
from xapp.rmr.mtypes import MessageType
from xapp.telemetry import names

GUIDE = (REPO_ROOT / "docs" / "deploy.md").read_text()


def _control_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _control_paths(annotation, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def test_every_control_is_documented() -> None:
    missing = [p for p in _control_paths(Controls) if f"`{p}`" not in GUIDE]
    assert missing == []


def test_every_environment_variable_the_config_reads_is_documented() -> None:
    variables = set(config._ENV_FIELDS) | {"CONFIG_FILE", "POD_NAME", "LINKFM_REPLICA_INDEX",
                                           "LINKFM_REPLICA_COUNT"}
    assert [v for v in sorted(variables) if f"`{v}`" not in GUIDE] == []


def test_the_message_table_numbers_match_mtypes() -> None:
    rows = re.findall(r"^\| ([A-Z0-9_ /]+) \| ([0-9 /]+) \|", GUIDE, re.M)
    assert rows
    documented: set[str] = set()
    for names_text, numbers_text in rows:
        message_names = [n.strip() for n in names_text.split("/")]
        numbers = [int(n) for n in numbers_text.split("/")]
        assert [MessageType[n].value for n in message_names] == numbers
        documented |= set(message_names)
    rmr = json.loads((REPO_ROOT / "config-file.json").read_text())["rmr"]
    assert set(rmr["rxMessages"]) | set(rmr["txMessages"]) <= documented


def test_route_entries_use_message_types_the_project_declares() -> None:
    entries = re.findall(r"^mse\|(\d+)\|(-?\d+)\|", GUIDE, re.M)
    assert entries
    for mtype, _ in entries:
        MessageType(int(mtype))


def test_route_entries_cover_what_the_xapp_receives_and_sends() -> None:
    entries = {int(m) for m, _ in re.findall(r"^mse\|(\d+)\|(-?\d+)\|", GUIDE, re.M)}
    assert {MessageType.RIC_INDICATION, MessageType.A1_POLICY_REQ,
            MessageType.LINKFM_RECOMMENDATION, MessageType.LINKFM_RECOMMENDATION_ACK,
            MessageType.A1_POLICY_RESP, MessageType.A1_POLICY_QUERY} <= entries


def test_every_measurement_is_documented_with_its_tags() -> None:
    for measurement in names.MEASUREMENTS:
        row = re.search(rf"^\| `{measurement.name}` \| ([^|]+) \|", GUIDE, re.M)
        assert row is not None, measurement.name
        assert [t.strip() for t in row.group(1).split(",")] == list(measurement.tags)


def test_the_guide_names_files_that_exist() -> None:
    for path in re.findall(r"`((?:helm|schemas|deploy|dashboards|xapp|docs)/[\w./-]+)`", GUIDE):
        assert (REPO_ROOT / path).exists(), path
