"""Shop-floor execution: start, pause, resume, report, complete and leave an operation; approve reports.

Quantity rules, checked under row locks on the order and its operations so that concurrent tablets cannot slip
past them together:

* an operation (other than the first) never takes in more than the previous one delivered:
  its good + scrap stays within the previous operation's good quantity;
* good + scrap stays within the planned quantity plus the factory's tolerance; beyond it a report is refused,
  or, when the operator asks for it, kept for a supervisor's approval and counted only once approved;
* rework is recorded but counts as neither: reworked pieces are reported again as good or scrap;
* nothing is reported on a lot quality holds: neither a held lot the report names nor, unnamed, a held lot the
  previous operation delivered (a report then names the free lot it works on); an operation whose input lots are
  all held cannot start.

A transition sent with the ``version`` the tablet last saw is refused with 409 and the current state when the
operation changed since (another tablet acted on it). Reports add up, so they need no version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from apps.orders import lots, timers
from apps.orders.models import (
    CrewMember,
    EventKind,
    Operation,
    OperationEvent,
    OperationStatus,
    OrderStatus,
    ReportStatus,
    WorkOrder,
    WorkReport,
)
from apps.orders.settings import get_settings, quantity_limit
from apps.orders.work_orders import lock_order, refuse
from platform_core import events
from platform_core.db import current_actor, utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind

STATUS_LABELS = {
    OperationStatus.PENDING: _l("not started"),
    OperationStatus.RUNNING: _l("running"),
    OperationStatus.PAUSED: _l("paused"),
    OperationStatus.COMPLETED: _l("completed"),
}
REPORT_STATUS_LABELS = {
    ReportStatus.ACCEPTED: _l("accepted"),
    ReportStatus.PENDING_APPROVAL: _l("waiting for approval"),
    ReportStatus.REJECTED: _l("rejected"),
}


def status_label(status: OperationStatus) -> str:
    return str(STATUS_LABELS[status])


# --- reading ------------------------------------------------------------------------------------------------------


def previous_operation(operation: Operation) -> Operation | None:
    earlier = [op for op in operation.order.operations if op.sequence < operation.sequence]
    return earlier[-1] if earlier else None


def next_operation(operation: Operation) -> Operation | None:
    later = [op for op in operation.order.operations if op.sequence > operation.sequence]
    return later[0] if later else None


def available_quantity(operation: Operation) -> int:
    """How many pieces this operation can still take in: what the previous one delivered (or the order) minus
    what it already reported as good or scrap."""
    previous = previous_operation(operation)
    supplied = previous.good_qty if previous is not None else operation.quantity
    return max(0, supplied - operation.good_qty - operation.scrap_qty)


def can_start(operation: Operation) -> bool:
    """Whether the previous operation lets this one start (completed, or partial quantities allowed and some)."""
    previous = previous_operation(operation)
    if previous is None or previous.status is OperationStatus.COMPLETED:
        return True
    return previous.allow_partial and previous.good_qty > 0


def operation_state(operation: Operation, now: dt.datetime | None = None) -> dict[str, Any]:
    """The operation as a tablet needs it to refresh (also the body of a version conflict)."""
    now = now or utcnow()
    elapsed = timers.elapsed(operation, now)
    return {
        "id": operation.id,
        "order_id": operation.order_id,
        "sequence": operation.sequence,
        "status": operation.status.value,
        "version": operation.version,
        "machine_id": operation.machine_id,
        "good_qty": operation.good_qty,
        "scrap_qty": operation.scrap_qty,
        "rework_qty": operation.rework_qty,
        "quantity": operation.quantity,
        "running_s": round(elapsed.running_s),
        "paused_s": round(elapsed.paused_s),
        "status_since": operation.status_since.isoformat() if operation.status_since else None,
        "server_time": now.isoformat(),
        "crew": [member.employee_id for member in operation.crew],
    }


def pending_reports(session: Session, operation: Operation) -> int:
    statement = sa.select(sa.func.count(WorkReport.id)).where(
        WorkReport.operation_id == operation.id, WorkReport.status == ReportStatus.PENDING_APPROVAL
    )
    return session.scalar(statement) or 0


# --- guards -------------------------------------------------------------------------------------------------------


def _lock(session: Session, operation: Operation, *, shared_order: bool = True) -> tuple[WorkOrder, Operation]:
    """The operation's order (shared or exclusive), then all the order's operations, locked and freshly read.

    The rules read the neighbouring operations (what the previous one delivered, whether a next one exists), so
    they are locked too: changes to one order queue behind each other, while other orders go on in parallel.
    """
    order = lock_order(session, operation.order_id, shared=shared_order)
    statement = (
        sa.select(Operation)
        .where(Operation.order_id == order.id)
        .order_by(Operation.sequence)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    operations = list(session.scalars(statement))
    set_committed_value(order, "operations", operations)  # the rows just read, so no second query for them
    return order, next(op for op in operations if op.id == operation.id)


def _current(operation: Operation, now: dt.datetime) -> dict[str, Any]:
    """What every refusal of an operation carries, so the tablet can redraw it without asking again."""
    return {"current_state": operation.status.value, "operation": operation_state(operation, now)}


def _conflict(operation: Operation, message: str, code: str, now: dt.datetime) -> Conflict:
    return Conflict(message, code=code, **_current(operation, now))


def _check_version(operation: Operation, version: int | None, now: dt.datetime) -> None:
    if version is not None and version != operation.version:
        message = _(
            "Operation %(op)s was changed on another device (it is now %(status)s); check it and try again.",
            op=operation.label,
            status=status_label(operation.status),
        )
        raise _conflict(operation, message, "version_conflict", now)


def _refuse_operation(operation: Operation, message: str, now: dt.datetime) -> InvalidTransition:
    return InvalidTransition(message, **_current(operation, now))


def input_lots(session: Session, operation: Operation) -> tuple[str, ...]:
    """The lots an operation takes in: the output lots its previous operation reported."""
    previous = previous_operation(operation)
    return lots.delivered_lots(session, [previous.id])[previous.id] if previous is not None else ()


def _require_status(operation: Operation, allowed: tuple[OperationStatus, ...], action: str, now: dt.datetime) -> None:
    if operation.status in allowed:
        return
    messages = {
        "pause": lambda: _("Operation %(op)s is %(status)s; only a running operation can be paused."),
        "resume": lambda: _("Operation %(op)s is %(status)s; only a paused operation can be resumed."),
        "report": lambda: _("Operation %(op)s is %(status)s; start it before reporting quantities."),
        "complete": lambda: _("Operation %(op)s is %(status)s; only a started operation can be completed."),
        "approve": lambda: _("Operation %(op)s is %(status)s; its reports can no longer change."),
    }
    text = messages[action]() % {"op": operation.label, "status": status_label(operation.status)}
    raise _refuse_operation(operation, text, now)


def _require_order_running(order: WorkOrder, *, allow_released: bool = False) -> None:
    allowed = (OrderStatus.IN_PROGRESS, OrderStatus.RELEASED) if allow_released else (OrderStatus.IN_PROGRESS,)
    if order.status not in allowed:
        raise refuse(order, "work")


def _record(
    session: Session,
    operation: Operation,
    kind: EventKind,
    now: dt.datetime,
    *,
    employee: Employee | None = None,
    reason: ReasonCode | None = None,
) -> None:
    session.add(
        OperationEvent(
            operation_id=operation.id,
            kind=kind,
            at=now,
            employee_id=employee.id if employee else None,
            machine_id=operation.machine_id,
            reason_id=reason.id if reason else None,
            actor=current_actor(session).label,
        )
    )


def _set_status(operation: Operation, status: OperationStatus, now: dt.datetime) -> None:
    timers.close_interval(operation, now)
    operation.status = status
    operation.status_since = now if status in (OperationStatus.RUNNING, OperationStatus.PAUSED) else None
    operation.version += 1


def _crew_member(session: Session, operation: Operation, employee: Employee) -> CrewMember | None:
    statement = sa.select(CrewMember).where(
        CrewMember.operation_id == operation.id, CrewMember.employee_id == employee.id, CrewMember.left_at.is_(None)
    )
    return session.scalar(statement)


def _join(session: Session, operation: Operation, employee: Employee | None, now: dt.datetime) -> None:
    if employee is not None and _crew_member(session, operation, employee) is None:
        session.add(CrewMember(operation=operation, employee=employee, joined_at=now))
        session.flush()
        session.expire(operation, ["crew"])  # the view-only list of who is on it reloads on next use


def eligible(operation: Operation, machine: Machine) -> bool:
    if operation.machines:
        return any(option.machine_id == machine.id for option in operation.machines)
    return machine.work_center_id == operation.work_center_id


# --- transitions --------------------------------------------------------------------------------------------------


def start(
    session: Session,
    operation: Operation,
    *,
    machine: Machine | None,
    employee: Employee | None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Operation:
    """Start an operation on a machine, or join it when it already runs (several operators on one operation)."""
    now = now or utcnow()
    order, operation = _lock(session, operation, shared_order=False)  # the first start moves the order on
    _check_version(operation, version, now)
    _require_order_running(order, allow_released=True)
    if operation.status is OperationStatus.RUNNING:
        if machine is not None and machine.id != operation.machine_id:
            raise _refuse_operation(
                operation,
                _("Operation %(op)s already runs on %(machine)s.", op=operation.label, machine=operation.machine.code),
                now,
            )
        if employee is None or _crew_member(session, operation, employee) is not None:
            raise _refuse_operation(
                operation, _("Operation %(op)s is already running; you are on it.", op=operation.label), now
            )
        _join(session, operation, employee, now)
        _record(session, operation, EventKind.JOIN, now, employee=employee)
        operation.version += 1
        session.flush()
        return operation
    if operation.status is not OperationStatus.PENDING:
        hint = {
            OperationStatus.PAUSED: lambda: _("Operation %(op)s is paused; resume it instead."),
            OperationStatus.COMPLETED: lambda: _("Operation %(op)s is already completed."),
        }[operation.status]()
        raise _refuse_operation(operation, hint % {"op": operation.label}, now)
    if machine is None:
        raise ValidationFailed(_("Choose the machine to run it on."), errors={"machine_id": [_("Required.")]})
    if not eligible(operation, machine):
        raise ValidationFailed(
            _("Operation %(op)s cannot run on %(machine)s.", op=operation.label, machine=machine.code),
            errors={"machine_id": [_("Not a machine of this operation.")]},
        )
    if not can_start(operation):
        previous = previous_operation(operation)
        message = (
            _(
                "Operation %(op)s waits for operation %(prev)s to deliver pieces.",
                op=operation.label,
                prev=previous.label,
            )
            if previous.allow_partial
            else _(
                "Operation %(op)s waits for operation %(prev)s to be completed.",
                op=operation.label,
                prev=previous.label,
            )
        )
        raise _conflict(operation, message, "waiting_for_previous", now)
    lots.refuse_only_held_input(session, input_lots(session, operation), **_current(operation, now))
    operation.machine = machine
    operation.first_started_at = now
    _set_status(operation, OperationStatus.RUNNING, now)
    _join(session, operation, employee, now)
    _record(session, operation, EventKind.START, now, employee=employee)
    if order.status is OrderStatus.RELEASED:
        order.status = OrderStatus.IN_PROGRESS
        order.started_at = now
        order.version += 1
    session.flush()
    _publish_started(session, order, operation, employee, now, resumed=False)
    return operation


def _publish_started(session, order, operation, employee, now, *, resumed: bool) -> None:
    events.publish(
        session,
        "orders.operation_started",
        {
            "order_id": order.id,
            "order_number": order.number,
            "operation_id": operation.id,
            "sequence": operation.sequence,
            "machine_id": operation.machine_id,
            "employee_id": employee.id if employee else None,
            "started_at": now.isoformat(),
            "resumed": resumed,
            "setup_minutes": operation.setup_minutes,  # the machine is in set-up until the first pieces
        },
    )


def pause(
    session: Session,
    operation: Operation,
    *,
    reason: ReasonCode,
    employee: Employee | None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Operation:
    """Pause a running operation with a pause reason; its paused time counts from now."""
    now = now or utcnow()
    order, operation = _lock(session, operation)
    _check_version(operation, version, now)
    if reason.kind is not ReasonKind.PAUSE:
        raise ValidationFailed(_("Choose a pause reason."), errors={"reason_id": [_("Not a pause reason.")]})
    _require_status(operation, (OperationStatus.RUNNING,), "pause", now)
    _set_status(operation, OperationStatus.PAUSED, now)
    operation.pause_reason = reason
    _record(session, operation, EventKind.PAUSE, now, employee=employee, reason=reason)
    session.flush()
    events.publish(
        session,
        "orders.operation_paused",
        {
            "order_id": order.id,
            "operation_id": operation.id,
            "machine_id": operation.machine_id,
            "employee_id": employee.id if employee else None,
            "reason_code": reason.code,
            "paused_at": now.isoformat(),
        },
    )
    return operation


def resume(
    session: Session,
    operation: Operation,
    *,
    employee: Employee | None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Operation:
    """Resume a paused operation; whoever resumes it is on it."""
    now = now or utcnow()
    order, operation = _lock(session, operation)
    _check_version(operation, version, now)
    _require_status(operation, (OperationStatus.PAUSED,), "resume", now)
    _require_order_running(order)
    _set_status(operation, OperationStatus.RUNNING, now)
    operation.pause_reason = None
    _join(session, operation, employee, now)
    _record(session, operation, EventKind.RESUME, now, employee=employee)
    session.flush()
    _publish_started(session, order, operation, employee, now, resumed=True)
    return operation


def leave(session: Session, operation: Operation, *, employee: Employee, now: dt.datetime | None = None) -> Operation:
    """An operator stops working on an operation; it goes on with the others (or unattended)."""
    now = now or utcnow()
    _order, operation = _lock(session, operation)
    member = _crew_member(session, operation, employee)
    if member is None:
        raise _refuse_operation(operation, _("You are not working on operation %(op)s.", op=operation.label), now)
    member.left_at = now
    operation.version += 1
    session.flush()
    session.expire(operation, ["crew"])
    _record(session, operation, EventKind.LEAVE, now, employee=employee)
    session.flush()
    return operation


def complete(
    session: Session,
    operation: Operation,
    *,
    employee: Employee | None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Operation:
    """Complete a started operation (its totals are final); completing the last one completes the order."""
    now = now or utcnow()
    order, operation = _lock(session, operation, shared_order=False)  # may complete the order
    _check_version(operation, version, now)
    _require_status(operation, (OperationStatus.RUNNING, OperationStatus.PAUSED), "complete", now)
    _require_order_running(order)
    previous = previous_operation(operation)
    if previous is not None and previous.status is not OperationStatus.COMPLETED:
        message = _(
            "Operation %(prev)s is not completed yet; more pieces may still come to %(op)s.",
            prev=previous.label,
            op=operation.label,
        )
        raise _conflict(operation, message, "previous_not_completed", now)
    if waiting := pending_reports(session, operation):
        message = _(
            "%(n)d reports on operation %(op)s wait for a supervisor's approval.", n=waiting, op=operation.label
        )
        raise _conflict(operation, message, "approval_pending", now)
    _set_status(operation, OperationStatus.COMPLETED, now)
    operation.completed_at = now
    operation.pause_reason = None
    session.execute(
        sa.update(CrewMember)
        .where(CrewMember.operation_id == operation.id, CrewMember.left_at.is_(None))
        .values(left_at=now)
    )
    session.expire(operation, ["crew"])
    _record(session, operation, EventKind.COMPLETE, now, employee=employee)
    session.flush()
    events.publish(
        session,
        "orders.operation_completed",
        {
            "order_id": order.id,
            "operation_id": operation.id,
            "sequence": operation.sequence,
            "machine_id": operation.machine_id,
            "good_total": operation.good_qty,
            "scrap_total": operation.scrap_qty,
            "rework_total": operation.rework_qty,
            "running_s": round(operation.accumulated_running_s),
            "paused_s": round(operation.accumulated_paused_s),
            "completed_at": now.isoformat(),
        },
    )
    if next_operation(operation) is None:
        order.status = OrderStatus.COMPLETED
        order.completed_at = now
        order.version += 1
        session.flush()
        events.publish(
            session,
            "orders.order_completed",
            {
                "order_id": order.id,
                "number": order.number,
                "good_total": operation.good_qty,
                "due_date": order.due_date.isoformat() if order.due_date else None,
                "completed_at": now.isoformat(),
            },
        )
    return operation


# --- reports ------------------------------------------------------------------------------------------------------


@dataclass
class ReportInput:
    """What an operator reports in one submission."""

    good: int = 0
    scrap: int = 0
    rework: int = 0
    scrap_reason: ReasonCode | None = None
    rework_reason: ReasonCode | None = None
    output_lot: str | None = None
    consumed_lots: list[str] = field(default_factory=list)
    note: str | None = None
    recorded_at: dt.datetime | None = None  # when the operator pressed the button (device clock), if offline
    request_approval: bool = False  # beyond the tolerance: keep it for a supervisor instead of refusing it


def _check_input(data: ReportInput) -> None:
    problems: dict[str, list[str]] = {}
    if data.good + data.scrap + data.rework <= 0:
        problems["good"] = [_("Report at least one piece.")]
    if data.scrap > 0 and data.scrap_reason is None:
        problems["scrap_reason_id"] = [_("Choose the defect that caused the scrap.")]
    if data.scrap_reason is not None and data.scrap_reason.kind is not ReasonKind.SCRAP:
        problems["scrap_reason_id"] = [_("Not a scrap or defect reason.")]
    if data.rework_reason is not None and data.rework_reason.kind is not ReasonKind.REWORK:
        problems["rework_reason_id"] = [_("Not a rework reason.")]
    if problems:
        raise ValidationFailed(_("The report is incomplete."), errors=problems)


def _refuse_held_lots(
    session: Session, operation: Operation, output_lot: str | None, consumed: list[str], now: dt.datetime
) -> None:
    """No report on a held lot: neither one it names nor the held input it would be working on unnamed."""
    state = _current(operation, now)
    lots.refuse_held(session, output_lot=output_lot, consumed_lots=consumed, **state)
    lots.refuse_held_input(session, input_lots(session, operation), consumed_lots=consumed, **state)


def _check_previous(operation: Operation, good: int, scrap: int) -> None:
    """Never more in than the previous operation delivered (not even with an approval)."""
    previous = previous_operation(operation)
    if previous is None:
        return
    taken = operation.good_qty + operation.scrap_qty + good + scrap
    if taken > previous.good_qty:
        left = max(0, previous.good_qty - operation.good_qty - operation.scrap_qty)
        raise ValidationFailed(
            _(
                "Operation %(prev)s has delivered %(delivered)d good pieces and %(op)s already has %(done)d: "
                "at most %(left)d more can be reported.",
                prev=previous.label,
                delivered=previous.good_qty,
                op=operation.label,
                done=operation.good_qty + operation.scrap_qty,
                left=left,
            ),
            code="exceeds_previous_operation",
            errors={"good": [_("At most %(n)d with scrap.", n=left)]},
            available=left,
        )


def report(
    session: Session,
    operation: Operation,
    data: ReportInput,
    *,
    employee: Employee | None,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> WorkReport:
    """Record quantities on a started operation (accepted, or waiting for approval when asked and over limit)."""
    now = now or utcnow()
    _check_input(data)
    order, operation = _lock(session, operation)
    _check_version(operation, version, now)
    _require_status(operation, (OperationStatus.RUNNING, OperationStatus.PAUSED), "report", now)
    _require_order_running(order)
    output_lot = lots.normalise(data.output_lot)
    consumed = [lot for lot in (lots.normalise(x) for x in data.consumed_lots) if lot]
    _refuse_held_lots(session, operation, output_lot, consumed, now)
    _check_previous(operation, data.good, data.scrap)
    limit = quantity_limit(operation.quantity, get_settings(session).over_tolerance_pct)
    total = operation.good_qty + operation.scrap_qty + data.good + data.scrap
    over = total > limit
    if over and not data.request_approval:
        raise ValidationFailed(
            _(
                "Good and scrap would reach %(total)d of %(planned)d planned; at most %(limit)d are allowed without "
                "a supervisor's approval.",
                total=total,
                planned=operation.quantity,
                limit=limit,
            ),
            code="over_tolerance",
            errors={"good": [_("Over the allowed quantity.")]},
            limit=limit,
            total=total,
        )
    record = WorkReport(
        operation=operation,
        order=order,
        employee=employee,
        machine_id=operation.machine_id,
        good=data.good,
        scrap=data.scrap,
        rework=data.rework,
        scrap_reason=data.scrap_reason,
        rework_reason=data.rework_reason,
        output_lot=output_lot,
        consumed_lots=consumed,
        note=data.note,
        reported_at=now,
        recorded_at=data.recorded_at,
        status=ReportStatus.PENDING_APPROVAL if over else ReportStatus.ACCEPTED,
    )
    session.add(record)
    operation.version += 1
    if not over:
        _count(session, operation, record)
    session.flush()
    return record


def _count(session: Session, operation: Operation, record: WorkReport) -> None:
    """Add an accepted report to its operation's totals and announce it."""
    operation.good_qty += record.good
    operation.scrap_qty += record.scrap
    operation.rework_qty += record.rework
    session.flush()
    events.publish(
        session,
        "orders.operation_reported",
        {
            "report_id": record.id,
            "order_id": operation.order_id,
            "operation_id": operation.id,
            "sequence": operation.sequence,
            "is_last_operation": next_operation(operation) is None,
            "machine_id": record.machine_id,
            "employee_id": record.employee_id,
            "good": record.good,
            "scrap": record.scrap,
            "rework": record.rework,
            "scrap_reason_code": record.scrap_reason.code if record.scrap_reason else None,
            "output_lot": record.output_lot,
            "consumed_lots": list(record.consumed_lots),
            "reported_at": record.reported_at.isoformat(),
        },
    )


def _lock_report(session: Session, record: WorkReport) -> tuple[WorkOrder, Operation, WorkReport]:
    order, operation = _lock(session, record.operation)
    statement = (
        sa.select(WorkReport)
        .where(WorkReport.id == record.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return order, operation, session.scalars(statement).one()


def _require_pending(record: WorkReport) -> None:
    if record.status is not ReportStatus.PENDING_APPROVAL:
        raise InvalidTransition(
            _(
                "This report is %(status)s; only a report waiting for approval can be decided.",
                status=str(REPORT_STATUS_LABELS[record.status]),
            ),
            current_state=record.status.value,
        )


def approve_report(
    session: Session, record: WorkReport, *, note: str | None = None, now: dt.datetime | None = None
) -> WorkReport:
    """A supervisor accepts a report beyond the tolerance; the previous operation's limit still applies."""
    now = now or utcnow()
    order, operation, record = _lock_report(session, record)
    _require_pending(record)
    _require_order_running(order)
    _require_status(operation, (OperationStatus.RUNNING, OperationStatus.PAUSED), "approve", now)
    _refuse_held_lots(session, operation, record.output_lot, list(record.consumed_lots), now)
    _check_previous(operation, record.good, record.scrap)
    record.status = ReportStatus.ACCEPTED
    record.decided_at, record.decided_by, record.decision_note = now, current_actor(session).label, note
    operation.version += 1
    _count(session, operation, record)
    session.flush()
    return record


def reject_report(
    session: Session, record: WorkReport, *, note: str | None = None, now: dt.datetime | None = None
) -> WorkReport:
    """A supervisor refuses a report beyond the tolerance; it never counts."""
    now = now or utcnow()
    _order, operation, record = _lock_report(session, record)
    _require_pending(record)
    record.status = ReportStatus.REJECTED
    record.decided_at, record.decided_by, record.decision_note = now, current_actor(session).label, note
    operation.version += 1
    session.flush()
    return record
