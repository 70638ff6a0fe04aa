"""The inference pass (a float exit threshold) takes shortcuts that must not change answers."""

from __future__ import annotations

import torch

from model.network import LinkFM
from model.tokenize import TokenBatch

from .conftest import make_batch


def _without(tokens: TokenBatch, features: list[int], model: LinkFM) -> TokenBatch:
    """``tokens`` with every token of the registry indices ``features`` unobserved."""
    gone = torch.isin(model.layout.feature_id, torch.tensor(features))
    present = tokens.present & ~gone[None, :]
    return TokenBatch(**{**tokens.__dict__, "present": present})


def test_tokens_absent_from_every_window_do_not_change_inference(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=16, seed=5)
    reg = small_model.registry
    tokens = _without(tokens, [reg.index("kpm.DRB.UEThpUl"), reg.index("csi.h_est")], small_model)
    assert not bool(tokens.present.any(0).all())  # some columns are absent everywhere
    with torch.inference_mode():
        full = small_model(tokens, reconstruct=False)  # the training pass keeps every token
        fast = small_model(tokens, exit_threshold=0.0)
    torch.testing.assert_close(fast.heads.rank_logits, full.heads.rank_logits)
    torch.testing.assert_close(fast.heads.beam_logits, full.heads.beam_logits)
    torch.testing.assert_close(fast.heads.se, full.heads.se)
    assert fast.cls is not None and full.cls is not None
    torch.testing.assert_close(fast.cls, full.cls)


def test_a_zero_threshold_never_runs_the_exit_heads(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=8, seed=6)
    calls: list[int] = []
    for heads in small_model.exit_heads:
        heads.register_forward_hook(lambda *_: calls.append(1))
    with torch.inference_mode():
        small_model(tokens, exit_threshold=0.0)
        assert calls == []
        small_model(tokens, exit_threshold=1e-3)
    assert len(calls) == len(small_model.exit_heads)


def test_the_token_sequence_is_cls_then_value_and_feature_parts(small_model: LinkFM) -> None:
    _, _, tokens, _ = make_batch(small_model, batch=4, seed=7)
    with torch.inference_mode():
        x = small_model.embed_tokens(tokens)
    dv = small_model.slot_emb.embedding_dim
    assert x.shape == (4, 1 + small_model.layout.n_tokens, small_model.cfg.d_model)
    torch.testing.assert_close(x[:, 0], small_model.cls_token[0].expand(4, -1))
    feature_part = small_model.feature_emb(small_model.feature_id)  # [N, d_fe]
    torch.testing.assert_close(x[:, 1:, dv:], feature_part.expand(4, -1, -1))
    # an unobserved token carries only its slot embedding in the value part
    b, n = (~tokens.present).nonzero()[0].tolist()
    slot = small_model.slot_emb(small_model.slot_id[n])
    torch.testing.assert_close(x[b, 1 + n, :dv], slot)
