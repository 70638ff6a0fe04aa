"""``linkfm train``: masked pretraining and fine-tuning on `linkfm dataset` shards.

    linkfm train pretrain --data DIR [--data DIR2] --out CKPT_DIR [--epochs N | --steps N]
    linkfm train finetune (--init CKPT | --scratch) --data DIR --out CKPT_DIR
                          --mode full|probe|lora|prototype --label-fraction F --horizons 5,10,20

Under torchrun (``python -m torch.distributed.run --nproc_per_node 2 -m model.train_cli
pretrain ...``, or ``linkfm train`` with WORLD_SIZE set) pretraining runs data-parallel on
gloo: every rank takes its own share of each epoch's batches and only rank 0 writes.

Output folder of pretraining: the final checkpoint (``manifest.json``, ``weights.safetensors``,
normaliser statistics inside), ``last/`` (the latest periodic checkpoint plus
``train_state.pt`` for ``--resume``) and ``log.jsonl`` (one record per logged step/epoch).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from model.checkpoint import CheckpointError, save_checkpoint
from model.data import (
    DatasetError,
    WindowSet,
    batches,
    epoch_order,
    load_windows,
    n_batches,
    split_by_ue,
    stats_of,
)
from model.losses import reconstruction_loss
from model.masking import MaskMode, pretraining_mask
from model.network import LinkFM, LinkFMConfig
from model.registry import NormaliserStats
from model.trainer import (
    LAST,
    STATE_FILE,
    Distributed,
    RunLog,
    TrainForward,
    load_state,
    loss_step,
    parameter_digest,
    save_state,
    warmup_cosine,
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", action="append", required=True, type=Path,
                   help="dataset folder of shards (repeatable)")
    p.add_argument("--out", required=True, type=Path, help="checkpoint folder to write")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the data")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps (overrides --epochs)")
    p.add_argument("--batch", type=int, default=256, help="windows per batch and rank")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=None,
                   help="warm-up steps (default: 5%% of the run, at most 200)")
    p.add_argument("--mask-ratio", type=float, default=0.15,
                   help="share of target tokens and patches hidden by random masks")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per process (default: cores / processes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.05,
                   help="share of UEs held out for validation")
    p.add_argument("--max-shards", type=int, default=None, help="read at most this many shards")
    p.add_argument("--families", default=None,
                   help="only shards of these scenario families (comma-separated names)")
    p.add_argument("--log-every", type=int, default=20, help="steps between log records")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None,
                   help="LinkFMConfig as a JSON object or a path to a JSON file")
    p.add_argument("--d-model", type=int, default=None)
    p.add_argument("--n-layers", type=int, default=None)
    p.add_argument("--n-heads", type=int, default=None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stage", required=True)
    pre = sub.add_parser("pretrain", help="masked modelling on unlabelled windows")
    _common(pre)
    _config_args(pre)
    pre.add_argument("--horizon", type=int, default=10,
                     help="horizon fed as ctx.horizon_ms (labels are not used)")
    pre.add_argument("--resume", action="store_true",
                     help="continue from OUT/last (step, optimiser and RNG states)")
    pre.add_argument("--ckpt-every", type=int, default=200, help="steps between checkpoints")
    pre.add_argument("--stop-after", type=int, default=None,
                     help="stop after this many steps of this run (state saved; --resume "
                          "continues the same schedule)")
    fine = sub.add_parser("finetune", help="supervised heads on labelled windows")
    _common(fine)
    _config_args(fine)
    from model.finetune_run import add_finetune_arguments

    add_finetune_arguments(fine)


def model_config(args: argparse.Namespace, base: LinkFMConfig | None = None) -> LinkFMConfig:
    """--config (JSON text or file) then --d-model/--n-layers/--n-heads over ``base``."""
    data = (base or LinkFMConfig()).to_dict()
    if args.config:
        text = args.config
        if not text.lstrip().startswith("{"):
            text = Path(text).read_text()
        data |= json.loads(text)
    for key in ("d_model", "n_layers", "n_heads"):
        value = getattr(args, key)
        if value is not None:
            data[key] = value
    return LinkFMConfig.from_dict(data)


def family_list(args: argparse.Namespace) -> list[str] | None:
    """--families as a list (None: every family)."""
    if not args.families:
        return None
    return [f.strip() for f in str(args.families).split(",") if f.strip()]


def setup_threads(args: argparse.Namespace, dist: Distributed) -> None:
    import os

    cores = os.cpu_count() or 1
    threads = args.threads or max(1, cores // dist.world)
    torch.set_num_threads(threads)


@torch.no_grad()
def reconstruction_eval(
    model: LinkFM, ws: WindowSet, stats: NormaliserStats, batch: int, seed: int,
    max_batches: int = 16,
) -> dict[str, float]:
    """Masked reconstruction loss on ``ws`` with fixed masks (one pass per mask mode)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    totals: dict[str, list[float]] = {}
    for mode in MaskMode:
        for i, b in enumerate(batches(ws, model.layout, stats, batch)):
            if i >= max_batches:
                break
            masked = b.tokens.with_mask(pretraining_mask(b.tokens, model.layout, gen, mode, 0.15))
            out = model(masked, reconstruct=True)
            assert out.recon is not None
            loss, parts = reconstruction_loss(out.recon, masked, model.layout)
            totals.setdefault(f"{mode.value}", []).append(float(loss))
            for k, v in parts.items():
                totals.setdefault(f"rec.{k}", []).append(v)
    return {k: sum(v) / len(v) for k, v in totals.items()}


def _postfix(report: dict[str, float], lr: float) -> dict[str, str]:
    short = {"loss": f"{report['loss']:.3f}", "lr": f"{lr:.1e}"}
    for k, v in report.items():
        if k.startswith("rec."):
            short[k[4:].split(".")[-1][:8]] = f"{v:.2f}"
    return short


def pretrain(args: argparse.Namespace) -> int:
    dist = Distributed.from_env()
    setup_threads(args, dist)
    torch.manual_seed(args.seed)
    cfg = model_config(args)
    model = LinkFM(cfg)
    t0 = time.perf_counter()
    stats = stats_of(args.data[0], model.registry)
    ws = load_windows(args.data, horizon_ms=args.horizon, n_slots=cfg.n_slots,
                      matrix_slots=cfg.matrix_slots, max_shards=args.max_shards,
                      families=family_list(args), registry=model.registry,
                      progress=dist.is_main and not args.no_progress)
    split_gen = torch.Generator().manual_seed(args.seed)
    train_idx, val_idx = split_by_ue(ws, args.val_fraction, split_gen)
    train, val = ws.subset(train_idx), ws.subset(val_idx)
    load_s = time.perf_counter() - t0
    per_epoch = n_batches(len(train) // dist.world, args.batch, drop_last=True)
    if per_epoch == 0:
        raise SystemExit(f"{len(train)} training windows give no batch of {args.batch} per rank")
    total = args.steps or max(1, round(args.epochs * per_epoch))
    warmup = args.warmup if args.warmup is not None else min(200, total // 20)
    lr = args.lr or 2e-3
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: warmup_cosine(s, total, warmup))
    gen = torch.Generator().manual_seed(args.seed * 7919 + dist.rank)
    step = 0
    last = args.out / LAST
    if args.resume:
        if not (last / STATE_FILE).is_file():
            raise SystemExit(f"--resume: no {last / STATE_FILE} to resume from")
        state = load_state(last, model, opt, sched, gen)
        step = int(state["step"])
        stats = state["stats"]
        if dist.world > 1:  # each rank continues its own mask stream
            gen.manual_seed(args.seed * 7919 + dist.rank + 104729 * step)
    net = dist.wrap(TrainForward(model, supervised=False, reconstruct=True))
    log = RunLog(args.out, dist.is_main)
    log.write({"event": "start", "step": step, "total_steps": total, "steps_per_epoch": per_epoch,
               "train_windows": len(train), "val_windows": len(val), "world": dist.world,
               "parameters": model.num_parameters(), "config": cfg.to_dict(),
               "load_s": round(load_s, 1)})
    dist.say(f"pretraining {model.num_parameters():,} parameters on {len(train):,} windows: "
             f"steps {step}..{total}, {per_epoch} per epoch, batch {args.batch}")
    bar = tqdm(total=total, initial=step, desc="pretrain", unit="step",
               disable=not dist.is_main or args.no_progress)
    t_start, step0 = time.perf_counter(), step
    stop = min(total, step + args.stop_after) if args.stop_after else total
    report: dict[str, float] = {}
    val_report: dict[str, float] = {}
    while step < stop:
        epoch, skip = divmod(step, per_epoch)
        order = epoch_order(len(train), args.seed, epoch, dist.rank, dist.world)
        for b in batches(train, model.layout, stats, args.batch, order=order, skip=skip,
                         drop_last=True):
            report = loss_step(net, model, b.tokens, opt, gen, mask_ratio=args.mask_ratio)
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(_postfix(report, float(sched.get_last_lr()[0])), refresh=False)
            if step % args.log_every == 0 or step == total:
                log.write({"event": "step", "step": step, "epoch": epoch,
                           "lr": float(sched.get_last_lr()[0]),
                           "elapsed_s": round(time.perf_counter() - t_start, 2), **report})
                if not dist.is_main:
                    dist.say(f"step {step} loss {report['loss']:.4f}")
            if step % args.ckpt_every == 0 and step < total and dist.is_main:
                save_state(last, model, stats, opt, sched, gen, step)
            if step >= stop:
                break
        if step % per_epoch == 0 or step >= stop:
            if len(val) and dist.is_main:
                val_report = reconstruction_eval(model, val, stats, args.batch, args.seed)
                log.write({"event": "epoch", "step": step, "epoch": epoch,
                           "elapsed_s": round(time.perf_counter() - t_start, 2),
                           **{f"val.{k}": v for k, v in val_report.items()}})
            dist.barrier()
    bar.close()
    elapsed = time.perf_counter() - t_start
    dist.say(f"done: step {step} loss {report.get('loss', float('nan')):.4f} "
             f"weights sha256 {parameter_digest(model)}")
    if dist.is_main:
        windows_s = (step - step0) * args.batch * dist.world / max(elapsed, 1e-9)
        summary = {"stage": "pretrain", "steps": step, "total_steps": total,
                   "epochs": step / per_epoch,
                   "train_windows": len(train), "final_loss": report.get("loss"),
                   "val": val_report, "train_s": round(elapsed, 1),
                   "windows_per_s": round(windows_s, 1), "world": dist.world,
                   "data": [str(d) for d in args.data]}
        save_state(last, model, stats, opt, sched, gen, step)
        save_checkpoint(args.out, model, stats, {"pretrain": summary})
        log.write({"event": "end", **summary})
        _print_summary(summary, model, args.out)
    dist.barrier()
    dist.close()
    return 0


def _print_summary(summary: dict[str, Any], model: LinkFM, out: Path) -> None:
    lines = [
        f"pretraining done: {summary['steps']} steps ({summary['epochs']:.2f} epochs) on "
        f"{summary['train_windows']:,} windows x {summary['world']} rank(s)",
        f"  model: {model.num_parameters():,} parameters, {model.layout.n_tokens} tokens/window",
        f"  time: {summary['train_s']:.0f} s, {summary['windows_per_s']:.0f} windows/s",
        f"  final training loss: {summary['final_loss']:.4f}",
    ]
    val = summary.get("val") or {}
    if val:
        lines.append("  validation reconstruction loss by mask: " + ", ".join(
            f"{m.value} {val[m.value]:.4f}" for m in MaskMode if m.value in val))
        worst = sorted(((v, k[4:]) for k, v in val.items() if k.startswith("rec.")), reverse=True)
        lines.append("  per feature: " + ", ".join(f"{k} {v:.3f}" for v, k in worst))
    lines.append(f"  checkpoint: {out} (resume state in {out / LAST})")
    print("\n".join(lines))


def main(args: argparse.Namespace) -> int:
    try:
        if args.stage == "pretrain":
            return pretrain(args)
        from model.finetune_run import finetune

        return finetune(args)
    except (CheckpointError, DatasetError) as exc:
        print(f"linkfm train {args.stage}: {exc}", file=sys.stderr)
        return 2


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.train_cli", description=__doc__)
    add_arguments(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
