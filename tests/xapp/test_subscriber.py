"""The subscription lifecycle against the mini-RIC: the REST body, retries while the node
is away, renewal after an error notification, and the notification handler's contract."""

from __future__ import annotations

import json

import pytest

from tests.xapp.harness import KPM_NAMES, MEID, world
from xapp.e2 import csi, kpm
from xapp.e2.kpm_types import KpmActionDefinitionFormat4
from xapp.errors import MalformedInput
from xapp.subscriber import SubscriberOptions, csi_params, kpm_params, measurement_names
from xapp.subscription.api import ClientEndpoint, to_wire

OPTIONS = SubscriberOptions(
    nodes=(MEID,), endpoint=ClientEndpoint(host="linkfm-http.ricxapp", http_port=8080,
                                           rmr_port=4560),
    kpm_period_ms=1000, kpm_measurements=KPM_NAMES, csi_period_ms=10)


def test_the_csi_subscription_body_has_the_submgrs_camel_case_shape() -> None:
    body = to_wire(csi_params(OPTIONS, MEID))
    assert set(body) == {"SubscriptionId", "ClientEndpoint", "Meid", "RANFunctionID",
                         "E2SubscriptionDirectives", "SubscriptionDetails"}
    assert body["ClientEndpoint"] == {"Host": "linkfm-http.ricxapp", "HTTPPort": 8080,
                                      "RMRPort": 4560}
    assert (body["Meid"], body["RANFunctionID"]) == (MEID, 200)
    [detail] = body["SubscriptionDetails"]
    [action] = detail["ActionToBeSetupList"]
    assert action["ActionType"] == "report"
    assert csi.decode_event_trigger(bytes(detail["EventTriggers"])).reporting_period_ms == 10
    assert csi.decode_action_definition(bytes(action["ActionDefinition"])) \
        .report_channel_estimate
    json.dumps(body)  # plain JSON all the way down


def test_the_kpm_subscription_asks_for_the_registry_measurements_per_ue() -> None:
    body = to_wire(kpm_params(OPTIONS, MEID))
    assert body["RANFunctionID"] == 2
    [detail] = body["SubscriptionDetails"]
    action = kpm.decode_action_definition(
        bytes(detail["ActionToBeSetupList"][0]["ActionDefinition"]))
    assert isinstance(action, KpmActionDefinitionFormat4)
    assert tuple(m.meas_type for m in action.measurements) == KPM_NAMES
    assert kpm.decode_event_trigger(bytes(detail["EventTriggers"])).reporting_period_ms == 1000


def test_measurement_names_are_the_kpm_features_of_the_registry() -> None:
    assert measurement_names(["csi.ri", "kpm.DRB.UEThpDl", "ctx.n_tx", "kpm.L1M.SS-RSRP"]) \
        == ("DRB.UEThpDl", "L1M.SS-RSRP")


async def test_a_node_that_is_not_connected_is_retried_until_it_is() -> None:
    async with world() as w:
        w.ric.e2t.disconnect(MEID)  # the submgr answers 503 now
        await w.app.start()
        csi_want = next(x for x in w.app.subscriber.wants if x.ran_function_id == 200)
        await w.wait_for(lambda: csi_want.attempts >= 3, "several refused attempts")
        assert csi_want.state in ("retrying", "subscribing") and w.node.subscriptions == {}
        await w.node.setup()
        await w.wait_for(lambda: w.app.subscriber.all_active, "subscriptions once connected")
        assert len(w.node.subscriptions) == 2


async def test_an_error_notification_for_an_active_subscription_renews_it() -> None:
    async with world() as w:
        await w.app.start()
        await w.wait_for(lambda: w.app.subscriber.all_active, "active subscriptions")
        want = w.app.subscriber.wants[-1]
        assert want.entry is not None
        old = want.entry.subscription_id
        await w.app.on_subscription_notification(json.dumps({
            "SubscriptionId": old, "SubscriptionInstances": [{
                "XappEventInstanceId": 1, "E2EventInstanceId": want.entry.sub_ids[0],
                "ErrorCause": "E2 node reset", "ErrorSource": "E2Node"}]}).encode())
        await w.wait_for(lambda: want.subscriptions == 2 and want.state == "active",
                         "a renewed subscription")
        assert want.entry is not None and want.entry.subscription_id != old
        assert old not in {str(s.subscription_id) for s in await w.app.subscriber.client.list()}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"SubscriptionInstances": []}'])
async def test_a_body_that_is_not_a_notification_is_refused(body: bytes) -> None:
    async with world() as w:
        with pytest.raises(MalformedInput):
            await w.app.on_subscription_notification(body)
        assert w.app.subscriber.bad_notifications == 1
