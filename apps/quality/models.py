"""Quality data: inspection plans and tasks, results, control charts and alarms, nonconformance, lot genealogy.

The orders app is never imported: what quality needs of production (orders, operations, reports, lots and the
lots they consumed) is copied from its events into the ``quality_orders``, ``quality_operations``,
``quality_production_records``, ``quality_lots`` and ``quality_lot_links`` tables (see :mod:`apps.quality.events`).
Orders' own ids are kept as plain integers (``order_id``, ``operation_id``, ``report_id``) with no foreign key.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from apps.quality.spc.charts import ChartType
from platform_core.db import Base, TenantScoped, UTCDateTime, created_at, enum_type, intpk, str_name, utcnow
from platform_core.identity.models import Employee, User
from platform_core.masterdata.models import Machine, Product, WorkCenter


def _fk(target, *, nullable: bool = True, ondelete: str = "RESTRICT", index: bool = True):
    return mapped_column(sa.ForeignKey(target, ondelete=ondelete), index=index, nullable=nullable)


# --- plans --------------------------------------------------------------------------------------------------------


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; no tasks
    ACTIVE = "active"  # the version inspections are made against
    SUPERSEDED = "superseded"  # replaced by a newer version, kept for the results measured against it
    RETIRED = "retired"  # no longer inspected


class CharacteristicKind(enum.StrEnum):
    VARIABLE = "variable"  # measured: a number against specification limits
    ATTRIBUTE = "attribute"  # judged: good or defective, with defect codes


class SamplingKind(enum.StrEnum):
    FIRST_OF_SHIFT = "first_of_shift"
    FIRST_OF_ORDER = "first_of_order"
    EVERY_N = "every_n"
    PER_LOT = "per_lot"
    PERCENT = "percent"
    INCOMING = "incoming"


class InspectionPlan(TenantScoped, Base):
    """One version of an inspection plan for a product, optionally for one routing operation (by sequence)."""

    __tablename__ = "quality_plans"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", "version"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str_name]
    product_id: Mapped[int] = _fk(Product.id)
    operation_sequence: Mapped[int | None]  # None: every operation of the product
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus), default=PlanStatus.DRAFT)
    notes: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[created_at]
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship()
    characteristics: Mapped[list[Characteristic]] = relationship(
        back_populates="plan", cascade="save-update, merge, delete, delete-orphan", order_by="Characteristic.position"
    )
    rules: Mapped[list[SamplingRule]] = relationship(
        back_populates="plan", cascade="save-update, merge, delete, delete-orphan", order_by="SamplingRule.id"
    )


class Characteristic(TenantScoped, Base):
    """What is checked: a dimension with its specification, or a good/defective judgement with defect codes."""

    __tablename__ = "quality_characteristics"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "code"),
        sa.CheckConstraint("lsl IS NULL OR usl IS NULL OR lsl < usl", name="spec_ordered"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = _fk("quality_plans.id", nullable=False, ondelete="CASCADE")
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str_name]
    kind: Mapped[CharacteristicKind] = mapped_column(enum_type(CharacteristicKind))
    nominal: Mapped[float | None] = mapped_column(sa.Float)
    lsl: Mapped[float | None] = mapped_column(sa.Float)
    usl: Mapped[float | None] = mapped_column(sa.Float)
    unit: Mapped[str | None] = mapped_column(sa.String(16))  # mm, μm, N·m ... (not a quantity unit)
    gauge: Mapped[str | None] = mapped_column(sa.String(100))
    decimals: Mapped[int] = mapped_column(default=3)
    defect_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # scrap reason codes offered
    accept_number: Mapped[int] = mapped_column(default=0)  # defectives allowed in a sample of an attribute
    chart_type: Mapped[ChartType | None] = mapped_column(enum_type(ChartType))
    subgroup_size: Mapped[int | None]
    chart_id: Mapped[int | None] = _fk("quality_charts.id")

    plan: Mapped[InspectionPlan] = relationship(back_populates="characteristics")
    chart: Mapped[ControlChart | None] = relationship()


class SamplingRule(TenantScoped, Base):
    """When a plan asks for an inspection, how many pieces to check, and how soon."""

    __tablename__ = "quality_sampling_rules"

    id: Mapped[intpk]
    plan_id: Mapped[int] = _fk("quality_plans.id", nullable=False, ondelete="CASCADE")
    kind: Mapped[SamplingKind] = mapped_column(enum_type(SamplingKind))
    every_n: Mapped[int | None]  # EVERY_N: one inspection per this many pieces reported
    percent: Mapped[float | None] = mapped_column(sa.Float)  # PERCENT: share of each reported quantity
    sample_size: Mapped[int] = mapped_column(default=1)
    due_minutes: Mapped[int] = mapped_column(default=30)

    plan: Mapped[InspectionPlan] = relationship(back_populates="rules")


# --- production context copied from the orders app's events -------------------------------------------------------


class ProductionOrder(TenantScoped, Base):
    """A released work order as the orders app announced it."""

    __tablename__ = "quality_orders"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "order_id"),)
    __audit__ = False  # a copy of another app's record, not edited here

    id: Mapped[intpk]
    order_id: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(64))
    product_code: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int | None] = _fk(Product.id)
    quantity: Mapped[int] = mapped_column(default=0)
    released_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product | None] = relationship()


class ProductionOperation(TenantScoped, Base):
    """An operation of a released order (its routing sequence and work center)."""

    __tablename__ = "quality_operations"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "operation_id"),)
    __audit__ = False

    id: Mapped[intpk]
    operation_id: Mapped[int]
    order_id: Mapped[int] = mapped_column(index=True)
    sequence: Mapped[int | None]
    name: Mapped[str | None] = mapped_column(sa.String(200))
    work_center_id: Mapped[int | None] = _fk(WorkCenter.id)


class Lot(TenantScoped, Base):
    """A lot named in a report: produced (an output lot) or consumed (material)."""

    __tablename__ = "quality_lots"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)
    __audit__ = False  # created from events; holds and inspections are audited on their own rows

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int | None] = _fk(Product.id)
    quantity: Mapped[int] = mapped_column(default=0)  # good pieces reported into it
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product | None] = relationship()


class LotLink(TenantScoped, Base):
    """Lot ``parent`` was consumed into lot ``child`` (one edge of the genealogy)."""

    __tablename__ = "quality_lot_links"
    __table_args__ = (
        # (tenant, parent, child) serves the forward trace; (tenant, child, parent) the backward one
        sa.UniqueConstraint("tenant_id", "parent_id", "child_id"),
        sa.Index("ix_quality_lot_links_child", "tenant_id", "child_id", "parent_id"),
        sa.CheckConstraint("parent_id <> child_id", name="not_itself"),
    )
    __audit__ = False

    id: Mapped[intpk]
    parent_id: Mapped[int] = _fk(Lot.id, nullable=False, ondelete="CASCADE", index=False)
    child_id: Mapped[int] = _fk(Lot.id, nullable=False, ondelete="CASCADE", index=False)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProductionRecord(TenantScoped, Base):
    """One accepted report of the orders app: who made what, where, when, from which lots."""

    __tablename__ = "quality_production_records"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "event_id"),)
    __audit__ = False

    id: Mapped[intpk]
    event_id: Mapped[str] = mapped_column(sa.String(36))  # the event it came from: a redelivery adds nothing
    report_id: Mapped[int | None]
    order_id: Mapped[int | None] = mapped_column(index=True)
    operation_id: Mapped[int | None] = mapped_column(index=True)
    operation_sequence: Mapped[int | None]
    product_id: Mapped[int | None] = _fk(Product.id)
    machine_id: Mapped[int | None] = _fk(Machine.id)
    employee_id: Mapped[int | None] = _fk(Employee.id)
    output_lot_id: Mapped[int | None] = _fk(Lot.id)
    consumed: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    good: Mapped[int] = mapped_column(default=0)
    scrap: Mapped[int] = mapped_column(default=0)
    rework: Mapped[int] = mapped_column(default=0)
    scrap_reason_code: Mapped[str | None] = mapped_column(sa.String(32))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)

    product: Mapped[Product | None] = relationship()
    machine: Mapped[Machine | None] = relationship()
    employee: Mapped[Employee | None] = relationship()
    output_lot: Mapped[Lot | None] = relationship()


# --- tasks and inspections ----------------------------------------------------------------------------------------


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class InspectionTask(TenantScoped, Base):
    """An inspection to be made: raised by a sampling rule on a production event, or by hand."""

    __tablename__ = "quality_tasks"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_quality_tasks_open", "tenant_id", "status", "due_at"),
        # a sampling rule raises one task per thing it counts (a shift, an order, every N pieces, a lot)
        sa.Index("uq_quality_tasks_trigger", "tenant_id", "plan_id", "trigger_key", unique=True),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(sa.String(32))
    plan_id: Mapped[int] = _fk(InspectionPlan.id, nullable=False)
    rule_id: Mapped[int | None] = _fk(SamplingRule.id, ondelete="SET NULL")
    trigger: Mapped[str] = mapped_column(sa.String(32))  # a SamplingKind value or "manual"
    trigger_key: Mapped[str | None] = mapped_column(sa.String(120))  # what the rule counted; no twin tasks
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus), default=TaskStatus.OPEN)
    product_id: Mapped[int] = _fk(Product.id, nullable=False)
    lot_id: Mapped[int | None] = _fk(Lot.id)
    order_id: Mapped[int | None]
    order_number: Mapped[str | None] = mapped_column(sa.String(64))
    operation_id: Mapped[int | None]
    operation_sequence: Mapped[int | None]
    work_center_id: Mapped[int | None] = _fk(WorkCenter.id)
    machine_id: Mapped[int | None] = _fk(Machine.id)
    operator_id: Mapped[int | None] = _fk(Employee.id)
    sample_size: Mapped[int] = mapped_column(default=1)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    plan: Mapped[InspectionPlan] = relationship()
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot | None] = relationship()
    work_center: Mapped[WorkCenter | None] = relationship()
    machine: Mapped[Machine | None] = relationship()
    operator: Mapped[Employee | None] = relationship()


class InspectionStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class Inspection(TenantScoped, Base):
    """Results of one inspection, against the plan version in force, with its production context."""

    __tablename__ = "quality_inspections"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "number"), sa.UniqueConstraint("tenant_id", "submission"))

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(sa.String(32))
    submission: Mapped[str | None] = mapped_column(sa.String(64))  # a tablet form's one-time key
    plan_id: Mapped[int] = _fk(InspectionPlan.id, nullable=False)
    task_id: Mapped[int | None] = _fk(InspectionTask.id)
    status: Mapped[InspectionStatus] = mapped_column(enum_type(InspectionStatus))
    product_id: Mapped[int] = _fk(Product.id, nullable=False)
    lot_id: Mapped[int | None] = _fk(Lot.id)
    order_id: Mapped[int | None] = mapped_column(index=True)
    order_number: Mapped[str | None] = mapped_column(sa.String(64))
    operation_id: Mapped[int | None]
    operation_sequence: Mapped[int | None]
    machine_id: Mapped[int | None] = _fk(Machine.id)
    operator_id: Mapped[int | None] = _fk(Employee.id)
    inspector_id: Mapped[int | None] = _fk(User.id, ondelete="SET NULL")
    inspector_name: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    inspected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)

    plan: Mapped[InspectionPlan] = relationship()
    task: Mapped[InspectionTask | None] = relationship()
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot | None] = relationship()
    machine: Mapped[Machine | None] = relationship()
    operator: Mapped[Employee | None] = relationship()
    results: Mapped[list[InspectionResult]] = relationship(
        back_populates="inspection", cascade="save-update, merge, delete, delete-orphan", order_by="InspectionResult.id"
    )


class InspectionResult(TenantScoped, Base):
    """One characteristic's result in an inspection: measured values, or counts of defectives and defects."""

    __tablename__ = "quality_results"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "characteristic_id"),
        sa.Index("ix_quality_results_chart", "chart_id", "inspected_at", "id"),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = _fk(Inspection.id, nullable=False, ondelete="CASCADE")
    characteristic_id: Mapped[int] = _fk(Characteristic.id, nullable=False)
    chart_id: Mapped[int | None] = _fk("quality_charts.id", index=False)
    inspected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the inspection's, for chart order
    values: Mapped[list[float]] = mapped_column(sa.JSON, default=list)
    inspected: Mapped[int | None]  # attributes: units checked
    defectives: Mapped[int | None]
    defects: Mapped[int | None]
    defect_counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # defect code -> count
    passed: Mapped[bool]

    inspection: Mapped[Inspection] = relationship(back_populates="results")
    characteristic: Mapped[Characteristic] = relationship()


# --- SPC ----------------------------------------------------------------------------------------------------------


class ControlChart(TenantScoped, Base):
    """The control chart of one characteristic, across the versions of its plan (same plan and characteristic code)."""

    __tablename__ = "quality_charts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "plan_code", "characteristic_code"),)

    id: Mapped[intpk]
    plan_code: Mapped[str] = mapped_column(sa.String(32))
    characteristic_code: Mapped[str] = mapped_column(sa.String(32))
    product_id: Mapped[int] = _fk(Product.id, nullable=False)
    name: Mapped[str_name]
    chart_type: Mapped[ChartType] = mapped_column(enum_type(ChartType))
    subgroup_size: Mapped[int | None]
    # The Nelson rules checked on this chart: all eight unless a quality engineer switched some off (a sparse
    # p chart sits below its centre line most of the time, so rules 2 and 7 would fire on nothing).
    rules: Mapped[list[int]] = mapped_column(sa.JSON, default=lambda: [1, 2, 3, 4, 5, 6, 7, 8])
    created_at: Mapped[created_at]

    product: Mapped[Product] = relationship()
    limits: Mapped[list[ControlLimits]] = relationship(
        back_populates="chart", order_by="ControlLimits.version", cascade="save-update, merge, delete, delete-orphan"
    )


class ControlLimits(TenantScoped, Base):
    """One version of a chart's fixed limits, computed from a baseline; the newest is in force."""

    __tablename__ = "quality_chart_limits"
    __table_args__ = (sa.UniqueConstraint("chart_id", "version"),)

    id: Mapped[intpk]
    chart_id: Mapped[int] = _fk(ControlChart.id, nullable=False, ondelete="CASCADE")
    version: Mapped[int]
    chart_type: Mapped[ChartType] = mapped_column(enum_type(ChartType))
    n: Mapped[int]
    center: Mapped[float] = mapped_column(sa.Float)
    sigma: Mapped[float] = mapped_column(sa.Float)
    ucl: Mapped[float] = mapped_column(sa.Float)
    lcl: Mapped[float] = mapped_column(sa.Float)
    second_center: Mapped[float | None] = mapped_column(sa.Float)
    second_ucl: Mapped[float | None] = mapped_column(sa.Float)
    second_lcl: Mapped[float | None] = mapped_column(sa.Float)
    process_sigma: Mapped[float | None] = mapped_column(sa.Float)
    points: Mapped[int]
    baseline_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    baseline_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    excluded: Mapped[list[int]] = mapped_column(sa.JSON, default=list)  # result ids left out (assignable causes)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    computed_by: Mapped[str] = mapped_column(sa.String(120))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    chart: Mapped[ControlChart] = relationship(back_populates="limits")


class AlarmStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class QualityAlarm(TenantScoped, Base):
    """A control-chart rule that fired; consecutive points breaking the same rule extend one alarm."""

    __tablename__ = "quality_alarms"
    __table_args__ = (sa.Index("ix_quality_alarms_open", "tenant_id", "status", "raised_at"),)

    id: Mapped[intpk]
    chart_id: Mapped[int] = _fk(ControlChart.id, nullable=False)
    characteristic_id: Mapped[int] = _fk(Characteristic.id, nullable=False)
    rule: Mapped[int]
    series: Mapped[str] = mapped_column(sa.String(16), default="primary")  # or "secondary" (R, S, MR chart)
    side: Mapped[str | None] = mapped_column(sa.String(16))
    first_result_id: Mapped[int] = _fk(InspectionResult.id, nullable=False)
    last_result_id: Mapped[int] = _fk(InspectionResult.id, nullable=False)
    points: Mapped[int] = mapped_column(default=1)
    machine_id: Mapped[int | None] = _fk(Machine.id)
    lot_id: Mapped[int | None] = _fk(Lot.id)
    status: Mapped[AlarmStatus] = mapped_column(enum_type(AlarmStatus), default=AlarmStatus.OPEN)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    point_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(120))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    chart: Mapped[ControlChart] = relationship()
    characteristic: Mapped[Characteristic] = relationship()
    machine: Mapped[Machine | None] = relationship()
    lot: Mapped[Lot | None] = relationship()


# --- nonconformance -----------------------------------------------------------------------------------------------


class NcrSource(enum.StrEnum):
    INSPECTION = "inspection"
    SCRAP = "scrap"
    MANUAL = "manual"


class NcrStatus(enum.StrEnum):
    OPEN = "open"  # raised; containment and investigation
    PROPOSED = "proposed"  # a disposition awaits approval
    DISPOSITIONED = "dispositioned"  # disposition approved; actions under way
    CLOSED = "closed"  # actions done and verified
    CANCELLED = "cancelled"


class Disposition(enum.StrEnum):
    REWORK = "rework"
    SCRAP = "scrap"
    USE_AS_IS = "use_as_is"
    RETURN_TO_SUPPLIER = "return_to_supplier"


class Nonconformance(TenantScoped, Base):
    """A nonconformance report (NCR): what is wrong, with what, the decision on it and the 8D-lite actions."""

    __tablename__ = "quality_ncrs"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("tenant_id", "event_id"),
        sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[NcrSource] = mapped_column(enum_type(NcrSource))
    status: Mapped[NcrStatus] = mapped_column(enum_type(NcrStatus), default=NcrStatus.OPEN)
    title: Mapped[str_name]
    description: Mapped[str | None] = mapped_column(sa.Text)
    product_id: Mapped[int | None] = _fk(Product.id)
    quantity: Mapped[int] = mapped_column(default=0)
    defect_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    lot_id: Mapped[int | None] = _fk(Lot.id)
    order_id: Mapped[int | None]
    order_number: Mapped[str | None] = mapped_column(sa.String(64))
    operation_id: Mapped[int | None]
    operation_sequence: Mapped[int | None]
    machine_id: Mapped[int | None] = _fk(Machine.id)
    operator_id: Mapped[int | None] = _fk(Employee.id)
    inspection_id: Mapped[int | None] = _fk(Inspection.id)
    event_id: Mapped[str | None] = mapped_column(sa.String(36))  # a scrap report's event: one NCR per event
    raised_by: Mapped[str] = mapped_column(sa.String(120))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    disposition: Mapped[Disposition | None] = mapped_column(enum_type(Disposition))
    disposition_note: Mapped[str | None] = mapped_column(sa.String(1000))
    proposed_by: Mapped[str | None] = mapped_column(sa.String(120))
    # The proposer's account (unique, unlike display names): the approver must be someone else (four eyes).
    proposed_by_actor: Mapped[str | None] = mapped_column(sa.String(120))
    proposed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(sa.String(120))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    product: Mapped[Product | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    machine: Mapped[Machine | None] = relationship()
    operator: Mapped[Employee | None] = relationship()
    inspection: Mapped[Inspection | None] = relationship()
    actions: Mapped[list[NcrAction]] = relationship(
        back_populates="ncr", cascade="save-update, merge, delete, delete-orphan", order_by="NcrAction.id"
    )
    holds: Mapped[list[LotHold]] = relationship(back_populates="ncr", order_by="LotHold.id")


class ActionStep(enum.StrEnum):
    """The 8D-lite steps."""

    CONTAINMENT = "containment"
    CAUSE = "cause"
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"
    VERIFICATION = "verification"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class NcrAction(TenantScoped, Base):
    """One step of an NCR's 8D-lite: containment, cause, corrective or preventive action, verification."""

    __tablename__ = "quality_ncr_actions"

    id: Mapped[intpk]
    ncr_id: Mapped[int] = _fk(Nonconformance.id, nullable=False, ondelete="CASCADE")
    step: Mapped[ActionStep] = mapped_column(enum_type(ActionStep))
    description: Mapped[str] = mapped_column(sa.String(1000))
    owner_id: Mapped[int | None] = _fk(User.id, ondelete="SET NULL")
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus), default=ActionStatus.OPEN)
    result: Mapped[str | None] = mapped_column(sa.String(1000))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    ncr: Mapped[Nonconformance] = relationship(back_populates="actions")
    owner: Mapped[User | None] = relationship()


class LotHold(TenantScoped, Base):
    """A lot held by an NCR until quality releases it; the orders app refuses reports on it meanwhile."""

    __tablename__ = "quality_lot_holds"
    __table_args__ = (sa.UniqueConstraint("lot_id", "ncr_id"),)

    id: Mapped[intpk]
    lot_id: Mapped[int] = _fk(Lot.id, nullable=False)
    ncr_id: Mapped[int] = _fk(Nonconformance.id, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(300))
    held_by: Mapped[str] = mapped_column(sa.String(120))
    # Whose account placed the hold: before a disposition is approved, someone else must release it.
    held_by_actor: Mapped[str | None] = mapped_column(sa.String(120))
    held_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_by: Mapped[str | None] = mapped_column(sa.String(120))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    release_note: Mapped[str | None] = mapped_column(sa.String(500))

    lot: Mapped[Lot] = relationship()
    ncr: Mapped[Nonconformance] = relationship(back_populates="holds")

    @property
    def active(self) -> bool:
        return self.released_at is None


# --- photos, costs, settings --------------------------------------------------------------------------------------


class Attachment(TenantScoped, Base):
    """A photo of an inspection or an NCR, stored in the database (so backups and tenancy cover it)."""

    __tablename__ = "quality_attachments"
    __table_args__ = (
        sa.CheckConstraint("inspection_id IS NOT NULL OR ncr_id IS NOT NULL", name="has_owner"),
        sa.CheckConstraint("size > 0", name="not_empty"),
    )
    __audit_redact__ = ("data",)  # the trail records that a photo was stored, not its bytes

    id: Mapped[intpk]
    inspection_id: Mapped[int | None] = _fk(Inspection.id, ondelete="CASCADE")
    ncr_id: Mapped[int | None] = _fk(Nonconformance.id, ondelete="CASCADE")
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(32))  # from the bytes, never from the client
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    uploaded_by: Mapped[str] = mapped_column(sa.String(120))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProductCost(TenantScoped, Base):
    """What one scrapped piece of a product costs (material and work so far), for the scrap-cost KPI."""

    __tablename__ = "quality_product_costs"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "product_id"),
        sa.CheckConstraint("unit_cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[intpk]
    product_id: Mapped[int] = _fk(Product.id, nullable=False)
    unit_cost: Mapped[float] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")

    product: Mapped[Product] = relationship()


# A few scrapped pieces in a report are routine (an operator's "120 good, 3 scrap (burr)"), recorded with their
# reason and counted by the KPIs; an NCR for each would bury the ones that matter. Ten at once is worth one.
SCRAP_NCR_MINIMUM = 10
PHOTO_MAX_KB = 1536


class QualitySettings(TenantScoped, Base):
    """A factory's quality settings (one row, created on first use)."""

    __tablename__ = "quality_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[intpk]
    ncr_from_scrap: Mapped[bool] = mapped_column(default=True)  # raise an NCR for reported scrap
    scrap_ncr_minimum: Mapped[int] = mapped_column(default=SCRAP_NCR_MINIMUM)  # ... when a report scraps this many
    photo_max_kb: Mapped[int] = mapped_column(default=PHOTO_MAX_KB)
    version: Mapped[int] = mapped_column(default=1)
