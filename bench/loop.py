"""``linkfm bench loop``: the xApp's decision path end to end, at a 10 ms CSI period.

For each UE count (64 UEs per simulated cell, so 64 / 256 / 1024 UEs are 1 / 4 / 16 cells)
a replaying node in another process (:mod:`bench._loop_node`) writes pre-built E2AP
RICindication frames (:mod:`bench._loop_frames`: E2SM-CSI per UE with the SRS channel
estimate every period, E2SM-KPM format 3 at the KPM period) to the xApp's pure-Python RMR
port over loopback TCP. The xApp side is the production :class:`xapp.app.LinkFmApp`:
RMR receive -> E2AP/CSI decode -> window store -> micro-batcher -> predictor (the
checkpoint's model when ``--checkpoint`` is given or the shipped checkpoint exists, else
the classical policy) -> decision policy -> recommendation encode -> RMR send to the
node's consumer -> telemetry (the writer to a line-protocol file, and the Prometheus
histogram), wired as ``linkfm xapp`` wires them. Only the subscriptions are short-cut: a
loopback Subscription Manager answers the xApp's requests with the replay's sub_ids.

Figures per UE count, after a warm-up:

- latency indication -> recommendation sent, p50/p99/max, measured two ways: from when the
  node wrote the frame (its RMR xid carries the send time; includes TCP, RMR framing and
  any queueing behind earlier indications) and from when the xApp's ingest took it (what
  ``DecisionEvent.latency_s`` and the xApp's own metrics report);
- decisions/s against the offered reports/s, the frames still unprocessed when the replay
  ended (backlog) and whether the load was kept up with;
- where the xApp's time went: perf_counter and thread CPU time around the real calls
  (exclusive times): rmr_receive (frame decoding), decode (E2AP, E2SM-CSI, KPM when
  inline), window (window store appends), ingest_other (the rest of ingest: contexts,
  report metadata), tokenize (gathering the batch's windows, and the model's tokenizer),
  model (the predictor), policy, encode (recommendation protobuf), rmr_send, telemetry
  (the sinks); as wall ms per second and shares, and as event-loop CPU microseconds per
  UE (ingest stages per report, decision stages per decision) with the CPU a report
  period of the offered load needs. On a shared machine the CPU figures are the stable
  ones; process CPU seconds per wall second says how much of a core the xApp got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import multiprocessing
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._loop_frames import UES_PER_CELL, CellFrames, build_cell, csi_sub_id, kpm_sub_id
from bench._loop_node import sent_at_ns
from bench._loop_probe import Probe, patched
from bench._timing import machine

TARGET_P99_MS = 10.0
TARGET_UES = 64
INGEST_STAGES = ("rmr_receive", "decode", "window", "ingest_other")  # per UE report
DECIDE_STAGES = ("tokenize", "model", "policy", "encode", "rmr_send", "telemetry")  # per decision
CATEGORIES = INGEST_STAGES + DECIDE_STAGES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ues", default="64,256,1024",
                        help="comma-separated UE counts (64 per cell; --quick: 64)")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="replay seconds per UE count after the warm-up "
                             "(default 10, 2 with --quick)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds")
    parser.add_argument("--period-ms", type=int, default=10, help="CSI report period")
    parser.add_argument("--kpm-period-ms", type=int, default=1000,
                        help="KPM report period (0: no KPM)")
    parser.add_argument("--steps", type=int, default=0,
                        help="distinct simulated report periods, replayed in a cycle "
                             "(default 20, 5 with --quick)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="model checkpoint folder (default: the shipped one, "
                             "model/checkpoints/linkfm-v1, else the classical policy)")
    parser.add_argument("--deadline-ms", type=float, default=5.0, help="batch deadline")
    parser.add_argument("--max-batch", type=int, default=256, help="most UEs per batch")
    parser.add_argument("--switch-interval-ms", type=float, default=0.0,
                        help="sys.setswitchinterval for the run (0: leave Python's 5 ms)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="override the predictor's torch intra-op threads (0: its own: "
                             "1 for the classical policy, 2 for the model)")
    parser.add_argument("--exit-threshold", type=float, default=None,
                        help="the model's early-exit threshold in nats (default: the xApp's "
                             "control model_exit_threshold; 0: every layer)")
    parser.add_argument("--predict-in-thread", choices=("auto", "on", "off"), default="auto",
                        help="run the predictor in a worker thread (auto: as linkfm xapp "
                             "does, the model in a thread, the classical policy inline)")
    parser.add_argument("--kpm-inline", action="store_true",
                        help="decode KPM on the event loop (RuntimeOptions.kpm_in_process off)")


# --- the predictor -----------------------------------------------------------------------------
def _in_thread(choice: str, predictor: Any) -> bool:
    from xapp.main import predicts_in_thread

    return choice == "on" or (choice == "auto" and predicts_in_thread(predictor))


def choose_predictor(checkpoint: Path | None,
                     exit_threshold: float | None = None) -> tuple[Any, str]:
    """(predictor, what it is), chosen as ``linkfm xapp`` chooses (``xapp.main.load_predictor``):
    ``checkpoint``, else the shipped one, else the classical policy.

    ``exit_threshold`` None: the xApp's default control ``model_exit_threshold``.
    """
    from model.checkpoint import SHIPPED
    from xapp.config import Controls
    from xapp.decide.predictor import ModelPredictor
    from xapp.main import load_predictor

    controls = Controls(model_checkpoint=str(checkpoint or SHIPPED))
    if exit_threshold is not None:
        controls = controls.model_copy(update={"model_exit_threshold": exit_threshold})
    predictor = load_predictor(controls)
    if isinstance(predictor, ModelPredictor):
        return predictor, (f"model checkpoint {controls.model_checkpoint}, early exit at "
                           f"{controls.model_exit_threshold:g} nats")
    return predictor, "classical policy (no usable model checkpoint)"


# --- one UE count ------------------------------------------------------------------------------
def _percentiles_ms(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": math.nan, "p99_ms": math.nan, "max_ms": math.nan}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(1e3 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(1e3 * ordered[-1], 3)}


class _LoopbackSubmgr:
    """Answers the xApp's subscription requests with the replay's sub_ids (no HTTP)."""

    def __init__(self, sub_ids: dict[tuple[str, int], int]) -> None:
        self._sub_ids = sub_ids
        self._next = 0

    async def subscribe(self, params: Any) -> Any:
        from xapp.subscription.api import SubscriptionResponse

        self._next += 1
        sub_id = self._sub_ids[(params.meid, params.ran_function_id)]
        return SubscriptionResponse.model_validate({
            "SubscriptionId": f"bench-{self._next}",
            "SubscriptionInstances": [{"XappEventInstanceId": 1,
                                       "E2EventInstanceId": sub_id}]})

    async def unsubscribe(self, subscription_id: str) -> None:
        return None


async def _measure(cells: list[CellFrames], predictor: Any, args: argparse.Namespace,
                   seconds: float, plan_dir: Path) -> dict[str, Any]:
    from xapp.app import DecisionEvent, LinkFmApp, RuntimeOptions
    from xapp.config import DEFAULT_KPM_MEASUREMENTS
    from xapp.e2 import recommendation as rec_codec
    from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
    from xapp.metrics import XappMetrics
    from xapp.rmr.frame import FrameDecoder
    from xapp.rmr.mtypes import MessageType
    from xapp.rmr.settings import RmrSettings
    from xapp.rmr.si95 import Si95Transport
    from xapp.subscriber import Subscriber, SubscriberOptions
    from xapp.subscription.api import ClientEndpoint
    from xapp.telemetry.points import InputSummary
    from xapp.telemetry.sinks import FileSink
    from xapp.telemetry.writer import TelemetryWriter

    n_ues = sum(c.n_ues for c in cells)
    meids = tuple(c.meid for c in cells)
    sub_ids = {}
    for i, meid in enumerate(meids):
        sub_ids[(meid, CSI_RAN_FUNCTION_ID)] = csi_sub_id(i)
        sub_ids[(meid, 2)] = kpm_sub_id(i)
    plan = {"csi_steps": [[f for c in cells for f in c.csi[k]] for k in range(len(cells[0].csi))],
            "kpm": [f for c in cells for f in c.kpm], "period_ms": args.period_ms,
            "kpm_period_ms": args.kpm_period_ms, "seconds": args.warmup + seconds}
    plan_path = plan_dir / f"plan-{n_ues}.pickle"
    plan_path.write_bytes(pickle.dumps(plan))

    transport = Si95Transport(RmrSettings(port=0, bind_if="127.0.0.1", src_id="127.0.0.1",
                                          ctl_port=None, async_conn=False))
    await transport.start()
    options = SubscriberOptions(
        nodes=meids, endpoint=ClientEndpoint(host="127.0.0.1", http_port=1,
                                             rmr_port=transport.port),
        kpm_period_ms=args.kpm_period_ms, kpm_measurements=DEFAULT_KPM_MEASUREMENTS,
        csi_period_ms=args.period_ms, silence_periods=1000)
    subscriber = Subscriber(_LoopbackSubmgr(sub_ids), options)  # type: ignore[arg-type]
    app = LinkFmApp(transport, subscriber, predictor, RuntimeOptions(
        deadline_s=args.deadline_ms / 1000, max_batch=args.max_batch, inactivity_s=60.0,
        a1_query=False, kpm_in_process=not args.kpm_inline,
        predict_in_thread=_in_thread(args.predict_in_thread, predictor)))
    writer = TelemetryWriter(FileSink(plan_dir / f"telemetry-{n_ues}.lp")).start()
    metrics = XappMetrics()
    probe = Probe()

    latencies: list[float] = []  # ingest -> sent
    from_send: list[float] = []  # node wrote the frame -> sent
    sent_at: dict[Any, float] = {}
    window_open = [math.inf, math.inf]  # measured events: done within [start, end)
    frames_handled = [0]

    def record(event: DecisionEvent) -> None:  # the benchmark's own sink: not timed
        done = event.inputs.received_at + event.latency_s
        if window_open[0] <= done < window_open[1]:
            latencies.append(event.latency_s)
            key_sent = sent_at.get((event.recommendation.e2_node, event.recommendation.ue_id))
            if key_sent is not None:
                from_send.append(done - key_sent)

    def telemetry(events: Sequence[DecisionEvent]) -> None:  # what xapp.main attaches
        writer.record_decisions([(e.recommendation, e.latency_s,
                                  InputSummary(e.inputs.sinr_db, e.inputs.wideband_cqi))
                                 for e in events])
        metrics.observe_decisions((e.recommendation, e.latency_s) for e in events)

    app.batch_sinks.append(probe.wrap("telemetry", telemetry))
    app.sinks.append(record)
    app.cycle_sinks.append(probe.wrap("telemetry", lambda c: writer.record_cycle(
        c.e2_node, c.model_version, c.sequence, c.batch_size, c.predict_s, c.latency_s)))

    pauses: list[tuple[int, float]] = []  # (generation, seconds) of collections measured
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif window_open[0] <= time.monotonic() < window_open[1]:
            pauses.append((info["generation"], time.perf_counter() - gc_started[0]))

    handle = app.ingest.handle

    def ingest(msg: Any, source: Any) -> Any:
        changed = handle(msg, source)
        frames_handled[0] += 1
        node_sent = sent_at_ns(msg.xid) / 1e9
        for key in changed:
            sent_at[(key.meid, key.ue_id)] = node_sent
        return changed

    import xapp.decide.predictor as predictor_module
    import xapp.ingest.pipeline as pipeline
    from model.tokenize import tokenize

    with contextlib.ExitStack() as patches:
        for module, name in ((pipeline, "decode_ric_indication"), (pipeline, "decode_csi"),
                             (pipeline, "decode_kpm")):
            patches.enter_context(patched(module, name,
                                          probe.wrap("decode", getattr(module, name))))
        patches.enter_context(patched(predictor_module, "tokenize",
                                      probe.wrap("tokenize", tokenize)))
        patches.enter_context(patched(rec_codec, "encode_batch",
                                      probe.wrap("encode", rec_codec.encode_batch)))
        patches.enter_context(patched(FrameDecoder, "feed",
                                      probe.wrap("rmr_receive", FrameDecoder.feed)))
        app.ingest.handle = probe.wrap("ingest_other", ingest)  # type: ignore[method-assign]
        for name in ("add_csi", "add_csi_batch", "add_kpm"):
            setattr(app.store, name, probe.wrap("window", getattr(app.store, name)))
        app.store.windows = probe.wrap("tokenize", app.store.windows)  # type: ignore[method-assign]
        app.predictor = _TimedPredictor(predictor, probe)
        app.decision.decide = probe.wrap("policy", app.decision.decide)  # type: ignore[method-assign]
        transport.send = probe.wrap_async("rmr_send", transport.send)  # type: ignore[method-assign]

        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        from bench import _loop_node

        node = context.Process(target=_loop_node.serve, args=(theirs, str(plan_path)),
                               daemon=True)
        node.start()
        try:
            _, consumer_port = await asyncio.to_thread(ours.recv)
            transport.load_routes(
                "newrt|start\n"
                f"mse|{MessageType.LINKFM_RECOMMENDATION}|-1|127.0.0.1:{consumer_port}\n"
                "newrt|end\n")
            gc.freeze()  # as xapp.main.serve does before it starts the app
            gc.callbacks.append(on_gc)
            await app.start()
            while not subscriber.all_active:
                await asyncio.sleep(0.01)
            start_at = time.monotonic() + 0.2
            window_open[0] = start_at + args.warmup
            window_open[1] = start_at + args.warmup + seconds
            ours.send(("go", transport.port, start_at))
            await asyncio.sleep(max(0.0, window_open[0] - time.monotonic()))
            probe.reset()
            cpu0, wall0 = time.process_time(), time.monotonic()
            reports0 = app.ingest.reports
            _, sent = await asyncio.to_thread(ours.recv)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            spent, spent_cpu = dict(probe.spent), dict(probe.cpu)
            reports = app.ingest.reports - reports0
            backlog = sent["frames"] - frames_handled[0]
            pending = app.batcher.pending
            drained = time.monotonic()
            while (frames_handled[0] < sent["frames"] or app.batcher.pending) \
                    and time.monotonic() - drained < 10.0:
                await asyncio.sleep(0.01)
            drain_s = time.monotonic() - drained
            await asyncio.sleep(0.1)  # the consumer reads the last batches
            ours.send(("stop",))
            _, received = await asyncio.to_thread(ours.recv)
            bad_inputs = app.bad.total  # before stopping: frames still queued then are not ours
        finally:
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(on_gc)
            node.join(timeout=10)
            if node.is_alive():
                node.kill()
            await app.stop()
            await asyncio.to_thread(writer.close)
            await transport.close()
    stats = writer.stats
    offered = n_ues * 1000 / args.period_ms
    decisions_per_s = len(latencies) / seconds
    frames_per_period = sum(len(c.csi[0]) for c in cells)
    busy = sum(spent.values())
    # Event-loop CPU per UE: ingest stages per report ingested, decision stages per decision
    # (under overload one decision covers several reports of a UE).
    per_ue = {c: round(1e6 * spent_cpu.get(c, 0.0) / max(
        reports if c in INGEST_STAGES else len(latencies), 1), 1) for c in CATEGORIES}
    return {
        "ues": n_ues, "cells": len(cells), "measured_s": seconds,
        "latency_from_node_send": _percentiles_ms(from_send),
        "latency_from_ingest": _percentiles_ms(latencies),
        "decisions": len(latencies),
        "decisions_per_s": round(decisions_per_s, 1),
        "offered_reports_per_s": offered,
        "backlog_frames_at_end": backlog, "pending_ues_at_end": pending,
        "drain_s": round(drain_s, 3),
        "kept_up": backlog <= frames_per_period and decisions_per_s >= 0.95 * offered
        and not sent["dropped_frames"],
        "node": {"frames_sent": sent["frames"], "csi_frames": sent["csi_frames"],
                 "kpm_frames": sent["kpm_frames"],
                 "frames_dropped_xapp_behind": sent["dropped_frames"],
                 "send_lag_p50_ms": round(sent["send_lag_p50_ms"], 3),
                 "send_lag_max_ms": round(sent["send_lag_max_ms"], 3),
                 "recommendation_batches_received": received},
        "cpu_s_per_wall_s": round(cpu / wall, 3),
        "time_ms_per_s": {c: round(1e3 * spent.get(c, 0.0) / wall, 2) for c in CATEGORIES},
        "time_share": {c: round(spent.get(c, 0.0) / busy, 3) if busy else 0.0
                       for c in CATEGORIES},
        "ue_reports_ingested": reports,
        "cpu_us_per_ue": per_ue,
        "cpu_ms_per_period_at_offered_load": round(n_ues * sum(per_ue.values()) / 1e3, 2),
        "gc_pauses": {"count": len(pauses),
                      "oldest_generation": sum(g == 2 for g, _ in pauses),
                      "total_ms": round(1e3 * sum(p for _, p in pauses), 2),
                      "max_ms": round(1e3 * max((p for _, p in pauses), default=0.0), 2)},
        "batches": app.batcher.counters.batches,
        "mean_batch": round(app.batcher.counters.items / max(app.batcher.counters.batches, 1),
                            1),
        "bad_inputs": bad_inputs,
        "kpm_decoded_in_worker": app.kpm_worker.decoded if app.kpm_worker else 0,
        "telemetry": {"written": stats.written, "dropped": stats.dropped},
    }


class _TimedPredictor:
    """The predictor with ``predict`` timed as ``model`` (tokenize inside it as window)."""

    def __init__(self, inner: Any, probe: Probe) -> None:
        self._inner = inner
        self.predict = probe.wrap("model", inner.predict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from xapp.config import DEFAULT_KPM_MEASUREMENTS

    quick = bool(args.quick)
    ue_counts = [64] if quick and args.ues == "64,256,1024" else \
        [int(u) for u in str(args.ues).split(",") if u.strip()]
    seconds = args.seconds or (2.0 if quick else 10.0)
    warmup = args.warmup if not quick or args.warmup != 1.0 else 0.5
    args.warmup = warmup
    steps = args.steps or (5 if quick else 20)
    if args.switch_interval_ms > 0:
        sys.setswitchinterval(args.switch_interval_ms / 1000)
    cells_needed = max(math.ceil(n / UES_PER_CELL) for n in ue_counts)
    started = time.perf_counter()
    cells = []
    for i in range(cells_needed):
        in_cell = min(UES_PER_CELL, max(ue_counts) - i * UES_PER_CELL)
        cells.append(build_cell(i, in_cell, steps, args.period_ms, args.kpm_period_ms,
                                DEFAULT_KPM_MEASUREMENTS))
    build_s = time.perf_counter() - started
    # After the simulator (which sets torch's threads for itself): the predictor sets its own.
    predictor, what = choose_predictor(args.checkpoint, args.exit_threshold)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    results = []
    with tempfile.TemporaryDirectory(prefix="linkfm-bench-loop-") as tmp:
        for n in ue_counts:
            chosen = _cells_for(cells, n)
            results.append(asyncio.run(_measure(chosen, predictor, args, seconds, Path(tmp))))
    at_target = next((r for r in results if r["ues"] == TARGET_UES), None)
    p99 = None if at_target is None else at_target["latency_from_node_send"]["p99_ms"]
    return {
        "benchmark": "loop", "quick": quick, "machine": machine(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "predictor": what, "model_version": predictor.version,
        "predict_in_thread": _in_thread(args.predict_in_thread, predictor),
        "torch_threads": torch.get_num_threads(),
        "csi_period_ms": args.period_ms, "kpm_period_ms": args.kpm_period_ms,
        "ues_per_cell": UES_PER_CELL, "distinct_steps": steps, "warmup_s": warmup,
        "batch_deadline_ms": args.deadline_ms, "max_batch": args.max_batch,
        "kpm_decoding": "event loop" if args.kpm_inline else "worker process",
        "gil_switch_interval_ms": round(sys.getswitchinterval() * 1e3, 3),
        "frame_build_s": round(build_s, 2),
        "csi_indication_bytes": len(cells[0].csi[0][0]),
        "target": {"p99_ms_below": TARGET_P99_MS, "ues": TARGET_UES,
                   "measured_p99_ms": p99,
                   "met": None if p99 is None else bool(p99 < TARGET_P99_MS)},
        "runs": results,
    }


def _cells_for(cells: list[CellFrames], n_ues: int) -> list[CellFrames]:
    """The first cells holding ``n_ues`` UEs (the last one trimmed to its share)."""
    out, left = [], n_ues
    for cell in cells:
        if left <= 0:
            break
        if cell.n_ues > left:
            raise ValueError(f"--ues {n_ues}: use multiples of {UES_PER_CELL} "
                             f"(or a single count up to {UES_PER_CELL})")
        out.append(cell)
        left -= cell.n_ues
    return out
