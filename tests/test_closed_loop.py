"""The closed loop the suite exists for, through the HTTP API on committed data: a published schedule, a gateway's
rising vibration raising a predictive alarm and one maintenance order, a breakdown reported on a tablet raising
one down alarm and one repair order, the repair schedule the breakdown triggers (running work kept, the stopped
machine avoided), the tablets' dispatch lists following it once published, and the shift's OEE showing the
downtime under its reason."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from apps.equipment import demo as equipment_demo
from apps.equipment import forecasting, watch
from apps.equipment import jobs as equipment_jobs
from platform_core.db import db, tenant_context, utcnow
from platform_core.jobs import JobStatus
from platform_core.masterdata import models as md
from platform_core.rbac import Role
from tests.apps.scheduling.conftest import build_plant, tomorrow
from tests.apps.scheduling.live import clear_queue, run_queued

EQUIPMENT = "/api/v1/equipment"
ORDERS = "/api/v1/orders"
SCHEDULING = "/api/v1/scheduling"
DOWN_MINUTES = 45
REPAIR_HOURS = 6  # the technician's estimate: the machine is expected back six hours into tomorrow's plan


def _factory(make):
    """The scheduling tests' machining shop, plus a night shift (the loop runs whenever the suite runs), people
    for the equipment side and a downtime reason."""
    shop = build_plant(make)
    admin = make.member(shop.tenant)
    technician = make.member(shop.tenant, Role.MAINTENANCE_TECHNICIAN)
    with make.app.app_context(), tenant_context(make.session, shop.tenant.id):
        calendar = make.session.get(md.ShiftCalendar, shop.calendar.id)
        calendar.shifts.append(
            md.CalendarShift(
                code="N",
                name="夜班",
                position=1,
                weekdays=list(range(1, 8)),
                start_time=dt.time(20),
                end_time=dt.time(8),
                breaks=[],
            )
        )
        mech = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code="MECH", name="机械故障", name_en="Mechanical")
        spindle = md.ReasonCode(
            kind=md.ReasonKind.DOWNTIME, code="SPINDLE", name="主轴故障", name_en="Spindle failure", parent=mech
        )
        make.session.add_all([mech, spindle])
        make.session.flush()
        return shop, admin, technician, spindle.id


def _call(client, who, method: str, path: str, *, expect: int = 200, idempotent: bool = False, **kwargs):
    """One API call as ``who`` (a member, or a bearer token), asserting its status; returns the JSON body."""
    bearer = {"Authorization": f"Bearer {who}"} if isinstance(who, str) else who.headers
    headers = {**bearer, **kwargs.pop("headers", {})}
    if idempotent:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code == expect, (method, path, response.status_code, response.get_json())
    return response.get_json()


def _window(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def test_predictive_alarm_breakdown_repair_dispatch_and_oee(live_app, make_committed):
    clear_queue(live_app)
    shop, admin, technician, spindle_id = make_committed(_factory)
    client = live_app.test_client()
    planner, operator, viewer = shop.planner, shop.operator, shop.viewer
    lathe, spare = shop.m1.id, shop.m2.id  # CNC-01 wears out and breaks down; CNC-02 takes its work

    # --- 1. released orders, running work, a solved and published schedule ---------------------------------------
    orders = []
    for product, quantity in ((shop.pa, 120), (shop.pa, 80), (shop.pb, 60), (shop.pb, 40)):
        order = _call(
            client,
            planner,
            "POST",
            f"{ORDERS}/work-orders",
            expect=201,
            json={
                "product_id": product.id,
                "quantity": quantity,
                "due_date": (tomorrow() + dt.timedelta(2)).isoformat(),
            },
        )
        orders.append(_call(client, planner, "POST", f"{ORDERS}/work-orders/{order['id']}/release"))
    running_op = orders[2]["operations"][0]["id"]  # PB milling, running on CNC-02 before anything is planned
    started = _call(
        client, operator, "POST", f"{ORDERS}/operations/{running_op}/start", idempotent=True, json={"machine_id": spare}
    )
    assert started["status"] == "running" and started["machine_id"] == spare

    current = client.get(f"{SCHEDULING}/settings", headers=planner.headers)
    _call(
        client,
        planner,
        "PATCH",
        f"{SCHEDULING}/settings",
        headers={"If-Match": current.headers["ETag"]},
        json={"repair_time_limit_s": 2},
    )
    run = _call(
        client,
        planner,
        "POST",
        f"{SCHEDULING}/runs",
        expect=201,
        json={"time_limit_s": 2, "horizon_start": shop.start.isoformat()},
    )
    assert run_queued(live_app) == [JobStatus.SUCCEEDED]
    assert _call(client, viewer, "GET", f"{SCHEDULING}/runs/{run['id']}")["status"] == "draft"
    assert _call(client, planner, "POST", f"{SCHEDULING}/runs/{run['id']}/publish")["status"] == "published"
    first_slots = _call(client, viewer, "GET", f"{SCHEDULING}/runs/{run['id']}/slots")
    assert {s["order_id"] for s in first_slots} == {o["id"] for o in orders}
    on_lathe_before = {s["operation_id"] for s in first_slots if s["machine_id"] == lathe}
    assert on_lathe_before, "the plan puts no work on CNC-01: the breakdown would disturb nothing"

    # --- 2. the gateway's vibration series rises towards the limit: one predictive alarm, one order --------------
    metric = _call(
        client,
        admin,
        "POST",
        f"{EQUIPMENT}/metrics",
        expect=201,
        json={"code": "vibration", "name": "主轴振动", "unit": "mm/s", "kind": "gauge"},
    )
    rule = _call(
        client,
        admin,
        "POST",
        f"{EQUIPMENT}/alarm-rules",
        expect=201,
        json={
            "code": "VIB-TREND",
            "name": "主轴振动趋势",
            "kind": "trend",
            "machine_id": lathe,
            "metric_id": metric["id"],
            "threshold": equipment_demo.VIBRATION_LIMIT,
            "lead_time_h": 120,
        },
    )
    down_rule = _call(
        client,
        admin,
        "POST",
        f"{EQUIPMENT}/alarm-rules",
        expect=201,
        json={"code": "DOWN-30", "name": "停机超过 30 分钟", "kind": "state", "machine_id": lathe, "state": "down",
              "threshold": 30, "severity": "critical"},
    )  # fmt: skip
    gateway = _call(client, admin, "POST", f"{EQUIPMENT}/gateways", expect=201, json={"name": "edge-cnc01"})
    rng = random.Random(20261122)
    last_hour = utcnow().replace(minute=0, second=0, microsecond=0)
    points = [
        {
            "machine": shop.m1.code,
            "metric": "vibration",
            "ts": (last_hour - dt.timedelta(hours=back, minutes=-30)).isoformat(),
            "value": equipment_demo.vibration_average(rng, back / 24, wearing=True),
        }
        for back in range(equipment_demo.SENSOR_DAYS * 24, 0, -1)
    ]
    ingested = _call(client, gateway["token"], "POST", f"{EQUIPMENT}/telemetry", json=points)
    assert (ingested["accepted"], ingested["rejected"]) == (len(points), 0)
    for _round in range(2):  # the worker's predictive job, twice: still one alarm and one order
        with live_app.app_context(), db.unit_of_work(shop.tenant.id, actor=equipment_jobs.ACTOR) as session:
            forecasting.evaluate(session)
    alarms = _call(client, viewer, "GET", f"{EQUIPMENT}/alarms", query_string={"machine_id": lathe})
    assert [(a["rule_id"], a["kind"], a["status"]) for a in alarms] == [(rule["id"], "trend", "active")]
    suggested = _call(client, viewer, "GET", f"{EQUIPMENT}/maintenance-orders", query_string={"machine_id": lathe})
    assert [(o["kind"], o["alarm_id"], o["status"]) for o in suggested] == [("predictive", alarms[0]["id"], "open")]
    assert suggested[0]["due_at"] is not None and suggested[0]["blocks_machine"]
    # the suggested window lies beyond tomorrow's planned work: the breakdown alone is what disturbs the plan
    planned_until = max(dt.datetime.fromisoformat(s["end"]) for s in first_slots)
    assert dt.datetime.fromisoformat(suggested[0]["planned_start"]) > planned_until

    # --- 3. an operator's tablet reports CNC-01 down: one down state, a repair order, scheduling sees the stop ---
    down_at = utcnow().replace(microsecond=0) - dt.timedelta(minutes=DOWN_MINUTES)
    expected_up = shop.start + dt.timedelta(hours=REPAIR_HOURS)
    down = _call(
        client,
        operator,
        "POST",
        f"{EQUIPMENT}/machines/{lathe}/down",
        expect=201,
        idempotent=True,
        json={
            "reason_id": spindle_id,
            "at": down_at.isoformat(),
            "note": "主轴异响后停机",
            "expected_up_at": expected_up.isoformat(),
        },
    )
    assert (down["state"], down["reason_code"]) == ("down", "SPINDLE")
    status = _call(client, viewer, "GET", f"{EQUIPMENT}/machines/{lathe}")
    assert (status["state"], status["reason_code"], status["unclassified"]) == ("down", "SPINDLE", False)
    timeline = _call(
        client,
        viewer,
        "GET",
        f"{EQUIPMENT}/machines/{lathe}/states",
        query_string=_window(down_at - dt.timedelta(hours=1), utcnow() + dt.timedelta(minutes=1)),
    )
    assert [(i["started_at"], i["ended_at"]) for i in timeline if i["state"] == "down"] == [(down_at.isoformat(), None)]
    for _round in range(2):  # the worker's watch, twice: down for longer than 30 minutes, one alarm, one repair
        with live_app.app_context(), db.unit_of_work(shop.tenant.id, actor=equipment_jobs.ACTOR) as session:
            watch.watch(session)
    alarms = _call(client, viewer, "GET", f"{EQUIPMENT}/alarms", query_string={"machine_id": lathe})
    [down_alarm] = [a for a in alarms if a["rule_id"] == down_rule["id"]]
    assert down_alarm["status"] == "active"
    open_orders = _call(client, viewer, "GET", f"{EQUIPMENT}/maintenance-orders", query_string={"machine_id": lathe})
    assert sorted((o["kind"], o["status"]) for o in open_orders) == [("corrective", "open"), ("predictive", "open")]
    [repair_order] = [o for o in open_orders if o["kind"] == "corrective"]
    assert repair_order["alarm_id"] == down_alarm["id"]
    stops = _call(
        client,
        viewer,
        "GET",
        f"{EQUIPMENT}/availability",
        query_string={**_window(shop.start, shop.start + dt.timedelta(days=1)), "machine_id": lathe},
    )
    breakdowns = [w for w in stops if w["kind"] == "down"]
    assert len(breakdowns) == 1 and breakdowns[0]["end"] == expected_up.isoformat()

    # --- 4. the breakdown queued a repair by itself; solved, it keeps running work and avoids CNC-01 -------------
    queued = _call(client, viewer, "GET", f"{SCHEDULING}/runs", query_string={"status": "queued"})
    assert [(r["kind"], r["cause"], r["base_id"]) for r in queued] == [("repair", "machine_down", run["id"])]
    assert queued[0]["cause_detail"]["machine_id"] == lathe
    assert run_queued(live_app) == [JobStatus.SUCCEEDED]
    proposal = _call(client, viewer, "GET", f"{SCHEDULING}/runs/{queued[0]['id']}")
    assert proposal["status"] == "proposed"
    slots = _call(client, viewer, "GET", f"{SCHEDULING}/runs/{proposal['id']}/slots")
    by_operation = {s["operation_id"]: s for s in slots}
    before = {s["operation_id"]: s for s in first_slots}
    kept = by_operation[running_op]
    assert (kept["machine_id"], kept["start"], kept["frozen"]) == (spare, before[running_op]["start"], True)
    for slot in slots:
        if slot["machine_id"] == lathe:
            starts, ends = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
            assert ends <= down_at or starts >= expected_up, f"{slot['order_number']} planned on CNC-01 while down"
    moved_off = {op for op in on_lathe_before if by_operation[op]["machine_id"] != lathe}
    assert moved_off, "no operation left the broken machine"
    gantt = _call(client, viewer, "GET", f"{SCHEDULING}/runs/{proposal['id']}/gantt")
    assert [(u["machine_id"], u["kind"]) for u in gantt["unavailable"] if u["kind"] == "down"] == [(lathe, "down")]
    assert _call(client, planner, "POST", f"{SCHEDULING}/runs/{proposal['id']}/publish")["status"] == "published"
    assert _call(client, viewer, "GET", f"{SCHEDULING}/runs/{run['id']}")["status"] == "superseded"

    # --- 5. the tablets' dispatch lists follow the published repair -----------------------------------------------
    listed = _call(client, operator, "GET", f"{ORDERS}/dispatch", query_string={"machine_id": spare})
    assert listed[0]["operation"]["id"] == running_op and listed[0]["operation"]["status"] == "running"
    planned_here = sorted(
        (s for s in slots if s["machine_id"] == spare and s["operation_id"] != running_op), key=lambda s: s["start"]
    )
    shown = [item["operation"]["id"] for item in listed[1:] if item["planned"]]
    assert shown == [s["operation_id"] for s in planned_here]
    assert moved_off <= set(shown)
    for item in listed[1:]:
        if item["planned"]:
            assert item["operation"]["planned_machine_id"] == spare
    on_lathe = _call(client, operator, "GET", f"{ORDERS}/dispatch", query_string={"machine_id": lathe})
    for item in on_lathe:
        if item["planned"]:
            assert dt.datetime.fromisoformat(item["operation"]["planned_start"]) >= expected_up

    # --- 6. repaired and back up: the shift's OEE counts the stop as a breakdown under its reason ----------------
    _call(client, technician, "POST", f"{EQUIPMENT}/maintenance-orders/{repair_order['id']}/start", idempotent=True)
    done = _call(
        client, technician, "POST", f"{EQUIPMENT}/maintenance-orders/{repair_order['id']}/complete", idempotent=True
    )
    assert done["status"] == "completed"
    up = _call(client, operator, "POST", f"{EQUIPMENT}/machines/{lathe}/up", expect=201, idempotent=True, json={})
    assert up["state"] != "down"
    up_at = dt.datetime.fromisoformat(up["started_at"])
    down_minutes = (up_at - down_at).total_seconds() / 60
    back_early = _call(client, viewer, "GET", f"{SCHEDULING}/runs", query_string={"status": "queued"})
    assert [(r["cause"], r["base_id"]) for r in back_early] == [("machine_up", proposal["id"])]
    _call(client, planner, "POST", f"{SCHEDULING}/runs/{back_early[0]['id']}/cancel")

    # the shift instances starting up to 12 hours before the stop hold it whole
    shifts = _window(down_at - dt.timedelta(hours=12, minutes=1), utcnow() + dt.timedelta(minutes=1))
    report = _call(
        client, viewer, "GET", f"{EQUIPMENT}/oee", query_string={**shifts, "by": "shift", "machine_id": lathe}
    )
    overall = report["overall"]
    assert overall["availability"] is not None and overall["availability"] < 1
    assert abs(overall["losses_min"]["breakdowns"] - down_minutes) < 0.5
    hit = [row for row in report["rows"] if row["losses_min"]["breakdowns"] > 0]
    assert hit and all(row["availability"] < 1 for row in hit)
    split = [(b["reason_code"], b["minutes"]) for row in hit for b in row["breakdowns"]]
    assert {code for code, _minutes in split} == {"SPINDLE"}
    assert abs(sum(minutes for _code, minutes in split) - down_minutes) < 0.5
    pareto = _call(client, viewer, "GET", f"{EQUIPMENT}/downtime/pareto", query_string={**shifts, "by": "reason"})
    assert [(bar["key"], bar["occurrences"]) for bar in pareto] == [("主轴故障", 1)]
    assert abs(pareto[0]["minutes"] - down_minutes) < 0.5
