"""Where telemetry lines go: InfluxDB's v2 write API, or a line-protocol file under ``runs/``.

A sink takes a batch of line-protocol lines and either stores all of them or raises
:class:`TelemetryWriteError`, whose ``retryable`` says whether the same batch may succeed
later (server down, overloaded) or never will (the server refused the data). Sinks are
called from the writer's own thread only; they may block for up to their timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, cast

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from pydantic import SecretStr

from xapp.telemetry.points import Precision

log = logging.getLogger(__name__)

# Statuses that mean "this data will never be accepted": retrying would only block the queue.
_REFUSED_STATUSES = frozenset({400, 413, 422})


class TelemetryWriteError(Exception):
    """A batch was not stored. ``retryable``: the same batch may succeed later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class LineSink(Protocol):
    """Stores batches of line-protocol lines."""

    @property
    def description(self) -> str:
        """Where the lines go, for logs (never a credential)."""
        ...

    @property
    def precision(self) -> Precision:
        """The timestamp unit the lines must be written in."""
        ...

    def write(self, lines: Sequence[str]) -> None:
        """Store every line or raise :class:`TelemetryWriteError`."""
        ...

    def ping(self) -> bool:
        """Whether the destination answers now."""
        ...

    def close(self) -> None: ...


class InfluxSink:
    """InfluxDB 2 (or a v2-compatible store) through ``influxdb-client``'s synchronous writes.

    The token is handed to the client and kept nowhere else; ``description`` shows only
    URL, org and bucket. The client's own retries are off: the writer owns backoff.
    """

    def __init__(self, url: str, org: str, bucket: str, token: SecretStr | None,
                 precision: Precision = "ns", timeout_s: float = 5.0) -> None:
        self._bucket = bucket
        self._org = org
        # The library annotates WritePrecision but its members are plain strings.
        self.precision: Precision = precision
        self._write_precision = cast(
            WritePrecision, WritePrecision.NS if precision == "ns" else WritePrecision.US)
        self._client = InfluxDBClient(
            url=url, org=org, timeout=int(timeout_s * 1000), retries=False,
            token=token.get_secret_value() if token is not None else "")
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._url = url

    @property
    def description(self) -> str:
        return f"InfluxDB {self._url} org={self._org} bucket={self._bucket}"

    def write(self, lines: Sequence[str]) -> None:
        body = "\n".join(lines).encode()
        try:
            self._write_api.write(bucket=self._bucket, org=self._org, record=body,
                                  write_precision=self._write_precision)
        except ApiException as exc:
            status = int(exc.status or 0)
            raise TelemetryWriteError(f"HTTP {status} {exc.reason}",
                                      retryable=status not in _REFUSED_STATUSES) from None
        except Exception as exc:  # urllib3 connection/timeout errors, OSError
            raise TelemetryWriteError(f"{type(exc).__name__}: {exc}", retryable=True) from None

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:  # ping() itself swallows most errors; be sure
            return False

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


class FileSink:
    """Appends lines to a file: ``influx write --file PATH --precision <precision>`` imports it."""

    def __init__(self, path: Path, precision: Precision = "ns") -> None:
        self.path = path
        self.precision: Precision = precision
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")

    @property
    def description(self) -> str:
        return f"line-protocol file {self.path}"

    def write(self, lines: Sequence[str]) -> None:
        try:
            self._handle.write("".join(f"{line}\n" for line in lines))
            self._handle.flush()
        except (OSError, ValueError) as exc:  # ValueError: the file was closed
            raise TelemetryWriteError(f"{self.path}: {exc}", retryable=True) from None

    def ping(self) -> bool:
        return not self._handle.closed

    def close(self) -> None:
        self._handle.close()
