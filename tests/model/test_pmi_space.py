"""PMI validity masks follow the Type-I codebook sizes of TS 38.214 5.2.2.2.1."""

from __future__ import annotations

import pytest
import torch

from model.pmi_space import CODEBOOK_CONFIGS, PMI_PARTS, pmi_counts, pmi_mask_table, rank_mask


def _config(ports: int, n1: int, n2: int) -> int:
    return next(
        i for i, c in enumerate(CODEBOOK_CONFIGS) if (c.n_ports, c.n1, c.n2) == (ports, n1, n2)
    )


@pytest.mark.parametrize(
    ("ports", "n1", "n2", "rank", "expected"),
    [
        (2, 1, 1, 1, {"i11": 1, "i12": 1, "i13": 1, "i2": 4}),
        (2, 1, 1, 2, {"i11": 1, "i12": 1, "i13": 1, "i2": 2}),
        (4, 2, 1, 1, {"i11": 8, "i12": 1, "i13": 1, "i2": 4}),
        (4, 2, 1, 2, {"i11": 8, "i12": 1, "i13": 2, "i2": 2}),
        (4, 2, 1, 3, {"i11": 8, "i12": 1, "i13": 1, "i2": 2}),
        (4, 2, 1, 4, {"i11": 8, "i12": 1, "i13": 1, "i2": 2}),
        (8, 2, 2, 1, {"i11": 8, "i12": 8, "i13": 1, "i2": 4}),
        (8, 2, 2, 2, {"i11": 8, "i12": 8, "i13": 4, "i2": 2}),
        (8, 2, 2, 3, {"i11": 8, "i12": 8, "i13": 3, "i2": 2}),
        (8, 4, 1, 1, {"i11": 16, "i12": 1, "i13": 1, "i2": 4}),
        (8, 4, 1, 2, {"i11": 16, "i12": 1, "i13": 4, "i2": 2}),
        (8, 4, 1, 4, {"i11": 16, "i12": 1, "i13": 3, "i2": 2}),
    ],
)
def test_counts_match_the_codebook_tables(
    ports: int, n1: int, n2: int, rank: int, expected: dict[str, int]
) -> None:
    assert pmi_counts(CODEBOOK_CONFIGS[_config(ports, n1, n2)], rank) == expected


def test_two_ports_have_no_rank_above_two() -> None:
    assert set(pmi_counts(CODEBOOK_CONFIGS[_config(2, 1, 1)], 3).values()) == {0}


@pytest.mark.parametrize("part", PMI_PARTS)
def test_mask_table_is_true_exactly_below_the_count(part: str) -> None:
    table = pmi_mask_table()[part]
    for c, cfg in enumerate(CODEBOOK_CONFIGS):
        for rank in range(1, 5):
            n = pmi_counts(cfg, rank)[part]
            assert table[c, rank - 1, :n].all()
            assert not table[c, rank - 1, n:].any()


def test_rank_is_limited_by_ports_and_receive_antennas() -> None:
    codebook = torch.tensor(
        [_config(2, 1, 1), _config(4, 2, 1), _config(8, 2, 2), _config(8, 4, 1)]
    )
    n_rx = torch.tensor([4, 1, 2, 4])
    assert rank_mask(codebook, n_rx).sum(1).tolist() == [2, 1, 2, 4]
