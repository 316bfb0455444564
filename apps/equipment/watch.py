"""What the passing of time decides: offline machines, idle after a quiet run signal, stale data, long states.

Run by the leader worker every few seconds for every factory with the app (``jobs.watch``), and callable
directly with a session and a clock for tests.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.equipment import alarms, maintenance, states
from apps.equipment.ingest import commit_idle
from apps.equipment.labels import state_label
from apps.equipment.models import AlarmTrack, MachineConfig, MachineStatus, RuleKind, State
from apps.equipment.settings import setting
from platform_core.db import utcnow
from platform_core.masterdata.models import Machine


def watch(session: Session, now: dt.datetime | None = None) -> None:
    """One round of time-based checks for the session's factory."""
    now = now or utcnow()
    check_signals(session, now)
    check_rules(session, now)
    session.flush()


def check_signals(session: Session, now: dt.datetime) -> None:
    """Monitored machines: offline when silent too long; idle when the run signal stayed off (sent once)."""
    rows = session.execute(
        sa.select(MachineStatus.machine_id, MachineConfig.offline_after_s)
        .join(MachineConfig, MachineConfig.machine_id == MachineStatus.machine_id)
        .where(MachineConfig.run_metric_id.is_not(None), MachineStatus.telemetry_state.is_not(None))
        .order_by(MachineStatus.machine_id)
    ).all()
    default_offline = setting("EQUIPMENT_OFFLINE_AFTER_SECONDS")
    idle_after = dt.timedelta(seconds=setting("EQUIPMENT_IDLE_AFTER_SECONDS"))
    for machine_id, offline_after_s in rows:
        status = states.lock_status(session, machine_id)
        if status.telemetry_state is None:
            continue
        silent_since = status.last_data_at or status.since
        if now - silent_since >= dt.timedelta(seconds=offline_after_s or default_offline):
            status.telemetry_state, status.idle_candidate_at = None, None
            states.apply(session, status, silent_since, states.Details(note="no data"))
        elif status.idle_candidate_at is not None and now - status.idle_candidate_at >= idle_after:
            commit_idle(session, status)


def check_rules(session: Session, now: dt.datetime) -> None:
    """Stale-data and state-duration rules of every active machine."""
    machines = session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.id)).all()
    rules = alarms.rules_for(session, machines, (RuleKind.STALE, RuleKind.STATE))
    if not any(rules.values()):
        return
    statuses = {s.machine_id: s for s in session.scalars(sa.select(MachineStatus))}
    for machine in machines:
        for rule in rules[machine.id]:
            if rule.kind is RuleKind.STALE:
                _check_stale(session, rule, machine, now)
            else:
                _check_state(session, rule, machine, statuses.get(machine.id), now)


def _check_stale(session: Session, rule, machine: Machine, now: dt.datetime) -> None:
    last = session.scalar(
        sa.select(AlarmTrack.last_ts).where(AlarmTrack.rule_id == rule.id, AlarmTrack.machine_id == machine.id)
    )
    since = last or rule.created_at  # never any data: count from the rule's creation
    silent = (now - since).total_seconds()
    stale = silent > rule.threshold
    if stale or alarms.open_alarm(session, rule.id, machine.id) is not None:
        with alarms.factory_language(session):
            message = _("%(rule)s: no data for %(min)s min", rule=rule.name, min=f"{silent / 60:.0f}")
        alarms.set_condition(session, rule, machine, stale, at=now, message=message, value=silent)


def _check_state(session: Session, rule, machine: Machine, status: MachineStatus | None, now: dt.datetime) -> None:
    minutes = (now - status.since).total_seconds() / 60 if status is not None else 0.0
    active = status is not None and status.state is rule.state and minutes > rule.threshold
    if active or alarms.open_alarm(session, rule.id, machine.id) is not None:
        with alarms.factory_language(session):
            state = state_label(rule.state) if rule.state else ""
            message = _("%(rule)s: %(state)s for %(min)s min", rule=rule.name, state=state, min=f"{minutes:.0f}")
        alarm = alarms.set_condition(session, rule, machine, active, at=now, message=message, value=round(minutes, 1))
        if alarm is not None and rule.state is State.DOWN:  # down too long: a technician is called
            maintenance.call_for_repair(session, alarm, machine)
