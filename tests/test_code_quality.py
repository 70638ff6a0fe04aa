"""The code base is ruff- and mypy-clean (STYLE.md)."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO_ROOT, require_executable


def test_ruff_reports_no_problems() -> None:
    ruff = require_executable("ruff")
    result = subprocess.run([ruff, "check", "."], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_reports_no_problems() -> None:
    mypy = require_executable("mypy")
    result = subprocess.run([mypy, "xapp", "model", "e2sim", "bench", "schemas/build.py"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
