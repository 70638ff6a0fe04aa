"""Windows of mixed antenna configurations become padded tokens with honest masks."""

from __future__ import annotations

import pytest
import torch

from model.network import LinkFM
from model.registry import NormaliserStats
from model.tokenize import TokenLayout, tokenize

from .conftest import SMALL, make_batch


def _mixed_windows(model: LinkFM) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Three UEs: (2 ports, 1 rx, 8 sb, 16 beams), (4, 2, 4, 8), (8, 4, 6, 12)."""
    d, T = model.registry.dims, model.cfg.n_slots
    ports, rx, sb, beams = [2, 4, 8], [1, 2, 4], [8, 4, 6], [16, 8, 12]
    h = torch.zeros(3, T, d.max_subbands, d.max_rx, d.max_tx, dtype=torch.complex64)
    hm = torch.zeros(h.shape, dtype=torch.bool)
    cqi_sb = torch.zeros(3, T, d.max_subbands)
    sbm = torch.zeros(cqi_sb.shape, dtype=torch.bool)
    rsrp = torch.full((3, T, d.max_beams), -90.0)
    rm = torch.zeros(rsrp.shape, dtype=torch.bool)
    for i in range(3):
        h[i, :, : sb[i], : rx[i], : ports[i]] = 1 + 1j
        hm[i, :, : sb[i], : rx[i], : ports[i]] = True
        sbm[i, :, : sb[i]] = True
        rm[i, :, : beams[i]] = True
    ones = torch.ones(3, dtype=torch.bool)
    return {
        "csi.h_est": (h, hm),
        "csi.cqi_sb": (cqi_sb, sbm),
        "csi.beam_rsrp": (rsrp, rm),
        "csi.sinr_db": (torch.zeros(3, T), torch.ones(3, T, dtype=torch.bool)),
        "ctx.codebook": (torch.tensor([0, 1, 2]), ones),
        "ctx.n_rx": (torch.tensor(rx, dtype=torch.float), ones),
        "ctx.n_beams": (torch.tensor(beams, dtype=torch.float), ones),
    }


def test_layout_counts_one_token_per_feature_and_slot_plus_patches(small_model: LinkFM) -> None:
    lay, reg, T = small_model.layout, small_model.registry, SMALL.n_slots
    per_slot = sum(1 for f in reg.features if f.per_slot and f.name != "csi.h_est")
    context = sum(1 for f in reg.features if not f.per_slot)
    patches = SMALL.matrix_slots * (SMALL.max_subbands // SMALL.patch_subbands) * SMALL.max_rx
    assert lay.n_tokens == per_slot * T + context + patches


def test_token_tensors_have_the_layout_shapes(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    Ns, Nv, Nm, Nc = small_model.layout.counts
    assert b.scalar.shape == (3, Ns)
    assert b.vector.shape == (3, Nv, small_model.layout.vector_len)
    assert b.matrix.shape == (3, Nm, 2 * SMALL.patch_subbands * SMALL.max_tx)
    assert b.categorical.shape == (3, Nc)
    assert b.present.shape == b.masked.shape == (3, small_model.layout.n_tokens)


def test_patches_of_absent_receive_antennas_are_padding(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    Ns, Nv, Nm, _ = small_model.layout.counts
    patch_present = b.present[:, Ns + Nv : Ns + Nv + Nm]
    groups = SMALL.max_subbands // SMALL.patch_subbands
    # UE0: 1 rx, 8 subbands -> 2 groups x 1 rx; UE1: 2 rx, 4 sb -> 1 x 2; UE2: 4 rx, 6 sb -> 2 x 4
    assert patch_present.sum(1).tolist() == [groups * 1, 1 * 2, 2 * 4]


def test_patch_validity_marks_only_real_ports(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    # first patch of each UE: 4 subbands x 8 ports x (re, im) -> valid = 4 * ports * 2
    assert b.matrix_valid[:, 0].sum(1).tolist() == [4 * 2 * 2, 4 * 4 * 2, 4 * 8 * 2]


def test_vector_validity_follows_subband_and_beam_counts(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    lay = small_model.layout
    Ns = lay.counts[0]
    sb_tok = int(lay.tokens_of("csi.cqi_sb", 0)[0]) - Ns
    beam_tok = int(lay.tokens_of("csi.beam_rsrp", 0)[0]) - Ns
    assert b.vector_valid[:, sb_tok].sum(1).tolist() == [8, 4, 6]
    assert b.vector_valid[:, beam_tok].sum(1).tolist() == [16, 8, 12]


def test_missing_features_are_absent_tokens(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    tok = small_model.layout.tokens_of("kpm.DRB.UEThpDl")
    assert not b.present[:, tok].any()
    assert b.present[:, small_model.layout.tokens_of("csi.sinr_db")].all()


def test_context_values_feed_the_head_masks(small_model: LinkFM) -> None:
    b = tokenize(_mixed_windows(small_model), small_model.layout, NormaliserStats())
    assert b.codebook.tolist() == [0, 1, 2]
    assert b.n_rx.tolist() == [1, 2, 4]
    assert b.n_beams.tolist() == [16, 8, 12]


def test_out_of_range_class_is_treated_as_unobserved(small_model: LinkFM) -> None:
    T = SMALL.n_slots
    windows = {"csi.ri": (torch.tensor([[0] * (T - 1) + [7]]), torch.ones(1, T, dtype=torch.bool))}
    b = tokenize(windows, small_model.layout, NormaliserStats())
    tok = small_model.layout.tokens_of("csi.ri")
    assert b.present[0, tok].tolist() == [True] * (T - 1) + [False]


def test_context_tokens_use_the_extra_slot(small_model: LinkFM) -> None:
    lay = small_model.layout
    assert lay.slot_id[lay.tokens_of("ctx.horizon_ms")].tolist() == [SMALL.n_slots]


def test_selecting_items_keeps_their_rows(small_model: LinkFM) -> None:
    _, _, b, _ = make_batch(small_model, batch=5)
    sub = b.select(torch.tensor([3, 1]))
    assert torch.equal(sub.scalar, b.scalar[[3, 1]])
    assert torch.equal(sub.codebook, b.codebook[[3, 1]])


def test_patch_size_must_divide_the_subband_count(small_model: LinkFM) -> None:
    with pytest.raises(ValueError, match="patch_subbands"):
        TokenLayout.build(small_model.registry, 3, patch_subbands=3, matrix_slots=1)


def test_a_wrongly_shaped_feature_is_refused_by_name(small_model: LinkFM) -> None:
    T = SMALL.n_slots
    windows = {"csi.cqi_sb": (torch.zeros(2, T, 5), torch.ones(2, T, 5, dtype=torch.bool))}
    with pytest.raises(ValueError, match=r"csi\.cqi_sb"):
        tokenize(windows, small_model.layout, NormaliserStats())


def test_non_finite_values_count_as_unobserved(small_model: LinkFM) -> None:
    T = SMALL.n_slots
    sinr = torch.zeros(1, T)
    sinr[0, 0] = float("nan")
    windows = {"csi.sinr_db": (sinr, torch.ones(1, T, dtype=torch.bool))}
    b = tokenize(windows, small_model.layout, NormaliserStats())
    tok = small_model.layout.tokens_of("csi.sinr_db")
    assert b.present[0, tok].tolist() == [False] + [True] * (T - 1)
    assert torch.isfinite(b.scalar).all()
