"""Scheduling data: runs (each finished run is a schedule version), their planned slots, the factory's planning
settings, changeover times between product families, and the actual running times reported on the shop floor.

Operations and orders belong to the orders app: slots keep their ids and a copy of what a planner reads on a Gantt
bar (order number, product, quantity, due date), never a foreign key into another app's tables.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, TenantScoped, UTCDateTime, created_at, enum_type, intpk
from platform_core.masterdata.models import Machine, ProductFamily


class RunStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker or being solved (the job row tells which)
    DRAFT = "draft"  # solved: a schedule version the planner may publish
    PROPOSED = "proposed"  # a repair proposal waiting for the planner's decision
    PUBLISHED = "published"  # the plan the shop floor follows (at most one per factory)
    SUPERSEDED = "superseded"  # was the plan until a later version was published
    DISCARDED = "discarded"
    INFEASIBLE = "infeasible"  # no schedule exists for the data; the explanation says why
    FAILED = "failed"
    CANCELLED = "cancelled"


SOLVED = (RunStatus.DRAFT, RunStatus.PROPOSED, RunStatus.PUBLISHED, RunStatus.SUPERSEDED, RunStatus.DISCARDED)
PUBLISHABLE = (RunStatus.DRAFT, RunStatus.PROPOSED)


class RunKind(enum.StrEnum):
    PLAN = "plan"  # a planner's run
    REOPTIMISE = "reoptimise"  # the rest re-optimised around a version's locks and manual moves
    REPAIR = "repair"  # proposed automatically after a disruption


class Preset(enum.StrEnum):
    ON_TIME = "on_time"
    MAKESPAN = "makespan"
    SETUPS = "setups"
    BALANCED = "balanced"


class Cause(enum.StrEnum):
    MACHINE_DOWN = "machine_down"
    MACHINE_UP = "machine_up"
    MAINTENANCE = "maintenance"
    RUSH_ORDER = "rush_order"
    SLIPPAGE = "slippage"


class Run(TenantScoped, Base):
    """A scheduling run and, once solved, the schedule version it produced (版本)."""

    __tablename__ = "scheduling_runs"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        # the backstop of publishing: whatever happens, a factory never has two published versions
        sa.Index(
            "uq_scheduling_runs_published",
            "tenant_id",
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        ),
        sa.CheckConstraint("time_limit_s >= 1 AND time_limit_s <= 3600", name="time_limit_range"),
    )

    id: Mapped[intpk]
    number: Mapped[int]  # the version number the planner reads: V1, V2, ...
    kind: Mapped[RunKind] = mapped_column(enum_type(RunKind), default=RunKind.PLAN)
    status: Mapped[RunStatus] = mapped_column(enum_type(RunStatus), default=RunStatus.QUEUED, index=True)
    preset: Mapped[Preset] = mapped_column(enum_type(Preset), default=Preset.ON_TIME)
    time_limit_s: Mapped[int] = mapped_column(default=30)
    horizon_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    order_ids: Mapped[list[int] | None] = mapped_column(sa.JSON)  # None: every released order
    note: Mapped[str | None] = mapped_column(sa.String(500))
    cause: Mapped[str | None] = mapped_column(sa.String(32))  # what triggered a repair (see Cause)
    cause_detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    base_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scheduling_runs.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_jobs.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(sa.String(200))
    # the engine's answer
    solver_status: Mapped[str | None] = mapped_column(sa.String(16))
    objective: Mapped[float | None] = mapped_column(sa.Float)
    bound: Mapped[float | None] = mapped_column(sa.Float)
    gap: Mapped[float | None] = mapped_column(sa.Float)
    wall_seconds: Mapped[float | None] = mapped_column(sa.Float)
    improvements: Mapped[int | None]
    progress_log: Mapped[list[Any] | None] = mapped_column(sa.JSON)  # [elapsed s, objective, bound] per improvement
    kpis: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    problems: Mapped[list[Any] | None] = mapped_column(sa.JSON)  # data problems found before solving
    explanation: Mapped[list[Any] | None] = mapped_column(sa.JSON)  # why no schedule exists
    error: Mapped[str | None] = mapped_column(sa.Text)
    # minute 0 of the engine's time axis and the instance it solved: the Gantt's calendars and move checks
    origin: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    instance: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    base: Mapped[Run | None] = relationship(remote_side="Run.id")
    slots: Mapped[list[Slot]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Slot.start", passive_deletes=True
    )

    @property
    def label(self) -> str:
        return f"V{self.number}"


class Slot(TenantScoped, Base):
    """One operation placed by a schedule version: machine, start and end, with what its Gantt bar shows."""

    __tablename__ = "scheduling_slots"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "operation_id"),
        sa.Index("ix_scheduling_slots_run_machine", "run_id", "machine_id", "start"),
    )
    __audit__ = False  # written in bulk by the solver; the run's own row is the record

    id: Mapped[intpk]
    run_id: Mapped[int] = mapped_column(sa.ForeignKey(Run.id, ondelete="CASCADE"))
    operation_id: Mapped[int]  # the orders app's operation
    order_id: Mapped[int]
    order_number: Mapped[str] = mapped_column(sa.String(64))
    product_code: Mapped[str] = mapped_column(sa.String(64))
    family: Mapped[str | None] = mapped_column(sa.String(32))
    op_sequence: Mapped[int]
    op_name: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[int]  # still to make when the run was built
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    priority: Mapped[int] = mapped_column(default=5)
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    setup_minutes: Mapped[int] = mapped_column(default=0)  # changeover done on the machine right before start
    sequence: Mapped[int] = mapped_column(default=0)  # position on its machine
    frozen: Mapped[bool] = mapped_column(default=False)  # already running, or inside the frozen horizon
    locked: Mapped[bool] = mapped_column(default=False)  # pinned by the planner to this machine and start
    late: Mapped[bool] = mapped_column(default=False)  # its order completes after the due date

    run: Mapped[Run] = relationship(back_populates="slots")
    machine: Mapped[Machine] = relationship()


class SchedulingSettings(TenantScoped, Base):
    """The factory's planning rules (one row per factory, created on first change)."""

    __tablename__ = "scheduling_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[intpk]
    preset: Mapped[Preset] = mapped_column(enum_type(Preset), default=Preset.ON_TIME)
    time_limit_s: Mapped[int] = mapped_column(default=30)
    repair_time_limit_s: Mapped[int] = mapped_column(default=15)
    horizon_days: Mapped[int] = mapped_column(default=21)  # calendars are read this far ahead
    frozen_minutes: Mapped[int] = mapped_column(default=30)  # published work starting this soon stays put
    allow_pause: Mapped[bool] = mapped_column(default=True)  # operations may pause over nights and weekends
    changeover_minutes: Mapped[int] = mapped_column(default=0)  # between two product families unless listed
    transfer_batch: Mapped[int] = mapped_column(default=20)  # pieces passed on at once where routings allow
    unknown_down_minutes: Mapped[int] = mapped_column(default=240)  # a breakdown with no expected end lasts this
    auto_repair: Mapped[bool] = mapped_column(default=True)  # propose a repair when reality changes
    auto_publish_repairs: Mapped[bool] = mapped_column(default=False)
    slippage_minutes: Mapped[int] = mapped_column(default=60)  # the plan slipped when work is this late
    rush_priority: Mapped[int] = mapped_column(default=1)  # releasing an order this urgent proposes a repair
    version: Mapped[int] = mapped_column(default=1)


class SetupTime(TenantScoped, Base):
    """Changeover minutes on a machine from one product family to another (换型时间)."""

    __tablename__ = "scheduling_setup_times"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "from_family_id", "to_family_id"),
        sa.CheckConstraint("minutes >= 0 AND minutes <= 10080", name="minutes_range"),
    )

    id: Mapped[intpk]
    from_family_id: Mapped[int] = mapped_column(sa.ForeignKey(ProductFamily.id, ondelete="CASCADE"), index=True)
    to_family_id: Mapped[int] = mapped_column(sa.ForeignKey(ProductFamily.id, ondelete="CASCADE"), index=True)
    minutes: Mapped[int]

    from_family: Mapped[ProductFamily] = relationship(foreign_keys=[from_family_id])
    to_family: Mapped[ProductFamily] = relationship(foreign_keys=[to_family_id])


class Actual(TenantScoped, Base):
    """One stretch of time an operation really ran on a machine, from the shop floor's start, pause and
    completion events (the Gantt's actuals overlay)."""

    __tablename__ = "scheduling_actuals"
    __table_args__ = (sa.Index("ix_scheduling_actuals_window", "tenant_id", "started_at"),)
    __audit__ = False  # a copy of the orders app's events

    id: Mapped[intpk]
    operation_id: Mapped[int] = mapped_column(index=True)
    order_id: Mapped[int]
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="SET NULL"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # None while it runs
    completed: Mapped[bool] = mapped_column(default=False)
