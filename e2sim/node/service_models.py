"""The RAN functions the simulated E2 node offers: E2SM-KPM (id 2) and E2SM-CSI.

Each one checks a subscription's event trigger and action definitions with the
project's codecs and turns them into an :class:`~e2sim.node.agent.ActionPlan`, or
refuses the action with a :class:`~e2sim.node.agent.RefusedAction` carrying the E2AP
cause the node answers with.

The KPM RAN function definition is the standard ``E2SM-KPM-RANfunction-Description``
(``xapp.e2.kpm.encode_ran_function``), with the KPM OID in E2AP's ``RANfunctionOID``:
report style 1 (action format 1: cell measurements, message format 1) and style 4
(action format 4: UEs matching conditions, message format 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from e2sim.node.agent import ActionPlan, RefusedAction
from xapp.e2 import csi, kpm
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import RAN_FUNCTION_OID as CSI_RAN_FUNCTION_OID
from xapp.e2.csi_types import CsiRanFunctionDefinition
from xapp.e2.e2ap_messages import ActionType, RanFunction, RicAction
from xapp.e2.kpm import KpmDecodeError
from xapp.e2.kpm_ran_function import KPM_RAN_FUNCTION_OID, kpm_ran_function
from xapp.e2.kpm_types import (
    KpmActionDefinition,
    KpmActionDefinitionFormat1,
    KpmActionDefinitionFormat4,
    NrCgi,
)

__all__ = ["KPM_RAN_FUNCTION_ID", "SUPPORTED_CONDITIONS", "CsiServiceModel",
           "KpmServiceModel", "RefusedAction"]

MIN_PERIOD_MS = 1
MAX_PERIOD_MS = 60_000
MAX_GRANULARITY_PERIODS = 100  # records per measurement in one indication
KPM_RAN_FUNCTION_ID = 2

# The UE matching conditions the node can evaluate (test type -> what it compares):
# cQI the UE's latest wideband CQI index, rSRP its L1-RSRP of the best beam [dBm].
SUPPORTED_CONDITIONS = ("cQI", "rSRP")


def _check_period(period_ms: int) -> int:
    if not MIN_PERIOD_MS <= period_ms <= MAX_PERIOD_MS:
        raise RefusedAction("bad_period",
                            f"{period_ms} ms outside {MIN_PERIOD_MS}..{MAX_PERIOD_MS}",
                            cause="eventTriggerNotSupported")
    return period_ms


def _require_report(action: RicAction) -> bytes:
    if action.action_type is not ActionType.REPORT or action.definition is None:
        raise RefusedAction("unsupported_action", "only REPORT with a definition")
    return action.definition


@dataclass(frozen=True)
class CsiServiceModel:
    """E2SM-CSI: periodic per-UE CSI reports (PROTOCOLS.md section 5)."""

    definition: CsiRanFunctionDefinition
    revision: int = 1

    @property
    def ran_function(self) -> RanFunction:
        return RanFunction(ran_function_id=CSI_RAN_FUNCTION_ID,
                           definition=csi.encode_ran_function(self.definition),
                           revision=self.revision, oid=CSI_RAN_FUNCTION_OID)

    def admit(self, event_trigger: bytes, action: RicAction) -> ActionPlan:
        definition = _require_report(action)
        trigger = csi.decode_event_trigger(event_trigger)
        return ActionPlan(action.action_id, _check_period(trigger.reporting_period_ms),
                          csi.decode_action_definition(definition))


@dataclass(frozen=True)
class KpmServiceModel:
    """E2SM-KPM report styles 1 (cell, action format 1) and 4 (per UE, format 4).

    ``measurements`` are the TS 28.552 names the node offers in its RAN function
    definition. A subscription may still ask for others: they are reported as noValue,
    as a node does for a counter it does not keep. ``cell`` (when set) is the only cell
    global id an action definition may name.
    """

    measurements: Sequence[str]
    cell: NrCgi | None = None
    revision: int = 1

    @property
    def ran_function(self) -> RanFunction:
        description = kpm_ran_function(tuple(self.measurements))
        return RanFunction(ran_function_id=KPM_RAN_FUNCTION_ID,
                           definition=kpm.encode_ran_function(description),
                           revision=self.revision, oid=KPM_RAN_FUNCTION_OID)

    def admit(self, event_trigger: bytes, action: RicAction) -> ActionPlan:
        """Admit a REPORT action of format 1 (style 1) or 4 (style 4); refuse the rest."""
        definition = _require_report(action)
        try:
            period_ms = kpm.decode_event_trigger(event_trigger).reporting_period_ms
        except KpmDecodeError as exc:
            raise RefusedAction(exc.reason, exc.detail, cause="eventTriggerNotSupported") \
                from exc
        try:
            plan = kpm.decode_action_definition(definition)
        except KpmDecodeError as exc:
            cause = ("action-not-supported" if exc.reason == "unsupported_format"
                     else "invalid-information-request")
            raise RefusedAction(exc.reason, exc.detail, cause=cause) from exc
        self._check(plan, _check_period(period_ms))
        return ActionPlan(action.action_id, period_ms, plan)

    def _check(self, plan: KpmActionDefinition, period_ms: int) -> None:
        style = 1 if isinstance(plan, KpmActionDefinitionFormat1) else 4
        if plan.ric_style_type != style:
            raise RefusedAction("style_mismatch",
                                f"style {plan.ric_style_type} with action format {style}")
        if not 0 < plan.granularity_period_ms <= period_ms:
            raise RefusedAction("bad_granularity",
                                f"granularity {plan.granularity_period_ms} ms must be in "
                                f"1..{period_ms} (the reporting period)",
                                cause="invalid-information-request")
        if period_ms // plan.granularity_period_ms > MAX_GRANULARITY_PERIODS:
            raise RefusedAction("too_many_periods",
                                f"more than {MAX_GRANULARITY_PERIODS} granularity periods "
                                "per report", cause="function-resource-limit")
        if (plan.cell_global_id is not None and self.cell is not None
                and plan.cell_global_id != self.cell):
            raise RefusedAction("unknown_cell", f"{plan.cell_global_id} is not this node's",
                                cause="requested-information-unavailable")
        if isinstance(plan, KpmActionDefinitionFormat4):
            unsupported = [c.test_type for c in plan.conditions
                           if c.test_type not in SUPPORTED_CONDITIONS]
            if unsupported:
                raise RefusedAction("unsupported_condition",
                                    f"cannot match UEs on {unsupported}; "
                                    f"supported: {SUPPORTED_CONDITIONS}",
                                    cause="requested-information-unavailable")
