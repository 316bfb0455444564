"""The live board and the KPIs, computed from known times in the factory's time zone (Asia/Shanghai, UTC+8)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from apps.orders import execution, supervision, work_orders
from apps.orders.models import WorkOrder
from tests.apps.orders.conftest import API, get, ops

UTC = dt.UTC


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _run_order(shop, quantity: int, *, due: dt.date | None, released: dt.datetime, steps: list[tuple]) -> object:
    """An order run through the services at given times: steps are (op index, time, good, scrap, complete?)."""
    order = shop.order(quantity=quantity, due_date=due, release=False)
    with shop.make.app.app_context(), shop.scoped():
        session, employee = shop.session, shop.employees["operator"]
        order = session.get(WorkOrder, order.id)  # leaving a tenant scope detaches its rows
        work_orders.release_order(session, order, now=released)
        for index, at, good, scrap, complete in steps:
            operation = ops(order)[index]
            if operation.status.value == "pending":
                machine = shop.m1 if index == 0 else shop.m3
                execution.start(session, operation, machine=machine, employee=employee, now=at)
            data = execution.ReportInput(good=good, scrap=scrap, scrap_reason=shop.scrap_burr if scrap else None)
            execution.report(session, operation, data, employee=employee, now=at)
            if complete:
                execution.complete(session, operation, employee=employee, now=at)
    return order


def test_kpis_per_local_day(client, shop):
    # Completed on 11-21 local (03:00 UTC = 11:00 Shanghai), due that day: on time; 26 h from release.
    _run_order(
        shop, 10, due=dt.date(2026, 11, 21), released=_at(20, 1),
        steps=[(0, _at(20, 2), 10, 0, True), (1, _at(21, 3), 9, 1, True)],
    )  # fmt: skip
    # Completed at 17:00 UTC on 11-21, i.e. 01:00 on 11-22 in Shanghai: a day late.
    _run_order(
        shop, 5, due=dt.date(2026, 11, 21), released=_at(21, 5),
        steps=[(0, _at(21, 6), 5, 0, True), (1, _at(21, 17), 5, 0, True)],
    )  # fmt: skip
    with shop.scoped():
        result = supervision.kpis(shop.session, days=3, now=_at(22, 12))
    assert [d.date for d in result.days] == [dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)]
    day20, day21, day22 = result.days
    assert (day20.output, day20.good, day20.scrap) == (0, 10, 0)
    assert (day21.output, day21.good, day21.scrap, day21.orders_completed, day21.on_time) == (9, 14, 1, 1, 1)
    assert (day22.output, day22.orders_completed, day22.on_time) == (5, 1, 0)
    assert result.output == 14 and result.orders_completed == 2
    assert result.on_time_rate == 0.5
    assert result.scrap_rate == 1 / 30
    assert result.mean_lead_time_h == (26 + 12) / 2

    api = get(client, shop.planner, "/kpis", query_string={"days": 30}).json
    assert api["days"][-1]["date"] == dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    exported = client.get(f"{API}/kpis/export", query_string={"days": 7}, headers=shop.planner.headers)
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0] == supervision.KPI_CSV_HEADER and len(rows) == 8


def test_the_board_shows_what_runs_for_how_long_and_which_orders_are_late_or_at_risk(client, shop):
    # The API half reads the board at the real clock, so the dates are relative to today in the factory.
    now = dt.datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    late = shop.order(quantity=10, due_date=today - dt.timedelta(days=1), number="B-LATE")
    # 2000 pieces at 60 s on CNC and 30 s on assembly: 50 h of work left, due at the end of tomorrow (in < 48 h)
    at_risk = shop.order(quantity=2000, due_date=today + dt.timedelta(days=1), number="B-RISK")
    relaxed = shop.order(quantity=1, due_date=today + dt.timedelta(days=30), number="B-OK")
    with shop.make.app.app_context(), shop.scoped():
        employee = shop.employees["operator"]
        execution.start(
            shop.session, ops(late)[0], machine=shop.m1, employee=employee, now=now - dt.timedelta(minutes=40)
        )
        running = ops(relaxed)[0]
        execution.start(shop.session, running, machine=shop.m2, employee=employee, now=now - dt.timedelta(minutes=90))
        execution.pause(
            shop.session, running, reason=shop.pause_tool, employee=employee, now=now - dt.timedelta(minutes=25)
        )
        board = supervision.live_board(shop.session, now=now)
    assert [p.order.number for p in board.late] == ["B-LATE"]
    assert [p.order.number for p in board.at_risk] == ["B-RISK"]
    assert board.active[0].operation.status.value == "paused" and board.active[0].seconds_in_status == 25 * 60
    assert board.active[1].seconds_in_status == 40 * 60 and board.active[1].running_s == 40 * 60
    cnc = next(c for c in board.centers if c.work_center.code == "CNC")
    assert (cnc.running, cnc.paused, cnc.waiting, cnc.pieces) == (1, 1, 1, 11)  # at_risk's first operation waits
    assert next(c for c in board.centers if c.work_center.code == "ASM").waiting == 0
    assert at_risk.number in [p.order.number for p in board.orders]

    api = get(client, shop.supervisor, "/board").json
    assert {o["number"] for o in api["orders"] if o["late"]} == {"B-LATE"}
    assert len(api["active"]) == 2 and api["approvals"] == []
