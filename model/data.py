"""Training data: shards of `linkfm dataset` as window sets, label subsets and token batches.

A :class:`WindowSet` holds N windows cut to the model's last ``n_slots`` report periods, the
labels at one horizon (:class:`model.losses.Targets`), the shard's ``meta.*`` and
``legacy.*`` tensors and, on request, the evaluation extras (oracle SE per rank, beam RSRPs,
true channel) at that horizon.

Memory: the channel estimate dominates (16 KiB per slot and window); only its latest
``matrix_slots`` slots are kept (the tokenizer reads no others) and older slots are filled in
as unobserved when a batch is built. Several horizons share one copy of the inputs: a row
of a multi-horizon set points at its base window (``rows``) and carries its own horizon.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from model.losses import Targets
from model.pmi_space import PMI_PARTS
from model.registry import FeatureRegistry, NormaliserStats
from model.tokenize import TokenBatch, TokenLayout, Windows, tokenize
from xapp.errors import MalformedInput

MATRIX = "csi.h_est"
EVAL_EXTRAS = ("se_per_rank", "pmi_per_rank", "beam_rsrp_db", "se_legacy", "h_true", "pmi")


class DatasetError(MalformedInput):
    """A dataset folder or shard that cannot be used (missing, empty, wrong format)."""

    source = "model.data"


def shard_paths(dirs: Sequence[str | Path]) -> list[Path]:
    """Every ``*.safetensors`` shard of ``dirs``, sorted by name within each folder."""
    paths: list[Path] = []
    for d in dirs:
        found = sorted(Path(d).glob("*.safetensors"))
        if not found:
            raise DatasetError(
                "no_shards", f"{d}: no *.safetensors shards (write some with `linkfm dataset`)"
            )
        paths += found
    return paths


def shard_header(path: Path) -> dict[str, Any]:
    with safe_open(str(path), framework="pt") as f:
        meta = (f.metadata() or {}).get("shard")
    if meta is None:
        raise DatasetError(
            "no_header", f"{path}: no 'shard' header (not written by `linkfm dataset`)"
        )
    header: dict[str, Any] = json.loads(meta)
    return header


def last_slots(x: torch.Tensor, n: int) -> torch.Tensor:
    """[N, T, ...] -> [N, n, ...]: the latest n slots, left-padded with zeros if T < n."""
    T = x.shape[1]
    if n <= T:
        return x[:, T - n :]
    pad = torch.zeros((x.shape[0], n - T, *x.shape[2:]), dtype=x.dtype)
    return torch.cat([pad, x], 1)


def _pad_to(x: torch.Tensor, shape: tuple[int, ...], fill: float | complex) -> torch.Tensor:
    """Pad the trailing axes of x [N, *s] to [N, *shape] with ``fill``."""
    if tuple(x.shape[1:]) == shape:
        return x
    out = torch.full((x.shape[0], *shape), fill, dtype=x.dtype)
    out[(slice(None), *(slice(0, s) for s in x.shape[1:]))] = x
    return out


@dataclass
class _Shard:
    inputs: dict[str, tuple[torch.Tensor, torch.Tensor]]
    labels: dict[int, dict[str, torch.Tensor]]  # horizon -> label name -> [N, ...]
    meta: dict[str, torch.Tensor]
    legacy: dict[str, torch.Tensor]


def _read_shard(
    path: Path,
    registry: FeatureRegistry,
    n_slots: int,
    matrix_slots: int,
    horizons: Sequence[int],
    with_eval: bool,
    features: Sequence[str] | None = None,
) -> _Shard:
    """Only the keys needed; per-slot inputs cut to the last slots as they are read."""
    dims = registry.dims
    label_names = ["ri", *PMI_PARTS, "beam", "cqi", "se"] + (list(EVAL_EXTRAS) if with_eval else [])
    inputs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    labels: dict[int, dict[str, torch.Tensor]] = {h: {} for h in horizons}
    meta: dict[str, torch.Tensor] = {}
    legacy: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        for name in features if features is not None else registry.names:
            if f"x.{name}" not in keys:
                continue
            pair = []
            for prefix in ("x.", "m."):
                sl = f.get_slice(prefix + name)
                if registry[name].per_slot:
                    keep = matrix_slots if name == MATRIX else n_slots
                    T = sl.get_shape()[1]
                    t = last_slots(sl[:, max(T - keep, 0) :], keep)
                else:
                    t = sl[:]
                pair.append(t.clone())  # own memory: the shard's file mapping can go
            inputs[name] = (pair[0], pair[1].bool())
        for h in horizons:
            for label in label_names:
                key = f"y.{h}ms.{label}"
                if key not in keys:
                    raise DatasetError(
                        "no_horizon", f"{path}: no {key} (its horizons do not include {h} ms)"
                    )
                labels[h][label] = f.get_tensor(key).clone()
        for key in keys:
            if key.startswith("meta."):
                meta[key[5:]] = f.get_tensor(key).clone()
            elif key.startswith("legacy."):
                legacy[key[7:]] = f.get_tensor(key).clone()
    if with_eval:  # shard-sized -> registry-padded, so shards of any antenna config stack
        for h in horizons:
            y = labels[h]
            y["beam_rsrp_db"] = _pad_to(y["beam_rsrp_db"], (dims.max_beams,), -math.inf)
            shape = (dims.max_subbands, dims.max_rx, dims.max_tx)
            y["h_true"] = _pad_to(y["h_true"], shape, 0)
    return _Shard(inputs, labels, meta, legacy)


def _cat_inputs(
    shards: list[_Shard], registry: FeatureRegistry
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Concatenate shards' inputs; a feature missing from a shard is unobserved there."""
    names = [n for n in registry.names if any(n in s.inputs for s in shards)]
    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for name in names:
        ref = next(s.inputs[name] for s in shards if name in s.inputs)
        vals, masks = [], []
        for s in shards:
            if name in s.inputs:
                v, m = s.inputs[name]
            else:
                n = len(next(iter(s.meta.values())))
                v = torch.zeros((n, *ref[0].shape[1:]), dtype=ref[0].dtype)
                m = torch.zeros((n, *ref[1].shape[1:]), dtype=torch.bool)
            vals.append(v)
            masks.append(m)
        out[name] = (torch.cat(vals), torch.cat(masks))
    return out


def _targets(y: Mapping[str, torch.Tensor]) -> Targets:
    return Targets(
        rank=y["ri"].long(),
        pmi={p: y[p].long() for p in PMI_PARTS},
        beam=y["beam"].long(),
        cqi=y["cqi"].float(),
        se=y["se"].float(),
    )


def _index_targets(t: Targets, idx: torch.Tensor) -> Targets:
    return Targets(
        rank=t.rank[idx],
        pmi={k: v[idx] for k, v in t.pmi.items()},
        beam=t.beam[idx],
        cqi=t.cqi[idx],
        se=t.se[idx],
    )


def _cat_targets(ts: Sequence[Targets]) -> Targets:
    return Targets(
        rank=torch.cat([t.rank for t in ts]),
        pmi={k: torch.cat([t.pmi[k] for t in ts]) for k in ts[0].pmi},
        beam=torch.cat([t.beam for t in ts]),
        cqi=torch.cat([t.cqi for t in ts]),
        se=torch.cat([t.se for t in ts]),
    )


@dataclass
class WindowSet:
    """Windows, labels at a horizon, and what evaluation needs (all first axes M = len).

    Attributes:
        base: feature -> (values, mask) of the distinct windows, per-slot ones [N0, T, ...]
            (``csi.h_est`` only its latest ``matrix_slots`` slots), window ones [N0, ...].
        rows: [M] int64 base window of each row.
        horizon_ms: [M] float32, the horizon of each row's labels (a model input).
        targets: labels at each row's horizon.
        meta: ``meta.*`` tensors [M] (ue_id, family_id, seed, time_ms, speed_kmh, snr_db, los).
        legacy: ``legacy.*`` tensors [M] (the last report: ri pmi i11 i12 i13 i2 beam cqi).
        extras: with_eval only: ``y.<h>ms.*`` at each row's horizon: se_per_rank [M, 4],
            pmi_per_rank [M, 4], beam_rsrp_db [M, max_beams] (-inf past the cell's beams),
            se_legacy [M], h_true [M, max_subbands, max_rx, max_tx] complex64 (zero-padded;
            the cell's sizes are ctx.n_subbands/n_rx/n_tx), pmi [M].
        n_slots: T, report periods per window.
    """

    base: dict[str, tuple[torch.Tensor, torch.Tensor]]
    rows: torch.Tensor
    horizon_ms: torch.Tensor
    targets: Targets
    meta: dict[str, torch.Tensor]
    legacy: dict[str, torch.Tensor]
    n_slots: int
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rows.numel())

    def windows_at(self, idx: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The tokenize() mapping of rows ``idx`` [k] (every per-slot feature [k, T, ...])."""
        base_idx = self.rows[idx]
        out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for name, (v, m) in self.base.items():
            v, m = v[base_idx], m[base_idx]
            if name == MATRIX and v.shape[1] < self.n_slots:
                v, m = last_slots(v, self.n_slots), last_slots(m, self.n_slots)
            out[name] = (v, m)
        hz = self.horizon_ms[idx]
        out["ctx.horizon_ms"] = (hz, torch.ones_like(hz, dtype=torch.bool))
        return out

    @property
    def windows(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The tokenize() mapping of every row (gathers a copy: prefer :meth:`windows_at`)."""
        return self.windows_at(torch.arange(len(self)))

    def subset(self, idx: torch.Tensor) -> WindowSet:
        """The rows ``idx`` ([k] int64 or [M] bool) as a new set sharing the inputs."""
        if idx.dtype == torch.bool:
            idx = idx.nonzero().flatten()
        return WindowSet(
            base=self.base,
            rows=self.rows[idx],
            horizon_ms=self.horizon_ms[idx],
            targets=_index_targets(self.targets, idx),
            meta={k: v[idx] for k, v in self.meta.items()},
            legacy={k: v[idx] for k, v in self.legacy.items()},
            n_slots=self.n_slots,
            extras={k: v[idx] for k, v in self.extras.items()},
        )

    def tokens(self, idx: torch.Tensor, layout: TokenLayout, stats: NormaliserStats) -> TokenBatch:
        """Rows ``idx`` tokenised for ``layout``."""
        return tokenize(self.windows_at(idx), layout, stats)


def load_windows(
    dirs: str | Path | Sequence[str | Path],
    *,
    horizon_ms: int | Sequence[int] = 10,
    n_slots: int = 4,
    matrix_slots: int | None = None,
    families: Sequence[str] | None = None,
    with_eval: bool = False,
    max_shards: int | None = None,
    registry: FeatureRegistry | None = None,
    progress: bool = False,
    features: Sequence[str] | None = None,
) -> WindowSet:
    """Read every shard of ``dirs`` into one :class:`WindowSet`.

    Args:
        horizon_ms: label horizon(s); several give one row per window and horizon (inputs
            shared), the horizon being a model input (ctx.horizon_ms).
        n_slots: keep the latest n_slots of every per-slot feature (left-padded as
            unobserved if a shard's windows are shorter).
        matrix_slots: latest slots of ``csi.h_est`` kept (default: n_slots); older slots
            read as unobserved. Use the model's ``cfg.matrix_slots`` to save memory.
        families: only shards of these family names (default: all).
        with_eval: also read the evaluation extras (see :class:`WindowSet`).
        max_shards: read at most this many shards (after the family filter).
        features: read only these input features (default: every registry feature).
    """
    registry = registry or FeatureRegistry()
    folders = [dirs] if isinstance(dirs, str | Path) else list(dirs)
    horizons = [horizon_ms] if isinstance(horizon_ms, int) else [int(h) for h in horizon_ms]
    if not horizons:
        raise ValueError("horizon_ms: at least one horizon is needed")
    ms = n_slots if matrix_slots is None else min(matrix_slots, n_slots)
    paths = shard_paths(folders)
    if families is not None:
        wanted = set(families)
        paths = [p for p in paths if shard_header(p)["family"]["name"] in wanted]
        if not paths:
            raise DatasetError("no_family", f"no shard of families {sorted(wanted)} in {folders}")
    paths = paths[:max_shards] if max_shards is not None else paths
    it: Any = paths
    if progress:
        from tqdm import tqdm

        it = tqdm(paths, desc="loading shards", unit="shard")
    shards = [_read_shard(p, registry, n_slots, ms, horizons, with_eval, features) for p in it]
    base = _cat_inputs(shards, registry)
    n0 = sum(len(s.labels[horizons[0]]["ri"]) for s in shards)
    meta = {k: torch.cat([s.meta[k] for s in shards]) for k in shards[0].meta}
    legacy = {k: torch.cat([s.legacy[k] for s in shards]) for k in shards[0].legacy}
    per_h = [_targets({k: torch.cat([s.labels[h][k] for s in shards]) for k in
                       shards[0].labels[h]}) for h in horizons]
    extras: dict[str, torch.Tensor] = {}
    if with_eval:
        extras = {
            k: torch.cat([s.labels[h][k] for h in horizons for s in shards])
            for k in EVAL_EXTRAS
        }
    reps = len(horizons)
    return WindowSet(
        base=base,
        rows=torch.arange(n0).repeat(reps),
        horizon_ms=torch.tensor(horizons, dtype=torch.float32).repeat_interleave(n0),
        targets=_cat_targets(per_h),
        meta={k: v.repeat(reps) for k, v in meta.items()},
        legacy={k: v.repeat(reps) for k, v in legacy.items()},
        n_slots=n_slots,
        extras=extras,
    )


def stats_of(
    directory: str | Path, registry: FeatureRegistry | None = None, fit_shards: int = 8
) -> NormaliserStats:
    """Normaliser statistics of a dataset folder: its manifest's ``normaliser_stats``, and
    for every normalised feature the manifest lacks (or with no manifest), statistics fitted
    with :meth:`FeatureRegistry.fit_stats` on up to ``fit_shards`` of its shards."""
    registry = registry or FeatureRegistry()
    manifest = Path(directory) / "manifest.json"
    stats = NormaliserStats()
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        stats = NormaliserStats.from_dict(data.get("normaliser_stats", {}))
    # Shards store their first horizon as ctx.horizon_ms, so statistics fitted on shard
    # inputs see one constant; training feeds every horizon: fit on the dataset's list.
    horizons = shard_header(shard_paths([directory])[0])["spec"]["horizons_ms"]
    hz = torch.tensor(horizons, dtype=torch.float32)
    stats.by_feature.update(
        registry.fit_stats({"ctx.horizon_ms": (hz, torch.ones_like(hz, dtype=torch.bool))})
        .by_feature
    )
    missing = [
        f.name
        for f in registry.features
        if f.normaliser.value != "identity" and f.name not in stats.by_feature
    ]
    if missing:
        window = int(shard_header(shard_paths([directory])[0])["spec"]["window"])
        ws = load_windows(directory, n_slots=window, max_shards=fit_shards, registry=registry,
                          features=missing)
        fitted = registry.fit_stats(ws.base)
        stats.by_feature.update({k: v for k, v in fitted.by_feature.items() if k in missing})
    return stats


def label_subset(meta: Mapping[str, torch.Tensor] | WindowSet, fraction: float,
                 gen: torch.Generator) -> torch.Tensor:
    """Rows of a labelled few-shot subset: ``fraction`` of the UEs (drops), all their windows.

    UEs are keyed by (meta.seed, meta.ue_id), drawn in an order fixed by ``gen``'s seed, so
    smaller fractions are subsets of larger ones and no UE is split across a subset and the
    rest. At least one UE is taken. Returns sorted [k] int64 row indices.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    groups, order = _ue_order(meta, gen)
    n_take = max(1, math.ceil(fraction * len(order)))
    chosen = torch.zeros(len(order), dtype=torch.bool)
    chosen[order[:n_take]] = True
    return chosen[groups].nonzero().flatten()


def split_by_ue(meta: Mapping[str, torch.Tensor] | WindowSet, val_fraction: float,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(train rows, validation rows), disjoint by UE; validation takes ``val_fraction`` of
    the UEs (at least one if there are two or more)."""
    groups, order = _ue_order(meta, gen)
    n_val = min(len(order) - 1, max(1, round(val_fraction * len(order)))) if val_fraction else 0
    is_val = torch.zeros(len(order), dtype=torch.bool)
    is_val[order[:n_val]] = True
    rows_val = is_val[groups]
    return (~rows_val).nonzero().flatten(), rows_val.nonzero().flatten()


def _ue_order(meta: Mapping[str, torch.Tensor] | WindowSet,
              gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(group id of each row [M], a gen-drawn permutation of the groups)."""
    m = meta.meta if isinstance(meta, WindowSet) else meta
    key = torch.stack([m["seed"].long(), m["ue_id"].long()], 1)
    uniq, groups = torch.unique(key, dim=0, return_inverse=True)
    order = torch.randperm(len(uniq), generator=gen)
    return groups, order


@dataclass(frozen=True)
class Batch:
    """One training batch: tokens, labels and the rows they came from."""

    tokens: TokenBatch
    targets: Targets
    rows: torch.Tensor


def epoch_order(n: int, seed: int, epoch: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """This rank's row order for one epoch: a permutation drawn from (seed, epoch), the same
    on every rank, dealt round-robin and cut to equal length (every rank takes the same
    number of steps, as DistributedDataParallel needs)."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=gen)
    per_rank = n // world
    return perm[rank::world][:per_rank]


def batches(
    ws: WindowSet,
    layout: TokenLayout,
    stats: NormaliserStats,
    batch_size: int,
    *,
    order: torch.Tensor | None = None,
    skip: int = 0,
    drop_last: bool = False,
) -> Iterator[Batch]:
    """Token batches of ``ws`` in ``order`` (default: row order), from batch ``skip`` on.

    Tokenisation happens per batch, so a set of any size costs only its raw tensors.
    """
    order = torch.arange(len(ws)) if order is None else order
    n = len(order)
    stop = n - n % batch_size if drop_last else n
    for start in range(skip * batch_size, stop, batch_size):
        idx = order[start : start + batch_size]
        yield Batch(ws.tokens(idx, layout, stats), _index_targets(ws.targets, idx), idx)


def n_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    return n // batch_size if drop_last else math.ceil(n / batch_size)


__all__ = [
    "Batch",
    "DatasetError",
    "WindowSet",
    "Windows",
    "batches",
    "epoch_order",
    "label_subset",
    "load_windows",
    "n_batches",
    "shard_paths",
    "split_by_ue",
    "stats_of",
]
