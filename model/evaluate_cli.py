"""`linkfm evaluate`: the model against every baseline, written as report.json + PNGs.

    linkfm evaluate --checkpoint DIR [--scratch DIR] [--fewshot "1=DIR,5=DIR,..."]
        [--fewshot-scratch "..."] --data /work/data/test [--ood /work/data/ood] --out DIR
        [--horizons 5,10,20] [--max-samples N]

Writes ``report.json`` (model.eval_report), the figures of model.eval_plots and
``summary.md`` (also printed). See model.evaluate for what is scored and how.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from tqdm import tqdm

from model.baselines import SNR_THRESHOLDS_DB, fit_snr_thresholds
from model.checkpoint import load_checkpoint
from model.data import shard_paths
from model.eval_plots import write_all
from model.eval_report import build_report, summary_markdown
from model.evaluate import ModelRun, describe, evaluate_splits, finite, model_windows
from model.flops import analytic_flops
from model.network import LinkFM
from model.quantize import quantize_int8
from model.registry import NormaliserStats
from model.tokenize import tokenize


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="the model to evaluate")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="the same network trained from scratch on labels only")
    parser.add_argument("--fewshot", default="",
                        help='pretrained + fine-tuned on a share of labels: "1=DIR,5=DIR,..."')
    parser.add_argument("--fewshot-scratch", default="",
                        help='trained from scratch on a share of labels: "1=DIR,...,100=DIR"')
    parser.add_argument("--data", type=Path, required=True, help="held-out drops (split test)")
    parser.add_argument("--ood", type=Path, default=None, help="held-out families (split ood)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--horizons", default="5,10,20", help="horizons in ms, comma-separated")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="score about this many windows per split (an even share of "
                             "every shard); default: all")
    parser.add_argument("--exit-thresholds", default="0.5,1,2,3",
                        help="early-exit entropy thresholds (nats) to sweep; empty: none")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 comparison")
    parser.add_argument("--fit-snr", type=Path, default=None,
                        help="fit the SNR-rule thresholds on this training folder (10 ms "
                             "labels) instead of the documented constants")
    parser.add_argument("--speed-seconds", type=float, default=2.0,
                        help="time spent measuring throughput (0: skip)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for scoring (the search and the small "
                             "model are many small ops: on a loaded machine more threads "
                             "only spin)")
    parser.add_argument("--speed-threads", type=int, default=2,
                        help="threads for the throughput measurement (the target's 2 cores)")


def parse_fewshot(text: str) -> dict[int, Path]:
    """'1=DIR,5=DIR' -> {1: DIR, 5: DIR}; raises ValueError naming a bad item."""
    out: dict[int, Path] = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        pct, sep, path = item.partition("=")
        if not sep or not pct.strip().isdigit() or not path.strip():
            raise ValueError(f"few-shot item {item!r} is not PERCENT=DIR")
        out[int(pct)] = Path(path.strip())
    return out


def fit_thresholds(folder: Path) -> tuple[float, ...]:
    """SNR-rule thresholds fitted on every shard of ``folder`` (last SINR, 10 ms rank)."""
    sinr, ri = [], []
    for path in tqdm(shard_paths([folder]), desc="fitting SNR thresholds", unit="shard"):
        with safe_open(str(path), framework="pt") as f:
            ok = f.get_tensor("m.csi.sinr_db")[:, -1]
            sinr.append(torch.where(ok, f.get_tensor("x.csi.sinr_db")[:, -1], float("nan")))
            ri.append(f.get_tensor("y.10ms.ri"))
    return fit_snr_thresholds(torch.cat(sinr), torch.cat(ri))


def measure_speed(net: LinkFM, stats: NormaliserStats, data: Path, seconds: float
                  ) -> dict[str, Any]:
    """Forward passes of 64 real test windows (10 ms) on the current threads, and a matmul
    peak measured alongside: windows/s and the achieved share of the peak."""
    from e2sim.dataset import load_shard

    tensors, _ = load_shard(shard_paths([data])[0])
    tensors = {k: v[:64] for k, v in tensors.items()}
    tokens = tokenize(model_windows(tensors, net, 10.0), net.layout, stats)
    batch = tokens.batch_size

    def timed(fn: Any) -> list[float]:
        for _ in range(3):
            fn()
        out: list[float] = []
        stop = time.perf_counter() + seconds / 2
        while time.perf_counter() < stop or len(out) < 5:
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return out

    with torch.inference_mode():
        passes = timed(lambda: net(tokens, exit_threshold=0.0))
        a = torch.randn(512, 512)
        mm = timed(lambda: a @ a)
    flops = analytic_flops(net.cfg, net.layout)["total"]
    peak = 2 * 512**3 / min(mm) / 1e9
    best = batch / min(passes)
    return {"batch": batch, "threads": torch.get_num_threads(),
            "windows_per_s_best": best,
            "windows_per_s_median": batch / sorted(passes)[len(passes) // 2],
            "flops_per_window": flops, "peak_gflops": peak,
            "peak_fraction_best": best * flops / 1e9 / peak}


def build_runs(args: argparse.Namespace, exit_thresholds: list[float]
               ) -> tuple[list[ModelRun], list[str], dict[str, dict[int, str]]]:
    """The model runs, the main methods' names and the few-shot names by kind."""
    ckpt = load_checkpoint(args.checkpoint)
    runs = [ModelRun("model", ckpt.model, ckpt.stats, exit_sweep=tuple(exit_thresholds))]
    if args.scratch is not None:
        s = load_checkpoint(args.scratch)
        runs.append(ModelRun("scratch", s.model, s.stats))
    if not args.no_int8:
        runs.append(ModelRun("model-int8", quantize_int8(ckpt.model), ckpt.stats, main=False))
    fewshot: dict[str, dict[int, str]] = {}
    for kind, text in (("pretrained", args.fewshot), ("scratch", args.fewshot_scratch)):
        for pct, path in parse_fewshot(text).items():
            c = load_checkpoint(path)
            runs.append(ModelRun(f"fewshot-{kind}-{pct}", c.model, c.stats, main=False))
            fewshot.setdefault(kind, {})[pct] = str(path)
    main = ["oracle", "model", *(["scratch"] if args.scratch else []), "ar-search", "search",
            "snr-rule", "mode", "persistence"]
    return runs, main, fewshot


def main(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    horizons = [float(h) for h in args.horizons.split(",") if h.strip()]
    exits = [float(t) for t in args.exit_thresholds.split(",") if t.strip()]
    try:
        runs, main_methods, fewshot = build_runs(args, exits)
    except (ValueError, OSError) as exc:
        print(f"linkfm evaluate: {exc}", file=sys.stderr)
        return 2
    thresholds = fit_thresholds(args.fit_snr) if args.fit_snr else SNR_THRESHOLDS_DB
    splits = {"test": shard_paths([args.data])}
    if args.ood is not None:
        splits["ood"] = shard_paths([args.ood])

    def bar(split: str, n: int) -> Any:
        return lambda items: tqdm(items, total=n, desc=f"evaluating {split}", unit="shard")

    collected = evaluate_splits(splits, horizons, runs, args.max_samples, bar, thresholds)
    speed = None
    if args.speed_seconds > 0:
        torch.set_num_threads(args.speed_threads)
        speed = measure_speed(runs[0].model, runs[0].stats, args.data, args.speed_seconds)
        torch.set_num_threads(args.threads)
    report = build_report(collected, main_methods, runs, fewshot, exits, speed)
    report["config"] = {
        "checkpoint": str(args.checkpoint), "scratch": str(args.scratch) if args.scratch
        else None, "fewshot": fewshot, "data": str(args.data),
        "ood": str(args.ood) if args.ood else None, "max_samples": args.max_samples,
        "exit_thresholds": exits, "threads": args.threads,
        "speed_threads": args.speed_threads,
        "baselines": {**describe(), "snr_thresholds_db": list(thresholds),
                      "snr_thresholds_fitted_on": str(args.fit_snr) if args.fit_snr else None},
        "model_parameters": runs[0].model.num_parameters(),
        "seconds": round(time.perf_counter() - t_start, 1)}
    report["speed"] = speed
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(finite(report), indent=1, sort_keys=True))
    figures = write_all(report, args.out)
    summary = summary_markdown(report)
    (args.out / "summary.md").write_text(summary)
    print(summary)
    print(f"wrote {args.out / 'report.json'}, {args.out / 'summary.md'} and "
          f"{len(figures)} figures in {report['config']['seconds']} s")
    return 0
