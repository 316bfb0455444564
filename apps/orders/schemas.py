"""API schemas: input and output separate; ids in bodies are loaded as the factory's own records (``Ref``)."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

from apps.orders import execution, timers
from apps.orders.models import (
    OperationStatus,
    OrderStatus,
    ReportStatus,
    Routing,
    RoutingStatus,
)
from platform_core import api
from platform_core.api import Ref, Schema
from platform_core.db import utcnow
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product, ReasonCode, WorkCenter

QUANTITY = ma.validate.Range(min=0, max=10_000_000)


def _query_id() -> ma.fields.Integer:
    """An id in a query string (text, so not strict)."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=api.MAX_ID))


def _text(limit: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=limit), **kwargs)


def _code(path: str) -> ma.fields.Function:
    """The code of a referenced record (``"machine"`` → ``obj.machine.code``), or None."""

    def code(obj):
        value = obj
        for name in path.split("."):
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    return ma.fields.Function(code, dump_only=True)


# --- routings -----------------------------------------------------------------------------------------------------


class StepMachineSchema(Schema):
    machine_id = ma.fields.Integer()
    machine_code = _code("machine.code")
    seconds_per_unit = ma.fields.Float(allow_none=True)


class RoutingStepSchema(Schema):
    id = ma.fields.Integer()
    sequence = ma.fields.Integer()
    name = ma.fields.String()
    work_center_id = ma.fields.Integer()
    work_center_code = _code("work_center.code")
    setup_minutes = ma.fields.Float()
    seconds_per_unit = ma.fields.Float()
    allow_partial = ma.fields.Boolean()
    machines = ma.fields.List(ma.fields.Nested(StepMachineSchema))


class RoutingSchema(Schema):
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    product_code = _code("product.code")
    version = ma.fields.Integer()
    status = ma.fields.Enum(RoutingStatus, by_value=True)
    notes = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    activated_at = ma.fields.AwareDateTime(allow_none=True)
    steps = ma.fields.List(ma.fields.Nested(RoutingStepSchema))


class StepMachineInSchema(Schema):
    machine = Ref(Machine, data_key="machine_id", required=True)
    seconds_per_unit = ma.fields.Float(
        allow_none=True, validate=ma.validate.Range(min=0, max=86400), metadata={"description": "Own run time per unit"}
    )


class RoutingStepInSchema(Schema):
    sequence = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=99999))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    work_center = Ref(WorkCenter, data_key="work_center_id", required=True)
    setup_minutes = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(min=0, max=10000))
    seconds_per_unit = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(min=0, max=86400))
    allow_partial = ma.fields.Boolean(
        load_default=False, metadata={"description": "The next operation may start on partial quantities of this one"}
    )
    machines = ma.fields.List(ma.fields.Nested(StepMachineInSchema), load_default=list)


class RoutingCreateSchema(Schema):
    product = Ref(Product, data_key="product_id", required=True)
    steps = ma.fields.List(ma.fields.Nested(RoutingStepInSchema), required=True)
    notes = _text(500, allow_none=True)


class RoutingUpdateSchema(Schema):
    steps = ma.fields.List(ma.fields.Nested(RoutingStepInSchema))
    notes = _text(500, allow_none=True)


class RoutingListArgsSchema(Schema):
    product_id = _query_id()
    status = ma.fields.Enum(RoutingStatus, by_value=True)


# --- operations ---------------------------------------------------------------------------------------------------


class CrewSchema(Schema):
    employee_id = ma.fields.Integer()
    employee_no = _code("employee.employee_no")
    name = _code("employee.name")
    joined_at = ma.fields.AwareDateTime()


class OperationSchema(Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    order_number = _code("order.number")
    sequence = ma.fields.Integer()
    name = ma.fields.String()
    work_center_id = ma.fields.Integer()
    work_center_code = _code("work_center.code")
    setup_minutes = ma.fields.Float()
    seconds_per_unit = ma.fields.Float()
    allow_partial = ma.fields.Boolean()
    quantity = ma.fields.Integer(metadata={"description": "Planned"})
    status = ma.fields.Enum(OperationStatus, by_value=True)
    status_since = ma.fields.AwareDateTime(allow_none=True)
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code("machine.code")
    machines = ma.fields.List(ma.fields.Nested(StepMachineSchema), metadata={"description": "Eligible machines"})
    pause_reason_code = _code("pause_reason.code")
    first_started_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    running_s = ma.fields.Function(
        lambda op: round(timers.elapsed(op, utcnow()).running_s), metadata={"description": "Seconds running so far"}
    )
    paused_s = ma.fields.Function(
        lambda op: round(timers.elapsed(op, utcnow()).paused_s), metadata={"description": "Seconds paused so far"}
    )
    server_time = ma.fields.Function(lambda _op: utcnow().isoformat(), metadata={"description": "For client timers"})
    good_qty = ma.fields.Integer()
    scrap_qty = ma.fields.Integer()
    rework_qty = ma.fields.Integer()
    available = ma.fields.Function(
        execution.available_quantity, metadata={"description": "Pieces it can still take in from the previous one"}
    )
    crew = ma.fields.List(ma.fields.Nested(CrewSchema))
    planned_machine_id = ma.fields.Integer(allow_none=True)
    planned_start = ma.fields.AwareDateTime(allow_none=True)
    planned_end = ma.fields.AwareDateTime(allow_none=True)
    planned_sequence = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer(metadata={"description": "Send it back with a transition to detect concurrent changes"})


class OperationEventSchema(Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(attribute="kind.value")
    at = ma.fields.AwareDateTime()
    employee_id = ma.fields.Integer(allow_none=True)
    employee_name = _code("employee.name")
    machine_id = ma.fields.Integer(allow_none=True)
    reason_code = _code("reason.code")
    actor = ma.fields.String()


class _ActionSchema(Schema):
    employee = Ref(
        Employee,
        data_key="employee_id",
        metadata={"description": "The operator; default: the signed-in employee (others need orders.supervise)"},
    )
    version = ma.fields.Integer(
        validate=ma.validate.Range(min=1), metadata={"description": "The version the tablet saw; 409 if it changed"}
    )


class StartSchema(_ActionSchema):
    machine = Ref(Machine, data_key="machine_id", metadata={"description": "Required for the first start"})


class PauseSchema(_ActionSchema):
    reason = Ref(ReasonCode, data_key="reason_id", required=True)


class ResumeSchema(_ActionSchema):
    pass


class CompleteSchema(_ActionSchema):
    pass


class LeaveSchema(Schema):
    employee = Ref(Employee, data_key="employee_id")


class ReportInSchema(Schema):
    employee = Ref(Employee, data_key="employee_id")
    version = ma.fields.Integer(validate=ma.validate.Range(min=1))
    good = ma.fields.Integer(load_default=0, validate=QUANTITY)
    scrap = ma.fields.Integer(load_default=0, validate=QUANTITY)
    rework = ma.fields.Integer(load_default=0, validate=QUANTITY)
    scrap_reason = Ref(ReasonCode, data_key="scrap_reason_id", allow_none=True)
    rework_reason = Ref(ReasonCode, data_key="rework_reason_id", allow_none=True)
    output_lot = _text(64, allow_none=True)
    consumed_lots = ma.fields.List(_text(64), load_default=list, validate=ma.validate.Length(max=50))
    note = _text(500, allow_none=True)
    recorded_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the operator entered it (device clock), for offline reports"}
    )
    request_approval = ma.fields.Boolean(
        load_default=False, metadata={"description": "Over the tolerance: keep it for a supervisor instead of a 422"}
    )


class WorkReportSchema(Schema):
    id = ma.fields.Integer()
    operation_id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    order_number = _code("order.number")
    sequence = _code("operation.sequence")
    employee_id = ma.fields.Integer(allow_none=True)
    employee_name = _code("employee.name")
    machine_id = ma.fields.Integer(allow_none=True)
    machine_code = _code("machine.code")
    good = ma.fields.Integer()
    scrap = ma.fields.Integer()
    rework = ma.fields.Integer()
    scrap_reason_code = _code("scrap_reason.code")
    rework_reason_code = _code("rework_reason.code")
    output_lot = ma.fields.String(allow_none=True)
    consumed_lots = ma.fields.List(ma.fields.String())
    note = ma.fields.String(allow_none=True)
    status = ma.fields.Enum(ReportStatus, by_value=True)
    reported_at = ma.fields.AwareDateTime()
    recorded_at = ma.fields.AwareDateTime(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decided_by = ma.fields.String(allow_none=True)
    decision_note = ma.fields.String(allow_none=True)


class OperationStateSchema(Schema):
    """What a tablet refreshes after a report: the operation's state and totals (no names to look up)."""

    id = ma.fields.Integer()
    status = ma.fields.Enum(OperationStatus, by_value=True)
    version = ma.fields.Integer()
    quantity = ma.fields.Integer()
    good_qty = ma.fields.Integer()
    scrap_qty = ma.fields.Integer()
    rework_qty = ma.fields.Integer()
    available = ma.fields.Function(execution.available_quantity)
    status_since = ma.fields.AwareDateTime(allow_none=True)
    running_s = ma.fields.Function(lambda op: round(timers.elapsed(op, utcnow()).running_s))
    paused_s = ma.fields.Function(lambda op: round(timers.elapsed(op, utcnow()).paused_s))
    server_time = ma.fields.Function(lambda _op: utcnow().isoformat())


class ReportResultSchema(WorkReportSchema):
    operation = ma.fields.Nested(OperationStateSchema, metadata={"description": "The operation after the report"})


class ReportListArgsSchema(Schema):
    status = ma.fields.Enum(ReportStatus, by_value=True)
    order_id = _query_id()
    operation_id = _query_id()


class DecisionSchema(Schema):
    note = _text(500, allow_none=True)


# --- work orders --------------------------------------------------------------------------------------------------


class WorkOrderSchema(Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    product_id = ma.fields.Integer()
    product_code = _code("product.code")
    product_name = _code("product.name")
    routing_id = ma.fields.Integer(allow_none=True)
    routing_version = _code("routing.version")
    quantity = ma.fields.Integer()
    good_qty = ma.fields.Integer(dump_only=True, metadata={"description": "Good pieces out of the last operation"})
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer()
    customer = ma.fields.String(allow_none=True)
    sales_order = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    status = ma.fields.Enum(OrderStatus, by_value=True)
    version = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    released_at = ma.fields.AwareDateTime(allow_none=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    cancelled_at = ma.fields.AwareDateTime(allow_none=True)
    planned_completion = ma.fields.AwareDateTime(
        allow_none=True,
        dump_only=True,
        metadata={"description": "When the published schedule finishes the order; null while no plan covers it"},
    )


class RecordVersionSchema(Schema):
    """What a work order's ETag is computed from: its identity and version (its timers change by the second)."""

    id = ma.fields.Integer()
    version = ma.fields.Integer()


class WorkOrderDetailSchema(WorkOrderSchema):
    operations = ma.fields.List(ma.fields.Nested(OperationSchema))


class WorkOrderCreateSchema(Schema):
    number = ma.fields.String(validate=ma.validate.Length(min=1, max=64), metadata={"description": "Default: next"})
    product = Ref(Product, data_key="product_id", required=True)
    routing = Ref(Routing, data_key="routing_id", allow_none=True, metadata={"description": "Default: the active"})
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=10_000_000))
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer(load_default=5, validate=ma.validate.Range(min=1, max=9))
    customer = _text(200, allow_none=True)
    sales_order = _text(64, allow_none=True)
    notes = _text(1000, allow_none=True)


class WorkOrderUpdateSchema(Schema):
    number = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    product = Ref(Product, data_key="product_id")
    routing = Ref(Routing, data_key="routing_id", allow_none=True)
    quantity = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10_000_000))
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer(validate=ma.validate.Range(min=1, max=9))
    customer = _text(200, allow_none=True)
    sales_order = _text(64, allow_none=True)
    notes = _text(1000, allow_none=True)


class WorkOrderListArgsSchema(Schema):
    status = ma.fields.List(ma.fields.Enum(OrderStatus, by_value=True))
    q = ma.fields.String(validate=ma.validate.Length(max=64), metadata={"description": "Number, customer or product"})
    product_id = _query_id()
    late = ma.fields.Boolean(metadata={"description": "Only open orders past their due date"})


class WorkOrderImportArgsSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8, UTF-8 with BOM or GBK)"})
    release = ma.fields.Boolean(load_default=False, metadata={"description": "Release every new order"})
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Check only; write nothing"})


class WorkOrderImportResultSchema(Schema):
    dry_run = ma.fields.Boolean()
    release = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    released = ma.fields.Integer()


# --- dispatch, lots, board, KPIs, settings ----------------------------------------------------------------------


class DispatchArgsSchema(Schema):
    machine_id = _query_id()
    work_center_id = _query_id()

    @ma.validates_schema
    def _one_place(self, data, **kwargs):
        if ("machine_id" in data) == ("work_center_id" in data):
            raise ma.ValidationError("Give a machine_id or a work_center_id.", "machine_id")


class DispatchItemSchema(Schema):
    operation = ma.fields.Nested(OperationSchema)
    order_number = _code("operation.order.number")
    product_code = _code("operation.order.product.code")
    product_name = _code("operation.order.product.name")
    due_date = ma.fields.Date(attribute="operation.order.due_date", allow_none=True)
    priority = ma.fields.Integer(attribute="operation.order.priority")
    ready = ma.fields.Boolean(metadata={"description": "The previous operation lets it start"})
    available = ma.fields.Integer()
    input_lots = ma.fields.List(ma.fields.String())
    held_lots = ma.fields.List(ma.fields.String())
    planned = ma.fields.Boolean(metadata={"description": "Placed by the published schedule"})


class HeldLotSchema(Schema):
    lot = ma.fields.String()
    ncr_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    held_at = ma.fields.AwareDateTime()


class CenterLoadSchema(Schema):
    work_center_id = ma.fields.Integer(attribute="work_center.id")
    code = ma.fields.String(attribute="work_center.code")
    name = ma.fields.String(attribute="work_center.name")
    running = ma.fields.Integer()
    paused = ma.fields.Integer()
    waiting = ma.fields.Integer()
    pieces = ma.fields.Integer()


class ActiveOperationSchema(Schema):
    operation = ma.fields.Nested(OperationSchema)
    seconds_in_status = ma.fields.Integer()


class OrderProgressSchema(Schema):
    order_id = ma.fields.Integer(attribute="order.id")
    number = ma.fields.String(attribute="order.number")
    status = ma.fields.String(attribute="order.status.value")
    product_code = ma.fields.String(attribute="order.product.code")
    quantity = ma.fields.Integer(attribute="order.quantity")
    due_date = ma.fields.Date(attribute="order.due_date", allow_none=True)
    good = ma.fields.Integer()
    percent = ma.fields.Integer()
    remaining_minutes = ma.fields.Integer()
    late = ma.fields.Boolean()
    at_risk = ma.fields.Boolean()


class BoardSchema(Schema):
    now = ma.fields.AwareDateTime()
    centers = ma.fields.List(ma.fields.Nested(CenterLoadSchema))
    active = ma.fields.List(ma.fields.Nested(ActiveOperationSchema))
    orders = ma.fields.List(ma.fields.Nested(OrderProgressSchema))
    approvals = ma.fields.List(ma.fields.Nested(WorkReportSchema))


class KpiArgsSchema(Schema):
    days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=366))


class KpiDaySchema(Schema):
    date = ma.fields.Date()
    output = ma.fields.Integer()
    good = ma.fields.Integer()
    scrap = ma.fields.Integer()
    scrap_rate = ma.fields.Float(allow_none=True)
    orders_completed = ma.fields.Integer()
    on_time = ma.fields.Integer()
    mean_lead_time_h = ma.fields.Float(allow_none=True)


class KpiSchema(Schema):
    start = ma.fields.Date()
    end = ma.fields.Date()
    output = ma.fields.Integer(metadata={"description": "Good finished pieces in the period"})
    throughput_per_day = ma.fields.Float()
    scrap_rate = ma.fields.Float(allow_none=True)
    on_time_rate = ma.fields.Float(allow_none=True)
    orders_completed = ma.fields.Integer()
    mean_lead_time_h = ma.fields.Float(allow_none=True, metadata={"description": "Release to completion, hours"})
    days = ma.fields.List(ma.fields.Nested(KpiDaySchema))


class SettingsSchema(Schema):
    over_tolerance_pct = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=100),
        metadata={"description": "Good + scrap may exceed the planned quantity by this percentage without approval"},
    )
