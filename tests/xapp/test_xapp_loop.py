"""The xApp end to end over loopback: subscribe through the mini-RIC, ingest the node's
indications, decide in batches, publish per node, and recover when the node restarts."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from tests.xapp.harness import CELL, MEID, N_UES, World, world
from xapp.config import Controls
from xapp.decide.predictor import CLASSICAL_VERSION
from xapp.e2.recommendation import Reason
from xapp.main import apply_controls, discover_nodes
from xapp.policy.a1 import LINKFM_POLICY_TYPE_ID, LinkPolicy
from xapp.policy.decision import cell_name
from xapp.rmr.message import RmrMessage
from xapp.rmr.mtypes import MessageType


async def started(w: World) -> World:
    await w.app.start()
    await w.wait_for(lambda: w.app.subscriber.all_active, "active subscriptions")
    return w


async def test_subscribes_to_kpm_and_csi_on_the_node_through_the_submgr() -> None:
    async with world() as w:
        await started(w)
        assert sorted(s.ran_function_id for s in w.node.subscriptions.values()) == [2, 200]
        listed = await w.app.subscriber.client.list()
        assert {s.meid for s in listed} == {MEID} and len(listed) == 2


async def test_csi_indications_become_published_recommendations_for_every_ue() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: len({r.ue_id for r in w.consumer.recommendations}) == N_UES,
                         "a recommendation for every UE")
        recs = w.consumer.recommendations
        assert {r.ue_id for r in recs} == {1000 + i for i in range(N_UES)}
        assert all(r.e2_node == MEID and r.cell == CELL for r in recs)
        assert all(r.model_version == CLASSICAL_VERSION for r in recs)
        # the classical search decides from the channel estimate: reason MODEL
        assert {r.reason for r in recs} <= {Reason.MODEL, Reason.FALLBACK}
        assert Reason.MODEL in {r.reason for r in recs}


async def test_every_batch_holds_one_node_and_sequences_count_up() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: len(w.consumer.batches) >= 3, "three batches")
        sequences = [b.sequence for b in w.consumer.batches]
        assert sequences == sorted(sequences) and sequences[0] == 0
        assert all(r.e2_node == b.e2_node for b in w.consumer.batches
                   for r in b.recommendations)


async def test_acknowledgements_are_matched_to_the_batches_sent() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: w.app.publisher.counters.acks >= 3, "three acks")
        counters = w.app.publisher.counters
        assert counters.unmatched_acks == 0
        assert counters.accepted <= counters.recommendations_sent


async def test_kpm_indications_are_ingested_without_errors() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: w.app.ingest.indications >= 10, "ten indications")
        await w.wait_for(lambda: w.driver.tick >= 20, "twenty reports sent")
        assert w.app.bad.total == 0


async def test_malformed_indications_are_counted_and_skipped() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: len(w.consumer.batches) >= 1, "a first batch")
        w.driver.garbage = 3
        await w.wait_for(lambda: w.driver.garbage == 0, "garbage sent")
        before = len(w.consumer.batches)
        await w.wait_for(lambda: len(w.consumer.batches) >= before + 3, "batches after garbage")
        assert sum(n for (source, _), n in w.app.bad.counts.items() if source == "e2ap") == 3


async def test_node_restart_is_noticed_and_decisions_resume_after_resubscribing() -> None:
    async with world() as w:
        await started(w)
        await w.wait_for(lambda: len(w.consumer.batches) >= 1, "a first batch")
        first_sub_ids = {s.sub_id for s in w.node.subscriptions.values()}
        w.ric.e2t.disconnect(MEID)  # the E2 link drops: the submgr forgets the node's subs
        await w.node.setup()  # ... and the node comes back with a new E2 setup, unsubscribed
        assert w.node.subscriptions == {}
        await w.wait_for(lambda: len(w.node.subscriptions) == 2, "resubscribed on the node")
        await w.wait_for(lambda: w.app.subscriber.all_active, "active subscriptions")
        resumed_at = len(w.consumer.batches)
        await w.wait_for(lambda: len(w.consumer.batches) >= resumed_at + 3, "resumed batches")
        assert {s.sub_id for s in w.node.subscriptions.values()}.isdisjoint(first_sub_ids)
        assert all(want.subscriptions >= 2 for want in w.app.subscriber.wants)


async def test_a1_policy_that_disables_the_cell_turns_decisions_into_fallbacks() -> None:
    async with world() as w:
        await started(w)
        request = {"operation": "CREATE", "policy_type_id": LINKFM_POLICY_TYPE_ID,
                   "policy_instance_id": "no-cell", "payload": {"cells": {cell_name(CELL): False}}}
        reply = await w.mediator.call(RmrMessage(
            mtype=MessageType.A1_POLICY_REQ, payload=json.dumps(request).encode()), timeout=5)
        answer = json.loads(reply.payload)
        assert reply.mtype == MessageType.A1_POLICY_RESP
        assert (answer["status"], answer["policy_instance_id"]) == ("OK", "no-cell")
        after = len(w.consumer.batches) + 1  # one batch may have been decided before
        await w.wait_for(lambda: len(w.consumer.batches) >= after + 2, "batches under the policy")
        later = [r for b in w.consumer.batches[after:] for r in b.recommendations]
        assert later and all(r.reason == Reason.FALLBACK for r in later)
        assert all(r.rank == r.replaces.rank and r.pmi == r.replaces.pmi
                   for r in later if r.replaces is not None)


async def test_a1_request_for_another_policy_type_is_answered_with_error() -> None:
    async with world() as w:
        await started(w)
        request = {"operation": "CREATE", "policy_type_id": 1,
                   "policy_instance_id": "foreign", "payload": {}}
        reply = await w.mediator.call(RmrMessage(
            mtype=MessageType.A1_POLICY_REQ, payload=json.dumps(request).encode()), timeout=5)
        assert json.loads(reply.payload)["status"] == "ERROR"
        assert w.app.policies.instance_ids == []


async def test_a1_policy_query_is_sent_at_start() -> None:
    async with world() as w:
        await w.app.start()
        msg = await asyncio.wait_for(w.mediator.receive(), 5)
        assert msg.mtype == MessageType.A1_POLICY_QUERY
        assert json.loads(msg.payload) == {"policy_type_id": LINKFM_POLICY_TYPE_ID}


async def test_graceful_stop_deletes_every_subscription() -> None:
    async with world() as w:
        await started(w)
        assert await w.app.stop() == 2
        assert w.node.subscriptions == {}
        assert await w.app.subscriber.client.list() == []


async def test_reloaded_controls_replace_the_default_policy() -> None:
    async with world() as w:
        await started(w)
        apply_controls(w.app, Controls(policy=LinkPolicy(enabled=False),
                                        recommendation_validity_ms=77))
        after = len(w.consumer.batches)
        await w.wait_for(lambda: len(w.consumer.batches) >= after + 2, "batches after reload")
        later = [r for b in w.consumer.batches[after + 1:] for r in b.recommendations]
        assert later and all(r.reason == Reason.FALLBACK and r.validity_ms == 77
                             for r in later)


async def test_a_node_added_at_run_time_is_subscribed() -> None:
    async with world() as w:
        subscriber = w.app.subscriber
        subscriber.wants.clear()  # start with no node, as with e2mgr discovery
        await w.app.start()
        assert subscriber.add_node(MEID) and not subscriber.add_node(MEID)
        await w.wait_for(lambda: subscriber.all_active, "subscriptions of the new node")
        assert len(w.node.subscriptions) == 2


async def test_connected_nodes_are_discovered_from_e2mgr() -> None:
    states = [{"inventoryName": "gnb_a", "connectionStatus": "CONNECTED"},
              {"inventoryName": "gnb_b", "connectionStatus": "DISCONNECTED"},
              {"inventoryName": "gnb_c", "connectionStatus": "CONNECTED"}]

    async def nodeb_states(request: web.Request) -> web.Response:
        return web.json_response(states)

    e2mgr = web.Application()
    e2mgr.router.add_get("/v1/nodeb/states", nodeb_states)
    runner = web.AppRunner(e2mgr)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            assert await discover_nodes(session, url) == ["gnb_a", "gnb_c"]
    finally:
        await runner.cleanup()
