"""From per-UE windows of feature values to the padded token tensors the network reads.

Input (what the xApp's ingest builds from decoded reports, and the dataset writer stores):
``windows: Mapping[str, tuple[values, mask]]`` keyed by registry feature name.

- per-slot features: ``values`` [B, T, *shape] (T = slots, oldest first, the last slot is
  the latest report), ``mask`` bool of the same shape, True where observed;
- window features (KPM counters and context ``ctx.*``, ``per_slot=False`` in the registry):
  ``values`` [B, *shape], ``mask`` the same shape;
- ``shape`` is :meth:`FeatureRegistry.shape` (padded to the registry's PaddingDims): vectors
  [n_subbands or n_beams], the channel estimate [subband, rx, tx] complex64;
- categoricals hold class indices (int64): ``csi.ri`` is rank - 1, ``ctx.codebook`` an id of
  :data:`model.pmi_space.CODEBOOK_CONFIGS`; values are raw (not normalised).

A feature absent from ``windows`` counts as unobserved everywhere.

Token layout (fixed for a registry and config, see :class:`TokenLayout`): tokens are grouped
by kind (scalars, vectors, matrix patches, categoricals); inside a kind, feature-major then
slot. Window features use the extra slot id ``T``. Channel estimates become patches of
``patch_subbands`` consecutive subbands x one receive antenna x all ports (real and imaginary
parts together), only for the last ``matrix_slots`` slots: the estimate is the heaviest input
and older ones add little once the reported CSI history is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch

from model.pmi_space import CODEBOOK_CONFIGS
from model.registry import FeatureKind, FeatureRegistry, NormaliserStats

Windows = Mapping[str, tuple[torch.Tensor, torch.Tensor]]
KINDS = (FeatureKind.SCALAR, FeatureKind.VECTOR, FeatureKind.MATRIX, FeatureKind.CATEGORICAL)


@dataclass(frozen=True)
class TokenLayout:
    """Which feature and slot every token position holds.

    Attributes:
        registry: the feature registry.
        n_slots: report periods per window (T).
        patch_subbands: subbands per channel-estimate patch.
        matrix_slots: how many of the latest slots carry channel-estimate patches.
        names: per kind, the feature names in token order.
        feature_id: [N] registry index of each token (kinds concatenated in KINDS order).
        slot_id: [N] slot of each token, T for window (KPM and context) features.
        counts: tokens per kind, in KINDS order.
        vector_len: padded vector length (longest vector feature).
        patch_dim: floats per patch = 2 * patch_subbands * max_tx.
    """

    registry: FeatureRegistry
    n_slots: int
    patch_subbands: int
    matrix_slots: int
    names: dict[FeatureKind, tuple[str, ...]]
    feature_id: torch.Tensor
    slot_id: torch.Tensor
    counts: tuple[int, int, int, int]
    vector_len: int
    patch_dim: int

    @property
    def n_tokens(self) -> int:
        """Tokens per window, CLS excluded."""
        return sum(self.counts)

    def patches_per_slot(self) -> int:
        dims = self.registry.dims
        return (dims.max_subbands // self.patch_subbands) * dims.max_rx

    def tokens_of(self, name: str, slot: int | None = None) -> torch.Tensor:
        """Token positions (CLS excluded) holding ``name`` (at ``slot`` if given): [k] int64."""
        hit = self.feature_id == self.registry.index(name)
        if slot is not None:
            hit &= self.slot_id == slot
        return hit.nonzero().flatten()

    @classmethod
    def build(
        cls, registry: FeatureRegistry, n_slots: int, patch_subbands: int, matrix_slots: int
    ) -> TokenLayout:
        dims = registry.dims
        if dims.max_subbands % patch_subbands:
            raise ValueError(f"patch_subbands={patch_subbands} must divide {dims.max_subbands}")
        if not 0 <= matrix_slots <= n_slots:
            raise ValueError(f"matrix_slots={matrix_slots} must be within 0..{n_slots}")
        names: dict[FeatureKind, tuple[str, ...]] = {}
        fid: list[int] = []
        sid: list[int] = []
        counts: list[int] = []
        for kind in KINDS:
            feats = [f for f in registry.features if f.kind is kind]
            # per-slot features first, then window features: both orders are fixed
            feats = [f for f in feats if f.per_slot] + [f for f in feats if not f.per_slot]
            names[kind] = tuple(f.name for f in feats)
            start = len(fid)
            for f in feats:
                if not f.per_slot:
                    slots = [n_slots]
                elif kind is FeatureKind.MATRIX:
                    per = (dims.max_subbands // patch_subbands) * dims.max_rx
                    slots = [t for t in range(n_slots - matrix_slots, n_slots) for _ in range(per)]
                else:
                    slots = list(range(n_slots))
                fid += [registry.index(f.name)] * len(slots)
                sid += slots
            counts.append(len(fid) - start)
        vec_lens = [registry.shape(n)[0] for n in names[FeatureKind.VECTOR]]
        return cls(
            registry=registry,
            n_slots=n_slots,
            patch_subbands=patch_subbands,
            matrix_slots=matrix_slots,
            names=names,
            feature_id=torch.tensor(fid, dtype=torch.long),
            slot_id=torch.tensor(sid, dtype=torch.long),
            counts=(counts[0], counts[1], counts[2], counts[3]),
            vector_len=max(vec_lens, default=1),
            patch_dim=2 * patch_subbands * dims.max_tx,
        )


@dataclass(frozen=True)
class TokenBatch:
    """Normalised, padded token values for B windows (N = layout.n_tokens).

    Attributes:
        scalar: [B, Ns] float32.
        vector: [B, Nv, L] float32, zero where invalid; vector_valid [B, Nv, L] bool.
        matrix: [B, Nm, P] float32 patches; matrix_valid [B, Nm, P] bool.
        categorical: [B, Nc] int64 class indices (0 where absent).
        present: [B, N] bool, the token carries an observation (False -> key-padded).
        masked: [B, N] bool, the token's value is hidden behind the [MASK] embedding.
        codebook: [B] int64 codebook config id; n_rx: [B] int64; n_beams: [B] int64.
    """

    scalar: torch.Tensor
    vector: torch.Tensor
    vector_valid: torch.Tensor
    matrix: torch.Tensor
    matrix_valid: torch.Tensor
    categorical: torch.Tensor
    present: torch.Tensor
    masked: torch.Tensor
    codebook: torch.Tensor
    n_rx: torch.Tensor
    n_beams: torch.Tensor

    @property
    def batch_size(self) -> int:
        return int(self.present.shape[0])

    def with_mask(self, masked: torch.Tensor) -> TokenBatch:
        """The same batch with ``masked`` [B, N] hidden (only present tokens can be)."""
        return replace(self, masked=masked & self.present)

    def select(self, items: torch.Tensor) -> TokenBatch:
        """The windows at ``items`` ([k] int64 or [B] bool)."""
        return TokenBatch(*(getattr(self, f)[items] for f in self.__dataclass_fields__))


def _window(
    windows: Windows,
    name: str,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    last: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(values, mask) of ``name`` checked against its padded ``shape``; non-finite values
    count as unobserved. An absent feature is all-unobserved. ``last`` keeps only that many
    of the latest slots (axis 1), cut before any work on the values."""
    shape_out = shape if last is None else (shape[0], last, *shape[2:])
    if name not in windows:
        return torch.zeros(shape_out, dtype=dtype), torch.zeros(shape_out, dtype=torch.bool)
    values, mask = windows[name]
    if tuple(values.shape) != shape or tuple(mask.shape) != shape:
        raise ValueError(
            f"{name}: values {tuple(values.shape)} and mask {tuple(mask.shape)} must both be "
            f"{shape} (batch, slots if per-slot, then the registry's padded shape)"
        )
    if last is not None:
        values, mask = values[:, shape[1] - last :], mask[:, shape[1] - last :]
    mask = mask.bool()
    if values.is_complex():  # finite iff both parts are; cheaper than isfinite on complex
        mask = mask & torch.view_as_real(values).isfinite().all(-1)
    elif values.is_floating_point():
        mask = mask & torch.isfinite(values)
    return values.to(dtype), mask


def _batch_size(windows: Windows) -> int:
    for values, _ in windows.values():
        return int(values.shape[0])
    raise ValueError("windows is empty: at least one feature is needed")


def tokenize(windows: Windows, layout: TokenLayout, stats: NormaliserStats) -> TokenBatch:
    """Normalise and pad ``windows`` into a :class:`TokenBatch` laid out as ``layout``."""
    reg, dims, T = layout.registry, layout.registry.dims, layout.n_slots
    B = _batch_size(windows)

    def slot_shape(name: str) -> tuple[int, ...]:
        lead = (B, T) if reg[name].per_slot else (B,)
        return lead + reg.shape(name)

    # scalars: [B, T] per feature (window features [B] -> [B, 1]) -> [B, Ns]
    vals, pres = [], []
    for name in layout.names[FeatureKind.SCALAR]:
        x, m = _window(windows, name, slot_shape(name), torch.float32)
        x = torch.where(m, reg.normalise(name, x, stats), 0.0)
        vals.append(x.reshape(B, -1))
        pres.append(m.reshape(B, -1))
    scalar, scalar_present = torch.cat(vals, 1), torch.cat(pres, 1)

    # vectors: [B, T, Lf] -> padded [B, T, L] -> [B, Nv, L]
    L = layout.vector_len
    vals, valid = [], []
    for name in layout.names[FeatureKind.VECTOR]:
        x, m = _window(windows, name, slot_shape(name), torch.float32)
        x = torch.where(m, reg.normalise(name, x, stats), 0.0)
        pad = L - x.shape[-1]
        vals.append(torch.nn.functional.pad(x, (0, pad)).reshape(B, -1, L))
        valid.append(torch.nn.functional.pad(m, (0, pad)).reshape(B, -1, L))
    vector = torch.cat(vals, 1) if vals else torch.zeros(B, 0, L)
    vector_valid = torch.cat(valid, 1) if valid else torch.zeros(B, 0, L, dtype=torch.bool)

    # matrices: [B, T, S, R, X] complex -> last matrix_slots -> patches [B, Nm, 2 g X]
    g, ms = layout.patch_subbands, layout.matrix_slots
    vals, valid = [], []
    for name in layout.names[FeatureKind.MATRIX]:
        # only the last ms slots are tokenised: slice before checking and normalising
        h, m = _window(windows, name, slot_shape(name), torch.complex64, last=ms)
        h = torch.where(m, reg.normalise(name, h, stats), 0)
        # [B, ms, S/g, g, R, X] -> [B, ms, S/g, R, g, X]: a patch = g subbands of one rx
        shape6 = (B, ms, dims.max_subbands // g, g, dims.max_rx, dims.max_tx)
        h = h.reshape(shape6).transpose(3, 4)
        m = m.reshape(shape6).transpose(3, 4)
        re_im = torch.view_as_real(h.contiguous())  # [B, ms, S/g, R, g, X, 2]
        vals.append(re_im.reshape(B, -1, layout.patch_dim))
        # the real and imaginary parts share their entry's validity (stack: one plain copy)
        valid.append(torch.stack([m, m], -1).reshape(B, -1, layout.patch_dim))
    P = layout.patch_dim
    matrix = torch.cat(vals, 1) if vals else torch.zeros(B, 0, P)
    matrix_valid = torch.cat(valid, 1) if valid else torch.zeros(B, 0, P, dtype=torch.bool)

    # categoricals: [B, T] int64 class indices -> [B, Nc]; out-of-range counts as absent
    vals, pres = [], []
    for name in layout.names[FeatureKind.CATEGORICAL]:
        x, m = _window(windows, name, slot_shape(name), torch.long)
        m = m & (x >= 0) & (x < reg[name].n_classes)
        vals.append(torch.where(m, x, 0).reshape(B, -1))
        pres.append(m.reshape(B, -1))
    categorical, cat_present = torch.cat(vals, 1), torch.cat(pres, 1)

    present = torch.cat(
        [scalar_present, vector_valid.any(-1), matrix_valid.any(-1), cat_present], 1
    )
    return TokenBatch(
        scalar=scalar,
        vector=vector,
        vector_valid=vector_valid,
        matrix=matrix,
        matrix_valid=matrix_valid,
        categorical=categorical,
        present=present,
        masked=torch.zeros_like(present),
        codebook=_context_int(windows, "ctx.codebook", B, default=len(CODEBOOK_CONFIGS) - 1),
        n_rx=_context_int(windows, "ctx.n_rx", B, default=dims.max_rx),
        n_beams=_context_int(windows, "ctx.n_beams", B, default=dims.max_beams),
    )


def _context_int(windows: Windows, name: str, batch: int, default: int) -> torch.Tensor:
    """A per-window integer context value [B], ``default`` where unobserved."""
    if name not in windows:
        return torch.full((batch,), default, dtype=torch.long)
    values, mask = windows[name]
    return torch.where(mask.bool(), values.round().long(), default)
