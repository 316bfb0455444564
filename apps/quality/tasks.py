"""Inspection tasks: raised by sampling rules on production events or by hand; due, overdue, done, cancelled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from apps.quality.models import InspectionPlan, InspectionTask, Lot, PlanStatus, SamplingRule, TaskStatus
from platform_core.db import utcnow
from platform_core.errors import InvalidTransition, ValidationFailed
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, WorkCenter
from platform_core.numbering import next_number

MANUAL = "manual"
DEFAULT_DUE_MINUTES = 60


@dataclass
class TaskContext:
    """Where and on what an inspection is to be made."""

    lot: Lot | None = None
    order_id: int | None = None
    order_number: str | None = None
    operation_id: int | None = None
    operation_sequence: int | None = None
    work_center: WorkCenter | None = None
    machine: Machine | None = None
    operator: Employee | None = None


def create_task(
    session: Session,
    plan: InspectionPlan,
    context: TaskContext,
    *,
    rule: SamplingRule | None = None,
    trigger_key: str | None = None,
    sample_size: int | None = None,
    due_at: dt.datetime | None = None,
    note: str | None = None,
) -> InspectionTask:
    """A new open task for the plan's active version."""
    if plan.status is not PlanStatus.ACTIVE:
        raise ValidationFailed(
            _("Inspections are made against the active version of a plan."),
            errors={"json": {"plan_id": [_("This plan version is not active.")]}},
        )
    now = utcnow()
    minutes = rule.due_minutes if rule is not None else DEFAULT_DUE_MINUTES
    work_center = context.work_center or (context.machine.work_center if context.machine else None)
    task = InspectionTask(
        number=next_number(session, InspectionTask, "QT-"),
        plan=plan,
        rule_id=rule.id if rule else None,
        trigger=rule.kind.value if rule else MANUAL,
        trigger_key=trigger_key,
        product=plan.product,
        lot=context.lot,
        order_id=context.order_id,
        order_number=context.order_number,
        operation_id=context.operation_id,
        operation_sequence=context.operation_sequence,
        work_center=work_center,
        machine=context.machine,
        operator=context.operator,
        sample_size=sample_size or (rule.sample_size if rule else 1),
        due_at=due_at or now + dt.timedelta(minutes=minutes),
        note=note,
    )
    session.add(task)
    session.flush()
    return task


def create_task_once(session: Session, plan: InspectionPlan, rule: SamplingRule, key: str, **kwargs) -> bool:
    """Create the task a rule asks for unless it already exists (events arrive at least once)."""
    existing = session.scalar(
        sa.select(InspectionTask).where(InspectionTask.plan_id == plan.id, InspectionTask.trigger_key == key)
    )
    if existing is not None:
        context = kwargs.get("context")
        if existing.status is TaskStatus.OPEN and existing.lot is None and context is not None and context.lot:
            existing.lot = context.lot  # a first-piece task raised at the start learns its lot from the first report
        return False
    create_task(session, plan, rule=rule, trigger_key=key, **kwargs)
    return True


def cancel_task(session: Session, task: InspectionTask, reason: str | None = None) -> InspectionTask:
    if task.status is not TaskStatus.OPEN:
        raise InvalidTransition(_("Only an open task can be cancelled."), current_state=task.status)
    task.status, task.note = TaskStatus.CANCELLED, reason or task.note
    session.flush()
    return task


def open_tasks(work_center_id: int | None = None, *, overdue_only: bool = False) -> sa.Select:
    """Open tasks, the most urgent first, optionally of one work center or only the overdue ones."""
    statement = (
        sa.select(InspectionTask)
        .where(InspectionTask.status == TaskStatus.OPEN)
        .options(
            selectinload(InspectionTask.plan),
            selectinload(InspectionTask.product),
            selectinload(InspectionTask.machine),
            selectinload(InspectionTask.lot),
            selectinload(InspectionTask.work_center),
        )
        .order_by(InspectionTask.due_at, InspectionTask.id)
    )
    if work_center_id is not None:
        statement = statement.where(InspectionTask.work_center_id == work_center_id)
    if overdue_only:
        statement = statement.where(InspectionTask.due_at < utcnow())
    return statement


@dataclass(frozen=True)
class WorkCenterLoad:
    work_center: WorkCenter | None
    open: int
    overdue: int
    next_due: dt.datetime | None


def load_by_work_center(session: Session) -> list[WorkCenterLoad]:
    """Open and overdue tasks per work center (tasks without one are grouped last)."""
    now = utcnow()
    overdue = sa.func.sum(sa.case((InspectionTask.due_at < now, 1), else_=0))
    rows = session.execute(
        sa.select(InspectionTask.work_center_id, sa.func.count(), overdue, sa.func.min(InspectionTask.due_at))
        .where(InspectionTask.status == TaskStatus.OPEN)
        .group_by(InspectionTask.work_center_id)
    ).all()
    centers = {c.id: c for c in session.scalars(sa.select(WorkCenter).where(WorkCenter.id.in_([r[0] for r in rows])))}
    loads = [WorkCenterLoad(centers.get(wc), int(n), int(late or 0), due) for wc, n, late, due in rows]
    return sorted(loads, key=lambda load: (load.work_center is None, -load.overdue, load.next_due or now))
