"""Shift instances: the working time of a machine's calendar, one labelled piece per shift and day.

The master data's calendar module answers *when* a machine works (merged intervals); OEE per shift also needs
*which shift* each working minute belongs to. This module builds, from the same calendar rules and exceptions
(master data), one :class:`ShiftInstance` per shift occurrence: its span (shift start to end, breaks included)
and its working pieces (breaks, holidays and shutdowns removed). Overtime outside every shift becomes an
instance of its own (code ``OT``); a machine without any calendar works around the clock, one ``24H`` instance
per local day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from platform_core.masterdata.calendar import (
    MIDNIGHT,
    DatedException,
    Interval,
    ShiftRule,
    calendar_of,
    exceptions_of,
    merge,
    rules_of,
    subtract,
    tenant_zone,
)
from platform_core.masterdata.models import Machine

OVERTIME = "OT"
ALL_DAY = "24H"


@dataclass(frozen=True)
class ShiftInstance:
    code: str
    date: dt.date  # the local date the shift starts on
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    working: tuple[Interval, ...]  # UTC, breaks and closures removed

    @property
    def working_seconds(self) -> float:
        return sum((b - a).total_seconds() for a, b in self.working)


def _utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def compute_instances(
    rules: list[ShiftRule], exceptions: list[DatedException], tz: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[ShiftInstance]:
    """Shift instances starting in ``[start, end)`` (aware datetimes), oldest first. Pure."""
    first_day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(tz).date()
    closed = merge((_utc(e.start, tz), _utc(e.end, tz)) for e in exceptions if not e.working)
    found: list[ShiftInstance] = []
    day = first_day
    while day <= last_day:
        midnight = dt.datetime.combine(day, MIDNIGHT)
        for rule in rules:
            if day.isoweekday() not in rule.weekdays:
                continue
            a, b = rule.offsets()
            span = (_utc(midnight + dt.timedelta(minutes=a), tz), _utc(midnight + dt.timedelta(minutes=b), tz))
            pieces = [
                (_utc(midnight + dt.timedelta(minutes=x), tz), _utc(midnight + dt.timedelta(minutes=y), tz))
                for x, y in rule.working_offsets()
            ]
            working = tuple(subtract(pieces, closed))
            if working and start <= span[0] < end:
                found.append(ShiftInstance(rule.code, day, span[0], span[1], working))
        day += dt.timedelta(days=1)
    regular = merge(p for instance in found for p in instance.working)
    for exception in exceptions:
        if not exception.working:
            continue
        span = (_utc(exception.start, tz), _utc(exception.end, tz))
        extra = tuple(subtract([span], regular))
        if extra and start <= extra[0][0] < end:
            found.append(ShiftInstance(OVERTIME, exception.start.date(), extra[0][0], extra[-1][1], extra))
    return sorted(found, key=lambda s: s.start)


def all_day_instances(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[ShiftInstance]:
    """One instance per local day, for machines governed by no calendar."""
    found = []
    day = start.astimezone(tz).date()
    while True:
        a = _utc(dt.datetime.combine(day, MIDNIGHT), tz)
        b = _utc(dt.datetime.combine(day + dt.timedelta(days=1), MIDNIGHT), tz)
        if a >= end:
            break
        if a >= start:
            found.append(ShiftInstance(ALL_DAY, day, a, b, ((a, b),)))
        day += dt.timedelta(days=1)
    return found


class ShiftBook:
    """Shift instances per machine, computed once per calendar for a range (machines share calendars)."""

    def __init__(self, session: Session, start: dt.datetime, end: dt.datetime) -> None:
        self.session, self.start, self.end = session, start, end
        self._by_calendar: dict[int | None, list[ShiftInstance]] = {}
        self._names: dict[int | None, dict[str, tuple[str, str | None]]] = {}

    def for_machine(self, machine: Machine) -> list[ShiftInstance]:
        calendar = calendar_of(self.session, machine)
        key = calendar.id if calendar is not None else None
        if key not in self._by_calendar:
            tz = tenant_zone(self.session, machine.tenant_id)
            if calendar is None:
                self._by_calendar[key] = all_day_instances(tz, self.start, self.end)
                self._names[key] = {}
            else:
                margin = dt.timedelta(days=2)  # exceptions are local dates; the range is UTC
                exceptions = exceptions_of(
                    self.session, calendar, (self.start - margin).date(), (self.end + margin).date()
                )
                self._by_calendar[key] = compute_instances(rules_of(calendar), exceptions, tz, self.start, self.end)
                self._names[key] = {s.code: (s.name, s.name_en) for s in calendar.shifts}
        return self._by_calendar[key]

    def shift_name(self, machine: Machine, code: str, locale: str) -> str:
        self.for_machine(machine)
        calendar = calendar_of(self.session, machine)
        names = self._names.get(calendar.id if calendar is not None else None, {})
        if code in names:
            name, name_en = names[code]
            return name_en if locale == "en" and name_en else name
        return code
