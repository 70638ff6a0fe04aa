"""A real VictoriaMetrics single-node server on a loopback port, for telemetry tests.

VictoriaMetrics accepts influxdb-client's ``/api/v2/write`` and stores each field as the
series ``<measurement>_<field>{tags}``; :meth:`VictoriaMetrics.export` reads them back
through ``/api/v1/export`` (timestamps in ms).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port


@dataclass(frozen=True)
class Series:
    """One exported series: its name, tags, and samples (timestamp ms, value) in time order."""

    name: str
    tags: dict[str, str]
    samples: list[tuple[int, float]]


class VictoriaMetrics:
    """Starts, stops and restarts ``victoria-metrics`` on one port with one storage folder."""

    def __init__(self, binary: str, storage: Path) -> None:
        self.binary = binary
        self.storage = storage
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        self._process = subprocess.Popen(
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={self.storage}", "-retentionPeriod=1", "-loggerLevel=ERROR"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError("victoria-metrics did not become healthy")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def write_lines(self, body: bytes) -> None:
        """POST line protocol to ``/api/v2/write`` as ``influx write`` would."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/write?org=o&bucket=b&precision=ns", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def export(self, match: str = '{__name__=~"linkfm_.*"}', *,
               samples: tuple[str, int] | None = None, settle_s: float = 15.0) -> list[Series]:
        """Every series matching ``match``, once what the server buffers is searchable.

        Newly ingested series become searchable within about a second (this version's
        ``force_flush`` does not cover its index), so read until two reads agree and, when
        ``samples`` = (series name, n) is given, that series has at least n samples.
        """
        deadline = time.monotonic() + settle_s
        previous = None
        while True:
            found = self._export_once(match)
            enough = samples is None or sum(
                len(s.samples) for s in found if s.name == samples[0]) >= samples[1]
            if (found and found == previous and enough) or time.monotonic() > deadline:
                return found
            previous = found
            time.sleep(0.4)

    def _export_once(self, match: str) -> list[Series]:
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).close()
        query = urllib.parse.urlencode({"match[]": match})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=10) as response:
            text = response.read().decode()
        found = []
        for line in text.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            tags = dict(item["metric"])
            name = tags.pop("__name__")
            samples = sorted(zip(item["timestamps"], item["values"], strict=True))
            found.append(Series(name, tags, [(int(t), float(v)) for t, v in samples]))
        return sorted(found, key=lambda s: (s.name, sorted(s.tags.items())))


def by_name(series: list[Series], name: str) -> list[Series]:
    return [s for s in series if s.name == name]
