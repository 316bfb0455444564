"""Working time: the pure computation (midnight, breaks, DST, holidays, overtime) and the database wrapper
(machine calendar over work center calendar over the factory's default)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from platform_core.db import tenant_context
from platform_core.masterdata import calendar as cal
from platform_core.masterdata import services
from platform_core.masterdata.models import (
    CalendarException,
    ExceptionKind,
    Machine,
    ShiftCalendar,
    WorkCenter,
)
from platform_core.tenants.models import Tenant

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
WEEK = frozenset(range(1, 8))
WORKDAYS = frozenset(range(1, 6))


def t(text: str) -> dt.time:
    return cal.parse_time(text)


def local(tz: ZoneInfo, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def hours(intervals) -> float:
    return sum((b - a).total_seconds() for a, b in intervals) / 3600


def shift(code="A", days=WEEK, start="08:00", end="16:00", breaks=()) -> cal.ShiftRule:
    return cal.ShiftRule(code, frozenset(days), t(start), t(end), tuple((t(a), t(b)) for a, b in breaks))


def compute(rules, exceptions, tz, start, end):
    return cal.compute_working_intervals(rules, exceptions, tz, start, end)


def as_local(intervals, tz):
    return [(a.astimezone(tz).strftime("%m-%d %H:%M"), b.astimezone(tz).strftime("%m-%d %H:%M")) for a, b in intervals]


def test_a_day_shift_with_a_break_in_utc():
    rules = [shift(breaks=[("12:00", "12:30")])]
    result = compute(rules, [], SHANGHAI, local(SHANGHAI, 2026, 11, 23), local(SHANGHAI, 2026, 11, 24))
    assert result == [
        (dt.datetime(2026, 11, 23, 0, 0, tzinfo=UTC), dt.datetime(2026, 11, 23, 4, 0, tzinfo=UTC)),
        (dt.datetime(2026, 11, 23, 4, 30, tzinfo=UTC), dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
    ]
    assert all(a.tzinfo is UTC for pair in result for a in pair)


def test_a_night_shift_crosses_midnight_and_is_clipped_to_the_window():
    rules = [shift("N", days={1}, start="22:00", end="06:00", breaks=[("02:00", "02:30")])]  # Monday night
    start, end = local(SHANGHAI, 2026, 11, 23, 12), local(SHANGHAI, 2026, 11, 24, 4)
    assert as_local(compute(rules, [], SHANGHAI, start, end), SHANGHAI) == [
        ("11-23 22:00", "11-24 02:00"),
        ("11-24 02:30", "11-24 04:00"),
    ]
    # Asked from Tuesday midnight, the shift that began on Monday evening still counts.
    tuesday = compute(rules, [], SHANGHAI, local(SHANGHAI, 2026, 11, 24), local(SHANGHAI, 2026, 11, 25))
    assert as_local(tuesday, SHANGHAI) == [("11-24 00:00", "11-24 02:00"), ("11-24 02:30", "11-24 06:00")]


def test_back_to_back_shifts_merge_and_a_sunday_night_shift_ends_on_monday():
    rules = [
        shift("A", days=WORKDAYS, start="06:00", end="14:00"),
        shift("B", days=WORKDAYS, start="14:00", end="22:00"),
        shift("N", days={7}, start="22:00", end="06:00"),
    ]
    result = compute(rules, [], SHANGHAI, local(SHANGHAI, 2026, 11, 22), local(SHANGHAI, 2026, 11, 24))
    assert as_local(result, SHANGHAI) == [("11-22 22:00", "11-23 22:00")]  # Sunday 22:00 to Monday 22:00


def test_spring_forward_night_shift_is_seven_real_hours():
    # Europe/Berlin jumps from 02:00 to 03:00 on Sunday 2026-03-29.
    rules = [shift("F", days={7}, start="02:00", end="10:00")]
    result = compute(rules, [], BERLIN, local(BERLIN, 2026, 3, 28), local(BERLIN, 2026, 3, 30))
    assert hours(result) == 7
    assert result == [(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 8, 0, tzinfo=UTC))]


def test_fall_back_night_shift_is_nine_real_hours():
    # Europe/Berlin goes back from 03:00 to 02:00 on Sunday 2026-10-25; a Saturday 22:00-06:00 shift spans it.
    rules = [shift("N", days={6}, start="22:00", end="06:00")]
    result = compute(rules, [], BERLIN, local(BERLIN, 2026, 10, 24), local(BERLIN, 2026, 10, 26))
    assert hours(result) == 9
    assert result == [(dt.datetime(2026, 10, 24, 20, 0, tzinfo=UTC), dt.datetime(2026, 10, 25, 5, 0, tzinfo=UTC))]


def test_day_shifts_keep_their_wall_clock_across_a_dst_change():
    rules = [shift(days=WEEK, start="08:00", end="16:00")]
    result = compute(rules, [], BERLIN, local(BERLIN, 2026, 3, 28), local(BERLIN, 2026, 3, 30))
    assert as_local(result, BERLIN) == [("03-28 08:00", "03-28 16:00"), ("03-29 08:00", "03-29 16:00")]
    assert [a.hour for a, _b in result] == [7, 6]  # 08:00 CET, then 08:00 CEST


def test_holidays_and_shutdowns_remove_time_and_overtime_adds_it_even_on_a_holiday():
    rules = [shift(days=WORKDAYS, start="08:00", end="17:00", breaks=[("12:00", "13:00")])]
    exceptions = [
        cal.DatedException.from_dates(False, dt.date(2026, 10, 1), dt.date(2026, 10, 7)),  # 国庆 (Thu-Wed)
        cal.DatedException.from_dates(True, dt.date(2026, 10, 3), dt.date(2026, 10, 3), t("08:00"), t("12:00")),
        cal.DatedException.from_dates(False, dt.date(2026, 10, 8), dt.date(2026, 10, 8), t("14:00"), t("24:00")),
        cal.DatedException.from_dates(True, dt.date(2026, 10, 8), dt.date(2026, 10, 9), t("20:00"), t("02:00")),
    ]
    result = compute(rules, exceptions, SHANGHAI, local(SHANGHAI, 2026, 9, 30), local(SHANGHAI, 2026, 10, 10))
    assert as_local(result, SHANGHAI) == [
        ("09-30 08:00", "09-30 12:00"),
        ("09-30 13:00", "09-30 17:00"),
        ("10-03 08:00", "10-03 12:00"),  # a make-up Saturday morning inside the holiday
        ("10-08 08:00", "10-08 12:00"),
        ("10-08 13:00", "10-08 14:00"),  # the afternoon shutdown
        ("10-08 20:00", "10-09 02:00"),  # overtime through the night
        ("10-09 08:00", "10-09 12:00"),
        ("10-09 13:00", "10-09 17:00"),
    ]


def test_an_empty_or_reversed_window_has_no_working_time_and_naive_times_are_refused():
    rules = [shift()]
    moment = local(SHANGHAI, 2026, 11, 23, 9)
    assert compute(rules, [], SHANGHAI, moment, moment) == []
    assert compute(rules, [], SHANGHAI, moment, moment - dt.timedelta(hours=1)) == []
    with pytest.raises(ValueError, match="aware"):
        compute(rules, [], SHANGHAI, dt.datetime(2026, 11, 23), dt.datetime(2026, 11, 24))


def test_a_24_hour_shift_and_time_parsing():
    assert t("24:00") == dt.time(0) and t("8:05") == dt.time(8, 5) and t("08：30") == dt.time(8, 30)
    for bad in ("25:00", "8", "08:60", ""):
        with pytest.raises(ValueError):
            t(bad)
    rules = [shift("C", days={1, 2}, start="07:00", end="07:00")]
    result = compute(rules, [], SHANGHAI, local(SHANGHAI, 2026, 11, 23), local(SHANGHAI, 2026, 11, 26))
    assert as_local(result, SHANGHAI) == [("11-23 07:00", "11-25 07:00")]


def test_overlap_detection_names_the_shifts_day_and_time():
    rules = [shift("A", days={1, 2}, start="06:00", end="14:00"), shift("N", days={7}, start="22:00", end="07:00")]
    ((first, second, overlap),) = cal.find_overlaps(rules)
    assert (first, second) == (0, 1)
    assert (overlap.first, overlap.second, overlap.weekday) == ("A", "N", 1)
    assert (overlap.start, overlap.end) == (dt.time(6), dt.time(7))
    assert cal.find_overlaps([shift("A", start="06:00", end="14:00"), shift("B", start="14:00", end="22:00")]) == []


def test_interval_arithmetic():
    assert cal.merge([(5, 7), (1, 3), (3, 4), (6, 9), (10, 10)]) == [(1, 4), (5, 9)]
    assert cal.subtract([(0, 10), (20, 30)], [(2, 3), (8, 22), (29, 40)]) == [(0, 2), (3, 8), (22, 29)]


# --- the database wrapper -------------------------------------------------------------------------------------


@pytest.fixture
def factory(make, db_session):
    tenant = make.tenant()
    with tenant_context(db_session, tenant.id):
        yield tenant


def _calendar(session, code, shifts, **kwargs):
    data = {"code": code, "name": code, "shifts": shifts, **kwargs}
    return services.create(session, ShiftCalendar, data)


def _shift(code, start, end, days=(1, 2, 3, 4, 5), breaks=()):
    return {
        "code": code,
        "name": code,
        "weekdays": list(days),
        "start_time": t(start),
        "end_time": t(end),
        "breaks": [(t(a), t(b)) for a, b in breaks],
    }


def test_a_machine_uses_its_own_calendar_else_its_work_centers_else_the_default(db_session, factory):
    day = _calendar(db_session, "DAY", [_shift("D", "08:00", "17:00", breaks=[("12:00", "13:00")])])
    night = _calendar(db_session, "NIGHT", [_shift("N", "20:00", "04:00")])
    default = _calendar(db_session, "DEF", [_shift("X", "10:00", "11:00")], is_default=True)
    center = services.create(db_session, WorkCenter, {"code": "WC", "name": "wc", "calendar": day})
    bare_center = services.create(db_session, WorkCenter, {"code": "WC2", "name": "wc2"})
    on_center = services.create(db_session, Machine, {"code": "M1", "name": "m1", "work_center": center})
    own = services.create(db_session, Machine, {"code": "M2", "name": "m2", "work_center": center, "calendar": night})
    fallback = services.create(db_session, Machine, {"code": "M3", "name": "m3", "work_center": bare_center})
    start, end = local(SHANGHAI, 2026, 11, 23), local(SHANGHAI, 2026, 11, 24)  # a Monday
    assert hours(cal.working_intervals(db_session, on_center, start, end)) == 8
    assert as_local(cal.working_intervals(db_session, own, start, end), SHANGHAI) == [("11-23 20:00", "11-24 00:00")]
    assert hours(cal.working_intervals(db_session, fallback, start, end)) == 1
    default.is_default = False
    db_session.flush()
    assert cal.working_intervals(db_session, fallback, start, end) == [(start.astimezone(UTC), end.astimezone(UTC))]


def test_the_wrapper_reads_exceptions_and_the_factorys_time_zone(db_session, factory):
    db_session.get(Tenant, factory.id).timezone = "Europe/Berlin"
    calendar = _calendar(db_session, "EARLY", [_shift("F", "02:00", "10:00", days=range(1, 8))])
    services.create(
        db_session,
        CalendarException,
        {
            "calendar": calendar,
            "kind": ExceptionKind.SHUTDOWN,
            "name": "停电",
            "start_date": dt.date(2026, 3, 30),
            "end_date": dt.date(2026, 3, 30),
        },
    )
    center = services.create(db_session, WorkCenter, {"code": "WC", "name": "wc", "calendar": calendar})
    machine = services.create(db_session, Machine, {"code": "M", "name": "m", "work_center": center})
    result = cal.working_intervals(db_session, machine, local(BERLIN, 2026, 3, 28), local(BERLIN, 2026, 3, 31))
    assert [hours([i]) for i in result] == [8, 7]  # Saturday, the spring-forward Sunday; Monday shut down
    with pytest.raises(ValueError):
        cal.working_intervals(db_session, machine, dt.datetime(2026, 3, 28), dt.datetime(2026, 3, 29))
