"""Orders data: routings (versioned), work orders, their operations as released, and what the shop floor reported.

Quantities are whole units of the product's unit (pieces, sets): what discrete shops count. An operation's
``good_qty`` / ``scrap_qty`` / ``rework_qty`` are the totals of its *accepted* reports, kept in step with them
under a row lock, so the quantity rules are checked against exact totals without summing every report.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, TenantScoped, UTCDateTime, created_at, enum_type, intpk, str_name
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product, ReasonCode, WorkCenter


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class OperationStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"


class RoutingStatus(enum.StrEnum):
    DRAFT = "draft"  # being edited; not used for releases
    ACTIVE = "active"  # the version new releases use (one per product)
    ARCHIVED = "archived"  # replaced by a newer version; kept for the orders that used it


class ReportStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    PENDING_APPROVAL = "pending_approval"  # beyond the over-delivery tolerance: counts once a supervisor approves
    REJECTED = "rejected"


class EventKind(enum.StrEnum):
    START = "start"
    JOIN = "join"  # another operator joins a running operation
    LEAVE = "leave"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"


def _enum_named(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """``enum_type`` under its own name: a second column of the same enum needs its own CHECK constraint name."""
    column_type = enum_type(enum_cls)
    column_type.name = name
    return column_type


class OrdersSettings(TenantScoped, Base):
    """The factory's rules for the orders app (one row per factory, created on first use)."""

    __tablename__ = "orders_settings"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id"),
        sa.CheckConstraint("over_tolerance_pct >= 0 AND over_tolerance_pct <= 100", name="tolerance_range"),
    )

    id: Mapped[intpk]
    #: good + scrap may exceed the planned quantity by this many percent without a supervisor's approval
    over_tolerance_pct: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")


# --- routings -----------------------------------------------------------------------------------------------------


class Routing(TenantScoped, Base):
    """One version of a product's routing: the ordered operations that make it (工艺路线)."""

    __tablename__ = "orders_routings"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "product_id", "version"),)

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(sa.ForeignKey(Product.id, ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[RoutingStatus] = mapped_column(enum_type(RoutingStatus), default=RoutingStatus.DRAFT)
    notes: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[created_at]
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship()
    steps: Mapped[list[RoutingStep]] = relationship(
        back_populates="routing", cascade="save-update, merge, delete, delete-orphan", order_by="RoutingStep.sequence"
    )


class RoutingStep(TenantScoped, Base):
    """An operation of a routing: where it is done, how long it takes, and whether the next may overlap it."""

    __tablename__ = "orders_routing_steps"
    __table_args__ = (
        sa.UniqueConstraint("routing_id", "sequence"),
        sa.CheckConstraint("setup_minutes >= 0", name="setup_not_negative"),
        sa.CheckConstraint("seconds_per_unit >= 0", name="run_time_not_negative"),
    )

    id: Mapped[intpk]
    routing_id: Mapped[int] = mapped_column(sa.ForeignKey(Routing.id, ondelete="CASCADE"), index=True)
    sequence: Mapped[int]  # 10, 20, 30 ... as routings are numbered on the shop floor
    name: Mapped[str_name]
    work_center_id: Mapped[int] = mapped_column(sa.ForeignKey(WorkCenter.id, ondelete="RESTRICT"), index=True)
    setup_minutes: Mapped[float] = mapped_column(sa.Float, default=0.0)
    seconds_per_unit: Mapped[float] = mapped_column(sa.Float, default=0.0)
    #: the next operation may start on partial quantities delivered by this one
    allow_partial: Mapped[bool] = mapped_column(default=False)

    routing: Mapped[Routing] = relationship(back_populates="steps")
    work_center: Mapped[WorkCenter] = relationship()
    machines: Mapped[list[RoutingStepMachine]] = relationship(
        back_populates="step", cascade="save-update, merge, delete, delete-orphan", order_by="RoutingStepMachine.id"
    )


class RoutingStepMachine(TenantScoped, Base):
    """A machine eligible for a routing step, optionally with its own run time per unit."""

    __tablename__ = "orders_routing_step_machines"
    __table_args__ = (sa.UniqueConstraint("step_id", "machine_id"),)

    id: Mapped[intpk]
    step_id: Mapped[int] = mapped_column(sa.ForeignKey(RoutingStep.id, ondelete="CASCADE"), index=True)
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    seconds_per_unit: Mapped[float | None] = mapped_column(sa.Float)

    step: Mapped[RoutingStep] = relationship(back_populates="machines")
    machine: Mapped[Machine] = relationship()


# --- work orders and their operations -------------------------------------------------------------------------------


class WorkOrder(TenantScoped, Base):
    """A production order (生产工单): make ``quantity`` of a product by the due date."""

    __tablename__ = "orders_work_orders"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("priority >= 1 AND priority <= 9", name="priority_range"),
        sa.Index("ix_orders_work_orders_status", "tenant_id", "status"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey(Product.id, ondelete="RESTRICT"), index=True)
    #: the routing version the order was (or will be) released with; None: the product's active one at release
    routing_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Routing.id, ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    priority: Mapped[int] = mapped_column(default=5)  # 1 most urgent ... 9 least
    customer: Mapped[str | None] = mapped_column(sa.String(200))
    sales_order: Mapped[str | None] = mapped_column(sa.String(64))
    notes: Mapped[str | None] = mapped_column(sa.String(1000))
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus), default=OrderStatus.DRAFT)
    held_from: Mapped[OrderStatus | None] = mapped_column(_enum_named(OrderStatus, "held_from"))  # where a hold returns
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_at]
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: when the published schedule has the order's last operation end; None while no plan covers the order
    planned_completion: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship()
    routing: Mapped[Routing | None] = relationship()
    operations: Mapped[list[Operation]] = relationship(
        back_populates="order", cascade="save-update, merge, delete, delete-orphan", order_by="Operation.sequence"
    )

    @property
    def good_qty(self) -> int:
        """Good quantity of the finished product: what the last operation delivered."""
        return self.operations[-1].good_qty if self.operations else 0


class Operation(TenantScoped, Base):
    """An operation of a released work order: a snapshot of its routing step plus what happened on the floor.

    Timers come from server timestamps only: ``accumulated_running_s`` / ``accumulated_paused_s`` hold the closed
    intervals, and the open one runs from ``status_since`` (see :func:`apps.orders.timers.elapsed`).
    """

    __tablename__ = "orders_operations"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "sequence"),
        sa.CheckConstraint("good_qty >= 0 AND scrap_qty >= 0 AND rework_qty >= 0", name="quantities_not_negative"),
        sa.Index("ix_orders_operations_open", "tenant_id", "status"),
    )

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(sa.ForeignKey(WorkOrder.id, ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    name: Mapped[str_name]
    work_center_id: Mapped[int] = mapped_column(sa.ForeignKey(WorkCenter.id, ondelete="RESTRICT"), index=True)
    setup_minutes: Mapped[float] = mapped_column(sa.Float, default=0.0)
    seconds_per_unit: Mapped[float] = mapped_column(sa.Float, default=0.0)
    allow_partial: Mapped[bool] = mapped_column(default=False)
    quantity: Mapped[int]  # planned

    status: Mapped[OperationStatus] = mapped_column(enum_type(OperationStatus), default=OperationStatus.PENDING)
    status_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    pause_reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ReasonCode.id, ondelete="RESTRICT"))
    first_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accumulated_running_s: Mapped[float] = mapped_column(sa.Float, default=0.0)
    accumulated_paused_s: Mapped[float] = mapped_column(sa.Float, default=0.0)

    good_qty: Mapped[int] = mapped_column(default=0)
    scrap_qty: Mapped[int] = mapped_column(default=0)
    rework_qty: Mapped[int] = mapped_column(default=0)

    # Written by the scheduling app through apps.orders.planning; the dispatch lists follow them when set.
    planned_machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="SET NULL"), index=True)
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    planned_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    planned_sequence: Mapped[int | None]
    plan_ref: Mapped[str | None] = mapped_column(sa.String(64))  # which published schedule wrote the plan

    version: Mapped[int] = mapped_column(default=1)

    order: Mapped[WorkOrder] = relationship(back_populates="operations")
    work_center: Mapped[WorkCenter] = relationship()
    machine: Mapped[Machine | None] = relationship(foreign_keys=[machine_id])
    planned_machine: Mapped[Machine | None] = relationship(foreign_keys=[planned_machine_id])
    pause_reason: Mapped[ReasonCode | None] = relationship()
    machines: Mapped[list[OperationMachine]] = relationship(
        back_populates="operation", cascade="save-update, merge, delete, delete-orphan", order_by="OperationMachine.id"
    )
    crew: Mapped[list[CrewMember]] = relationship(  # the operators on it now
        primaryjoin="and_(CrewMember.operation_id == Operation.id, CrewMember.left_at.is_(None))",
        order_by="CrewMember.joined_at",
        viewonly=True,
    )

    @property
    def label(self) -> str:
        return f"{self.sequence} {self.name}"


class OperationMachine(TenantScoped, Base):
    """A machine eligible for a released operation (snapshot of the routing step's list)."""

    __tablename__ = "orders_operation_machines"
    __table_args__ = (sa.UniqueConstraint("operation_id", "machine_id"),)

    id: Mapped[intpk]
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey(Operation.id, ondelete="CASCADE"), index=True)
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    seconds_per_unit: Mapped[float | None] = mapped_column(sa.Float)

    operation: Mapped[Operation] = relationship(back_populates="machines")
    machine: Mapped[Machine] = relationship()


class CrewMember(TenantScoped, Base):
    """An operator working on an operation, from joining until leaving (or the operation's completion)."""

    __tablename__ = "orders_operation_crew"
    __table_args__ = (sa.Index("ix_orders_operation_crew_open", "tenant_id", "employee_id", "left_at"),)
    __audit__ = False  # the operation's events record every join and leave

    id: Mapped[intpk]
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey(Operation.id, ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey(Employee.id, ondelete="RESTRICT"), index=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    operation: Mapped[Operation] = relationship()
    employee: Mapped[Employee] = relationship()


class OperationEvent(TenantScoped, Base):
    """What happened to an operation and when (server time): the timeline its timers are computed from."""

    __tablename__ = "orders_operation_events"
    __audit__ = False  # an append-only log in itself

    id: Mapped[intpk]
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey(Operation.id, ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Employee.id, ondelete="RESTRICT"))
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ReasonCode.id, ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(sa.String(120))

    employee: Mapped[Employee | None] = relationship()
    reason: Mapped[ReasonCode | None] = relationship()


class WorkReport(TenantScoped, Base):
    """One tablet submission of quantities on an operation (报工)."""

    __tablename__ = "orders_work_reports"
    __table_args__ = (
        sa.CheckConstraint("good >= 0 AND scrap >= 0 AND rework >= 0", name="quantities_not_negative"),
        sa.Index("ix_orders_work_reports_at", "tenant_id", "reported_at"),
        sa.Index("ix_orders_work_reports_status", "tenant_id", "status"),
    )

    id: Mapped[intpk]
    operation_id: Mapped[int] = mapped_column(sa.ForeignKey(Operation.id, ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey(WorkOrder.id, ondelete="CASCADE"), index=True)
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Employee.id, ondelete="RESTRICT"), index=True)
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    good: Mapped[int] = mapped_column(default=0)
    scrap: Mapped[int] = mapped_column(default=0)
    rework: Mapped[int] = mapped_column(default=0)
    scrap_reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ReasonCode.id, ondelete="RESTRICT"))
    rework_reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ReasonCode.id, ondelete="RESTRICT"))
    output_lot: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    consumed_lots: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.ACCEPTED)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # server time of arrival
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # device time (offline reports)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.String(120))
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))

    operation: Mapped[Operation] = relationship()
    order: Mapped[WorkOrder] = relationship()
    employee: Mapped[Employee | None] = relationship()
    machine: Mapped[Machine | None] = relationship()
    scrap_reason: Mapped[ReasonCode | None] = relationship(foreign_keys=[scrap_reason_id])
    rework_reason: Mapped[ReasonCode | None] = relationship(foreign_keys=[rework_reason_id])


class HeldLot(TenantScoped, Base):
    """A lot quality put on hold (one row per lot and nonconformance); reporting on it is refused until released.

    Fed by the ``quality.lot_held`` / ``quality.lot_released`` events. Both times are the events' own, so the
    state comes out right whatever order the events arrive in.
    """

    __tablename__ = "orders_held_lots"
    __table_args__ = (sa.Index("ix_orders_held_lots_lot", "tenant_id", "lot"),)

    id: Mapped[intpk]
    lot: Mapped[str] = mapped_column(sa.String(64))
    ncr_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_held(self) -> bool:
        return self.held_at is not None and (self.released_at is None or self.released_at < self.held_at)
