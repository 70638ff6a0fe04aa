"""Shared fixtures and the rule that, with CI=true, a missing tool or server fails the run."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.telemetry.victoria import VictoriaMetrics

# As `linkfm` does before torch loads (xapp/cli.py): sleeping, not spinning, OpenMP threads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip the calling test when ``what`` is unavailable, except under CI where it fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing", pytrace=False)
    pytest.skip(f"{what} is not available")


def require_executable(name: str) -> str:
    """The path of executable ``name`` (searching the venv's bin first), or skip/fail."""
    venv_bin = Path(os.sys.executable).parent  # type: ignore[attr-defined]
    path = shutil.which(name, path=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    require(path is not None, f"executable {name!r}")
    assert path is not None
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots, plots)."""
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@contextlib.contextmanager
def running_victoria(storage: Path) -> Iterator[VictoriaMetrics]:
    """A real VictoriaMetrics on a free loopback port, storing under ``storage``."""
    from tests.telemetry.victoria import VictoriaMetrics  # here: that module imports this one

    server = VictoriaMetrics(require_executable("victoria-metrics"), storage)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A real VictoriaMetrics (InfluxDB v2 write API) for this test, on loopback."""
    with running_victoria(tmp_path / "vm-data") as server:
        yield server
