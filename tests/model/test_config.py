"""The config validates itself and survives JSON."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from model.network import LinkFM, LinkFMConfig

from .conftest import SMALL


def test_config_survives_a_json_round_trip() -> None:
    assert LinkFMConfig.from_dict(json.loads(json.dumps(SMALL.to_dict()))) == SMALL


def test_unknown_config_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown config fields"):
        LinkFMConfig.from_dict({**SMALL.to_dict(), "d_modle": 8})


def test_feature_embedding_must_leave_room_for_the_value() -> None:
    with pytest.raises(ValueError, match="d_feature_emb"):
        replace(SMALL, d_feature_emb=SMALL.d_model)


def test_early_exit_cannot_follow_the_last_layer() -> None:
    with pytest.raises(ValueError, match="early exits"):
        replace(SMALL, early_exit_layers=(SMALL.n_layers,))


def test_token_width_is_value_part_plus_feature_part(small_model: LinkFM) -> None:
    dv = small_model.slot_emb.embedding_dim
    assert dv + small_model.feature_emb.embedding_dim == SMALL.d_model

