"""LinkFM: a multi-feature transformer over windows of KPM and CSI reports.

One token per (feature, slot), a few per channel-estimate slot (patches), one per context
feature, plus a CLS token:

    token = [ tokenizer_kind(x_{f,t}) + slot_emb(t)  ||  feature_emb(f) ]
              `-------- d_model - d_feature_emb ----'     `-- d_feature_emb --'

Tokenizers by kind: scalars -> Fourier features [cos(2 pi x / lambda_i), sin(2 pi x / lambda_i)]
then a linear map; vectors -> a linear map of [values * valid, valid]; channel-estimate
patches -> a linear map of [re/im values * valid, valid]; categoricals -> an embedding per
class. A masked token (pretraining, or a value the caller wants predicted) replaces its value
embedding by a learned [MASK] vector of its kind; it keeps its slot and feature embeddings.
Tokens with no observation (missing features, patches of absent receive antennas or
subbands) are key-padded out of attention; padded ports, subbands and beams inside a token
are zeroed and flagged by the validity inputs of its tokenizer.

A pre-LN encoder (fused scaled_dot_product_attention) follows; heads read the CLS token:
rank (4 classes), PMI i11/i12/i13/i2 (conditioned on the rank and masked to the values that
exist for the UE's codebook and that rank), beam (masked to the UE's beam count), CQI and SE.
Per-token reconstruction heads decode every token back to its own (normalised) space for
masked pretraining. Early-exit heads after chosen layers let easy windows stop early.
What a forward pass returns is in model/outputs.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from model.outputs import HeadOutputs, LinkFMOutput, Reconstruction, mask_logits
from model.pmi_space import PMI_PARTS, PMI_SIZES, pmi_mask_table, rank_mask
from model.registry import MAX_RANK, FeatureKind, FeatureRegistry, PaddingDims
from model.tokenize import TokenBatch, TokenLayout

CQI_SCALE = 15.0  # CQI index range: the CQI head predicts in units of this
SE_SCALE = 10.0  # bit/s/Hz, about 4 layers of 256-QAM: the SE head's unit


@dataclass(frozen=True)
class LinkFMConfig:
    """Every size of the network; stored as JSON in checkpoints."""

    # Defaults are sized for CPU inference of >= 6,400 windows/s (batch 64, 2 cores); see
    # `linkfm bench model` (bench/model.py) for the measurement.
    d_model: int = 32  # token width (value part + feature-embedding part)
    n_layers: int = 3
    n_heads: int = 2  # few heads: CPU attention cost grows with heads, not head width
    d_feature_emb: int = 8  # concatenated feature-embedding width
    mlp_ratio: int = 2  # FFN hidden = mlp_ratio * d_model
    n_slots: int = 4  # report periods per window
    patch_subbands: int = 8  # subbands per channel-estimate patch
    matrix_slots: int = 1  # latest slots whose channel estimate is tokenised
    max_tx: int = 8
    max_rx: int = 4
    max_subbands: int = 16
    max_beams: int = 32
    n_fourier: int = 8  # Fourier frequencies for scalars
    fourier_min_wavelength: float = 0.25  # in normalised units (z-scores)
    fourier_max_wavelength: float = 32.0
    dropout: float = 0.0
    early_exit_layers: tuple[int, ...] = (1,)  # 1-based layer numbers followed by exit heads

    def __post_init__(self) -> None:
        if self.d_feature_emb >= self.d_model:
            raise ValueError("d_feature_emb must be smaller than d_model")
        if self.d_model % self.n_heads:
            raise ValueError("n_heads must divide d_model")
        if any(not 1 <= i < self.n_layers for i in self.early_exit_layers):
            raise ValueError(f"early exits must be after layers 1..{self.n_layers - 1}")

    def dims(self) -> PaddingDims:
        return PaddingDims(self.max_tx, self.max_rx, self.max_subbands, self.max_beams)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["early_exit_layers"] = list(self.early_exit_layers)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkFMConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        kw = dict(data)
        if "early_exit_layers" in kw:
            kw["early_exit_layers"] = tuple(kw["early_exit_layers"])
        return cls(**kw)


class SelfAttention(nn.Module):
    def __init__(self, cfg: LinkFMConfig) -> None:
        super().__init__()
        self.n_heads, self.dropout = cfg.n_heads, cfg.dropout
        # no bias: on CPU, addmm's bias broadcast costs as much as the small matmul itself
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor, keep: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        """x [B, N, D], keep [B, N] -> [B, N, D], or [B, 1, D] if only CLS queries."""
        B, _, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).split(D, dim=2)  # 3 x [B, N, D]
        if cls_only:
            q = q[:, :1]  # [B, 1, D]
        q, k, v = (t.reshape(B, -1, H, D // H).transpose(1, 2) for t in (q, k, v))  # [B, H, n, D/H]
        # keep [B, N] -> [B, 1, 1, N]: every query may attend to every observed key
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=keep[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )  # [B, H, n, D/H]
        out: torch.Tensor = self.proj(y.transpose(1, 2).reshape(B, -1, D))
        return out


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, cfg: LinkFMConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model)
        self.fc_out = nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        """x [B, N, D] -> [B, N, D]; with cls_only, the CLS row only [B, 1, D] (the last
        layer at inference, when no per-token output is needed)."""
        a = self.attn(self.ln1(x), keep, cls_only)
        x = (x[:, :1] if cls_only else x) + self.drop(a)
        out: torch.Tensor = x + self.drop(self.fc_out(F.gelu(self.fc(self.ln2(x)))))
        return out


class Heads(nn.Module):
    """Task heads on a CLS embedding."""

    def __init__(self, cfg: LinkFMConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.ln = nn.LayerNorm(d)
        self.rank = nn.Linear(d, MAX_RANK)
        self.rank_emb = nn.Embedding(MAX_RANK, d)  # PMI depends on the rank it is chosen for
        self.pmi = nn.ModuleDict({p: nn.Linear(d, n) for p, n in PMI_SIZES.items()})
        self.beam = nn.Linear(d, cfg.max_beams)
        self.cqi_se = nn.Linear(d, 2)
        self.beam_ids: torch.Tensor
        self.register_buffer("beam_ids", torch.arange(cfg.max_beams), persistent=False)
        # validity of every PMI value, parts concatenated: [n_configs, 4 ranks, sum(PMI_SIZES)]
        self.pmi_valid: torch.Tensor
        table = torch.cat([pmi_mask_table()[p] for p in PMI_PARTS], -1)
        self.register_buffer("pmi_valid", table, persistent=False)

    def forward(
        self, cls: torch.Tensor, batch: TokenBatch, rank: torch.Tensor | None = None
    ) -> HeadOutputs:
        h = self.ln(cls)  # [B, d]
        rank_logits = mask_logits(self.rank(h), rank_mask(batch.codebook, batch.n_rx))
        if rank is None:
            rank = rank_logits.argmax(-1) + 1  # [B] predicted rank conditions the PMI
        h_pmi = h + self.rank_emb(rank - 1)
        valid = self.pmi_valid[batch.codebook, rank - 1]  # [B, sum(PMI_SIZES)]
        sizes = [PMI_SIZES[p] for p in PMI_PARTS]
        pmi = {
            part: mask_logits(self.pmi[part](h_pmi), v)
            for part, v in zip(PMI_PARTS, torch.split(valid, sizes, -1), strict=True)
        }
        beam_valid = self.beam_ids[None, :] < batch.n_beams[:, None]  # [B, max_beams]
        cqi_se = self.cqi_se(h)  # [B, 2]
        return HeadOutputs(
            rank_logits=rank_logits,
            pmi_logits=pmi,
            pmi_rank=rank,
            beam_logits=mask_logits(self.beam(h), beam_valid),
            cqi=cqi_se[:, 0] * CQI_SCALE,
            se=cqi_se[:, 1] * SE_SCALE,
        )


class LinkFM(nn.Module):
    """The foundation model. ``forward(batch)`` -> :class:`LinkFMOutput`."""

    def __init__(self, cfg: LinkFMConfig, registry: FeatureRegistry | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.registry = registry or FeatureRegistry(cfg.dims())
        if self.registry.dims != cfg.dims():
            raise ValueError(f"registry dims {self.registry.dims} != config dims {cfg.dims()}")
        self.layout = TokenLayout.build(
            self.registry, cfg.n_slots, cfg.patch_subbands, cfg.matrix_slots
        )
        lay, dv = self.layout, cfg.d_model - cfg.d_feature_emb
        cat_names = lay.names[FeatureKind.CATEGORICAL]
        n_classes = [self.registry[n].n_classes for n in cat_names]
        self.max_classes = max(n_classes)

        # --- tokenizers: raw value -> [.., dv] ---
        wavelengths = torch.logspace(
            math.log10(cfg.fourier_min_wavelength),
            math.log10(cfg.fourier_max_wavelength),
            cfg.n_fourier,
        )
        self.fourier_freq: torch.Tensor
        self.register_buffer("fourier_freq", 2 * math.pi / wavelengths, persistent=False)
        self.scalar_tok = nn.Linear(2 * cfg.n_fourier + 1, dv)  # + the raw value itself
        self.vector_tok = nn.Linear(2 * lay.vector_len, dv)
        self.matrix_tok = nn.Linear(2 * lay.patch_dim, dv)
        self.cat_tok = nn.Embedding(sum(n_classes), dv)
        self.mask_emb = nn.Parameter(torch.zeros(len(FeatureKind), dv))  # one [MASK] per kind
        self.slot_emb = nn.Embedding(cfg.n_slots + 1, dv)  # + the context "slot"
        self.feature_emb = nn.Embedding(len(self.registry.features), cfg.d_feature_emb)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

        # token bookkeeping (fixed by the layout)
        Ns, Nv, Nm, _ = lay.counts
        kind_id = torch.repeat_interleave(torch.arange(4), torch.tensor(lay.counts))
        cat_tokens = lay.feature_id[Ns + Nv + Nm :]
        per_feature_offset = torch.tensor([0, *n_classes[:-1]]).cumsum(0)
        cat_index = {self.registry.index(n): i for i, n in enumerate(cat_names)}
        cat_slot = torch.tensor([cat_index[int(f)] for f in cat_tokens], dtype=torch.long)
        self.kind_id: torch.Tensor
        self.register_buffer("kind_id", kind_id, persistent=False)  # [N]
        self.feature_id: torch.Tensor
        self.register_buffer("feature_id", lay.feature_id.clone(), persistent=False)  # [N]
        self.slot_id: torch.Tensor
        self.register_buffer("slot_id", lay.slot_id.clone(), persistent=False)  # [N]
        self.cat_offset: torch.Tensor
        self.register_buffer("cat_offset", per_feature_offset[cat_slot], persistent=False)
        cat_valid = (
            torch.arange(self.max_classes)[None, :] < torch.tensor(n_classes)[cat_slot, None]
        )
        self.cat_valid: torch.Tensor
        self.register_buffer("cat_valid", cat_valid, persistent=False)  # [Nc, K]

        # --- encoder and heads ---
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.exit_heads = nn.ModuleList(Heads(cfg) for _ in cfg.early_exit_layers)
        self.heads = Heads(cfg)
        self.recon_scalar = nn.Linear(cfg.d_model, 1)
        self.recon_vector = nn.Linear(cfg.d_model, lay.vector_len)
        self.recon_matrix = nn.Linear(cfg.d_model, lay.patch_dim)
        self.recon_cat = nn.Linear(cfg.d_model, self.max_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ tokens
    def embed_tokens(self, b: TokenBatch) -> torch.Tensor:
        """TokenBatch -> token sequence [B, 1 + N, d_model] (CLS first)."""
        # scalars [B, Ns] -> [B, Ns, 2 n_fourier + 1] -> [B, Ns, dv]
        angle = b.scalar[..., None] * self.fourier_freq  # [B, Ns, n_fourier]
        s = self.scalar_tok(torch.cat([angle.cos(), angle.sin(), b.scalar[..., None]], -1))
        # vectors [B, Nv, L] (+ validity) -> [B, Nv, dv]
        v = self.vector_tok(torch.cat([b.vector, b.vector_valid.float()], -1))
        # patches [B, Nm, P] (+ validity) -> [B, Nm, dv]
        m = self.matrix_tok(torch.cat([b.matrix, b.matrix_valid.float()], -1))
        # categoricals [B, Nc] -> [B, Nc, dv] (each feature owns a slice of the table)
        c = self.cat_tok(b.categorical + self.cat_offset)
        x = torch.cat([s, v, m, c], 1)  # [B, N, dv]
        # hide masked values behind their kind's [MASK] (inference hides none); zero
        # unobserved ones
        if b.masked.any():
            x = torch.where(b.masked[..., None], self.mask_emb[self.kind_id], x)
        x = torch.where(b.present[..., None], x, 0.0)
        # written in place of two concatenations: one copy of [B, 1 + N, d_model] fewer
        B, dv = x.shape[0], x.shape[2]
        out = x.new_empty(B, 1 + x.shape[1], self.cfg.d_model)
        out[:, :1] = self.cls_token  # CLS first
        # value part [B, N, dv] + slot embedding, the same for every feature of a slot
        out[:, 1:, :dv] = x + self.slot_emb(self.slot_id)
        out[:, 1:, dv:] = self.feature_emb(self.feature_id)  # [N, d_fe], same across slots
        dropped: torch.Tensor = self.drop(out)
        return dropped

    def reconstruct(self, h: torch.Tensor) -> Reconstruction:
        """Final hidden tokens [B, N, d_model] (CLS dropped) -> per-kind reconstructions."""
        hs, hv, hm, hc = torch.split(h, list(self.layout.counts), dim=1)
        return Reconstruction(
            scalar=self.recon_scalar(hs).squeeze(-1),  # [B, Ns]
            vector=self.recon_vector(hv),  # [B, Nv, L]
            matrix=self.recon_matrix(hm),  # [B, Nm, P]
            categorical=mask_logits(self.recon_cat(hc), self.cat_valid),  # [B, Nc, K]
        )

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        batch: TokenBatch,
        rank: torch.Tensor | None = None,
        exit_threshold: float | None = None,
        reconstruct: bool = True,
    ) -> LinkFMOutput:
        """Run the encoder and heads.

        Args:
            batch: tokens of B windows.
            rank: [B] int64 rank 1..4 to condition PMI on (teacher forcing); None: predicted.
            exit_threshold: None runs every layer and returns every exit's outputs and the
                reconstructions (training). A float (nats) stops each item at the first
                exit whose rank + beam entropy is below it (inference).
            reconstruct: decode every token (full passes only; off for embeddings).
        """
        B = batch.batch_size
        x = self.embed_tokens(batch)  # [B, 1 + N, d]
        keep = F.pad(batch.present, (1, 0), value=True)  # [B, 1 + N], CLS always kept
        exits = {
            layer: cast(Heads, heads)
            for layer, heads in zip(self.cfg.early_exit_layers, self.exit_heads, strict=True)
        }
        if exit_threshold is None:
            outs = []
            for i, block in enumerate(self.blocks, start=1):
                x = block(x, keep)
                if i in exits:
                    outs.append(exits[i](x[:, 0], batch, rank))
            x = self.ln_f(x)
            return LinkFMOutput(
                heads=self.heads(x[:, 0], batch, rank),
                exits=outs,
                recon=self.reconstruct(x[:, 1:]) if reconstruct else None,
                cls=x[:, 0],
                exit_layer=torch.full((B,), self.cfg.n_layers, dtype=torch.long),
            )

        # Tokens that no window of the batch observes are masked keys for everyone, and
        # inference reads no token row but CLS: drop them (absent features, antennas and
        # subbands the cell does not have are common to a whole batch).
        seen = keep.any(0)  # [1 + N]
        if not bool(seen.all()):
            x, keep = x[:, seen], keep[:, seen]
        # early exit: the batch shrinks as items leave; `alive` maps rows back to items
        alive = torch.arange(B)
        done: list[tuple[torch.Tensor, HeadOutputs]] = []
        cls_parts: list[tuple[torch.Tensor, torch.Tensor]] = []
        exit_layer = torch.full((B,), self.cfg.n_layers, dtype=torch.long)
        sub, sub_rank = batch, rank
        if exit_threshold <= 0:  # entropies are >= 0: no one can leave, skip the exit heads
            exits = {}
        for i, block in enumerate(self.blocks, start=1):
            x = block(x, keep, cls_only=i == self.cfg.n_layers)
            if i not in exits:
                continue
            h = exits[i](x[:, 0], sub, sub_rank)
            leave = h.confidence() < exit_threshold  # [b]
            if leave.any():
                done.append((alive[leave], h.select(leave)))
                cls_parts.append((alive[leave], exits[i].ln(x[leave, 0])))
                exit_layer[alive[leave]] = i
                stay = ~leave
                x, keep, alive = x[stay], keep[stay], alive[stay]
                sub = sub.select(stay)
                sub_rank = None if sub_rank is None else sub_rank[stay]
            if alive.numel() == 0:
                break
        if alive.numel():
            x = self.ln_f(x)
            done.append((alive, self.heads(x[:, 0], sub, sub_rank)))
            cls_parts.append((alive, x[:, 0]))
        order = torch.cat([idx for idx, _ in cls_parts]).argsort()
        return LinkFMOutput(
            heads=HeadOutputs.merge(done, B),
            cls=torch.cat([c for _, c in cls_parts])[order],
            exit_layer=exit_layer,
        )

    def embed(self, batch: TokenBatch) -> torch.Tensor:
        """The window embedding: final CLS [B, d_model] (for probes and prototypes)."""
        out = self.forward(batch, reconstruct=False)
        assert out.cls is not None
        return out.cls
