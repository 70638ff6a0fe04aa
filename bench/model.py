"""``linkfm bench model``: LinkFM inference speed on CPU, as JSON (issue 4, point 8).

All on ``--threads`` intra-op threads (2 by default), in one run:
- ``matmul_peak``: the machine's float32 peak, the best GFLOP/s of torch.mm over a few square
  and model-shaped GEMMs, measured in this run so the achieved fractions compare like with like;
- ``flops_per_window``: torch's FlopCounterMode over one inference pass, and the analytic count
  of model.flops as a cross-check (matrix products only, padding included);
- ``float32``: per batch (1, 64, 256) windows/s, latency p50/p99 per forward, achieved GFLOP/s
  and the fraction of the peak; ``tokenize``: the tokenizer's share of tokenize + forward;
- ``early_exit``: a few entropy thresholds: share of windows leaving at each exit, speed-up,
  FLOPs and agreement (rank, beam) with the full pass;
- ``int8``: model.quantize's dynamic int8 copy, the same figures and agreement with float32;
- ``target``: 6,400 windows/s (one 64-UE cell every 10 ms) at >= 40 % of the peak, met or not;
- ``sweep`` (``--sweep``): other configs, to show which would meet both halves of the target.

Windows are synthetic (model.synthetic) or, with ``--data DIR``, rows of dataset shards; the
model is ``--checkpoint DIR``, else the newest checkpoint under model/checkpoints/, else a
fresh default config (``--fresh`` forces that).
On a shared machine the median counts other people's work: ``*_best`` (the fastest pass) and
``*_cpu_estimate`` (batch x threads / CPU seconds, see bench._inference_timing) estimate
dedicated cores; all are reported, with the load average before and after. Run it with
OMP_WAIT_POLICY=PASSIVE there: threads that spin while their partner is descheduled burn
CPU and stretch every operator several-fold.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

import model as model_package
from bench._inference_timing import (
    figures,
    interleaved,
    matmul_peak,
    speedup,
    tokenize_share,
)
from bench._timing import machine
from model.checkpoint import load_checkpoint
from model.data import WindowSet, load_windows, stats_of
from model.flops import analytic_flops, counted_flops, encoder_tokens
from model.network import LinkFM, LinkFMConfig
from model.quantize import quantize_int8
from model.registry import NormaliserStats
from model.synthetic import synthetic_windows
from model.tokenize import TokenBatch, Windows, tokenize

TARGET_WINDOWS_PER_S = 6400  # 64 UEs every 10 ms
TARGET_PEAK_FRACTION = 0.4
TARGET_BATCH = 64
CHECKPOINTS = Path(model_package.__file__).parent / "checkpoints"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="checkpoint folder (default: newest under model/checkpoints/)")
    parser.add_argument("--fresh", action="store_true",
                        help="benchmark a fresh default-config model, ignoring checkpoints")
    parser.add_argument("--data", type=Path, default=None,
                        help="time windows of this dataset folder (default: synthetic ones)")
    parser.add_argument("--data-shards", type=int, default=2, help="shards read from --data")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256],
                        help="windows per forward pass")
    parser.add_argument("--thresholds", type=float, nargs="+", default=None,
                        help="early-exit entropy thresholds in nats (default: the first "
                        "exit's 25/50/90 %% entropy quantiles on the windows, and inf)")
    parser.add_argument("--seconds", type=float, default=1.5,
                        help="timed seconds per measurement (--quick: 0.1)")
    parser.add_argument("--sweep", action="store_true",
                        help="also time other configs against the target (slow)")


# ---------------------------------------------------------------- model and windows
def latest_checkpoint(root: Path = CHECKPOINTS) -> Path | None:
    """The checkpoint folder under ``root`` whose manifest is newest, if any."""
    manifests = sorted(root.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    return manifests[-1].parent if manifests else None


def load_model(checkpoint: Path | None, fresh: bool) -> tuple[LinkFM, NormaliserStats | None, str]:
    """(model in eval mode, its normaliser statistics or None, where it came from)."""
    path = None if fresh else checkpoint or latest_checkpoint()
    if path is None:
        torch.manual_seed(0)
        return LinkFM(LinkFMConfig()).eval(), None, "fresh default config"
    ckpt = load_checkpoint(path)
    return ckpt.model.eval(), ckpt.stats, str(path)


class WindowSource:
    """Windows to time: synthetic ones (model.synthetic), or rows of dataset shards.

    Args:
        net: the model (its registry, slots and matrix slots shape the windows).
        stats: normaliser statistics (a checkpoint's); None: the dataset's, or fitted on
            each synthetic draw.
        data: a dataset folder (``linkfm dataset``); None: synthetic windows.
        max_shards: shards read from ``data``.
    """

    def __init__(self, net: LinkFM, stats: NormaliserStats | None, data: Path | None = None,
                 max_shards: int = 2) -> None:
        self.net, self.stats = net, stats
        self.rows: WindowSet | None = None
        self.name = "synthetic (model.synthetic)"
        if data is not None:
            cfg = net.cfg
            self.rows = load_windows(data, n_slots=cfg.n_slots, matrix_slots=cfg.matrix_slots,
                                     max_shards=max_shards, registry=net.registry)
            self.stats = stats or stats_of(data, net.registry)
            self.name = f"{data} ({max_shards} shards, {len(self.rows)} windows)"

    def draw(self, batch: int, seed: int = 0) -> tuple[Windows, NormaliserStats, TokenBatch]:
        """``batch`` windows (a fixed draw per seed), their statistics and tokens."""
        gen = torch.Generator().manual_seed(seed)
        if self.rows is None:
            windows = synthetic_windows(self.net.registry, batch, self.net.cfg.n_slots, gen)[0]
        else:  # with replacement: a small dataset still fills a large batch
            idx = torch.randint(0, len(self.rows), (batch,), generator=gen)
            windows = self.rows.windows_at(idx)
        stats = self.stats or self.net.registry.fit_stats(windows)
        return windows, stats, tokenize(windows, self.net.layout, stats)


def agreement(a: LinkFM, b: LinkFM, tokens: TokenBatch, a_threshold: float = 0.0,
              b_threshold: float = 0.0) -> dict[str, float]:
    """Share of windows where two passes pick the same rank and the same top beam."""
    with torch.inference_mode():
        ha = a(tokens, exit_threshold=a_threshold).heads
        hb = b(tokens, exit_threshold=b_threshold).heads
    return {
        "rank_agreement": round(float((ha.rank() == hb.rank()).float().mean()), 4),
        "beam_top1_agreement": round(
            float((ha.beam_logits.argmax(-1) == hb.beam_logits.argmax(-1)).float().mean()), 4),
    }


# ---------------------------------------------------------------- sections
def default_thresholds(net: LinkFM, tokens: TokenBatch) -> list[float]:
    """Entropy quantiles at the first exit (about 25/50/90 % leave there), and inf (all)."""
    with torch.inference_mode():
        first = net(tokens, reconstruct=False).exits[0].confidence()
    q = torch.quantile(first, torch.tensor([0.25, 0.5, 0.9]))
    return [round(float(x), 4) for x in q] + [math.inf]


def exit_row(net: LinkFM, tokens: TokenBatch, threshold: float) -> dict[str, Any]:
    """Where windows leave at ``threshold``, FLOPs then, and agreement with the full pass."""
    with torch.inference_mode():
        layers = net(tokens, exit_threshold=threshold).exit_layer
    assert layers is not None
    n_layers = net.cfg.n_layers
    return {
        "threshold_nats": threshold if math.isfinite(threshold) else "inf",
        "early_exit_share": round(float((layers < n_layers).float().mean()), 4),
        "exit_layer_share": {str(i): round(float((layers == i).float().mean()), 4)
                             for i in (*net.cfg.early_exit_layers, n_layers)},
        "flops_per_window": counted_flops(net, tokens, threshold)[0],
        **agreement(net, net, tokens, 0.0, threshold),
    }


def verdict(fig: dict[str, Any]) -> dict[str, Any]:
    """Both halves of the target for one variant: on median, best and CPU-estimate figures."""
    out: dict[str, Any] = {}
    for kind in ("", "_best", "_cpu_estimate"):
        fast = fig[f"windows_per_s{kind}"]
        out[f"windows_per_s{kind}"] = fast
        out[f"throughput_met{kind}"] = fast >= TARGET_WINDOWS_PER_S
        if f"peak_fraction{kind}" in fig:
            frac = fig[f"peak_fraction{kind}"]
            out[f"peak_fraction{kind}"] = frac
            out[f"peak_fraction_met{kind}"] = frac >= TARGET_PEAK_FRACTION
            out[f"met{kind}"] = fast >= TARGET_WINDOWS_PER_S and frac >= TARGET_PEAK_FRACTION
    return out


def target_section(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    verdicts = {name: verdict(fig) for name, fig in variants.items()}
    return {
        "windows_per_s": TARGET_WINDOWS_PER_S,
        "peak_fraction": TARGET_PEAK_FRACTION,
        "batch": TARGET_BATCH,
        "period_ms": 1e3 * TARGET_BATCH / TARGET_WINDOWS_PER_S,
        "variants": verdicts,
        **{f"met{k}": any(v.get(f"met{k}", False) for v in verdicts.values())
           for k in ("", "_best", "_cpu_estimate")},
    }


# changes to the default config: wider tokens raise the matmul share, one head halves the
# softmax work, wider patches cut the channel-estimate tokens
SWEEP: tuple[dict[str, Any], ...] = (
    {},
    {"n_heads": 1},
    {"d_model": 48},
    {"d_model": 64},
    {"d_model": 64, "n_heads": 1},
    {"d_model": 64, "n_heads": 1, "patch_subbands": 16},
    {"d_model": 64, "mlp_ratio": 4},
    {"d_model": 96},
    {"d_model": 128},
    {"d_model": 128, "n_layers": 2, "early_exit_layers": (1,)},
)


def sweep_section(seconds: float, peak: dict[str, Any]) -> list[dict[str, Any]]:
    """Fresh models of other sizes at the target batch: which would meet both halves."""
    rows: list[dict[str, Any]] = []
    nets: list[tuple[LinkFM, TokenBatch]] = []
    fns: dict[str, Callable[[], Any]] = {}
    for i, change in enumerate(SWEEP):
        torch.manual_seed(0)
        net = LinkFM(replace(LinkFMConfig(), **change)).eval()
        tb = WindowSource(net, None).draw(TARGET_BATCH)[2]
        nets.append((net, tb))
        fns[str(i)] = partial(net, tb, exit_threshold=0.0)
    with torch.inference_mode():
        times = interleaved(fns, seconds)
    for i, (change, (net, tb)) in enumerate(zip(SWEEP, nets, strict=True)):
        flops = counted_flops(net, tb)[0]
        fig = figures(times[str(i)], TARGET_BATCH, flops, peak)
        rows.append({"change": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in change.items()},
                     "parameters": net.num_parameters(),
                     "tokens_per_window": net.layout.n_tokens + 1,
                     "flops_per_window": flops, **fig,
                     **{k: v for k, v in verdict(fig).items() if "met" in k}})
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with torch.inference_mode():
            return _run(args)
    finally:
        torch.set_num_threads(previous)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    seconds = 0.1 if args.quick else args.seconds
    min_calls = 3 if args.quick else 10
    load_before = os.getloadavg()
    net, stats, model_source = load_model(args.checkpoint, args.fresh)
    q = quantize_int8(net)
    cfg, n_tokens = net.cfg, net.layout.n_tokens + 1
    batches = sorted(set(args.batches))
    exit_batch = TARGET_BATCH if TARGET_BATCH in batches else batches[-1]
    progress = tqdm(total=3 + len(batches) + bool(args.sweep), desc="bench model", leave=False)

    peak = matmul_peak(seconds, (TARGET_BATCH * n_tokens, cfg.d_model, 3 * cfg.d_model))
    progress.update()

    source = WindowSource(net, stats, args.data, 1 if args.quick else args.data_shards)
    probe = source.draw(256, seed=1)[2]
    counted, by_op = counted_flops(net, probe)
    n_encoder = encoder_tokens(probe)
    analytic = analytic_flops(cfg, net.layout, n_encoder)
    flops = {"counted": counted, "analytic": analytic["total"],
             "relative_difference": round(abs(counted - analytic["total"]) / counted, 6),
             "counted_by_op": by_op, "analytic_by_part": analytic,
             "probe_batch": probe.batch_size, "tokens_in_encoder": n_encoder}
    thresholds = args.thresholds or default_thresholds(net, probe)
    progress.update()

    float32: dict[str, Any] = {}
    int8: dict[str, Any] = {}
    tok: dict[str, Any] = {}
    exits: list[dict[str, Any]] = []
    for batch in batches:
        windows, st, tb = source.draw(batch, seed=batch)
        fns: dict[str, Callable[[], Any]] = {
            "float32": partial(net, tb, exit_threshold=0.0),
            "int8": partial(q, tb, exit_threshold=0.0),
            "tokenize": partial(tokenize, windows, net.layout, st),
        }
        rows = [exit_row(net, tb, thr) for thr in thresholds] if batch == exit_batch else []
        for i, thr in enumerate(thresholds if rows else []):
            fns[f"exit{i}"] = partial(net, tb, exit_threshold=thr)
        times = interleaved(fns, seconds, min_calls)
        key = str(batch)
        batch_flops = counted_flops(net, tb)[0]  # this batch's tokens enter the encoder
        float32[key] = figures(times["float32"], batch, batch_flops, peak)
        int8[key] = figures(times["int8"], batch, batch_flops, peak)
        int8[key].update(speedup(int8[key], float32[key]))
        tok[key] = tokenize_share(times["tokenize"], times["float32"], batch)
        for i, row in enumerate(rows):
            row.update(figures(times[f"exit{i}"], batch, row["flops_per_window"], peak))
            row.update(speedup(row, float32[key]))
            exits.append(row)
        progress.update()
    int8["agreement_with_float32"] = agreement(net, q, probe)
    int8["flops_note"] = "fp32-equivalent FLOPs: the same products, done as int8 GEMMs"

    variants: dict[str, dict[str, Any]] = {}
    if str(TARGET_BATCH) in float32:
        key = str(TARGET_BATCH)
        variants = {"float32": float32[key], "int8": int8[key],
                    "float32_with_tokenize": tok[key]}
        variants.update({f"early_exit_{row['threshold_nats']}": row for row in exits})
    result: dict[str, Any] = {
        "benchmark": "model",
        "quick": bool(args.quick),
        "threads": args.threads,
        "machine": {**machine(), "load_avg_before": [round(x, 2) for x in load_before],
                    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: active)")},
        "model": {"source": model_source, "config": cfg.to_dict(),
                  "parameters": net.num_parameters(), "tokens_per_window": n_tokens},
        "windows": source.name,
        "matmul_peak": peak,
        "flops_per_window": flops,
        "float32": float32,
        "tokenize": tok,
        "early_exit": {"batch": exit_batch, "thresholds": exits},
        "int8": int8,
        "target": target_section(variants),
    }
    progress.update()
    if args.sweep:
        result["sweep"] = sweep_section(seconds, peak)
        progress.update()
    progress.close()
    result["machine"]["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(summary(result), file=sys.stderr)
    return result


def summary(result: dict[str, Any]) -> str:
    """A few lines for people: the target's verdict per variant at the target batch."""
    lines = [f"linkfm bench model: {result['threads']} threads, load "
             f"{result['machine']['load_avg_before'][0]}, peak "
             f"{result['matmul_peak']['best_gflops']} GFLOP/s (wall) / "
             f"{result['matmul_peak']['best_gflops_cpu_estimate']} (CPU time)"]
    for name, v in result["target"]["variants"].items():
        frac = v.get("peak_fraction_cpu_estimate")
        lines.append(f"  {name:24s} {v['windows_per_s']:>9.0f} windows/s median, "
                     f"{v['windows_per_s_cpu_estimate']:>9.0f} CPU-time estimate"
                     + (f", {100 * frac:.0f} % of peak" if frac is not None else ""))
    t = result["target"]
    lines.append(f"  target {t['windows_per_s']} windows/s at >= {100 * t['peak_fraction']:.0f} %"
                 f" of peak: met={t['met']} met_cpu_estimate={t['met_cpu_estimate']}")
    return "\n".join(lines)
