"""Working time: a weekly shift pattern, dated exceptions and a time zone in, working intervals in UTC out.

The computation (:func:`compute_working_intervals`) is pure: no database, no Flask, so the scheduling solver's
preparation and the tests can call it directly. :func:`working_intervals` is the thin wrapper that reads a
machine's calendar (its own, else its work center's, else the tenant's default calendar) from the database.

Shifts are wall-clock times in the tenant's time zone, so daylight-saving changes are honoured: a 02:00-10:00
shift on a spring-forward night lasts 7 real hours, on a fall-back night 9. Times that do not exist (inside the
spring-forward gap) are read with the offset before the change, as PEP 495 prescribes for ``fold=0``.

Order of precedence: the pattern's shifts minus their breaks, minus holidays and shutdowns, plus overtime (so a
make-up working day inside a holiday week is simply an overtime exception).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MIDNIGHT = dt.time(0, 0)

Interval = tuple[dt.datetime, dt.datetime]

_HHMM = re.compile(r"^\s*(\d{1,2})[:：](\d{2})(?:[:：]00)?\s*$")


def parse_time(text: str) -> dt.time:
    """``"8:00"``, ``"08:00"``, ``"08:00:00"`` or ``"24:00"`` (the midnight that ends a day) as a time."""
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(f"not a time of day: {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if (hours, minutes) == (24, 0):
        return MIDNIGHT
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a time of day: {text!r}")
    return dt.time(hours, minutes)


def format_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


def minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class ShiftRule:
    """One shift of a weekly pattern (ISO weekdays: 1 is Monday, 7 Sunday); see ``CalendarShift``."""

    code: str
    weekdays: frozenset[int]
    start: dt.time
    end: dt.time
    breaks: tuple[tuple[dt.time, dt.time], ...] = ()

    @property
    def length(self) -> int:
        """Minutes from start to end; an end at or before the start is on the next day."""
        span = (minutes(self.end) - minutes(self.start)) % MINUTES_PER_DAY
        return span or MINUTES_PER_DAY

    def offsets(self) -> tuple[int, int]:
        """Start and end in minutes after the midnight that begins the shift's day."""
        start = minutes(self.start)
        return start, start + self.length

    def break_offsets(self, index: int) -> tuple[int, int]:
        """A break's start and end in minutes after that midnight (the first occurrence after the shift start)."""
        start, _end = self.offsets()
        break_start, break_end = self.breaks[index]
        first = start + (minutes(break_start) - start) % MINUTES_PER_DAY
        span = (minutes(break_end) - minutes(break_start)) % MINUTES_PER_DAY
        return first, first + span

    def break_outside(self, index: int) -> bool:
        """True when a break is empty or does not lie inside the shift."""
        start, end = self.offsets()
        break_start, break_end = self.break_offsets(index)
        return break_end == break_start or break_end > end or break_start < start

    def working_offsets(self) -> list[tuple[int, int]]:
        """The shift's working minutes after its breaks, as offsets from its day's midnight."""
        breaks = [self.break_offsets(i) for i in range(len(self.breaks)) if not self.break_outside(i)]
        return subtract([self.offsets()], breaks)

    def weekly_segments(self) -> list[tuple[int, int]]:
        """Minutes of the week (Monday 00:00 = 0) the shift covers, split where it wraps past Sunday midnight."""
        start, end = self.offsets()
        segments = []
        for weekday in sorted(self.weekdays):
            a, b = (weekday - 1) * MINUTES_PER_DAY + start, (weekday - 1) * MINUTES_PER_DAY + end
            if b <= MINUTES_PER_WEEK:
                segments.append((a, b))
            else:
                segments.extend([(a, MINUTES_PER_WEEK), (0, b - MINUTES_PER_WEEK)])
        return segments


@dataclass(frozen=True)
class DatedException:
    """A holiday, shutdown (``working=False``) or overtime (``working=True``) between two local wall-clock times."""

    working: bool
    start: dt.datetime  # naive, tenant-local
    end: dt.datetime  # naive, tenant-local

    @classmethod
    def from_dates(
        cls,
        working: bool,
        start_date: dt.date,
        end_date: dt.date,
        start_time: dt.time | None = None,
        end_time: dt.time | None = None,
    ) -> DatedException:
        """Whole days when no times are given; an end time of 00:00 (or 24:00) is the end of the end date."""
        start = dt.datetime.combine(start_date, start_time or MIDNIGHT)
        if end_time is None or end_time == MIDNIGHT:
            end = dt.datetime.combine(end_date + dt.timedelta(days=1), MIDNIGHT)
        else:
            end = dt.datetime.combine(end_date, end_time)
        return cls(working=working, start=start, end=end)


@dataclass(frozen=True)
class Overlap:
    """Where two shifts of one pattern overlap in the week (for the error message)."""

    first: str
    second: str
    weekday: int  # ISO: 1 is Monday
    start: dt.time
    end: dt.time


def find_overlaps(rules: Sequence[ShiftRule]) -> list[tuple[int, int, Overlap]]:
    """Pairs of shifts (by index, later one second) that overlap somewhere in the week, with the first overlap."""
    found = []
    segments = [rule.weekly_segments() for rule in rules]
    for j, later in enumerate(rules):
        for i in range(j):  # a shift never overlaps itself: it lasts at most 24 hours
            pairs = [(max(a[0], b[0]), min(a[1], b[1])) for a in segments[i] for b in segments[j]]
            hits = sorted((a, b) for a, b in pairs if a < b)
            if hits:
                start, end = hits[0]
                day, offset = divmod(start, MINUTES_PER_DAY)
                overlap = Overlap(
                    first=rules[i].code,
                    second=later.code,
                    weekday=day + 1,
                    start=_clock(offset),
                    end=_clock(min(end - day * MINUTES_PER_DAY, MINUTES_PER_DAY)),
                )
                found.append((i, j, overlap))
    return found


def _clock(offset: int) -> dt.time:
    return dt.time(offset // 60 % 24, offset % 60)


# --- interval arithmetic ---------------------------------------------------------------------------------------


def merge(intervals: Iterable[tuple]) -> list:
    """Sorted, with overlapping or touching intervals joined; empty intervals dropped."""
    merged: list = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Iterable[tuple], removed: Iterable[tuple]) -> list:
    """``intervals`` minus ``removed``, merged and sorted."""
    result = []
    cuts = merge(removed)
    for start, end in merge(intervals):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


# --- the computation ------------------------------------------------------------------------------------------


def _to_utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def compute_working_intervals(
    rules: Iterable[ShiftRule],
    exceptions: Iterable[DatedException],
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Interval]:
    """The working intervals between ``start`` and ``end`` (aware datetimes), merged, sorted, in UTC."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return []
    rules = list(rules)
    first_day = start.astimezone(tz).date() - dt.timedelta(days=1)  # a shift may start the evening before
    last_day = end.astimezone(tz).date()
    shifts: list[Interval] = []
    day = first_day
    while day <= last_day:
        midnight = dt.datetime.combine(day, MIDNIGHT)
        for rule in rules:
            if day.isoweekday() not in rule.weekdays:
                continue
            for a, b in rule.working_offsets():
                local_start = midnight + dt.timedelta(minutes=a)
                local_end = midnight + dt.timedelta(minutes=b)
                shifts.append((_to_utc(local_start, tz), _to_utc(local_end, tz)))
        day += dt.timedelta(days=1)
    exceptions = list(exceptions)
    closed = [(_to_utc(e.start, tz), _to_utc(e.end, tz)) for e in exceptions if not e.working]
    extra = [(_to_utc(e.start, tz), _to_utc(e.end, tz)) for e in exceptions if e.working]
    working = merge([*subtract(shifts, closed), *extra])
    return merge((max(a, start), min(b, end)) for a, b in working)


# --- the database wrapper -------------------------------------------------------------------------------------


def rules_of(calendar) -> list[ShiftRule]:
    """The pattern of a ``ShiftCalendar`` as rules for the computation."""
    return [
        ShiftRule(
            code=shift.code,
            weekdays=frozenset(shift.weekdays),
            start=shift.start_time,
            end=shift.end_time,
            breaks=tuple((parse_time(a), parse_time(b)) for a, b in shift.breaks),
        )
        for shift in calendar.shifts
    ]


def exceptions_of(session: Session, calendar, first_day: dt.date, last_day: dt.date) -> list[DatedException]:
    """The calendar's exceptions that touch the days from ``first_day`` to ``last_day``."""
    from platform_core.masterdata.models import CalendarException

    rows = session.scalars(
        sa.select(CalendarException).where(
            CalendarException.calendar_id == calendar.id,
            CalendarException.start_date <= last_day,
            CalendarException.end_date >= first_day,
        )
    )
    return [
        DatedException.from_dates(row.kind.working, row.start_date, row.end_date, row.start_time, row.end_time)
        for row in rows
    ]


def tenant_zone(session: Session, tenant_id: int) -> ZoneInfo:
    from platform_core.tenants.models import Tenant

    return ZoneInfo(session.get(Tenant, tenant_id).timezone)


def calendar_of(session: Session, machine):
    """The calendar that governs a machine: its own, else its work center's, else the default, else None."""
    from platform_core.masterdata.models import ShiftCalendar

    if machine.calendar is not None:
        return machine.calendar
    if machine.work_center.calendar is not None:
        return machine.work_center.calendar
    return session.scalar(
        sa.select(ShiftCalendar).where(ShiftCalendar.is_default, ShiftCalendar.active).order_by(ShiftCalendar.id)
    )


def calendar_intervals(session: Session, calendar, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Working intervals of one calendar in the tenant's time zone."""
    tz = tenant_zone(session, calendar.tenant_id)
    margin = dt.timedelta(days=2)  # exceptions are local dates; the window is UTC
    exceptions = exceptions_of(session, calendar, (start - margin).date(), (end + margin).date())
    return compute_working_intervals(rules_of(calendar), exceptions, tz, start, end)


def working_intervals(session: Session, machine, start_utc: dt.datetime, end_utc: dt.datetime) -> list[Interval]:
    """Working intervals of machine ``machine`` between two aware datetimes, merged, sorted, in UTC.

    A machine governed by no calendar is available around the clock.
    """
    if start_utc.tzinfo is None or end_utc.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    calendar = calendar_of(session, machine)
    if calendar is None:
        return [(start_utc.astimezone(dt.UTC), end_utc.astimezone(dt.UTC))] if start_utc < end_utc else []
    return calendar_intervals(session, calendar, start_utc, end_utc)
