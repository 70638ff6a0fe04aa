"""Checkpoints round-trip exactly and refuse what does not match, saying what differs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from model.checkpoint import (
    MANIFEST,
    CheckpointError,
    CheckpointMismatch,
    load_checkpoint,
    save_checkpoint,
)
from model.lora import apply_lora, merge_lora
from model.network import LinkFM
from model.tokenize import tokenize

from .conftest import SMALL, make_batch


def _saved(tmp_path: Path, model: LinkFM) -> Path:
    _, stats, _, _ = make_batch(model, batch=8)
    return save_checkpoint(tmp_path / "ckpt", model, stats, {"rank_accuracy": 0.5})


def test_round_trip_gives_identical_outputs(tmp_path: Path, small_model: LinkFM) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=8)
    save_checkpoint(tmp_path / "ckpt", small_model, stats)
    loaded = load_checkpoint(tmp_path / "ckpt")
    before = small_model(tokenize(windows, small_model.layout, stats))
    after = loaded.model(tokenize(windows, loaded.model.layout, loaded.stats))
    assert torch.equal(before.heads.rank_logits, after.heads.rank_logits)
    assert torch.equal(before.heads.beam_logits, after.heads.beam_logits)
    assert before.recon is not None and after.recon is not None
    assert torch.equal(before.recon.matrix, after.recon.matrix)


def test_round_trip_keeps_stats_config_and_eval_summary(
    tmp_path: Path, small_model: LinkFM
) -> None:
    _, stats, _, _ = make_batch(small_model, batch=8)
    save_checkpoint(tmp_path / "ckpt", small_model, stats, {"rank_accuracy": 0.5})
    loaded = load_checkpoint(tmp_path / "ckpt", expected_config=SMALL)
    assert loaded.stats == stats
    assert loaded.model.cfg == SMALL
    assert loaded.eval_summary == {"rank_accuracy": 0.5}


def test_expected_config_mismatch_names_each_differing_field(
    tmp_path: Path, small_model: LinkFM
) -> None:
    path = _saved(tmp_path, small_model)
    other = replace(SMALL, d_model=64, n_layers=4)
    with pytest.raises(CheckpointMismatch) as err:
        load_checkpoint(path, expected_config=other)
    assert err.value.reason == "config_mismatch"
    assert "config.d_model: checkpoint=32 expected=64" in str(err.value)
    assert "config.n_layers: checkpoint=3 expected=4" in str(err.value)
    assert len(err.value.differences) == 2


def test_registry_version_mismatch_names_both_versions(tmp_path: Path, small_model: LinkFM) -> None:
    path = _saved(tmp_path, small_model)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["registry_version"] = "0.9"
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointMismatch) as err:
        load_checkpoint(path)
    assert err.value.reason == "registry_mismatch"
    assert "registry_version: checkpoint='0.9'" in str(err.value)


def test_registry_feature_mismatch_names_the_missing_and_extra_features(
    tmp_path: Path, small_model: LinkFM
) -> None:
    path = _saved(tmp_path, small_model)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["features"] = [n for n in manifest["features"] if n != "csi.sinr_db"] + ["csi.old"]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointMismatch) as err:
        load_checkpoint(path)
    assert "missing=['csi.sinr_db']" in str(err.value)
    assert "extra=['csi.old']" in str(err.value)


def test_a_folder_without_weights_is_a_checkpoint_error(
    tmp_path: Path, small_model: LinkFM
) -> None:
    path = _saved(tmp_path, small_model)
    (path / "weights.safetensors").unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert err.value.reason == "missing_file"


def test_a_garbled_manifest_is_a_checkpoint_error(tmp_path: Path, small_model: LinkFM) -> None:
    path = _saved(tmp_path, small_model)
    (path / MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert err.value.reason == "bad_manifest"


def test_loaded_model_is_in_eval_mode(tmp_path: Path, small_model: LinkFM) -> None:
    assert not load_checkpoint(_saved(tmp_path, small_model)).model.training


def test_unmerged_lora_adapters_are_refused_at_save(tmp_path: Path) -> None:
    model = LinkFM(SMALL)
    apply_lora(model)
    _, stats, _, _ = make_batch(model, batch=2)
    with pytest.raises(ValueError, match="merge_lora"):
        save_checkpoint(tmp_path / "ckpt", model, stats)
    merge_lora(model)
    assert load_checkpoint(save_checkpoint(tmp_path / "ckpt", model, stats)).model.cfg == SMALL
