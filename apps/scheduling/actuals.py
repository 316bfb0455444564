"""What really ran: stretches of time per operation and machine, from the orders app's shop-floor events.

``orders.operation_started`` (also sent on resume) opens a stretch, ``orders.operation_paused`` and
``orders.operation_completed`` close it. The platform runs each subscriber once per event; a start that arrives
twice (a redelivery after a crash of the sender's delivery) still opens one stretch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.scheduling.models import Actual
from platform_core.events import Event
from platform_core.masterdata.models import Machine


def _moment(value: Any, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return fallback


def _open(session: Session, operation_id: int) -> Actual | None:
    return session.scalar(
        sa.select(Actual)
        .where(Actual.operation_id == operation_id, Actual.ended_at.is_(None))
        .order_by(Actual.started_at.desc())
    )


def on_operation_started(session: Session, event: Event) -> None:
    payload = event.payload
    operation_id = payload.get("operation_id")
    if not isinstance(operation_id, int):
        return
    at = _moment(payload.get("started_at"), event.occurred_at)
    current = _open(session, operation_id)
    if current is not None:
        if current.started_at == at:
            return
        current.ended_at = max(current.started_at, at)  # a stop we never heard of
    machine_id = payload.get("machine_id")
    machine = session.get(Machine, machine_id) if isinstance(machine_id, int) else None
    session.add(
        Actual(
            operation_id=operation_id,
            order_id=int(payload.get("order_id") or 0),
            machine_id=machine.id if machine else None,
            started_at=at,
        )
    )
    session.flush()


def _close(session: Session, event: Event, key: str, completed: bool) -> None:
    operation_id = event.payload.get("operation_id")
    if not isinstance(operation_id, int):
        return
    current = _open(session, operation_id)
    if current is None:
        return
    current.ended_at = max(current.started_at, _moment(event.payload.get(key), event.occurred_at))
    current.completed = completed
    session.flush()


def on_operation_paused(session: Session, event: Event) -> None:
    _close(session, event, "paused_at", False)


def on_operation_completed(session: Session, event: Event) -> None:
    _close(session, event, "completed_at", True)


def between(session: Session, start: dt.datetime, end: dt.datetime) -> list[Actual]:
    """Stretches overlapping ``[start, end)``; one still running counts as running until now."""
    return list(
        session.scalars(
            sa.select(Actual)
            .where(Actual.started_at < end, sa.or_(Actual.ended_at.is_(None), Actual.ended_at > start))
            .order_by(Actual.started_at)
        )
    )
