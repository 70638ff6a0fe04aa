"""Ship a trained checkpoint: copy it into ``model/checkpoints/<version>/`` with its evaluation.

``python -m model.ship --checkpoint DIR --eval DIR --out model/checkpoints/linkfm-v1``

The copy holds ``weights.safetensors``, ``manifest.json`` (its ``eval_summary`` gains the
model version, the targets block and the 10 ms headline per split and method of the
evaluation report) and ``eval/`` (``report.json``, ``summary.md`` and the PNG plots of
``linkfm evaluate``). The xApp reports the version as ``model_version``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from model.checkpoint import MANIFEST, WEIGHTS, load_checkpoint

HEADLINE = ("se_ratio", "gap_closed", "ri_accuracy", "pmi_accuracy", "beam_top1", "rsrp_loss_db")


def eval_summary(report: dict[str, Any], version: str, horizon_ms: int = 10) -> dict[str, Any]:
    """What the manifest keeps of an evaluation report (the rest stays in eval/report.json)."""
    headline = {
        split: {method: {k: round(float(m[k]), 4) for k in HEADLINE if k in m}
                for method, m in by_h[str(horizon_ms)].items()}
        for split, by_h in report["overall"].items() if str(horizon_ms) in by_h}
    return {"model_version": version, "horizon_ms": horizon_ms, "headline": headline,
            "targets": report.get("targets", {}), "report": "eval/report.json"}


def ship(checkpoint: Path, evaluation: Path, out: Path, version: str) -> Path:
    """Copy ``checkpoint`` and ``evaluation`` to ``out``; returns ``out``."""
    report = json.loads((evaluation / "report.json").read_text())
    load_checkpoint(checkpoint)  # refuse to ship what does not load
    if out.exists():
        shutil.rmtree(out)
    (out / "eval").mkdir(parents=True)
    shutil.copy2(checkpoint / WEIGHTS, out / WEIGHTS)
    manifest = json.loads((checkpoint / MANIFEST).read_text())
    manifest["eval_summary"] = {**manifest.get("eval_summary", {}),
                                **eval_summary(report, version)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    for item in sorted(evaluation.iterdir()):
        if item.suffix in {".json", ".md", ".png"}:
            shutil.copy2(item, out / "eval" / item.name)
    load_checkpoint(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.ship", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, required=True, help="trained checkpoint")
    parser.add_argument("--eval", type=Path, required=True, help="linkfm evaluate --out folder")
    parser.add_argument("--out", type=Path, required=True, help="destination folder")
    parser.add_argument("--version", default=None, help="model version (default: out's name)")
    args = parser.parse_args(argv)
    out = ship(args.checkpoint, args.eval, args.out, args.version or args.out.name)
    print(f"shipped {args.checkpoint} as {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
