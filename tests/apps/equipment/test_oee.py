"""OEE worked examples, computed by hand below and replayed through the real inputs (operator reports, orders
events, gateway points, maintenance) in time order; then the same figures from the stored shift statistics,
over the API, and the downtime Pareto and MTBF/MTTR of the same day.

Example A - a monitored machine on a night shift across midnight (22:00-06:00, break 02:00-02:30):
    calendar working time   22:00-02:00 + 02:30-06:00                     = 450 min
    planned maintenance     04:00-04:30                                   =  30 min
    planned production time 450 - 30                                      = 420 min
    set-up                  22:00-22:20 (orders: operation in set-up)     =  20 min
    down                    23:10-23:50 (operator, tool breakage)         =  40 min
    operating time          420 - 20 - 40                                 = 360 min
    idle                    01:00-01:15 (spindle stopped, > 2 min)        =  15 min
    parts                   good 285, scrap 12, rework 3 = 300, ideal cycle 60 s  -> 300 min
    availability = 360/420 = 0.857143   performance = 300/360 = 0.833333   quality = 285/300 = 0.95
    OEE = 0.857143 * 0.833333 * 0.95 = 0.678571 (= 285 min of good parts / 420)
    losses: breakdowns 40, set-up 20, small stops 15, reduced speed 360-15-300 = 45, defects 12, rework 3,
            fully productive 285; sum 420.
    A report at 06:05 (15 good, 2 scrap) still belongs to the night shift; one at 21:55 (10 good) does not.

Example B - a machine without telemetry, day shift 08:00-17:00 with lunch 12:00-13:00:
    planned production time 480 min; down 10:00-10:45 (45) and 11:45-13:15 (15 + 15 outside lunch = 30)
    operating time 480 - 75 = 405; the orders app: an operation 08:00-16:30, then idle 16:30-17:00 (30)
    parts good 200, scrap 10, ideal cycle 90 s -> 210 * 1.5 = 315 min
    availability = 405/480 = 0.84375   performance = 315/405 = 0.777778   quality = 200/210 = 0.952381
    OEE = 0.625 (= 200 * 1.5 / 480); losses: breakdowns 75, small stops 30, reduced speed 405-30-315 = 60,
    defects 15, fully productive 300.
    Downtime counts wall-clock minutes (the repair went on through lunch): failures 2, 45 + 90 = 135 min,
    MTTR = 135/2 = 67.5 min; up time 08:00-10:00, 10:45-11:45, 13:15-17:00 = 405 min, MTBF = 405/2 = 202.5 min.
    Pareto by reason: unclassified 90, tool breakage 45.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from apps.equipment import downtime, ingest, oee, states
from apps.equipment import events as subscribers
from apps.equipment.models import ShiftStats
from apps.equipment.shifts import ShiftBook
from platform_core.db import utcnow
from platform_core.events import Event
from platform_core.rbac import Role
from tests.apps.equipment.conftest import assert_timeline_invariants, days_ago, local
from tests.factories import web_login


def orders_event(name: str, **payload) -> Event:
    return Event(str(uuid.uuid4()), name, 0, payload, utcnow(), {})


def report(session, machine, at: dt.datetime, good=0, scrap=0, rework=0, operation_id=1):
    subscribers.on_operation_reported(
        session,
        orders_event(
            "orders.operation_reported",
            order_id=1,
            operation_id=operation_id,
            machine_id=machine.id,
            good=good,
            scrap=scrap,
            rework=rework,
            reported_at=at.isoformat(),
        ),
    )


def spindle(session, machine, start: dt.datetime, end: dt.datetime, rpm: float):
    """One point a minute from ``start`` (included) to ``end`` (excluded)."""
    count = int((end - start).total_seconds() // 60)
    points = [
        {
            "machine": machine.code,
            "metric": "spindle_speed",
            "ts": (start + dt.timedelta(minutes=i)).isoformat(),
            "value": rpm,
        }
        for i in range(count)
    ]
    assert ingest.ingest(session, points).rejected_count == 0


def minutes(seconds: float) -> float:
    return round(seconds / 60, 6)


@pytest.fixture
def night(plant, backdating):
    """Example A, replayed in time order; returns the machine and the shift's local date."""
    machine = plant.machine("OEE-A", ideal_cycle_time_s=60, monitored=True)
    plant.calendar("NIGHT", [("N", "22:00", "06:00", [("02:00", "02:30")])], machine)
    day = days_ago(3)

    def t(hour, minute=0):
        return local(day, hour, minute)

    with plant.scope("张伟") as session:
        machine = plant.get(machine)
        report(session, machine, t(21, 55), good=10, operation_id=0)  # the day before's work: not this shift
        subscribers.on_operation_started(
            session,
            orders_event(
                "orders.operation_started",
                order_id=1,
                operation_id=1,
                machine_id=machine.id,
                started_at=t(22).isoformat(),
                phase="setup",
            ),
        )
        spindle(session, machine, t(22), t(22, 20), 3000)  # test cuts during the set-up
        report(session, machine, t(22, 20), good=0)  # first report: production starts
        spindle(session, machine, t(22, 20), t(23, 10), 3000)
        states.report_down(session, machine, reason_id=plant.reasons["TOOL"].id, at=t(23, 10))
        spindle(session, machine, t(23, 10), t(23, 50), 0)
        states.report_up(session, machine, at=t(23, 50))
        spindle(session, machine, t(23, 50), t(25), 3000)
        spindle(session, machine, t(25), t(25, 15), 0)  # 01:00-01:15 waiting for material
        spindle(session, machine, t(25, 15), t(26), 3000)
        report(session, machine, t(26), good=150, scrap=6)  # 02:00, in the break
        spindle(session, machine, t(26), t(26, 30), 3000)  # runs through the break: outside planned time
        spindle(session, machine, t(26, 30), t(28), 3000)
        states.start_maintenance(session, machine.id, t(28), note="PM")
        spindle(session, machine, t(28), t(28, 30), 0)
        states.end_maintenance(session, machine.id, t(28, 30))
        spindle(session, machine, t(28, 30), t(30), 3000)
        report(session, machine, t(29, 50), good=120, scrap=4, rework=3)
        spindle(session, machine, t(30), t(30, 10), 3000)
        report(session, machine, t(30, 5), good=15, scrap=2)  # after the shift: still the night shift's
    return machine, day


def test_a_night_shift_across_midnight_on_a_monitored_machine(plant, night):
    machine, day = night
    assert_timeline_invariants(plant.timeline(machine))
    with plant.scope() as session:
        machine = plant.get(machine)
        book = ShiftBook(session, local(day, 0), local(day, 24))
        [item] = [f for f in oee.machine_shifts(session, machine, book, utcnow()) if f.instance.code == "N"]
    assert item.instance.start == local(day, 22) and item.instance.end == local(day, 30)
    figures = item.figures
    assert minutes(figures.planned_s) == 450 and minutes(figures.maintenance_s) == 30
    assert minutes(figures.planned_production_s) == 420
    assert minutes(figures.setup_s) == 20 and minutes(figures.down_s) == 40 and minutes(figures.offline_s) == 0
    assert minutes(figures.operating_s) == 360 and minutes(figures.idle_s) == 15
    assert (figures.good, figures.scrap, figures.rework) == (285, 12, 3)
    assert figures.availability == pytest.approx(360 / 420)
    assert figures.performance == pytest.approx(300 / 360)
    assert figures.quality == pytest.approx(0.95)
    assert figures.oee == pytest.approx(0.678571, abs=1e-6)
    assert {k: minutes(v) for k, v in figures.losses().items()} == {
        "breakdowns": 40,
        "setup": 20,
        "no_data": 0,
        "small_stops": 15,
        "reduced_speed": 45,
        "defects": 12,
        "reduced_yield": 3,
        "productive": 285,
    }
    assert sum(figures.losses().values()) == pytest.approx(figures.planned_production_s)


def test_stored_shift_figures_equal_the_live_ones_and_feed_the_api(plant, night, client):
    machine, day = night
    with plant.scope() as session:
        machine = plant.get(machine)
        book = ShiftBook(session, local(day, 0), local(day, 24))
        live = [f for f in oee.machine_shifts(session, machine, book, utcnow(), stored=False) if f.instance.code == "N"]
        assert oee.refresh_shift_stats(session) >= 1
        row = session.query(ShiftStats).filter_by(machine_id=machine.id, start=local(day, 22)).one()
        assert row.figures == live[0].figures.as_dict() and row.shift_code == "N" and row.shift_date == day
    response = client.get(
        "/api/v1/equipment/oee",
        query_string={
            "start": local(day, 12).isoformat(),
            "end": local(day, 23).isoformat(),
            "by": "shift",
            "machine_id": machine.id,
        },
        headers=plant.admin.headers,
    )
    assert response.status_code == 200, response.text
    [row] = response.json["rows"]
    assert row["key"] == "N" and row["label"] == "班次 N"  # the factory's language
    assert row["oee"] == pytest.approx(0.678571, abs=1e-6) and row["losses_min"]["reduced_speed"] == 45


@pytest.fixture
def day_shift(plant, backdating):
    """Example B, replayed in time order."""
    return replay_day_shift(plant, "OEE-B", ideal_cycle_time_s=90)


def replay_day_shift(plant, code: str, ideal_cycle_time_s: float | None, operation_id: int = 5):
    machine = plant.machine(code, ideal_cycle_time_s=ideal_cycle_time_s)
    plant.calendar(f"DAY-{code}", [("D", "08:00", "17:00", [("12:00", "13:00")])], machine)
    day = days_ago(2)

    def t(hour, minute=0):
        return local(day, hour, minute)

    with plant.scope("张伟") as session:
        machine = plant.get(machine)
        subscribers.on_operation_started(
            session,
            orders_event(
                "orders.operation_started",
                order_id=2,
                operation_id=operation_id,
                machine_id=machine.id,
                started_at=t(8).isoformat(),
            ),
        )
        states.report_down(session, machine, reason_id=plant.reasons["TOOL"].id, at=t(10))
        states.report_up(session, machine, at=t(10, 45))
        report(session, machine, t(11), good=80, scrap=4, operation_id=operation_id)
        states.report_down(session, machine, at=t(11, 45))  # no reason given: to classify
        states.report_up(session, machine, at=t(13, 15))
        report(session, machine, t(16, 30), good=120, scrap=6, operation_id=operation_id)
        subscribers.on_operation_completed(
            session,
            orders_event(
                "orders.operation_completed",
                order_id=2,
                operation_id=operation_id,
                machine_id=machine.id,
                good_total=200,
                scrap_total=10,
                completed_at=t(16, 30).isoformat(),
            ),
        )
    return machine, day


def test_a_day_shift_of_a_machine_without_telemetry(plant, day_shift):
    machine, day = day_shift
    assert_timeline_invariants(plant.timeline(machine))
    with plant.scope() as session:
        machine = plant.get(machine)
        groups, overall = oee.report(session, [machine], local(day, 0), local(day, 24), by="day")
    assert list(groups) == [day.isoformat()]
    assert minutes(overall.planned_production_s) == 480 and minutes(overall.down_s) == 75
    assert minutes(overall.operating_s) == 405 and minutes(overall.idle_s) == 30
    assert overall.availability == pytest.approx(0.84375)
    assert overall.performance == pytest.approx(315 / 405)
    assert overall.quality == pytest.approx(200 / 210)
    assert overall.oee == pytest.approx(0.625)
    assert {k: minutes(v) for k, v in overall.losses().items()} == {
        "breakdowns": 75,
        "setup": 0,
        "no_data": 0,
        "small_stops": 30,
        "reduced_speed": 60,
        "defects": 15,
        "reduced_yield": 0,
        "productive": 300,
    }


def test_the_breakdown_loss_is_split_by_reason_within_planned_time(plant, day_shift, client):
    _machine, day = day_shift
    window = {"start": local(day, 0).isoformat(), "end": local(day, 24).isoformat(), "by": "shift"}
    response = client.get("/api/v1/equipment/oee", query_string=window, headers=plant.admin.headers)
    [row] = response.json["rows"]
    # 10:00-10:45 tool breakage; 11:45-13:15 not classified, of which the lunch break 12:00-13:00 is not planned
    assert row["breakdowns"] == [
        {"reason_code": "TOOL", "reason": "刀具破损", "minutes": 45.0},
        {"reason_code": None, "reason": None, "minutes": 30.0},
    ]
    assert sum(b["minutes"] for b in row["breakdowns"]) == row["losses_min"]["breakdowns"] == 75


def test_downtime_pareto_and_mtbf_mttr_of_the_day(plant, day_shift, client):
    machine, day = day_shift
    with plant.scope() as session:
        machine = plant.get(machine)
        [reliability] = downtime.reliability(session, [machine], local(day, 8), local(day, 17))
        bars = downtime.pareto(session, [machine], local(day, 0), local(day, 24), by="reason", locale="en")
        shifts = downtime.pareto(session, [machine], local(day, 0), local(day, 24), by="shift", locale="en")
    assert (reliability.failures, reliability.down_minutes, reliability.up_minutes) == (2, 135, 405)
    assert reliability.mttr_minutes == 67.5 and reliability.mtbf_minutes == 202.5
    assert [(b.key, b.minutes, b.occurrences) for b in bars] == [("unclassified", 90, 1), ("Tool breakage", 45, 1)]
    assert bars[0].share == pytest.approx(90 / 135, abs=1e-4) and bars[-1].cumulative == 1.0
    assert [(b.key, b.minutes) for b in shifts] == [("Shift D", 135)]  # the lunch break is inside the shift span
    response = client.get(
        "/api/v1/equipment/downtime/pareto",
        query_string={"start": local(day, 0).isoformat(), "end": local(day, 24).isoformat(), "by": "machine"},
        headers=plant.admin.headers,
    )
    assert [(b["key"], b["minutes"]) for b in response.json] == [("OEE-B", 135)]


def test_without_an_ideal_cycle_time_performance_and_oee_are_not_available(app, plant, backdating, client, make):
    _rated, day = replay_day_shift(plant, "OEE-B", ideal_cycle_time_s=90)
    unrated, _day = replay_day_shift(plant, "OEE-C", ideal_cycle_time_s=None, operation_id=6)
    with plant.scope() as session:
        assert oee.refresh_shift_stats(session) >= 2  # the finished shift is read back from the stored figures
        stored = session.query(ShiftStats).filter_by(machine_id=unrated.id, start=local(day, 8)).one().figures
        without_key = {name: value for name, value in stored.items() if name != "unrated_s"}
        assert (
            oee.Figures.stored(without_key, plant.get(unrated)).oee is None
        )  # a row without the key: from the machine

    def figures(by: str) -> dict:
        window = {"start": local(day, 0).isoformat(), "end": local(day, 24).isoformat(), "by": by}
        response = client.get("/api/v1/equipment/oee", query_string=window, headers=plant.admin.headers)
        assert response.status_code == 200, response.text
        return response.json

    by_machine = figures("machine")
    rows = {row["key"]: row for row in by_machine["rows"]}
    assert rows["OEE-B"]["oee"] == pytest.approx(0.625) and rows["OEE-B"]["performance"] == pytest.approx(315 / 405)
    assert rows["OEE-C"]["performance"] is None and rows["OEE-C"]["oee"] is None
    assert rows["OEE-C"]["availability"] == pytest.approx(0.84375)  # what needs no cycle time is still there
    assert rows["OEE-C"]["quality"] == pytest.approx(200 / 210)
    assert by_machine["overall"]["oee"] is None and by_machine["overall"]["performance"] is None
    [work_center] = figures("work_center")["rows"]
    assert work_center["oee"] is None  # a sum that includes unmeasurable speed is no measure either
    browser = app.test_client()
    web_login(browser, make.member(plant.tenant, Role.SUPERVISOR).user.username)
    page = browser.get("/equipment/oee?days=7").text
    row = re.search(r'<tr data-key="OEE-C">(.*?)</tr>', page, re.S).group(1)
    _label, oee_cell, availability_cell, performance_cell = re.findall(r"<td>(?:<strong>)?([^<]*)", row)[:4]
    assert (oee_cell, performance_cell) == ("—", "—") and availability_cell.endswith("%")
    note = re.search(r'<p class="muted" id="oee-unrated">(.*?)</p>', page, re.S).group(1)
    assert "OEE-C" in note and "OEE-B" not in note
