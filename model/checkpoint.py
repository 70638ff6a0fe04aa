"""Checkpoints: a folder with weights (safetensors) and one JSON manifest.

Layout of ``<dir>/``:
  ``weights.safetensors`` - the state dict (float tensors only, no pickles);
  ``manifest.json`` - config, registry version and feature names, normaliser statistics,
  eval summary and a format number.

Loading is strict: a checkpoint written for another registry (version or feature list) or,
when the caller says which config it expects, another config, raises
:class:`CheckpointMismatch` naming every difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from model.network import LinkFM, LinkFMConfig
from model.registry import REGISTRY_VERSION, FeatureRegistry, NormaliserStats
from xapp.errors import MalformedInput

FORMAT = 1
WEIGHTS = "weights.safetensors"
MANIFEST = "manifest.json"
SHIPPED = Path(__file__).resolve().parent / "checkpoints" / "linkfm-v1"
"""The checkpoint shipped with the package (trained by ``make checkpoint``; see the README)."""


class CheckpointError(MalformedInput):
    """A checkpoint folder that cannot be read (missing file, bad manifest)."""

    source = "model.checkpoint"


class CheckpointMismatch(CheckpointError):
    """A readable checkpoint that does not fit this code or the expected config.

    Attributes:
        differences: one line per difference, ``what: checkpoint=... expected=...``.
    """

    def __init__(self, reason: str, differences: list[str]) -> None:
        self.differences = differences
        super().__init__(reason, "; ".join(differences))


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode), its statistics and eval summary."""

    model: LinkFM
    stats: NormaliserStats
    eval_summary: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: str | Path,
    model: LinkFM,
    stats: NormaliserStats,
    eval_summary: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` + ``stats`` + ``eval_summary`` (JSON-able) to folder ``path``.

    Raises:
        ValueError: the model still carries LoRA adapters (merge them first).
    """
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if any(".lora_" in k for k in tensors):
        raise ValueError("the model has LoRA adapters: call model.lora.merge_lora(model) first")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / WEIGHTS))
    manifest = {
        "format": FORMAT,
        "registry_version": model.registry.version,
        "features": list(model.registry.names),
        "config": model.cfg.to_dict(),
        "normaliser_stats": stats.to_dict(),
        "eval_summary": eval_summary or {},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return out


def _diff(what: str, got: Any, want: Any) -> list[str]:
    return [] if got == want else [f"{what}: checkpoint={got!r} expected={want!r}"]


def _read_manifest(folder: Path) -> dict[str, Any]:
    for name in (MANIFEST, WEIGHTS):
        if not (folder / name).is_file():
            raise CheckpointError("missing_file", f"{folder / name} does not exist")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError("bad_manifest", f"{folder / MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError("bad_manifest", f"format is not {FORMAT}")
    return manifest


def load_checkpoint(path: str | Path, expected_config: LinkFMConfig | None = None) -> Checkpoint:
    """Read a checkpoint folder written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: missing files or an unreadable manifest.
        CheckpointMismatch: reason ``registry_mismatch`` (version or features differ from
            this code's registry) or ``config_mismatch`` (differs from ``expected_config``).
    """
    folder = Path(path)
    manifest = _read_manifest(folder)
    try:
        cfg = LinkFMConfig.from_dict(manifest["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError("bad_manifest", f"config: {exc}") from exc
    registry = FeatureRegistry(cfg.dims())

    diffs = _diff("registry_version", manifest.get("registry_version"), REGISTRY_VERSION)
    saved = manifest.get("features", [])
    if saved != list(registry.names):
        missing = sorted(set(registry.names) - set(saved))
        extra = sorted(set(saved) - set(registry.names))
        detail = f"missing={missing} extra={extra}" if missing or extra else "order differs"
        diffs.append(f"features: {detail}")
    if diffs:
        raise CheckpointMismatch("registry_mismatch", diffs)
    if expected_config is not None:
        want, got = expected_config.to_dict(), cfg.to_dict()
        diffs = [d for k in want for d in _diff(f"config.{k}", got[k], want[k])]
        if diffs:
            raise CheckpointMismatch("config_mismatch", diffs)

    model = LinkFM(cfg, registry)
    state = load_file(str(folder / WEIGHTS))
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointMismatch(
            "weights_mismatch",
            [
                f"missing={sorted(result.missing_keys)}",
                f"unexpected={sorted(result.unexpected_keys)}",
            ],
        )
    model.eval()
    return Checkpoint(
        model=model,
        stats=NormaliserStats.from_dict(manifest.get("normaliser_stats", {})),
        eval_summary=dict(manifest.get("eval_summary", {})),
    )
