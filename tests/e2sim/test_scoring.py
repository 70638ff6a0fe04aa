"""The closed loop: when a recommendation acts, and what it scores on the true channel."""

from __future__ import annotations

import json

import pytest
import torch

from e2sim.cell import Cell, CellConfig, CellStep
from e2sim.channel import ChannelConfig
from xapp.e2.csi_types import Pmi
from xapp.e2.recommendation import Confidence, Reason, Recommendation, RejectReason

torch.set_num_threads(1)


def small_cell(seed: int = 2, n_ues: int = 4, **kw: object) -> Cell:
    channel = ChannelConfig(scenario="cdl-c", n_prb=24, subband_prb=4, speed_kmh=(60.0, 120.0))
    return Cell(CellConfig(channel=channel, n_ues=n_ues, seed=seed, **kw))  # type: ignore[arg-type]


def rec(cell: Cell, ue: int, rank: int, pmi: int, from_slot: int, validity_ms: int = 20,
        beam: int | None = None) -> Recommendation:
    i11, i12, i13, i2 = (int(x) for x in cell.codebook.indices(rank)[pmi])
    return Recommendation(
        e2_node="gnb-1", cell=cell.cfg.cell_id, ue_id=ue, apply_from_slot=from_slot,
        validity_ms=validity_ms, rank=rank, pmi=Pmi.from_dense(rank, 4, i11, i12, i13, i2),
        confidence=Confidence(1.0, 1.0), model_version="test", reason=Reason.MODEL,
        beam_index=beam)


def oracle_of_next_step(seed: int) -> CellStep:
    """What the oracle will be at t = one period, from a twin cell run ahead."""
    twin = small_cell(seed)
    twin.step()
    return twin.step()


def test_oracle_recommendations_score_the_oracle_se() -> None:
    ahead = oracle_of_next_step(seed=2)
    assert ahead.scores is not None
    cell = small_cell(seed=2)
    first = cell.step()
    recs = [rec(cell, u, int(ahead.scores.oracle_rank[u]), int(ahead.scores.oracle_pmi[u]),
                from_slot=first.report_slot, beam=int(ahead.scores.oracle_beam[u]))
            for u in cell.ue_ids]
    assert cell.apply(recs, now_ms=first.time_ms).accepted == 4
    scores = cell.step().scores
    assert scores is not None
    assert scores.active.all()
    torch.testing.assert_close(scores.se_xapp, scores.se_oracle)
    assert float(scores.beam_loss_xapp_db.abs().max()) == 0.0
    board = cell.scoreboard()
    assert board["ratio_xapp"] == pytest.approx(1.0)
    if board["gap_closed"] is not None:
        assert board["gap_closed"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [3, 4])
def test_any_recommendation_scores_at_most_the_oracle(seed: int) -> None:
    cell = small_cell(seed=seed, n_ues=6)
    first = cell.step()
    gen = torch.Generator().manual_seed(seed)
    recs = []
    for u in cell.ue_ids:
        rank = int(torch.randint(1, 3, (1,), generator=gen))
        pmi = int(torch.randint(0, cell.codebook.n_pmi(rank), (1,), generator=gen))
        recs.append(rec(cell, u, rank, pmi, from_slot=first.report_slot))
    cell.apply(recs, now_ms=0.0)
    scores = cell.step().scores
    assert scores is not None and scores.active.all()
    assert bool((scores.se_xapp <= scores.se_oracle * (1 + 1e-5)).all())
    assert bool((scores.se_legacy <= scores.se_oracle * (1 + 1e-5)).all())


def test_without_recommendations_the_xapp_scores_legacy() -> None:
    cell = small_cell()
    cell.step()
    scores = cell.step().scores
    assert scores is not None and not scores.active.any()
    assert torch.equal(scores.se_xapp, scores.se_legacy)
    assert cell.scoreboard()["gap_closed"] in (0.0, None)


def test_an_expired_recommendation_falls_back_to_legacy() -> None:
    cell = small_cell()
    first = cell.step()
    cell.apply([rec(cell, u, 1, 0, first.report_slot, validity_ms=15) for u in cell.ue_ids], 0.0)
    during, after = cell.step().scores, cell.step().scores  # t = 10 ms, 20 ms; ends at 15 ms
    assert during is not None and after is not None
    assert during.active.all() and not after.active.any()
    assert torch.equal(after.se_xapp, after.se_legacy)
    counts = cell.scoreboard()["recommendations"]
    assert (counts["applied"], counts["expired"]) == (4, 4)


def test_the_control_delay_holds_a_recommendation_back() -> None:
    cell = small_cell(control_delay_ms=15.0)
    first = cell.step()
    cell.apply([rec(cell, 0, 1, 0, first.report_slot, validity_ms=40)], now_ms=0.0)
    at_10, at_20 = cell.step().scores, cell.step().scores
    assert at_10 is not None and at_20 is not None
    assert not bool(at_10.active[0])  # 10 ms < 0 + 15 ms of control delay
    assert bool(at_20.active[0])


def test_a_recommendation_waits_for_its_apply_from_slot() -> None:
    cell = small_cell(control_delay_ms=0.0)
    first = cell.step()
    cell.apply([rec(cell, 1, 1, 0, first.report_slot + 40, validity_ms=40)], now_ms=0.0)
    at_10, at_20 = cell.step().scores, cell.step().scores  # slot 40 = 20 ms
    assert at_10 is not None and at_20 is not None
    assert not bool(at_10.active[1]) and bool(at_20.active[1])


def test_a_recommendation_that_cannot_act_before_it_expires_is_late() -> None:
    cell = small_cell(control_delay_ms=30.0)
    first = cell.step()
    result = cell.apply([rec(cell, 0, 1, 0, first.report_slot, validity_ms=20)], now_ms=0.0)
    assert result.accepted == 0
    assert result.rejected[0].reason is RejectReason.EXPIRED
    assert cell.scoreboard()["recommendations"]["late"] == 1


def test_a_newer_recommendation_supersedes_an_older_one() -> None:
    cell = small_cell(control_delay_ms=0.0)
    first = cell.step()
    cell.apply([rec(cell, 0, 1, 0, first.report_slot, validity_ms=50)], now_ms=0.0)
    cell.step()
    cell.apply([rec(cell, 0, 1, 3, cell.report_slot, validity_ms=50)], now_ms=cell.time_ms)
    cell.step()
    counts = cell.scoreboard()["recommendations"]
    assert (counts["applied"], counts["superseded"]) == (2, 1)


@pytest.mark.parametrize(("change", "reason"), [
    ({"ue_id": 99}, RejectReason.UNKNOWN_UE),
    ({"rank": 3}, RejectReason.OUT_OF_RANGE),  # 2 UE antennas: at most 2 layers
    ({"beam_index": 32}, RejectReason.OUT_OF_RANGE),
    ({"pmi": Pmi(i11=8, i12=0, i2=0)}, RejectReason.OUT_OF_RANGE),
])
def test_recommendations_outside_the_cell_are_rejected(change: dict[str, object],
                                                       reason: RejectReason) -> None:
    from dataclasses import replace

    cell = small_cell()
    cell.step()
    bad = replace(rec(cell, 0, 1, 0, 0), **change)  # type: ignore[arg-type]
    result = cell.apply([bad], now_ms=0.0)
    assert result.accepted == 0 and result.rejected[0].reason is reason


def test_the_scoreboard_is_json_with_per_ue_totals() -> None:
    cell = small_cell(n_ues=3)
    for _ in range(4):
        cell.step()
    board = json.loads(json.dumps(cell.scoreboard()))
    assert board["instants"] == 3 and board["reports"] == 9
    assert set(board["per_ue"]) == {"0", "1", "2"}
    assert 0.0 < board["ratio_legacy"] <= 1.0 + 1e-6
    assert board["se_legacy"] <= board["se_oracle"] + 1e-6
    assert 0.0 <= board["beam_top1_legacy"] <= 1.0
    assert board["beam_rsrp_loss_legacy_db"] >= 0.0
