"""``linkfm dataset``: write shards of UE windows with oracle labels, and a manifest.

Shards are independent (one seed each, derived from ``--seed`` and the shard index), so
``--workers N`` builds N at a time in separate processes with one torch thread each; the
output does not depend on the worker count. Shard i draws from family i mod F of the
chosen families. ``manifest.json`` lists the families (with the held-out ones named),
the shards, sample counts, per-feature mean/std (masked entries only, in the registry
normaliser's domain: log1p for ``log_zscore`` features; rms for the complex channel
estimate) also as ``normaliser_stats`` for ``model.registry.NormaliserStats.from_dict``,
class histograms of categorical features and labels, and the persistence baseline per
horizon (see `e2sim.dataset` for the shard format).

Examples::

    linkfm dataset --out data/train --shards 16 --workers 2            # default training mix
    linkfm dataset --out data/ood --families held-out --shards 6 --seed 7
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from e2sim.dataset import (
    DEFAULT_TRAINING_MIX,
    FAMILIES,
    FAMILY_BY_NAME,
    FAMILY_ID,
    FORMAT,
    HELD_OUT,
    LABELS,
    ShardSpec,
    write_shard,
)
from model.registry import FeatureKind, FeatureRegistry, Normaliser

Stats = dict[str, Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--shards", type=int, default=8, help="number of shards")
    parser.add_argument("--ues", type=int, default=16, help="UEs per shard (one cell)")
    parser.add_argument("--reports", type=int, default=100, help="CSI reports per UE per shard")
    parser.add_argument("--period-ms", type=int, default=10, help="CSI report period")
    parser.add_argument("--horizons", default="5,10,20", help="label horizons in ms, comma list")
    parser.add_argument("--window", type=int, default=16, help="slots per window")
    parser.add_argument("--stride", type=int, default=4, help="reports between two windows")
    parser.add_argument("--families", default="default",
                        help="'default' (training mix), 'held-out', 'all' or a comma list of: "
                             + ", ".join(f.name for f in FAMILIES))
    parser.add_argument("--channel-estimate", action="store_true",
                        help="include the SRS channel estimate (csi.h_est) in the windows")
    parser.add_argument("--workers", type=int, default=1, help="shards built in parallel")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every shard")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def choose_families(text: str) -> tuple[str, ...]:
    """The families a ``--families`` value names."""
    named = {"default": DEFAULT_TRAINING_MIX, "held-out": HELD_OUT,
             "all": tuple(f.name for f in FAMILIES)}
    if text in named:
        return named[text]
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in FAMILY_BY_NAME]
    if unknown or not chosen:
        raise ValueError(f"unknown families {unknown}: choose from {sorted(FAMILY_BY_NAME)}")
    return chosen


def shard_seed(base: int, index: int) -> int:
    """Independent, reproducible seed of shard ``index``."""
    return (base * 1_000_003 + index * 7_919 + 1) % (2**31 - 1)


def shard_specs(args: argparse.Namespace) -> list[ShardSpec]:
    families = choose_families(args.families)
    horizons = tuple(int(h) for h in str(args.horizons).split(","))
    if min(horizons) < 0 or args.period_ms < 1:
        raise ValueError(f"horizons {horizons} must be >= 0 ms and the period >= 1 ms")
    if not 1 <= args.window <= args.reports or args.stride < 1 or args.ues < 1:
        raise ValueError(f"need 1 <= window ({args.window}) <= reports ({args.reports}), "
                         "stride >= 1 and ues >= 1")
    return [ShardSpec(index=i, family=families[i % len(families)],
                      seed=shard_seed(args.seed, i), n_ues=args.ues, n_reports=args.reports,
                      report_period_ms=args.period_ms, horizons_ms=horizons,
                      window=args.window, stride=args.stride,
                      channel_estimate=args.channel_estimate)
            for i in range(args.shards)]


def shard_stats(tensors: dict[str, torch.Tensor], horizons: tuple[int, ...]) -> Stats:
    """Sums for the manifest's statistics, from one shard's tensors."""
    registry = FeatureRegistry()
    moments: dict[str, list[float]] = {}
    hist: dict[str, list[int]] = {}
    for key, value in tensors.items():
        if not key.startswith("x."):
            continue
        name, mask = key[2:], tensors["m." + key[2:]]
        spec = registry[name]
        seen = value[mask]
        if spec.kind is FeatureKind.CATEGORICAL:
            hist[name] = torch.bincount(seen, minlength=max(spec.n_classes, 1)).tolist()
        elif spec.kind is FeatureKind.MATRIX:
            moments[name] = [float(seen.numel()), 0.0, float(seen.abs().square().double().sum())]
        else:  # in the normaliser's domain, as FeatureRegistry.fit_stats computes them
            x = seen.double()
            if spec.normaliser is Normaliser.LOG_ZSCORE:
                x = torch.log1p(x.clamp_min(0.0))
            moments[name] = [float(x.numel()), float(x.sum()), float(x.square().sum())]
    persistence: dict[str, list[float]] = {}
    for h in horizons:
        y = f"y.{h}ms."
        for label in LABELS:
            hist[y + label] = torch.bincount(tensors[y + label]).tolist()
        moments[y + "se"] = _moments(tensors[y + "se"])
        same_rank = tensors["legacy.ri"] == tensors[y + "ri"]
        persistence[f"{h}ms"] = [
            float(same_rank.sum()),
            float((same_rank & (tensors["legacy.pmi"] == tensors[y + "pmi"])).sum()),
            float(tensors[y + "se_legacy"].double().sum()), float(tensors[y + "se"].double().sum()),
            float((tensors["legacy.beam"] == tensors[y + "beam"]).sum())]
    return {"samples": int(tensors["legacy.ri"].numel()), "moments": moments, "hist": hist,
            "persistence": persistence}


def _moments(x: torch.Tensor) -> list[float]:
    x = x.double()
    return [float(x.numel()), float(x.sum()), float(x.square().sum())]


def merge_stats(parts: list[Stats]) -> dict[str, Any]:
    """Manifest statistics from the shards' sums."""
    moments: dict[str, list[float]] = {}
    hist: dict[str, list[int]] = {}
    pers: dict[str, list[float]] = {}
    samples = 0
    for part in parts:
        samples += part["samples"]
        for name, m in part["moments"].items():
            moments[name] = [a + b for a, b in zip(moments.get(name, [0.0] * 3), m, strict=True)]
        for name, counts in part["hist"].items():
            old = hist.get(name, [])
            size = max(len(old), len(counts))
            hist[name] = [(old[i] if i < len(old) else 0) + (counts[i] if i < len(counts) else 0)
                          for i in range(size)]
        for h, p in part["persistence"].items():
            pers[h] = [a + b for a, b in zip(pers.get(h, [0.0] * 5), p, strict=True)]
    registry = FeatureRegistry()
    features = {}
    for name, (n, s, sq) in sorted(moments.items()):
        if n == 0:
            continue
        if name in registry and registry[name].kind is FeatureKind.MATRIX:
            features[name] = {"count": int(n), "rms": (sq / n) ** 0.5}
            continue
        mean = s / n
        # sample standard deviation, as torch.std in FeatureRegistry.fit_stats
        var = max(sq - n * mean**2, 0.0) / (n - 1) if n > 1 else 1.0
        features[name] = {"count": int(n), "mean": mean, "std": var**0.5}
    n = max(samples, 1)
    persistence = {h: {"ri_accuracy": p[0] / n, "pmi_accuracy": p[1] / n,
                       "se_ratio": p[2] / p[3] if p[3] > 0 else None, "beam_top1": p[4] / n}
                   for h, p in sorted(pers.items())}
    normaliser = {name: [f["mean"], f["std"] if f["std"] > 1e-6 else 1.0] if "mean" in f
                  else [0.0, max(f["rms"], 1e-12)]
                  for name, f in features.items() if name in registry}
    return {"samples": samples, "feature_stats": features, "normaliser_stats": normaliser,
            "class_histograms": dict(sorted(hist.items())), "persistence": persistence}


def _build(task: tuple[ShardSpec, str]) -> tuple[ShardSpec, Stats]:
    spec, out = task
    _, tensors, _ = write_shard(spec, Path(out))
    return spec, shard_stats(tensors, spec.horizons_ms)


def _run(specs: list[ShardSpec], out: Path, workers: int) -> Iterator[tuple[ShardSpec, Stats]]:
    tasks = [(s, str(out)) for s in specs]
    if workers <= 1:
        yield from map(_build, tasks)
        return
    # spawn, not fork: a forked child inherits torch's thread pools mid-state.
    with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=4) as pool:
        yield from pool.imap(_build, tasks)


def main(args: argparse.Namespace) -> int:
    try:
        specs = shard_specs(args)
    except ValueError as exc:
        print(f"linkfm dataset: {exc}")
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done: list[tuple[ShardSpec, Stats]] = []
    progress = tqdm(total=len(specs), desc="shards", unit="shard", disable=args.quiet)
    for spec, stats in _run(specs, out, args.workers):
        done.append((spec, stats))
        progress.update(1)
    progress.close()
    per_family: dict[str, list[Stats]] = {}
    for spec, stats in done:
        per_family.setdefault(spec.family, []).append(stats)
    chosen = sorted({s.family for s in specs})
    manifest = {
        "format": FORMAT,
        "seed": args.seed,
        "report_period_ms": args.period_ms,
        "horizons_ms": list(specs[0].horizons_ms) if specs else [],
        "window": args.window,
        "stride": args.stride,
        "channel_estimate": bool(args.channel_estimate),
        "families": {f.name: {"scenario": f.scenario, "speed_kmh": list(f.speed_kmh),
                              "n_tx": f.n_tx, "n_rx": f.n_rx, "held_out": f.held_out}
                     for f in FAMILIES},
        "family_ids": dict(FAMILY_ID),
        "default_training_mix": list(DEFAULT_TRAINING_MIX),
        "held_out": list(HELD_OUT),
        "families_in_this_dataset": chosen,
        "shards": [{"file": spec.file_name, "family": spec.family, "seed": spec.seed,
                    "samples": stats["samples"]} for spec, stats in done],
        "per_family": {name: {"samples": sum(p["samples"] for p in parts),
                              "persistence": merge_stats(parts)["persistence"]}
                       for name, parts in sorted(per_family.items())},
        **merge_stats([stats for _, stats in done]),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if not args.quiet:
        print(f"{manifest['samples']} samples in {len(done)} shards -> {out} "
              f"({time.perf_counter() - started:.1f} s)")
    return 0
