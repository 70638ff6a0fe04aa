"""The training loop's parts shared by pretraining and fine-tuning.

- :class:`Distributed`: rank and world size from torchrun's environment (gloo backend), so one
  code path runs alone or as ``python -m torch.distributed.run --nproc_per_node N``.
- :func:`loss_step`: one optimiser step of masked reconstruction and/or supervised losses;
  the forward goes through the (possibly DistributedDataParallel) wrapper.
- :func:`warmup_cosine`: the learning-rate schedule.
- :class:`RunLog`: a JSONL log of training records (rank 0 writes).
- :func:`save_state` / :func:`load_state`: checkpoint + optimiser/step state for ``--resume``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import torch
from torch import nn

from model.checkpoint import load_checkpoint, save_checkpoint
from model.losses import Targets, reconstruction_loss, supervised_loss
from model.masking import MaskMode, pretraining_mask
from model.network import LinkFM
from model.outputs import LinkFMOutput, Reconstruction
from model.registry import NormaliserStats
from model.tokenize import TokenBatch

STATE_FILE = "train_state.pt"
LAST = "last"


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (rank 0 of 1 when run alone)."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> Distributed:
        """Join the process group when torchrun set WORLD_SIZE > 1 (gloo: CPU only)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")
        return cls(dist.get_rank(), dist.get_world_size())

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to call forward on: DistributedDataParallel when world > 1.

        Unused parameters are expected: pretraining leaves the task heads out of the loss,
        fine-tuning the reconstruction heads.
        """
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, find_unused_parameters=True)

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()

    def say(self, msg: str, stream: TextIO | None = None) -> None:
        """A log line tagged with the rank (every rank prints its own)."""
        print(f"[rank {self.rank}/{self.world}] {msg}", file=stream or sys.stderr, flush=True)


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of every state-dict tensor's bytes, in key order: equal digests = equal weights
    (how DDP ranks are checked to be in step)."""
    h = hashlib.sha256()
    for key, value in model.state_dict().items():
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def warmup_cosine(step: int, total: int, warmup: int, floor: float = 0.1) -> float:
    """LR multiplier: linear warm-up over ``warmup`` steps, then cosine decay to ``floor``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def draw_mode(gen: torch.Generator) -> MaskMode:
    modes = list(MaskMode)
    return modes[int(torch.randint(len(modes), (1,), generator=gen))]


class TrainForward(nn.Module):
    """The forward pass of a training step, returning only what its loss uses.

    DistributedDataParallel finds the parameters a step leaves unused by walking back from
    the forward's outputs; LinkFM always computes its heads, so returning them during
    pretraining would make DDP wait for gradients that never come. This wrapper returns
    ``(heads output or None, reconstruction or None)`` for the losses switched on.
    """

    def __init__(self, model: LinkFM, supervised: bool, reconstruct: bool) -> None:
        super().__init__()
        self.model = model
        self.supervised = supervised
        self.reconstruct = reconstruct

    def forward(
        self, batch: TokenBatch, rank: torch.Tensor | None = None
    ) -> tuple[LinkFMOutput | None, Reconstruction | None]:
        out = self.model(batch, rank=rank, reconstruct=self.reconstruct)
        return (out if self.supervised else None), out.recon


def loss_step(
    net: nn.Module,
    model: LinkFM,
    batch: TokenBatch,
    optimizer: torch.optim.Optimizer,
    gen: torch.Generator,
    *,
    targets: Targets | None = None,
    mask_ratio: float = 0.15,
    recon_weight: float = 1.0,
    grad_clip: float = 1.0,
    params: list[nn.Parameter] | None = None,
) -> dict[str, float]:
    """One optimiser step; returns ``loss`` and its parts (``rec.<feature>``, ``sup.<task>``).

    Args:
        net: a :class:`TrainForward` of ``model`` (or its DDP wrapper) whose switches match
            ``targets is not None`` and ``recon_weight > 0``.
        model: the LinkFM (its layout, and the parameters to clip).
        gen: draws the mask mode (one per step) and the random mask.
        targets: labels; None trains the reconstruction only.
        recon_weight: weight of the masked reconstruction; 0 runs no masking at all.
    """
    net.train()
    report: dict[str, float] = {}
    if recon_weight > 0:
        mode = draw_mode(gen)
        batch = batch.with_mask(pretraining_mask(batch, model.layout, gen, mode, mask_ratio))
    out, recon = net(batch, None if targets is None else targets.rank)
    loss = torch.zeros(())
    if recon_weight > 0:
        assert recon is not None, "TrainForward(reconstruct=True) is needed"
        rec, parts = reconstruction_loss(recon, batch, model.layout)
        loss = loss + recon_weight * rec
        report |= {f"rec.{k}": v for k, v in parts.items()}
        report["reconstruction"] = float(rec.detach())
    if targets is not None:
        assert out is not None, "TrainForward(supervised=True) is needed"
        sup, parts = supervised_loss(out, targets)
        loss = loss + sup
        report |= {f"sup.{k}": v for k, v in parts.items()}
        report["supervised"] = float(sup.detach())
    optimizer.zero_grad(set_to_none=True)
    torch.autograd.backward(loss)
    clip = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    torch.nn.utils.clip_grad_norm_(clip, grad_clip)
    optimizer.step()
    report["loss"] = float(loss.detach())
    return report


class RunLog:
    """Appends JSON records, one per line, to ``<out>/log.jsonl`` (no-op off rank 0)."""

    def __init__(self, out: Path, enabled: bool) -> None:
        self.path = out / "log.jsonl"
        self.enabled = enabled
        if enabled:
            out.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


def save_state(
    folder: Path,
    model: LinkFM,
    stats: NormaliserStats,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    gen: torch.Generator,
    step: int,
    extra: dict[str, Any] | None = None,
) -> None:
    """A loadable checkpoint in ``folder`` plus everything ``--resume`` needs to continue
    exactly (optimiser, schedule, step, mask generator and global RNG states)."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_checkpoint(tmp, model, stats, {"step": step, **(extra or {})})
    state = {
        "step": step,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "gen": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "extra": extra or {},
    }
    torch.save(state, tmp / STATE_FILE)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def load_state(
    folder: Path,
    model: LinkFM,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    gen: torch.Generator,
) -> dict[str, Any]:
    """Restore what :func:`save_state` wrote into live objects; returns the state dict
    (``step``, ``extra``, and ``stats``: the checkpoint's normaliser statistics, which the
    resumed run must keep using). The checkpoint must match ``model``'s config."""
    ck = load_checkpoint(folder, expected_config=model.cfg)
    model.load_state_dict(ck.model.state_dict())
    state: dict[str, Any] = torch.load(folder / STATE_FILE, weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    gen.set_state(state["gen"])
    torch.set_rng_state(state["torch_rng"])
    state["stats"] = ck.stats
    return state
