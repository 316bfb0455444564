"""Sampling rules turned into tasks when production happens (orders events), and the shift a moment falls in."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.quality import plans, production, tasks
from apps.quality.models import ProductionRecord, SamplingKind
from platform_core.db import current_tenant_id
from platform_core.identity.models import Employee
from platform_core.masterdata.calendar import calendar_of, tenant_zone
from platform_core.masterdata.models import Machine, ShiftCalendar, WorkCenter

FIRST_ARTICLE = (SamplingKind.FIRST_OF_SHIFT, SamplingKind.FIRST_OF_ORDER)


def shift_start(session: Session, machine: Machine | None, at: dt.datetime) -> dt.datetime:
    """Start (UTC) of the shift of ``machine``'s calendar that ``at`` falls in; the local day when none does."""
    zone = tenant_zone(session, current_tenant_id(session))
    local = at.astimezone(zone)
    calendar = calendar_of(session, machine) if machine is not None else _default_calendar(session)
    for day in (local.date() - dt.timedelta(days=1), local.date()):
        for shift in calendar.shifts if calendar is not None else ():
            if day.isoweekday() not in shift.weekdays:
                continue
            start = dt.datetime.combine(day, shift.start_time, tzinfo=zone)
            end = dt.datetime.combine(day, shift.end_time, tzinfo=zone)
            if end <= start:  # ends after midnight, or a 24-hour shift
                end += dt.timedelta(days=1)
            if start <= local < end:
                return start.astimezone(dt.UTC)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _default_calendar(session: Session) -> ShiftCalendar | None:
    return session.scalar(
        sa.select(ShiftCalendar).where(ShiftCalendar.is_default, ShiftCalendar.active).order_by(ShiftCalendar.id)
    )


def _context(session: Session, payload: dict[str, Any], lot=None) -> tuple[int | None, tasks.TaskContext]:
    """(product id, task context) of an operation event; the product is unknown for orders released unseen."""
    order = production.order_of(session, payload.get("order_id"))
    operation = production.operation_of(session, payload.get("operation_id"))
    machine = session.get(Machine, production.known(session, Machine, payload.get("machine_id")) or 0)
    employee = session.get(Employee, production.known(session, Employee, payload.get("employee_id")) or 0)
    work_center = None
    if operation is not None and operation.work_center_id is not None:
        work_center = session.get(WorkCenter, operation.work_center_id)
    sequence = payload.get("sequence")
    if sequence is None and operation is not None:
        sequence = operation.sequence
    context = tasks.TaskContext(
        lot=lot,
        order_id=payload.get("order_id"),
        order_number=order.number if order else None,
        operation_id=payload.get("operation_id"),
        operation_sequence=sequence,
        work_center=work_center,
        machine=machine,
        operator=employee,
    )
    return (order.product_id if order else None), context


def on_operation_started(session: Session, payload: dict[str, Any], at: dt.datetime) -> int:
    """First-article tasks when an operation starts (first of the order, first of the shift); how many."""
    product_id, context = _context(session, payload)
    if product_id is None:
        return 0
    started = production.parse_time(payload.get("started_at"), at)
    return _first_articles(session, product_id, context, started)


def _first_articles(session: Session, product_id: int, context: tasks.TaskContext, at: dt.datetime) -> int:
    created = 0
    for plan in plans.active_plans(session, product_id, context.operation_sequence):
        for rule in plan.rules:
            key = None
            if rule.kind is SamplingKind.FIRST_OF_ORDER and context.operation_id is not None:
                key = f"first_of_order:{context.operation_id}"
            elif rule.kind is SamplingKind.FIRST_OF_SHIFT:
                machine_key = context.machine.id if context.machine else "-"
                key = f"first_of_shift:{machine_key}:{shift_start(session, context.machine, at).isoformat()}"
            if key is not None:
                created += tasks.create_task_once(
                    session, plan, rule, key, context=context, due_at=at + dt.timedelta(minutes=rule.due_minutes)
                )
    return created


def on_operation_reported(session: Session, record: ProductionRecord, payload: dict[str, Any]) -> int:
    """Tasks a report asks for: every N pieces, per lot, a share of the quantity, first articles missed."""
    product_id, context = _context(session, payload, lot=record.output_lot)
    if product_id is None:
        return 0
    at = record.reported_at
    created = _first_articles(session, product_id, context, at)
    quantity = record.good + record.scrap + record.rework
    for plan in plans.active_plans(session, product_id, context.operation_sequence):
        for rule in plan.rules:
            key, sample = _report_key(session, rule, record, quantity)
            if key is not None:
                due = at + dt.timedelta(minutes=rule.due_minutes)
                created += tasks.create_task_once(
                    session, plan, rule, key, context=context, sample_size=sample, due_at=due
                )
    return created


def _report_key(session: Session, rule, record: ProductionRecord, quantity: int) -> tuple[str | None, int | None]:
    if rule.kind is SamplingKind.EVERY_N and record.operation_id is not None:
        total = production.pieces_reported(session, record.operation_id)
        crossed, before = total // rule.every_n, (total - quantity) // rule.every_n
        # A report crossing several multiples at once asks for one inspection, of the latest multiple.
        if crossed > before:
            return f"every_n:{rule.id}:{record.operation_id}:{crossed}", None
    elif rule.kind is SamplingKind.PER_LOT and record.output_lot is not None:
        return f"per_lot:{rule.id}:{record.output_lot.code}", None
    elif rule.kind is SamplingKind.PERCENT and quantity > 0:
        return f"percent:{rule.id}:{record.id}", max(1, math.ceil(quantity * rule.percent / 100.0))
    return None, None
