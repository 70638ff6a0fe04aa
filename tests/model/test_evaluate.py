"""`linkfm evaluate`: metric functions on hand-made inputs, and the command end to end on
tiny shards with a tiny untrained checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from e2sim.dataset import ShardSpec, write_shard
from model import eval_metrics as M
from model.checkpoint import save_checkpoint
from model.data import stats_of
from model.evaluate import _exit_at
from model.evaluate_cli import fit_thresholds, parse_fewshot
from model.network import LinkFM, LinkFMConfig
from xapp.cli import main as cli_main

from .conftest import make_batch

# ---------------------------------------------------------------- metric functions


def test_se_ratio_is_a_ratio_of_sums() -> None:
    assert M.se_ratio(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 6.0])) == pytest.approx(0.5)
    assert M.se_ratio(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 3.0])) == pytest.approx(0.5)
    assert math.isnan(M.se_ratio(torch.zeros(2), torch.zeros(2)))


def test_gap_closed_measures_the_share_of_the_persistence_gap_recovered() -> None:
    kept, oracle = torch.tensor([2.0, 4.0]), torch.tensor([4.0, 6.0])  # gap 4
    assert M.gap_closed(torch.tensor([3.0, 5.0]), kept, oracle) == pytest.approx(0.5)
    assert M.gap_closed(oracle, kept, oracle) == pytest.approx(1.0)
    assert M.gap_closed(kept, kept, oracle) == pytest.approx(0.0)
    assert M.gap_closed(torch.tensor([1.0, 3.0]), kept, oracle) == pytest.approx(-0.5)
    assert math.isnan(M.gap_closed(oracle, oracle, oracle))  # no gap to close


def test_balanced_accuracy_weighs_every_class_equally() -> None:
    label = torch.tensor([1, 1, 1, 1, 1, 1, 1, 1, 2, 2])
    always_one = torch.ones(10, dtype=torch.int64)
    assert M.accuracy(always_one, label) == pytest.approx(0.8)
    assert M.balanced_accuracy(always_one, label) == pytest.approx(0.5)
    pred = torch.tensor([1, 1, 1, 1, 1, 1, 2, 2, 2, 1])
    assert M.balanced_accuracy(pred, label) == pytest.approx((6 / 8 + 1 / 2) / 2)


def test_rsrp_loss_is_the_gap_to_the_best_beam() -> None:
    rsrp = torch.tensor([[10.0, 7.0, 9.5], [0.0, 3.0, -1.0]])
    loss = M.rsrp_loss_db(rsrp, torch.tensor([2, 1]))
    torch.testing.assert_close(loss, torch.tensor([0.5, 0.0]))
    loss = M.rsrp_loss_db(rsrp, torch.tensor([1, 2]))
    torch.testing.assert_close(loss, torch.tensor([3.0, 4.0]))


def test_beam_hit_counts_ties_and_top_k() -> None:
    rsrp = torch.tensor([[5.0, 5.0, 1.0], [1.0, 2.0, 3.0]])
    assert M.beam_hit(rsrp, torch.tensor([[1], [1]])).tolist() == [True, False]
    assert M.beam_hit(rsrp, torch.tensor([[2, -1], [1, 2]])).tolist() == [False, True]


def test_top_k_hit_uses_the_order_else_the_choice() -> None:
    order = torch.tensor([[2, 1, 3, 4], [1, 2, 3, 4]])
    label = torch.tensor([1, 3])
    assert M.top_k_hit(order, order[:, 0], label, 2).tolist() == [True, False]
    assert M.top_k_hit(None, torch.tensor([1, 1]), label, 2).tolist() == [True, False]


def test_ece_of_calibrated_and_overconfident_predictions() -> None:
    # 10 samples at confidence 0.8, 8 right: calibrated; the same at confidence 1.0: ECE 0.2
    labels = torch.tensor([0] * 8 + [1] * 2)
    calibrated = torch.tensor([[0.8, 0.2]]).repeat(10, 1)
    sure = torch.tensor([[1.0, 0.0]]).repeat(10, 1)
    assert M.reliability(calibrated, labels).ece == pytest.approx(0.0, abs=1e-6)
    r = M.reliability(sure, labels, n_bins=10)
    assert r.ece == pytest.approx(0.2)
    assert r.count[-1] == 10 and r.accuracy[-1] == pytest.approx(0.8)


def test_speed_bins_are_named_by_centre_and_cover_every_speed() -> None:
    speeds = torch.tensor([3.0, 15.0, 44.9, 60.0, 90.0, 300.0])
    masks = M.bin_masks(speeds, M.SPEED_BINS)
    assert list(masks) == ["5", "30", "60", "120"]
    assert torch.stack(list(masks.values())).sum(0).tolist() == [1] * 6
    assert masks["30"].tolist() == [False, True, True, False, False, False]


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval")
    folders = {"test": root / "test", "ood": root / "ood", "ckpt": root / "ckpt"}
    shards = {"test": [("umi-vehicular", 1), ("cdl-c", 2), ("umi-2port", 3)],
              "ood": [("uma-highspeed", 4)]}
    for split, specs in shards.items():
        folders[split].mkdir()
        for i, (family, seed) in enumerate(specs):
            write_shard(ShardSpec(i, family, seed, n_ues=4, n_reports=12, window=4, stride=2,
                                  channel_estimate=True), folders[split])
    torch.manual_seed(0)
    cfg = LinkFMConfig(n_slots=4, early_exit_layers=(1,))
    save_checkpoint(folders["ckpt"], LinkFM(cfg), stats_of(folders["test"]))
    return folders


@pytest.fixture(scope="module")
def report(tiny_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("eval-out")
    ck = str(tiny_data["ckpt"])
    torch.set_num_threads(1)
    rc = cli_main(["evaluate", "--checkpoint", ck, "--scratch", ck,
                   "--fewshot", f"1={ck},10={ck},100={ck}", "--fewshot-scratch", f"100={ck}",
                   "--data", str(tiny_data["test"]), "--ood", str(tiny_data["ood"]),
                   "--out", str(out), "--exit-thresholds", "1,3", "--speed-seconds", "0.05"])
    assert rc == 0
    return json.loads((out / "report.json").read_text()), out


METHODS = {"oracle", "model", "scratch", "ar-search", "search", "snr-rule", "mode",
           "persistence"}


def test_report_has_every_method_split_horizon_and_breakdown(report: tuple[dict[str, Any], Path]
                                                              ) -> None:
    rep, _ = report
    assert set(rep["methods"]) == METHODS
    for section in ("overall", "by_speed", "by_snr", "by_family"):
        assert set(rep[section]) == {"test", "ood"}, section
        for split in ("test", "ood"):
            assert set(rep[section][split]) == {"5", "10", "20"}, (section, split)
    for h in ("5", "10", "20"):
        assert set(rep["overall"]["test"][h]) == METHODS
        fams = set(rep["by_family"]["test"][h])
        assert fams == {"umi-vehicular", "cdl-c", "umi-2port"}
        assert set(rep["by_family"]["ood"][h]) == {"uma-highspeed"}
        for metrics in rep["overall"]["test"][h].values():
            assert {"ri_accuracy", "pmi_accuracy", "rank_top2", "ri_balanced_accuracy",
                    "se_ratio", "gap_closed", "beam_top1", "beam_top3", "rsrp_loss_db",
                    "within_1db"} <= set(metrics)
    n = rep["overall"]["test"]["10"]["oracle"]["n"]
    assert sum(b["oracle"]["n"] for b in rep["by_speed"]["test"]["10"].values()) == n
    assert sum(b["oracle"]["n"] for b in rep["by_snr"]["test"]["10"].values()) == n


def test_oracle_scores_one_and_no_method_beats_it(report: tuple[dict[str, Any], Path]
                                                   ) -> None:
    rep, _ = report
    for split in ("test", "ood"):
        for h, table in rep["overall"][split].items():
            assert table["oracle"]["se_ratio"] == pytest.approx(1.0, abs=1e-9), (split, h)
            assert table["oracle"]["ri_accuracy"] == 1.0
            assert table["oracle"]["beam_top1"] == 1.0
            assert table["oracle"]["rsrp_loss_db"] == pytest.approx(0.0, abs=1e-6)
            assert table["persistence"]["gap_closed"] == pytest.approx(0.0, abs=1e-9)
            for m, metrics in table.items():
                assert metrics["se_ratio"] <= 1.0 + 1e-4, (split, h, m)
                assert metrics["rsrp_loss_db"] >= -1e-6, (split, h, m)
            for bins in rep["by_speed"][split][h].values():
                for metrics in bins.values():
                    assert metrics["se_ratio"] <= 1.0 + 1e-4


def test_curves_targets_and_calibration_are_reported(report: tuple[dict[str, Any], Path]
                                                     ) -> None:
    rep, _ = report
    fs = rep["fewshot"]
    assert fs["evaluated"] and set(fs["pretrained"]) == {"1", "10", "100"}
    assert set(fs["scratch"]) == {"100"}
    ee = rep["early_exit"]
    assert [p["threshold_nats"] for p in ee["points"]] == [0.0, 1.0, 3.0]
    assert all(0.0 <= p["early_exit_share"] <= 1.0 for p in ee["points"])
    assert ee["points"][0]["early_exit_share"] == 0.0
    assert rep["int8"]["evaluated"] and "delta" in rep["int8"]
    t = rep["targets"]
    for key in ("se_ratio", "gap_closed", "beats_ar_search", "beam_top1", "rsrp_loss_db",
                "fewshot_10_beats_scratch_100", "throughput", "peak_fraction"):
        assert key in t and "met" in t[key], key
    # the same untrained checkpoint on 10 % and 100 %: identical scores, so not "beats"
    assert t["fewshot_10_beats_scratch_100"]["met"] is False
    cal = rep["calibration"]["test"]["10"]["model"]
    assert 0.0 <= cal["rank"]["ece"] <= 1.0 and 0.0 <= cal["beam"]["ece"] <= 1.0


def test_pngs_decode_and_summary_is_written(report: tuple[dict[str, Any], Path]
                                            ) -> None:
    _, out = report
    names = {"se_ratio_vs_horizon.png", "se_ratio_vs_speed.png", "accuracy_per_snr.png",
             "fewshot.png", "calibration.png", "early_exit.png"}
    assert names <= {p.name for p in out.glob("*.png")}
    for name in names:
        with Image.open(out / name) as img:
            img.load()
            assert img.size[0] > 100 and img.size[1] > 100
    summary = (out / "summary.md").read_text()
    assert "| oracle |" in summary and "Targets" in summary


def test_max_samples_limits_the_scored_windows(tiny_data: dict[str, Path],
                                               tmp_path: Path) -> None:
    ck = str(tiny_data["ckpt"])
    rc = cli_main(["evaluate", "--checkpoint", ck, "--data", str(tiny_data["test"]),
                   "--out", str(tmp_path), "--horizons", "10", "--max-samples", "9",
                   "--exit-thresholds", "", "--no-int8", "--speed-seconds", "0"])
    assert rc == 0
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["splits"] == ["test"]
    assert rep["overall"]["test"]["10"]["oracle"]["n"] == 9  # 3 shards x 3 windows
    assert rep["targets"]["throughput"]["met"] is None


def test_a_bad_fewshot_argument_is_an_error(tiny_data: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli_main(["evaluate", "--checkpoint", str(tiny_data["ckpt"]), "--data",
                   str(tiny_data["test"]), "--out", str(tmp_path), "--fewshot", "ten=/x"])
    assert rc == 2
    assert "PERCENT=DIR" in capsys.readouterr().err


def test_exit_sweep_from_one_full_pass_matches_the_inference_pass(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=32, seed=3)
    with torch.inference_mode():
        full = small_model(tokens, exit_threshold=None, reconstruct=False)
        conf = full.exits[0].confidence()
        threshold = float(conf.median())  # about half leave at the first exit
        heads, early = _exit_at(full, threshold)
        live = small_model(tokens, exit_threshold=threshold)
    assert live.exit_layer is not None
    assert 0 < int(early.sum()) < 32
    assert torch.equal(early, live.exit_layer < small_model.cfg.n_layers)
    assert torch.equal(heads.rank(), live.heads.rank())
    assert torch.equal(heads.pmi_rank, live.heads.pmi_rank)
    assert torch.equal(heads.beam_logits.argmax(-1), live.heads.beam_logits.argmax(-1))
    torch.testing.assert_close(heads.rank_logits, live.heads.rank_logits, rtol=1e-4, atol=1e-4)


def test_parse_fewshot_reads_percent_dir_pairs() -> None:
    assert parse_fewshot(" 1=/a, 100=/b/c ") == {1: Path("/a"), 100: Path("/b/c")}
    assert parse_fewshot("") == {}
    for bad in ("1", "x=/a", "5="):
        with pytest.raises(ValueError, match="PERCENT=DIR"):
            parse_fewshot(bad)


def test_snr_thresholds_fit_on_a_shard_folder_are_monotone(tiny_data: dict[str, Path]) -> None:
    th = fit_thresholds(tiny_data["test"])
    assert len(th) == 3 and list(th) == sorted(th)
    assert all(math.isfinite(t) for t in th)
