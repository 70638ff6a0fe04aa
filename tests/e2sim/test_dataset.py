"""`linkfm dataset`: shards that load back, labels that mean what they say, determinism."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from e2sim.cell.oracle import oracle
from e2sim.csi import DftBeamGrid, TypeICodebook
from e2sim.dataset import (
    DEFAULT_TRAINING_MIX,
    FAMILY_BY_NAME,
    FAMILY_ID,
    HELD_OUT,
    ShardSpec,
    load_shard,
    windows_of,
    write_shard,
)
from e2sim.dataset_cli import add_arguments, choose_families, main, shard_specs
from model.registry import NormaliserStats
from model.tokenize import TokenLayout, tokenize

torch.set_num_threads(1)

SPEC = ShardSpec(index=0, family="cdl-c", seed=11, n_ues=3, n_reports=12, window=8, stride=2,
                 horizons_ms=(5, 10, 20))


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor],
                                                              dict[str, object]]:
    path, tensors, meta = write_shard(SPEC, tmp_path_factory.mktemp("shard"))
    return path, tensors, meta


def cli_args(out: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["--out", str(out), "--quiet", *extra])


def test_a_shard_loads_back_as_written(shard: tuple[Path, dict[str, torch.Tensor],
                                                    dict[str, object]]) -> None:
    path, tensors, meta = shard
    loaded, loaded_meta = load_shard(path)
    assert loaded.keys() == tensors.keys()
    for key, value in tensors.items():
        assert torch.equal(loaded[key], value), key
    assert loaded_meta == json.loads(json.dumps(meta))
    # windows from report 8 every 2 reports: reports 8, 10, 12 -> 3 emissions x 3 UEs
    assert {int(v.shape[0]) for v in loaded.values()} == {9}
    assert set(loaded["meta.family_id"].tolist()) == {FAMILY_ID["cdl-c"]}
    assert set(loaded["meta.seed"].tolist()) == {SPEC.seed}


def test_every_sample_ends_with_the_report_the_label_persists(
        shard: tuple[Path, dict[str, torch.Tensor], dict[str, object]]) -> None:
    _, t, _ = shard
    assert torch.equal(t["x.csi.ri"][:, -1] + 1, t["legacy.ri"])
    assert torch.equal(t["x.csi.pmi_i11"][:, -1], t["legacy.i11"])
    assert torch.equal(t["x.csi.cqi_wb"][:, -1].long(), t["legacy.cqi"])
    assert bool(t["m.csi.ri"].all())  # full windows only
    assert bool(t["m.kpm.DRB.UEThpDl"].all())  # KPM observed with every report


def test_labels_are_in_range(shard: tuple[Path, dict[str, torch.Tensor],
                                          dict[str, object]]) -> None:
    _, t, _ = shard
    codebook = TypeICodebook(4)
    for h in SPEC.horizons_ms:
        y = f"y.{h}ms."
        ri = t[y + "ri"]
        assert bool(((ri >= 1) & (ri <= 2)).all())  # 2 UE antennas
        for r in (1, 2):
            assert bool((t[y + "pmi"][ri == r] < codebook.n_pmi(r)).all())
        assert bool(((t[y + "beam"] >= 0) & (t[y + "beam"] < 32)).all())
        assert bool(((t[y + "cqi"] >= 0) & (t[y + "cqi"] <= 15)).all())
        assert bool((t[y + "i11"] < 8).all()) and bool((t[y + "i2"] < 4).all())
        assert bool((t[y + "se"] > 0).all())
        assert bool((t[y + "se_legacy"] <= t[y + "se"] * (1 + 1e-5)).all())
        torch.testing.assert_close(t[y + "se_per_rank"].max(-1).values, t[y + "se"])


def test_labels_are_the_oracle_of_the_stored_true_channel(
        shard: tuple[Path, dict[str, torch.Tensor], dict[str, object]]) -> None:
    _, t, _ = shard
    again = oracle(TypeICodebook(4), DftBeamGrid.with_size(32, 2, 1), t["y.10ms.h_true"])
    assert torch.equal(again.ri, t["y.10ms.ri"])
    assert torch.equal(again.pmi, t["y.10ms.pmi"])
    assert torch.equal(again.beam, t["y.10ms.beam"])


def test_shard_windows_tokenise_for_the_model(
        shard: tuple[Path, dict[str, torch.Tensor], dict[str, object]]) -> None:
    from model.registry import FeatureRegistry

    _, t, _ = shard
    layout = TokenLayout.build(FeatureRegistry(), n_slots=SPEC.window, patch_subbands=4,
                               matrix_slots=1)
    batch = tokenize(windows_of(t), layout, NormaliserStats())
    assert batch.batch_size == 9


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    for sub in ("a", "b", "c"):
        (tmp_path / sub).mkdir()
    a, _, _ = write_shard(SPEC, tmp_path / "a")
    b, _, _ = write_shard(SPEC, tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    other = ShardSpec(**{**SPEC.__dict__, "seed": 12})
    c, _, _ = write_shard(other, tmp_path / "c")
    assert c.read_bytes() != a.read_bytes()


def test_held_out_families_stay_out_of_the_default_training_mix() -> None:
    assert HELD_OUT and DEFAULT_TRAINING_MIX
    assert not set(HELD_OUT) & set(DEFAULT_TRAINING_MIX)
    assert {"uma-highspeed", "cdl-e", "umi-8port"} <= set(HELD_OUT)
    specs = shard_specs(cli_args(Path("unused"), "--shards", "20"))
    assert {s.family for s in specs} == set(DEFAULT_TRAINING_MIX)
    assert all(FAMILY_BY_NAME[f].held_out for f in choose_families("held-out"))


def test_an_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown families"):
        choose_families("cdl-c,no-such-family")


def test_the_command_writes_shards_and_a_manifest_independent_of_workers(tmp_path: Path) -> None:
    common = ("--shards", "2", "--ues", "2", "--reports", "10", "--window", "8",
              "--families", "cdl-c,tdl-c", "--seed", "3")
    assert main(cli_args(tmp_path / "one", *common)) == 0
    assert main(cli_args(tmp_path / "two", *common, "--workers", "2")) == 0
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert [s["family"] for s in manifest["shards"]] == ["cdl-c", "tdl-c"]
    # 10 reports, windows of 8 every 4 reports: one window per UE -> 2 shards x 2 UEs
    assert manifest["samples"] == sum(s["samples"] for s in manifest["shards"]) == 4
    assert sum(manifest["class_histograms"]["y.10ms.ri"]) == manifest["samples"]
    assert manifest["feature_stats"]["csi.sinr_db"]["std"] > 0
    assert set(manifest["held_out"]) == set(HELD_OUT)
    for entry in manifest["shards"]:
        one = (tmp_path / "one" / entry["file"]).read_bytes()
        assert one == (tmp_path / "two" / entry["file"]).read_bytes()


def test_the_manifest_normaliser_stats_are_those_the_registry_fits(tmp_path: Path) -> None:
    from model.registry import FeatureRegistry

    assert main(cli_args(tmp_path, "--shards", "2", "--ues", "3", "--reports", "12",
                         "--window", "8", "--families", "cdl-a")) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    shards = [load_shard(tmp_path / s["file"])[0] for s in manifest["shards"]]
    windows = {name: (torch.cat([windows_of(t)[name][0] for t in shards]),
                      torch.cat([windows_of(t)[name][1] for t in shards]))
               for name in ("kpm.DRB.UEThpDl", "csi.sinr_db", "csi.cqi_sb")}
    fitted = FeatureRegistry().fit_stats(windows)
    for name in windows:
        mean, std = manifest["normaliser_stats"][name]
        assert mean == pytest.approx(fitted.get(name).mean, rel=1e-6)
        assert std == pytest.approx(fitted.get(name).std, rel=1e-6)


def test_a_window_longer_than_the_run_is_refused(tmp_path: Path) -> None:
    assert main(cli_args(tmp_path, "--reports", "4", "--window", "8")) == 2
    assert not (tmp_path / "manifest.json").exists()
