"""Subscribers to the orders app's events (declared in the manifest): counts, set-up and running states.

The equipment app never imports the orders app; it reads the event payloads. An operation starts in set-up when
``orders.operation_started`` says so: its ``phase`` is ``"setup"``, or, without a phase, it carries the
operation's planned ``setup_minutes`` (more than 0) and no quantities have been reported on it yet, so a set-up
paused and resumed is still a set-up. The set-up lasts until production starts (a later start in production,
or the first quantities reported). Redeliveries are harmless: the platform runs each subscriber once per event,
and counts are unique per event.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import states
from apps.equipment.models import OrderRef, ProductionCount
from platform_core.db import utcnow
from platform_core.events import Event
from platform_core.masterdata.models import Machine


def _moment(value, fallback: dt.datetime) -> dt.datetime:
    """An event's timestamp (ISO 8601; naive values are UTC), or ``fallback``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return fallback
    else:
        return fallback
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _machine(session: Session, payload: dict) -> Machine | None:
    machine_id = payload.get("machine_id")
    return session.get(Machine, machine_id) if isinstance(machine_id, int) else None


def on_order_released(session: Session, event: Event) -> None:
    """Keep the order's number and product, to show them on the machine wall."""
    payload = event.payload
    ref = session.scalar(sa.select(OrderRef).where(OrderRef.order_id == payload["order_id"]))
    if ref is None:
        ref = OrderRef(order_id=payload["order_id"])
        session.add(ref)
    ref.number, ref.product_code = str(payload.get("number") or payload["order_id"]), payload.get("product_code")


def on_operation_started(session: Session, event: Event) -> None:
    payload = event.payload
    machine = _machine(session, payload)
    if machine is None:
        return  # an operation without a machine (manual work) or on a machine of no interest
    at = _moment(payload.get("started_at"), event.occurred_at)
    setup = _starts_in_setup(session, machine, payload)
    states.operation_started(session, machine.id, payload["operation_id"], payload.get("order_id"), at, setup)


def _starts_in_setup(session: Session, machine: Machine, payload: dict) -> bool:
    """Whether a started operation is being set up (see the module docstring)."""
    phase = payload.get("phase")
    if phase is not None:
        return phase == "setup"
    minutes = payload.get("setup_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
        return False
    if not payload.get("resumed"):
        return True  # a first start: nothing can have been reported yet
    reported = sa.select(ProductionCount.id).where(
        ProductionCount.machine_id == machine.id, ProductionCount.operation_id == payload["operation_id"]
    )
    return session.scalar(reported.limit(1)) is None


def on_operation_paused(session: Session, event: Event) -> None:
    machine = _machine(session, event.payload)
    if machine is not None:
        at = _moment(event.payload.get("paused_at"), event.occurred_at)
        states.operation_stopped(session, machine.id, event.payload["operation_id"], at)


def on_operation_completed(session: Session, event: Event) -> None:
    machine = _machine(session, event.payload)
    if machine is not None:
        at = _moment(event.payload.get("completed_at"), event.occurred_at)
        states.operation_stopped(session, machine.id, event.payload["operation_id"], at)


def on_operation_reported(session: Session, event: Event) -> None:
    """Record the quantities for OEE and plan counts; quantities end a set-up."""
    payload = event.payload
    machine = _machine(session, payload)
    if machine is None:
        return
    if session.scalar(sa.select(ProductionCount.id).where(ProductionCount.event_id == event.id)) is not None:
        return
    at = _moment(payload.get("reported_at"), event.occurred_at or utcnow())
    session.add(
        ProductionCount(
            machine_id=machine.id,
            at=at,
            good=float(payload.get("good") or 0),
            scrap=float(payload.get("scrap") or 0),
            rework=float(payload.get("rework") or 0),
            order_id=payload.get("order_id"),
            operation_id=payload.get("operation_id"),
            event_id=event.id,
        )
    )
    session.flush()
    states.operation_produced(session, machine.id, payload["operation_id"], at)


SUBSCRIPTIONS = {
    "orders.order_released": on_order_released,
    "orders.operation_started": on_operation_started,
    "orders.operation_paused": on_operation_paused,
    "orders.operation_completed": on_operation_completed,
    "orders.operation_reported": on_operation_reported,
}
