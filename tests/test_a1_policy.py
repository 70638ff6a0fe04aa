"""A1 policy messages: parsing, responses, the policy store, and hostile input."""

from __future__ import annotations

import contextlib
import json
import random

import pytest

from xapp.policy.a1 import (
    LINKFM_POLICY_TYPE_ID,
    A1PolicyError,
    LinkPolicy,
    PolicyStore,
    decode_request,
    encode_query,
    encode_response,
    policy_type_schema,
)


def request(op: str = "CREATE", instance: str = "p1", **payload: object) -> bytes:
    return json.dumps({"operation": op, "policy_type_id": LINKFM_POLICY_TYPE_ID,
                       "policy_instance_id": instance, "payload": payload}).encode()


def test_create_sets_the_policy_in_force_and_delete_restores_defaults() -> None:
    store = PolicyStore()
    policy = store.apply(decode_request(request(max_rank=2, cells={"cell-7": False})))
    assert policy.max_rank == 2 and not policy.cell_enabled("cell-7")
    assert policy.cell_enabled("cell-8")
    assert store.apply(decode_request(request("DELETE"))) == LinkPolicy()


def test_response_echoes_ids_with_handler_and_status() -> None:
    req = decode_request(request())
    body = json.loads(encode_response(req, "linkfm", ok=False))
    assert body == {"policy_type_id": LINKFM_POLICY_TYPE_ID, "policy_instance_id": "p1",
                    "handler_id": "linkfm", "status": "ERROR"}


def test_query_names_the_policy_type() -> None:
    assert json.loads(encode_query()) == {"policy_type_id": LINKFM_POLICY_TYPE_ID}


def test_out_of_range_confidence_is_refused_naming_the_field() -> None:
    store = PolicyStore()
    with pytest.raises(A1PolicyError) as excinfo:
        store.apply(decode_request(request(min_confidence_rank=1.5)))
    assert excinfo.value.reason == "bad_policy" and "min_confidence_rank" in str(excinfo.value)
    assert store.current == LinkPolicy()


def test_other_policy_types_are_refused() -> None:
    body = json.dumps({"operation": "CREATE", "policy_type_id": 20008,
                       "policy_instance_id": "x", "payload": {}}).encode()
    with pytest.raises(A1PolicyError) as excinfo:
        PolicyStore().apply(decode_request(body))
    assert excinfo.value.reason == "unknown_policy_type"


def test_schema_for_the_a1_mediator_describes_every_policy_field() -> None:
    schema = policy_type_schema()["create_schema"]
    assert set(schema["properties"]) == set(LinkPolicy.model_fields)


def test_mutated_requests_raise_only_the_typed_error() -> None:
    rng = random.Random(7)
    seed = request(max_rank=3, cells={"a": True})
    for _ in range(10_000):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            data[pos] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        with contextlib.suppress(A1PolicyError):
            PolicyStore().apply(decode_request(bytes(data)))
