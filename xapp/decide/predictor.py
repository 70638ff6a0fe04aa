"""Predictors: windows of UE reports in, rank/PMI/beam with confidences out.

Two implementations share the :class:`Predictor` interface:

- :class:`ClassicalPredictor` is the **classical policy**, used until a model checkpoint
  exists: an exhaustive Type-I RI/PMI search (``e2sim.csi.select_csi``, pure torch, no
  Sionna) on the latest SRS channel estimate of each UE. It needs channel estimates; UEs
  without one get no prediction (the policy layer then falls back to the UE's report).
- :class:`ModelPredictor` loads a LinkFM checkpoint and runs it batched under
  ``torch.inference_mode`` on 2 intra-op threads.

Both are synchronous and CPU-bound. Intra-op threads are a process-wide torch setting that
each predictor sets when built: the classical search is many small ops, for which extra
threads only cost (spinning OpenMP workers on a loaded 2-core machine made a 64-UE search
take 120 ms instead of 2-10 ms), so it uses 1; the model uses 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from e2sim.csi.codebook import TypeICodebook
from e2sim.csi.selection import select_csi
from model.checkpoint import load_checkpoint
from model.pmi_space import PMI_PARTS, CodebookConfig
from model.registry import FeatureRegistry
from model.tokenize import tokenize
from xapp.e2.csi_types import Pmi
from xapp.e2.recommendation import MAX_MODEL_VERSION, Confidence
from xapp.ingest.windows import CellContext

Windows = dict[str, tuple[torch.Tensor, torch.Tensor]]

CLASSICAL_VERSION = "classical-typeI-search"
"""model_version of recommendations made by the classical policy."""


@dataclass(frozen=True)
class Prediction:
    """One UE's predicted link-adaptation values.

    Attributes:
        rank: layers, 1 .. max_rank of the request.
        pmi: Type-I PMI consistent with ``rank`` (``i13`` None at rank 1 and for 2 ports).
        beam_index: the recommended beam, or None when the predictor makes no beam decision.
        confidence: probabilities 0..1 per decision (beam 0 without a beam).
        rank_capped: the unconstrained choice had a higher rank than allowed.
    """

    rank: int
    pmi: Pmi
    beam_index: int | None
    confidence: Confidence
    rank_capped: bool = False


@dataclass(frozen=True)
class PredictionRequest:
    """A batch to predict: B windows (see ``UeWindowStore.windows``), their cell contexts
    and the highest rank the policy allows for each (all of length B)."""

    windows: Windows
    contexts: Sequence[CellContext]
    max_ranks: Sequence[int]

    @property
    def size(self) -> int:
        return len(self.contexts)


class Predictor(Protocol):
    """Anything that turns a :class:`PredictionRequest` into one result per window."""

    @property
    def version(self) -> str:
        """What goes in ``Recommendation.model_version`` (1..64 characters)."""
        ...

    @property
    def registry(self) -> FeatureRegistry:
        """The feature layout its windows must have."""
        ...

    @property
    def n_slots(self) -> int:
        """Slots per window it reads."""
        ...

    @property
    def features(self) -> tuple[str, ...] | None:
        """The per-slot features it reads (None: all of the registry's)."""
        ...

    def predict(self, request: PredictionRequest) -> list[Prediction | None]:
        """One prediction per window; None where the inputs do not allow one."""
        ...


def _pmi(codebook: CodebookConfig | TypeICodebook, rank: int, parts: Sequence[int]) -> Pmi:
    """A Pmi from (i11, i12, i13, i2); i13 is only carried where it exists."""
    i11, i12, i13, i2 = (int(p) for p in parts)
    has_i13 = rank >= 2 and codebook.n_ports > 2
    return Pmi(i11, i12, i2, i13 if has_i13 else None)


class ClassicalPredictor:
    """The classical policy: exhaustive RI/PMI search on the latest channel estimate.

    The estimate is used as reported, i.e. taken to be noise-whitened (noise variance 1 per
    receive antenna), which is what the simulator's nodes send. Confidences are a margin
    heuristic, not calibrated probabilities: rank confidence = softmax over the best SE of
    each allowed rank with a temperature of ``temperature_bits`` bit/s/Hz; the PMI inherits
    it. No beam decision is made (beam grids need the node's array geometry).

    Args:
        registry: the window layout (default: the model registry's default sizes).
        n_slots: slots per window to keep (only the last one is read).
        temperature_bits: softness of the rank confidence (bit/s/Hz).
        threads: torch intra-op threads (process-wide).
    """

    version = CLASSICAL_VERSION
    features: tuple[str, ...] | None = ("csi.h_est",)

    def __init__(self, registry: FeatureRegistry | None = None, n_slots: int = 4,
                 temperature_bits: float = 0.25, threads: int = 1) -> None:
        torch.set_num_threads(threads)
        self._registry = registry or FeatureRegistry()
        self._n_slots = n_slots
        self._temperature = temperature_bits
        self._codebooks: dict[CodebookConfig, TypeICodebook] = {}

    @property
    def registry(self) -> FeatureRegistry:
        return self._registry

    @property
    def n_slots(self) -> int:
        return self._n_slots

    def _codebook(self, cfg: CodebookConfig) -> TypeICodebook:
        book = self._codebooks.get(cfg)
        if book is None:
            book = TypeICodebook(cfg.n_ports) if cfg.n_ports == 2 else TypeICodebook(
                cfg.n_ports, cfg.n1, cfg.n2, cfg.o1, cfg.o2)
            self._codebooks[cfg] = book
        return book

    def predict(self, request: PredictionRequest) -> list[Prediction | None]:
        values, mask = request.windows["csi.h_est"]  # [B, T, S, R, X] complex64, bool
        latest, present = values[:, -1], mask[:, -1]  # newest slot last
        out: list[Prediction | None] = [None] * request.size
        # One search per antenna shape: UEs of a cell share it, so groups are few.
        groups: dict[tuple[CodebookConfig, int, int, int, int], list[int]] = {}
        for b, ctx in enumerate(request.contexts):
            if ctx.codebook.n_ports == ctx.n_tx:
                key = (ctx.codebook, ctx.n_subbands, ctx.n_rx, ctx.n_tx, request.max_ranks[b])
                groups.setdefault(key, []).append(b)
        for (cfg, n_sb, n_rx, n_tx, max_rank), rows in groups.items():
            index = torch.tensor(rows)
            complete = present[index, :n_sb, :n_rx, :n_tx].flatten(1).all(1)  # [b]
            if not bool(complete.any()):
                continue
            index = index[complete]
            self._search(self._codebook(cfg), latest[index, :n_sb, :n_rx, :n_tx], max_rank,
                         index.tolist(), out)
        return out

    def _search(self, book: TypeICodebook, h: torch.Tensor, max_rank: int, rows: list[int],
                out: list[Prediction | None]) -> None:
        """Exhaustive search on h [b, n_sb, n_rx, n_tx]; writes out[rows[j]]."""
        search = select_csi(book, h)  # every rank the antennas allow
        allowed = search.se_per_rank.clone()  # [b, book.max_rank], -inf where impossible
        allowed[:, max_rank:] = float("-inf")
        ranks = allowed.argmax(-1) + 1  # first maximum: ties go to the lower rank
        flat = search.pmi_per_rank.gather(1, (ranks - 1)[:, None])[:, 0]  # [b]
        parts = torch.zeros(len(rows), 4, dtype=torch.int64)
        for r in sorted(set(ranks.tolist())):
            hit = ranks == r
            parts[hit] = book.indices(r)[flat[hit]]
        conf = torch.softmax(allowed / self._temperature, dim=-1).gather(
            1, (ranks - 1)[:, None])[:, 0].nan_to_num(0.0)
        capped = (search.ri > ranks).tolist()
        for j, (rank, comps, c) in enumerate(zip(ranks.tolist(), parts.tolist(), conf.tolist(),
                                                 strict=True)):
            out[rows[j]] = Prediction(rank, _pmi(book, rank, comps), None,
                                      Confidence(c, c, 0.0), rank_capped=capped[j])


class ModelPredictor:
    """A LinkFM checkpoint, batched, under ``torch.inference_mode`` on ``threads`` threads.

    Args:
        path: checkpoint folder (``model.checkpoint.save_checkpoint``).
        exit_threshold: early-exit entropy threshold in nats (None: every layer).
        threads: torch intra-op threads (process-wide setting; 2 on the target machine).
    """

    def __init__(self, path: str | Path, exit_threshold: float | None = None,
                 threads: int = 2) -> None:
        torch.set_num_threads(threads)
        checkpoint = load_checkpoint(path)
        self._model = checkpoint.model.eval()
        self._stats = checkpoint.stats
        self._exit = exit_threshold
        given = str(checkpoint.eval_summary.get("model_version", "")) or f"linkfm-{Path(path).name}"
        self._version = given[:MAX_MODEL_VERSION]

    @property
    def version(self) -> str:
        return self._version

    @property
    def features(self) -> tuple[str, ...] | None:
        return None

    @property
    def registry(self) -> FeatureRegistry:
        return self._model.registry

    @property
    def n_slots(self) -> int:
        return self._model.cfg.n_slots

    def predict(self, request: PredictionRequest) -> list[Prediction | None]:
        if request.size == 0:
            return []
        with torch.inference_mode():
            tokens = tokenize(request.windows, self._model.layout, self._stats)
            heads = self._model(tokens, exit_threshold=self._exit).heads
            caps = torch.tensor(request.max_ranks, dtype=torch.int64)
            free_rank = heads.rank()
            capped = free_rank > caps
            if bool(capped.any()):
                # The PMI head is conditioned on the rank: re-run the capped rows with the
                # highest allowed rank forced, so PMI and rank stay consistent.
                rows = capped.nonzero().flatten()
                allowed = heads.rank_logits[rows].masked_fill(
                    torch.arange(1, heads.rank_logits.shape[1] + 1)[None, :] > caps[rows, None],
                    torch.finfo(heads.rank_logits.dtype).min)
                forced = allowed.argmax(-1) + 1
                redo = self._model(tokens.select(rows), rank=forced,
                                   exit_threshold=self._exit).heads
                for j, row in enumerate(rows.tolist()):
                    heads.pmi_rank[row] = forced[j]
                    for part in PMI_PARTS:
                        heads.pmi_logits[part][row] = redo.pmi_logits[part][j]
            rank_p = heads.rank_logits.softmax(-1)
            pmi_p = {p: heads.pmi_logits[p].softmax(-1) for p in PMI_PARTS}
            beam_p = heads.beam_logits.softmax(-1)
        out: list[Prediction | None] = []
        for b, ctx in enumerate(request.contexts):
            rank = int(heads.pmi_rank[b])
            parts = [int(pmi_p[p][b].argmax()) for p in PMI_PARTS]
            pmi_conf = math.prod(float(pmi_p[p][b].max()) for p in PMI_PARTS)
            beam = int(beam_p[b].argmax())
            out.append(Prediction(
                rank=rank, pmi=_pmi(ctx.codebook, rank, parts), beam_index=beam,
                confidence=Confidence(float(rank_p[b, rank - 1]), pmi_conf,
                                      float(beam_p[b, beam])),
                rank_capped=bool(capped[b])))
        return out
