"""Int8 dynamic quantisation: a faithful, inference-only copy of the float model."""

from __future__ import annotations

import torch
from torch import nn

from model.network import LinkFM
from model.outputs import LinkFMOutput
from model.quantize import QUANTIZED_LINEAR, is_quantized, quantize_int8
from model.tokenize import TokenBatch

from .conftest import make_batch


def _finite(t: torch.Tensor) -> bool:
    return bool(torch.isfinite(t).all())


def _run(model: LinkFM, tokens: TokenBatch, threshold: float | None) -> LinkFMOutput:
    with torch.inference_mode():
        out: LinkFMOutput = model(tokens, exit_threshold=threshold)
    return out


def test_every_linear_becomes_a_dynamic_int8_linear(small_model: LinkFM) -> None:
    q = quantize_int8(small_model)
    n_linear = sum(isinstance(m, nn.Linear) for m in small_model.modules())
    quantized = [m for m in q.modules() if isinstance(m, QUANTIZED_LINEAR)]
    assert len(quantized) == n_linear > 0
    assert all(m.weight().dtype == torch.qint8 for m in quantized)  # type: ignore[no-untyped-call]
    assert not any(type(m) is nn.Linear for m in q.modules())
    assert is_quantized(q) and not is_quantized(small_model)


def test_the_original_model_is_left_float(small_model: LinkFM) -> None:
    before = {k: v.clone() for k, v in small_model.state_dict().items()}
    quantize_int8(small_model)
    assert is_quantized(small_model) is False
    after = small_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_quantized_copy_is_in_eval_mode(small_model: LinkFM) -> None:
    small_model.train()
    q = quantize_int8(small_model)
    assert not q.training and not any(m.training for m in q.modules())


def test_int8_answers_every_window_close_to_float(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=128, seed=3)
    q = quantize_int8(small_model)
    ref = _run(small_model, tokens, 0.0).heads
    out = _run(q, tokens, 0.0).heads
    assert out.rank_logits.shape == ref.rank_logits.shape == (128, 4)
    for t in (out.rank_logits, out.beam_logits, out.cqi, out.se, *out.pmi_logits.values()):
        assert _finite(t)
    agree = (out.rank() == ref.rank()).float().mean().item()
    assert agree >= 0.9, f"rank agreement {agree:.3f}"
    beam_agree = (out.beam_logits.argmax(-1) == ref.beam_logits.argmax(-1)).float().mean().item()
    assert beam_agree >= 0.8, f"beam top-1 agreement {beam_agree:.3f}"
    # probabilities move by little: weight rounding is ~1/254 of each tensor's range
    dp = (out.rank_logits.softmax(-1) - ref.rank_logits.softmax(-1)).abs().max().item()
    assert dp < 0.05, f"rank probability moved by {dp:.3f}"


def test_int8_early_exits_still_work(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=32, seed=4)
    q = quantize_int8(small_model)
    first = small_model.cfg.early_exit_layers[0]
    everyone_out = _run(q, tokens, float("inf"))
    nobody_out = _run(q, tokens, 0.0)
    assert everyone_out.exit_layer is not None and nobody_out.exit_layer is not None
    assert torch.equal(everyone_out.exit_layer, torch.full((32,), first))
    assert torch.equal(nobody_out.exit_layer, torch.full((32,), small_model.cfg.n_layers))
    assert _finite(everyone_out.heads.rank_logits)
    assert everyone_out.heads.rank_logits.shape == (32, 4)
