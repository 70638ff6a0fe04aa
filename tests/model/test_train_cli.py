"""`linkfm train pretrain|finetune` end to end on tiny shards (one thread, a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from model.checkpoint import load_checkpoint
from model.data import load_windows, split_by_ue
from model.finetune_run import validate
from model.network import LinkFM, LinkFMConfig
from model.train_cli import reconstruction_eval
from tests.model.tiny_shards import write_tiny_dataset
from xapp.cli import main as linkfm

CFG = LinkFMConfig(d_model=16, n_layers=2, n_heads=2, d_feature_emb=4, n_slots=3,
                   early_exit_layers=(1,))
COMMON = ["--batch", "16", "--threads", "1", "--no-progress", "--seed", "0",
          "--config", json.dumps(CFG.to_dict())]
LORA_LINEARS = (".attn.qkv.", ".attn.proj.", ".fc.", ".fc_out.")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny"), n_ues=8, n_reports=16)


def _pretrain(data: Path, out: Path, *extra: str) -> int:
    return linkfm(["train", "pretrain", "--data", str(data), "--out", str(out), "--lr", "3e-3",
                   "--val-fraction", "0", *COMMON, *extra])


@pytest.fixture(scope="module")
def pretrained(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pre") / "ckpt"
    assert _pretrain(tiny, out, "--steps", "40", "--log-every", "5") == 0
    return out


def _finetune(data: Path, out: Path, *extra: str) -> int:
    return linkfm(["train", "finetune", "--data", str(data), "--out", str(out),
                   "--horizons", "5,10", "--val-fraction", "0.25", *COMMON, *extra])


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "weights.safetensors"))


def _log(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def test_pretraining_lowers_the_reconstruction_loss(tiny: Path, pretrained: Path) -> None:
    ck = load_checkpoint(pretrained, expected_config=CFG)
    torch.manual_seed(0)  # the initial weights of the run (--seed 0)
    initial = LinkFM(CFG)
    ws = load_windows(tiny, n_slots=CFG.n_slots, matrix_slots=CFG.matrix_slots)
    before = reconstruction_eval(initial, ws, ck.stats, 64, seed=5)
    after = reconstruction_eval(ck.model, ws, ck.stats, 64, seed=5)
    for mode in ("random", "forecast", "interpolate"):
        assert after[mode] < 0.8 * before[mode], mode
    assert ck.eval_summary["pretrain"]["steps"] == 40


def test_pretraining_logs_per_feature_losses(pretrained: Path) -> None:
    log = _log(pretrained)
    steps = [r for r in log if r["event"] == "step"]
    assert [r["step"] for r in steps] == [5, 10, 15, 20, 25, 30, 35, 40]
    features = {k for r in steps for k in r if k.startswith("rec.")}
    assert {"rec.csi.ri", "rec.csi.beam_id", "rec.csi.cqi_wb", "rec.csi.h_est"} <= features
    assert log[-1]["event"] == "end"


def test_resume_continues_to_the_same_weights_as_one_run(tiny: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert _pretrain(tiny, one, "--steps", "8") == 0
    assert _pretrain(tiny, two, "--steps", "8", "--stop-after", "4") == 0
    assert torch.load(two / "last" / "train_state.pt", weights_only=True)["step"] == 4
    assert _pretrain(tiny, two, "--steps", "8", "--resume") == 0
    starts = [r for r in _log(two) if r["event"] == "start"]
    assert [r["step"] for r in starts] == [0, 4]
    a, b = _weights(one), _weights(two)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    sa = torch.load(one / "last" / "train_state.pt", weights_only=True)
    sb = torch.load(two / "last" / "train_state.pt", weights_only=True)
    assert sa["step"] == sb["step"] == 8
    for (ka, va), (kb, vb) in zip(sa["optimizer"]["state"].items(),
                                  sb["optimizer"]["state"].items(), strict=True):
        assert ka == kb and torch.equal(va["exp_avg"], vb["exp_avg"])


def test_resuming_with_another_config_says_what_differs(
        tiny: Path, pretrained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = linkfm(["train", "pretrain", "--data", str(tiny), "--out", str(pretrained),
                 "--steps", "50", "--resume", *COMMON, "--d-model", "24"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "config.d_model: checkpoint=16 expected=24" in err


def test_resume_without_saved_state_is_refused(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no .*train_state\.pt"):
        _pretrain(tiny, tmp_path / "fresh", "--steps", "4", "--resume")


def test_probe_trains_the_heads_and_leaves_the_backbone_bit_for_bit(
        tiny: Path, pretrained: Path, tmp_path: Path) -> None:
    out = tmp_path / "probe"
    assert _finetune(tiny, out, "--init", str(pretrained), "--mode", "probe",
                     "--steps", "6") == 0
    before, after = _weights(pretrained), _weights(out)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "nothing trained"
    assert all(k.startswith(("heads.", "exit_heads.")) for k in changed), changed


def test_lora_trains_only_adapters_and_saves_them_merged(
        tiny: Path, pretrained: Path, tmp_path: Path) -> None:
    out = tmp_path / "lora"
    assert _finetune(tiny, out, "--init", str(pretrained), "--mode", "lora",
                     "--steps", "6") == 0
    before, after = _weights(pretrained), _weights(out)
    assert before.keys() == after.keys()  # merged: a plain checkpoint
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed
    assert all(k.startswith("blocks.") and k.endswith(".weight") and
               any(s in k for s in LORA_LINEARS) for k in changed), changed
    load_checkpoint(out, expected_config=CFG)


def test_lora_heads_also_trains_the_task_heads(
        tiny: Path, pretrained: Path, tmp_path: Path) -> None:
    out = tmp_path / "lora-heads"
    assert _finetune(tiny, out, "--init", str(pretrained), "--mode", "lora", "--lora-heads",
                     "--steps", "6") == 0
    before, after = _weights(pretrained), _weights(out)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("heads.") for k in changed)
    assert all(k.startswith(("heads.", "exit_heads.")) or
               (k.startswith("blocks.") and any(s in k for s in LORA_LINEARS))
               for k in changed), changed


def test_prototype_calibration_changes_no_weight(
        tiny: Path, pretrained: Path, tmp_path: Path) -> None:
    out = tmp_path / "proto"
    assert _finetune(tiny, out, "--init", str(pretrained), "--mode", "prototype",
                     "--label-fraction", "0.5", "--shots", "4") == 0
    before, after = _weights(pretrained), _weights(out)
    assert all(torch.equal(before[k], after[k]) for k in before)
    protos = load_file(str(out / "prototypes.safetensors"))
    assert protos["prototypes"].shape == (CFG.max_beams, CFG.d_model)
    known = protos["known"]
    assert 0 < int(known.sum()) <= CFG.max_beams
    summary = load_checkpoint(out).eval_summary["finetune"]
    assert summary["support_windows"] <= 4 * int(known.sum())
    assert 0.0 <= summary["val"]["beam_top1"] <= 1.0


def test_full_finetune_from_scratch_keeps_the_best_validated_weights(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scratch"
    assert _finetune(tiny, out, "--scratch", "--mode", "full", "--steps", "30",
                     "--val-every", "10", "--lr", "3e-3") == 0
    ck = load_checkpoint(out, expected_config=CFG)
    summary = ck.eval_summary["finetune"]
    history = summary["history"]
    assert [h["step"] for h in history] == [10, 20, 30]
    best = min(history, key=lambda h: h["loss"])
    assert summary["best"]["step"] == best["step"]
    for key in ("rank_acc", "pmi_acc", "beam_top1", "beam_top3", "cqi_mae", "se_mae"):
        assert key in summary["best"]
    assert "best at step" in capsys.readouterr().out
    # the saved weights are those validated best: validating them again gives that loss
    ws = load_windows(tiny, horizon_ms=(5, 10), n_slots=CFG.n_slots,
                      matrix_slots=CFG.matrix_slots)
    _, val_idx = split_by_ue(ws, 0.25, torch.Generator().manual_seed(0))
    again = validate(ck.model, ws.subset(val_idx), ck.stats, 64)
    assert again["loss"] == pytest.approx(best["loss"], rel=1e-4)


def test_finetune_from_a_missing_checkpoint_is_reported(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = _finetune(tiny, tmp_path / "x", "--init", str(tmp_path / "nowhere"), "--mode", "full")
    assert rc == 2
    assert "nowhere" in capsys.readouterr().err


def test_families_restrict_the_windows_used(tiny: Path, pretrained: Path,
                                            tmp_path: Path) -> None:
    out = tmp_path / "proto-8port"
    assert _finetune(tiny, out, "--init", str(pretrained), "--mode", "prototype",
                     "--families", "umi-8port") == 0
    summary = load_checkpoint(out).eval_summary["finetune"]
    one_shard = len(load_windows(tiny, n_slots=CFG.n_slots, families=["umi-8port"]))
    assert summary["labelled_windows"] + summary["val_windows"] == 2 * one_shard  # 2 horizons
