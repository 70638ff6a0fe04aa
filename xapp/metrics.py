"""The xApp's Prometheus metrics, served on ``/metrics`` by :mod:`xapp.http.server`.

Two kinds, in one registry of their own (never the process-global default, so tests and
several xApps in one process do not collide):

- observed as they happen: decisions by E2 node, kind and reason, and the decision
  latency histogram (:meth:`XappMetrics.observe_decision`);
- read at scrape time from the parts that already count them (no second count to drift):
  bad inputs by source and reason, subscription states, RMR counters and the telemetry
  writer's queue and drops. The app passes callables returning those totals.
"""

from __future__ import annotations

from collections import Counter as CounterOf
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from xapp.e2.recommendation import Recommendation
from xapp.rmr.transport import RmrCounters
from xapp.telemetry.writer import WriterStats

# Seconds: the budget is 10 ms p99 at a 10 ms CSI period; buckets resolve around it.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.05, 0.1,
                   0.25, 1.0)


@dataclass(frozen=True)
class SubscriptionStatus:
    """One subscription the xApp wants: E2 node, ``kpm``/``csi`` and its state."""

    e2_node: str
    service_model: str
    state: str


@dataclass
class ScrapeSources:
    """Callables read at every scrape; leave one None when that part is absent."""

    bad_inputs: Callable[[], Mapping[tuple[str, str], int]] | None = None
    subscriptions: Callable[[], Iterable[SubscriptionStatus]] | None = None
    rmr: Callable[[], RmrCounters] | None = None
    telemetry: Callable[[], WriterStats] | None = None


class _ScrapeCollector(Collector):
    def __init__(self, sources: ScrapeSources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        s = self.sources
        if s.bad_inputs is not None:
            bad = CounterMetricFamily("linkfm_bad_inputs", "Inputs refused, by source and reason",
                                      labels=["source", "reason"])
            for (source, reason), n in sorted(s.bad_inputs().items()):
                bad.add_metric([source, reason], n)
            yield bad
        if s.subscriptions is not None:
            state = GaugeMetricFamily(
                "linkfm_subscription_state",
                "1 for the state each wanted subscription is in",
                labels=["e2_node", "service_model", "state"])
            for sub in s.subscriptions():
                state.add_metric([sub.e2_node, sub.service_model, sub.state], 1)
            yield state
        if s.rmr is not None:
            yield from _rmr_metrics(s.rmr())
        if s.telemetry is not None:
            yield from _telemetry_metrics(s.telemetry())


def _rmr_metrics(c: RmrCounters) -> Iterator[Metric]:
    messages = CounterMetricFamily("linkfm_rmr_messages", "RMR messages by outcome",
                                   labels=["outcome"])
    for outcome, n in (("sent", c.sent), ("received", c.received), ("dropped", c.dropped),
                       ("health_check", c.health_checks)):
        messages.add_metric([outcome], n)
    yield messages
    frames = CounterMetricFamily("linkfm_rmr_bad_frames", "Malformed RMR frames by reason",
                                 labels=["reason"])
    for reason, n in sorted(c.bad_frames.items()):
        frames.add_metric([reason], n)
    yield frames
    routes = CounterMetricFamily("linkfm_rmr_route_tables", "Route-table sections by outcome",
                                 labels=["outcome"])
    for outcome, n in sorted(c.route_tables.items()):
        routes.add_metric([outcome], n)
    yield routes


def _telemetry_metrics(stats: WriterStats) -> Iterator[Metric]:
    yield GaugeMetricFamily("linkfm_telemetry_queue_depth", "Telemetry points waiting",
                            value=stats.queue_depth)
    points = CounterMetricFamily("linkfm_telemetry_points", "Telemetry points by outcome",
                                 labels=["outcome"])
    for outcome, n in (("accepted", stats.accepted), ("written", stats.written),
                       ("rejected", stats.rejected)):
        points.add_metric([outcome], n)
    yield points
    yield CounterMetricFamily("linkfm_telemetry_drops",
                              "Telemetry points dropped (queue full or unwritten at close)",
                              value=stats.dropped)
    yield CounterMetricFamily("linkfm_telemetry_write_failures",
                              "Failed telemetry write attempts (each retried)",
                              value=stats.write_failures)


class XappMetrics:
    """The registry behind ``/metrics`` (see the module docstring)."""

    def __init__(self, sources: ScrapeSources | None = None) -> None:
        self.registry = CollectorRegistry()
        self.sources = sources or ScrapeSources()
        self.decisions = Counter("linkfm_decisions", "Decisions made, by E2 node, kind, reason",
                                 ["e2_node", "kind", "reason"], registry=self.registry)
        self.decision_latency = Histogram(
            "linkfm_decision_latency_seconds",
            "Indication received to recommendation sent, seconds",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_ScrapeCollector(self.sources))

    def observe_decision(self, rec: Recommendation, latency_s: float) -> None:
        """Count ``rec``'s decisions (rank, PMI, beam when made) and observe its latency."""
        reason = rec.reason.name.lower()
        kinds = ("rank", "pmi") if rec.beam_index is None else ("rank", "pmi", "beam")
        for kind in kinds:
            self.decisions.labels(rec.e2_node, kind, reason).inc()
        self.decision_latency.observe(latency_s)

    def observe_decisions(self, decisions: Iterable[tuple[Recommendation, float]]) -> None:
        """:meth:`observe_decision` for a cycle's recommendations, counters summed first."""
        counts: CounterOf[tuple[str, str, str]] = CounterOf()
        for rec, latency_s in decisions:
            reason = rec.reason.name.lower()
            kinds = ("rank", "pmi") if rec.beam_index is None else ("rank", "pmi", "beam")
            for kind in kinds:
                counts[(rec.e2_node, kind, reason)] += 1
            self.decision_latency.observe(latency_s)
        for labels, n in counts.items():
            self.decisions.labels(*labels).inc(n)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
