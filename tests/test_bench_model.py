"""`linkfm bench model`: the JSON it prints, its FLOP count, and early exit at the extremes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from model.checkpoint import save_checkpoint
from model.flops import analytic_flops, counted_flops, encoder_tokens
from model.network import LinkFM, LinkFMConfig
from model.synthetic import synthetic_windows
from model.tokenize import TokenBatch, tokenize
from xapp import cli

TINY = LinkFMConfig(d_model=16, n_layers=3, n_heads=2, d_feature_emb=4,
                    early_exit_layers=(1, 2))
FIGURES = ("windows_per_s", "windows_per_s_best", "latency_ms_p50", "latency_ms_p99",
           "achieved_gflops", "peak_fraction", "peak_fraction_best")


def _tokens(model: LinkFM, batch: int, seed: int = 0) -> TokenBatch:
    gen = torch.Generator().manual_seed(seed)
    windows, _ = synthetic_windows(model.registry, batch, model.cfg.n_slots, gen)
    return tokenize(windows, model.layout, model.registry.fit_stats(windows))


@pytest.fixture(scope="module")
def quick_result() -> dict[str, object]:
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["bench", "model", "--quick", "--fresh", "--threads", "1",
                         "--batches", "1", "64"]) == 0
    result: dict[str, object] = json.loads(out.getvalue())
    return result


def test_quick_bench_prints_every_section(quick_result: dict[str, object]) -> None:
    for key in ("machine", "model", "matmul_peak", "flops_per_window", "float32", "tokenize",
                "early_exit", "int8", "target"):
        assert key in quick_result, key
    assert quick_result["threads"] == 1
    model = quick_result["model"]
    assert isinstance(model, dict) and model["source"] == "fresh default config"
    assert model["tokens_per_window"] == LinkFM(LinkFMConfig()).layout.n_tokens + 1


def test_quick_bench_reports_each_batch_for_float_and_int8(
        quick_result: dict[str, object]) -> None:
    for section in ("float32", "int8"):
        figures = quick_result[section]
        assert isinstance(figures, dict)
        for batch in ("1", "64"):
            assert figures[batch]["batch"] == int(batch)
            for key in FIGURES:
                assert figures[batch][key] > 0, (section, batch, key)
            assert figures[batch]["latency_ms_p99"] >= figures[batch]["latency_ms_p50"]
    int8 = quick_result["int8"]
    assert isinstance(int8, dict)
    assert 0 <= int8["agreement_with_float32"]["rank_agreement"] <= 1
    assert int8["64"]["speedup"] > 0


def test_quick_bench_measures_peak_and_tokenizer_share(quick_result: dict[str, object]) -> None:
    peak = quick_result["matmul_peak"]
    assert isinstance(peak, dict)
    assert peak["best_gflops"] == max(peak["gflops_by_shape"].values()) > 0
    tok = quick_result["tokenize"]
    assert isinstance(tok, dict)
    assert 0 < tok["64"]["tokenize_share"] < 1
    flops = quick_result["flops_per_window"]
    assert isinstance(flops, dict) and flops["counted"] == flops["analytic"]


def test_quick_bench_states_the_target_and_whether_it_is_met(
        quick_result: dict[str, object]) -> None:
    target = quick_result["target"]
    assert isinstance(target, dict)
    assert target["windows_per_s"] == 6400 and target["peak_fraction"] == 0.4
    variants = target["variants"]
    assert {"float32", "int8", "float32_with_tokenize"} <= set(variants)
    assert any(name.startswith("early_exit_") for name in variants)
    f32 = variants["float32"]
    assert f32["throughput_met"] == (f32["windows_per_s"] >= 6400)
    assert f32["met"] == (f32["throughput_met"] and f32["peak_fraction"] >= 0.4)
    assert target["met"] == any(v.get("met", False) for v in variants.values())


def test_quick_bench_early_exit_rows_cover_the_thresholds(
        quick_result: dict[str, object]) -> None:
    early = quick_result["early_exit"]
    assert isinstance(early, dict) and early["batch"] == 64
    rows = early["thresholds"]
    shares = [row["early_exit_share"] for row in rows]
    assert shares == sorted(shares)  # higher thresholds let more windows leave
    assert rows[-1]["threshold_nats"] == "inf" and shares[-1] == 1.0
    assert all(math.isclose(sum(r["exit_layer_share"].values()), 1.0, abs_tol=1e-3)
               for r in rows)


def test_bench_reads_a_checkpoint_when_given(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    model = LinkFM(TINY)
    gen = torch.Generator().manual_seed(0)
    windows, _ = synthetic_windows(model.registry, 16, TINY.n_slots, gen)
    path = save_checkpoint(tmp_path / "ckpt", model, model.registry.fit_stats(windows))
    assert cli.main(["bench", "model", "--quick", "--threads", "1", "--checkpoint", str(path),
                     "--batches", "4", "--thresholds", "1.0", "inf"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"]["source"] == str(path)
    assert result["model"]["config"]["d_model"] == 16
    assert [r["threshold_nats"] for r in result["early_exit"]["thresholds"]] == [1.0, "inf"]


def test_analytic_count_follows_the_tokens_that_enter_the_encoder() -> None:
    cfg = LinkFMConfig()
    model = LinkFM(cfg)
    all_tokens = analytic_flops(cfg, model.layout)
    assert all_tokens == analytic_flops(cfg, model.layout, model.layout.n_tokens + 1)
    fewer = analytic_flops(cfg, model.layout, model.layout.n_tokens - 5)
    assert fewer["encoder"] < all_tokens["encoder"]
    assert fewer["tokenizers"] == all_tokens["tokenizers"]  # embedding precedes the drop


@pytest.mark.parametrize("cfg", [LinkFMConfig(), TINY,
                                 LinkFMConfig(d_model=48, mlp_ratio=4, patch_subbands=16)])
def test_flop_counter_agrees_with_the_analytic_count(cfg: LinkFMConfig) -> None:
    model = LinkFM(cfg).eval()
    tokens = _tokens(model, 8)
    counted, by_op = counted_flops(model, tokens)
    analytic = analytic_flops(cfg, model.layout, encoder_tokens(tokens))
    assert counted == pytest.approx(analytic["total"], rel=0.01)
    # attention is counted too (torch's counter alone misses the CPU kernel)
    assert any("attention" in op for op in by_op)


def test_early_exit_with_an_infinite_threshold_stops_everyone_at_the_first_exit() -> None:
    model = LinkFM(TINY).eval()
    with torch.inference_mode():
        out = model(_tokens(model, 32), exit_threshold=math.inf)
    assert out.exit_layer is not None
    assert out.exit_layer.tolist() == [TINY.early_exit_layers[0]] * 32
    full, _ = counted_flops(model, _tokens(model, 32), 0.0)
    early, _ = counted_flops(model, _tokens(model, 32), math.inf)
    assert early < full


def test_early_exit_with_a_zero_threshold_stops_no_one() -> None:
    model = LinkFM(TINY).eval()
    with torch.inference_mode():
        out = model(_tokens(model, 32), exit_threshold=0.0)
    assert out.exit_layer is not None
    assert out.exit_layer.tolist() == [TINY.n_layers] * 32


def test_bench_times_dataset_windows_when_given(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tests.model.tiny_shards import TINY_FAMILIES, write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "data", families=TINY_FAMILIES[:1])
    assert cli.main(["bench", "model", "--quick", "--fresh", "--threads", "1", "--data",
                     str(data), "--batches", "8", "--thresholds", "inf"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["windows"].startswith(str(data))
    assert result["float32"]["8"]["windows_per_s"] > 0
    assert result["early_exit"]["thresholds"][0]["early_exit_share"] == 1.0


def test_the_default_checkpoint_is_the_newest_manifest(tmp_path: Path) -> None:
    import os

    from bench.model import latest_checkpoint

    assert latest_checkpoint(tmp_path) is None
    for age, name in ((200, "old"), (100, "new")):
        (tmp_path / name).mkdir()
        manifest = tmp_path / name / "manifest.json"
        manifest.write_text("{}")
        os.utime(manifest, (1e9 - age, 1e9 - age))
    (tmp_path / "no-manifest").mkdir()
    assert latest_checkpoint(tmp_path) == tmp_path / "new"
