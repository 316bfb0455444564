"""A machine's state timeline: intervals with no gaps and no overlaps, derived from three kinds of input.

Inputs live on the machine's :class:`MachineStatus` row:

* **manual**: an operator's "machine down" (until "back up") or a started planned maintenance;
* **orders**: the operations running on the machine (from the orders app's events), some of them in set-up;
* **telemetry**: the run signal's verdict (running or idle) and whether data still arrives (else offline).

The state is a pure function of them (:func:`derive_state`), in this order of precedence: planned maintenance,
down, set-up, offline (monitored machines only), then running or idle. Whenever an input changes at a moment
``at``, the state is derived again and, if it changed, the open interval is closed at ``at`` and a new one
opened. Every change locks the status row first, so sources writing concurrently queue per machine.

Automatic inputs that arrive late are applied at the start of the open interval at the earliest: history is
not rewritten by telemetry or events. An operator's down report may be dated back (a tablet that was offline)
up to ``EQUIPMENT_BACKDATE_LIMIT_HOURS``: the automatic intervals since then are replaced by the down interval,
which wins over all of them anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.equipment.models import (
    MachineConfig,
    MachineStatus,
    State,
    StateInterval,
    StateSource,
)
from apps.equipment.settings import setting
from platform_core import events
from platform_core.db import current_actor, utcnow
from platform_core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind

MANUAL_STATES = (State.DOWN, State.MAINTENANCE)


def derive_state(status: MachineStatus, monitored: bool) -> State:
    """The state the inputs call for (see the module docstring for the precedence)."""
    if status.manual is not None:
        return status.manual
    if status.setup_operations:
        return State.SETUP
    if monitored:
        return status.telemetry_state or State.OFFLINE
    return State.RUNNING if status.active_operations else State.IDLE


def is_monitored(session: Session, machine_id: int) -> bool:
    """Whether the machine has a run signal (a gateway), i.e. telemetry decides running, idle and offline."""
    run_metric = session.scalar(sa.select(MachineConfig.run_metric_id).where(MachineConfig.machine_id == machine_id))
    return run_metric is not None


# --- the status row and its lock ------------------------------------------------------------------------------


def lock_status(session: Session, machine_id: int, at: dt.datetime | None = None) -> MachineStatus:
    """The machine's status row, locked until the transaction ends; created (with a first interval) if missing."""
    statement = sa.select(MachineStatus).where(MachineStatus.machine_id == machine_id).with_for_update()
    status = session.scalar(statement)
    if status is not None:
        return status
    start = at or utcnow()
    try:
        with session.begin_nested():
            status = MachineStatus(machine_id=machine_id, state=State.IDLE, since=start)
            status.active_operations, status.setup_operations = [], []
            monitored = is_monitored(session, machine_id)
            status.state = derive_state(status, monitored)
            session.add(status)
            session.flush()
            first = StateInterval(
                machine_id=machine_id, state=status.state, started_at=start, source=source_of(status.state, monitored)
            )
            session.add(first)
            session.flush()
            status.open_interval_id = first.id
            session.flush()
    except IntegrityError:  # created at the same moment by another transaction: use theirs
        status = session.scalar(statement.execution_options(populate_existing=True))
        if status is None:
            raise
    return status


def source_of(state: State, monitored: bool) -> StateSource:
    """Which kind of input decided a derived state."""
    if state is State.MAINTENANCE:
        return StateSource.MAINTENANCE
    if state is State.DOWN:
        return StateSource.OPERATOR
    if state is State.SETUP or not monitored:
        return StateSource.ORDERS
    return StateSource.TELEMETRY


def open_interval(session: Session, status: MachineStatus) -> StateInterval:
    interval = session.get(StateInterval, status.open_interval_id) if status.open_interval_id else None
    if interval is None or interval.ended_at is not None:  # repair a lost pointer from the data itself
        interval = session.scalar(
            sa.select(StateInterval).where(
                StateInterval.machine_id == status.machine_id, StateInterval.ended_at.is_(None)
            )
        )
    if interval is None:
        raise RuntimeError(f"machine {status.machine_id} has a status but no open interval")
    return interval


# --- transitions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """What a new interval records besides its state and source."""

    reason_id: int | None = None
    note: str | None = None
    expected_up_at: dt.datetime | None = None
    reported_by: str | None = None


def apply(session: Session, status: MachineStatus, at: dt.datetime, details: Details) -> StateInterval:
    """Derive the state again after an input changed at ``at``; returns the open interval afterwards."""
    monitored = is_monitored(session, status.machine_id)
    new_state = derive_state(status, monitored)
    current = open_interval(session, status)
    if current.state is new_state:
        return current
    at = min(max(at, current.started_at), max(utcnow(), current.started_at))
    if at == current.started_at:
        interval = _replace(session, current, new_state, monitored, details)
    else:
        current.ended_at = at
        interval = StateInterval(machine_id=status.machine_id, state=new_state, started_at=at)
        _fill(interval, source_of(new_state, monitored), details)
        session.add(interval)
        session.flush()
    status.state, status.since, status.open_interval_id = interval.state, interval.started_at, interval.id
    session.flush()
    return interval


def _fill(interval: StateInterval, source: StateSource, details: Details) -> None:
    interval.source = source
    interval.reason_id = details.reason_id
    interval.note = details.note
    interval.expected_up_at = details.expected_up_at
    interval.reported_by = details.reported_by


def _replace(
    session: Session, current: StateInterval, state: State, monitored: bool, details: Details
) -> StateInterval:
    """A change at the very start of the open interval: change it in place, or join it to an equal predecessor."""
    previous = session.scalar(
        sa.select(StateInterval).where(
            StateInterval.machine_id == current.machine_id, StateInterval.ended_at == current.started_at
        )
    )
    if previous is not None and previous.state is state and state not in MANUAL_STATES:
        session.delete(current)
        session.flush()  # the open-interval index allows one open row: remove this one before reopening
        previous.ended_at = None
        session.flush()
        return previous
    current.state = state
    _fill(current, source_of(state, monitored), details)
    session.flush()
    return current


def _rewrite_from(session: Session, status: MachineStatus, at: dt.datetime, details: Details) -> StateInterval:
    """Replace the timeline from ``at`` on by one open interval of the derived state (backdated manual input)."""
    later = session.scalars(
        sa.select(StateInterval).where(StateInterval.machine_id == status.machine_id, StateInterval.started_at >= at)
    ).all()
    for interval in later:
        session.delete(interval)
    session.flush()
    containing = session.scalar(
        sa.select(StateInterval)
        .where(StateInterval.machine_id == status.machine_id, StateInterval.started_at < at)
        .order_by(StateInterval.started_at.desc())
        .limit(1)
    )
    if containing is not None:
        containing.ended_at = at
    monitored = is_monitored(session, status.machine_id)
    interval = StateInterval(machine_id=status.machine_id, state=derive_state(status, monitored), started_at=at)
    _fill(interval, source_of(interval.state, monitored), details)
    session.add(interval)
    session.flush()
    status.state, status.since, status.open_interval_id = interval.state, interval.started_at, interval.id
    return interval


# --- operator input: machine down, back up, classification ----------------------------------------------------


def _downtime_reason(session: Session, reason_id: int | None) -> ReasonCode | None:
    if reason_id is None:
        return None
    reason = session.get(ReasonCode, reason_id)
    if reason is None or reason.kind is not ReasonKind.DOWNTIME:
        raise ValidationFailed(_("Choose a downtime reason."), errors={"reason_id": [_("Not a downtime reason.")]})
    return reason


def _when(at: dt.datetime | None) -> dt.datetime:
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationFailed(_("Give the time with its time zone."), errors={"at": [_("Needs a UTC offset.")]})
    at = at.astimezone(dt.UTC)
    limit = now - dt.timedelta(hours=setting("EQUIPMENT_BACKDATE_LIMIT_HOURS"))
    if at < limit:
        raise ValidationFailed(
            _("A report can be dated back %(h)s hours at most.", h=setting("EQUIPMENT_BACKDATE_LIMIT_HOURS")),
            errors={"at": [_("Too far in the past.")]},
        )
    return min(at, now)


def report_down(
    session: Session,
    machine: Machine,
    *,
    reason_id: int | None = None,
    at: dt.datetime | None = None,
    note: str | None = None,
    expected_up_at: dt.datetime | None = None,
) -> StateInterval:
    """An operator reports the machine down (the reason may come later: the interval is then unclassified)."""
    at = _when(at)
    reason = _downtime_reason(session, reason_id)
    status = lock_status(session, machine.id, at)
    if status.manual is State.DOWN:
        raise InvalidTransition(_("The machine is already down."), current_state=status.state.value)
    if status.manual is State.MAINTENANCE:
        raise InvalidTransition(_("The machine is in planned maintenance."), current_state=status.state.value)
    status.manual = State.DOWN
    details = Details(
        reason_id=reason.id if reason else None,
        note=note,
        expected_up_at=expected_up_at,
        reported_by=current_actor(session).label,
    )
    current = open_interval(session, status)
    if at < current.started_at:
        _refuse_rewriting_manual_history(session, machine.id, at)
        interval = _rewrite_from(session, status, at, details)
    else:
        interval = apply(session, status, at, details)
    events.publish(
        session,
        "equipment.machine_down",
        {
            "machine_id": machine.id,
            "machine_code": machine.code,
            "reason_code": reason.code if reason else None,
            "since": interval.started_at.isoformat(),
            "expected_up_at": expected_up_at.isoformat() if expected_up_at else None,
        },
    )
    return interval


def _refuse_rewriting_manual_history(session: Session, machine_id: int, at: dt.datetime) -> None:
    """A backdated report may only replace automatic states (another down or a maintenance stays as it was)."""
    limit = earliest_backdate(session, machine_id)
    if limit is not None and at < limit:
        raise Conflict(
            _("The machine was already down or in maintenance at that time."), errors={"at": [_("Overlaps.")]}
        )


def earliest_backdate(session: Session, machine_id: int) -> dt.datetime | None:
    """How far back a down report may reach: to the end of the machine's last down or maintenance (None: any
    time). Intervals of a machine never overlap, so the one that started last also ended last."""
    last = session.execute(
        sa.select(StateInterval.ended_at)
        .where(StateInterval.machine_id == machine_id, StateInterval.state.in_(MANUAL_STATES))
        .order_by(StateInterval.started_at.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    return last.ended_at or utcnow()  # still open: nothing can be backdated past it


def report_up(session: Session, machine: Machine, *, at: dt.datetime | None = None) -> StateInterval:
    """The operator reports the machine running again; the state returns to what the other inputs say."""
    at = _when(at)
    status = lock_status(session, machine.id, at)
    if status.manual is not State.DOWN:
        raise InvalidTransition(_("The machine is not down."), current_state=status.state.value)
    down = open_interval(session, status)
    if at <= down.started_at:
        raise ValidationFailed(_("The machine went down after that time."), errors={"at": [_("Before the down.")]})
    status.manual = None
    interval = apply(session, status, at, Details(reported_by=current_actor(session).label))
    minutes = (at - down.started_at).total_seconds() / 60
    events.publish(
        session,
        "equipment.machine_up",
        {"machine_id": machine.id, "since": at.isoformat(), "down_minutes": round(minutes, 1)},
    )
    return interval


def classify(session: Session, interval: StateInterval, reason_id: int, note: str | None = None) -> StateInterval:
    """A supervisor names the reason of a down interval (flagged while it has none)."""
    if interval.state is not State.DOWN:
        raise InvalidTransition(_("Only downtime is classified."), current_state=interval.state.value)
    reason = _downtime_reason(session, reason_id)
    interval.reason_id = reason.id
    if note is not None:
        interval.note = note
    interval.classified_by = current_actor(session).label
    interval.classified_at = utcnow()
    session.flush()
    return interval


# --- planned maintenance --------------------------------------------------------------------------------------


def start_maintenance(session: Session, machine_id: int, at: dt.datetime, note: str) -> None:
    status = lock_status(session, machine_id, at)
    status.manual = State.MAINTENANCE
    apply(session, status, at, Details(note=note, reported_by=current_actor(session).label))


def end_maintenance(session: Session, machine_id: int, at: dt.datetime) -> None:
    status = lock_status(session, machine_id, at)
    if status.manual is State.MAINTENANCE:
        status.manual = None
        apply(session, status, at, Details(reported_by=current_actor(session).label))


# --- the orders app's operations ------------------------------------------------------------------------------


def operation_started(
    session: Session, machine_id: int, operation_id: int, order_id: int | None, at: dt.datetime, setup: bool
) -> None:
    status = lock_status(session, machine_id, at)
    status.active_operations = _with(status.active_operations, operation_id)
    status.setup_operations = (
        _with(status.setup_operations, operation_id) if setup else _without(status.setup_operations, operation_id)
    )
    status.operation_id, status.order_id = operation_id, order_id
    apply(session, status, at, Details())


def operation_produced(session: Session, machine_id: int, operation_id: int, at: dt.datetime) -> None:
    """Quantities were reported: an operation still marked in set-up is producing now."""
    status = lock_status(session, machine_id, at)
    if operation_id in status.setup_operations:
        status.setup_operations = _without(status.setup_operations, operation_id)
        apply(session, status, at, Details())


def operation_stopped(session: Session, machine_id: int, operation_id: int, at: dt.datetime) -> None:
    """Paused or completed: the operation no longer runs on the machine."""
    status = lock_status(session, machine_id, at)
    status.active_operations = _without(status.active_operations, operation_id)
    status.setup_operations = _without(status.setup_operations, operation_id)
    if status.operation_id == operation_id:
        status.operation_id = status.active_operations[-1] if status.active_operations else None
        if status.operation_id is None:
            status.order_id = None
    apply(session, status, at, Details())


def _with(values: Iterable[int], value: int) -> list[int]:
    return [*[v for v in values if v != value], value]


def _without(values: Iterable[int], value: int) -> list[int]:
    return [v for v in values if v != value]


# --- reading --------------------------------------------------------------------------------------------------


def intervals_between(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> list[StateInterval]:
    """The intervals that overlap ``[start, end)``, oldest first (the open one included)."""
    return list(
        session.scalars(
            sa.select(StateInterval)
            .where(
                StateInterval.machine_id == machine_id,
                StateInterval.started_at < end,
                sa.or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > start),
            )
            .order_by(StateInterval.started_at)
        )
    )


def get_interval(session: Session, interval_id: int) -> StateInterval:
    interval = session.get(StateInterval, interval_id)
    if interval is None:
        raise NotFound(_("No such machine state."))
    return interval
