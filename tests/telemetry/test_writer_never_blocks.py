"""The decision path never waits for the database, even one that accepts and never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.telemetry.conftest import recommendation
from xapp.telemetry.sinks import InfluxSink
from xapp.telemetry.writer import TelemetryWriter, WriterOptions


class BlackHole:
    """A TCP server on loopback that accepts connections and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        if self.listener.fileno() < 0:
            return
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        for conn in self.accepted:
            conn.close()
        self._thread.join(timeout=5)


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    server = BlackHole()
    yield server
    server.close()


def test_recording_returns_while_a_write_hangs_and_the_queue_grows(
        black_hole: BlackHole) -> None:
    sink = InfluxSink(f"http://127.0.0.1:{black_hole.port}", "o", "b", None, timeout_s=60)
    options = WriterOptions(queue_bound=5000, batch_size=10, flush_interval_s=0.01,
                            close_timeout_s=0.1)
    writer = TelemetryWriter(sink, options=options).start()
    writer.record_decision(recommendation(0), 0.001)
    deadline = time.monotonic() + 20
    while not black_hole.accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert black_hole.accepted, "the writer should be stuck in a write by now"

    durations: list[float] = []
    done = threading.Event()

    def decision_path() -> None:
        for ue in range(1, 2001):
            started = time.perf_counter()
            writer.record_decision(recommendation(ue), 0.001)
            durations.append(time.perf_counter() - started)
        done.set()

    threading.Thread(target=decision_path, daemon=True).start()
    # A call that waited for the hung write would not finish before the 60 s write timeout.
    assert done.wait(timeout=30)
    stats = writer.stats
    assert stats.written == 0
    assert stats.queue_depth == stats.accepted >= 2001  # everything waits in the queue
    assert stats.dropped == 0
    print(f"record_decision while the database hangs: max {max(durations) * 1e6:.0f} µs, "
          f"median {sorted(durations)[len(durations) // 2] * 1e6:.0f} µs")
    black_hole.close()  # the hung write now fails: the writer can stop
    writer.close()
    # Unwritten at close (the hung server is gone): counted, not lost silently.
    assert writer.stats.dropped == writer.stats.accepted - writer.stats.written


def test_a_full_queue_refuses_new_points_and_counts_them(black_hole: BlackHole) -> None:
    sink = InfluxSink(f"http://127.0.0.1:{black_hole.port}", "o", "b", None, timeout_s=60)
    writer = TelemetryWriter(sink, options=WriterOptions(queue_bound=50, close_timeout_s=0.1))
    for ue in range(80):  # not started: nothing leaves the queue
        writer.record_decision(recommendation(ue), 0.001)
    stats = writer.stats
    assert (stats.accepted, stats.queue_depth, stats.dropped) == (50, 50, 30)
    writer.close()
