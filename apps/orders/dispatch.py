"""Dispatch lists (派工单): what a machine or a work center should run next, in order.

Order of the list: what runs or is paused there now; then what the published schedule planned there, in its
sequence; then everything else that may run there, by priority, due date and order number. Operations of
orders on hold are not offered; operations still waiting for their previous one are listed, marked as waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from apps.orders import execution, lots
from apps.orders.models import (
    CrewMember,
    Operation,
    OperationMachine,
    OperationStatus,
    OrderStatus,
    WorkOrder,
)
from platform_core.masterdata.models import Machine, WorkCenter

DISPATCHABLE = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class DispatchItem:
    operation: Operation
    ready: bool  # the previous operation lets it start (or it has started)
    available: int  # pieces it can still take in
    input_lots: tuple[str, ...]  # lots the previous operation delivered
    held_lots: tuple[str, ...]  # of those, the ones quality holds
    planned: bool  # placed by the published schedule


def _open_operations() -> sa.Select:
    return (
        sa.select(Operation)
        .join(Operation.order)
        .where(WorkOrder.status.in_(DISPATCHABLE), Operation.status != OperationStatus.COMPLETED)
        .options(
            selectinload(Operation.order).selectinload(WorkOrder.operations),
            selectinload(Operation.order).selectinload(WorkOrder.product),
            selectinload(Operation.machines),
            selectinload(Operation.crew),
        )
    )


def _ordering(here_first: sa.ColumnElement[bool]) -> tuple:
    return (
        sa.case((here_first, 0), (Operation.planned_sequence.is_not(None), 1), else_=2),
        Operation.planned_sequence,
        Operation.planned_start,
        WorkOrder.priority,
        sa.case((WorkOrder.due_date.is_(None), 1), else_=0),
        WorkOrder.due_date,
        WorkOrder.number,
        Operation.sequence,
    )


def for_machine(session: Session, machine: Machine, *, limit: int = DEFAULT_LIMIT) -> list[DispatchItem]:
    """The dispatch list of one machine."""
    listed_here = sa.exists().where(
        OperationMachine.operation_id == Operation.id, OperationMachine.machine_id == machine.id
    )
    listed_anywhere = sa.exists().where(OperationMachine.operation_id == Operation.id)
    eligible = sa.or_(listed_here, sa.and_(~listed_anywhere, Operation.work_center_id == machine.work_center_id))
    statement = _open_operations().where(
        eligible,
        sa.or_(Operation.machine_id.is_(None), Operation.machine_id == machine.id),  # not running elsewhere
        sa.or_(Operation.planned_machine_id.is_(None), Operation.planned_machine_id == machine.id),
    )
    here = sa.and_(Operation.machine_id == machine.id, Operation.status != OperationStatus.PENDING)
    return _items(session, statement.order_by(*_ordering(here)).limit(limit))


def for_work_center(session: Session, work_center: WorkCenter, *, limit: int = DEFAULT_LIMIT) -> list[DispatchItem]:
    """The dispatch list of a work center (every machine of it)."""
    statement = _open_operations().where(Operation.work_center_id == work_center.id)
    started = Operation.status != OperationStatus.PENDING
    return _items(session, statement.order_by(*_ordering(started)).limit(limit))


def input_lots(session: Session, operations: list[Operation]) -> dict[int, tuple[str, ...]]:
    """For each operation, the output lots its previous operation reported (newest first)."""
    previous = {op.id: execution.previous_operation(op) for op in operations}
    delivered = lots.delivered_lots(session, {p.id for p in previous.values() if p is not None})
    return {op.id: delivered[previous[op.id].id] if previous[op.id] else () for op in operations}


def _items(session: Session, statement: sa.Select) -> list[DispatchItem]:
    operations = list(session.scalars(statement).unique())
    lots_in = input_lots(session, operations)
    held = lots.held_among(session, [lot for found in lots_in.values() for lot in found])
    return [
        DispatchItem(
            operation=op,
            ready=op.status is not OperationStatus.PENDING or execution.can_start(op),
            available=execution.available_quantity(op),
            input_lots=lots_in[op.id],
            held_lots=tuple(lot for lot in lots_in[op.id] if lot in held),
            planned=op.planned_sequence is not None,
        )
        for op in operations
    ]


def running_for(session: Session, employee_id: int) -> list[Operation]:
    """The operations an operator is on now (one operator may run several machines)."""
    statement = (
        sa.select(Operation)
        .join(CrewMember, CrewMember.operation_id == Operation.id)
        .where(CrewMember.employee_id == employee_id, CrewMember.left_at.is_(None))
        .where(Operation.status != OperationStatus.COMPLETED)
        .options(selectinload(Operation.order), selectinload(Operation.machine))
        .order_by(CrewMember.joined_at)
    )
    return list(session.scalars(statement).unique())
