"""The RIC service messages (indication, subscription, subscription delete, control) as IEs.

Each ``write_*`` turns a dataclass into its container's IE values keyed by IE id; each
``read_*`` does the reverse on decoded (untrusted) values, raising ``E2apDecodeError``.
"""

from __future__ import annotations

from typing import Any

from xapp.e2 import e2ap_ies as ies
from xapp.e2.e2ap_ies import Tree
from xapp.e2.e2ap_messages import (
    ActionType,
    ControlAckRequest,
    IndicationType,
    NotAdmittedAction,
    RicAction,
    RicControlAcknowledge,
    RicControlFailure,
    RicControlRequest,
    RicIndication,
    RicSubscriptionRequest,
    RicSubscriptionResponse,
    SubsequentAction,
    SubsequentActionType,
    TimeToWait,
)


def write_base(message: Any) -> ies.IeValues:
    """The request id and RAN function id IEs common to every RIC message."""
    return {29: ies.write_request_id(message.request_id), 5: message.ran_function_id}


def read_base(values: ies.IeValues) -> dict[str, Any]:
    return {
        "request_id": ies.read_request_id(ies.need(values, 29)),
        "ran_function_id": ies.read_int(ies.need(values, 5), "RANfunctionID"),
    }


# --- RICindication --------------------------------------------------------------------


def write_indication(m: RicIndication) -> ies.IeValues:
    values = write_base(m)
    values[15] = m.action_id
    ies.put(values, 27, m.indication_sn)
    values[28] = IndicationType(m.indication_type).value
    values[25] = m.header
    values[26] = m.message
    ies.put(values, 20, m.call_process_id)
    return values


def read_indication(values: ies.IeValues) -> RicIndication:
    return RicIndication(
        **read_base(values),
        action_id=ies.read_int(ies.need(values, 15), "RICactionID"),
        indication_type=ies.read_enum(IndicationType, ies.need(values, 28), "RICindicationType"),
        header=ies.read_bytes(ies.need(values, 25), "RICindicationHeader"),
        message=ies.read_bytes(ies.need(values, 26), "RICindicationMessage"),
        indication_sn=ies.optional(values, 27, ies.read_int),
        call_process_id=ies.optional(values, 20, ies.read_bytes),
    )


# --- RICsubscription ------------------------------------------------------------------


def _write_action(action: RicAction) -> Tree:
    item: dict[str, Tree] = {
        "ricActionID": action.action_id,
        "ricActionType": ActionType(action.action_type).value,
    }
    if action.definition is not None:
        item["ricActionDefinition"] = action.definition
    if action.subsequent_action is not None:
        item["ricSubsequentAction"] = {
            "ricSubsequentActionType": SubsequentActionType(
                action.subsequent_action.action_type
            ).value,
            "ricTimeToWait": TimeToWait(action.subsequent_action.time_to_wait).value,
        }
    if action.execution_order is not None:
        item["ricActionExecutionOrder"] = action.execution_order
    return item


def _read_action(item: dict[str, Tree]) -> RicAction:
    subsequent = None
    if "ricSubsequentAction" in item:
        tree = ies.read_dict(item["ricSubsequentAction"], "ricSubsequentAction")
        subsequent = SubsequentAction(
            ies.read_enum(
                SubsequentActionType,
                ies.read_field(tree, "ricSubsequentActionType", "ricSubsequentAction"),
                "ricSubsequentActionType",
            ),
            ies.read_enum(
                TimeToWait,
                ies.read_field(tree, "ricTimeToWait", "ricSubsequentAction"),
                "ricTimeToWait",
            ),
        )
    definition = item.get("ricActionDefinition")
    order = item.get("ricActionExecutionOrder")
    return RicAction(
        action_id=ies.read_int(ies.read_field(item, "ricActionID", "action"), "ricActionID"),
        action_type=ies.read_enum(
            ActionType, ies.read_field(item, "ricActionType", "action"), "ricActionType"
        ),
        definition=None if definition is None else ies.read_bytes(definition, "definition"),
        subsequent_action=subsequent,
        execution_order=None if order is None else ies.read_int(order, "execution order"),
    )


def write_subscription_request(m: RicSubscriptionRequest) -> ies.IeValues:
    values = write_base(m)
    actions = [_write_action(action) for action in m.actions]
    values[30] = {
        "ricEventTriggerDefinition": m.event_trigger,
        "ricAction-ToBeSetup-List": ies.list_value("RICactions-ToBeSetup-List", actions),
    }
    return values


def read_subscription_request(values: ies.IeValues) -> RicSubscriptionRequest:
    details = ies.read_dict(ies.need(values, 30), "RICsubscriptionDetails")
    trigger = ies.read_field(details, "ricEventTriggerDefinition", "RICsubscriptionDetails")
    actions = ies.read_field(details, "ricAction-ToBeSetup-List", "RICsubscriptionDetails")
    items = ies.items({0: actions}, 0, "RICactions-ToBeSetup-List")
    return RicSubscriptionRequest(
        **read_base(values),
        event_trigger=ies.read_bytes(trigger, "ricEventTriggerDefinition"),
        actions=tuple(_read_action(item) for item in items),
    )


def write_subscription_response(m: RicSubscriptionResponse) -> ies.IeValues:
    values = write_base(m)
    admitted = [{"ricActionID": action_id} for action_id in m.admitted]
    values[17] = ies.list_value("RICaction-Admitted-List", admitted)
    if m.not_admitted:
        refused = [
            {"ricActionID": action.action_id, "cause": ies.write_cause(action.cause)}
            for action in m.not_admitted
        ]
        values[18] = ies.list_value("RICaction-NotAdmitted-List", refused)
    return values


def read_subscription_response(values: ies.IeValues) -> RicSubscriptionResponse:
    admitted = ies.items(values, 17, "RICaction-Admitted-List")
    refused = ies.items(values, 18, "RICaction-NotAdmitted-List")
    return RicSubscriptionResponse(
        **read_base(values),
        admitted=tuple(
            ies.read_int(ies.read_field(item, "ricActionID", "admitted"), "ricActionID")
            for item in admitted
        ),
        not_admitted=tuple(
            NotAdmittedAction(
                ies.read_int(ies.read_field(item, "ricActionID", "not admitted"), "ricActionID"),
                ies.read_cause(ies.read_field(item, "cause", "not admitted")),
            )
            for item in refused
        ),
    )


def write_with_cause(m: Any) -> ies.IeValues:
    values = write_base(m)
    values[1] = ies.write_cause(m.cause)
    return values


def read_with_cause(values: ies.IeValues) -> dict[str, Any]:
    return {**read_base(values), "cause": ies.read_cause(ies.need(values, 1))}


# --- RICcontrol -----------------------------------------------------------------------


def write_control_request(m: RicControlRequest) -> ies.IeValues:
    values = write_base(m)
    ies.put(values, 20, m.call_process_id)
    values[22] = m.header
    values[23] = m.message
    if m.ack_request is not None:
        values[21] = ControlAckRequest(m.ack_request).value
    return values


def read_control_request(values: ies.IeValues) -> RicControlRequest:
    ack = values.get(21)
    return RicControlRequest(
        **read_base(values),
        header=ies.read_bytes(ies.need(values, 22), "RICcontrolHeader"),
        message=ies.read_bytes(ies.need(values, 23), "RICcontrolMessage"),
        call_process_id=ies.optional(values, 20, ies.read_bytes),
        ack_request=None if ack is None else ies.read_enum(ControlAckRequest, ack, "ack request"),
    )


def write_control_ack(m: RicControlAcknowledge) -> ies.IeValues:
    values = write_base(m)
    ies.put(values, 20, m.call_process_id)
    ies.put(values, 32, m.outcome)
    return values


def read_control_ack(values: ies.IeValues) -> RicControlAcknowledge:
    return RicControlAcknowledge(
        **read_base(values),
        call_process_id=ies.optional(values, 20, ies.read_bytes),
        outcome=ies.optional(values, 32, ies.read_bytes),
    )


def write_control_failure(m: RicControlFailure) -> ies.IeValues:
    values = write_with_cause(m)
    ies.put(values, 20, m.call_process_id)
    ies.put(values, 32, m.outcome)
    return values


def read_control_failure(values: ies.IeValues) -> RicControlFailure:
    return RicControlFailure(
        **read_with_cause(values),
        call_process_id=ies.optional(values, 20, ies.read_bytes),
        outcome=ies.optional(values, 32, ies.read_bytes),
    )
