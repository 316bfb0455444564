"""Input and output schemas of the equipment API (input and output separate; ids in bodies are ``Ref``s)."""

from __future__ import annotations

import copy

import marshmallow as ma
from flask_babel import gettext as _

from apps.equipment.downtime import PARETO_GROUPINGS
from apps.equipment.models import (
    AlarmStatus,
    MaintenanceKind,
    Metric,
    MetricKind,
    PlanTrigger,
    RuleKind,
    Severity,
    State,
)
from apps.equipment.oee import GROUPINGS
from platform_core.api import Ref, Schema
from platform_core.masterdata.models import Machine, ReasonCode

_LONG = 3650


def _text(limit: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=limit), **kwargs)


def _optional_text(limit: int) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limit))


def _enum(enum_cls, **kwargs) -> ma.fields.Enum:
    return ma.fields.Enum(enum_cls, by_value=True, **kwargs)


def patch_schema(create: type[Schema], name: str) -> type[Schema]:
    """A PATCH schema: the create schema with nothing required and no defaults (a PATCH changes what it names)."""
    fields = {}
    for field_name, field in create._declared_fields.items():
        field = copy.copy(field)
        field.required = False
        field.load_default = ma.missing
        fields[field_name] = field
    return Schema.from_dict(fields, name=name)


class WindowArgs(Schema):
    """A time window; both ends aware datetimes."""

    start = ma.fields.AwareDateTime(required=True)
    end = ma.fields.AwareDateTime(required=True)

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data["end"] <= data["start"]:
            raise ma.ValidationError(_("The end is not after the start."), "end")
        if (data["end"] - data["start"]).days > 400:
            raise ma.ValidationError(_("Ask for at most 400 days."), "end")


# --- machines and states --------------------------------------------------------------------------------------


class EquipmentAlarmBriefSchema(Schema):
    id = ma.fields.Integer()
    severity = _enum(Severity)
    status = _enum(AlarmStatus)
    message = ma.fields.String()
    raised_at = ma.fields.AwareDateTime()


class EquipmentMachineStatusSchema(Schema):
    machine_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    work_center_code = ma.fields.String()
    monitored = ma.fields.Boolean(metadata={"description": "Has a run signal from a gateway"})
    state = _enum(State, allow_none=True, metadata={"description": "None: no state recorded yet"})
    since = ma.fields.AwareDateTime(allow_none=True)
    minutes_in_state = ma.fields.Float(allow_none=True)
    reason_code = ma.fields.String(allow_none=True)
    unclassified = ma.fields.Boolean(metadata={"description": "Down without a reason"})
    expected_up_at = ma.fields.AwareDateTime(allow_none=True)
    order_id = ma.fields.Integer(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    operation_id = ma.fields.Integer(allow_none=True)
    last_data_at = ma.fields.AwareDateTime(allow_none=True)
    alarms = ma.fields.List(ma.fields.Nested(EquipmentAlarmBriefSchema))


class EquipmentStateIntervalSchema(Schema):
    id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    state = _enum(State)
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    source = ma.fields.String(attribute="source.value")
    reason_id = ma.fields.Integer(allow_none=True)
    reason_code = ma.fields.Function(lambda i: i.reason.code if i.reason else None)
    note = ma.fields.String(allow_none=True)
    expected_up_at = ma.fields.AwareDateTime(allow_none=True)
    reported_by = ma.fields.String(allow_none=True)
    classified_by = ma.fields.String(allow_none=True)
    classified_at = ma.fields.AwareDateTime(allow_none=True)


class EquipmentDownSchema(Schema):
    reason_id = Ref(ReasonCode, attribute="reason", allow_none=True, load_default=None)
    at = ma.fields.AwareDateTime(load_default=None, metadata={"description": "When it stopped (default: now)"})
    note = _optional_text(500)
    expected_up_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)


class EquipmentUpSchema(Schema):
    at = ma.fields.AwareDateTime(load_default=None, metadata={"description": "When it ran again (default: now)"})


class EquipmentClassifySchema(Schema):
    reason_id = Ref(ReasonCode, attribute="reason", required=True)
    note = _optional_text(500)


class EquipmentStatesArgs(WindowArgs):
    pass


class EquipmentTelemetryArgs(WindowArgs):
    metric = _text(64, required=True, metadata={"description": "Metric code"})
    resolution = ma.fields.String(load_default="1m", validate=ma.validate.OneOf(["1m", "1h"]))


class EquipmentRollupSchema(Schema):
    bucket = ma.fields.AwareDateTime()
    count = ma.fields.Integer()
    min = ma.fields.Float()
    max = ma.fields.Float()
    avg = ma.fields.Float()
    first = ma.fields.Float()
    last = ma.fields.Float()


class EquipmentMachineConfigSchema(Schema):
    machine_id = ma.fields.Integer(dump_only=True)
    run_metric_id = Ref(Metric, attribute="run_metric", allow_none=True, load_default=None)
    run_above = ma.fields.Float(load_default=0.0)
    count_metric_id = Ref(Metric, attribute="count_metric", allow_none=True, load_default=None)
    offline_after_s = ma.fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=ma.validate.Range(min=10, max=86400)
    )


# --- telemetry, metrics, gateways -----------------------------------------------------------------------------


class EquipmentPointSchema(Schema):
    """One point (documentation of the bulk body; the endpoint checks points itself, for speed)."""

    machine = ma.fields.String(required=True, metadata={"example": "CNC-01"})
    metric = ma.fields.String(required=True, metadata={"example": "spindle_speed"})
    ts = ma.fields.String(required=True, metadata={"example": "2026-11-23T08:00:00.250Z"})
    value = ma.fields.Float(required=True, metadata={"example": 2400})


class EquipmentIngestErrorSchema(Schema):
    index = ma.fields.Integer()
    reason = ma.fields.String()


class EquipmentIngestResultSchema(Schema):
    received = ma.fields.Integer()
    accepted = ma.fields.Integer(metadata={"description": "New points stored"})
    duplicates = ma.fields.Integer(metadata={"description": "Points already stored (ignored)"})
    rejected = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Nested(EquipmentIngestErrorSchema), metadata={"description": "The first 100"})
    unknown_machines = ma.fields.List(ma.fields.String())
    unknown_metrics = ma.fields.List(ma.fields.String())


class EquipmentMetricSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    unit = ma.fields.String(allow_none=True)
    kind = _enum(MetricKind)
    active = ma.fields.Boolean()


class EquipmentMetricCreateSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$"))
    name = _text(200, required=True)
    name_en = _optional_text(200)
    unit = _optional_text(16)
    kind = _enum(MetricKind, load_default=MetricKind.GAUGE)
    active = ma.fields.Boolean(load_default=True)


class EquipmentGatewaySchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "Public id, named in MQTT messages"})
    created_at = ma.fields.AwareDateTime()
    revoked = ma.fields.Boolean()
    last_seen_at = ma.fields.AwareDateTime(allow_none=True)
    points_accepted = ma.fields.Integer()
    points_duplicate = ma.fields.Integer()
    points_rejected = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    last_error_at = ma.fields.AwareDateTime(allow_none=True)


class EquipmentGatewayCreatedSchema(EquipmentGatewaySchema):
    token = ma.fields.String(metadata={"description": "Shown once: for HTTP (Bearer) and to derive the MQTT key"})
    mqtt_topic = ma.fields.String()


class EquipmentGatewayCreateSchema(Schema):
    name = _text(100, required=True)


class EquipmentSettingsSchema(Schema):
    raw_retention_days = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(min=1, max=_LONG))


# --- alarms ---------------------------------------------------------------------------------------------------


class EquipmentAlarmRuleSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    kind = _enum(RuleKind)
    machine_id = ma.fields.Integer(allow_none=True)
    machine_model = ma.fields.String(allow_none=True)
    metric_id = ma.fields.Integer(allow_none=True)
    state = _enum(State, allow_none=True)
    threshold = ma.fields.Float()
    hysteresis = ma.fields.Float()
    min_duration_s = ma.fields.Integer()
    lead_time_h = ma.fields.Float(allow_none=True)
    severity = _enum(Severity)
    active = ma.fields.Boolean()


class EquipmentAlarmRuleCreateSchema(Schema):
    code = _text(32, required=True)
    name = _text(200, required=True)
    kind = _enum(RuleKind, required=True)
    machine_id = Ref(Machine, attribute="machine", allow_none=True, load_default=None)
    machine_model = _optional_text(100)
    metric_id = Ref(Metric, attribute="metric", allow_none=True, load_default=None)
    state = _enum(State, allow_none=True, load_default=None)
    threshold = ma.fields.Float(
        required=True,
        metadata={"description": "Limit; rate: per minute; stale: seconds without data; state: minutes in state"},
    )
    hysteresis = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(min=0))
    min_duration_s = ma.fields.Integer(strict=True, load_default=0, validate=ma.validate.Range(min=0, max=86400))
    lead_time_h = ma.fields.Float(allow_none=True, load_default=None, validate=ma.validate.Range(min=0))
    severity = _enum(Severity, load_default=Severity.WARNING)
    active = ma.fields.Boolean(load_default=True)


class EquipmentAlarmRuleUpdateSchema(Schema):
    name = _text(200)
    threshold = ma.fields.Float()
    hysteresis = ma.fields.Float(validate=ma.validate.Range(min=0))
    min_duration_s = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=86400))
    lead_time_h = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=0))
    severity = _enum(Severity)
    active = ma.fields.Boolean()


class EquipmentAlarmSchema(Schema):
    id = ma.fields.Integer()
    rule_id = ma.fields.Integer()
    rule_code = ma.fields.Function(lambda a: a.rule.code)
    kind = ma.fields.Function(lambda a: a.rule.kind.value)
    machine_id = ma.fields.Integer()
    machine_code = ma.fields.Function(lambda a: a.machine.code)
    status = _enum(AlarmStatus)
    severity = _enum(Severity)
    message = ma.fields.String()
    value = ma.fields.Float(allow_none=True)
    raised_at = ma.fields.AwareDateTime()
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_by = ma.fields.String(allow_none=True)
    cleared_at = ma.fields.AwareDateTime(allow_none=True)
    cleared_by = ma.fields.String(allow_none=True)


class EquipmentAlarmArgs(Schema):
    status = ma.fields.String(
        load_default="open", validate=ma.validate.OneOf(["open", "active", "acknowledged", "cleared", "all"])
    )
    machine_id = ma.fields.Integer(load_default=None)


# --- analysis -------------------------------------------------------------------------------------------------


class EquipmentParetoArgs(WindowArgs):
    by = ma.fields.String(load_default="reason", validate=ma.validate.OneOf(PARETO_GROUPINGS))


class EquipmentParetoBarSchema(Schema):
    key = ma.fields.String()
    minutes = ma.fields.Float()
    occurrences = ma.fields.Integer()
    share = ma.fields.Float()
    cumulative = ma.fields.Float()


class EquipmentReliabilitySchema(Schema):
    machine_id = ma.fields.Function(lambda r: r.machine.id)
    machine_code = ma.fields.Function(lambda r: r.machine.code)
    failures = ma.fields.Integer()
    down_minutes = ma.fields.Float()
    up_minutes = ma.fields.Float()
    mtbf_minutes = ma.fields.Float(allow_none=True)
    mttr_minutes = ma.fields.Float(allow_none=True)


class EquipmentOeeArgs(WindowArgs):
    by = ma.fields.String(load_default="machine", validate=ma.validate.OneOf(GROUPINGS))
    work_center_id = ma.fields.Integer(load_default=None)
    machine_id = ma.fields.Integer(load_default=None)


_NOT_RATED = "None when a machine counted in it has no ideal cycle time (or nothing was planned)"


class EquipmentOeeFiguresSchema(Schema):
    planned_production_min = ma.fields.Float()
    operating_min = ma.fields.Float()
    availability = ma.fields.Float(allow_none=True)
    performance = ma.fields.Float(allow_none=True, metadata={"description": _NOT_RATED})
    quality = ma.fields.Float(allow_none=True)
    oee = ma.fields.Float(allow_none=True, metadata={"description": _NOT_RATED})
    good = ma.fields.Float()
    scrap = ma.fields.Float()
    rework = ma.fields.Float()
    total = ma.fields.Float()
    losses_min = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())


class EquipmentOeeBreakdownSchema(Schema):
    reason_code = ma.fields.String(allow_none=True, metadata={"description": "None: not classified yet"})
    reason = ma.fields.String(allow_none=True)
    minutes = ma.fields.Float()


class EquipmentOeeRowSchema(EquipmentOeeFiguresSchema):
    key = ma.fields.String()
    label = ma.fields.String()
    breakdowns = ma.fields.List(
        ma.fields.Nested(EquipmentOeeBreakdownSchema),
        metadata={"description": "The breakdown loss (losses_min.breakdowns) split by downtime reason"},
    )


class EquipmentOeeReportSchema(Schema):
    by = ma.fields.String()
    rows = ma.fields.List(ma.fields.Nested(EquipmentOeeRowSchema))
    overall = ma.fields.Nested(EquipmentOeeFiguresSchema)


# --- maintenance ----------------------------------------------------------------------------------------------


class EquipmentPlanSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    machine_id = ma.fields.Integer(allow_none=True)
    machine_model = ma.fields.String(allow_none=True)
    trigger = _enum(PlanTrigger)
    interval = ma.fields.Float()
    lead = ma.fields.Float()
    tolerance = ma.fields.Float()
    duration_min = ma.fields.Integer()
    checklist = ma.fields.List(ma.fields.String())
    blocks_machine = ma.fields.Boolean()
    active = ma.fields.Boolean()


class EquipmentPlanCreateSchema(Schema):
    code = _text(32, required=True)
    name = _text(200, required=True)
    machine_id = Ref(Machine, attribute="machine", allow_none=True, load_default=None)
    machine_model = _optional_text(100)
    trigger = _enum(PlanTrigger, required=True)
    interval = ma.fields.Float(required=True, metadata={"description": "Days, running hours or parts"})
    lead = ma.fields.Float(load_default=0.0, metadata={"description": "Create the order this much before due"})
    tolerance = ma.fields.Float(load_default=0.0, metadata={"description": "Overdue after this much past due"})
    duration_min = ma.fields.Integer(strict=True, load_default=60, validate=ma.validate.Range(min=1, max=10080))
    checklist = ma.fields.List(_text(200), load_default=list, validate=ma.validate.Length(max=50))
    blocks_machine = ma.fields.Boolean(load_default=True)
    active = ma.fields.Boolean(load_default=True)


class EquipmentPlanUpdateSchema(Schema):
    name = _text(200)
    interval = ma.fields.Float()
    lead = ma.fields.Float()
    tolerance = ma.fields.Float()
    duration_min = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=10080))
    checklist = ma.fields.List(_text(200), validate=ma.validate.Length(max=50))
    blocks_machine = ma.fields.Boolean()
    active = ma.fields.Boolean()


class EquipmentCheckItemSchema(Schema):
    item = ma.fields.String()
    done = ma.fields.Boolean()
    ok = ma.fields.Boolean(allow_none=True)
    note = ma.fields.String(allow_none=True)


class EquipmentPartSchema(Schema):
    part = _text(100, required=True)
    quantity = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, min_inclusive=False))


class EquipmentMaintenanceOrderSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    machine_id = ma.fields.Integer()
    machine_code = ma.fields.Function(lambda o: o.machine.code)
    plan_id = ma.fields.Integer(allow_none=True)
    alarm_id = ma.fields.Integer(allow_none=True)
    kind = _enum(MaintenanceKind)
    status = ma.fields.String(attribute="status.value")
    title = ma.fields.String()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    planned_start = ma.fields.AwareDateTime(allow_none=True)
    planned_end = ma.fields.AwareDateTime(allow_none=True)
    blocks_machine = ma.fields.Boolean()
    checklist = ma.fields.List(ma.fields.Nested(EquipmentCheckItemSchema))
    findings = ma.fields.String(allow_none=True)
    parts_used = ma.fields.List(ma.fields.Nested(EquipmentPartSchema))
    time_spent_min = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    started_by = ma.fields.String(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    completed_by = ma.fields.String(allow_none=True)


class EquipmentMaintenanceOrderCreateSchema(Schema):
    machine_id = Ref(Machine, attribute="machine", required=True)
    kind = _enum(MaintenanceKind, load_default=MaintenanceKind.CORRECTIVE)
    title = _text(200, required=True)
    checklist = ma.fields.List(_text(200), load_default=list, validate=ma.validate.Length(max=50))
    planned_start = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    planned_end = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    blocks_machine = ma.fields.Boolean(load_default=False)


class EquipmentMaintenanceOrderArgs(Schema):
    status = ma.fields.String(load_default="open", validate=ma.validate.OneOf(["open", "closed", "all"]))
    machine_id = ma.fields.Integer(load_default=None)


class EquipmentScheduleSchema(Schema):
    planned_start = ma.fields.AwareDateTime(required=True)
    planned_end = ma.fields.AwareDateTime(required=True)


class EquipmentCheckSchema(Schema):
    index = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(min=0, max=49))
    done = ma.fields.Boolean(load_default=True)
    ok = ma.fields.Boolean(allow_none=True)
    note = _optional_text(500)


class EquipmentRecordSchema(Schema):
    checks = ma.fields.List(ma.fields.Nested(EquipmentCheckSchema), load_default=list)
    findings = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    parts_used = ma.fields.List(ma.fields.Nested(EquipmentPartSchema), validate=ma.validate.Length(max=50))
    time_spent_min = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=10080))


class EquipmentAvailabilityArgs(WindowArgs):
    machine_id = ma.fields.Integer(load_default=None)


class EquipmentUnavailabilitySchema(Schema):
    machine_id = ma.fields.Integer()
    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime(allow_none=True)
    kind = ma.fields.String()
    reference = ma.fields.String()
    maintenance_id = ma.fields.Integer(allow_none=True)
