"""LinkFM: masks hold, masked values cannot leak, it learns, and early exits report their layer."""

from __future__ import annotations

import pytest
import torch

from model.losses import reconstruction_loss, supervised_loss
from model.masking import MaskMode, pretraining_mask
from model.network import LinkFM
from model.outputs import masked_entropy
from model.pmi_space import PMI_PARTS, pmi_mask_table
from model.tokenize import tokenize

from .conftest import SMALL, make_batch


def test_heads_have_one_row_per_window(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=6)
    out = small_model(b)
    assert out.heads.rank_logits.shape == (6, 4)
    assert out.heads.beam_logits.shape == (6, SMALL.max_beams)
    assert out.heads.cqi.shape == out.heads.se.shape == (6,)
    assert out.cls is not None and out.cls.shape == (6, SMALL.d_model)
    assert len(out.exits) == len(SMALL.early_exit_layers)


def test_pmi_probability_is_zero_outside_the_codebook(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=16)
    for forced in (1, 2, 3, 4):
        rank = torch.full((16,), forced)
        out = small_model(b, rank=rank)
        for part in PMI_PARTS:
            valid = pmi_mask_table()[part][b.codebook, forced - 1]
            probs = out.heads.pmi_logits[part].softmax(-1)
            rows = valid.any(1)  # rank 3-4 do not exist for 2 ports
            assert float(probs[rows][~valid[rows]].sum()) == 0.0


def test_predicted_pmi_is_for_the_predicted_rank_when_none_is_given(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=16)
    out = small_model(b)
    assert torch.equal(out.heads.pmi_rank, out.heads.rank())


def test_ranks_beyond_ports_or_antennas_get_no_probability(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=32)
    p = small_model(b).heads.rank_logits.softmax(-1)
    ranks = torch.arange(1, 5)
    assert float(p[ranks[None, :] > b.n_rx[:, None]].sum()) == 0.0
    assert float(p[b.codebook == 0][:, 2:].sum()) == 0.0  # 2 ports: rank <= 2


def test_top_k_beams_are_within_the_ues_beam_count(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=32)
    idx, prob = small_model(b).heads.top_k_beams(3)
    assert (idx < b.n_beams[:, None]).all()
    assert (prob[:, :-1] >= prob[:, 1:]).all()


@pytest.mark.parametrize(
    ("name", "slot"),
    [("csi.ri", 1), ("csi.cqi_wb", 0), ("csi.beam_rsrp", 2), ("csi.h_est", SMALL.n_slots - 1)],
)
def test_a_masked_value_cannot_leak_into_any_output(
    small_model: LinkFM, name: str, slot: int
) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=4)
    values, mask = windows[name]
    changed = dict(windows)
    new = values.clone()
    if values.dtype == torch.long:
        new[0, slot] = (values[0, slot] + 1) % 4
    else:
        new[0, slot] = values[0, slot] * 3 + 5  # same validity, very different values
    changed[name] = (new, mask)
    tok = small_model.layout.tokens_of(name, slot)
    outs = []
    for w in (windows, changed):
        b = tokenize(w, small_model.layout, stats)
        hide = torch.zeros_like(b.present)
        hide[0, tok] = True
        outs.append(small_model(b.with_mask(hide)))
    a, c = outs
    assert a.recon is not None and c.recon is not None
    for kind in ("scalar", "vector", "matrix", "categorical"):
        assert torch.equal(getattr(a.recon, kind), getattr(c.recon, kind))
    assert torch.equal(a.heads.rank_logits, c.heads.rank_logits)


def test_the_same_change_unmasked_does_reach_the_outputs(small_model: LinkFM) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=4)
    ri, ri_mask = windows["csi.ri"]
    changed = dict(windows)
    changed["csi.ri"] = (ri.clone(), ri_mask)
    changed["csi.ri"][0][0, 1] = (ri[0, 1] + 1) % 4
    a, c = (small_model(tokenize(w, small_model.layout, stats)) for w in (windows, changed))
    assert a.recon is not None and c.recon is not None
    assert not torch.equal(a.recon.categorical[0], c.recon.categorical[0])


def test_values_under_padding_do_not_matter(small_model: LinkFM) -> None:
    windows, stats, _, _ = make_batch(small_model, batch=8)
    h, m = windows["csi.h_est"]
    noisy = dict(windows)
    noisy["csi.h_est"] = (torch.where(m, h, 1e3 + 1e3j), m)
    a, c = (small_model(tokenize(w, small_model.layout, stats)) for w in (windows, noisy))
    assert torch.equal(a.heads.beam_logits, c.heads.beam_logits)


def test_pretraining_and_supervised_losses_decrease_on_a_tiny_batch() -> None:
    torch.manual_seed(0)
    model = LinkFM(SMALL).train()
    _, _, b, y = make_batch(model, batch=16, seed=1)
    gen = torch.Generator().manual_seed(2)
    masked = b.with_mask(pretraining_mask(b, model.layout, gen, MaskMode.RANDOM, ratio=0.5))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    history = []
    for _ in range(30):
        out = model(masked, rank=y.rank)
        assert out.recon is not None
        rec, _ = reconstruction_loss(out.recon, masked, model.layout)
        sup, _ = supervised_loss(out, y)
        loss = rec + sup
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    assert history[-1] < 0.7 * history[0]


def test_reconstruction_loss_is_reported_per_masked_feature(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=8)
    gen = torch.Generator().manual_seed(0)
    masked = b.with_mask(pretraining_mask(b, small_model.layout, gen, MaskMode.FORECAST))
    out = small_model(masked)
    assert out.recon is not None
    total, per_feature = reconstruction_loss(out.recon, masked, small_model.layout)
    assert set(per_feature) == {f.name for f in small_model.registry.targets()}
    assert float(total) > 0


def test_forecast_mask_hides_only_the_last_slots_targets(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=4)
    hide = pretraining_mask(b, small_model.layout, torch.Generator(), MaskMode.FORECAST)
    lay = small_model.layout
    assert (lay.slot_id[hide.any(0)] == SMALL.n_slots - 1).all()
    assert hide[:, lay.tokens_of("csi.ri", SMALL.n_slots - 1)].all()


def test_no_threshold_means_every_item_runs_every_layer(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=8)
    with torch.inference_mode():
        out = small_model(b, exit_threshold=0.0)
    assert out.exit_layer is not None
    assert out.exit_layer.tolist() == [SMALL.n_layers] * 8


def test_a_generous_threshold_stops_everyone_at_the_first_exit(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=8)
    with torch.inference_mode():
        out = small_model(b, exit_threshold=1e9)
    assert out.exit_layer is not None
    assert out.exit_layer.tolist() == [SMALL.early_exit_layers[0]] * 8


def test_each_item_gets_the_heads_of_the_exit_it_took(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=16)
    with torch.inference_mode():
        full = small_model(b)
        first = full.exits[0]
        entropy = masked_entropy(first.rank_logits) + masked_entropy(first.beam_logits)
        threshold = float(entropy.median())
        out = small_model(b, exit_threshold=threshold)
    assert out.exit_layer is not None
    early = out.exit_layer == SMALL.early_exit_layers[0]
    assert early.tolist() == (entropy < threshold).tolist()
    assert early.any() and (~early).any()
    assert torch.allclose(out.heads.rank_logits[early], first.rank_logits[early], atol=1e-5)
    late = out.exit_layer == SMALL.n_layers
    if late.any():
        assert torch.allclose(out.heads.beam_logits[late], full.heads.beam_logits[late], atol=1e-5)
