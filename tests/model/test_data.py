"""model.data: shards -> window sets, label subsets, batch order, normaliser statistics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from e2sim.dataset import FAMILY_ID, load_shard
from model.data import (
    MATRIX,
    DatasetError,
    batches,
    epoch_order,
    label_subset,
    load_windows,
    split_by_ue,
    stats_of,
)
from model.network import LinkFM, LinkFMConfig
from model.registry import FeatureRegistry
from tests.model.tiny_shards import write_tiny_dataset

REG = FeatureRegistry()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny"))


def _shards(d: Path) -> list[dict[str, torch.Tensor]]:
    return [load_shard(p)[0] for p in sorted(d.glob("*.safetensors"))]


def _cat(shards: list[dict[str, torch.Tensor]], key: str) -> torch.Tensor:
    return torch.cat([s[key] for s in shards])


def test_per_slot_features_keep_the_last_slots_of_the_shard(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=3)
    shards = _shards(tiny)
    w = ws.windows
    for name in ("csi.ri", "csi.cqi_sb", "csi.beam_rsrp", MATRIX):
        values, mask = w[name]
        assert values.shape == (len(ws), 3, *REG.shape(name))
        assert torch.equal(values, _cat(shards, f"x.{name}")[:, -3:])
        assert torch.equal(mask, _cat(shards, f"m.{name}")[:, -3:])


def test_window_features_are_one_value_per_window(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=3)
    values, mask = ws.windows["kpm.DRB.UEThpDl"]
    assert values.shape == mask.shape == (len(ws),)
    assert torch.equal(values, _cat(_shards(tiny), "x.kpm.DRB.UEThpDl"))


def test_shorter_shard_windows_are_left_padded_as_unobserved(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=6)  # shards have 4 slots
    values, mask = ws.windows["csi.cqi_wb"]
    assert values.shape == (len(ws), 6)
    assert not mask[:, :2].any()
    assert torch.equal(values[:, 2:], _cat(_shards(tiny), "x.csi.cqi_wb"))


def test_matrix_slots_keeps_only_the_latest_estimates(tiny: Path) -> None:
    full = load_windows(tiny, n_slots=3)
    lean = load_windows(tiny, n_slots=3, matrix_slots=1)
    assert lean.base[MATRIX][0].shape[1] == 1  # stored: the latest slot only
    h_full, m_full = full.windows[MATRIX]
    h, m = lean.windows[MATRIX]
    assert h.shape == h_full.shape
    assert torch.equal(h[:, -1], h_full[:, -1]) and torch.equal(m[:, -1], m_full[:, -1])
    assert not m[:, :-1].any()
    # the tokenizer reads only the latest slot, so both give the same tokens
    model = LinkFM(LinkFMConfig(n_slots=3, matrix_slots=1))
    stats = stats_of(tiny)
    idx = torch.arange(len(full))
    assert torch.equal(full.tokens(idx, model.layout, stats).matrix,
                       lean.tokens(idx, model.layout, stats).matrix)


def test_targets_and_horizon_input_follow_the_chosen_horizon(tiny: Path) -> None:
    shards = _shards(tiny)
    ws = load_windows(tiny, horizon_ms=20, n_slots=3)
    assert torch.equal(ws.targets.rank, _cat(shards, "y.20ms.ri"))
    assert torch.equal(ws.targets.beam, _cat(shards, "y.20ms.beam"))
    for part in ("i11", "i12", "i13", "i2"):
        assert torch.equal(ws.targets.pmi[part], _cat(shards, f"y.20ms.{part}"))
    assert ws.targets.cqi.dtype == torch.float32
    assert torch.equal(ws.targets.cqi, _cat(shards, "y.20ms.cqi").float())
    assert torch.equal(ws.targets.se, _cat(shards, "y.20ms.se"))
    hz, hz_mask = ws.windows["ctx.horizon_ms"]
    assert torch.all(hz == 20) and hz_mask.all()
    # the shards themselves store 5 ms (their first horizon) as the input
    assert torch.all(_cat(shards, "x.ctx.horizon_ms") == 5)


def test_several_horizons_give_one_row_per_window_and_horizon(tiny: Path) -> None:
    shards = _shards(tiny)
    n = sum(len(s["y.5ms.ri"]) for s in shards)
    ws = load_windows(tiny, horizon_ms=(5, 10, 20), n_slots=3)
    assert len(ws) == 3 * n
    assert ws.base["csi.ri"][0].shape[0] == n  # inputs stored once
    for i, h in enumerate((5, 10, 20)):
        rows = torch.arange(i * n, (i + 1) * n)
        part = ws.subset(rows)
        assert torch.all(part.horizon_ms == h)
        assert torch.equal(part.targets.rank, _cat(shards, f"y.{h}ms.ri"))
        assert torch.equal(part.windows["csi.ri"][0], _cat(shards, "x.csi.ri")[:, -3:])
        assert torch.equal(part.meta["ue_id"], _cat(shards, "meta.ue_id"))


def test_meta_legacy_and_evaluation_extras(tiny: Path) -> None:
    shards = _shards(tiny)
    ws = load_windows(tiny, horizon_ms=10, n_slots=3, with_eval=True)
    assert torch.equal(ws.legacy["ri"], _cat(shards, "legacy.ri"))
    assert set(ws.meta) >= {"ue_id", "family_id", "seed", "time_ms", "speed_kmh", "snr_db"}
    assert set(ws.extras) == {"se_per_rank", "pmi_per_rank", "beam_rsrp_db", "se_legacy",
                              "h_true", "pmi"}
    assert torch.equal(ws.extras["se_legacy"], _cat(shards, "y.10ms.se_legacy"))
    h = ws.extras["h_true"]
    assert h.shape == (len(ws), 16, 4, 8) and h.dtype == torch.complex64
    # a 2-port shard is zero-padded beyond its own [13, 2, 2] channel
    two_port = ws.meta["family_id"] == FAMILY_ID["umi-2port"]
    own = next(s for s in shards if int(s["meta.family_id"][0]) == FAMILY_ID["umi-2port"])
    assert torch.equal(h[two_port][:, :13, :2, :2], own["y.10ms.h_true"])
    assert not h[two_port][:, :, :, 2:].any() and not h[two_port][:, 13:].any()
    assert ws.extras["beam_rsrp_db"].shape == (len(ws), 32)


def test_without_eval_no_extras_are_read(tiny: Path) -> None:
    assert load_windows(tiny, n_slots=3).extras == {}


def test_families_filter_reads_only_those_shards(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=3, families=["umi-2port", "umi-8port"])
    got = set(ws.meta["family_id"].tolist())
    assert got == {FAMILY_ID["umi-2port"], FAMILY_ID["umi-8port"]}
    with pytest.raises(DatasetError, match="cdl-e"):
        load_windows(tiny, families=["cdl-e"])


def test_a_folder_without_shards_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no \*\.safetensors"):
        load_windows(tmp_path)


def test_a_horizon_the_shards_lack_is_a_dataset_error(tiny: Path) -> None:
    with pytest.raises(DatasetError, match="7 ms"):
        load_windows(tiny, horizon_ms=7)


def _ues(ws_meta: dict[str, torch.Tensor], rows: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(s), int(u)) for s, u in zip(ws_meta["seed"][rows], ws_meta["ue_id"][rows],
                                            strict=True)}


def test_label_subsets_are_deterministic_nested_and_disjoint_by_ue(tiny: Path) -> None:
    ws = load_windows(tiny, horizon_ms=(5, 10), n_slots=3)
    all_ues = _ues(ws.meta, torch.arange(len(ws)))
    subsets = {f: label_subset(ws, f, torch.Generator().manual_seed(3))
               for f in (0.01, 0.25, 0.5, 1.0)}
    again = label_subset(ws, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(subsets[0.5], again)
    assert len(_ues(ws.meta, subsets[0.01])) == 1  # at least one UE
    assert len(_ues(ws.meta, subsets[0.5])) == math.ceil(0.5 * len(all_ues))
    assert len(subsets[1.0]) == len(ws)
    for small, big in ((0.01, 0.25), (0.25, 0.5), (0.5, 1.0)):
        assert set(subsets[small].tolist()) <= set(subsets[big].tolist())
    rest = torch.ones(len(ws), dtype=torch.bool)
    rest[subsets[0.25]] = False
    # every window of a chosen UE is in the subset, at every horizon
    assert not _ues(ws.meta, subsets[0.25]) & _ues(ws.meta, rest.nonzero().flatten())
    other = label_subset(ws, 0.5, torch.Generator().manual_seed(4))
    assert not torch.equal(other, subsets[0.5])


def test_label_subset_rejects_fractions_outside_0_1(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=3)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            label_subset(ws, bad, torch.Generator())


def test_validation_split_is_disjoint_by_ue(tiny: Path) -> None:
    ws = load_windows(tiny, n_slots=3)
    train, val = split_by_ue(ws, 0.25, torch.Generator().manual_seed(0))
    assert len(train) + len(val) == len(ws) and len(val) > 0
    assert not _ues(ws.meta, train) & _ues(ws.meta, val)


def test_epoch_order_deals_equal_disjoint_shares_to_ranks() -> None:
    parts = [epoch_order(103, seed=1, epoch=2, rank=r, world=2) for r in range(2)]
    assert len(parts[0]) == len(parts[1]) == 51
    assert not set(parts[0].tolist()) & set(parts[1].tolist())
    assert torch.equal(parts[0], epoch_order(103, seed=1, epoch=2, rank=0, world=2))
    assert not torch.equal(epoch_order(103, 1, 2), epoch_order(103, 1, 3))
    assert sorted(epoch_order(103, 1, 2).tolist()) == list(range(103))


def test_batches_tokenise_every_row_once_and_can_skip(tiny: Path) -> None:
    ws = load_windows(tiny, horizon_ms=(5, 20), n_slots=3, matrix_slots=1)
    model = LinkFM(LinkFMConfig(n_slots=3, matrix_slots=1))
    stats = stats_of(tiny)
    order = epoch_order(len(ws), seed=0, epoch=0)
    got = list(batches(ws, model.layout, stats, 32, order=order))
    assert torch.equal(torch.cat([b.rows for b in got]), order)
    assert [b.tokens.batch_size for b in got[:-1]] == [32] * (len(got) - 1)
    first = got[0]
    assert torch.equal(first.targets.rank, ws.targets.rank[first.rows])
    later = list(batches(ws, model.layout, stats, 32, order=order, skip=2))
    assert torch.equal(later[0].rows, got[2].rows)
    dropped = list(batches(ws, model.layout, stats, 32, order=order, drop_last=True))
    assert len(dropped) == len(ws) // 32


def test_stats_come_from_the_manifest_and_missing_ones_are_fitted(tmp_path: Path,
                                                                  tiny: Path) -> None:
    fitted = stats_of(tiny)  # no manifest: everything fitted
    assert fitted.get("csi.sinr_db").std != 1.0
    assert fitted.get("kpm.DRB.UEThpDl").mean > 0
    for p in tiny.glob("*.safetensors"):
        (tmp_path / p.name).symlink_to(p)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"normaliser_stats": {"csi.sinr_db": [3.0, 7.0]}}))
    stats = stats_of(tmp_path)
    assert (stats.get("csi.sinr_db").mean, stats.get("csi.sinr_db").std) == (3.0, 7.0)
    assert stats.get("kpm.DRB.UEThpDl") == fitted.get("kpm.DRB.UEThpDl")
    # the horizon input is normalised over the dataset's horizons, not the stored first one
    hz = torch.log1p(torch.tensor([5.0, 10.0, 20.0], dtype=torch.float64))
    assert stats.get("ctx.horizon_ms").mean == pytest.approx(float(hz.mean()), rel=1e-6)
    assert stats.get("ctx.horizon_ms").std == pytest.approx(float(hz.std()), rel=1e-6)
