"""OEE = availability × performance × quality, per machine and shift, summed up to work centers, days and weeks.

For one machine in one shift instance (see :mod:`apps.equipment.shifts`):

* **planned production time** = the shift's working time (breaks, holidays, shutdowns removed) minus the time
  the machine spent in planned maintenance; only time already passed counts;
* **operating time** = planned production time minus down, set-up and offline (no data) time. For a machine
  without telemetry the timeline only knows what operators and the orders app reported, so any time not
  reported as down or set-up counts as operating: run time comes from operator-reported downtime;
* **availability** = operating / planned; **performance** = ideal cycle time × total count / operating;
  **quality** = good / total. Counts come from work reports or a part counter (:mod:`.production`).
  Without an ideal cycle time in master data performance cannot be measured: performance and OEE are not
  available (``None``) for such a machine and for any sum that includes its time, rather than a false 0.

The six big losses, in seconds of planned time: breakdowns (down), set-up and adjustments (set-up), small stops
and idling (idle), reduced speed (what remains of operating time after idling and the ideal time of the parts
made), process defects (ideal time of scrap), reduced yield (ideal time of rework). Together with the no-data
time and the fully productive time (ideal time of good parts) they add up to the planned production time.

Counts belong to the shift instance during which they were reported, or the last one before (a report just
after the shift ends belongs to it). Figures of finished shifts are stored (:class:`ShiftStats`) by a periodic
job, so a month of OEE for fifty machines reads a few thousand rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import production
from apps.equipment.models import ShiftStats, State, StateInterval
from apps.equipment.settings import setting
from apps.equipment.shifts import ShiftBook, ShiftInstance
from apps.equipment.states import is_monitored
from platform_core.db import utcnow
from platform_core.masterdata.calendar import Interval, subtract
from platform_core.masterdata.models import Machine, ReasonCode

COUNT_ATTRIBUTION_CAP = dt.timedelta(hours=24)  # reports this long after a shift's end no longer belong to it
BACKFILL_DAYS = 35  # the stats job fills finished shifts this far back


@dataclass
class Figures:
    """Seconds and quantities that add up across shifts and machines; the ratios are derived."""

    planned_s: float = 0.0  # calendar working time
    maintenance_s: float = 0.0
    down_s: float = 0.0
    setup_s: float = 0.0
    offline_s: float = 0.0
    idle_s: float = 0.0
    running_s: float = 0.0
    good: float = 0.0
    scrap: float = 0.0
    rework: float = 0.0
    ideal_s: float = 0.0  # ideal cycle time × total
    ideal_good_s: float = 0.0  # ideal cycle time × good
    ideal_scrap_s: float = 0.0
    ideal_rework_s: float = 0.0
    unrated_s: float = 0.0  # planned production time of machines without an ideal cycle time

    @classmethod
    def stored(cls, values: dict, machine: Machine) -> Figures:
        """Figures kept in :class:`ShiftStats`; rows without ``unrated_s`` take it from the machine."""
        figures = cls(**values)
        if "unrated_s" not in values and not machine.ideal_cycle_time_s:
            figures.unrated_s = figures.planned_production_s
        return figures

    def __add__(self, other: Figures) -> Figures:
        # summed thousands of times per report page: the field names are looked up once (_FIGURE_FIELDS)
        mine, theirs = self.__dict__, other.__dict__
        return Figures(**{name: mine[name] + theirs[name] for name in _FIGURE_FIELDS})

    @property
    def planned_production_s(self) -> float:
        return self.planned_s - self.maintenance_s

    @property
    def operating_s(self) -> float:
        return self.planned_production_s - self.down_s - self.setup_s - self.offline_s

    @property
    def total(self) -> float:
        return self.good + self.scrap + self.rework

    @property
    def availability(self) -> float | None:
        return self.operating_s / self.planned_production_s if self.planned_production_s > 0 else None

    @property
    def rated(self) -> bool:
        """Every machine in these figures has an ideal cycle time, so speed losses can be measured."""
        return self.unrated_s <= 0

    @property
    def performance(self) -> float | None:
        return self.ideal_s / self.operating_s if self.rated and self.operating_s > 0 else None

    @property
    def quality(self) -> float | None:
        if self.ideal_s > 0:
            return self.ideal_good_s / self.ideal_s  # = good / total on one machine, weighted by time on several
        return self.good / self.total if self.total > 0 else None

    @property
    def oee(self) -> float | None:
        return self.ideal_good_s / self.planned_production_s if self.rated and self.planned_production_s > 0 else None

    def losses(self) -> dict[str, float]:
        """The six big losses and the rest of the planned production time, in seconds."""
        return {
            "breakdowns": self.down_s,
            "setup": self.setup_s,
            "no_data": self.offline_s,
            "small_stops": self.idle_s,
            "reduced_speed": self.operating_s - self.idle_s - self.ideal_s,
            "defects": self.ideal_scrap_s,
            "reduced_yield": self.ideal_rework_s,
            "productive": self.ideal_good_s,
        }

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> dict:
        return {
            "planned_production_min": round(self.planned_production_s / 60, 2),
            "operating_min": round(self.operating_s / 60, 2),
            "availability": _ratio(self.availability),
            "performance": _ratio(self.performance),
            "quality": _ratio(self.quality),
            "oee": _ratio(self.oee),
            "good": self.good,
            "scrap": self.scrap,
            "rework": self.rework,
            "total": self.total,
            "losses_min": {k: round(v / 60, 2) for k, v in self.losses().items()},
        }


_FIGURE_FIELDS = tuple(f.name for f in fields(Figures))


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# --- one machine, one shift -----------------------------------------------------------------------------------


def _overlap(pieces: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> float:
    return sum(max(0.0, (min(b, end) - max(a, start)).total_seconds()) for a, b in pieces)


def _working(instance: ShiftInstance, now: dt.datetime) -> list[Interval]:
    return [(a, min(b, now)) for a, b in instance.working if a < now]


def _production_time(instance: ShiftInstance, intervals: Sequence[StateInterval], now: dt.datetime) -> list[Interval]:
    """The shift's working time so far without the machine's planned maintenance: where losses are counted."""
    maintenance = [(i.started_at, i.ended_at or now) for i in intervals if i.state is State.MAINTENANCE]
    return subtract(_working(instance, now), maintenance)


def compute(
    session: Session,
    machine: Machine,
    instance: ShiftInstance,
    intervals: Sequence[StateInterval],
    count_window: Interval,
    now: dt.datetime,
) -> Figures:
    """The figures of ``machine`` in ``instance`` from its state intervals (sorted) and its counts in a window."""
    figures = Figures()
    working = _working(instance, now)
    figures.planned_s = sum((b - a).total_seconds() for a, b in working)
    production_time = _production_time(instance, intervals, now)
    figures.maintenance_s = figures.planned_s - sum((b - a).total_seconds() for a, b in production_time)
    covered = 0.0
    for interval in intervals:
        if interval.state is State.MAINTENANCE:
            continue
        seconds = _overlap(production_time, interval.started_at, interval.ended_at or now)
        covered += seconds
        attribute = {
            State.DOWN: "down_s",
            State.SETUP: "setup_s",
            State.OFFLINE: "offline_s",
            State.IDLE: "idle_s",
            State.RUNNING: "running_s",
        }[interval.state]
        setattr(figures, attribute, getattr(figures, attribute) + seconds)
    unknown = sum((b - a).total_seconds() for a, b in production_time) - covered
    if unknown > 0:  # no timeline yet: a monitored machine had no data, an unmonitored one ran as far as we know
        if is_monitored(session, machine.id):
            figures.offline_s += unknown
        else:
            figures.running_s += unknown
    quantities = production.produced(session, machine.id, count_window[0], min(count_window[1], now))
    ideal = machine.ideal_cycle_time_s or 0.0
    if not ideal:
        figures.unrated_s = figures.planned_production_s
    figures.good, figures.scrap, figures.rework = quantities.good, quantities.scrap, quantities.rework
    figures.ideal_s = ideal * quantities.total
    figures.ideal_good_s = ideal * quantities.good
    figures.ideal_scrap_s = ideal * quantities.scrap
    figures.ideal_rework_s = ideal * quantities.rework
    return figures


def count_windows(instances: Sequence[ShiftInstance]) -> list[Interval]:
    """Where each instance's counts are taken: from its start to the next instance's start (capped)."""
    windows = []
    for index, instance in enumerate(instances):
        cap = instance.end + COUNT_ATTRIBUTION_CAP
        following = instances[index + 1].start if index + 1 < len(instances) else cap
        windows.append((instance.start, min(following, cap)))
    return windows


def _intervals(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> list[StateInterval]:
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


@dataclass(frozen=True)
class ShiftFigures:
    machine: Machine
    instance: ShiftInstance
    figures: Figures


def stored_figures(
    session: Session, machine_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.datetime], dict]:
    """Stored figures of the machines' shifts starting in ``[start, end)``, by (machine id, shift start)."""
    rows = session.execute(
        sa.select(ShiftStats.machine_id, ShiftStats.start, ShiftStats.figures).where(
            ShiftStats.machine_id.in_(list(machine_ids)), ShiftStats.start >= start, ShiftStats.start < end
        )
    )
    return {(machine_id, shift_start): figures for machine_id, shift_start, figures in rows}


def machine_shifts(
    session: Session,
    machine: Machine,
    book: ShiftBook,
    now: dt.datetime,
    stored: bool = True,
    saved: dict[tuple[int, dt.datetime], dict] | None = None,
) -> list[ShiftFigures]:
    """Figures of every shift instance of the machine in the book's range (stored ones where available)."""
    instances = [i for i in book.for_machine(machine) if i.start < now]
    if not instances:
        return []
    if saved is None:
        saved = (
            stored_figures(session, [machine.id], instances[0].start, instances[-1].start + _EPSILON) if stored else {}
        )
    windows = count_windows(instances)
    done = [(machine.id, i.start) in saved and i.end <= now for i in instances]
    pending = [i for i, is_done in zip(instances, done, strict=True) if not is_done]
    intervals = _intervals(session, machine.id, pending[0].start, min(pending[-1].end, now)) if pending else []
    found = []
    for instance, window, is_done in zip(instances, windows, done, strict=True):
        if is_done:
            found.append(ShiftFigures(machine, instance, Figures.stored(saved[(machine.id, instance.start)], machine)))
            continue
        relevant = [i for i in intervals if i.started_at < instance.end and (i.ended_at or now) > instance.start]
        found.append(ShiftFigures(machine, instance, compute(session, machine, instance, relevant, window, now)))
    return found


_EPSILON = dt.timedelta(microseconds=1)


# --- reports --------------------------------------------------------------------------------------------------

GROUPINGS = ("machine", "work_center", "shift", "day", "week")


def group_key(item: ShiftFigures, by: str):
    if by == "machine":
        return item.machine.id
    if by == "work_center":
        return item.machine.work_center_id
    if by == "shift":
        return item.instance.code
    if by == "day":
        return item.instance.date.isoformat()
    year, week, _weekday = item.instance.date.isocalendar()
    return f"{year}-W{week:02d}"


def collect(
    session: Session, machines: Iterable[Machine], start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> list[ShiftFigures]:
    """Figures of every shift instance starting in ``[start, end)`` of the given machines."""
    now = now or utcnow()
    machines = list(machines)
    book = ShiftBook(session, start, end)
    saved = stored_figures(session, [m.id for m in machines], start - dt.timedelta(days=2), end)  # one query
    return [item for machine in machines for item in machine_shifts(session, machine, book, now, saved=saved)]


def group(items: Iterable[ShiftFigures], by: str) -> tuple[dict, Figures]:
    """Sum shift figures ``by`` machine, work center, shift, day or week; and all of them."""
    groups: dict = defaultdict(Figures)
    overall = Figures()
    for item in items:
        groups[group_key(item, by)] += item.figures
        overall += item.figures
    return dict(groups), overall


def breakdowns_by_reason(
    session: Session, items: Sequence[ShiftFigures], by: str, now: dt.datetime | None = None
) -> dict:
    """The breakdown loss of each group (``by``, as :func:`group`) split by downtime reason: seconds of planned
    production time spent down, per reason id (``None``: not classified yet). Read from the state intervals, so
    it answers for finished shifts too (their stored figures keep only the total)."""
    now = now or utcnow()
    items = [item for item in items if item.figures.down_s > 0]
    if not items:
        return {}
    start, end = min(i.instance.start for i in items), min(max(i.instance.end for i in items), now)
    by_machine: dict[int, list[StateInterval]] = defaultdict(list)
    for interval in session.scalars(
        sa.select(StateInterval)
        .where(
            StateInterval.machine_id.in_({i.machine.id for i in items}),
            StateInterval.state.in_([State.DOWN, State.MAINTENANCE]),
            StateInterval.started_at < end,
            sa.or_(StateInterval.ended_at.is_(None), StateInterval.ended_at > start),
        )
        .order_by(StateInterval.started_at)
    ):
        by_machine[interval.machine_id].append(interval)
    split: dict = defaultdict(lambda: defaultdict(float))
    for item in items:
        intervals = by_machine[item.machine.id]
        production_time = _production_time(item.instance, intervals, now)
        for interval in intervals:
            if interval.state is State.DOWN:
                seconds = _overlap(production_time, interval.started_at, interval.ended_at or now)
                if seconds > 0:
                    split[group_key(item, by)][interval.reason_id] += seconds
    return {key: dict(reasons) for key, reasons in split.items()}


def report(
    session: Session,
    machines: Iterable[Machine],
    start: dt.datetime,
    end: dt.datetime,
    by: str = "machine",
    now: dt.datetime | None = None,
) -> tuple[dict, Figures]:
    """OEE figures of shift instances starting in ``[start, end)`` grouped ``by``, and their overall sum."""
    return group(collect(session, machines, start, end, now), by)


def rows(session, machines, start, end, by, locale, items=None) -> tuple[list[dict], Figures]:
    """OEE report rows with their keys and labels, and each row's breakdowns by reason, largest first; for the
    API and the page (``items``: shifts already read)."""
    items = items if items is not None else collect(session, machines, start, end)
    groups, overall = group(items, by)
    breakdowns = breakdowns_by_reason(session, items, by)
    reason_ids = {reason_id for split in breakdowns.values() for reason_id in split if reason_id}
    reasons = (
        {r.id: r for r in session.scalars(sa.select(ReasonCode).where(ReasonCode.id.in_(reason_ids)))}
        if reason_ids
        else {}
    )
    labels = {}
    if by == "machine":
        labels = {m.id: (m.code, m.label(locale)) for m in machines}
    elif by == "work_center":
        labels = {m.work_center_id: (m.work_center.code, m.work_center.label(locale)) for m in machines}
    elif by == "shift" and machines:
        book = ShiftBook(session, start, end)
        labels = {k: (k, book.shift_name(machines[0], k, locale)) for k in groups}
    rows = []
    for key in sorted(groups, key=lambda k: labels.get(k, (str(k),))[0]):
        code, label = labels.get(key, (str(key), str(key)))
        split = sorted(breakdowns.get(key, {}).items(), key=lambda pair: -pair[1])
        rows.append(
            {
                "key": code,
                "label": label,
                **groups[key].summary(),
                "breakdowns": [
                    {
                        "reason_code": reasons[reason_id].code if reason_id else None,
                        "reason": reasons[reason_id].label(locale) if reason_id else None,
                        "minutes": round(seconds / 60, 2),
                    }
                    for reason_id, seconds in split
                ],
            }
        )
    return rows, overall


def refresh_shift_stats(session: Session, now: dt.datetime | None = None) -> int:
    """Store the figures of finished shifts that are missing or recent enough to change; returns how many."""
    now = now or utcnow()
    recompute_from = now - dt.timedelta(hours=setting("EQUIPMENT_SHIFT_STATS_RECOMPUTE_HOURS"))
    start = now - dt.timedelta(days=BACKFILL_DAYS)
    book = ShiftBook(session, start, now)
    written = 0
    for machine in session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.id)):
        existing = {
            row.start: row
            for row in session.scalars(
                sa.select(ShiftStats).where(ShiftStats.machine_id == machine.id, ShiftStats.start >= start)
            )
        }
        instances = book.for_machine(machine)
        windows = count_windows(instances)
        pending = [
            (instance, window)
            for instance, window in zip(instances, windows, strict=True)
            # finished, and either new or still open to late reports (its count window not closed long enough)
            if instance.end <= now and (instance.start not in existing or window[1] >= recompute_from)
        ]
        if not pending:
            continue
        intervals = _intervals(session, machine.id, pending[0][0].start, pending[-1][0].end)
        for instance, window in pending:
            relevant = [i for i in intervals if i.started_at < instance.end and (i.ended_at or now) > instance.start]
            figures = compute(session, machine, instance, relevant, window, now).as_dict()
            row = existing.get(instance.start)
            if row is None:
                row = ShiftStats(
                    machine_id=machine.id,
                    shift_code=instance.code,
                    shift_date=instance.date,
                    start=instance.start,
                    end=instance.end,
                )
                session.add(row)
            row.figures, row.computed_at = figures, now
            written += 1
    session.flush()
    return written
