"""A cycle's decisions recorded in one call are recorded exactly as one call per decision:
the same lines, the same decision counts and dashboard records, the same Prometheus
series; a batch bigger than the queue's room keeps its first points and counts the rest."""

from __future__ import annotations

from pathlib import Path

from tests.telemetry.conftest import recommendation
from xapp.e2.recommendation import Reason
from xapp.metrics import XappMetrics
from xapp.telemetry.points import InputSummary
from xapp.telemetry.sinks import FileSink
from xapp.telemetry.writer import TelemetryWriter, WriterOptions

BATCH = [(recommendation(i, beam=None if i % 3 else 7,
                         reason=Reason.FALLBACK if i % 4 == 0 else Reason.MODEL),
          0.001 * (i + 1), InputSummary(10.0 + i, i % 16) if i % 2 else None)
         for i in range(12)]


def lines_written(path: Path, batch: bool) -> tuple[list[str], list[dict[str, object]]]:
    writer = TelemetryWriter(FileSink(path), clock_ns=lambda: 1_700_000_000_000_000_000,
                             options=WriterOptions(flush_interval_s=0.05))
    writer.start()
    if batch:
        writer.record_decisions(BATCH)
    else:
        for rec, latency_s, summary in BATCH:
            writer.record_decision(rec, latency_s, summary)
    assert writer.flush(timeout_s=10)
    recent = writer.recent.snapshot()["decisions"]
    writer.close()
    return sorted(path.read_text().splitlines()), recent


def test_a_batch_writes_the_lines_and_counts_of_one_call_per_decision(tmp_path: Path) -> None:
    one_by_one, recent_one = lines_written(tmp_path / "one.lp", batch=False)
    batched, recent_batch = lines_written(tmp_path / "batch.lp", batch=True)
    assert batched == one_by_one
    assert sum(line.startswith("linkfm_recommendation,") for line in batched) == len(BATCH)
    assert any(line.startswith("linkfm_decisions,") for line in batched)
    assert recent_batch == recent_one


def test_a_batch_beyond_the_queue_bound_keeps_its_first_points(tmp_path: Path) -> None:
    writer = TelemetryWriter(FileSink(tmp_path / "t.lp"),
                             options=WriterOptions(queue_bound=5))  # never started: no drain
    writer.record_decisions(BATCH)
    stats = writer.stats
    assert (stats.accepted, stats.dropped, stats.queue_depth) == (5, len(BATCH) - 5, 5)
    writer.close()


def test_prometheus_series_of_a_batch_equal_one_call_per_decision() -> None:
    each, batch = XappMetrics(), XappMetrics()
    for rec, latency_s, _ in BATCH:
        each.observe_decision(rec, latency_s)
    batch.observe_decisions((rec, latency_s) for rec, latency_s, _ in BATCH)

    def series(metrics: XappMetrics) -> list[str]:  # creation times differ, values must not
        return [line for line in metrics.exposition().decode().splitlines()
                if "_created" not in line]

    assert series(batch) == series(each)
    assert any(line.startswith('linkfm_decisions_total{e2_node="gnb_001_001_00000001",'
                               'kind="beam"') for line in series(batch))
