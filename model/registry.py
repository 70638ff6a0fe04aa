"""The feature registry: every KPM and CSI field the model reads, and how it is normalised.

Each feature has a name (``"csi.ri"``, ``"kpm.DRB.UEThpDl"``, ``"ctx.horizon_ms"``), a kind
(scalar, vector, matrix, categorical), a normaliser, the axes it is padded along and whether
it is a *target* (a quantity the heads predict and pretraining masks).

Padded sizes come from :class:`PaddingDims` (ports, receive antennas, subbands, beams): one
model serves every antenna configuration by padding to these maxima plus validity masks.

Per-slot features (CSI) have one value per report period in a window (``[batch, slots, ...]``);
window features (KPM counters, context ``ctx.*``) have one value per window (``[batch, ...]``).

Versioning: :data:`REGISTRY_VERSION` is ``MAJOR.MINOR``. Bump MAJOR when a feature is removed
or renamed, or when a kind, normaliser, axis or class count changes (old checkpoints can no
longer read the new inputs); bump MINOR when a feature is appended (old windows still
tokenise but the token layout, hence the checkpoint, changes). Checkpoints store the version
and the feature names, and loading refuses any difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import torch

REGISTRY_VERSION = "1.0"


class FeatureKind(StrEnum):
    """How a feature's values are shaped and tokenised."""

    SCALAR = "scalar"  # one float per slot
    VECTOR = "vector"  # a float vector per slot (subbands or beams), padded, with a mask
    MATRIX = "matrix"  # a complex tensor per slot [subband, rx, tx], cut into patches
    CATEGORICAL = "categorical"  # an integer class index per slot


class Normaliser(StrEnum):
    """How raw values become model inputs."""

    ZSCORE = "zscore"  # (x - mean) / std, statistics from training data
    LOG_ZSCORE = "log_zscore"  # z-score of log1p(max(x, 0)), for heavy-tailed rates and volumes
    RMS = "rms"  # x / rms, for zero-mean complex channel coefficients
    IDENTITY = "identity"  # categoricals: class indices pass unchanged


AXIS_NAMES = ("subband", "rx", "tx", "beam")


@dataclass(frozen=True)
class PaddingDims:
    """Maximum sizes every window is padded to.

    Attributes:
        max_tx: CSI-RS ports N_T (2, 4 or 8 here).
        max_rx: UE receive antennas N_R.
        max_subbands: CSI subbands per report.
        max_beams: beams in the gNB's SSB/CSI-RS beam codebook.
    """

    max_tx: int = 8
    max_rx: int = 4
    max_subbands: int = 16
    max_beams: int = 32

    def size(self, axis: str) -> int:
        """The padded length of ``axis`` (one of :data:`AXIS_NAMES`)."""
        sizes = {
            "subband": self.max_subbands,
            "rx": self.max_rx,
            "tx": self.max_tx,
            "beam": self.max_beams,
        }
        return sizes[axis]


@dataclass(frozen=True)
class FeatureSpec:
    """One input feature.

    Attributes:
        name: dotted name, ``source.field``.
        kind: scalar, vector, matrix or categorical.
        normaliser: how raw values are scaled.
        axes: padded axes after the slot axis (``()`` for scalars and categoricals).
        n_classes: class count for categoricals, ``0`` otherwise; ``"beam"`` means max_beams.
        target: predicted by a head and masked by pretraining.
        per_slot: one value per slot (False: one per window, a context feature).
        unit: physical unit of the raw value.
    """

    name: str
    kind: FeatureKind
    normaliser: Normaliser
    axes: tuple[str, ...] = ()
    n_classes: int = 0
    target: bool = False
    per_slot: bool = True
    unit: str = ""


# Class counts of Type-I single-panel PMI parts (TS 38.214 5.2.2.2.1) over the configurations
# in model.pmi_space: i11 < N1 O1 <= 16, i12 < N2 O2 <= 8, i13 < 4, i2 < 4.
_PMI_CLASSES = {"i11": 16, "i12": 8, "i13": 4, "i2": 4}
N_CODEBOOK_CONFIGS = 4  # see model.pmi_space.CODEBOOK_CONFIGS
MAX_RANK = 4


def _features(dims: PaddingDims) -> tuple[FeatureSpec, ...]:
    z, lz, cat = Normaliser.ZSCORE, Normaliser.LOG_ZSCORE, Normaliser.IDENTITY
    s, v, c = FeatureKind.SCALAR, FeatureKind.VECTOR, FeatureKind.CATEGORICAL
    csi = [
        FeatureSpec("csi.ri", c, cat, n_classes=MAX_RANK, target=True, unit="rank-1"),
        FeatureSpec("csi.cri", c, cat, n_classes=8, unit="resource index"),
        *(
            FeatureSpec(f"csi.pmi_{part}", c, cat, n_classes=n, target=True, unit="index")
            for part, n in _PMI_CLASSES.items()
        ),
        FeatureSpec("csi.cqi_wb", s, z, target=True, unit="CQI index"),
        FeatureSpec("csi.cqi_sb", v, z, axes=("subband",), unit="CQI index"),
        FeatureSpec("csi.sinr_db", s, z, unit="dB"),
        FeatureSpec("csi.beam_rsrp", v, z, axes=("beam",), unit="dBm"),
        FeatureSpec(
            "csi.beam_id", c, cat, n_classes=dims.max_beams, target=True, unit="beam index"
        ),
        FeatureSpec(
            "csi.h_est",
            FeatureKind.MATRIX,
            Normaliser.RMS,
            axes=("subband", "rx", "tx"),
            unit="complex gain",
        ),
    ]
    # KPM counters arrive once per granularity period (100 ms to 1 s), CSI every 5-20 ms: a
    # window of CSI slots sees one KPM value, so KPM features are per-window (the latest).
    kpm = [
        FeatureSpec(name, s, norm, per_slot=False, unit=unit)
        for name, norm, unit in (
            ("kpm.DRB.UEThpDl", lz, "kbit/s"),
            ("kpm.DRB.UEThpUl", lz, "kbit/s"),
            ("kpm.RRU.PrbUsedDl", z, "PRB"),
            ("kpm.RRU.PrbUsedUl", z, "PRB"),
            ("kpm.L1M.SS-RSRP", z, "dBm"),
            ("kpm.MR.NRScSSSINR", z, "dB"),
            ("kpm.CARR.AverageLayersDl", z, "layers"),
            ("kpm.RRU.MaxLayerDlMimo", z, "layers"),
        )
    ]
    ctx = [
        FeatureSpec(
            "ctx.codebook",
            c,
            cat,
            n_classes=N_CODEBOOK_CONFIGS,
            per_slot=False,
            unit="model.pmi_space config id",
        ),
        FeatureSpec("ctx.n_tx", s, z, per_slot=False, unit="ports"),
        FeatureSpec("ctx.n_rx", s, z, per_slot=False, unit="antennas"),
        FeatureSpec("ctx.n_subbands", s, z, per_slot=False, unit="subbands"),
        FeatureSpec("ctx.n_beams", s, z, per_slot=False, unit="beams"),
        FeatureSpec("ctx.report_period_ms", s, lz, per_slot=False, unit="ms"),
        FeatureSpec("ctx.horizon_ms", s, lz, per_slot=False, unit="ms"),
    ]
    return (*csi, *kpm, *ctx)


@dataclass(frozen=True)
class FeatureStats:
    """Normaliser statistics of one feature (in the normaliser's domain, e.g. after log1p)."""

    mean: float = 0.0
    std: float = 1.0


@dataclass
class NormaliserStats:
    """Per-feature statistics fitted on training windows; stored in the checkpoint."""

    by_feature: dict[str, FeatureStats] = field(default_factory=dict)

    def get(self, name: str) -> FeatureStats:
        """The statistics of ``name``; identity (0, 1) if never fitted."""
        return self.by_feature.get(name, FeatureStats())

    def to_dict(self) -> dict[str, list[float]]:
        return {k: [s.mean, s.std] for k, s in sorted(self.by_feature.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, list[float]]) -> NormaliserStats:
        return cls({k: FeatureStats(float(m), float(s)) for k, (m, s) in data.items()})


class FeatureRegistry:
    """The ordered set of features for one set of padding sizes.

    Args:
        dims: padded sizes for ports, antennas, subbands, beams.
    """

    def __init__(self, dims: PaddingDims | None = None) -> None:
        self.dims = dims or PaddingDims()
        self.version = REGISTRY_VERSION
        self.features = _features(self.dims)
        self._by_name = {f.name: f for f in self.features}

    def __getitem__(self, name: str) -> FeatureSpec:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def index(self, name: str) -> int:
        """Position of ``name``; the feature-embedding id."""
        return self.names.index(name)

    def shape(self, name: str) -> tuple[int, ...]:
        """Padded value shape after the batch (and slot) axes."""
        return tuple(self.dims.size(a) for a in self._by_name[name].axes)

    def targets(self) -> tuple[FeatureSpec, ...]:
        return tuple(f for f in self.features if f.target)

    def normalise(self, name: str, raw: torch.Tensor, stats: NormaliserStats) -> torch.Tensor:
        """Raw values -> model domain (categoricals unchanged; complex stays complex)."""
        spec, st = self._by_name[name], stats.get(name)
        if spec.normaliser is Normaliser.IDENTITY:
            return raw
        if spec.normaliser is Normaliser.RMS:
            return raw / st.std
        x = torch.log1p(raw.clamp_min(0)) if spec.normaliser is Normaliser.LOG_ZSCORE else raw
        return (x - st.mean) / st.std

    def denormalise(self, name: str, x: torch.Tensor, stats: NormaliserStats) -> torch.Tensor:
        """Inverse of :meth:`normalise` (for reconstructions in physical units)."""
        spec, st = self._by_name[name], stats.get(name)
        if spec.normaliser is Normaliser.IDENTITY:
            return x
        if spec.normaliser is Normaliser.RMS:
            return x * st.std
        y = x * st.std + st.mean
        return torch.expm1(y) if spec.normaliser is Normaliser.LOG_ZSCORE else y

    def fit_stats(
        self, windows: Mapping[str, tuple[torch.Tensor, torch.Tensor]]
    ) -> NormaliserStats:
        """Fit normaliser statistics on training windows.

        Args:
            windows: name -> (raw values, bool mask of observed entries), as for tokenize().
        """
        out: dict[str, FeatureStats] = {}
        for name, (raw, mask) in windows.items():
            spec = self._by_name[name]
            if spec.normaliser is Normaliser.IDENTITY:
                continue
            seen = raw[mask]
            if seen.numel() == 0:
                continue
            if spec.normaliser is Normaliser.RMS:
                rms = math.sqrt(float((seen.abs() ** 2).mean()))
                out[name] = FeatureStats(0.0, max(rms, 1e-12))
                continue
            x = torch.log1p(seen.clamp_min(0)) if spec.normaliser is Normaliser.LOG_ZSCORE else seen
            x = x.double()
            std = float(x.std()) if x.numel() > 1 else 1.0
            out[name] = FeatureStats(float(x.mean()), std if std > 1e-6 else 1.0)
        return NormaliserStats(out)
