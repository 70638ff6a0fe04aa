"""`linkfm evaluate`: every method of RADIO.md section 5 on the same samples, scored exactly.

For each shard of each split (held-out drops ``test``, held-out families ``ood``): the
baselines (model.baselines) and the model checkpoints decide (rank, PMI, beam) for every
window and horizon; each (rank, PMI) is scored with ``e2sim.csi.se_of`` on the TRUE
channel at apply time (``y.<h>ms.h_true``) and each beam with the true RSRPs
(``y.<h>ms.beam_rsrp_db``). Shards are processed one at a time (a shard's channel history
is the memory peak), and the per-sample scores are kept for every breakdown.

Models come in two roles. Main models (``model``: the checkpoint; ``scratch``: the same
network trained on labels only) are scored everywhere like the baselines. Auxiliary runs
(few-shot checkpoints, early-exit thresholds, the int8 copy) are scored on the headline
scope only (split ``test``, 10 ms), which is all their curves need.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from e2sim.csi import TypeICodebook, se_of
from e2sim.dataset import FAMILIES, load_shard
from model.baselines import (
    BASELINES,
    MODE_WINDOW,
    SNR_THRESHOLDS_DB,
    Choice,
    LinkSamples,
    all_baselines,
    codebook_of,
    flat_pmi,
    grid_of,
    oracle_choice,
)
from model.channel_prediction import AR_MAX_ORDER
from model.data import last_slots, shard_header
from model.eval_metrics import Scored, beam_hit, rsrp_loss_db, top_k_hit
from model.network import LinkFM
from model.outputs import HeadOutputs, LinkFMOutput
from model.pmi_space import PMI_PARTS
from model.registry import NormaliserStats
from model.tokenize import TokenBatch, Windows, tokenize

HEADLINE = ("test", 10.0)  # the scope of auxiliary runs: (split, horizon_ms)
BATCH = 512
EXIT_TIMING_WINDOWS = 2048  # windows timed per early-exit threshold


@dataclass
class ModelRun:
    """A model to score: where, and with which early-exit threshold (0: none)."""

    name: str
    model: LinkFM
    stats: NormaliserStats
    exit_threshold: float = 0.0
    main: bool = True  # False: headline scope only
    seconds: dict[tuple[str, float], float] = field(default_factory=dict)  # forward time
    windows: dict[tuple[str, float], int] = field(default_factory=dict)
    exited_early: dict[tuple[str, float], int] = field(default_factory=dict)
    invalid_pmi: int = 0
    # Early-exit sweep (headline scope): decisions come from one full pass per batch (every
    # exit's heads), speed from timing the inference pass on the first windows.
    exit_sweep: tuple[float, ...] = ()
    sweep_seconds: dict[float, float] = field(default_factory=dict)  # threshold -> seconds
    sweep_timed_windows: int = 0
    sweep_early: dict[float, int] = field(default_factory=dict)  # threshold -> early exits

    def sweep_name(self, threshold: float) -> str:
        return f"{self.name}-exit-{threshold:g}"


@dataclass
class Labels:
    """The oracle at one horizon for N samples (shard-sized, see e2sim.dataset)."""

    ri: torch.Tensor
    pmi: torch.Tensor
    beam: torch.Tensor
    beam_rsrp_db: torch.Tensor
    h_true: torch.Tensor

    @classmethod
    def of(cls, tensors: dict[str, torch.Tensor], horizon_ms: float) -> Labels:
        p = f"y.{int(horizon_ms)}ms."
        return cls(tensors[p + "ri"], tensors[p + "pmi"], tensors[p + "beam"],
                   tensors[p + "beam_rsrp_db"], tensors[p + "h_true"])


@dataclass
class Collected:
    """Per-sample scores of one (split, horizon), accumulated over shards."""

    scored: dict[str, list[Scored]] = field(default_factory=dict)
    speed_kmh: list[torch.Tensor] = field(default_factory=list)
    snr_db: list[torch.Tensor] = field(default_factory=list)
    family: list[torch.Tensor] = field(default_factory=list)
    scenario_umi_uma: list[torch.Tensor] = field(default_factory=list)
    probs: dict[str, dict[str, list[torch.Tensor]]] = field(default_factory=dict)

    def add(self, method: str, s: Scored) -> None:
        self.scored.setdefault(method, []).append(s)

    def add_probs(self, method: str, name: str, t: torch.Tensor) -> None:
        self.probs.setdefault(method, {}).setdefault(name, []).append(t)


def pick_rows(paths: Sequence[Path], max_samples: int | None, seed: int = 0
              ) -> list[torch.Tensor | None]:
    """Rows of each shard to score: all (None), or an even random share of each shard so
    that about ``max_samples`` windows are scored in all (at least one per shard)."""
    sizes = [int(shard_header(p)["samples"]) for p in paths]
    total = sum(sizes)
    if max_samples is None or max_samples >= total:
        return [None] * len(paths)
    share = max_samples / total
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen)[:max(1, round(n * share))].sort().values
            for n in sizes]


def model_windows(tensors: dict[str, torch.Tensor], net: LinkFM, horizon_ms: float) -> Windows:
    """The shard's windows as the model reads them: the latest n_slots, the horizon set."""
    n_slots = net.cfg.n_slots
    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for name in net.registry.names:
        if f"x.{name}" not in tensors:
            continue
        v, m = tensors[f"x.{name}"], tensors[f"m.{name}"].bool()
        if net.registry[name].per_slot:
            v, m = last_slots(v, n_slots), last_slots(m, n_slots)
        out[name] = (v, m)
    n = next(iter(out.values()))[0].shape[0]
    out["ctx.horizon_ms"] = (torch.full((n,), float(horizon_ms)), torch.ones(n, dtype=torch.bool))
    return out


def model_choice(run: ModelRun, windows: Windows, codebook: TypeICodebook, n_beams: int,
                 key: tuple[str, float], sweep: bool = False
                 ) -> tuple[Choice, dict[float, Choice]]:
    """The model's decisions on ``windows`` (batched, forward passes timed) and, with
    ``sweep``, the decisions at each of ``run.exit_sweep``'s thresholds."""
    n = next(iter(windows.values()))[0].shape[0]
    parts: list[dict[str, torch.Tensor]] = []
    swept: dict[float, list[dict[str, torch.Tensor]]] = {t: [] for t in run.exit_sweep}
    with torch.inference_mode():
        for start in range(0, n, BATCH):
            sub = {k: (v[start:start + BATCH], m[start:start + BATCH])
                   for k, (v, m) in windows.items()}
            tokens = tokenize(sub, run.model.layout, run.stats)
            t0 = time.perf_counter()
            out = run.model(tokens, exit_threshold=run.exit_threshold)
            run.seconds[key] = run.seconds.get(key, 0.0) + time.perf_counter() - t0
            assert out.exit_layer is not None
            parts.append(_decide(out.heads, out.exit_layer < run.model.cfg.n_layers, n_beams))
            if sweep and run.exit_sweep:
                full = run.model(tokens, exit_threshold=None, reconstruct=False)
                for t in run.exit_sweep:
                    swept[t].append(_decide(*_exit_at(full, t), n_beams=n_beams))
                _time_exits(run, tokens)
    choice = _to_choice(run, parts, codebook, key)
    extra = {t: _to_choice(run, p, codebook, None) for t, p in swept.items() if sweep and p}
    for t, p in swept.items():
        run.sweep_early[t] = run.sweep_early.get(t, 0) + sum(int(x["early"].sum()) for x in p)
    return choice, extra


def _exit_at(full: LinkFMOutput, threshold: float) -> tuple[HeadOutputs, torch.Tensor]:
    """What the inference pass would output at ``threshold``, from a full pass's heads:
    each item takes the first exit whose rank + beam entropy is below it (HeadOutputs,
    and bool [B] left early)."""
    b = full.heads.rank_logits.shape[0]
    taken = torch.zeros(b, dtype=torch.bool)
    parts = []
    for h in full.exits:
        leave = ~taken & (h.confidence() < threshold)
        if bool(leave.any()):
            parts.append((leave.nonzero().flatten(), h.select(leave)))
        taken |= leave
    rest = (~taken).nonzero().flatten()
    if rest.numel():
        parts.append((rest, full.heads.select(rest)))
    return HeadOutputs.merge(parts, b), taken


def _time_exits(run: ModelRun, tokens: TokenBatch) -> None:
    """Time the inference pass at 0 and every sweep threshold on the first windows."""
    if run.sweep_timed_windows >= EXIT_TIMING_WINDOWS:
        return
    for t in (0.0, *run.exit_sweep):
        t0 = time.perf_counter()
        run.model(tokens, exit_threshold=t)
        run.sweep_seconds[t] = run.sweep_seconds.get(t, 0.0) + time.perf_counter() - t0
    run.sweep_timed_windows += tokens.batch_size


def _decide(h: HeadOutputs, early: torch.Tensor, n_beams: int) -> dict[str, torch.Tensor]:
    return {
        "rank_probs": h.rank_logits.float().softmax(-1),
        "ri": h.pmi_rank,
        **{p: h.pmi_logits[p].argmax(-1) for p in PMI_PARTS},
        "beam_probs": h.beam_logits[:, :n_beams].float().softmax(-1),
        "early": early,
    }


def _to_choice(run: ModelRun, parts: list[dict[str, torch.Tensor]], codebook: TypeICodebook,
               key: tuple[str, float] | None) -> Choice:
    """Batches of :func:`_decide` as one Choice; with ``key``, counted in ``run``."""
    got = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    if key is not None:
        run.windows[key] = run.windows.get(key, 0) + len(got["ri"])
        run.exited_early[key] = run.exited_early.get(key, 0) + int(got["early"].sum())
    ri = got["ri"].clamp(1, codebook.max_rank)
    pmi = flat_pmi(codebook, ri, tuple(got[p] for p in PMI_PARTS),
                   torch.ones_like(ri, dtype=torch.bool))
    run.invalid_pmi += int((pmi < 0).sum())
    pmi = pmi.clamp_min(0)  # never expected: the PMI heads are masked to valid values
    beam_order = got["beam_probs"].argsort(-1, descending=True)
    rank_order = got["rank_probs"].argsort(-1, descending=True) + 1
    return Choice(ri, pmi, beam_order[:, 0], rank_order=rank_order, beam_order=beam_order,
                  rank_probs=got["rank_probs"], beam_probs=got["beam_probs"])


def score(choice: Choice, codebook: TypeICodebook, y: Labels) -> Scored:
    """A choice scored against the oracle (see model.eval_metrics.Scored)."""
    ri_ok = choice.ri == y.ri
    return Scored(
        ri_ok=ri_ok,
        pmi_ok=ri_ok & (choice.pmi == y.pmi),
        rank_top2=top_k_hit(choice.rank_order, choice.ri, y.ri, 2),
        beam_top1=beam_hit(y.beam_rsrp_db, choice.beam[:, None]),
        beam_top3=beam_hit(y.beam_rsrp_db, _best_three(choice)),
        pred_ri=choice.ri,
        label_ri=y.ri,
        se=se_of(codebook, y.h_true, choice.ri, choice.pmi),
        rsrp_loss_db=rsrp_loss_db(y.beam_rsrp_db, choice.beam),
    )


def _best_three(choice: Choice) -> torch.Tensor:
    """[N, 3] the method's three best beams (-1 padded), its chosen beam first."""
    first = choice.beam[:, None]
    if choice.beam_order is None:
        return torch.cat([first, torch.full((len(first), 2), -1)], 1)
    order = torch.cat([choice.beam_order, torch.full((len(first), 3), -1)], 1)
    return torch.where(order[:, :1] == first, order[:, :3], torch.cat([first, order[:, :2]], 1))


def _take(tensors: dict[str, torch.Tensor], rows: torch.Tensor | None) -> dict[str, torch.Tensor]:
    return tensors if rows is None else {k: v[rows] for k, v in tensors.items()}


def evaluate_shard(split: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                   horizons: Sequence[float], runs: Sequence[ModelRun],
                   out: dict[tuple[str, float], Collected],
                   thresholds_db: tuple[float, ...] = SNR_THRESHOLDS_DB) -> None:
    """Score every method on one shard's samples; append to ``out[(split, horizon)]``."""
    samples = LinkSamples.from_shard(tensors, meta)
    book, n_beams = samples.codebook, samples.grid.n_beams
    baselines = all_baselines(samples, tuple(horizons), thresholds_db)
    family = tensors["meta.family_id"]
    umi_uma = torch.tensor([FAMILIES[int(f)].scenario in ("umi", "uma") for f in family],
                           dtype=torch.bool)
    for h in horizons:
        y = Labels.of(tensors, h)
        c = out.setdefault((split, h), Collected())
        c.speed_kmh.append(tensors["meta.speed_kmh"])
        c.snr_db.append(tensors["meta.snr_db"])
        c.family.append(family)
        c.scenario_umi_uma.append(umi_uma)
        for name in BASELINES:
            c.add(name, score(baselines[name][h], book, y))
        c.add("oracle", score(oracle_choice(y.ri, y.pmi, y.beam, y.beam_rsrp_db), book, y))
        for run in runs:
            if not run.main and (split, h) != HEADLINE:
                continue
            choice, swept = model_choice(run, model_windows(tensors, run.model, h), book,
                                         n_beams, (split, h), sweep=(split, h) == HEADLINE)
            c.add(run.name, score(choice, book, y))
            for t, other in swept.items():
                c.add(run.sweep_name(t), score(other, book, y))
            assert choice.rank_probs is not None and choice.beam_probs is not None
            c.add_probs(run.name, "rank", choice.rank_probs)
            c.add_probs(run.name, "rank_label", y.ri - 1)
            c.add_probs(run.name, "beam", choice.beam_probs)
            c.add_probs(run.name, "beam_label", y.beam)


def evaluate_splits(splits: Mapping[str, Sequence[Path]], horizons: Sequence[float],
                    runs: Sequence[ModelRun], max_samples: int | None,
                    progress: Callable[[str, int], Any] | None = None,
                    thresholds_db: tuple[float, ...] = SNR_THRESHOLDS_DB
                    ) -> dict[tuple[str, float], Collected]:
    """Every split's shards through :func:`evaluate_shard`; ``progress(split, n_shards)``
    wraps each split's shard list (e.g. a tqdm bar)."""
    out: dict[tuple[str, float], Collected] = {}
    for split, paths in splits.items():
        rows = pick_rows(paths, max_samples)
        items: Any = list(zip(paths, rows, strict=True))
        if progress is not None:
            items = progress(split, len(paths))(items)
        for path, r in items:
            tensors, meta = load_shard(path)
            evaluate_shard(split, _take(tensors, r), meta, horizons, runs, out, thresholds_db)
    return out


def describe() -> dict[str, Any]:
    """The baselines' settings, for the report."""
    return {"snr_thresholds_db": list(SNR_THRESHOLDS_DB), "mode_window": MODE_WINDOW,
            "ar_max_order": AR_MAX_ORDER, "codebooks_of": "shard headers"}


def finite(x: Any) -> Any:
    """JSON-safe: NaN/inf floats -> None, recursively."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [finite(v) for v in x]
    return x


__all__ = ["HEADLINE", "Collected", "Labels", "ModelRun", "codebook_of", "describe",
           "evaluate_shard", "evaluate_splits", "finite", "grid_of", "model_choice",
           "model_windows", "pick_rows", "score"]
