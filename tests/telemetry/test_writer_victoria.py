"""The telemetry writer against a real VictoriaMetrics on loopback (influxdb-client v2 writes).

Each field of a point becomes the series ``<measurement>_<field>{tags}``; the tests read
them back through ``/api/v1/export`` and compare with the objects that were recorded.
"""

from __future__ import annotations

import itertools
import os
import time

import pytest

from tests.telemetry.conftest import CELL, recommendation
from tests.telemetry.victoria import Series, VictoriaMetrics, by_name
from xapp.e2.recommendation import Reason
from xapp.telemetry.points import InputSummary, cell_tag
from xapp.telemetry.sinks import InfluxSink
from xapp.telemetry.writer import HealthCounters, TelemetryWriter, WriterOptions

# The outage is 30 s; LINKFM_TEST_OUTAGE_S runs the same test with a longer one.
OUTAGE_S = float(os.environ.get("LINKFM_TEST_OUTAGE_S", "2.5"))

FAST = WriterOptions(queue_bound=10_000, batch_size=64, flush_interval_s=0.05,
                     backoff_initial_s=0.05, backoff_max_s=0.4, close_timeout_s=10)


def step_clock(step_ms: int = 1) -> itertools.count[int]:
    """Distinct, increasing whole-ms timestamps (ns) starting now, one per call."""
    return itertools.count(time.time_ns() // 1_000_000 * 1_000_000, step_ms * 1_000_000)


def writer_to(server: VictoriaMetrics, options: WriterOptions = FAST) -> TelemetryWriter:
    clock = step_clock()
    sink = InfluxSink(server.url, "influxdata", "default", None, timeout_s=2.0)
    return TelemetryWriter(sink, xapp="linkfm-test", options=options,
                           clock_ns=lambda: next(clock))


def values(series: list[Series], name: str) -> list[float]:
    """The values of the single series called ``name``, oldest first."""
    [found] = by_name(series, name)
    return [v for _, v in found.samples]


def ue_ids(series: list[Series]) -> list[int]:
    return [int(v) for s in by_name(series, "linkfm_recommendation_ue_id") for _, v in s.samples]


def test_recommendations_read_back_with_every_output_confidence_and_input(
        victoria: VictoriaMetrics) -> None:
    recs = [recommendation(ue) for ue in range(1, 21)]
    with writer_to(victoria) as writer:
        for i, rec in enumerate(recs):
            writer.record_decision(rec, latency_s=0.001 * (i + 1),
                                   summary=InputSummary(sinr_db=10.5 + i, wideband_cqi=i % 16))
    series = victoria.export(samples=("linkfm_recommendation_latency_us", 20))
    assert [int(v) for v in values(series, "linkfm_recommendation_ue_id")] == \
        [r.ue_id for r in recs]
    assert values(series, "linkfm_recommendation_rank") == [r.rank for r in recs]
    assert values(series, "linkfm_recommendation_pmi_i11") == [r.pmi.i11 for r in recs]
    assert values(series, "linkfm_recommendation_pmi_i2") == [r.pmi.i2 for r in recs]
    assert values(series, "linkfm_recommendation_beam") == [r.beam_index for r in recs]
    assert values(series, "linkfm_recommendation_confidence_rank") == \
        pytest.approx([r.confidence.rank for r in recs])
    assert values(series, "linkfm_recommendation_reported_rank") == \
        [r.replaces.rank for r in recs if r.replaces]
    assert values(series, "linkfm_recommendation_sinr_db") == [10.5 + i for i in range(20)]
    assert values(series, "linkfm_recommendation_latency_us") == \
        [1000 * (i + 1) for i in range(20)]


def test_recommendations_carry_their_dimensions_as_tags(victoria: VictoriaMetrics) -> None:
    with writer_to(victoria) as writer:
        writer.record_decision(recommendation(7, reason=Reason.FALLBACK), latency_s=0.002)
    [rank] = by_name(victoria.export(samples=("linkfm_recommendation_rank", 1)),
                     "linkfm_recommendation_rank")
    assert rank.tags == {"xapp": "linkfm-test", "model_version": "linkfm-test-1",
                         "e2_node": "gnb_001_001_00000001", "cell": cell_tag(CELL),
                         "reason": "fallback"}


def test_decision_counts_are_written_per_kind_and_reason(victoria: VictoriaMetrics) -> None:
    with writer_to(victoria) as writer:
        for ue in range(12):
            writer.record_decision(recommendation(ue, beam=None if ue < 5 else 2), 0.001)
    series = victoria.export(samples=("linkfm_recommendation_rank", 12))
    counts = {s.tags["kind"]: sum(v for _, v in s.samples)
              for s in by_name(series, "linkfm_decisions_count")}
    assert counts == {"rank": 12, "pmi": 12, "beam": 7}


def test_scoreboard_cycle_health_bad_inputs_and_subscriptions_read_back(
        victoria: VictoriaMetrics) -> None:
    with writer_to(victoria) as writer:
        writer.record_scoreboard("gnb_a", CELL, se_legacy=3.25, se_xapp=4.5, se_oracle=5.0,
                                 ues=32)
        writer.record_cycle("gnb_a", "m1", sequence=9, batch_size=48, inference_s=0.0021,
                            latency_s=0.004)
        writer.record_health(HealthCounters(indications=500, decisions=420, bad_inputs=3,
                                            route_table_loaded=True, model_loaded=True))
        writer.record_bad_inputs({("e2ap", "truncated"): 2})
        writer.record_bad_inputs({("e2ap", "truncated"): 5, ("kpm", "missing_ie"): 1})
        writer.record_subscription("gnb_a", "csi", "active", indications=77)
    series = victoria.export(samples=("linkfm_bad_input_count", 3))
    assert values(series, "linkfm_scoreboard_se_xapp") == [4.5]
    assert values(series, "linkfm_scoreboard_se_legacy") == [3.25]
    assert values(series, "linkfm_cycle_inference_us") == [2100]
    assert values(series, "linkfm_health_decisions") == [420]
    assert values(series, "linkfm_health_route_table_loaded") == [1]
    bad = {s.tags["reason"]: [v for _, v in s.samples]
           for s in by_name(series, "linkfm_bad_input_count")}
    assert bad == {"truncated": [2, 3], "missing_ie": [1]}  # deltas of the totals
    [active] = by_name(series, "linkfm_subscription_active")
    assert (active.tags["state"], active.samples[0][1]) == ("active", 1)


def test_timestamps_are_those_recorded(victoria: VictoriaMetrics) -> None:
    stamps = [time.time_ns() // 1_000_000 * 1_000_000 - k * 7_000_000 for k in (3, 2, 1)]
    clock = iter(stamps)
    sink = InfluxSink(victoria.url, "influxdata", "default", None, precision="us")
    with TelemetryWriter(sink, options=FAST, clock_ns=lambda: next(clock)) as writer:
        for ue in range(3):
            writer.record_scoreboard("gnb", CELL, 1.0 + ue, 2.0, None, 1)
    [se] = by_name(victoria.export(samples=("linkfm_scoreboard_se_legacy", 3)),
                   "linkfm_scoreboard_se_legacy")
    assert [t for t, _ in se.samples] == [s // 1_000_000 for s in stamps]


def test_ping_says_whether_the_server_answers(victoria: VictoriaMetrics) -> None:
    writer = writer_to(victoria)
    assert writer.ping()
    victoria.stop()
    assert not writer.ping()
    writer.close()


def test_an_outage_is_buffered_up_to_the_bound_then_flushed_and_drops_counted(
        victoria: VictoriaMetrics) -> None:
    bound = 150
    options = WriterOptions(queue_bound=bound, batch_size=40, flush_interval_s=0.05,
                            backoff_initial_s=0.05, backoff_max_s=0.5, close_timeout_s=10)
    writer = writer_to(victoria, options).start()
    for ue in range(10):
        writer.record_decision(recommendation(ue), 0.001)
    assert writer.flush(timeout_s=20)

    victoria.stop()
    writer.record_health(HealthCounters())  # the first write to fail
    deadline = time.monotonic() + 20
    while not writer.stats.failing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.stats.failing
    free = bound - writer.stats.queue_depth
    # Decisions keep coming during the outage: more than the queue holds.
    outage_ues = list(range(1000, 1000 + bound + 60))
    per_step = len(outage_ues) // 10
    for step in range(10):
        for ue in outage_ues[step * per_step:(step + 1) * per_step]:
            writer.record_decision(recommendation(ue), 0.001)
        time.sleep(OUTAGE_S / 10)
    stats = writer.stats
    assert stats.queue_depth == bound
    assert stats.dropped == len(outage_ues[:10 * per_step]) - free
    assert stats.write_failures >= 2  # retried with backoff while down

    victoria.start()
    assert writer.flush(timeout_s=30)
    writer.close()
    series = victoria.export(samples=("linkfm_recommendation_ue_id", 10 + free))
    assert ue_ids(series) == list(range(10)) + outage_ues[:free]  # oldest kept, newest dropped
    assert writer.stats.written == writer.stats.accepted
    decided = sum(v for s in by_name(series, "linkfm_decisions_count")
                  if s.tags["kind"] == "rank" for _, v in s.samples)
    assert decided == 10 + 10 * per_step  # counts are not dropped: summed through the outage
