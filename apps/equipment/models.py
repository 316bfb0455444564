"""The equipment app's tables: machine states, telemetry, alarms, maintenance and OEE figures.

Machines themselves are master data (``platform_machines``); everything here refers to them by id. High-volume
tables (state intervals, telemetry, rollups, live status) opt out of the audit trail: their rows are machine
signals, not human edits, and the few human edits they receive (a downtime classified) carry who and when in
their own columns.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, TenantScoped, UTCDateTime, created_at, enum_type, intpk, str_name
from platform_core.masterdata.models import Machine, ReasonCode

_OPEN = sa.text("ended_at IS NULL")


def _named_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """``enum_type`` with its own CHECK constraint name, for tables holding several columns of one enum."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


_NOT_CLEARED = sa.text("cleared_at IS NULL")


class State(enum.StrEnum):
    RUNNING = "running"
    IDLE = "idle"
    SETUP = "setup"
    DOWN = "down"
    MAINTENANCE = "maintenance"  # planned maintenance
    OFFLINE = "offline"  # a monitored machine sends no data


class StateSource(enum.StrEnum):
    OPERATOR = "operator"
    ORDERS = "orders"
    TELEMETRY = "telemetry"
    MAINTENANCE = "maintenance"


class StateInterval(TenantScoped, Base):
    """One stretch of a machine's timeline; a machine's intervals never overlap and leave no gaps.

    The open interval (``ended_at`` NULL) is the current state; at most one per machine (partial unique index).
    """

    __tablename__ = "equipment_state_intervals"
    __table_args__ = (
        sa.Index("ix_equipment_state_intervals_machine_start", "machine_id", "started_at"),
        sa.Index(
            "uq_equipment_state_intervals_open",
            "machine_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        sa.CheckConstraint("ended_at IS NULL OR ended_at > started_at", name="positive_length"),
    )
    __audit__ = False

    id: Mapped[intpk]
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    state: Mapped[State] = mapped_column(enum_type(State))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[StateSource] = mapped_column(enum_type(StateSource))
    reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey(ReasonCode.id, ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    expected_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reported_by: Mapped[str | None] = mapped_column(sa.String(120))
    classified_by: Mapped[str | None] = mapped_column(sa.String(120))
    classified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    machine: Mapped[Machine] = relationship()
    reason: Mapped[ReasonCode | None] = relationship()


class MachineStatus(TenantScoped, Base):
    """The live inputs a machine's state is derived from, and the current state; one row per machine.

    Every change to a machine's timeline locks this row first, so concurrent sources queue per machine.
    """

    __tablename__ = "equipment_machine_status"
    __table_args__ = (sa.UniqueConstraint("machine_id"),)
    __audit__ = False

    id: Mapped[intpk]
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    state: Mapped[State] = mapped_column(_named_enum(State, "state"))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    open_interval_id: Mapped[int | None]
    # manual: an operator's "down" or a started planned maintenance; wins over every automatic input
    manual: Mapped[State | None] = mapped_column(_named_enum(State, "manual"))
    # orders: operations running on the machine, and those of them in set-up
    active_operations: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    setup_operations: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    order_id: Mapped[int | None]
    operation_id: Mapped[int | None]
    # telemetry: the run signal's verdict (running/idle, None when offline), the newest run point considered,
    # since when the run signal has been off (idle after a debounce), and the newest point of any metric
    telemetry_state: Mapped[State | None] = mapped_column(_named_enum(State, "telemetry_state"))
    telemetry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    idle_candidate_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_data_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    machine: Mapped[Machine] = relationship()


class MetricKind(enum.StrEnum):
    GAUGE = "gauge"  # a measured value: speed, temperature, vibration
    COUNTER = "counter"  # an ever-increasing count (parts), reset now and then


class Metric(TenantScoped, Base):
    """A kind of signal gateways send, e.g. ``spindle_speed`` in rpm (per factory)."""

    __tablename__ = "equipment_metrics"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str_name]
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    kind: Mapped[MetricKind] = mapped_column(enum_type(MetricKind), default=MetricKind.GAUGE)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    @property
    def label_text(self) -> str:
        """Name and unit in the current language, for messages."""
        from flask_babel import get_locale

        name = self.label(str(get_locale() or "zh_CN"))
        return f"{name} ({self.unit})" if self.unit else name


class MachineConfig(TenantScoped, Base):
    """How a machine's signals are read: which metric says it runs, which counts parts, when it is offline.

    A machine without a run metric is not monitored: its state comes from operators and the orders app alone.
    """

    __tablename__ = "equipment_machine_configs"
    __table_args__ = (sa.UniqueConstraint("machine_id"),)

    id: Mapped[intpk]
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    run_metric_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Metric.id, ondelete="RESTRICT"))
    run_above: Mapped[float] = mapped_column(default=0.0)  # run metric above this value: running
    count_metric_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Metric.id, ondelete="RESTRICT"))
    offline_after_s: Mapped[int | None]  # None: the EQUIPMENT_OFFLINE_AFTER_SECONDS default

    machine: Mapped[Machine] = relationship()
    run_metric: Mapped[Metric | None] = relationship(foreign_keys=[run_metric_id])
    count_metric: Mapped[Metric | None] = relationship(foreign_keys=[count_metric_id])


class TelemetryPoint(TenantScoped, Base):
    """A raw point; the primary key deduplicates repeated deliveries of the same point."""

    __tablename__ = "equipment_telemetry"
    __audit__ = False

    # No foreign keys on machine and metric: every point is checked against the factory's machines and metrics
    # on the way in, and a per-row foreign-key check would cost a third of the ingest rate. No index on the tenant
    # either (a fifth of the insert cost): every query names the machine, the primary key's first column.
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_tenants.id", ondelete="RESTRICT"), nullable=False)
    machine_id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float)


class _Rollup:
    """Aggregates of one metric of one machine over one bucket (min/max/avg/count/first/last)."""

    __audit__ = False

    machine_id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int]
    sum: Mapped[float] = mapped_column(sa.Float)
    min: Mapped[float] = mapped_column(sa.Float)
    max: Mapped[float] = mapped_column(sa.Float)
    first: Mapped[float] = mapped_column(sa.Float)
    first_ts: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last: Mapped[float] = mapped_column(sa.Float)
    last_ts: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    @property
    def avg(self) -> float:
        return self.sum / self.count


class RollupMinute(_Rollup, TenantScoped, Base):
    __tablename__ = "equipment_rollups_1m"


class RollupHour(_Rollup, TenantScoped, Base):
    __tablename__ = "equipment_rollups_1h"


class Gateway(TenantScoped, Base):
    """A gateway box: one machine API token for HTTP, and a key derived from it that signs its MQTT messages."""

    __tablename__ = "equipment_gateways"
    __table_args__ = (sa.UniqueConstraint("token_id"), sa.UniqueConstraint("prefix"))
    __audit_redact__ = ("signing_key",)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(100))
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_api_tokens.id", ondelete="RESTRICT"))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the token's public prefix, named in every MQTT message
    signing_key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[created_at]
    # Counters, updated in bulk by the ingest (not through the ORM, so they stay out of the audit trail)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    points_accepted: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_duplicate: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    points_rejected: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TenantSettings(TenantScoped, Base):
    """A factory's own choices for the app (one row, created on first change)."""

    __tablename__ = "equipment_tenant_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[intpk]
    raw_retention_days: Mapped[int]


# --- alarms ----------------------------------------------------------------------------------------------------


class RuleKind(enum.StrEnum):
    HIGH = "high"  # value above threshold (clears below threshold - hysteresis)
    LOW = "low"  # value below threshold (clears above threshold + hysteresis)
    RATE = "rate"  # change per minute above threshold (in absolute value)
    STALE = "stale"  # no point of the metric for threshold seconds
    STATE = "state"  # machine in a state for longer than threshold minutes
    TREND = "trend"  # predicted to cross threshold within lead_time_h (predictive)
    ANOMALY = "anomaly"  # behaviour outside the metric's own control limits


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlarmRule(TenantScoped, Base):
    """A condition watched on one machine, or on every machine of one model."""

    __tablename__ = "equipment_alarm_rules"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "code"),
        sa.CheckConstraint("(machine_id IS NULL) <> (machine_model IS NULL)", name="one_scope"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str_name]
    kind: Mapped[RuleKind] = mapped_column(enum_type(RuleKind))
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    machine_model: Mapped[str | None] = mapped_column(sa.String(100))
    metric_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Metric.id, ondelete="RESTRICT"))
    state: Mapped[State | None] = mapped_column(enum_type(State))
    threshold: Mapped[float] = mapped_column(sa.Float)
    hysteresis: Mapped[float] = mapped_column(sa.Float, default=0.0)
    min_duration_s: Mapped[int] = mapped_column(default=0)
    lead_time_h: Mapped[float | None] = mapped_column(sa.Float)  # trend rules: warn this long before
    severity: Mapped[Severity] = mapped_column(enum_type(Severity), default=Severity.WARNING)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    machine: Mapped[Machine | None] = relationship()
    metric: Mapped[Metric | None] = relationship()


class AlarmTrack(TenantScoped, Base):
    """Evaluation memory of one rule on one machine (when the condition began, the last value seen...).

    Locked while a rule is evaluated, so two ingests of the same machine evaluate a rule one after the other.
    """

    __tablename__ = "equipment_alarm_tracks"
    __table_args__ = (sa.UniqueConstraint("rule_id", "machine_id"),)
    __audit__ = False

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey(AlarmRule.id, ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    condition_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_ts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_value: Mapped[float | None] = mapped_column(sa.Float)
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # the latest prediction or control limits


class AlarmStatus(enum.StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class Alarm(TenantScoped, Base):
    """An alarm raised by a rule on a machine: active → acknowledged → cleared, with who and when.

    At most one not-cleared alarm per rule and machine (partial unique index), whatever the concurrency.
    """

    __tablename__ = "equipment_alarms"
    __table_args__ = (
        sa.Index("ix_equipment_alarms_machine_status", "machine_id", "status"),
        sa.Index(
            "uq_equipment_alarms_open",
            "rule_id",
            "machine_id",
            unique=True,
            sqlite_where=_NOT_CLEARED,
            postgresql_where=_NOT_CLEARED,
        ),
    )

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey(AlarmRule.id, ondelete="RESTRICT"))
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    status: Mapped[AlarmStatus] = mapped_column(enum_type(AlarmStatus), default=AlarmStatus.ACTIVE)
    severity: Mapped[Severity] = mapped_column(enum_type(Severity))
    message: Mapped[str] = mapped_column(sa.String(300))
    value: Mapped[float | None] = mapped_column(sa.Float)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(120))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cleared_by: Mapped[str | None] = mapped_column(sa.String(120))

    rule: Mapped[AlarmRule] = relationship()
    machine: Mapped[Machine] = relationship()


# --- production counts (from the orders app's work reports) -----------------------------------------------------


class ProductionCount(TenantScoped, Base):
    """Quantities reported on a machine at a moment (one orders work report); the event id makes it once only."""

    __tablename__ = "equipment_counts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "event_id"),
        sa.Index("ix_equipment_counts_machine_at", "machine_id", "at"),
    )
    __audit__ = False

    id: Mapped[intpk]
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    good: Mapped[float] = mapped_column(sa.Float, default=0.0)
    scrap: Mapped[float] = mapped_column(sa.Float, default=0.0)
    rework: Mapped[float] = mapped_column(sa.Float, default=0.0)
    order_id: Mapped[int | None]
    operation_id: Mapped[int | None]
    event_id: Mapped[str] = mapped_column(sa.String(36))


class OrderRef(TenantScoped, Base):
    """The number and product of an orders-app work order, kept from its release event for display."""

    __tablename__ = "equipment_order_refs"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "order_id"),)
    __audit__ = False

    id: Mapped[intpk]
    order_id: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(64))
    product_code: Mapped[str | None] = mapped_column(sa.String(64))


# --- maintenance ----------------------------------------------------------------------------------------------


class PlanTrigger(enum.StrEnum):
    CALENDAR = "calendar"  # every ``interval`` days
    RUNNING_HOURS = "running_hours"  # every ``interval`` hours in the running state
    COUNT = "count"  # every ``interval`` parts produced


class MaintenancePlan(TenantScoped, Base):
    """Preventive maintenance for one machine or every machine of one model.

    ``lead`` (in the trigger's unit) is how early the work order is created; ``tolerance`` how late it may be
    done before it is overdue.
    """

    __tablename__ = "equipment_maintenance_plans"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "code"),
        sa.CheckConstraint("(machine_id IS NULL) <> (machine_model IS NULL)", name="one_scope"),
        sa.CheckConstraint("interval > 0 AND lead >= 0 AND tolerance >= 0", name="amounts"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str_name]
    machine_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"), index=True)
    machine_model: Mapped[str | None] = mapped_column(sa.String(100))
    trigger: Mapped[PlanTrigger] = mapped_column(enum_type(PlanTrigger))
    interval: Mapped[float] = mapped_column(sa.Float)
    lead: Mapped[float] = mapped_column(sa.Float, default=0.0)
    tolerance: Mapped[float] = mapped_column(sa.Float, default=0.0)
    duration_min: Mapped[int] = mapped_column(default=60)  # length of the maintenance window
    checklist: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    blocks_machine: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    machine: Mapped[Machine | None] = relationship()


class PlanProgress(TenantScoped, Base):
    """Where a plan stands on one machine: the baseline it counts from and how many orders it has made."""

    __tablename__ = "equipment_plan_progress"
    __table_args__ = (sa.UniqueConstraint("plan_id", "machine_id"),)
    __audit__ = False

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey(MaintenancePlan.id, ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    baseline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cycles: Mapped[int] = mapped_column(default=0)


class MaintenanceKind(enum.StrEnum):
    PREVENTIVE = "preventive"
    PREDICTIVE = "predictive"
    CORRECTIVE = "corrective"


class MaintenanceStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MaintenanceOrder(TenantScoped, Base):
    """A maintenance work order: checklist, findings, parts used and time spent, for one machine.

    ``(plan_id, machine_id, cycle)`` is unique, so a plan's due date creates one order however often the
    scan runs; an alarm suggests at most one predictive order, and a machine has at most one open predictive order
    per metric (see :func:`apps.equipment.maintenance.suggest_predictive`).
    """

    __tablename__ = "equipment_maintenance_orders"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("plan_id", "machine_id", "cycle"),
        sa.UniqueConstraint("alarm_id"),
        sa.Index("ix_equipment_maintenance_orders_machine_status", "machine_id", "status"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(sa.String(32))
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey(MaintenancePlan.id, ondelete="RESTRICT"))
    cycle: Mapped[int | None]
    alarm_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Alarm.id, ondelete="RESTRICT"))
    kind: Mapped[MaintenanceKind] = mapped_column(enum_type(MaintenanceKind))
    status: Mapped[MaintenanceStatus] = mapped_column(enum_type(MaintenanceStatus), default=MaintenanceStatus.OPEN)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    planned_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    planned_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    blocks_machine: Mapped[bool] = mapped_column(default=True)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)  # [{item, done, ok, note}]
    findings: Mapped[str | None] = mapped_column(sa.Text)
    parts_used: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)  # [{part, quantity}]
    time_spent_min: Mapped[int | None]
    created_at: Mapped[created_at]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_by: Mapped[str | None] = mapped_column(sa.String(120))
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(sa.String(120))

    machine: Mapped[Machine] = relationship()
    plan: Mapped[MaintenancePlan | None] = relationship()


# --- OEE figures of finished shifts ----------------------------------------------------------------------------


class ShiftStats(TenantScoped, Base):
    """Seconds per state and quantities of one machine in one finished shift, for fast OEE pages.

    Derived data: recomputed by a periodic job while late reports may still change it.
    """

    __tablename__ = "equipment_shift_stats"
    __table_args__ = (
        sa.UniqueConstraint("machine_id", "start"),
        sa.Index("ix_equipment_shift_stats_tenant_start", "tenant_id", "start"),
    )
    __audit__ = False

    id: Mapped[intpk]
    machine_id: Mapped[int] = mapped_column(sa.ForeignKey(Machine.id, ondelete="RESTRICT"))
    shift_code: Mapped[str] = mapped_column(sa.String(16))
    shift_date: Mapped[dt.date] = mapped_column(sa.Date)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # see oee.Figures
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
