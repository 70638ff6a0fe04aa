"""``linkfm train finetune``: supervised heads from a pretrained checkpoint or from scratch.

Modes (model.finetune): ``full`` trains everything, ``probe`` only the task heads, ``lora``
only LoRA adapters (merged into the weights before saving), ``prototype`` trains nothing and
calibrates beam prototypes from the labelled windows (model.prototypes), saved beside the
unchanged weights as ``prototypes.safetensors``.

Labels: ``--label-fraction`` of the training UEs (few-shot, split by UE, see
model.data.label_subset); validation: ``--val-fraction`` of the UEs, disjoint from training,
evaluated after every epoch; the checkpoint with the best validation loss is kept in OUT.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from tqdm import tqdm

from model.checkpoint import load_checkpoint, save_checkpoint
from model.data import (
    WindowSet,
    batches,
    epoch_order,
    label_subset,
    load_windows,
    n_batches,
    split_by_ue,
    stats_of,
)
from model.finetune import FinetuneMode, prepare_finetune
from model.lora import merge_lora
from model.losses import supervised_loss
from model.network import LinkFM
from model.prototypes import BeamPrototypes
from model.registry import NormaliserStats
from model.trainer import Distributed, RunLog, TrainForward, loss_step, warmup_cosine

PROTOTYPE = "prototype"
PROTOTYPES_FILE = "prototypes.safetensors"


def add_finetune_arguments(p: argparse.ArgumentParser) -> None:
    start = p.add_mutually_exclusive_group(required=True)
    start.add_argument("--init", type=Path, help="pretrained checkpoint folder")
    start.add_argument("--scratch", action="store_true",
                       help="a freshly initialised model (the from-scratch baseline)")
    p.add_argument("--mode", choices=[*(m.value for m in FinetuneMode), PROTOTYPE],
                   default="full")
    p.add_argument("--label-fraction", type=float, default=1.0,
                   help="share of training UEs whose labels are used (few-shot)")
    p.add_argument("--horizons", default="10", help="label horizons in ms, comma-separated")
    p.add_argument("--recon-weight", type=float, default=0.0,
                   help="weight of an extra masked-reconstruction term (0: none)")
    p.add_argument("--lora-rank", type=int, default=4)
    p.add_argument("--lora-alpha", type=float, default=8.0)
    p.add_argument("--lora-heads", action="store_true",
                   help="lora mode: also train the task heads (pretraining leaves them "
                        "untrained, so adapters alone must work through random heads)")
    p.add_argument("--shots", type=int, default=None,
                   help="prototype mode: at most this many labelled windows per beam")
    p.add_argument("--val-max", type=int, default=8192, help="validation windows at most")
    p.add_argument("--val-every", type=int, default=None,
                   help="steps between validations (default: an epoch, at least 100 steps); "
                        "the best-validated weights are kept")


@torch.no_grad()
def validate(model: LinkFM, ws: WindowSet, stats: NormaliserStats, batch: int) -> dict[str, float]:
    """Supervised loss (teacher-forced rank) and free-running accuracies on ``ws``."""
    model.eval()
    sums: dict[str, float] = {}
    n = 0
    for b in batches(ws, model.layout, stats, batch):
        y, k = b.targets, b.tokens.batch_size
        forced = model(b.tokens, rank=y.rank, reconstruct=False)
        loss, _ = supervised_loss(forced, y)
        h = model(b.tokens, reconstruct=False).heads
        rank_ok = h.rank() == y.rank
        pmi_ok = rank_ok.clone()
        for part, logits in h.pmi_logits.items():
            pmi_ok &= logits.argmax(-1) == y.pmi[part]
        top3 = h.top_k_beams(min(3, h.beam_logits.shape[-1]))[0]
        parts = {
            "loss": float(loss) * k,
            "rank_acc": float(rank_ok.float().sum()),
            "pmi_acc": float(pmi_ok.float().sum()),
            "beam_top1": float((h.beam_logits.argmax(-1) == y.beam).float().sum()),
            "beam_top3": float((top3 == y.beam[:, None]).any(-1).float().sum()),
            "cqi_mae": float((h.cqi - y.cqi).abs().sum()),
            "se_mae": float((h.se - y.se).abs().sum()),
        }
        for key, v in parts.items():
            sums[key] = sums.get(key, 0.0) + v
        n += k
    return {key: v / max(n, 1) for key, v in sums.items()}


def _load_start(args: argparse.Namespace) -> tuple[LinkFM, NormaliserStats]:
    from model.train_cli import model_config

    if args.init is not None:
        ck = load_checkpoint(args.init)
        return ck.model, ck.stats
    torch.manual_seed(args.seed)
    model = LinkFM(model_config(args))
    return model, stats_of(args.data[0], model.registry)


def _prototypes(model: LinkFM, ws: WindowSet, stats: NormaliserStats, batch: int
                ) -> BeamPrototypes:
    model.eval()
    embs = []
    with torch.inference_mode():
        for b in batches(ws, model.layout, stats, batch):
            embs.append(model.embed(b.tokens))
    return BeamPrototypes.fit(torch.cat(embs), ws.targets.beam, model.cfg.max_beams)


@torch.no_grad()
def _prototype_accuracy(model: LinkFM, protos: BeamPrototypes, ws: WindowSet,
                        stats: NormaliserStats, batch: int) -> dict[str, float]:
    hits = head_hits = 0
    for b in batches(ws, model.layout, stats, batch):
        emb = model.embed(b.tokens)
        hits += int((protos.predict(emb) == b.targets.beam).sum())
        head = model(b.tokens, reconstruct=False).heads.beam_logits.argmax(-1)
        head_hits += int((head == b.targets.beam).sum())
    n = max(len(ws), 1)
    return {"beam_top1": hits / n, "head_beam_top1": head_hits / n}


def _few_per_beam(ws: WindowSet, shots: int, gen: torch.Generator) -> torch.Tensor:
    """Rows keeping at most ``shots`` windows of each beam label (drawn by ``gen``)."""
    perm = torch.randperm(len(ws), generator=gen)
    beams = ws.targets.beam[perm]
    order = torch.argsort(beams, stable=True)
    sorted_beams = beams[order]
    first = torch.searchsorted(sorted_beams, sorted_beams, right=False)
    rank_in_beam = torch.arange(len(order)) - first
    return perm[order[rank_in_beam < shots]].sort().values


def finetune(args: argparse.Namespace) -> int:
    from model.train_cli import family_list, setup_threads

    dist = Distributed()  # fine-tuning runs in one process
    setup_threads(args, dist)
    model, stats = _load_start(args)
    cfg = model.cfg
    horizons = [int(h) for h in str(args.horizons).split(",") if h.strip()]
    ws = load_windows(args.data, horizon_ms=horizons, n_slots=cfg.n_slots,
                      matrix_slots=cfg.matrix_slots, max_shards=args.max_shards,
                      families=family_list(args), registry=model.registry,
                      progress=not args.no_progress)
    split_gen = torch.Generator().manual_seed(args.seed)
    train_idx, val_idx = split_by_ue(ws, args.val_fraction, split_gen)
    train = ws.subset(train_idx)
    labelled = train.subset(label_subset(train, args.label_fraction,
                                         torch.Generator().manual_seed(args.seed + 1)))
    val = ws.subset(val_idx)
    if len(val) > args.val_max:
        val = val.subset(torch.randperm(len(val), generator=split_gen)[: args.val_max].sort()[0])
    log = RunLog(args.out, True)
    common: dict[str, Any] = {
              "mode": args.mode, "parameters": model.num_parameters(),
              "label_fraction": args.label_fraction, "horizons": horizons,
              "labelled_windows": len(labelled), "val_windows": len(val),
              "init": str(args.init) if args.init else "scratch"}
    log.write({"event": "start", **common, "config": cfg.to_dict()})

    if args.mode == PROTOTYPE:
        support = labelled
        if args.shots is not None:
            support = labelled.subset(_few_per_beam(labelled, args.shots, split_gen))
        protos = _prototypes(model, support, stats, args.batch)
        result = _prototype_accuracy(model, protos, val, stats, args.batch)
        summary = {"stage": "finetune", **common, "support_windows": len(support), "val": result}
        save_checkpoint(args.out, model, stats, {"finetune": summary})
        save_file({"centre": protos.centre, "prototypes": protos.prototypes,
                   "known": protos.known}, str(args.out / PROTOTYPES_FILE))
        log.write({"event": "end", **summary})
        _print_summary(summary, args.out)
        return 0

    mode = FinetuneMode(args.mode)
    params = prepare_finetune(model, mode, args.lora_rank, args.lora_alpha)
    if mode is FinetuneMode.LORA and args.lora_heads:
        heads = [*model.heads.parameters(), *model.exit_heads.parameters()]
        for p in heads:
            p.requires_grad_(True)
        params += heads
    common["trainable_parameters"] = sum(p.numel() for p in params)
    per_epoch = n_batches(len(labelled), args.batch)
    total = args.steps or max(1, round(args.epochs * per_epoch))
    epochs = -(-total // per_epoch)
    warmup = args.warmup if args.warmup is not None else min(100, total // 20)
    lr = args.lr or (3e-3 if mode is not FinetuneMode.FULL else 1e-3)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, total, warmup))
    gen = torch.Generator().manual_seed(args.seed * 7919)
    net = TrainForward(model, supervised=True, reconstruct=args.recon_weight > 0)
    val_every = args.val_every or max(per_epoch, 100)
    best: dict[str, float] = {}
    history: list[dict[str, Any]] = []
    step = 0
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc=f"finetune {args.mode}", unit="step", disable=args.no_progress)
    for epoch in range(epochs):
        order = epoch_order(len(labelled), args.seed, epoch)
        for b in batches(labelled, model.layout, stats, args.batch, order=order):
            report = loss_step(net, model, b.tokens, opt, gen, targets=b.targets,
                               recon_weight=args.recon_weight, mask_ratio=args.mask_ratio,
                               params=params)
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{report['loss']:.3f}", refresh=False)
            if step % args.log_every == 0:
                log.write({"event": "step", "step": step, "epoch": epoch,
                           "elapsed_s": round(time.perf_counter() - t0, 2), **report})
            if step % val_every == 0 or step == total:
                metrics = validate(model, val, stats, args.batch) if len(val) else {}
                record = {"step": step, "epoch": round(step / per_epoch, 3),
                          "train_loss": report["loss"],
                          "elapsed_s": round(time.perf_counter() - t0, 2), **metrics}
                history.append(record)
                log.write({"event": "validation", **record})
                bar.write(f"step {step}: " + ", ".join(
                    f"{k} {v:.4f}" for k, v in record.items() if k != "step"))
                # no validation set: keep the latest
                if not best or metrics.get("loss", 0.0) <= best.get("loss", 0.0):
                    best = {"step": step, **metrics}
                    _save(model, mode, stats, args.out, {"finetune": {**common, "best": best}})
            if step >= total:
                break
        if step >= total:
            break
    bar.close()
    summary = {"stage": "finetune", **common, "steps": step, "train_s":
               round(time.perf_counter() - t0, 1), "best": best, "history": history}
    _save_manifest_summary(args.out, summary)
    log.write({"event": "end", **summary})
    _print_summary(summary, args.out)
    return 0


def _save(model: LinkFM, mode: FinetuneMode, stats: NormaliserStats, out: Path,
          summary: dict[str, Any]) -> None:
    """Save ``model`` (a merged copy when it carries LoRA adapters)."""
    plain = merge_lora(copy.deepcopy(model)) if mode is FinetuneMode.LORA else model
    save_checkpoint(out, plain, stats, summary)


def _save_manifest_summary(out: Path, summary: dict[str, Any]) -> None:
    """Put the run summary (history included) into the best checkpoint's eval summary."""
    import json

    manifest = out / "manifest.json"
    data = json.loads(manifest.read_text())
    data["eval_summary"] = {"finetune": summary}
    manifest.write_text(json.dumps(data, indent=2, sort_keys=True))


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    lines = [
        f"fine-tuning done: mode {summary['mode']} from {summary['init']}, "
        f"{summary['labelled_windows']:,} labelled windows "
        f"({summary['label_fraction']:.0%} of training UEs), horizons {summary['horizons']}",
        f"  model: {summary['parameters']:,} parameters"
        + (f", {summary['trainable_parameters']:,} trained" if "trainable_parameters" in summary
           else ""),
    ]
    if "val" in summary:  # prototype mode
        lines.append(f"  support windows: {summary['support_windows']:,}")
        lines.append("  validation: " + ", ".join(f"{k} {v:.4f}" for k, v in
                                                    summary["val"].items()))
    else:
        lines.append(f"  steps: {summary['steps']}, {summary['train_s']:.0f} s")
        best = summary.get("best") or {}
        if best:
            lines.append(f"  best at step {best['step']} on {summary['val_windows']:,} "
                         "validation windows:")
            lines.append("    " + ", ".join(f"{k} {v:.4f}" for k, v in best.items()
                                           if k != "step"))
    lines.append(f"  checkpoint: {out}")
    print("\n".join(lines))
