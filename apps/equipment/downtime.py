"""Downtime analysis: Pareto of down time by reason, machine, work center or shift; MTBF and MTTR per machine.

Down time is wall-clock time: the part of each down interval inside the period (an ongoing downtime counts up
to now), breaks included, because a repair goes on through lunch (OEE, by contrast, only counts planned
production time). For the shift Pareto a downtime is split over the shift instances it overlaps (a shift's
span includes its breaks); time outside every shift is reported as such. A failure is a down interval that
*began* in the period:

* MTTR (mean time to repair) = total duration of those failures / their number;
* MTBF (mean time between failures) = up time in the period (every state but down, maintenance and offline)
  / number of failures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment.models import State, StateInterval
from apps.equipment.shifts import ShiftBook
from platform_core.db import utcnow
from platform_core.masterdata.models import Machine, ReasonCode

PARETO_GROUPINGS = ("reason", "machine", "work_center", "shift")
UNCLASSIFIED = "unclassified"
OUTSIDE_SHIFTS = "outside_shifts"


def _seconds(a: dt.datetime, b: dt.datetime, start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, (min(b, end) - max(a, start)).total_seconds())


def _intervals(session: Session, machine_ids: list[int], start: dt.datetime, end: dt.datetime, states):
    return session.scalars(
        sa.select(StateInterval)
        .where(
            StateInterval.machine_id.in_(machine_ids),
            StateInterval.state.in_(states),
            StateInterval.started_at < end,
            sa.or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > start),
        )
        .order_by(StateInterval.machine_id, StateInterval.started_at)
    ).all()


@dataclass
class ParetoBar:
    key: str
    minutes: float
    occurrences: int
    share: float = 0.0
    cumulative: float = 0.0


def pareto(
    session: Session,
    machines: Iterable[Machine],
    start: dt.datetime,
    end: dt.datetime,
    by: str = "reason",
    locale: str = "zh_CN",
    now: dt.datetime | None = None,
) -> list[ParetoBar]:
    """Down minutes per group, largest first, with each group's share and the cumulative share."""
    now = now or utcnow()
    machines = {m.id: m for m in machines}
    if not machines:
        return []
    end = min(end, now)
    minutes: dict[str, float] = defaultdict(float)
    occurrences: dict[str, int] = defaultdict(int)
    book = ShiftBook(session, start - dt.timedelta(days=1), end) if by == "shift" else None
    reasons: dict[int, ReasonCode] = {}
    for interval in _intervals(session, list(machines), start, end, [State.DOWN]):
        machine = machines[interval.machine_id]
        stop = interval.ended_at or now
        if by == "shift":
            for key, seconds in _by_shift(book, machine, interval.started_at, stop, start, end, locale).items():
                minutes[key] += seconds / 60
                occurrences[key] += 1
            continue
        if by == "reason":
            if interval.reason_id is not None and interval.reason_id not in reasons:
                reasons[interval.reason_id] = session.get(ReasonCode, interval.reason_id)
            reason = reasons.get(interval.reason_id)
            key = reason.label(locale) if reason else UNCLASSIFIED
        elif by == "machine":
            key = machine.code
        else:
            key = machine.work_center.label(locale)
        minutes[key] += _seconds(interval.started_at, stop, start, end) / 60
        occurrences[key] += 1
    bars = sorted(
        (ParetoBar(k, round(v, 2), occurrences[k]) for k, v in minutes.items() if v > 0), key=lambda b: -b.minutes
    )
    total = sum(b.minutes for b in bars)
    running = 0.0
    for bar in bars:
        running += bar.minutes
        bar.share = round(bar.minutes / total, 4) if total else 0.0
        bar.cumulative = round(running / total, 4) if total else 0.0
    return bars


def _by_shift(book, machine, a, b, start, end, locale) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    inside = 0.0
    for instance in book.for_machine(machine):
        seconds = _seconds(a, b, max(instance.start, start), min(instance.end, end))
        if seconds > 0:
            found[book.shift_name(machine, instance.code, locale)] += seconds
            inside += seconds
    outside = _seconds(a, b, start, end) - inside
    if outside > 0:
        found[OUTSIDE_SHIFTS] += outside
    return found


@dataclass
class Reliability:
    machine: Machine
    failures: int
    down_minutes: float
    up_minutes: float

    @property
    def mttr_minutes(self) -> float | None:
        return self.down_minutes / self.failures if self.failures else None

    @property
    def mtbf_minutes(self) -> float | None:
        return self.up_minutes / self.failures if self.failures else None


UP_STATES = (State.RUNNING, State.IDLE, State.SETUP)


def reliability(
    session: Session, machines: Iterable[Machine], start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> list[Reliability]:
    """MTBF and MTTR per machine over the period (see the module docstring)."""
    now = now or utcnow()
    machines = {m.id: m for m in machines}
    if not machines:
        return []
    end = min(end, now)
    failures: dict[int, int] = defaultdict(int)
    down: dict[int, float] = defaultdict(float)
    up: dict[int, float] = defaultdict(float)
    for interval in _intervals(session, list(machines), start, end, [State.DOWN, *UP_STATES]):
        stop = interval.ended_at or now
        if interval.state is State.DOWN:
            if start <= interval.started_at < end:
                failures[interval.machine_id] += 1
                down[interval.machine_id] += (stop - interval.started_at).total_seconds() / 60
        else:
            up[interval.machine_id] += _seconds(interval.started_at, stop, start, end) / 60
    return [
        Reliability(machine, failures[machine.id], round(down[machine.id], 2), round(up[machine.id], 2))
        for machine in sorted(machines.values(), key=lambda m: m.code)
    ]


def unclassified(session: Session, limit: int = 200) -> list[StateInterval]:
    """Down intervals that still have no reason, newest first (for a supervisor to classify)."""
    return list(
        session.scalars(
            sa.select(StateInterval)
            .where(StateInterval.state == State.DOWN, StateInterval.reason_id.is_(None))
            .order_by(StateInterval.started_at.desc())
            .limit(limit)
        )
    )
