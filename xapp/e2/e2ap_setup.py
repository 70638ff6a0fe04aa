"""The E2 setup messages (request, response, failure) as IEs.

Each ``write_*`` turns a dataclass into its container's IE values keyed by IE id; each
``read_*`` does the reverse on decoded (untrusted) values, raising ``E2apDecodeError``.
"""

from __future__ import annotations

from xapp.e2 import e2ap_ies as ies
from xapp.e2.e2ap_ies import Tree
from xapp.e2.e2ap_messages import (
    AcceptedRanFunction,
    E2NodeComponentAck,
    E2NodeComponentConfig,
    E2SetupFailure,
    E2SetupRequest,
    E2SetupResponse,
    RanFunction,
    RejectedRanFunction,
)
from xapp.errors import EncodeError

# --- E2setup --------------------------------------------------------------------------


def write_setup_request(m: E2SetupRequest) -> ies.IeValues:
    functions = [
        {
            "ranFunctionID": f.ran_function_id,
            "ranFunctionDefinition": f.definition,
            "ranFunctionRevision": f.revision,
            "ranFunctionOID": f.oid,
        }
        for f in m.ran_functions
    ]
    components = []
    for config in m.components:
        interface, component_id = ies.write_component(config.component)
        components.append(
            {
                "e2nodeComponentInterfaceType": interface,
                "e2nodeComponentID": component_id,
                "e2nodeComponentConfiguration": {
                    "e2nodeComponentRequestPart": config.request_part,
                    "e2nodeComponentResponsePart": config.response_part,
                },
            }
        )
    return {
        49: m.transaction_id,
        3: ies.write_gnb_id(m.node_id),
        10: ies.list_value("RANfunctions-List", functions),
        50: ies.list_value("E2nodeComponentConfigAddition-List", components),
    }


def _read_ran_function(item: dict[str, Tree]) -> RanFunction:
    def field(name: str) -> Tree:
        return ies.read_field(item, name, "RANfunction-Item")

    return RanFunction(
        ran_function_id=ies.read_int(field("ranFunctionID"), "ranFunctionID"),
        definition=ies.read_bytes(field("ranFunctionDefinition"), "ranFunctionDefinition"),
        revision=ies.read_int(field("ranFunctionRevision"), "ranFunctionRevision"),
        oid=ies.read_str(field("ranFunctionOID"), "ranFunctionOID"),
    )


def _read_component_config(item: dict[str, Tree]) -> E2NodeComponentConfig:
    what = "E2nodeComponentConfigAddition-Item"
    config = ies.read_dict(ies.read_field(item, "e2nodeComponentConfiguration", what), what)
    return E2NodeComponentConfig(
        component=ies.read_component(
            ies.read_field(item, "e2nodeComponentInterfaceType", what),
            ies.read_field(item, "e2nodeComponentID", what),
        ),
        request_part=ies.read_bytes(
            ies.read_field(config, "e2nodeComponentRequestPart", what), "request part"
        ),
        response_part=ies.read_bytes(
            ies.read_field(config, "e2nodeComponentResponsePart", what), "response part"
        ),
    )


def read_setup_request(values: ies.IeValues) -> E2SetupRequest:
    functions = ies.items(values, 10, "RANfunctions-List")
    components = ies.items(values, 50, "E2nodeComponentConfigAddition-List")
    return E2SetupRequest(
        transaction_id=ies.read_int(ies.need(values, 49), "TransactionID"),
        node_id=ies.read_gnb_id(ies.need(values, 3)),
        ran_functions=tuple(_read_ran_function(item) for item in functions),
        components=tuple(_read_component_config(item) for item in components),
    )


def _write_component_ack(ack: E2NodeComponentAck) -> Tree:
    if ack.success and ack.failure_cause is not None:
        raise EncodeError("a successful component acknowledgement carries no failure cause")
    interface, component_id = ies.write_component(ack.component)
    outcome: dict[str, Tree] = {"updateOutcome": "success" if ack.success else "failure"}
    if ack.failure_cause is not None:
        outcome["failureCause"] = ies.write_cause(ack.failure_cause)
    return {
        "e2nodeComponentInterfaceType": interface,
        "e2nodeComponentID": component_id,
        "e2nodeComponentConfigurationAck": outcome,
    }


def _read_component_ack(item: dict[str, Tree]) -> E2NodeComponentAck:
    what = "E2nodeComponentConfigAdditionAck-Item"
    outcome = ies.read_dict(ies.read_field(item, "e2nodeComponentConfigurationAck", what), what)
    success = ies.read_str(ies.read_field(outcome, "updateOutcome", what), "updateOutcome")
    if success not in ("success", "failure"):
        raise ies.bad(f"updateOutcome {success!r}")
    cause = outcome.get("failureCause")
    return E2NodeComponentAck(
        component=ies.read_component(
            ies.read_field(item, "e2nodeComponentInterfaceType", what),
            ies.read_field(item, "e2nodeComponentID", what),
        ),
        success=success == "success",
        failure_cause=None if cause is None else ies.read_cause(cause),
    )


def write_setup_response(m: E2SetupResponse) -> ies.IeValues:
    values: ies.IeValues = {49: m.transaction_id, 4: ies.write_ric_id(m.ric_id)}
    if m.accepted:
        accepted = [
            {"ranFunctionID": f.ran_function_id, "ranFunctionRevision": f.revision}
            for f in m.accepted
        ]
        values[9] = ies.list_value("RANfunctionsID-List", accepted)
    if m.rejected:
        rejected = [
            {"ranFunctionID": f.ran_function_id, "cause": ies.write_cause(f.cause)}
            for f in m.rejected
        ]
        values[13] = ies.list_value("RANfunctionsIDcause-List", rejected)
    acks = [_write_component_ack(ack) for ack in m.component_acks]
    values[52] = ies.list_value("E2nodeComponentConfigAdditionAck-List", acks)
    return values


def read_setup_response(values: ies.IeValues) -> E2SetupResponse:
    def accepted(item: dict[str, Tree]) -> AcceptedRanFunction:
        return AcceptedRanFunction(
            ies.read_int(ies.read_field(item, "ranFunctionID", "accepted"), "ranFunctionID"),
            ies.read_int(ies.read_field(item, "ranFunctionRevision", "accepted"), "revision"),
        )

    def rejected(item: dict[str, Tree]) -> RejectedRanFunction:
        return RejectedRanFunction(
            ies.read_int(ies.read_field(item, "ranFunctionID", "rejected"), "ranFunctionID"),
            ies.read_cause(ies.read_field(item, "cause", "rejected")),
        )

    return E2SetupResponse(
        transaction_id=ies.read_int(ies.need(values, 49), "TransactionID"),
        ric_id=ies.read_ric_id(ies.need(values, 4)),
        accepted=tuple(accepted(i) for i in ies.items(values, 9, "RANfunctionsID-List")),
        component_acks=tuple(
            _read_component_ack(item)
            for item in ies.items(values, 52, "E2nodeComponentConfigAdditionAck-List")
        ),
        rejected=tuple(rejected(i) for i in ies.items(values, 13, "RANfunctionsIDcause-List")),
    )


def write_setup_failure(m: E2SetupFailure) -> ies.IeValues:
    return {49: m.transaction_id, 1: ies.write_cause(m.cause)}


def read_setup_failure(values: ies.IeValues) -> E2SetupFailure:
    return E2SetupFailure(
        transaction_id=ies.read_int(ies.need(values, 49), "TransactionID"),
        cause=ies.read_cause(ies.need(values, 1)),
    )
