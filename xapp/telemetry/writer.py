"""The telemetry writer: never blocks the decision path, never loses a point silently.

``record_*`` methods build points (:mod:`xapp.telemetry.points`) and put them on a bounded
queue; when the queue holds ``queue_bound`` points the new point is refused and counted in
``dropped``. A background thread writes batches of up to ``batch_size`` points to the sink
when a batch is full or every ``flush_interval_s``. A point leaves the queue only when the
sink stored it, so during an outage the queue is the buffer: a failed write is retried
after an exponential backoff (``backoff_initial_s`` doubling to ``backoff_max_s``, with
jitter) and everything queued is flushed when the sink is back. Data the server refuses
(HTTP 400/413/422) is counted in ``rejected`` and not retried.

Decision counts (``linkfm_decisions``) and bad-input counts (``linkfm_bad_input``) are
written as deltas: decisions are summed per (model, node, cell, kind, reason) and emitted
once per flush interval (held back, still summing, while writes fail); bad inputs are
diffed against the totals last seen.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from xapp.config import InfluxSettings, TelemetryControls
from xapp.e2.csi_types import NrCgi
from xapp.e2.recommendation import Recommendation
from xapp.telemetry import points
from xapp.telemetry.names import BAD_INPUT, DECISIONS, HEALTH, SUBSCRIPTION, FieldName, Tag
from xapp.telemetry.points import InputSummary, Point, Precision
from xapp.telemetry.recent import RecentRecords, ScoreRecord
from xapp.telemetry.sinks import FileSink, InfluxSink, LineSink, TelemetryWriteError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriterOptions:
    """Queue, batching and retry settings (seconds); see the module docstring."""

    queue_bound: int = 10_000
    batch_size: int = 500
    flush_interval_s: float = 1.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    close_timeout_s: float = 5.0

    @classmethod
    def from_controls(cls, controls: TelemetryControls) -> WriterOptions:
        return cls(queue_bound=controls.queue_bound, batch_size=controls.batch_size,
                   flush_interval_s=controls.flush_interval_ms / 1000,
                   backoff_initial_s=controls.retry_backoff_initial_ms / 1000,
                   backoff_max_s=controls.retry_backoff_max_ms / 1000)


@dataclass(frozen=True)
class WriterStats:
    """Totals since start, and the queue now.

    Attributes:
        accepted: points queued. written: points the sink stored.
        dropped: points refused because the queue was full, or still queued at close.
        rejected: points the server refused as invalid (not retried).
        write_failures: failed write attempts (each one retried after a backoff).
        queue_depth: points waiting now. last_error: the latest write failure, if any.
        failing: True from a failed write until the next successful one.
    """

    accepted: int
    written: int
    dropped: int
    rejected: int
    write_failures: int
    queue_depth: int
    last_error: str | None
    failing: bool


@dataclass(frozen=True)
class HealthCounters:
    """The xApp's totals since start and its gauges, for ``linkfm_health``.

    The writer adds its own ``telemetry_drops`` and ``queue_depth``.
    """

    indications: int = 0
    decisions: int = 0
    bad_inputs: int = 0
    active_ues: int = 0
    subscriptions_active: int = 0
    route_table_loaded: bool = False
    model_loaded: bool = False
    config_reloads: int = 0
    config_rejected: int = 0


_DecisionKey = tuple[str, str, str, str, str]  # model version, e2 node, cell, kind, reason


class TelemetryWriter:
    """Bounded, batched, retrying telemetry (see the module docstring).

    ``record_*`` may be called from any thread; they take a lock for O(1) work only.
    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(self, sink: LineSink, *, xapp: str = "linkfm", replica: str = "0",
                 options: WriterOptions | None = None, recent: RecentRecords | None = None,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.sink = sink
        self.options = options or WriterOptions()
        self.recent = recent if recent is not None else RecentRecords()
        self._xapp = xapp
        self._replica = replica
        self._clock_ns = clock_ns
        self._cond = threading.Condition()
        self._queue: deque[Point] = deque()
        self._decisions: Counter[_DecisionKey] = Counter()
        self._bad_seen: dict[tuple[str, str], int] = {}
        self._stopping = False
        self._flush_now = False
        self._thread: threading.Thread | None = None
        self._stats = WriterStats(0, 0, 0, 0, 0, 0, None, False)

    # --- life cycle ----------------------------------------------------------------------------
    def start(self) -> TelemetryWriter:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="linkfm-telemetry",
                                            daemon=True)
            self._thread.start()
            log.info("telemetry to %s", self.sink.description)
        return self

    def close(self) -> None:
        """Write what is queued (for up to ``close_timeout_s``), then stop; idempotent."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:  # never started: nothing will write what is queued
            self._abandon_queue()
        self.sink.close()

    def __enter__(self) -> TelemetryWriter:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def ping(self) -> bool:
        """Whether the sink answers now (blocks up to the sink's timeout: not on the loop)."""
        return self.sink.ping()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Ask for a write now and wait until the queue is empty; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._flush_now = True
            self._cond.notify_all()
            while self._flush_now or self._queue:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    @property
    def stats(self) -> WriterStats:
        with self._cond:
            return replace(self._stats, queue_depth=len(self._queue))

    # --- recording (the caller's side) ---------------------------------------------------------
    def record_decision(self, rec: Recommendation, latency_s: float,
                        summary: InputSummary | None = None) -> None:
        """One recommendation sent; ``latency_s``: indication received -> sent (seconds)."""
        self.record_decisions([(rec, latency_s, summary)])

    def record_decisions(self, decisions: Sequence[tuple[Recommendation, float,
                                                          InputSummary | None]]) -> None:
        """A cycle's recommendations: what :meth:`record_decision` does for each, with one
        clock reading and one lock round for the whole batch (the decision loop's cost)."""
        now = self._clock_ns()
        built = []
        counts: Counter[_DecisionKey] = Counter()
        for rec, latency_s, summary in decisions:
            summary = summary or InputSummary()
            built.append(points.recommendation_point(rec, latency_s, summary, xapp=self._xapp,
                                                     time_ns=now))
            self.recent.add_decision(rec, latency_s, summary, now / 1e9)
            cell = points.cell_tag(rec.cell)
            reason = rec.reason.name.lower()
            kinds = ("rank", "pmi") if rec.beam_index is None else ("rank", "pmi", "beam")
            for kind in kinds:
                counts[(rec.model_version, rec.e2_node, cell, kind, reason)] += 1
        with self._cond:
            self._decisions.update(counts)
        self._offer_many(built)

    def record_cycle(self, e2_node: str, model_version: str, sequence: int, batch_size: int,
                     inference_s: float, latency_s: float) -> None:
        """One decision cycle of one E2 node (model call time and end-to-end latency, s)."""
        self._offer(points.cycle_point(e2_node, model_version, sequence, batch_size,
                                       inference_s, latency_s, xapp=self._xapp,
                                       time_ns=self._clock_ns()))

    def record_scoreboard(self, e2_node: str, cell: NrCgi | str, se_legacy: float,
                          se_xapp: float, se_oracle: float | None, ues: int) -> None:
        """The simulator's score for one cell: spectral efficiencies in bit/s/Hz."""
        now = self._clock_ns()
        point = points.scoreboard_point(e2_node, cell, se_legacy, se_xapp, se_oracle, ues,
                                        xapp=self._xapp, time_ns=now)
        self.recent.add_score(ScoreRecord(now / 1e9, e2_node, point.tags[Tag.CELL],
                                          se_legacy, se_xapp, se_oracle, ues))
        self._offer(point)

    def record_health(self, counters: HealthCounters) -> None:
        """The xApp's counters, plus this writer's drops and queue depth."""
        stats = self.stats
        f = FieldName
        fields: dict[str, points.FieldValue | None] = {
            f.INDICATIONS: counters.indications, f.DECISIONS: counters.decisions,
            f.BAD_INPUTS: counters.bad_inputs, f.TELEMETRY_DROPS: stats.dropped,
            f.QUEUE_DEPTH: stats.queue_depth, f.ACTIVE_UES: counters.active_ues,
            f.SUBSCRIPTIONS_ACTIVE: counters.subscriptions_active,
            f.ROUTE_TABLE_LOADED: int(counters.route_table_loaded),
            f.MODEL_LOADED: int(counters.model_loaded),
            f.CONFIG_RELOADS: counters.config_reloads,
            f.CONFIG_REJECTED: counters.config_rejected,
        }
        self._offer(points.build(HEALTH, {Tag.XAPP: self._xapp, Tag.REPLICA: self._replica},
                                 fields, self._clock_ns()))

    def record_bad_inputs(self, totals: Mapping[tuple[str, str], int]) -> None:
        """Totals by (source, reason) since start; writes the increase since the last call."""
        now = self._clock_ns()
        for (source, reason), total in sorted(totals.items()):
            delta = total - self._bad_seen.get((source, reason), 0)
            self._bad_seen[(source, reason)] = total
            if delta > 0:
                self._offer(points.build(
                    BAD_INPUT, {Tag.XAPP: self._xapp, Tag.SOURCE: source, Tag.REASON: reason},
                    {FieldName.COUNT: delta}, now))

    def record_subscription(self, e2_node: str, service_model: str, state: str,
                            indications: int) -> None:
        """A subscription's state (a ``names.SubscriptionState`` value) and indication total."""
        self._offer(points.build(
            SUBSCRIPTION, {Tag.XAPP: self._xapp, Tag.E2_NODE: e2_node,
                           Tag.SERVICE_MODEL: service_model, Tag.STATE: state},
            {FieldName.ACTIVE: int(state == "active"), FieldName.INDICATIONS: indications},
            self._clock_ns()))

    def _offer(self, point: Point) -> bool:
        return self._offer_many([point]) == 1

    def _offer_many(self, offered: Sequence[Point]) -> int:
        """Queue what the bound allows (in order), count the rest as dropped; how many."""
        with self._cond:
            room = max(self.options.queue_bound - len(self._queue), 0)
            taken = offered[:room]
            dropped = len(offered) - len(taken)
            if dropped and not self._stats.dropped:
                log.warning("telemetry queue full (%d points): dropping new points",
                            self.options.queue_bound)
            before = len(self._queue)
            self._queue.extend(taken)
            self._stats = replace(self._stats, accepted=self._stats.accepted + len(taken),
                                  dropped=self._stats.dropped + dropped)
            if before < self.options.batch_size <= len(self._queue):
                self._cond.notify_all()
            return len(taken)

    # --- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        opts = self.options
        tick = time.monotonic() + opts.flush_interval_s
        retry_at = 0.0
        backoff = opts.backoff_initial_s
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    due = self._flush_now or now >= tick \
                        or len(self._queue) >= opts.batch_size
                    if due and now >= retry_at:
                        break
                    self._cond.wait((retry_at if now < retry_at else tick) - now)
                if self._stopping:
                    break
            # While the sink fails, counts keep summing in place (a bounded dict) rather
            # than taking queue slots: they are written as one delta after recovery.
            emit_due = time.monotonic() >= tick or self._flush_now
            if emit_due and not self._stats.failing:
                self._emit_decision_counts()
            if time.monotonic() >= tick:
                tick = time.monotonic() + opts.flush_interval_s
            written = self._drain()
            if written and emit_due and self._decisions:  # held back until this recovery
                self._emit_decision_counts()
                written = self._drain()
            if written:
                backoff = opts.backoff_initial_s
                retry_at = 0.0
                with self._cond:
                    if not self._queue:
                        self._flush_now = False
                        self._cond.notify_all()
            else:
                retry_at = time.monotonic() + backoff * random.uniform(0.8, 1.2)
                backoff = min(backoff * 2, opts.backoff_max_s)
        self._emit_decision_counts()
        deadline = time.monotonic() + opts.close_timeout_s
        while time.monotonic() < deadline and self._queue and self._drain():
            pass
        self._abandon_queue()

    def _emit_decision_counts(self) -> None:
        with self._cond:
            counts, self._decisions = self._decisions, Counter()
        if not counts:
            return
        now = self._clock_ns()
        for (model, node, cell, kind, reason), count in counts.items():
            self._offer(points.build(
                DECISIONS, {Tag.XAPP: self._xapp, Tag.MODEL_VERSION: model, Tag.E2_NODE: node,
                            Tag.CELL: cell, Tag.KIND: kind, Tag.REASON: reason},
                {FieldName.COUNT: count}, now))

    def _drain(self) -> bool:
        """Write batches until the queue is empty (True) or a write fails (False)."""
        while True:
            with self._cond:
                batch = list(itertools.islice(self._queue, self.options.batch_size))
            if not batch:
                return True
            lines = [line for p in batch if (line := points.to_line(p, self.sink.precision))]
            try:
                if lines:
                    self.sink.write(lines)
            except TelemetryWriteError as exc:
                if exc.retryable:
                    self._failed(str(exc))
                    return False
                log.warning("telemetry: %s refused %d points: %s", self.sink.description,
                            len(batch), exc)
                self._take(len(batch), rejected=len(batch))
                continue
            self._take(len(batch), written=len(batch))

    def _take(self, n: int, *, written: int = 0, rejected: int = 0) -> None:
        with self._cond:
            for _ in range(n):
                self._queue.popleft()
            if self._stats.failing:
                log.info("telemetry: %s is back", self.sink.description)
            s = self._stats
            self._stats = replace(s, written=s.written + written, rejected=s.rejected + rejected,
                                  failing=False)

    def _failed(self, error: str) -> None:
        with self._cond:
            s = self._stats
            if not s.failing:
                log.warning("telemetry: writing to %s failed (%s); queueing up to %d points",
                            self.sink.description, error, self.options.queue_bound)
            self._stats = replace(s, write_failures=s.write_failures + 1, last_error=error,
                                  failing=True)

    def _abandon_queue(self) -> None:
        with self._cond:
            left = len(self._queue)
            self._queue.clear()
            if left:
                log.warning("telemetry: %d points not written at close", left)
                self._stats = replace(self._stats, dropped=self._stats.dropped + left)
            self._flush_now = False
            self._cond.notify_all()


def influx_configured(environ: Mapping[str, str]) -> bool:
    """Whether the environment names an InfluxDB (``INFLUX_URL``); else use a file."""
    return bool(environ.get("INFLUX_URL", "").strip())


def runs_file(runs_dir: Path, xapp: str, now: datetime | None = None) -> Path:
    """``runs/telemetry-<xapp>-<UTC time>.lp``: a new file per run."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return runs_dir / f"telemetry-{xapp}-{stamp}.lp"


def open_sink(influx: InfluxSettings | None, *, runs_dir: Path = Path("runs"),
              xapp: str = "linkfm", precision: Precision = "ns") -> LineSink:
    """InfluxDB when ``influx`` names a URL, else a new line-protocol file under ``runs_dir``."""
    if influx is None or not influx.url:
        return FileSink(runs_file(runs_dir, xapp), precision=precision)
    return InfluxSink(influx.url, influx.org, influx.bucket, influx.token, precision=precision)
