"""Domain events between apps: declared once here, published into an outbox, delivered after commit.

* ``publish(session, name, payload)`` adds an ``OutboxEvent`` row inside the business transaction: the event
  exists if and only if the change it announces was committed.
* After the commit the event is delivered at once (best effort) to the in-process subscribers that apps declare
  in their manifest (``subscriptions={"orders.operation_completed": handler}``) and queued for the tenant's
  webhooks. The worker's sweep delivers whatever is still undelivered (a crash between commit and delivery, a
  failing subscriber), with backoff. Delivery is at-least-once; each subscriber runs in its own transaction and
  records an ``EventReceipt`` (event id, subscriber) in it, so a redelivery never runs a subscriber twice.
* An app reacts to another app's events through these payloads and never imports the other app's models.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from platform_core.db import (
    SKIP_TENANT_FILTER,
    Actor,
    Base,
    TenantScoped,
    UTCDateTime,
    current_actor,
    db,
    set_tenant,
    utcnow,
)

log = logging.getLogger(__name__)

PENDING_KEY = "mes.outbox"
SAVEPOINT_MARKS_KEY = "mes.outbox_savepoints"  # savepoint -> how many events were pending when it began
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class EventType:
    """A kind of domain event: its name, what it means and the payload keys it always carries."""

    name: str
    doc: str
    payload: tuple[str, ...]


CATALOG: dict[str, EventType] = {}


def declare(name: str, payload: Iterable[str], doc: str) -> EventType:
    event_type = EventType(name, doc, tuple(payload))
    CATALOG[name] = event_type
    return event_type


# --- the catalog ----------------------------------------------------------------------------------------------
# orders
declare(
    "orders.order_released",
    ("order_id", "number", "product_code", "quantity", "due_at"),
    "A work order was released to the shop floor with its routing snapshot.",
)
declare(
    "orders.operation_started",
    ("order_id", "operation_id", "machine_id", "employee_id", "started_at"),
    "An operator started an operation on a machine.",
)
declare(
    "orders.operation_paused",
    ("order_id", "operation_id", "machine_id", "reason_code", "paused_at"),
    "An operation was paused, with the pause reason.",
)
declare(
    "orders.operation_reported",
    (
        "order_id",
        "operation_id",
        "machine_id",
        "employee_id",
        "good",
        "scrap",
        "rework",
        "scrap_reason_code",
        "output_lot",
        "consumed_lots",
        "reported_at",
    ),
    "Quantities were reported on an operation (one tablet submission).",
)
declare(
    "orders.operation_completed",
    ("order_id", "operation_id", "machine_id", "good_total", "scrap_total", "completed_at"),
    "An operation was completed; totals are final.",
)
declare(
    "orders.order_completed",
    ("order_id", "number", "good_total", "completed_at"),
    "Every operation of a work order is complete.",
)
# equipment
declare(
    "equipment.machine_down",
    ("machine_id", "reason_code", "since", "expected_up_at"),
    "A machine stopped (operator report or telemetry rule); expected_up_at may be null.",
)
declare("equipment.machine_up", ("machine_id", "since", "down_minutes"), "A machine that was down runs again.")
declare(
    "equipment.alarm_raised",
    ("alarm_id", "machine_id", "rule", "severity", "message", "raised_at"),
    "An alarm rule fired on a machine.",
)
declare("equipment.alarm_cleared", ("alarm_id", "machine_id", "cleared_at"), "An alarm condition ended.")
declare(
    "equipment.maintenance_planned",
    ("maintenance_id", "machine_id", "starts_at", "ends_at"),
    "A maintenance window was planned: the machine is unavailable then.",
)
declare(
    "equipment.maintenance_completed",
    ("maintenance_id", "machine_id", "completed_at"),
    "A maintenance work order was completed.",
)
# quality
declare("quality.lot_held", ("lot", "ncr_id", "reason"), "A lot is on hold: no further reporting on it.")
declare("quality.lot_released", ("lot", "ncr_id"), "A held lot was released by quality.")
declare(
    "quality.inspection_failed",
    ("inspection_id", "order_id", "operation_id", "lot"),
    "An inspection failed at least one characteristic.",
)
declare(
    "quality.spc_violation",
    ("characteristic_id", "rule", "message", "point_at"),
    "A control-chart rule fired on a new point.",
)
# scheduling
declare(
    "scheduling.schedule_published",
    ("schedule_id", "version", "published_at", "machine_ids"),
    "A schedule version became the plan; dispatch lists follow it.",
)
declare(
    "scheduling.repair_proposed",
    ("schedule_id", "cause", "affected_order_ids"),
    "A repair schedule was proposed after a disruption.",
)


class OutboxEvent(TenantScoped, Base):
    """An event committed with the change it announces, until it is delivered."""

    __tablename__ = "platform_outbox"
    __table_args__ = (sa.Index("ix_platform_outbox_pending", "dispatched_at", "next_attempt_at"),)
    __audit__ = False

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]]
    actor: Mapped[dict[str, Any]]
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class EventReceipt(TenantScoped, Base):
    """A subscriber handled an event (its idempotency record)."""

    __tablename__ = "platform_event_receipts"
    __table_args__ = (sa.UniqueConstraint("event_id", "subscriber"),)
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36))
    subscriber: Mapped[str] = mapped_column(sa.String(120))
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class Event:
    """What a subscriber receives."""

    id: str
    name: str
    tenant_id: int
    payload: dict[str, Any]
    occurred_at: dt.datetime
    actor: dict[str, Any]


class UnknownEvent(ValueError):
    pass


def publish(session: Session, name: str, payload: dict[str, Any]) -> str:
    """Record an event in the current transaction; it is delivered once the transaction commits."""
    event_type = CATALOG.get(name)
    if event_type is None:
        raise UnknownEvent(f"undeclared event {name!r}")
    missing = set(event_type.payload) - set(payload)
    if missing:
        raise UnknownEvent(f"{name} payload lacks {sorted(missing)}")
    event_id = str(uuid.uuid4())
    session.add(OutboxEvent(id=event_id, name=name, payload=payload, actor=current_actor(session).as_dict()))
    session.info.setdefault(PENDING_KEY, []).append(event_id)
    return event_id


# SQLAlchemy also calls after_commit when a SAVEPOINT is released and after_rollback when one is rolled back.
# Pending events belong to the real (outermost) transaction: a released savepoint keeps them waiting, a rolled
# back savepoint forgets only the events published inside it (their outbox rows are gone with it).


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(SAVEPOINT_MARKS_KEY, {})[transaction] = len(session.info.get(PENDING_KEY, ()))


@sa_event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # a savepoint released: its events wait for the real commit
        session.info.get(SAVEPOINT_MARKS_KEY, {}).pop(savepoint, None)
        return
    session.info.pop(SAVEPOINT_MARKS_KEY, None)
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    try:
        if not current_app.config.get("EVENTS_DELIVER_INLINE", True):
            return  # the worker's sweep delivers them
        deliver(pending)
    except Exception:  # never let delivery trouble reach the committed request; the sweep retries
        log.exception("inline event delivery failed; the worker will retry")


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if not transaction.nested:
        return
    mark = session.info.get(SAVEPOINT_MARKS_KEY, {}).pop(transaction, None)
    pending = session.info.get(PENDING_KEY)
    if mark is not None and pending:
        del pending[mark:]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_after_the_transaction(session: Session, transaction: SessionTransaction) -> None:
    """Whatever is still pending when the real transaction ends (rolled back, closed) was never committed."""
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)
        session.info.pop(SAVEPOINT_MARKS_KEY, None)


# --- delivery -------------------------------------------------------------------------------------------------


def subscribers(name: str) -> list[tuple[str, str, Callable[[Session, Event], None]]]:
    """(app name, subscriber name, handler) of every installed app subscribed to ``name``."""
    from platform_core.registry import get_registry

    found = []
    for manifest in get_registry():
        handlers = manifest.subscriptions.get(name, ())
        for handler in handlers if isinstance(handlers, tuple | list) else (handlers,):
            found.append((manifest.name, f"{manifest.name}.{handler.__name__}", handler))
    return found


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(0, attempts - 1)))


def deliver(event_ids: Iterable[str]) -> None:
    for event_id in event_ids:
        deliver_one(event_id)


def deliver_one(event_id: str) -> bool:
    """Run every subscriber that has not handled the event yet and queue its webhooks; True when done."""
    from platform_core.tenants.models import TenantApp

    with db.unit_of_work() as session:
        row = session.scalar(
            sa.select(OutboxEvent).where(OutboxEvent.id == event_id).execution_options(**{SKIP_TENANT_FILTER: True})
        )
        if row is None or row.dispatched_at is not None:
            return True
        event = Event(row.id, row.name, row.tenant_id, row.payload, row.occurred_at, row.actor)
        enabled = set(session.scalars(sa.select(TenantApp.app).where(TenantApp.tenant_id == row.tenant_id)))
        handlers = [(name, handler) for app, name, handler in subscribers(event.name) if app in enabled]
        if not handlers:  # nobody to run: settle it in this same transaction
            set_tenant(session, event.tenant_id)
            _settle(session, row, event, errors=[])
            return True
    errors = []
    for subscriber, handler in handlers:
        try:
            with db.unit_of_work(event.tenant_id, actor=Actor(f"event:{event.name}")) as session:
                done = sa.select(EventReceipt.id).where(
                    EventReceipt.event_id == event.id, EventReceipt.subscriber == subscriber
                )
                if session.scalar(done) is not None:
                    continue
                handler(session, event)
                session.add(EventReceipt(event_id=event.id, subscriber=subscriber))
        except Exception as exc:
            log.exception("subscriber %s failed on event %s", subscriber, event.id)
            errors.append(f"{subscriber}: {type(exc).__name__}: {exc}")
    with db.unit_of_work(event.tenant_id) as session:
        _settle(session, session.get(OutboxEvent, event.id), event, errors)
    return not errors


def _settle(session: Session, row: OutboxEvent, event: Event, errors: list[str]) -> None:
    """Queue the event's webhooks and record the attempt: dispatched, or retried later with back-off."""
    from platform_core.webhooks import queue_deliveries

    queue_deliveries(session, event)
    row.attempts += 1
    if errors:
        row.last_error = "\n".join(errors)[:4000]
        row.next_attempt_at = utcnow() + _backoff(row.attempts)
    else:
        row.dispatched_at = utcnow()
        row.last_error = None


def sweep(limit: int = 200, min_age_seconds: int = 5) -> int:
    """Worker job: deliver events still undelivered (crash, failure); returns how many were delivered."""
    now = utcnow()
    with db.unit_of_work() as session:
        statement = (
            sa.select(OutboxEvent.id)
            .where(
                OutboxEvent.dispatched_at.is_(None),
                OutboxEvent.occurred_at <= now - dt.timedelta(seconds=min_age_seconds),
                sa.or_(OutboxEvent.next_attempt_at.is_(None), OutboxEvent.next_attempt_at <= now),
            )
            .order_by(OutboxEvent.occurred_at)
            .limit(limit)
            .execution_options(**{SKIP_TENANT_FILTER: True})
        )
        due = list(session.scalars(statement))
    return sum(deliver_one(event_id) for event_id in due)
