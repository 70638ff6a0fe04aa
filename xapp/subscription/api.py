"""The Subscription Manager REST contract (``/ric/v1/subscriptions``) as typed models.

Field names on the wire are the submgr's camelCase keys exactly (``SubscriptionId``,
``ClientEndpoint``, ``RANFunctionID``, ...). Python attributes are snake_case; always
serialise with :func:`to_wire` so the aliases are used. The same models serve the xApp's
client and the simulator's mini-RIC server, so both sides agree by construction.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xapp.errors import MalformedInput

SUBSCRIPTIONS_PATH = "/ric/v1/subscriptions"
NOTIFICATION_PATH = "/ric/v1/subscriptions/response"
RIC_REQUESTOR_ID = 123
"""The RIC requestor id the OSC Subscription Manager puts in every E2AP request."""

TimeToWait = Literal["zero", "w1ms", "w2ms", "w5ms", "w10ms", "w20ms", "w30ms", "w40ms",
                     "w50ms", "w100ms", "w200ms", "w500ms", "w1s", "w2s", "w5s", "w10s",
                     "w20s", "w60s"]


M = TypeVar("M", bound=BaseModel)


class SubmgrApiError(MalformedInput):
    """A Subscription Manager REST body that does not match the contract."""

    source = "submgr.rest"


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


class ClientEndpoint(_Wire):
    host: str = Field(alias="Host", min_length=1)
    http_port: int = Field(alias="HTTPPort", ge=1, le=65535)
    rmr_port: int = Field(alias="RMRPort", ge=1, le=65535)


class E2SubscriptionDirectives(_Wire):
    e2_timeout_timer_value: int = Field(default=2, alias="E2TimeoutTimerValue", ge=1, le=10)
    e2_retry_count: int = Field(default=2, alias="E2RetryCount", ge=0, le=10)
    rmr_routing_needed: bool = Field(default=True, alias="RMRRoutingNeeded")


class SubsequentAction(_Wire):
    subsequent_action_type: Literal["continue", "wait"] = Field(
        default="continue", alias="SubsequentActionType")
    time_to_wait: TimeToWait = Field(default="zero", alias="TimeToWait")


class ActionToBeSetup(_Wire):
    action_id: int = Field(alias="ActionID", ge=0, le=255)
    action_type: Literal["insert", "policy", "report"] = Field(alias="ActionType")
    # APER bytes of the E2SM action definition, as a list of ints (the submgr's convention).
    action_definition: list[int] = Field(default_factory=list, alias="ActionDefinition")
    subsequent_action: SubsequentAction | None = Field(default=None, alias="SubsequentAction")


class SubscriptionDetail(_Wire):
    xapp_event_instance_id: int = Field(alias="XappEventInstanceId", ge=0, le=65535)
    # APER bytes of the E2SM event trigger definition, as a list of ints.
    event_triggers: list[int] = Field(alias="EventTriggers")
    action_to_be_setup_list: list[ActionToBeSetup] = Field(alias="ActionToBeSetupList",
                                                           min_length=1)


class SubscriptionParams(_Wire):
    subscription_id: str = Field(default="", alias="SubscriptionId")
    client_endpoint: ClientEndpoint = Field(alias="ClientEndpoint")
    meid: str = Field(alias="Meid", min_length=1)
    ran_function_id: int = Field(alias="RANFunctionID", ge=0, le=4095)
    e2_subscription_directives: E2SubscriptionDirectives | None = Field(
        default=None, alias="E2SubscriptionDirectives")
    subscription_details: list[SubscriptionDetail] = Field(alias="SubscriptionDetails",
                                                           min_length=1)


class SubscriptionInstance(_Wire):
    xapp_event_instance_id: int = Field(alias="XappEventInstanceId", ge=0, le=65535)
    e2_event_instance_id: int = Field(alias="E2EventInstanceId", ge=0, le=65535)
    error_cause: str = Field(default="", alias="ErrorCause")
    error_source: str = Field(default="", alias="ErrorSource")
    timeout_type: str = Field(default="", alias="TimeoutType")


class SubscriptionResponse(_Wire):
    """The 201 body of POST and the body of the notification callback."""

    subscription_id: str = Field(alias="SubscriptionId")
    subscription_instances: list[SubscriptionInstance] | None = Field(
        default=None, alias="SubscriptionInstances")


class SubscriptionData(_Wire):
    """One entry of ``GET /ric/v1/subscriptions``."""

    subscription_id: int = Field(alias="SubscriptionId")
    meid: str = Field(alias="Meid")
    client_endpoint: list[str] = Field(default_factory=list, alias="ClientEndpoint")
    e2_event_instance_ids: list[int] = Field(default_factory=list, alias="E2EventInstanceIds")


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The JSON-ready dict with the submgr's camelCase keys (``None`` fields left out)."""
    return model.model_dump(by_alias=True, exclude_none=True)


def parse(model: type[M], body: Any) -> M:
    """Validate a decoded JSON body; a mismatch raises :class:`SubmgrApiError` naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
            for err in exc.errors())
        raise SubmgrApiError("bad_body", f"{model.__name__}: {problems}") from None
