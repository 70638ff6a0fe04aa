"""Route tables: parsing, (mtype, sub_id) lookup, round-robin, multicast, meid, updates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xapp.rmr.routes import RouteTableError, RouteTableLoader, parse_route_table

TABLE = """
# LinkFM static routes
newrt|start|t1
mse|12050|7|127.0.0.1:4560
mse|12050|-1|127.0.0.1:4570
mse|30100|-1|127.0.0.1:38000
newrt|end|3
"""


def test_exact_mtype_and_sub_id_match_wins() -> None:
    assert parse_route_table(TABLE).endpoints(12050, 7) == ["127.0.0.1:4560"]


def test_unknown_sub_id_falls_back_to_the_mtype_wildcard_entry() -> None:
    assert parse_route_table(TABLE).endpoints(12050, 99) == ["127.0.0.1:4570"]


def test_wildcard_lookup_does_not_fall_forward_to_a_specific_sub_id() -> None:
    table = parse_route_table("newrt|start\nmse|1|5|h:1\nnewrt|end\n")
    assert table.endpoints(1, -1) == []


def test_unrouted_mtype_has_no_endpoints() -> None:
    assert parse_route_table(TABLE).endpoints(4242) == []


def test_table_id_from_the_start_line_is_kept() -> None:
    assert parse_route_table(TABLE).table_id == "t1"


def test_comma_members_are_used_in_round_robin_order() -> None:
    table = parse_route_table("newrt|start\nmse|5|-1|a:1,b:2,c:3\nnewrt|end\n")
    assert [table.endpoints(5)[0] for _ in range(6)] == ["a:1", "b:2", "c:3"] * 2


def test_semicolon_groups_each_get_a_copy() -> None:
    table = parse_route_table("newrt|start\nmse|5|-1|a:1;b:2,c:3;d:4\nnewrt|end\n")
    assert table.endpoints(5) == ["a:1", "b:2", "d:4"]
    assert table.endpoints(5) == ["a:1", "c:3", "d:4"]


def test_legacy_rte_defaults_to_sub_id_minus_one_and_accepts_a_fourth_field() -> None:
    table = parse_route_table("newrt|start\nrte|5|a:1\nrte|6|b:2|9\nnewrt|end\n")
    assert table.endpoints(5, 3) == ["a:1"]
    assert table.endpoints(6, 9) == ["b:2"]
    assert table.endpoints(6, 8) == []


def test_sender_qualified_entries_apply_only_to_that_sender() -> None:
    text = "newrt|start\nmse|5,me:4560|-1|a:1\nmse|6,other:4560|-1|b:2\nnewrt|end\n"
    table = parse_route_table(text, own_names={"me:4560"})
    assert table.endpoints(5) == ["a:1"]
    assert table.endpoints(6) == []


def test_whitespace_around_fields_is_ignored() -> None:
    table = parse_route_table("newrt | start\n mse | 5 | -1 | a:1 , b:2 \nnewrt | end\n")
    assert table.endpoints(5) == ["a:1"]


MEID_TABLE = """newrt|start
mse|12040|-1|%meid
newrt|end
meid_map|start
mme_ar|e2t-1:38000|gnb_a gnb_b
mme_ar|e2t-2:38000|gnb_c
meid_map|end|2
"""


def test_meid_group_goes_to_the_owner_of_the_messages_meid() -> None:
    loader = RouteTableLoader()
    loader.feed(MEID_TABLE)
    assert loader.active is not None
    assert loader.active.endpoints(12040, -1, "gnb_b") == ["e2t-1:38000"]
    assert loader.active.endpoints(12040, -1, "gnb_c") == ["e2t-2:38000"]


def test_meid_without_an_owner_has_no_endpoint() -> None:
    loader = RouteTableLoader()
    loader.feed(MEID_TABLE)
    assert loader.active is not None
    assert loader.active.endpoints(12040, -1, "gnb_unknown") == []


def test_mme_del_removes_an_owner() -> None:
    loader = RouteTableLoader()
    loader.feed(MEID_TABLE + "meid_map|start\nmme_del|gnb_a\nmeid_map|end\n")
    assert loader.active is not None
    assert loader.active.endpoints(12040, -1, "gnb_a") == []
    assert loader.active.endpoints(12040, -1, "gnb_b") == ["e2t-1:38000"]


def test_meid_map_survives_a_new_route_table() -> None:
    loader = RouteTableLoader()
    loader.feed(MEID_TABLE + "newrt|start\nmse|12040|-1|%meid\nnewrt|end\n")
    assert loader.active is not None
    assert loader.active.endpoints(12040, -1, "gnb_c") == ["e2t-2:38000"]


def test_updatert_adds_replaces_and_deletes_while_keeping_the_rest() -> None:
    loader = RouteTableLoader()
    loader.feed(TABLE)
    loader.feed(
        "updatert|start\nmse|30100|-1|127.0.0.1:39000\ndel|12050|7\n"
        "mse|20010|-1|a1:4560\nupdatert|end|3\n"
    )
    table = loader.active
    assert table is not None
    assert table.endpoints(30100) == ["127.0.0.1:39000"]
    assert table.endpoints(12050, 7) == ["127.0.0.1:4570"]  # deleted: falls back
    assert table.endpoints(20010) == ["a1:4560"]


def test_half_received_table_never_replaces_the_active_one() -> None:
    loader = RouteTableLoader()
    loader.feed(TABLE)
    loader.feed("newrt|start|t2\nmse|12050|-1|other:1\n")
    assert loader.active is not None and loader.active.table_id == "t1"
    outcomes = loader.feed("newrt|end\n")
    assert [o.ok for o in outcomes] == [True]
    assert loader.active.table_id == "t2"


def test_table_delivered_over_several_pieces_activates_at_its_end_line() -> None:
    loader = RouteTableLoader()
    for piece in ("newrt|start|p", "mse|1|-1|a:1", "mse|2|-1|b:2", "newrt|end|2"):
        loader.feed(piece)
    assert loader.active is not None
    assert loader.active.endpoints(2) == ["b:2"]


def test_table_with_a_bad_record_is_refused_and_the_old_one_stays() -> None:
    loader = RouteTableLoader()
    loader.feed(TABLE)
    outcomes = loader.feed("newrt|start|t3\nmse|12050|-1|nohostport\nmse|1|-1|a:1\nnewrt|end\n")
    assert [(o.ok, o.reason) for o in outcomes] == [(False, "bad_endpoint")]
    assert loader.active is not None and loader.active.table_id == "t1"
    assert loader.errors["bad_endpoint"] == 1


def test_record_count_mismatch_refuses_the_table() -> None:
    loader = RouteTableLoader()
    outcomes = loader.feed("newrt|start\nmse|1|-1|a:1\nnewrt|end|2\n")
    assert [(o.ok, o.reason) for o in outcomes] == [(False, "count_mismatch")]
    assert loader.active is None


def test_records_outside_any_section_are_counted_and_ignored() -> None:
    loader = RouteTableLoader()
    loader.feed("mse|1|-1|a:1\n")
    assert loader.errors["outside_table"] == 1
    assert loader.active is None


def test_new_start_before_an_end_abandons_the_open_section() -> None:
    loader = RouteTableLoader()
    loader.feed("updatert|start\nmse|1|-1|a:1\nnewrt|start\nmse|2|-1|b:2\nnewrt|end\n")
    assert loader.errors["abandoned"] == 1
    assert loader.active is not None
    assert loader.active.endpoints(1) == [] and loader.active.endpoints(2) == ["b:2"]


def test_end_without_start_is_counted() -> None:
    loader = RouteTableLoader()
    assert loader.feed("updatert|end\n") == []
    assert loader.errors["unexpected_end"] == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("newrt|start\nmse|x|-1|a:1\nnewrt|end\n", "bad_number"),
        ("newrt|start\nmse|1|99999999999|a:1\nnewrt|end\n", "bad_number"),
        ("newrt|start\nmse|1|-1|a:0\nnewrt|end\n", "bad_endpoint"),
        ("newrt|start\nmse|1|-1|a:1,%meid\nnewrt|end\n", "bad_endpoint"),
        ("newrt|start\nmse|1|-1\nnewrt|end\n", "bad_record"),
        ("newrt|start\ndel|1|-1\nnewrt|end\n", "bad_record"),
        ("newrt|start\nroute|1|-1|a:1\nnewrt|end\n", "unknown_record"),
        ("newrt|start\nmse|1|-1|a:1\n", "unterminated_table"),
        ("# nothing here\n", "no_table"),
    ],
)
def test_strict_parse_names_the_first_problem(text: str, reason: str) -> None:
    with pytest.raises(RouteTableError) as excinfo:
        parse_route_table(text)
    assert excinfo.value.reason == reason
    assert excinfo.value.source == "rmr.routes"


def test_a_record_may_name_several_senders() -> None:
    text = "newrt|start\nmse|5,a:1,me:4560|-1|x:1\nmse|6,a:1,b:2|-1|y:2\nnewrt|end\n"
    table = parse_route_table(text, own_names={"me:4560"})
    assert table.endpoints(5) == ["x:1"]
    assert table.endpoints(6) == []


def test_endpoints_naming_this_process_are_left_out() -> None:
    text = "newrt|start\nmse|5|-1|me:4560,a:1;me:4560;b:2\nnewrt|end\n"
    table = parse_route_table(text, own_names={"me:4560"})
    assert [table.endpoints(5) for _ in range(2)] == [["a:1", "b:2"]] * 2


def test_trailing_comments_after_whitespace_are_ignored() -> None:
    table = parse_route_table("newrt|start # seed\nmse|5|-1|a:1 # the recommender\nnewrt|end\n")
    assert table.endpoints(5) == ["a:1"]


def test_abandoned_section_is_reported_as_refused() -> None:
    loader = RouteTableLoader()
    outcomes = loader.feed("newrt|start|first\nmse|1|-1|a:1\nnewrt|start|second\nnewrt|end\n")
    assert [(o.table_id, o.ok, o.reason) for o in outcomes] == [
        ("first", False, "abandoned"),
        ("second", True, ""),
    ]


def test_update_without_an_id_keeps_the_table_id_but_a_new_table_does_not() -> None:
    loader = RouteTableLoader()
    loader.feed("newrt|start|t1\nnewrt|end\nupdatert|start\nupdatert|end\n")
    assert loader.active is not None and loader.active.table_id == "t1"
    loader.feed("newrt|start\nnewrt|end\n")
    assert loader.active.table_id == ""


_endpoints = st.lists(
    st.builds("h{}:{}".format, st.integers(0, 9), st.integers(1, 65535)), min_size=1, max_size=3
)
_tables = st.dictionaries(
    st.tuples(st.integers(0, 40), st.sampled_from([-1, 0, 1, 7, 123])),
    st.lists(_endpoints, min_size=1, max_size=3),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_tables, st.integers(0, 40), st.sampled_from([-1, 0, 1, 7, 99]))
def test_any_rendered_table_routes_like_its_definition(
    routes: dict[tuple[int, int], list[list[str]]], mtype: int, sub_id: int
) -> None:
    lines = [
        f"mse|{m}|{s}|{';'.join(','.join(g) for g in groups)}" for (m, s), groups in routes.items()
    ]
    text = "\n".join(["newrt|start", *lines, f"newrt|end|{len(lines)}"])
    table = parse_route_table(text)
    for (m, s), groups in routes.items():
        assert table.endpoints(m, s) == [g[0] for g in groups]
    fresh = parse_route_table(text)  # round-robin positions start over
    expected = routes.get((mtype, sub_id)) or routes.get((mtype, -1))
    assert fresh.endpoints(mtype, sub_id) == ([g[0] for g in expected] if expected else [])
