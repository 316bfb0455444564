"""The orders app's public planning service: what the scheduling app reads and writes (and nothing else does).

Read: :func:`open_orders` gives every released or running order with its operations still to do: remaining
quantity, eligible machines with the minutes each would take, what is already running where. Write:
:func:`write_plan` stores a published schedule's machine, start, end and sequence on the operations and each
order's planned completion (the latest planned end of its operations); :func:`clear_plan` forgets both. The
tablets' dispatch lists follow the planned sequence when there is one (:mod:`apps.orders.dispatch`), else
priority and due date.

Plain functions ``(session, ...)``; they flush and never commit. The scheduling app imports this module only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from apps.orders import dispatch, execution
from apps.orders.models import Operation, OperationStatus, OrderStatus, WorkOrder
from platform_core.errors import ValidationFailed
from platform_core.masterdata.models import Machine, Product

PLANNABLE = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)


@dataclass(frozen=True)
class MachineOption:
    """One machine an operation may run on, and how long the remaining quantity takes there."""

    machine_id: int
    machine_code: str
    minutes: int  # setup (if not yet started) + remaining quantity × run time, rounded up


@dataclass(frozen=True)
class RemainingOperation:
    operation_id: int
    sequence: int
    name: str
    work_center_id: int
    status: str  # pending, running or paused
    remaining_quantity: int
    setup_minutes: float
    seconds_per_unit: float
    allow_partial: bool  # the next operation may start on partial quantities of this one
    options: tuple[MachineOption, ...]
    machine_id: int | None  # where it runs, once started
    started_at: dt.datetime | None
    planned_machine_id: int | None
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    planned_sequence: int | None


@dataclass(frozen=True)
class OpenOrder:
    order_id: int
    number: str
    product_id: int
    product_code: str
    family_code: str | None  # for sequence-dependent set-ups
    quantity: int
    due_date: dt.date | None
    priority: int  # 1 most urgent ... 9 least
    status: str
    released_at: dt.datetime | None
    operations: tuple[RemainingOperation, ...]  # routing order, completed ones left out


@dataclass(frozen=True)
class PlannedSlot:
    """One operation placed by a schedule: on ``machine_id`` from ``start`` to ``end``, ``sequence`` on it."""

    operation_id: int
    machine_id: int
    start: dt.datetime
    end: dt.datetime
    sequence: int


def _machine_options(operation: Operation, machines_by_center: dict[int, list[Machine]], remaining: int) -> tuple:
    setup = 0.0 if operation.status is not OperationStatus.PENDING else operation.setup_minutes
    if operation.machines:
        choices = [(option.machine, option.seconds_per_unit) for option in operation.machines]
    else:
        choices = [(machine, None) for machine in machines_by_center.get(operation.work_center_id, [])]
    options = []
    for machine, own_seconds in choices:
        seconds = own_seconds if own_seconds is not None else operation.seconds_per_unit
        minutes = math.ceil(setup + remaining * seconds / 60 - 1e-9)
        options.append(MachineOption(machine.id, machine.code, max(0, minutes)))
    return tuple(options)


def open_orders(session: Session) -> list[OpenOrder]:
    """Every released or running order with its operations still to do."""
    orders = session.scalars(
        sa.select(WorkOrder)
        .where(WorkOrder.status.in_(PLANNABLE))
        .options(
            selectinload(WorkOrder.operations).selectinload(Operation.machines),
            selectinload(WorkOrder.product).selectinload(Product.family),
        )
        .order_by(WorkOrder.priority, WorkOrder.due_date, WorkOrder.number)
    ).all()
    machines_by_center: dict[int, list[Machine]] = {}
    for machine in session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.code)):
        machines_by_center.setdefault(machine.work_center_id, []).append(machine)
    result = []
    for order in orders:
        remaining_ops = []
        for op in order.operations:
            if op.status is OperationStatus.COMPLETED:
                continue
            remaining = max(0, op.quantity - op.good_qty - op.scrap_qty)
            remaining_ops.append(
                RemainingOperation(
                    operation_id=op.id,
                    sequence=op.sequence,
                    name=op.name,
                    work_center_id=op.work_center_id,
                    status=op.status.value,
                    remaining_quantity=remaining,
                    setup_minutes=op.setup_minutes,
                    seconds_per_unit=op.seconds_per_unit,
                    allow_partial=op.allow_partial,
                    options=_machine_options(op, machines_by_center, remaining),
                    machine_id=op.machine_id,
                    started_at=op.first_started_at,
                    planned_machine_id=op.planned_machine_id,
                    planned_start=op.planned_start,
                    planned_end=op.planned_end,
                    planned_sequence=op.planned_sequence,
                )
            )
        if remaining_ops:
            result.append(
                OpenOrder(
                    order_id=order.id,
                    number=order.number,
                    product_id=order.product_id,
                    product_code=order.product.code,
                    family_code=order.product.family.code if order.product.family else None,
                    quantity=order.quantity,
                    due_date=order.due_date,
                    priority=order.priority,
                    status=order.status.value,
                    released_at=order.released_at,
                    operations=tuple(remaining_ops),
                )
            )
    return result


def write_plan(session: Session, slots: Iterable[PlannedSlot], *, plan_ref: str, replace: bool = True) -> int:
    """Store a schedule on the operations; with ``replace``, operations it leaves out lose their old plan.

    Every slot must name an open operation of the factory and one of its eligible machines; otherwise nothing
    is written (422 listing the slots). Returns the number of operations planned.
    """
    slots = list(slots)
    operations = {
        op.id: op
        for op in session.scalars(
            sa.select(Operation)
            .where(Operation.id.in_([slot.operation_id for slot in slots]))
            .options(selectinload(Operation.machines), selectinload(Operation.order))
        )
    }
    machines = {
        m.id: m for m in session.scalars(sa.select(Machine).where(Machine.id.in_([s.machine_id for s in slots])))
    }
    problems: dict[str, list[str]] = {}
    for index, slot in enumerate(slots):
        operation, machine = operations.get(slot.operation_id), machines.get(slot.machine_id)
        if operation is None:
            problems[str(index)] = [_("No such operation.")]
        elif operation.order.status not in PLANNABLE or operation.status is OperationStatus.COMPLETED:
            problems[str(index)] = [_("Operation %(op)s is not open.", op=operation.label)]
        elif machine is None or not execution.eligible(operation, machine):
            problems[str(index)] = [_("Operation %(op)s cannot run on this machine.", op=operation.label)]
        elif slot.end < slot.start:
            problems[str(index)] = [_("The slot ends before it starts.")]
    if problems:
        raise ValidationFailed(
            _("Some planned operations are not valid; nothing was written."), errors={"slots": problems}
        )
    if replace:
        _forget_slots(session)
    for slot in slots:
        operation = operations[slot.operation_id]
        operation.planned_machine_id = slot.machine_id
        operation.planned_start = slot.start
        operation.planned_end = slot.end
        operation.planned_sequence = slot.sequence
        operation.plan_ref = plan_ref
    session.flush()
    _update_planned_completions(session)
    return len(slots)


def clear_plan(session: Session) -> int:
    """Forget every planned slot and completion (dispatch lists fall back to priority and due date)."""
    forgotten = _forget_slots(session)
    _update_planned_completions(session)
    return forgotten


def _forget_slots(session: Session) -> int:
    statement = (
        sa.update(Operation)
        .where(Operation.planned_sequence.is_not(None) | Operation.planned_machine_id.is_not(None))
        .values(planned_machine_id=None, planned_start=None, planned_end=None, planned_sequence=None, plan_ref=None)
    )
    return session.execute(statement.execution_options(synchronize_session="fetch")).rowcount


def _update_planned_completions(session: Session) -> None:
    """Each order's planned completion is the latest planned end of its operations; None when none is planned."""
    latest = dict(
        session.execute(
            sa.select(Operation.order_id, sa.func.max(Operation.planned_end))
            .where(Operation.planned_end.is_not(None))
            .group_by(Operation.order_id)
        ).all()
    )
    touched = WorkOrder.planned_completion.is_not(None) | WorkOrder.id.in_(list(latest))
    for order in session.scalars(sa.select(WorkOrder).where(touched)):
        order.planned_completion = latest.get(order.id)
    session.flush()


def dispatch_sequence(session: Session, machine_id: int) -> list[int]:
    """Operation ids in the order the machine's tablet lists them (to check a published plan arrived)."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        return []
    return [item.operation.id for item in dispatch.for_machine(session, machine)]
