"""Quality API schemas: input and output separate, every field named; ``tenant_id`` is never loadable.

Component names start with ``Quality`` because the OpenAPI document is shared by every app.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest.fields import Upload

from apps.quality import labels
from apps.quality.alarms import RULE_NAMES, describe_alarm
from apps.quality.models import (
    ActionStep,
    CharacteristicKind,
    Disposition,
    Inspection,
    InspectionPlan,
    InspectionStatus,
    InspectionTask,
    NcrSource,
    NcrStatus,
    PlanStatus,
    SamplingKind,
    TaskStatus,
)
from apps.quality.spc.charts import ChartType
from apps.quality.spc.constants import MAX_SUBGROUP
from platform_core.api import MAX_ID, Ref, Schema
from platform_core.db import db, utcnow
from platform_core.errors import NotFound
from platform_core.identity import services as identity
from platform_core.identity.models import Employee, User
from platform_core.masterdata.models import Machine, Product, WorkCenter

CODE = ma.validate.Regexp(r"^\S{1,32}$", error="Use 1 to 32 characters without spaces.")


def _text(limit: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=limit), **kwargs)


def _optional_text(limit: int) -> ma.fields.String:
    return ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=limit))


def _enum(enum_cls, **kwargs) -> ma.fields.Enum:
    return ma.fields.Enum(enum_cls, by_value=True, **kwargs)


def _code_of(attribute: str) -> ma.fields.Function:
    def code(obj):
        target = getattr(obj, attribute)
        return None if target is None else target.code

    return ma.fields.Function(code, dump_only=True)


def _label_of(mapping: dict, attribute: str) -> ma.fields.Function:
    return ma.fields.Function(lambda obj: labels.label(mapping, getattr(obj, attribute)), dump_only=True)


class MemberRef(Ref):
    """A user id in a body: someone with a role in the current factory, else unknown (422)."""

    def __init__(self, **kwargs):
        super().__init__(User, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ma.ValidationError(_("Not a valid id."))
        try:
            return identity.get_tenant_user(db.session, value)
        except NotFound:
            raise ma.ValidationError(_("No user with id %(id)s in this factory.", id=value)) from None


class OrderId(ma.fields.Integer):
    """The orders app's id of a work order; checked against the orders quality has heard of (in the service)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("load_default", None)
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


# --- plans ------------------------------------------------------------------------------------------------------


class QualityCharacteristicInSchema(Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = _text(200, required=True)
    kind = _enum(CharacteristicKind, required=True)
    nominal = ma.fields.Float(allow_none=True, load_default=None)
    lsl = ma.fields.Float(allow_none=True, load_default=None, metadata={"description": "Lower specification limit"})
    usl = ma.fields.Float(allow_none=True, load_default=None, metadata={"description": "Upper specification limit"})
    unit = _optional_text(16)
    gauge = _optional_text(100)
    decimals = ma.fields.Integer(load_default=3, validate=ma.validate.Range(min=0, max=6))
    defect_codes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=32)), load_default=list)
    accept_number = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=1000))
    chart_type = _enum(ChartType, allow_none=True, load_default=None)
    subgroup_size = ma.fields.Integer(
        allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=max(MAX_SUBGROUP, 1000))
    )


class QualityCharacteristicSchema(QualityCharacteristicInSchema):
    id = ma.fields.Integer(dump_only=True)
    chart_id = ma.fields.Integer(dump_only=True, allow_none=True)  # None until its control chart exists


class QualitySamplingRuleInSchema(Schema):
    kind = _enum(SamplingKind, required=True)
    every_n = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=100000))
    percent = ma.fields.Float(
        allow_none=True, load_default=None, validate=ma.validate.Range(min=0, max=100, min_inclusive=False)
    )
    sample_size = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=50))
    due_minutes = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=7 * 24 * 60))


class QualitySamplingRuleSchema(QualitySamplingRuleInSchema):
    id = ma.fields.Integer(dump_only=True)


class QualityPlanCreateSchema(Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = _text(200, required=True)
    product_id = Ref(Product, required=True, data_key="product_id", attribute="product")
    operation_sequence = ma.fields.Integer(
        allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=9999)
    )
    notes = _optional_text(1000)
    characteristics = ma.fields.List(
        ma.fields.Nested(QualityCharacteristicInSchema), load_default=list, validate=ma.validate.Length(max=50)
    )
    rules = ma.fields.List(
        ma.fields.Nested(QualitySamplingRuleInSchema), load_default=list, validate=ma.validate.Length(max=10)
    )


class QualityPlanUpdateSchema(Schema):
    name = _text(200)
    product_id = Ref(Product, data_key="product_id", attribute="product")
    operation_sequence = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=9999))
    notes = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))
    characteristics = ma.fields.List(
        ma.fields.Nested(QualityCharacteristicInSchema), validate=ma.validate.Length(max=50)
    )
    rules = ma.fields.List(ma.fields.Nested(QualitySamplingRuleInSchema), validate=ma.validate.Length(max=10))


class QualityPlanSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    version = ma.fields.Integer()
    name = ma.fields.String()
    product_id = ma.fields.Integer()
    product_code = _code_of("product")
    operation_sequence = ma.fields.Integer(allow_none=True)
    status = _enum(PlanStatus)
    notes = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    activated_at = ma.fields.AwareDateTime(allow_none=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    characteristics = ma.fields.List(ma.fields.Nested(QualityCharacteristicSchema))
    rules = ma.fields.List(ma.fields.Nested(QualitySamplingRuleSchema))


class QualityPlanListArgsSchema(Schema):
    product_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    status = _enum(PlanStatus)
    code = ma.fields.String(validate=ma.validate.Length(max=32))


# --- tasks ------------------------------------------------------------------------------------------------------


class QualityTaskSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    plan_id = ma.fields.Integer()
    plan_code = ma.fields.Function(lambda t: t.plan.code)
    plan_version = ma.fields.Function(lambda t: t.plan.version)
    trigger = ma.fields.String()
    status = _enum(TaskStatus)
    product_id = ma.fields.Integer()
    product_code = _code_of("product")
    lot = _code_of("lot")
    order_id = ma.fields.Integer(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    operation_id = ma.fields.Integer(allow_none=True)
    operation_sequence = ma.fields.Integer(allow_none=True)
    work_center_id = ma.fields.Integer(allow_none=True)
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code_of("machine")
    operator_id = ma.fields.Integer(allow_none=True)
    sample_size = ma.fields.Integer()
    note = ma.fields.String(allow_none=True)
    due_at = ma.fields.AwareDateTime()
    overdue = ma.fields.Method("_overdue")
    created_at = ma.fields.AwareDateTime()
    done_at = ma.fields.AwareDateTime(allow_none=True)

    def _overdue(self, task) -> bool:
        return task.status is TaskStatus.OPEN and task.due_at < utcnow()


class QualityTaskCreateSchema(Schema):
    plan_id = Ref(InspectionPlan, required=True, attribute="plan")
    lot = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=64))
    order_id = OrderId()
    machine_id = Ref(Machine, allow_none=True, load_default=None, attribute="machine")
    work_center_id = Ref(WorkCenter, allow_none=True, load_default=None, attribute="work_center")
    operator_id = Ref(Employee, allow_none=True, load_default=None, attribute="operator")
    sample_size = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=50))
    due_at = ma.fields.AwareDateTime(allow_none=True, load_default=None)
    note = _optional_text(500)


class QualityTaskListArgsSchema(Schema):
    status = _enum(TaskStatus, load_default=TaskStatus.OPEN)
    work_center_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    overdue = ma.fields.Boolean(load_default=False)


class QualityCancelSchema(Schema):
    note = _optional_text(500)


class QualityWorkCenterLoadSchema(Schema):
    work_center_id = ma.fields.Function(lambda load: load.work_center.id if load.work_center else None)
    work_center_code = ma.fields.Function(lambda load: load.work_center.code if load.work_center else None)
    open = ma.fields.Integer()
    overdue = ma.fields.Integer()
    next_due = ma.fields.AwareDateTime(allow_none=True)


# --- inspections --------------------------------------------------------------------------------------------------


class QualityResultInSchema(Schema):
    characteristic_id = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    values = ma.fields.List(ma.fields.Float(allow_nan=False), load_default=list, validate=ma.validate.Length(max=50))
    inspected = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=100000))
    defectives = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=0, max=100000))
    defects = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=0, max=1000000))
    defect_counts = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        values=ma.fields.Integer(strict=True),
        load_default=dict,
    )


class QualityInspectionCreateSchema(Schema):
    task_id = Ref(InspectionTask, allow_none=True, load_default=None, attribute="task")
    plan_id = Ref(InspectionPlan, allow_none=True, load_default=None, attribute="plan")
    lot = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=64))
    machine_id = Ref(Machine, allow_none=True, load_default=None, attribute="machine")
    operator_id = Ref(Employee, allow_none=True, load_default=None, attribute="operator")
    order_id = OrderId()
    operation_id = OrderId(metadata={"description": "The orders app's id of the operation"})
    inspected_at = ma.fields.AwareDateTime(allow_none=True, load_default=None)
    note = _optional_text(1000)
    results = ma.fields.List(
        ma.fields.Nested(QualityResultInSchema), required=True, validate=ma.validate.Length(min=1, max=50)
    )

    @ma.validates_schema
    def _task_or_plan(self, data, **kwargs):
        if data.get("task") is None and data.get("plan") is None:
            raise ma.ValidationError(_("Name the task, or the plan inspected against."), field_name="task_id")


class QualityResultSchema(Schema):
    characteristic_id = ma.fields.Integer()
    code = ma.fields.Function(lambda r: r.characteristic.code)
    name = ma.fields.Function(lambda r: r.characteristic.name)
    kind = ma.fields.Function(lambda r: r.characteristic.kind.value)
    lsl = ma.fields.Function(lambda r: r.characteristic.lsl)
    usl = ma.fields.Function(lambda r: r.characteristic.usl)
    unit = ma.fields.Function(lambda r: r.characteristic.unit)
    values = ma.fields.List(ma.fields.Float())
    inspected = ma.fields.Integer(allow_none=True)
    defectives = ma.fields.Integer(allow_none=True)
    defects = ma.fields.Integer(allow_none=True)
    defect_counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    passed = ma.fields.Boolean()


class QualityAlarmSchema(Schema):
    id = ma.fields.Integer()
    chart_id = ma.fields.Integer()
    chart_name = ma.fields.Function(lambda a: a.chart.name)
    characteristic_id = ma.fields.Integer()
    rule = ma.fields.Integer()
    rule_name = ma.fields.Method("_rule_name")
    message = ma.fields.Method("_message")
    series = ma.fields.String()
    side = ma.fields.String(allow_none=True)
    points = ma.fields.Integer()
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code_of("machine")
    lot = _code_of("lot")
    status = ma.fields.Function(lambda a: a.status.value)
    raised_at = ma.fields.AwareDateTime()
    point_at = ma.fields.AwareDateTime()
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_by = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)

    def _rule_name(self, alarm) -> str:
        return str(RULE_NAMES[alarm.rule])

    def _message(self, alarm) -> str:
        return describe_alarm(alarm)


class QualityInspectionSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    status = _enum(InspectionStatus)
    plan_id = ma.fields.Integer()
    plan_code = ma.fields.Function(lambda i: i.plan.code)
    plan_version = ma.fields.Function(lambda i: i.plan.version)
    task_id = ma.fields.Integer(allow_none=True)
    product_id = ma.fields.Integer()
    product_code = _code_of("product")
    lot = _code_of("lot")
    order_id = ma.fields.Integer(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    operation_id = ma.fields.Integer(allow_none=True)
    operation_sequence = ma.fields.Integer(allow_none=True)
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code_of("machine")
    operator_id = ma.fields.Integer(allow_none=True)
    inspector_name = ma.fields.String()
    inspected_at = ma.fields.AwareDateTime()
    note = ma.fields.String(allow_none=True)
    results = ma.fields.List(ma.fields.Nested(QualityResultSchema))


class QualityInspectionRecordedSchema(QualityInspectionSchema):
    alarms = ma.fields.List(ma.fields.Nested(QualityAlarmSchema), metadata={"description": "Alarms this raised"})


class QualityInspectionListArgsSchema(Schema):
    lot = ma.fields.String(validate=ma.validate.Length(max=64))
    status = _enum(InspectionStatus)
    product_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    order_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()


class QualityPhotoUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "A JPEG, PNG or WebP photo"})


class QualityPhotoSchema(Schema):
    id = ma.fields.Integer()
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    uploaded_by = ma.fields.String()
    uploaded_at = ma.fields.AwareDateTime()


# --- SPC ----------------------------------------------------------------------------------------------------------


class QualityLimitsSchema(Schema):
    version = ma.fields.Integer()
    chart_type = _enum(ChartType)
    n = ma.fields.Integer()
    center = ma.fields.Float()
    ucl = ma.fields.Float()
    lcl = ma.fields.Float()
    sigma = ma.fields.Float()
    second_center = ma.fields.Float(allow_none=True)
    second_ucl = ma.fields.Float(allow_none=True)
    second_lcl = ma.fields.Float(allow_none=True)
    process_sigma = ma.fields.Float(allow_none=True)
    points = ma.fields.Integer()
    baseline_from = ma.fields.AwareDateTime(allow_none=True)
    baseline_to = ma.fields.AwareDateTime(allow_none=True)
    excluded = ma.fields.List(ma.fields.Integer())
    note = ma.fields.String(allow_none=True)
    computed_by = ma.fields.String()
    computed_at = ma.fields.AwareDateTime()


class QualityChartSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    plan_code = ma.fields.String()
    characteristic_code = ma.fields.String()
    product_id = ma.fields.Integer()
    product_code = _code_of("product")
    chart_type = _enum(ChartType)
    subgroup_size = ma.fields.Integer(allow_none=True)
    rules = ma.fields.List(ma.fields.Integer(), metadata={"description": "The Nelson rules checked (1 to 8)"})


class QualityChartRulesSchema(Schema):
    rules = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=8)),
        required=True,
        metadata={"description": "The Nelson rules to check; rule 1 is always kept"},
    )


class QualityChartDetailSchema(QualityChartSchema):
    phase = ma.fields.String(metadata={"description": "collecting, trial or fixed"})
    limits = ma.fields.Nested(
        QualityLimitsSchema,
        attribute="current_limits",
        allow_none=True,
        metadata={"description": "Fixed limits in force"},
    )


class QualityChartDataSchema(Schema):
    chart = ma.fields.Dict()
    phase = ma.fields.String()
    limits = ma.fields.Dict(allow_none=True)
    points = ma.fields.List(ma.fields.Dict())


class QualityChartDataArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class QualityFixLimitsSchema(Schema):
    since = ma.fields.AwareDateTime(allow_none=True, load_default=None, metadata={"description": "Baseline start"})
    until = ma.fields.AwareDateTime(allow_none=True, load_default=None, metadata={"description": "Baseline end"})
    exclude = ma.fields.List(
        ma.fields.Integer(strict=True),
        load_default=list,
        metadata={"description": "Points (result ids) with assignable causes, left out of the baseline"},
    )
    note = _optional_text(500)


class QualityPeriodArgsSchema(Schema):
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()


class QualityNormalitySchema(Schema):
    statistic = ma.fields.Float(metadata={"description": "Anderson-Darling A*²"})
    p_value = ma.fields.Float()
    normal = ma.fields.Boolean()


class QualityCapabilitySchema(Schema):
    n = ma.fields.Integer(allow_none=True)
    mean = ma.fields.Float(allow_none=True)
    sigma_within = ma.fields.Float(allow_none=True)
    sigma_overall = ma.fields.Float(allow_none=True)
    cp = ma.fields.Float(allow_none=True)
    cpk = ma.fields.Float(allow_none=True)
    pp = ma.fields.Float(allow_none=True)
    ppk = ma.fields.Float(allow_none=True)
    cpk_low = ma.fields.Float(allow_none=True)
    cpk_high = ma.fields.Float(allow_none=True)
    ppm_within = ma.fields.Float(allow_none=True)
    ppm_overall = ma.fields.Float(allow_none=True)
    normality = ma.fields.Nested(QualityNormalitySchema, allow_none=True)
    warnings = ma.fields.List(ma.fields.String())
    notes = ma.fields.List(ma.fields.String(), metadata={"description": "The warnings in plain words"})


class QualityAlarmListArgsSchema(Schema):
    status = ma.fields.String(load_default="open", validate=ma.validate.OneOf(["open", "acknowledged", "all"]))
    chart_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


class QualityAcknowledgeSchema(Schema):
    note = _optional_text(500)


# --- NCRs ---------------------------------------------------------------------------------------------------------


class QualityNcrCreateSchema(Schema):
    title = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=5000))
    product_id = Ref(Product, allow_none=True, load_default=None, attribute="product")
    quantity = ma.fields.Integer(allow_none=True, load_default=None, validate=ma.validate.Range(min=0, max=10**9))
    defect_codes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=32)), load_default=None)
    lot = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=64))
    inspection_id = Ref(Inspection, allow_none=True, load_default=None, attribute="inspection")
    order_id = OrderId()
    operation_id = OrderId(metadata={"description": "The orders app's id of the operation"})
    machine_id = Ref(Machine, allow_none=True, load_default=None, attribute="machine")
    operator_id = Ref(Employee, allow_none=True, load_default=None, attribute="operator")
    due_date = ma.fields.Date(allow_none=True, load_default=None)
    hold_lot = ma.fields.Boolean(load_default=False, metadata={"description": "Hold the lot until quality releases it"})


class QualityNcrUpdateSchema(Schema):
    title = _text(200)
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    quantity = ma.fields.Integer(validate=ma.validate.Range(min=0, max=10**9))
    defect_codes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=32)))
    due_date = ma.fields.Date(allow_none=True)


class QualityVersionSchema(Schema):
    """What an NCR's ETag is computed from."""

    id = ma.fields.Integer()
    version = ma.fields.Integer()


class QualityActionSchema(Schema):
    id = ma.fields.Integer()
    step = _enum(ActionStep)
    description = ma.fields.String()
    owner_id = ma.fields.Integer(allow_none=True)
    owner_name = ma.fields.Function(lambda a: a.owner.display_name if a.owner else None)
    due_date = ma.fields.Date(allow_none=True)
    status = ma.fields.Function(lambda a: a.status.value)
    result = ma.fields.String(allow_none=True)
    done_at = ma.fields.AwareDateTime(allow_none=True)


class QualityActionCreateSchema(Schema):
    step = _enum(ActionStep, required=True)
    description = _text(1000, required=True)
    owner_id = MemberRef(allow_none=True, load_default=None, attribute="owner")
    due_date = ma.fields.Date(allow_none=True, load_default=None)


class QualityActionDoneSchema(Schema):
    result = _optional_text(1000)


class QualityHoldSchema(Schema):
    id = ma.fields.Integer()
    lot = ma.fields.Function(lambda h: h.lot.code)
    lot_id = ma.fields.Integer()
    ncr_id = ma.fields.Integer()
    ncr_number = ma.fields.Function(lambda h: h.ncr.number)
    reason = ma.fields.String()
    held_by = ma.fields.String()
    held_at = ma.fields.AwareDateTime()
    released_by = ma.fields.String(allow_none=True)
    released_at = ma.fields.AwareDateTime(allow_none=True)
    release_note = ma.fields.String(allow_none=True)


class QualityNcrSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    source = _enum(NcrSource)
    status = _enum(NcrStatus)
    status_label = _label_of(labels.NCR_STATUS, "status")
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    product_id = ma.fields.Integer(allow_none=True)
    product_code = _code_of("product")
    quantity = ma.fields.Integer()
    defect_codes = ma.fields.List(ma.fields.String())
    lot = _code_of("lot")
    order_id = ma.fields.Integer(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    operation_id = ma.fields.Integer(allow_none=True)
    operation_sequence = ma.fields.Integer(allow_none=True)
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code_of("machine")
    operator_id = ma.fields.Integer(allow_none=True)
    inspection_id = ma.fields.Integer(allow_none=True)
    raised_by = ma.fields.String()
    raised_at = ma.fields.AwareDateTime()
    due_date = ma.fields.Date(allow_none=True)
    disposition = _enum(Disposition, allow_none=True)
    disposition_note = ma.fields.String(allow_none=True)
    proposed_by = ma.fields.String(allow_none=True)
    proposed_at = ma.fields.AwareDateTime(allow_none=True)
    approved_by = ma.fields.String(allow_none=True)
    approved_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    version = ma.fields.Integer()
    actions = ma.fields.List(ma.fields.Nested(QualityActionSchema))
    holds = ma.fields.List(ma.fields.Nested(QualityHoldSchema))


class QualityNcrListArgsSchema(Schema):
    status = ma.fields.String(load_default="active", validate=ma.validate.OneOf(["active", "all", *NcrStatus]))
    source = _enum(NcrSource)
    lot = ma.fields.String(validate=ma.validate.Length(max=64))


class QualityProposeSchema(Schema):
    disposition = _enum(Disposition, required=True)
    note = _optional_text(1000)


class QualityNoteSchema(Schema):
    note = _optional_text(1000)


class QualityHoldCreateSchema(Schema):
    lot = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(min=1, max=64))
    reason = _optional_text(300)


class QualityReleaseSchema(Schema):
    lot = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(min=1, max=64))
    note = _optional_text(500)


# --- lots and traces ------------------------------------------------------------------------------------------------


class QualityLotSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    product_id = ma.fields.Integer(allow_none=True)
    product_code = _code_of("product")
    quantity = ma.fields.Integer()
    first_seen_at = ma.fields.AwareDateTime()


class QualityLotListArgsSchema(Schema):
    q = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "Lot code or its beginning"})


class QualityTraceArgsSchema(Schema):
    direction = ma.fields.String(load_default="backward", validate=ma.validate.OneOf(["backward", "forward"]))


class QualityMadeSchema(Schema):
    order_id = ma.fields.Integer(allow_none=True)
    order_number = ma.fields.String(allow_none=True)
    operation_sequence = ma.fields.Integer(allow_none=True)
    machine_code = ma.fields.String(allow_none=True)
    employee_name = ma.fields.String(allow_none=True)
    reported_at = ma.fields.AwareDateTime()
    good = ma.fields.Integer()
    scrap = ma.fields.Integer()


class QualityTracedInspectionSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    status = _enum(InspectionStatus)
    inspector_name = ma.fields.String()
    inspected_at = ma.fields.AwareDateTime()


class QualityTraceNodeSchema(Schema):
    lot_id = ma.fields.Integer()
    code = ma.fields.String()
    depth = ma.fields.Integer()
    product_code = ma.fields.String(allow_none=True)
    product_name = ma.fields.String(allow_none=True)
    quantity = ma.fields.Integer()
    passed = ma.fields.Integer()
    failed = ma.fields.Integer()
    held = ma.fields.Boolean()
    via = ma.fields.Function(lambda n: sorted(n.via))
    made = ma.fields.List(ma.fields.Nested(QualityMadeSchema))
    inspections = ma.fields.List(ma.fields.Nested(QualityTracedInspectionSchema))


class QualityTraceSchema(Schema):
    lot = ma.fields.String()
    direction = ma.fields.String()
    orders = ma.fields.List(ma.fields.String())
    nodes = ma.fields.List(ma.fields.Nested(QualityTraceNodeSchema))


# --- KPIs, settings, costs --------------------------------------------------------------------------------------------


class QualityKpiArgsSchema(Schema):
    days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=366))


class QualityKpiSchema(Schema):
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()
    rows = ma.fields.List(ma.fields.Dict())
    summary = ma.fields.Dict()


class QualitySettingsSchema(Schema):
    ncr_from_scrap = ma.fields.Boolean()
    scrap_ncr_minimum = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100000))
    photo_max_kb = ma.fields.Integer(validate=ma.validate.Range(min=64, max=1900))
    version = ma.fields.Integer(dump_only=True)


class QualitySettingsUpdateSchema(Schema):
    ncr_from_scrap = ma.fields.Boolean()
    scrap_ncr_minimum = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100000))
    photo_max_kb = ma.fields.Integer(validate=ma.validate.Range(min=64, max=1900))


class QualityProductCostInSchema(Schema):
    unit_cost = ma.fields.Decimal(
        places=2,
        required=True,
        validate=ma.validate.Range(min=0, max=10**9),
        metadata={"minimum": 0, "maximum": 10**9},  # documented as numbers (the field would print "1000000000.00")
    )
    currency = ma.fields.String(load_default="CNY", validate=ma.validate.Regexp(r"^[A-Z]{3}$"))


class QualityProductCostSchema(Schema):
    product_id = ma.fields.Integer()
    product_code = _code_of("product")
    # money travels as exact decimal text ("18.50"), never as a binary float
    unit_cost = ma.fields.Decimal(as_string=True, places=2, metadata={"type": "string", "format": "decimal"})
    currency = ma.fields.String()
