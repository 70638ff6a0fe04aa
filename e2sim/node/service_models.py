"""The RAN functions the simulated E2 node offers: E2SM-KPM (id 2) and E2SM-CSI.

Each one checks a subscription's event trigger and action definitions with the
project's codecs and turns them into an :class:`~e2sim.node.agent.ActionPlan`.
"""

from __future__ import annotations

from dataclasses import dataclass

from e2sim.node.agent import ActionPlan
from xapp.e2 import csi
from xapp.e2.csi_types import RAN_FUNCTION_ID as CSI_RAN_FUNCTION_ID
from xapp.e2.csi_types import RAN_FUNCTION_OID as CSI_RAN_FUNCTION_OID
from xapp.e2.csi_types import CsiRanFunctionDefinition
from xapp.e2.e2ap_messages import ActionType, RanFunction, RicAction
from xapp.errors import MalformedInput

MIN_PERIOD_MS = 1
MAX_PERIOD_MS = 60_000


class RefusedAction(MalformedInput):
    source = "e2sim.subscription"


def _check_period(period_ms: int) -> int:
    if not MIN_PERIOD_MS <= period_ms <= MAX_PERIOD_MS:
        raise RefusedAction("bad_period",
                            f"{period_ms} ms outside {MIN_PERIOD_MS}..{MAX_PERIOD_MS}")
    return period_ms


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
        if action.action_type is not ActionType.REPORT or action.definition is None:
            raise RefusedAction("unsupported_action", "only REPORT with a definition")
        trigger = csi.decode_event_trigger(event_trigger)
        return ActionPlan(action.action_id, _check_period(trigger.reporting_period_ms),
                          csi.decode_action_definition(action.definition))
