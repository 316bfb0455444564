"""What supervisors watch: the live board (work in progress, what runs and for how long, late and at-risk orders,
progress per order, reports waiting for approval) and the KPIs (on-time delivery, lead time, throughput, scrap).

Days are the factory's local days (its time zone), since that is how a shift counts its output.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from apps.orders import execution, timers
from apps.orders.models import Operation, OperationStatus, OrderStatus, ReportStatus, WorkOrder, WorkReport
from apps.orders.work_orders import OPEN_STATUSES
from platform_core.csvsafe import csv_bytes
from platform_core.db import current_tenant_id, utcnow
from platform_core.masterdata.models import WorkCenter
from platform_core.tenants.models import Tenant


def factory_zone(session: Session) -> ZoneInfo:
    tenant = session.get(Tenant, current_tenant_id(session))
    return ZoneInfo(tenant.timezone if tenant else "UTC")


def due_end(due_date: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The moment a due date is over: the following local midnight."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def remaining_minutes(order: WorkOrder) -> int:
    """Standard work time left on an order: set-ups not yet done plus the remaining pieces' run time."""
    total = 0.0
    for op in order.operations:
        if op.status is OperationStatus.COMPLETED:
            continue
        left = max(0, op.quantity - op.good_qty - op.scrap_qty)
        total += (op.setup_minutes if op.status is OperationStatus.PENDING else 0) + left * op.seconds_per_unit / 60
    return math.ceil(total)


# --- live board -----------------------------------------------------------------------------------------------------


@dataclass
class CenterLoad:
    work_center: WorkCenter
    running: int = 0
    paused: int = 0
    waiting: int = 0  # ready to start, not started
    pieces: int = 0  # pieces at the center: delivered to its started operations and not yet reported


@dataclass
class ActiveOperation:
    operation: Operation
    seconds_in_status: int
    running_s: int
    paused_s: int


@dataclass
class OrderProgress:
    order: WorkOrder
    good: int
    percent: int
    remaining_minutes: int
    due_end: dt.datetime | None
    late: bool
    at_risk: bool


@dataclass
class Board:
    now: dt.datetime
    centers: list[CenterLoad] = field(default_factory=list)
    active: list[ActiveOperation] = field(default_factory=list)
    orders: list[OrderProgress] = field(default_factory=list)
    approvals: list[WorkReport] = field(default_factory=list)

    @property
    def late(self) -> list[OrderProgress]:
        return [p for p in self.orders if p.late]

    @property
    def at_risk(self) -> list[OrderProgress]:
        return [p for p in self.orders if p.at_risk]


def order_progress(order: WorkOrder, now: dt.datetime, zone: ZoneInfo) -> OrderProgress:
    good = order.good_qty
    end = due_end(order.due_date, zone) if order.due_date else None
    left = remaining_minutes(order)
    open_order = order.status in OPEN_STATUSES
    late = bool(open_order and end is not None and now >= end)
    at_risk = bool(open_order and end is not None and not late and now + dt.timedelta(minutes=left) > end)
    return OrderProgress(
        order=order,
        good=good,
        percent=min(100, math.floor(100 * good / order.quantity)),
        remaining_minutes=left,
        due_end=end,
        late=late,
        at_risk=at_risk,
    )


def live_board(session: Session, *, now: dt.datetime | None = None) -> Board:
    now = now or utcnow()
    zone = factory_zone(session)
    board = Board(now=now)
    orders = session.scalars(
        sa.select(WorkOrder)
        .where(WorkOrder.status.in_(OPEN_STATUSES))
        .options(
            selectinload(WorkOrder.product),
            selectinload(WorkOrder.operations).selectinload(Operation.crew),
            selectinload(WorkOrder.operations).selectinload(Operation.machine),
            selectinload(WorkOrder.operations).selectinload(Operation.pause_reason),
        )
        .order_by(WorkOrder.due_date, WorkOrder.priority, WorkOrder.number)
    ).all()
    centers = {
        c.id: CenterLoad(c)
        for c in session.scalars(sa.select(WorkCenter).where(WorkCenter.active).order_by(WorkCenter.code))
    }
    for order in orders:
        board.orders.append(order_progress(order, now, zone))
        if order.status is OrderStatus.ON_HOLD:
            continue
        for op in order.operations:
            load = centers.get(op.work_center_id)
            if op.status in (OperationStatus.RUNNING, OperationStatus.PAUSED):
                elapsed = timers.elapsed(op, now)
                board.active.append(
                    ActiveOperation(
                        operation=op,
                        seconds_in_status=max(0, round((now - op.status_since).total_seconds()))
                        if op.status_since
                        else 0,
                        running_s=round(elapsed.running_s),
                        paused_s=round(elapsed.paused_s),
                    )
                )
                if load is not None:
                    load.running += op.status is OperationStatus.RUNNING
                    load.paused += op.status is OperationStatus.PAUSED
                    load.pieces += execution.available_quantity(op)
            elif op.status is OperationStatus.PENDING and execution.can_start(op) and load is not None:
                load.waiting += 1
    board.centers = list(centers.values())
    board.active.sort(key=lambda a: (a.operation.status is not OperationStatus.PAUSED, -a.seconds_in_status))
    board.approvals = list(
        session.scalars(
            sa.select(WorkReport)
            .where(WorkReport.status == ReportStatus.PENDING_APPROVAL)
            .options(
                selectinload(WorkReport.operation), selectinload(WorkReport.order), selectinload(WorkReport.employee)
            )
            .order_by(WorkReport.reported_at)
        )
    )
    return board


# --- KPIs -------------------------------------------------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    output: int = 0  # good pieces of finished products (last operations)
    good: int = 0  # good pieces over every operation
    scrap: int = 0
    orders_completed: int = 0
    on_time: int = 0  # of the completed orders with a due date, those completed by it
    with_due_date: int = 0
    lead_time_h: list[float] = field(default_factory=list)

    @property
    def scrap_rate(self) -> float | None:
        processed = self.good + self.scrap
        return self.scrap / processed if processed else None

    @property
    def mean_lead_time_h(self) -> float | None:
        return sum(self.lead_time_h) / len(self.lead_time_h) if self.lead_time_h else None


@dataclass
class Kpis:
    start: dt.date
    end: dt.date
    days: list[Day]

    @property
    def output(self) -> int:
        return sum(d.output for d in self.days)

    @property
    def throughput_per_day(self) -> float:
        return self.output / len(self.days) if self.days else 0.0

    @property
    def scrap_rate(self) -> float | None:
        good, scrap = sum(d.good for d in self.days), sum(d.scrap for d in self.days)
        return scrap / (good + scrap) if good + scrap else None

    @property
    def on_time_rate(self) -> float | None:
        due = sum(d.with_due_date for d in self.days)
        return sum(d.on_time for d in self.days) / due if due else None

    @property
    def orders_completed(self) -> int:
        return sum(d.orders_completed for d in self.days)

    @property
    def mean_lead_time_h(self) -> float | None:
        times = [t for d in self.days for t in d.lead_time_h]
        return sum(times) / len(times) if times else None


def kpis(session: Session, *, days: int = 30, now: dt.datetime | None = None) -> Kpis:
    """KPIs of the last ``days`` local days, today included."""
    now = now or utcnow()
    zone = factory_zone(session)
    end = now.astimezone(zone).date()
    start = end - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    by_date = {start + dt.timedelta(days=i): Day(start + dt.timedelta(days=i)) for i in range(days)}

    last = (
        sa.select(Operation.order_id, sa.func.max(Operation.sequence).label("sequence"))
        .group_by(Operation.order_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(WorkReport.reported_at, WorkReport.good, WorkReport.scrap, Operation.sequence == last.c.sequence)
        .join(Operation, Operation.id == WorkReport.operation_id)
        .join(last, last.c.order_id == Operation.order_id)
        .where(WorkReport.status == ReportStatus.ACCEPTED, WorkReport.reported_at >= since)
    )
    for reported_at, good, scrap, is_last in rows:
        day = by_date.get(reported_at.astimezone(zone).date())
        if day is None:
            continue
        day.good += good
        day.scrap += scrap
        if is_last:
            day.output += good
    completed = session.execute(
        sa.select(WorkOrder.completed_at, WorkOrder.released_at, WorkOrder.due_date).where(
            WorkOrder.completed_at.is_not(None), WorkOrder.completed_at >= since
        )
    )
    for completed_at, released_at, due_date in completed:
        local = completed_at.astimezone(zone).date()
        day = by_date.get(local)
        if day is None:
            continue
        day.orders_completed += 1
        if due_date is not None:
            day.with_due_date += 1
            day.on_time += local <= due_date
        if released_at is not None:
            day.lead_time_h.append((completed_at - released_at).total_seconds() / 3600)
    return Kpis(start=start, end=end, days=list(by_date.values()))


KPI_CSV_HEADER = [
    "date", "output", "good", "scrap", "scrap_rate", "orders_completed", "on_time", "with_due_date", "lead_time_h",
]  # fmt: skip


def kpi_rows(result: Kpis) -> list[list[str]]:
    def number(value: float | None, digits: int) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    return [
        [
            day.date.isoformat(),
            str(day.output),
            str(day.good),
            str(day.scrap),
            number(day.scrap_rate, 4),
            str(day.orders_completed),
            str(day.on_time),
            str(day.with_due_date),
            number(day.mean_lead_time_h, 1),
        ]
        for day in result.days
    ]


def kpi_csv(result: Kpis) -> bytes:
    """The KPIs per day as CSV (UTF-8 with BOM, for Excel)."""
    return csv_bytes(KPI_CSV_HEADER, kpi_rows(result))


def chart_series(days: list[Day]) -> dict[str, list]:
    """Chart series: labels and values per day."""
    return {
        "labels": [d.date.strftime("%m-%d") for d in days],
        "output": [d.output for d in days],
        "scrap_rate": [None if d.scrap_rate is None else round(100 * d.scrap_rate, 2) for d in days],
        "orders": [d.orders_completed for d in days],
        "lead_time_h": [None if d.mean_lead_time_h is None else round(d.mean_lead_time_h, 1) for d in days],
    }
