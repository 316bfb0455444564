"""The shop-floor tablet: pick a machine or work center, see its dispatch list, run an operation.

The pages are rendered here; every action on them goes to the API from ``static/js/orders-terminal.js`` with an
Idempotency-Key, through a queue kept in the browser, so actions taken while the network is down are sent later.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, render_template, request
from sqlalchemy.orm import selectinload

from apps.orders import dispatch, execution, lots, timers, work_orders
from apps.orders.models import Operation, OperationStatus, ReportStatus, WorkReport
from platform_core.db import db, utcnow
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind, WorkCenter


def _employee() -> Employee | None:
    principal = g.principal
    if principal.employee is not None:
        return principal.employee
    return db.session.scalar(sa.select(Employee).where(Employee.user_id == principal.user.id))


def _mine() -> list[Operation]:
    employee = _employee()
    return dispatch.running_for(db.session, employee.id) if employee is not None else []


def _common() -> dict:
    return {"employee": _employee(), "mine": _mine(), "op_status_label": execution.status_label}


def terminal():
    centers = db.session.scalars(sa.select(WorkCenter).where(WorkCenter.active).order_by(WorkCenter.code)).all()
    machines: dict[int, list[Machine]] = {}
    for machine in db.session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.code)):
        machines.setdefault(machine.work_center_id, []).append(machine)
    return render_template("orders/terminal.html", centers=centers, machines=machines, **_common())


def _list(kind: str, place):
    lister = dispatch.for_machine if kind == "machine" else dispatch.for_work_center
    items = lister(db.session, place)
    template = "orders/_dispatch_items.html" if request.headers.get("HX-Request") else "orders/terminal_list.html"
    return render_template(template, kind=kind, place=place, items=items, **_common())


def machine_list(machine_id: int):
    """A machine's dispatch list."""
    machine = db.session.get(Machine, machine_id)
    if machine is None:
        abort(404)
    return _list("machine", machine)


def center_list(work_center_id: int):
    """A work center's dispatch list (all its machines)."""
    center = db.session.get(WorkCenter, work_center_id)
    if center is None:
        abort(404)
    return _list("center", center)


def _reasons(kind: ReasonKind) -> list[ReasonCode]:
    """Reasons an operator can pick: the leaves of the kind's tree (categories only group them)."""
    parents = sa.select(ReasonCode.parent_id).where(ReasonCode.parent_id.is_not(None), ReasonCode.active)
    statement = (
        sa.select(ReasonCode)
        .where(ReasonCode.kind == kind, ReasonCode.active, ReasonCode.id.not_in(parents))
        .order_by(ReasonCode.sort_order, ReasonCode.code)
    )
    return list(db.session.scalars(statement))


def _operation(operation_id: int) -> Operation:
    operation = db.session.get(Operation, operation_id)
    if operation is None:
        abort(404)
    return operation


def _panel_context(operation: Operation) -> dict:
    now = utcnow()
    lots_in = dispatch.input_lots(db.session, [operation])[operation.id]
    held = lots.held_among(db.session, lots_in)
    machine_id = request.args.get("machine_id", type=int)
    context_machine = db.session.get(Machine, machine_id) if machine_id else None
    if operation.machines:
        choices = [option.machine for option in operation.machines]
    else:
        choices = list(
            db.session.scalars(
                sa.select(Machine).where(Machine.work_center_id == operation.work_center_id, Machine.active)
            )
        )
    if context_machine is not None and execution.eligible(operation, context_machine):
        choices = [context_machine]
    pending = db.session.scalar(
        sa.select(sa.func.count(WorkReport.id)).where(
            WorkReport.operation_id == operation.id, WorkReport.status == ReportStatus.PENDING_APPROVAL
        )
    )
    employee = _employee()
    recent = db.session.scalars(
        sa.select(WorkReport)
        .where(WorkReport.operation_id == operation.id)
        .options(selectinload(WorkReport.employee), selectinload(WorkReport.scrap_reason))
        .order_by(WorkReport.reported_at.desc(), WorkReport.id.desc())
        .limit(10)
    ).all()
    return {
        "recent": recent,
        "report_status_labels": execution.REPORT_STATUS_LABELS,
        "operation": operation,
        "order": operation.order,
        "previous": execution.previous_operation(operation),
        "available": execution.available_quantity(operation),
        "ready": operation.status is not OperationStatus.PENDING or execution.can_start(operation),
        "elapsed": timers.elapsed(operation, now),
        "now": now,
        "input_lots": lots_in,
        "held_lots": sorted(held),
        "machine_choices": choices,
        "on_crew": employee is not None and any(m.employee_id == employee.id for m in operation.crew),
        "pending_approvals": pending,
        "order_open": operation.order.status in work_orders.OPEN_STATUSES,
        "order_status_label": work_orders.status_label,
        "context_machine": context_machine,
    }


def terminal_operation(operation_id: int):
    operation = _operation(operation_id)
    return render_template(
        "orders/terminal_operation.html",
        pause_reasons=_reasons(ReasonKind.PAUSE),
        scrap_reasons=_reasons(ReasonKind.SCRAP),
        rework_reasons=_reasons(ReasonKind.REWORK),
        op_statuses=list(OperationStatus),
        **_panel_context(operation),
        **_common(),
    )


def terminal_panel(operation_id: int):
    """The operation's live part, refreshed after every action and every few seconds."""
    return render_template("orders/_operation_panel.html", **_panel_context(_operation(operation_id)), **_common())
