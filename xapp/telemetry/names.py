"""InfluxDB measurement, tag and field names: the one vocabulary of LinkFM's telemetry.

The telemetry writer, the Grafana dashboard (:mod:`xapp.telemetry.dashboard`) and the
simulator's scoreboard all use these constants, so a query can never ask for a name that
nothing writes. Tags hold low-cardinality dimensions (xApp, model version, E2 node, cell,
decision kind, reason); numbers, and ids with many values (UE ids), are fields. Categorical
values go in tags because some InfluxDB-compatible stores keep string fields as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


class Tag:
    """Tag keys (low-cardinality dimensions)."""

    XAPP: Final = "xapp"  # the xApp instance name (descriptor name)
    REPLICA: Final = "replica"  # replica index when sharded, "0" otherwise
    MODEL_VERSION: Final = "model_version"
    E2_NODE: Final = "e2_node"  # RAN name (RMR meid)
    CELL: Final = "cell"  # NR CGI as "<plmn>-<nci>"
    KIND: Final = "kind"  # decision kind: a DecisionKind value
    REASON: Final = "reason"  # a Reason value, or a MalformedInput.reason code
    SOURCE: Final = "source"  # MalformedInput.source of a refused input
    SERVICE_MODEL: Final = "service_model"  # "kpm" or "csi"
    STATE: Final = "state"  # a SubscriptionState value


class DecisionKind:
    """Values of the ``kind`` tag."""

    RANK: Final = "rank"
    PMI: Final = "pmi"
    BEAM: Final = "beam"
    ALL: Final = (RANK, PMI, BEAM)


class Reason:
    """Values of the ``reason`` tag on decisions (recommendation.proto ``Reason``)."""

    MODEL: Final = "model"
    FALLBACK: Final = "fallback"
    POLICY: Final = "policy"
    ALL: Final = (MODEL, FALLBACK, POLICY)


class SubscriptionState:
    """Values of the ``state`` tag on subscriptions."""

    PENDING: Final = "pending"
    ACTIVE: Final = "active"
    FAILED: Final = "failed"
    DELETED: Final = "deleted"
    ALL: Final = (PENDING, ACTIVE, FAILED, DELETED)


class FieldName:
    """Field keys (numbers). Units are in the comments; SE is in bit/s/Hz."""

    UE_ID: Final = "ue_id"  # amf-UE-NGAP-ID (a field: too many values for a tag)
    APPLY_FROM_SLOT: Final = "apply_from_slot"
    VALIDITY_MS: Final = "validity_ms"
    RANK: Final = "rank"  # layers
    PMI_I11: Final = "pmi_i11"
    PMI_I12: Final = "pmi_i12"
    PMI_I13: Final = "pmi_i13"
    PMI_I2: Final = "pmi_i2"
    BEAM: Final = "beam"  # beam index, absent when no beam is recommended
    CONFIDENCE_RANK: Final = "confidence_rank"  # 0 .. 1
    CONFIDENCE_PMI: Final = "confidence_pmi"
    CONFIDENCE_BEAM: Final = "confidence_beam"
    REPORTED_RANK: Final = "reported_rank"  # the UE-reported values replaced
    REPORTED_PMI_I11: Final = "reported_pmi_i11"
    REPORTED_PMI_I12: Final = "reported_pmi_i12"
    REPORTED_PMI_I13: Final = "reported_pmi_i13"
    REPORTED_PMI_I2: Final = "reported_pmi_i2"
    REPORTED_BEAM: Final = "reported_beam"
    REPORTED_CQI: Final = "reported_cqi"  # wideband CQI index of the replaced report
    SINR_DB: Final = "sinr_db"  # the UE's latest reported SINR, dB (inputs' summary)
    LATENCY_US: Final = "latency_us"  # indication arrival -> recommendation sent, µs
    COUNT: Final = "count"  # events since the previous point (a delta, not a total)
    SEQUENCE: Final = "sequence"
    BATCH_SIZE: Final = "batch_size"  # UE windows in one model call
    INFERENCE_US: Final = "inference_us"  # model forward pass, µs
    SE_LEGACY: Final = "se_legacy"  # spectral efficiency with the UE-reported CSI
    SE_XAPP: Final = "se_xapp"  # ... with the xApp's recommendation applied
    SE_ORACLE: Final = "se_oracle"  # ... with the best choice given the true channel
    UES: Final = "ues"  # UEs scored
    INDICATIONS: Final = "indications"  # totals since start (health counters)
    DECISIONS: Final = "decisions"
    BAD_INPUTS: Final = "bad_inputs"
    TELEMETRY_DROPS: Final = "telemetry_drops"
    QUEUE_DEPTH: Final = "queue_depth"  # telemetry points waiting now
    ACTIVE_UES: Final = "active_ues"
    SUBSCRIPTIONS_ACTIVE: Final = "subscriptions_active"
    ROUTE_TABLE_LOADED: Final = "route_table_loaded"  # 0 or 1
    MODEL_LOADED: Final = "model_loaded"  # 0 or 1
    CONFIG_RELOADS: Final = "config_reloads"
    CONFIG_REJECTED: Final = "config_rejected"
    ACTIVE: Final = "active"  # 0 or 1


@dataclass(frozen=True)
class Measurement:
    """One InfluxDB measurement: its name, the tags every point carries, its fields."""

    name: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]
    doc: str


_F = FieldName

RECOMMENDATION: Final = Measurement(
    name="linkfm_recommendation",
    tags=(Tag.XAPP, Tag.MODEL_VERSION, Tag.E2_NODE, Tag.CELL, Tag.REASON),
    fields=(_F.UE_ID, _F.APPLY_FROM_SLOT, _F.VALIDITY_MS, _F.RANK, _F.PMI_I11, _F.PMI_I12,
            _F.PMI_I13, _F.PMI_I2, _F.BEAM, _F.CONFIDENCE_RANK, _F.CONFIDENCE_PMI,
            _F.CONFIDENCE_BEAM, _F.REPORTED_RANK, _F.REPORTED_PMI_I11, _F.REPORTED_PMI_I12,
            _F.REPORTED_PMI_I13, _F.REPORTED_PMI_I2, _F.REPORTED_BEAM, _F.REPORTED_CQI,
            _F.SINR_DB, _F.LATENCY_US),
    doc="one point per recommendation sent (per UE per decision cycle)",
)

DECISIONS: Final = Measurement(
    name="linkfm_decisions",
    tags=(Tag.XAPP, Tag.MODEL_VERSION, Tag.E2_NODE, Tag.CELL, Tag.KIND, Tag.REASON),
    fields=(_F.COUNT,),
    doc="decisions per cell, kind (rank/pmi/beam) and reason since the previous point",
)

CYCLE: Final = Measurement(
    name="linkfm_cycle",
    tags=(Tag.XAPP, Tag.MODEL_VERSION, Tag.E2_NODE),
    fields=(_F.SEQUENCE, _F.BATCH_SIZE, _F.INFERENCE_US, _F.LATENCY_US),
    doc="one point per decision cycle per E2 node",
)

SCOREBOARD: Final = Measurement(
    name="linkfm_scoreboard",
    tags=(Tag.XAPP, Tag.E2_NODE, Tag.CELL),
    fields=(_F.SE_LEGACY, _F.SE_XAPP, _F.SE_ORACLE, _F.UES),
    doc="spectral efficiency per cell, legacy vs xApp vs oracle (written by the simulator)",
)

HEALTH: Final = Measurement(
    name="linkfm_health",
    tags=(Tag.XAPP, Tag.REPLICA),
    fields=(_F.INDICATIONS, _F.DECISIONS, _F.BAD_INPUTS, _F.TELEMETRY_DROPS, _F.QUEUE_DEPTH,
            _F.ACTIVE_UES, _F.SUBSCRIPTIONS_ACTIVE, _F.ROUTE_TABLE_LOADED, _F.MODEL_LOADED,
            _F.CONFIG_RELOADS, _F.CONFIG_REJECTED),
    doc="the xApp's counters (totals since start) and gauges, every flush interval",
)

BAD_INPUT: Final = Measurement(
    name="linkfm_bad_input",
    tags=(Tag.XAPP, Tag.SOURCE, Tag.REASON),
    fields=(_F.COUNT,),
    doc="refused inputs per MalformedInput source and reason since the previous point",
)

SUBSCRIPTION: Final = Measurement(
    name="linkfm_subscription",
    tags=(Tag.XAPP, Tag.E2_NODE, Tag.SERVICE_MODEL, Tag.STATE),
    fields=(_F.ACTIVE, _F.INDICATIONS),
    doc="subscription state per E2 node and service model, on every change and flush",
)

MEASUREMENTS: Final = (RECOMMENDATION, DECISIONS, CYCLE, SCOREBOARD, HEALTH, BAD_INPUT,
                       SUBSCRIPTION)


def measurement(name: str) -> Measurement:
    """The measurement called ``name``; KeyError for a name this module does not declare."""
    for item in MEASUREMENTS:
        if item.name == name:
            return item
    raise KeyError(name)


def all_tags() -> frozenset[str]:
    """Every tag key declared by :class:`Tag`."""
    return frozenset(v for k, v in vars(Tag).items() if k.isupper())


def all_fields() -> frozenset[str]:
    """Every field key declared by :class:`FieldName`."""
    return frozenset(v for k, v in vars(FieldName).items() if k.isupper())
