"""The feature registry names every KPM/CSI field and normalises it reversibly."""

from __future__ import annotations

import re

import pytest
import torch

from model.registry import (
    REGISTRY_VERSION,
    FeatureKind,
    FeatureRegistry,
    Normaliser,
    NormaliserStats,
    PaddingDims,
)

REQUIRED = [
    "csi.ri",
    "csi.cri",
    "csi.pmi_i11",
    "csi.pmi_i12",
    "csi.pmi_i13",
    "csi.pmi_i2",
    "csi.cqi_wb",
    "csi.cqi_sb",
    "csi.beam_rsrp",
    "csi.sinr_db",
    "csi.h_est",
    "kpm.DRB.UEThpDl",
    "kpm.RRU.PrbUsedDl",
    "kpm.L1M.SS-RSRP",
    "kpm.MR.NRScSSSINR",
    "kpm.CARR.AverageLayersDl",
    "ctx.n_tx",
    "ctx.n_rx",
    "ctx.horizon_ms",
    "ctx.codebook",
]


def test_version_is_major_dot_minor() -> None:
    assert re.fullmatch(r"\d+\.\d+", REGISTRY_VERSION)


@pytest.mark.parametrize("name", REQUIRED)
def test_every_field_the_xapp_receives_is_registered(name: str) -> None:
    assert name in FeatureRegistry()


def test_names_are_unique() -> None:
    names = FeatureRegistry().names
    assert len(names) == len(set(names))


def test_padded_shapes_follow_the_padding_dims() -> None:
    reg = FeatureRegistry(PaddingDims(max_tx=4, max_rx=2, max_subbands=10, max_beams=12))
    assert reg.shape("csi.h_est") == (10, 2, 4)
    assert reg.shape("csi.cqi_sb") == (10,)
    assert reg.shape("csi.beam_rsrp") == (12,)
    assert reg.shape("csi.ri") == ()
    assert reg["csi.beam_id"].n_classes == 12


def test_targets_are_rank_pmi_beam_and_cqi() -> None:
    targets = {f.name for f in FeatureRegistry().targets()}
    assert targets == {
        "csi.ri",
        "csi.pmi_i11",
        "csi.pmi_i12",
        "csi.pmi_i13",
        "csi.pmi_i2",
        "csi.beam_id",
        "csi.cqi_wb",
    }


def test_categoricals_have_classes_and_identity_normaliser() -> None:
    for f in FeatureRegistry().features:
        if f.kind is FeatureKind.CATEGORICAL:
            assert f.n_classes > 1 and f.normaliser is Normaliser.IDENTITY
        else:
            assert f.n_classes == 0


def test_fitted_zscore_has_zero_mean_unit_std() -> None:
    reg = FeatureRegistry()
    x = torch.randn(64, 5) * 7 + 12
    stats = reg.fit_stats({"csi.sinr_db": (x, torch.ones_like(x, dtype=torch.bool))})
    z = reg.normalise("csi.sinr_db", x, stats)
    assert abs(float(z.mean())) < 1e-4
    assert abs(float(z.std()) - 1) < 1e-3


def test_fit_ignores_unobserved_entries() -> None:
    reg = FeatureRegistry()
    x = torch.tensor([[1.0, 3.0, 1e9]])
    mask = torch.tensor([[True, True, False]])
    stats = reg.fit_stats({"csi.sinr_db": (x, mask)})
    assert stats.get("csi.sinr_db").mean == pytest.approx(2.0)


@pytest.mark.parametrize("name", ["kpm.DRB.UEThpDl", "csi.sinr_db", "csi.h_est"])
def test_normalise_then_denormalise_gives_back_the_raw_value(name: str) -> None:
    reg = FeatureRegistry()
    x = torch.rand(32, 4) * 1e5
    if name == "csi.h_est":
        x = torch.complex(x, -x)
    stats = reg.fit_stats({name: (x, torch.ones(x.shape, dtype=torch.bool))})
    back = reg.denormalise(name, reg.normalise(name, x, stats), stats)
    assert torch.allclose(back, x, rtol=1e-4)


def test_log_normaliser_tames_heavy_tails() -> None:
    reg = FeatureRegistry()
    x = torch.tensor([10.0, 1e3, 1e6])
    stats = reg.fit_stats({"kpm.DRB.UEThpDl": (x, torch.ones(3, dtype=torch.bool))})
    z = reg.normalise("kpm.DRB.UEThpDl", x, stats)
    assert float(z.abs().max()) < 2


def test_stats_survive_a_dict_round_trip() -> None:
    stats = NormaliserStats.from_dict({"csi.sinr_db": [1.5, 2.5]})
    assert NormaliserStats.from_dict(stats.to_dict()) == stats
