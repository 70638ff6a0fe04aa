"""The simulated node's RAN functions: what E2SM-KPM admits, and why it refuses the rest."""

from __future__ import annotations

import pytest

from e2sim.node.agent import ActionPlan, RefusedAction
from e2sim.node.service_models import KPM_RAN_FUNCTION_ID, KpmServiceModel
from e2sim.node.simulated import OFFERED_KPM
from schemas import e2sm_kpm_asn
from xapp.e2 import kpm
from xapp.e2._pycrate_lock import PYCRATE_LOCK
from xapp.e2.e2ap_messages import ActionType, RicAction
from xapp.e2.kpm_ran_function import KPM_RAN_FUNCTION_OID
from xapp.e2.kpm_types import (
    KpmActionDefinition,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    KpmEventTrigger,
    MeasurementInfo,
    NrCgi,
    TestCondition,
    plmn_id,
)

CELL = NrCgi(plmn_id("001", "01"), 1)
MODEL = KpmServiceModel(OFFERED_KPM, CELL)
THROUGHPUT = (MeasurementInfo("DRB.UEThpDl"),)


def trigger(period_ms: int = 100) -> bytes:
    return kpm.encode_event_trigger(KpmEventTrigger(period_ms))


def report(definition: KpmActionDefinition | bytes, action_id: int = 1) -> RicAction:
    raw = definition if isinstance(definition, bytes) else kpm.encode_action_definition(
        definition)
    return RicAction(action_id=action_id, action_type=ActionType.REPORT, definition=raw)


def refusal(action: RicAction, event_trigger: bytes | None = None) -> RefusedAction:
    with pytest.raises(RefusedAction) as caught:
        MODEL.admit(trigger() if event_trigger is None else event_trigger, action)
    return caught.value


def test_the_kpm_ran_function_announces_styles_1_and_4_with_the_offered_measurements() -> None:
    function = MODEL.ran_function
    assert (function.ran_function_id, function.oid) == (KPM_RAN_FUNCTION_ID,
                                                         KPM_RAN_FUNCTION_OID)
    description = kpm.decode_ran_function(function.definition)
    styles = {s.style_type: s for s in description.report_styles}
    assert sorted(styles) == [1, 4]
    assert (styles[1].action_format_type, styles[1].message_format_type) == (1, 1)
    assert (styles[4].action_format_type, styles[4].message_format_type) == (4, 3)
    assert [name for name, _ in styles[4].measurements] == list(OFFERED_KPM)


def test_format1_is_admitted_with_the_trigger_period_and_the_decoded_definition() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, granularity_period_ms=50,
                                            cell_global_id=CELL)
    plan = MODEL.admit(trigger(100), report(definition, action_id=3))
    assert plan == ActionPlan(3, 100, definition)


def test_format4_with_a_cqi_condition_is_admitted() -> None:
    definition = KpmActionDefinitionFormat4((TestCondition("cQI", "present"),), THROUGHPUT, 100)
    assert MODEL.admit(trigger(100), report(definition)).definition == definition


def test_an_action_other_than_report_is_refused() -> None:
    action = RicAction(action_id=1, action_type=ActionType.INSERT,
                       definition=kpm.encode_action_definition(
                           KpmActionDefinitionFormat1(THROUGHPUT, 100)))
    assert refusal(action).cause == "action-not-supported"


def test_an_action_definition_format_the_node_does_not_implement_is_refused() -> None:
    format3 = {"ric-Style-Type": 3, "actionDefinition-formats": (
        "actionDefinition-Format3",
        {"measCondList": [{"measType": ("measName", "DRB.UEThpDl"),
                           "matchingCond": [{"matchingCondChoice": ("measLabel",
                                                                    {"noLabel": "true"})}]}],
         "granulPeriod": 100})}
    with PYCRATE_LOCK:
        asn = e2sm_kpm_asn.LinkFM_E2SM_KPM.E2SM_KPM_ActionDefinition
        asn.set_val(format3)
        raw = asn.to_aper()
    refused = refusal(report(raw))
    assert (refused.reason, refused.cause) == ("unsupported_format", "action-not-supported")


def test_a_style_that_does_not_match_the_format_is_refused() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, 100, ric_style_type=4)
    assert refusal(report(definition)).reason == "style_mismatch"


def test_a_granularity_longer_than_the_reporting_period_is_refused() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, granularity_period_ms=200)
    refused = refusal(report(definition), trigger(100))
    assert (refused.reason, refused.cause) == ("bad_granularity", "invalid-information-request")


def test_too_many_granularity_periods_per_report_are_refused() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, granularity_period_ms=1)
    assert refusal(report(definition), trigger(1000)).cause == "function-resource-limit"


def test_a_condition_the_node_cannot_evaluate_is_refused() -> None:
    definition = KpmActionDefinitionFormat4((TestCondition("gBR", "present"),), THROUGHPUT, 100)
    refused = refusal(report(definition))
    assert (refused.reason, refused.cause) == ("unsupported_condition",
                                               "requested-information-unavailable")


def test_a_definition_naming_another_cell_is_refused() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, 100,
                                            cell_global_id=NrCgi(CELL.plmn, 2))
    assert refusal(report(definition)).reason == "unknown_cell"


def test_an_event_trigger_that_does_not_decode_is_refused() -> None:
    definition = KpmActionDefinitionFormat1(THROUGHPUT, 100)
    assert refusal(report(definition), b"\xff").cause == "eventTriggerNotSupported"

