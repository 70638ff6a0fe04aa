"""The Dockerfile (hadolint-clean, what the runtime stage promises), .dockerignore and the
static route table copied into the image."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess

from tests.conftest import REPO_ROOT, require_executable
from xapp.rmr.mtypes import HTTP_PORT, RMR_DATA_PORT, RMR_ROUTE_PORT, MessageType
from xapp.rmr.routes import parse_route_table

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
DESCRIPTOR = json.loads((REPO_ROOT / "config-file.json").read_text())


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def runtime_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    return steps[last_from:]


def runtime_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in runtime_stage():
        if keyword == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", rest))
    return env


def test_hadolint_finds_nothing() -> None:
    hadolint = require_executable("hadolint")
    result = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_the_image_is_multi_stage_on_slim_python_3_11() -> None:
    assert len([k for k, _ in instructions() if k == "FROM"]) >= 2
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE


def test_torch_comes_from_the_cpu_wheel_index_at_the_pinned_version() -> None:
    pinned = re.search(r"^torch==(\S+)$", (REPO_ROOT / "constraints.txt").read_text(), re.M)
    assert pinned is not None
    assert "--index-url https://download.pytorch.org/whl/cpu" in DOCKERFILE
    assert f"torch=={pinned.group(1)}" in DOCKERFILE


def test_librmr_is_a_pinned_4_9_release_package() -> None:
    version = re.search(r"ARG RMR_VERSION=(\S+)", DOCKERFILE)
    assert version is not None
    assert re.fullmatch(r"4\.9\.\d+", version.group(1))
    assert "packagecloud.io/o-ran-sc/release" in DOCKERFILE


def test_the_runtime_environment_is_what_the_xapp_and_librmr_read() -> None:
    env = runtime_env()
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib:/usr/local/lib64"
    assert env["RMR_SEED_RT"] == "/opt/route/local.rt"
    assert env["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_the_route_table_is_copied_where_rmr_seed_rt_points() -> None:
    copies = [rest for k, rest in runtime_stage() if k == "COPY"]
    assert f"deploy/route/local.rt {runtime_env()['RMR_SEED_RT']}" in copies


def test_the_container_runs_as_a_non_root_user() -> None:
    users = [rest for k, rest in runtime_stage() if k == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_the_image_exposes_the_descriptor_ports() -> None:
    exposed = {int(p) for k, rest in runtime_stage() if k == "EXPOSE" for p in rest.split()}
    assert exposed == {RMR_DATA_PORT, RMR_ROUTE_PORT, HTTP_PORT}
    assert exposed == {p["port"] for p in DESCRIPTOR["messaging"]["ports"]}


def test_the_image_starts_the_descriptor_command() -> None:
    cmd = [json.loads(rest) for k, rest in runtime_stage() if k == "CMD"][-1]
    container = DESCRIPTOR["containers"][0]
    assert cmd == ["linkfm", "xapp"] == [*container["command"], *container["args"]]


def test_the_build_context_keeps_every_file_the_dockerfile_copies() -> None:
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            body = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, body) or path.startswith(body + "/") or body == "**":
                verdict = not negate
        return verdict

    sources = []
    for keyword, rest in instructions():
        if keyword == "COPY" and "--from=" not in rest:
            sources += rest.split()[:-1]
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert not ignored(source.rstrip("/")), f"{source} is excluded by .dockerignore"


def test_the_static_route_table_parses_and_covers_what_the_xapp_sends() -> None:
    table = parse_route_table((REPO_ROOT / "deploy" / "route" / "local.rt").read_text())
    for name in DESCRIPTOR["rmr"]["txMessages"]:
        if name == MessageType.RIC_HEALTH_CHECK_RESP.name:
            continue  # answered to the sender, no route needed
        assert table.endpoints(MessageType[name]), f"no route for {name}"


def test_a1_answers_go_to_the_a1_mediator_rmr_port() -> None:
    table = parse_route_table((REPO_ROOT / "deploy" / "route" / "local.rt").read_text())
    for mtype in (MessageType.A1_POLICY_RESP, MessageType.A1_POLICY_QUERY):
        assert table.endpoints(mtype) == ["service-ricplt-a1mediator-rmr.ricplt:4562"]
