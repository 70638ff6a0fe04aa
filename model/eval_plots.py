"""PNG figures of a `linkfm evaluate` report (matplotlib, Agg backend, no display needed).

Each function reads the report dict (model.eval_report) and writes one file; a figure with
nothing to show (no model, no few-shot checkpoints) is not written. Returns the paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from model.eval_metrics import SNR_BINS, SPEED_BINS

DPI = 110


def _val(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def se_vs_horizon(rep: dict[str, Any], out: Path) -> Path:
    splits = rep["splits"]
    fig, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 4), squeeze=False)
    for ax, split in zip(axes[0], splits, strict=True):
        by_h = rep["overall"][split]
        hs = [h for h in by_h]
        for m in rep["methods"]:
            ax.plot([float(h) for h in hs], [_val(by_h[h].get(m, {}).get("se_ratio"))
                                             for h in hs], marker="o", label=m)
        ax.set(title=f"SE ratio vs horizon ({split})", xlabel="horizon (ms)",
               ylabel="SE / oracle SE")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    return _save(fig, out / "se_ratio_vs_horizon.png")


def _binned(rep: dict[str, Any], section: str, bins: tuple[tuple[str, float, float], ...],
            metric: str, title: str, xlabel: str, path: Path) -> Path:
    splits = rep["splits"]
    h = "10" if "10" in rep["overall"][splits[0]] else next(iter(rep["overall"][splits[0]]))
    fig, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 4), squeeze=False)
    for ax, split in zip(axes[0], splits, strict=True):
        data = rep[section][split].get(h, {})
        names = [b for b, _, _ in bins if b in data]
        for m in rep["methods"]:
            ax.plot(range(len(names)), [_val(data[b].get(m, {}).get(metric)) for b in names],
                    marker="o", label=m)
        ax.set_xticks(range(len(names)), names)
        ax.set(title=f"{title} ({split}, {h} ms)", xlabel=xlabel, ylabel=metric)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    return _save(fig, path)


def se_vs_speed(rep: dict[str, Any], out: Path) -> Path:
    return _binned(rep, "by_speed", SPEED_BINS, "se_ratio", "SE ratio vs speed",
                   "speed bin (km/h, centre)", out / "se_ratio_vs_speed.png")


def accuracy_per_snr(rep: dict[str, Any], out: Path) -> Path:
    return _binned(rep, "by_snr", SNR_BINS, "ri_balanced_accuracy",
                   "RI balanced accuracy per SNR bin", "SNR bin (dB)",
                   out / "accuracy_per_snr.png")


def fewshot_curve(rep: dict[str, Any], out: Path) -> Path | None:
    fs = rep["fewshot"]
    if not fs.get("evaluated"):
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for kind in ("pretrained", "scratch"):
        pts = sorted((float(p), _val(v["se_ratio"])) for p, v in fs.get(kind, {}).items())
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=kind)
    ax.set_xscale("log")
    ax.set(title="Few-shot: SE ratio vs labels used (test, 10 ms)", xlabel="% of labels",
           ylabel="SE / oracle SE")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out / "fewshot.png")


def calibration_diagram(rep: dict[str, Any], out: Path) -> Path | None:
    cal = rep["calibration"].get("test", {}).get("10") or {}
    if not cal:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, head in zip(axes, ("rank", "beam"), strict=True):
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        for m, heads in cal.items():
            d = heads[head]
            ax.plot([_val(c) for c in d["confidence"]], [_val(a) for a in d["accuracy"]],
                    marker="o", label=f"{m} (ECE {_val(d['ece']):.3f})")
        ax.set(title=f"Calibration: {head} (test, 10 ms)", xlabel="confidence",
               ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, out / "calibration.png")


def early_exit_tradeoff(rep: dict[str, Any], out: Path) -> Path | None:
    ee = rep["early_exit"]
    if not ee.get("evaluated"):
        return None
    pts = ee["points"]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot([_val(p["speedup"]) for p in pts], [_val(p["se_ratio"]) for p in pts], marker="o")
    for p in pts:
        ax.annotate(f"{p['threshold_nats']:g} nats, {_val(p['early_exit_share']):.0%} exit",
                    (_val(p["speedup"]), _val(p["se_ratio"])), fontsize=7)
    ax.set(title="Early exit: speed-up vs SE ratio (test, 10 ms)", xlabel="speed-up",
           ylabel="SE / oracle SE")
    ax.grid(alpha=0.3)
    return _save(fig, out / "early_exit.png")


def write_all(rep: dict[str, Any], out: Path) -> list[Path]:
    """Every figure the report has data for."""
    made = [se_vs_horizon(rep, out), se_vs_speed(rep, out), accuracy_per_snr(rep, out),
            fewshot_curve(rep, out), calibration_diagram(rep, out), early_exit_tradeoff(rep, out)]
    return [p for p in made if p is not None]
