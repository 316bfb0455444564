"""Preventive plans by calendar, running hours and parts (orders created once, ahead by the lead), the work order
flow on the tablet API, planned maintenance in the timeline, windows announced to scheduling, availability."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import sqlalchemy as sa

from apps.equipment import availability, configuration, maintenance, states
from apps.equipment import events as subscribers
from apps.equipment.models import (
    MaintenanceKind,
    MaintenanceOrder,
    MaintenanceStatus,
    PlanTrigger,
    State,
)
from platform_core.db import db, utcnow
from platform_core.errors import Conflict, InvalidTransition
from platform_core.events import Event, OutboxEvent
from platform_core.rbac import Role
from tests.apps.equipment.conftest import assert_timeline_invariants


def plan(plant, machine=None, **fields):
    defaults = {"code": f"PM{uuid.uuid4().hex[:6]}", "name": "主轴保养", "checklist": ["清洁", "润滑", "检查皮带"]}
    with plant.scope() as session:
        machine = plant.get(machine) if machine is not None else None
        return configuration.create_plan(session, machine=machine, **{**defaults, **fields})


def set_baseline(plant, created_plan, machine, when: dt.datetime) -> None:
    with plant.scope() as session:
        maintenance.lock_progress(session, plant.get(created_plan), machine.id).baseline_at = when


def orders(plant, machine=None) -> list[MaintenanceOrder]:
    with plant.scope() as session:
        statement = sa.select(MaintenanceOrder).order_by(MaintenanceOrder.id)
        if machine is not None:
            statement = statement.where(MaintenanceOrder.machine_id == machine.id)
        return list(session.scalars(statement))


def test_a_calendar_plan_creates_its_order_once_within_the_lead_and_announces_the_window(plant):
    machine = plant.machine("PM-1")
    created = plan(plant, machine, trigger=PlanTrigger.CALENDAR, interval=14, lead=5, tolerance=2, duration_min=90)
    set_baseline(plant, created, machine, utcnow() - dt.timedelta(days=8))  # due in 6 days: not yet
    with plant.scope() as session:
        assert maintenance.scan_plans(session) == []
    set_baseline(plant, created, machine, utcnow() - dt.timedelta(days=10))  # due in 4 days: within the lead
    with plant.scope() as session:
        [order] = maintenance.scan_plans(session)
        assert maintenance.scan_plans(session) == []  # once
        assert order.kind is MaintenanceKind.PREVENTIVE and order.cycle == 1 and order.number.startswith("MWO-")
        assert abs((order.due_at - (utcnow() + dt.timedelta(days=4))).total_seconds()) < 60
        assert order.planned_start == order.due_at and order.planned_end - order.planned_start == dt.timedelta(
            minutes=90
        )
        assert [c["item"] for c in order.checklist] == ["清洁", "润滑", "检查皮带"]
        assert not maintenance.is_overdue(session, order)
        assert not maintenance.is_overdue(session, order, now=order.due_at + dt.timedelta(days=1, hours=23))
        assert maintenance.is_overdue(session, order, now=order.due_at + dt.timedelta(days=2, hours=1))
        planned = session.scalars(
            sa.select(OutboxEvent.payload).where(OutboxEvent.name == "equipment.maintenance_planned")
        ).one()
        assert planned["maintenance_id"] == order.id and planned["machine_id"] == machine.id
        assert planned["starts_at"] == order.planned_start.isoformat()
        windows = availability.unavailability(session, utcnow(), utcnow() + dt.timedelta(days=7))
        assert [(w.machine_id, w.kind, w.reference) for w in windows] == [(machine.id, "maintenance", order.number)]


def test_the_technician_flow_puts_the_machine_in_planned_maintenance_and_back(plant, client, make):
    machine = plant.machine("PM-2")
    created = plan(plant, machine, trigger=PlanTrigger.CALENDAR, interval=30, lead=5)
    set_baseline(plant, created, machine, utcnow() - dt.timedelta(days=29))
    with plant.scope() as session:
        [order] = maintenance.scan_plans(session)
    technician = make.member(plant.tenant, Role.MAINTENANCE_TECHNICIAN, username="wang-pm2")
    operator = make.member(plant.tenant, Role.OPERATOR)
    base = f"/api/v1/equipment/maintenance-orders/{order.id}"

    def post(path, json=None, member=technician, key=True):
        headers = {**member.headers, **({"Idempotency-Key": uuid.uuid4().hex} if key else {})}
        return client.post(f"{base}{path}", json=json, headers=headers)

    assert post("/start", member=operator).status_code == 403
    started = post("/start")
    assert started.status_code == 200 and started.json["status"] == "in_progress"
    assert started.json["started_by"] == "wang-pm2"
    assert plant.timeline(machine)[-1].state is State.MAINTENANCE
    recorded = post(
        "/record",
        {
            "checks": [{"index": 0}, {"index": 1, "ok": False, "note": "油位低"}],
            "findings": "主轴润滑不足，已补油",
            "parts_used": [{"part": "润滑油 2L", "quantity": 1}],
        },
    )
    assert recorded.status_code == 200
    assert [c["done"] for c in recorded.json["checklist"]] == [True, True, False]
    refused = post("/complete")
    assert refused.status_code == 409 and refused.json["errors"]["checklist"] == ["检查皮带"]
    post("/record", {"checks": [{"index": 2}], "time_spent_min": 75})
    completed = post("/complete")
    assert completed.status_code == 200 and completed.json["status"] == "completed"
    assert completed.json["time_spent_min"] == 75 and completed.json["parts_used"][0]["part"] == "润滑油 2L"
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    assert [i.state for i in timeline][-2:] == [State.MAINTENANCE, State.IDLE]
    with plant.scope() as session:
        assert maintenance.scan_plans(session) == []  # counting again from the completion
        progress = maintenance.lock_progress(session, plant.get(created), machine.id)
        assert abs((progress.baseline_at - utcnow()).total_seconds()) < 60
        names = set(session.scalars(sa.select(OutboxEvent.name)))
    assert {"equipment.maintenance_planned", "equipment.maintenance_completed"} <= names
    history = client.get(
        f"/api/v1/equipment/maintenance-orders?status=closed&machine_id={machine.id}", headers=operator.headers
    )
    assert [o["number"] for o in history.json] == [order.number]


def test_a_running_hours_plan_counts_running_time_from_the_timeline(plant):
    machine = plant.machine("PM-3")
    created = plan(plant, machine, trigger=PlanTrigger.RUNNING_HOURS, interval=10, lead=2)
    nine_hours_ago = utcnow() - dt.timedelta(hours=9)
    set_baseline(plant, created, machine, nine_hours_ago - dt.timedelta(hours=1))
    with plant.scope() as session:
        states.operation_started(session, machine.id, 1, 1, nine_hours_ago, setup=False)
        assert maintenance.running_hours(session, machine.id, nine_hours_ago, utcnow()) == pytest.approx(9, abs=0.01)
        [order] = maintenance.scan_plans(session)  # 9 h of 10, lead 2 h
    assert order.due_at is not None and order.due_at > utcnow()


def test_a_parts_plan_counts_work_reports_for_every_machine_of_its_model(plant):
    a, b = plant.machine("PM-4", model="VMC850"), plant.machine("PM-5", model="VMC850")
    created = plan(plant, machine_model="VMC850", trigger=PlanTrigger.COUNT, interval=500, lead=50)
    for machine in (a, b):
        set_baseline(plant, created, machine, utcnow() - dt.timedelta(days=1))
    with plant.scope() as session:
        for machine, good in ((a, 440), (b, 200)):
            subscribers.on_operation_reported(
                session,
                Event(
                    str(uuid.uuid4()),
                    "orders.operation_reported",
                    0,
                    {
                        "operation_id": 3,
                        "order_id": 1,
                        "machine_id": machine.id,
                        "good": good,
                        "scrap": 12,
                        "rework": 0,
                        "reported_at": utcnow().isoformat(),
                    },
                    utcnow(),
                    {},
                ),
            )
        created_orders = maintenance.scan_plans(session)
    assert [o.machine_id for o in created_orders] == [a.id]  # 452 of 500 is within the lead; 212 is not


def overdue_over_http(client, plant, order) -> bool:
    response = client.get(f"/api/v1/equipment/maintenance-orders/{order.id}", headers=plant.admin.headers)
    assert response.status_code == 200, response.text
    return response.json["overdue"]


def test_a_running_hours_plan_is_overdue_only_past_its_tolerance_in_running_hours(plant, client):
    machine = plant.machine("PM-9")
    created = plan(plant, machine, trigger=PlanTrigger.RUNNING_HOURS, interval=10, lead=2, tolerance=3)
    twelve_hours_ago = utcnow() - dt.timedelta(hours=12)
    set_baseline(plant, created, machine, twelve_hours_ago - dt.timedelta(hours=1))
    with plant.scope() as session:
        states.operation_started(session, machine.id, 1, 1, twelve_hours_ago, setup=False)
        [order] = maintenance.scan_plans(session)  # 12 h run of 10: due, 2 h into its 3 h tolerance
    assert not overdue_over_http(client, plant, order)
    with plant.scope() as session:
        later = utcnow() + dt.timedelta(hours=1, minutes=5)
        assert maintenance.is_overdue(session, plant.get(order), now=later)
        plant.get(created).tolerance = 1.5
    assert overdue_over_http(client, plant, order)


def test_a_parts_plan_is_overdue_only_past_its_tolerance_in_parts(plant, client):
    machine = plant.machine("PM-10", model="VMC850")
    created = plan(plant, machine, trigger=PlanTrigger.COUNT, interval=500, lead=50, tolerance=60)
    set_baseline(plant, created, machine, utcnow() - dt.timedelta(days=1))
    with plant.scope() as session:
        report(session, machine, good=540, scrap=10)
        [order] = maintenance.scan_plans(session)
    assert not overdue_over_http(client, plant, order)  # 550 parts of 500 + 60
    with plant.scope() as session:
        report(session, machine, good=20)
    assert overdue_over_http(client, plant, order)  # 570


def report(session, machine, **quantities) -> None:
    subscribers.on_operation_reported(
        session,
        Event(
            str(uuid.uuid4()),
            "orders.operation_reported",
            0,
            {"operation_id": 3, "order_id": 1, "machine_id": machine.id, "reported_at": utcnow().isoformat()}
            | quantities,
            utcnow(),
            {},
        ),
    )


def test_start_and_cancel_follow_the_lifecycle(plant):
    machine = plant.machine("PM-6")
    with plant.scope() as session:
        order = maintenance.create_order(
            session,
            plant.get(machine),
            kind=MaintenanceKind.CORRECTIVE,
            title="换主轴皮带",
            checklist=[],
            blocks_machine=False,
        )
        with pytest.raises(InvalidTransition):
            maintenance.complete(session, order)
        maintenance.start(session, order)
        assert order.status is MaintenanceStatus.IN_PROGRESS
        maintenance.cancel(session, order)
        with pytest.raises(InvalidTransition):
            maintenance.cancel(session, order)
        with pytest.raises(Exception) as refused:
            maintenance.create_order(
                session,
                plant.get(machine),
                kind=MaintenanceKind.CORRECTIVE,
                title="x",
                planned_start=utcnow(),
                planned_end=utcnow() - dt.timedelta(hours=1),
            )
        assert "window" in str(refused.value)
    assert plant.timeline(machine) == []  # a corrective order that does not block leaves the timeline alone


def test_a_down_machine_is_unavailable_until_its_expected_up_time(plant):
    machine = plant.machine("PM-7")
    expected = utcnow() + dt.timedelta(hours=4)
    with plant.scope() as session:
        states.report_down(session, plant.get(machine), reason_id=plant.reasons["SPINDLE"].id, expected_up_at=expected)
        [window] = availability.unavailability(session, utcnow(), utcnow() + dt.timedelta(days=1), [machine.id])
    assert (window.kind, window.end) == ("down", expected)


def test_checklist_items_must_exist(plant):
    machine = plant.machine("PM-8")
    with plant.scope() as session:
        order = maintenance.create_order(
            session, plant.get(machine), kind=MaintenanceKind.PREVENTIVE, title="x", checklist=["a"]
        )
        maintenance.start(session, order)
        with pytest.raises(Exception, match="checklist"):
            maintenance.record(session, order, checks=[{"index": 5}])
        maintenance.record(session, order, checks=[{"index": 0}])
        maintenance.complete(session, order)
        with pytest.raises(Conflict):
            maintenance.record(session, order, findings="late")


@pytest.mark.backends("postgresql")
def test_concurrent_scans_create_one_order(live_app, make_committed):
    from platform_core.masterdata.models import Machine
    from tests.apps.equipment.test_mqtt import committed_factory

    tenant_id, _factory, _secret = committed_factory(make_committed, machines=("PMC-1",))
    with live_app.test_request_context(), db.unit_of_work(tenant_id) as session:
        machine = session.scalars(sa.select(Machine)).one()
        created = configuration.create_plan(
            session, machine=machine, code="PMC", name="保养", trigger=PlanTrigger.CALENDAR, interval=7, lead=6.5
        )
        maintenance.lock_progress(session, created, machine.id).baseline_at = utcnow() - dt.timedelta(days=1)
    barrier = threading.Barrier(3)
    errors: list[Exception] = []

    def scan() -> None:
        barrier.wait()
        try:
            with live_app.test_request_context(), db.unit_of_work(tenant_id) as session:
                maintenance.scan_plans(session)
        except Exception as error:  # a serialisation failure would be a bug: each scan locks the plan's progress
            errors.append(error)

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MaintenanceOrder)) == 1
