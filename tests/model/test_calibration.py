"""ECE measures miscalibration and temperature scaling removes over-confidence."""

from __future__ import annotations

import torch

from model.calibration import expected_calibration_error, fit_temperature


def _calibrated(n: int, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [n, k] and labels drawn from softmax(logits): calibrated by construction."""
    gen = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(n, k, generator=gen)
    labels = torch.multinomial(logits.softmax(-1), 1, generator=gen).squeeze(-1)
    return logits, labels


def test_confident_and_always_right_has_zero_error() -> None:
    probs = torch.eye(4)[[0, 1, 2, 3]]
    assert expected_calibration_error(probs, torch.tensor([0, 1, 2, 3])) == 0.0


def test_confident_and_always_wrong_has_error_one() -> None:
    probs = torch.eye(4)[[0, 1, 2, 3]]
    assert expected_calibration_error(probs, torch.tensor([1, 2, 3, 0])) == 1.0


def test_calibrated_probabilities_have_small_error() -> None:
    logits, labels = _calibrated(20000, 4, seed=0)
    assert expected_calibration_error(logits.softmax(-1), labels) < 0.02


def test_temperature_undoes_overconfidence() -> None:
    logits, labels = _calibrated(8000, 4, seed=1)
    t = fit_temperature(3 * logits, labels)
    assert abs(t - 3) < 0.3
    before = expected_calibration_error((3 * logits).softmax(-1), labels)
    after = expected_calibration_error((3 * logits / t).softmax(-1), labels)
    assert after < before / 2
