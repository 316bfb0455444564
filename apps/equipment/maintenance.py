"""Maintenance: preventive plans, work orders and their tablet flow, predictive suggestions.

A plan applies to one machine or to every machine of one model, and is due by calendar interval, by running
hours (running time in the state timeline) or by parts produced (work reports or the part counter), each
counted from the plan's baseline on that machine (its creation, then each completion). The leader worker's
scan creates the work order ``lead`` ahead of the due point, once: the order's ``(plan, machine, cycle)`` is
unique and a plan never has two open orders on one machine.

An order that blocks the machine announces its window with ``equipment.maintenance_planned`` (again whenever
the window moves), so the scheduling app keeps jobs off the machine; starting it puts the machine in planned
maintenance, completing it (``equipment.maintenance_completed``) gives the machine back and restarts the plan's
count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.equipment import production, states
from apps.equipment.models import (
    Alarm,
    AlarmRule,
    MaintenanceKind,
    MaintenanceOrder,
    MaintenancePlan,
    MaintenanceStatus,
    PlanProgress,
    PlanTrigger,
    State,
)
from platform_core import events
from platform_core.db import current_actor, utcnow
from platform_core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from platform_core.masterdata.models import Machine
from platform_core.numbering import next_number

OPEN_STATUSES = (MaintenanceStatus.OPEN, MaintenanceStatus.IN_PROGRESS)
PLANNED_KINDS = (MaintenanceKind.PREVENTIVE, MaintenanceKind.PREDICTIVE)


# --- plans ----------------------------------------------------------------------------------------------------


def plan_machines(session: Session, plan: MaintenancePlan) -> list[Machine]:
    if plan.machine_id is not None:
        return [plan.machine] if plan.machine.active else []
    return list(
        session.scalars(
            sa.select(Machine).where(Machine.model == plan.machine_model, Machine.active).order_by(Machine.id)
        )
    )


def lock_progress(session: Session, plan: MaintenancePlan, machine_id: int) -> PlanProgress:
    statement = (
        sa.select(PlanProgress)
        .where(PlanProgress.plan_id == plan.id, PlanProgress.machine_id == machine_id)
        .with_for_update()
    )
    progress = session.scalar(statement)
    if progress is not None:
        return progress
    try:
        with session.begin_nested():
            progress = PlanProgress(plan_id=plan.id, machine_id=machine_id, baseline_at=plan.created_at)
            session.add(progress)
            session.flush()
    except IntegrityError:
        progress = session.scalar(statement.execution_options(populate_existing=True))
        if progress is None:
            raise
    return progress


def running_hours(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> float:
    """Hours in the running state between two moments (the open interval counts up to ``end``)."""
    total = 0.0
    for interval in states.intervals_between(session, machine_id, start, end):
        if interval.state is State.RUNNING:
            stop = min(interval.ended_at or end, end)
            total += max(0.0, (stop - max(interval.started_at, start)).total_seconds())
    return total / 3600


@dataclass(frozen=True)
class Due:
    """Where a plan stands on a machine: used and interval in the plan's unit, and the estimated due time."""

    used: float
    interval: float
    due_at: dt.datetime | None
    create: bool  # within the lead: time to create the order

    @property
    def remaining(self) -> float:
        return self.interval - self.used


def used_since(
    session: Session, plan: MaintenancePlan, machine_id: int, baseline: dt.datetime, now: dt.datetime
) -> float:
    """How much the machine has used of the plan since ``baseline``, in the plan's unit (days, hours, parts)."""
    if plan.trigger is PlanTrigger.CALENDAR:
        return (now - baseline).total_seconds() / 86400
    if plan.trigger is PlanTrigger.RUNNING_HOURS:
        return running_hours(session, machine_id, baseline, now)
    return production.produced(session, machine_id, baseline, now).total


def due(session: Session, plan: MaintenancePlan, machine: Machine, baseline: dt.datetime, now: dt.datetime) -> Due:
    """How far the plan has run on the machine since ``baseline``."""
    used = used_since(session, plan, machine.id, baseline, now)
    if plan.trigger is PlanTrigger.CALENDAR:
        due_at = baseline + dt.timedelta(days=plan.interval)
        return Due(used, plan.interval, due_at, now >= due_at - dt.timedelta(days=plan.lead))
    elapsed_h = (now - baseline).total_seconds() / 3600
    due_at = None
    if used >= plan.interval:
        due_at = now
    elif used > 0 and elapsed_h > 0:  # at the pace seen so far
        due_at = now + dt.timedelta(hours=(plan.interval - used) * elapsed_h / used)
    return Due(used, plan.interval, due_at, used >= plan.interval - plan.lead)


def scan_plans(session: Session, now: dt.datetime | None = None) -> list[MaintenanceOrder]:
    """Create the work orders that are due (within their lead), once each; returns the new orders."""
    now = now or utcnow()
    created = []
    plans = session.scalars(sa.select(MaintenancePlan).where(MaintenancePlan.active).order_by(MaintenancePlan.id))
    for plan in plans.all():
        for machine in plan_machines(session, plan):
            progress = lock_progress(session, plan, machine.id)
            if open_order_of_plan(session, plan.id, machine.id) is not None:
                continue
            state = due(session, plan, machine, progress.baseline_at, now)
            if not state.create:
                continue
            order = _order_from_plan(session, plan, machine, progress.cycles + 1, state, now)
            if order is not None:
                progress.cycles += 1
                created.append(order)
    return created


def open_order_of_plan(session: Session, plan_id: int, machine_id: int) -> MaintenanceOrder | None:
    return session.scalar(
        sa.select(MaintenanceOrder).where(
            MaintenanceOrder.plan_id == plan_id,
            MaintenanceOrder.machine_id == machine_id,
            MaintenanceOrder.status.in_(OPEN_STATUSES),
        )
    )


def _order_from_plan(
    session: Session, plan: MaintenancePlan, machine: Machine, cycle: int, state: Due, now: dt.datetime
) -> MaintenanceOrder | None:
    start = max(state.due_at or now, now)
    try:
        with session.begin_nested():
            order = create_order(
                session,
                machine,
                kind=MaintenanceKind.PREVENTIVE,
                title=plan.name,
                checklist=plan.checklist,
                due_at=state.due_at,
                planned_start=start,
                planned_end=start + dt.timedelta(minutes=plan.duration_min),
                blocks_machine=plan.blocks_machine,
                plan=plan,
                cycle=cycle,
            )
    except IntegrityError:
        return None  # the same cycle was created concurrently
    return order


# --- orders ---------------------------------------------------------------------------------------------------


def create_order(
    session: Session,
    machine: Machine,
    *,
    kind: MaintenanceKind,
    title: str,
    checklist: Sequence[str] = (),
    due_at: dt.datetime | None = None,
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    blocks_machine: bool = True,
    plan: MaintenancePlan | None = None,
    cycle: int | None = None,
    alarm: Alarm | None = None,
) -> MaintenanceOrder:
    """A new open work order; a planned window that blocks the machine is announced to scheduling."""
    _check_window(planned_start, planned_end)
    order = MaintenanceOrder(
        number=next_number(session, MaintenanceOrder, "MWO-"),
        machine_id=machine.id,
        plan_id=plan.id if plan else None,
        cycle=cycle,
        alarm_id=alarm.id if alarm else None,
        kind=kind,
        title=title[:200],
        due_at=due_at,
        planned_start=planned_start,
        planned_end=planned_end,
        blocks_machine=blocks_machine,
        checklist=[{"item": item, "done": False, "ok": None, "note": ""} for item in checklist],
        parts_used=[],
    )
    session.add(order)
    session.flush()
    _announce_window(session, order)
    return order


def _check_window(start: dt.datetime | None, end: dt.datetime | None) -> None:
    if (start is None) != (end is None) or (start is not None and end <= start):
        raise ValidationFailed(
            _("A maintenance window needs a start before its end."), errors={"planned_end": [_("After the start.")]}
        )


def _announce_window(session: Session, order: MaintenanceOrder) -> None:
    if not order.blocks_machine or order.planned_start is None:
        return
    events.publish(
        session,
        "equipment.maintenance_planned",
        {
            "maintenance_id": order.id,
            "number": order.number,
            "machine_id": order.machine_id,
            "kind": order.kind.value,
            "starts_at": order.planned_start.isoformat(),
            "ends_at": order.planned_end.isoformat(),
        },
    )


def schedule(session: Session, order: MaintenanceOrder, start: dt.datetime, end: dt.datetime) -> MaintenanceOrder:
    """Move an open order's maintenance window."""
    if order.status is not MaintenanceStatus.OPEN:
        raise InvalidTransition(_("Only an open order can be rescheduled."), current_state=order.status.value)
    _check_window(start, end)
    order.planned_start, order.planned_end = start, end
    session.flush()
    _announce_window(session, order)
    return order


def start(session: Session, order: MaintenanceOrder) -> MaintenanceOrder:
    """A technician starts the work; planned work puts the machine in planned maintenance."""
    if order.status is not MaintenanceStatus.OPEN:
        raise InvalidTransition(_("Only an open order can be started."), current_state=order.status.value)
    now = utcnow()
    order.status, order.started_at, order.started_by = MaintenanceStatus.IN_PROGRESS, now, current_actor(session).label
    if order.blocks_machine and order.kind in PLANNED_KINDS:
        status = states.lock_status(session, order.machine_id, now)
        if status.manual is State.DOWN:  # the planned work replaces an ongoing downtime report
            states.report_up(session, order.machine, at=now)
        states.start_maintenance(session, order.machine_id, now, note=order.number)
    session.flush()
    return order


def record(
    session: Session,
    order: MaintenanceOrder,
    *,
    checks: Sequence[dict[str, Any]] = (),
    findings: str | None = None,
    parts_used: Sequence[dict[str, Any]] | None = None,
    time_spent_min: int | None = None,
) -> MaintenanceOrder:
    """Record progress on a started order: checklist items (by index), findings, parts, time."""
    if order.status is not MaintenanceStatus.IN_PROGRESS:
        raise InvalidTransition(_("Start the order before recording work on it."), current_state=order.status.value)
    checklist = [dict(item) for item in order.checklist]
    for check in checks:
        index = check["index"]
        if not 0 <= index < len(checklist):
            raise ValidationFailed(_("No such checklist item."), errors={"checks": {str(index): [_("Unknown.")]}})
        item = checklist[index]
        item["done"] = check.get("done", True)
        if "ok" in check:
            item["ok"] = check["ok"]
        if check.get("note") is not None:
            item["note"] = check["note"][:500]
    order.checklist = checklist
    if findings is not None:
        order.findings = findings
    if parts_used is not None:
        order.parts_used = [{"part": p["part"][:100], "quantity": p["quantity"]} for p in parts_used]
    if time_spent_min is not None:
        order.time_spent_min = time_spent_min
    session.flush()
    return order


def complete(session: Session, order: MaintenanceOrder) -> MaintenanceOrder:
    """Finish the order: every checklist item must be done; the machine is given back."""
    if order.status is not MaintenanceStatus.IN_PROGRESS:
        raise InvalidTransition(_("Only a started order can be completed."), current_state=order.status.value)
    undone = [i for i, item in enumerate(order.checklist) if not item.get("done")]
    if undone:
        raise Conflict(
            _("Some checklist items are not done yet."),
            errors={"checklist": [order.checklist[i]["item"] for i in undone]},
        )
    now = utcnow()
    order.status, order.completed_at, order.completed_by = (
        MaintenanceStatus.COMPLETED,
        now,
        current_actor(session).label,
    )
    if order.time_spent_min is None:
        order.time_spent_min = max(1, round((now - order.started_at).total_seconds() / 60))
    _finish(session, order, now, "completed")
    return order


def cancel(session: Session, order: MaintenanceOrder) -> MaintenanceOrder:
    """Drop an order; a plan's count restarts now (the next order comes a full interval later)."""
    if order.status not in OPEN_STATUSES:
        raise InvalidTransition(_("The order is already closed."), current_state=order.status.value)
    order.status = MaintenanceStatus.CANCELLED
    order.completed_at, order.completed_by = utcnow(), current_actor(session).label
    _finish(session, order, order.completed_at, "cancelled")
    return order


def _finish(session: Session, order: MaintenanceOrder, now: dt.datetime, outcome: str) -> None:
    if order.started_at is not None and order.blocks_machine and order.kind in PLANNED_KINDS:
        states.end_maintenance(session, order.machine_id, now)
    if order.plan_id is not None:
        progress = lock_progress(session, order.plan, order.machine_id)
        progress.baseline_at = now
    session.flush()
    events.publish(
        session,
        "equipment.maintenance_completed",
        {
            "maintenance_id": order.id,
            "number": order.number,
            "machine_id": order.machine_id,
            "completed_at": now.isoformat(),
            "outcome": outcome,  # "cancelled": the window no longer blocks the machine either
        },
    )


# --- predictive suggestions -----------------------------------------------------------------------------------


def open_predictive_order(session: Session, machine_id: int, metric_id: int | None) -> MaintenanceOrder | None:
    """The machine's open predictive order about a metric (whichever trend alarm of that metric suggested it)."""
    return session.scalar(
        sa.select(MaintenanceOrder)
        .join(Alarm, Alarm.id == MaintenanceOrder.alarm_id)
        .join(AlarmRule, AlarmRule.id == Alarm.rule_id)
        .where(
            MaintenanceOrder.machine_id == machine_id,
            MaintenanceOrder.kind == MaintenanceKind.PREDICTIVE,
            MaintenanceOrder.status.in_(OPEN_STATUSES),
            AlarmRule.metric_id == metric_id,
        )
        .order_by(MaintenanceOrder.id)
        .limit(1)
    )


def _order_of_alarm(session: Session, alarm: Alarm) -> MaintenanceOrder | None:
    return session.scalar(sa.select(MaintenanceOrder).where(MaintenanceOrder.alarm_id == alarm.id))


def _once_for_alarm(
    session: Session,
    alarm: Alarm,
    already_open: Callable[[], MaintenanceOrder | None],
    create: Callable[[], MaintenanceOrder],
) -> MaintenanceOrder | None:
    """The alarm's work order: the one it already has, else ``already_open()``, else a new one from ``create``.

    One per alarm (unique ``alarm_id``): when a concurrent transaction creates it first, that one is returned.
    """
    existing = _order_of_alarm(session, alarm) or already_open()
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            return create()
    except IntegrityError:
        return _order_of_alarm(session, alarm)


def suggest_predictive(
    session: Session, alarm: Alarm, machine: Machine, expected_at: dt.datetime | None, detail: str
) -> MaintenanceOrder | None:
    """A predictive work order for a trend alarm, due before the forecast crossing.

    A machine has at most one open predictive order per metric: an alarm that clears and is raised again, or a
    second trend rule on the same metric, finds the order already planned for that wear and keeps it.
    """
    now = utcnow()
    start = max(now, (expected_at or now) - dt.timedelta(hours=24))  # a day of margin before the crossing
    return _once_for_alarm(
        session,
        alarm,
        lambda: open_predictive_order(session, machine.id, alarm.rule.metric_id),
        lambda: create_order(
            session,
            machine,
            kind=MaintenanceKind.PREDICTIVE,
            title=detail,
            checklist=[],
            due_at=expected_at,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=2),
            alarm=alarm,
        ),
    )


def open_corrective_order(session: Session, machine_id: int) -> MaintenanceOrder | None:
    statement = sa.select(MaintenanceOrder).where(
        MaintenanceOrder.machine_id == machine_id,
        MaintenanceOrder.kind == MaintenanceKind.CORRECTIVE,
        MaintenanceOrder.status.in_(OPEN_STATUSES),
    )
    return session.scalars(statement.order_by(MaintenanceOrder.id)).first()


def call_for_repair(session: Session, alarm: Alarm, machine: Machine) -> MaintenanceOrder:
    """A corrective work order when a machine has been down too long (its state alarm is raised).

    One per alarm, and none while the machine already has an open corrective order: the technician on it is
    already called. It blocks nothing further: the breakdown itself keeps the machine out of the schedule until
    it is reported up.
    """
    return _once_for_alarm(
        session,
        alarm,
        lambda: open_corrective_order(session, machine.id),
        lambda: create_order(
            session,
            machine,
            kind=MaintenanceKind.CORRECTIVE,
            title=alarm.message,
            due_at=utcnow(),
            blocks_machine=False,
            alarm=alarm,
        ),
    )


# --- reading --------------------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> MaintenanceOrder:
    order = session.get(MaintenanceOrder, order_id)
    if order is None:
        raise NotFound(_("No such maintenance order."))
    return order


def get_plan(session: Session, plan_id: int) -> MaintenancePlan:
    plan = session.get(MaintenancePlan, plan_id)
    if plan is None:
        raise NotFound(_("No such maintenance plan."))
    return plan


def is_overdue(session: Session, order: MaintenanceOrder, now: dt.datetime | None = None) -> bool:
    """An open order past its due point: a plan's order once the machine has used more than the interval plus
    the tolerance (days, running hours or parts, like the plan), any other order once its due time passed."""
    if order.status not in OPEN_STATUSES:
        return False
    now = now or utcnow()
    plan = order.plan
    if plan is None:
        return order.due_at is not None and now > order.due_at
    used = used_since(session, plan, order.machine_id, _baseline(session, plan, order.machine_id), now)
    return used > plan.interval + plan.tolerance


def _baseline(session: Session, plan: MaintenancePlan, machine_id: int) -> dt.datetime:
    """Where the plan counts from on the machine (read without the scan's lock: a page only looks)."""
    baseline = session.scalar(
        sa.select(PlanProgress.baseline_at).where(
            PlanProgress.plan_id == plan.id, PlanProgress.machine_id == machine_id
        )
    )
    return baseline or plan.created_at


def history(session: Session, machine_id: int, limit: int = 50) -> list[MaintenanceOrder]:
    return list(
        session.scalars(
            sa.select(MaintenanceOrder)
            .where(MaintenanceOrder.machine_id == machine_id)
            .order_by(MaintenanceOrder.created_at.desc(), MaintenanceOrder.id.desc())
            .limit(limit)
        )
    )
