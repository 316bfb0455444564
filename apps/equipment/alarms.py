"""Alarm rules and alarms: evaluation with hysteresis and minimum duration, and the alarm lifecycle.

Value rules (high, low, rate of change) are evaluated on the points of each ingested batch, in time order;
stale-data and state rules by the periodic watch; trend and anomaly rules by the predictive job. Whatever the
source, a rule's evaluation on a machine first locks that pair's :class:`AlarmTrack`, so two batches of the
same machine (one over HTTP, one over MQTT) evaluate it one after the other; the partial unique index on open
alarms is the backstop: there is never more than one not-cleared alarm per rule and machine.

Lifecycle: active → acknowledged (a person saw it) → cleared (the condition ended, or a person cleared it).
Raising and clearing publish ``equipment.alarm_raised`` / ``equipment.alarm_cleared``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.equipment.models import Alarm, AlarmRule, AlarmStatus, AlarmTrack, Metric, RuleKind
from platform_core import events
from platform_core.db import current_actor, current_tenant_id, utcnow
from platform_core.errors import InvalidTransition, NotFound
from platform_core.masterdata.models import Machine
from platform_core.tenants.models import Tenant

VALUE_RULES = (RuleKind.HIGH, RuleKind.LOW, RuleKind.RATE)
SYSTEM = "system"


@contextlib.contextmanager
def factory_language(session: Session) -> Iterator[None]:
    """Alarm messages are stored: write them in the factory's language, whoever or whatever raised them."""
    tenant = session.get(Tenant, current_tenant_id(session))
    with force_locale(tenant.default_locale if tenant else "en"):
        yield


def rules_for(session: Session, machines: Iterable[Machine], kinds: Sequence[RuleKind]) -> dict[int, list[AlarmRule]]:
    """Active rules of the given kinds per machine id: the machine's own and those of its model."""
    machines = list(machines)
    if not machines:
        return {}
    ids = [m.id for m in machines]
    models = sorted({m.model for m in machines if m.model})
    scope = AlarmRule.machine_id.in_(ids)
    if models:
        scope = sa.or_(scope, AlarmRule.machine_model.in_(models))
    rules = session.scalars(
        sa.select(AlarmRule).where(AlarmRule.active, AlarmRule.kind.in_(kinds), scope).order_by(AlarmRule.id)
    ).all()
    found: dict[int, list[AlarmRule]] = {m.id: [] for m in machines}
    for machine in machines:
        for rule in rules:
            if rule.machine_id == machine.id or (
                rule.machine_model is not None and rule.machine_model == machine.model
            ):
                found[machine.id].append(rule)
    return found


def lock_track(session: Session, rule: AlarmRule, machine_id: int) -> AlarmTrack:
    """The evaluation memory of a rule on a machine, locked until the transaction ends (created if missing)."""
    statement = (
        sa.select(AlarmTrack)
        .where(AlarmTrack.rule_id == rule.id, AlarmTrack.machine_id == machine_id)
        .with_for_update()
    )
    track = session.scalar(statement)
    if track is not None:
        return track
    try:
        with session.begin_nested():
            track = AlarmTrack(rule_id=rule.id, machine_id=machine_id)
            session.add(track)
            session.flush()
    except IntegrityError:
        track = session.scalar(statement.execution_options(populate_existing=True))
        if track is None:
            raise
    return track


def open_alarm(session: Session, rule_id: int, machine_id: int) -> Alarm | None:
    return session.scalar(
        sa.select(Alarm).where(Alarm.rule_id == rule_id, Alarm.machine_id == machine_id, Alarm.cleared_at.is_(None))
    )


# --- value rules on ingested points ---------------------------------------------------------------------------


def evaluate_points(
    session: Session, rule: AlarmRule, machine: Machine, points: Sequence[tuple[dt.datetime, float]]
) -> None:
    """Run a high, low or rate rule over new points of its metric (oldest first); older points are skipped."""
    track = lock_track(session, rule, machine.id)
    alarm = open_alarm(session, rule.id, machine.id)
    for ts, value in points:
        if track.last_ts is not None and ts <= track.last_ts:
            continue  # late or repeated point: the rule has already judged this moment
        measured = value
        if rule.kind is RuleKind.RATE:
            if track.last_ts is None:
                track.last_ts, track.last_value = ts, value
                continue
            minutes = (ts - track.last_ts).total_seconds() / 60
            measured = abs(value - track.last_value) / minutes
        raising, clearing = _condition(rule, measured)
        track.last_ts, track.last_value = ts, value
        if alarm is not None:
            if clearing:
                clear(session, alarm, at=ts, by=SYSTEM)
                alarm = None
                track.condition_since = None
            continue
        if not raising:
            track.condition_since = None
            continue
        track.condition_since = track.condition_since or ts
        if (ts - track.condition_since).total_seconds() >= rule.min_duration_s:
            alarm = raise_alarm(session, rule, machine, at=ts, value=measured, message=_value_message(rule, measured))
    session.flush()


def _condition(rule: AlarmRule, value: float) -> tuple[bool, bool]:
    """(raises, clears) for a measured value: the band between threshold and threshold ∓ hysteresis does neither."""
    if rule.kind is RuleKind.LOW:
        return value < rule.threshold, value >= rule.threshold + rule.hysteresis
    return value > rule.threshold, value <= rule.threshold - rule.hysteresis


def _value_message(rule: AlarmRule, value: float) -> str:
    metric = rule.metric
    unit = f" {metric.unit}" if metric and metric.unit else ""
    if rule.kind is RuleKind.RATE:
        return f"{rule.name}: {value:.4g}{unit}/min (> {rule.threshold:g}{unit}/min)"
    sign = "<" if rule.kind is RuleKind.LOW else ">"
    return f"{rule.name}: {value:.4g}{unit} ({sign} {rule.threshold:g}{unit})"  # numbers and signs: any language


# --- conditions judged by time (watch job) --------------------------------------------------------------------


def set_condition(
    session: Session,
    rule: AlarmRule,
    machine: Machine,
    active: bool,
    *,
    at: dt.datetime,
    message: str = "",
    value: float | None = None,
    detail: dict | None = None,
) -> Alarm | None:
    """Raise (once) or clear the rule's alarm on the machine according to a condition judged elsewhere."""
    track = lock_track(session, rule, machine.id)
    if detail is not None:
        track.detail = detail
    alarm = open_alarm(session, rule.id, machine.id)
    if active and alarm is None:
        alarm = raise_alarm(session, rule, machine, at=at, value=value, message=message)
    elif not active and alarm is not None:
        clear(session, alarm, at=at, by=SYSTEM)
        alarm = None
    session.flush()
    return alarm


# --- lifecycle ------------------------------------------------------------------------------------------------


def raise_alarm(
    session: Session, rule: AlarmRule, machine: Machine, *, at: dt.datetime, value: float | None, message: str
) -> Alarm | None:
    """Create the alarm unless one is open for this rule and machine; publishes ``equipment.alarm_raised``."""
    try:
        with session.begin_nested():
            alarm = Alarm(
                rule_id=rule.id,
                machine_id=machine.id,
                severity=rule.severity,
                message=message[:300],
                value=value,
                raised_at=at,
            )
            session.add(alarm)
            session.flush()
    except IntegrityError:
        return open_alarm(session, rule.id, machine.id)  # raised by a concurrent transaction meanwhile
    events.publish(
        session,
        "equipment.alarm_raised",
        {
            "alarm_id": alarm.id,
            "machine_id": machine.id,
            "machine_code": machine.code,
            "rule": rule.code,
            "kind": rule.kind.value,
            "severity": rule.severity.value,
            "message": alarm.message,
            "raised_at": at.isoformat(),
        },
    )
    return alarm


def acknowledge(session: Session, alarm: Alarm) -> Alarm:
    if alarm.status is not AlarmStatus.ACTIVE:
        raise InvalidTransition(_("Only an active alarm can be acknowledged."), current_state=alarm.status.value)
    alarm.status = AlarmStatus.ACKNOWLEDGED
    alarm.acknowledged_at = utcnow()
    alarm.acknowledged_by = current_actor(session).label
    session.flush()
    return alarm


def clear(session: Session, alarm: Alarm, *, at: dt.datetime | None = None, by: str | None = None) -> Alarm:
    """End an alarm; a person clearing it resets the rule's timer, so the condition must persist again to re-raise."""
    if alarm.status is AlarmStatus.CLEARED:
        raise InvalidTransition(_("The alarm is already cleared."), current_state=alarm.status.value)
    alarm.status = AlarmStatus.CLEARED
    alarm.cleared_at = at or utcnow()
    alarm.cleared_by = by or current_actor(session).label
    if by is None:
        session.execute(
            sa.update(AlarmTrack)
            .where(AlarmTrack.rule_id == alarm.rule_id, AlarmTrack.machine_id == alarm.machine_id)
            .values(condition_since=None)
        )
    session.flush()
    events.publish(
        session,
        "equipment.alarm_cleared",
        {"alarm_id": alarm.id, "machine_id": alarm.machine_id, "cleared_at": alarm.cleared_at.isoformat()},
    )
    return alarm


def active_alarms(session: Session, machine_ids: Iterable[int] | None = None) -> list[Alarm]:
    statement = sa.select(Alarm).where(Alarm.cleared_at.is_(None)).order_by(Alarm.raised_at.desc())
    if machine_ids is not None:
        statement = statement.where(Alarm.machine_id.in_(list(machine_ids)))
    return list(session.scalars(statement))


def get_alarm(session: Session, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(_("No such alarm."))
    return alarm


def get_rule(session: Session, rule_id: int) -> AlarmRule:
    rule = session.get(AlarmRule, rule_id)
    if rule is None:
        raise NotFound(_("No such alarm rule."))
    return rule


def metric_by_id(session: Session, metric_id: int | None) -> Metric | None:
    return session.get(Metric, metric_id) if metric_id else None
