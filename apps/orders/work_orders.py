"""Work orders: creation, changes and the status workflow.

    draft ─release─► released ─(first start)─► in_progress ─(last operation completed)─► completed ─close─► closed
      │                 │   ▲                      │   ▲
      │              hold   resume              hold   resume
      │                 ▼   │                      ▼   │
      └──cancel──► cancelled ◄──cancel── on_hold ──────┘

A move not in the picture is a 409 naming the current status. Release snapshots the routing into the order's
operations; a hold pauses whatever is running on the order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from apps.orders import routings, timers
from apps.orders.models import (
    CrewMember,
    EventKind,
    Operation,
    OperationEvent,
    OperationMachine,
    OperationStatus,
    OrderStatus,
    Routing,
    RoutingStatus,
    WorkOrder,
)
from platform_core import events, numbering
from platform_core.db import current_actor, utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.masterdata.models import Product

STATUS_LABELS = {
    OrderStatus.DRAFT: _l("draft"),
    OrderStatus.RELEASED: _l("released"),
    OrderStatus.IN_PROGRESS: _l("in progress"),
    OrderStatus.COMPLETED: _l("completed"),
    OrderStatus.CLOSED: _l("closed"),
    OrderStatus.ON_HOLD: _l("on hold"),
    OrderStatus.CANCELLED: _l("cancelled"),
}
OPEN_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.ON_HOLD)
EDITABLE_ON_RELEASED = {"due_date", "priority", "customer", "sales_order", "notes"}  # never quantity or product


def status_label(status: OrderStatus) -> str:
    return str(STATUS_LABELS[status])


def _refusal(action: str, number: str, status: str) -> str:
    messages = {
        "release": lambda: _(
            "Work order %(number)s is %(status)s; only a draft can be released.", number=number, status=status
        ),
        "hold": lambda: _(
            "Work order %(number)s is %(status)s; only a released or running order can be put on hold.",
            number=number,
            status=status,
        ),
        "resume": lambda: _(
            "Work order %(number)s is %(status)s; only an order on hold can be resumed.", number=number, status=status
        ),
        "cancel": lambda: _(
            "Work order %(number)s is %(status)s; only a draft, released or held order can be cancelled "
            "(put a running order on hold first).",
            number=number,
            status=status,
        ),
        "close": lambda: _(
            "Work order %(number)s is %(status)s; only a completed order can be closed.", number=number, status=status
        ),
        "change": lambda: _(
            "Work order %(number)s is %(status)s; it can no longer be changed.", number=number, status=status
        ),
        "work": lambda: _(
            "Work order %(number)s is %(status)s; no work can be started or reported on it.",
            number=number,
            status=status,
        ),
    }
    return messages[action]()


def refuse(order: WorkOrder, action: str) -> InvalidTransition:
    """The 409 for an action the order's status does not allow; it names the current status."""
    return InvalidTransition(
        _refusal(action, order.number, status_label(order.status)), current_state=order.status.value
    )


def lock_order(session: Session, order_id: int, *, shared: bool = False) -> WorkOrder:
    """Re-read the order under a row lock (PostgreSQL; SQLite's write lock already serialises writers).

    Every change to an order or its operations takes the order's lock first (shared when the order itself is
    not changed), so concurrent changes queue in one order and never deadlock.
    """
    statement = (
        sa.select(WorkOrder)
        .where(WorkOrder.id == order_id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one()


def next_number(session: Session, today: dt.date) -> str:
    """The next free order number of the day: WO-YYMMDD-001, -002 ..."""
    prefix = f"WO-{today:%y%m%d}-"
    numbers = session.scalars(sa.select(WorkOrder.number).where(WorkOrder.number.like(f"{prefix}%")))
    used = [int(n.removeprefix(prefix)) for n in numbers if n.removeprefix(prefix).isdigit()]
    return f"{prefix}{numbering.draw(session, prefix, in_use=max(used, default=0)):03d}"


def _check_routing(routing: Routing | None, product: Product) -> None:
    if routing is not None and routing.product_id != product.id:
        raise ValidationFailed(
            _("This routing belongs to another product."),
            errors={"routing_id": [_("Choose a routing of the product.")]},
        )


def create_order(
    session: Session, *, product: Product, quantity: int, number: str | None = None, **fields
) -> WorkOrder:
    """A draft work order; without a number it gets the next one of the day."""
    number = (number or "").strip() or next_number(session, utcnow().date())
    if session.scalar(sa.select(WorkOrder.id).where(WorkOrder.number == number)) is not None:
        raise Conflict(_("Work order %(number)s exists.", number=number), errors={"number": [_("Already taken.")]})
    _check_routing(fields.get("routing"), product)
    order = WorkOrder(number=number, product=product, quantity=quantity, **fields)
    session.add(order)
    session.flush()
    return order


def update_order(session: Session, order: WorkOrder, changes: dict[str, Any]) -> WorkOrder:
    """Change a draft freely; an open order only in its dates, priority and references."""
    if order.status in (OrderStatus.CLOSED, OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        raise refuse(order, "change")
    if order.status is not OrderStatus.DRAFT:
        frozen = sorted(set(changes) - EDITABLE_ON_RELEASED)
        if frozen:
            raise InvalidTransition(
                _(
                    "Work order %(number)s is %(status)s: only the due date, priority, customer, sales order and notes "
                    "can change.",
                    number=order.number,
                    status=status_label(order.status),
                ),
                current_state=order.status.value,
                errors={name: [_("Fixed once released.")] for name in frozen},
            )
    if "number" in changes and changes["number"] != order.number:
        taken = sa.select(WorkOrder.id).where(WorkOrder.number == changes["number"], WorkOrder.id != order.id)
        if session.scalar(taken) is not None:
            raise Conflict(
                _("Work order %(number)s exists.", number=changes["number"]), errors={"number": [_("Already taken.")]}
            )
    _check_routing(changes.get("routing", order.routing), changes.get("product", order.product))
    changed = False
    for name, value in changes.items():
        if getattr(order, name) != value:
            setattr(order, name, value)
            changed = True
    if changed:
        order.version += 1
    session.flush()
    return order


# --- the workflow -----------------------------------------------------------------------------------------------


def release_order(session: Session, order: WorkOrder, *, now: dt.datetime | None = None) -> WorkOrder:
    """Release a draft: its routing (chosen version, else the product's active one) becomes its operations."""
    order = lock_order(session, order.id)
    if order.status is not OrderStatus.DRAFT:
        raise refuse(order, "release")
    routing = order.routing or routings.active_routing(session, order.product)
    if routing is None:
        raise Conflict(
            _("Product %(code)s has no active routing; activate one first.", code=order.product.code),
            code="no_routing",
            errors={"routing_id": [_("No active routing.")]},
        )
    if routing.status is RoutingStatus.DRAFT:
        raise Conflict(
            _("Routing version %(version)d is a draft; activate it first.", version=routing.version),
            code="routing_draft",
            errors={"routing_id": [_("A draft.")]},
        )
    now = now or utcnow()
    order.routing = routing
    for step in routing.steps:
        order.operations.append(
            Operation(
                sequence=step.sequence,
                name=step.name,
                work_center_id=step.work_center_id,
                setup_minutes=step.setup_minutes,
                seconds_per_unit=step.seconds_per_unit,
                allow_partial=step.allow_partial,
                quantity=order.quantity,
                machines=[
                    OperationMachine(machine_id=m.machine_id, seconds_per_unit=m.seconds_per_unit)
                    for m in step.machines
                ],
            )
        )
    order.status = OrderStatus.RELEASED
    order.released_at = now
    order.version += 1
    session.flush()
    events.publish(
        session,
        "orders.order_released",
        {
            "order_id": order.id,
            "number": order.number,
            "product_code": order.product.code,
            "quantity": order.quantity,
            "due_at": order.due_date.isoformat() if order.due_date else None,
            "priority": order.priority,
            "routing_version": routing.version,
            "operations": [
                {
                    "operation_id": op.id,
                    "sequence": op.sequence,
                    "name": op.name,
                    "work_center_id": op.work_center_id,
                    "machine_ids": [m.machine_id for m in op.machines],
                }
                for op in order.operations
            ],
        },
    )
    return order


def hold_order(session: Session, order: WorkOrder, *, now: dt.datetime | None = None) -> WorkOrder:
    """Stop an open order: running operations are paused and nothing can be started or reported until resumed."""
    order = lock_order(session, order.id)
    if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS):
        raise refuse(order, "hold")
    now = now or utcnow()
    for operation in order.operations:
        if operation.status is OperationStatus.RUNNING:
            timers.close_interval(operation, now)
            operation.status = OperationStatus.PAUSED
            operation.status_since = now
            operation.pause_reason_id = None
            operation.version += 1
            session.add(
                OperationEvent(
                    operation_id=operation.id,
                    kind=EventKind.PAUSE,
                    at=now,
                    machine_id=operation.machine_id,
                    actor=current_actor(session).label,
                )
            )
            session.flush()
            events.publish(
                session,
                "orders.operation_paused",
                {
                    "order_id": order.id,
                    "operation_id": operation.id,
                    "machine_id": operation.machine_id,
                    "reason_code": None,
                    "paused_at": now.isoformat(),
                    "cause": "order_on_hold",
                },
            )
    order.held_from = order.status
    order.status = OrderStatus.ON_HOLD
    order.version += 1
    session.flush()
    return order


def resume_order(session: Session, order: WorkOrder) -> WorkOrder:
    """Lift a hold; paused operations stay paused until their operators resume them."""
    order = lock_order(session, order.id)
    if order.status is not OrderStatus.ON_HOLD:
        raise refuse(order, "resume")
    order.status = order.held_from or OrderStatus.RELEASED
    order.held_from = None
    order.version += 1
    session.flush()
    return order


def cancel_order(session: Session, order: WorkOrder, *, now: dt.datetime | None = None) -> WorkOrder:
    """Cancel an order that is not being worked on (put a running order on hold first)."""
    order = lock_order(session, order.id)
    if order.status not in (OrderStatus.DRAFT, OrderStatus.RELEASED, OrderStatus.ON_HOLD):
        raise refuse(order, "cancel")
    now = now or utcnow()
    for operation in order.operations:
        if operation.status is OperationStatus.PAUSED:
            timers.close_interval(operation, now)
            operation.status_since = None
    session.execute(
        sa.update(CrewMember)
        .where(CrewMember.operation_id.in_([op.id for op in order.operations]), CrewMember.left_at.is_(None))
        .values(left_at=now)
    )
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = now
    order.held_from = None
    order.version += 1
    session.flush()
    return order


def close_order(session: Session, order: WorkOrder, *, now: dt.datetime | None = None) -> WorkOrder:
    """Close a completed order (shipped, costed): nothing changes on it any more."""
    order = lock_order(session, order.id)
    if order.status is not OrderStatus.COMPLETED:
        raise refuse(order, "close")
    order.status = OrderStatus.CLOSED
    order.closed_at = now or utcnow()
    order.version += 1
    session.flush()
    return order


ACTIONS = {
    "release": release_order,
    "hold": hold_order,
    "resume": resume_order,
    "cancel": cancel_order,
    "close": close_order,
}
