"""Beam prototypes classify by distance to mean embeddings and never touch the network."""

from __future__ import annotations

import torch

from model.network import LinkFM
from model.prototypes import BeamPrototypes, calibrate_beams, classify_beams

from .conftest import make_batch


def _clusters(n_beams: int, per_beam: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings [n_beams * per_beam, 16] around one random centre per beam, plus a big
    offset shared by all (the direction that normalisation must remove)."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_beams, 16, generator=gen)
    beams = torch.arange(n_beams).repeat_interleave(per_beam)
    noise = 0.1 * torch.randn(len(beams), 16, generator=gen)
    return centres[beams] + noise + 20.0, beams


def test_few_shot_prototypes_classify_new_samples_of_known_beams() -> None:
    support, labels = _clusters(8, per_beam=3, seed=0)
    query, truth = _clusters(8, per_beam=5, seed=0)
    protos = BeamPrototypes.fit(support, labels, n_beams=8)
    assert torch.equal(protos.predict(query), truth)


def test_prototypes_are_unit_vectors() -> None:
    support, labels = _clusters(4, per_beam=2, seed=1)
    protos = BeamPrototypes.fit(support, labels, n_beams=4)
    assert torch.allclose(protos.prototypes.norm(dim=-1), torch.ones(4))


def test_beams_without_samples_are_never_predicted() -> None:
    support, labels = _clusters(6, per_beam=2, seed=2)
    keep = labels != 3
    protos = BeamPrototypes.fit(support[keep], labels[keep], n_beams=6)
    assert not protos.known[3]
    assert (protos.predict(support) != 3).all()


def test_calibration_changes_no_network_parameter(small_model: LinkFM) -> None:
    small_model.requires_grad_(True).train()
    before = {k: v.clone() for k, v in small_model.state_dict().items()}
    _, _, b, y = make_batch(small_model, batch=12)
    protos = calibrate_beams(small_model, b, y.beam, small_model.cfg.max_beams)
    logits = classify_beams(small_model, b, protos)
    assert logits.shape == (12, small_model.cfg.max_beams)
    after = small_model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    assert all(p.requires_grad for p in small_model.parameters())
    assert small_model.training  # the caller's mode is restored
