"""What really ran (from the shop floor's events) and the Gantt chart's data."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from apps.equipment import maintenance
from apps.equipment.models import MaintenanceKind
from apps.scheduling import actuals
from apps.scheduling.models import Actual
from platform_core.db import utcnow
from platform_core.events import Event
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import api, local, tomorrow


def _event(plant, name, **payload) -> Event:
    return Event(str(uuid.uuid4()), name, plant.tenant.id, payload, utcnow(), {"label": "test"})


def _actuals(plant) -> list[tuple]:
    with plant.scope():
        rows = plant.session.scalars(sa.select(Actual).order_by(Actual.started_at))
        return [(a.operation_id, a.machine_id, a.started_at, a.ended_at, a.completed) for a in rows]


def test_start_pause_resume_complete_become_stretches_of_running_time(plant):
    t0 = utcnow().replace(microsecond=0) - dt.timedelta(hours=3)
    t = [t0 + dt.timedelta(minutes=m) for m in (0, 40, 60, 150)]
    common = {"order_id": 5, "operation_id": 9, "machine_id": plant.m1.id}
    with plant.scope("event"):
        started = _event(plant, "orders.operation_started", **common, started_at=t[0].isoformat())
        actuals.on_operation_started(plant.session, started)
        actuals.on_operation_started(
            plant.session, _event(plant, "orders.operation_started", **common, started_at=t[0].isoformat())
        )
        actuals.on_operation_paused(
            plant.session, _event(plant, "orders.operation_paused", **common, paused_at=t[1].isoformat())
        )
        actuals.on_operation_started(
            plant.session,
            _event(plant, "orders.operation_started", **common, started_at=t[2].isoformat(), resumed=True),
        )
    assert _actuals(plant) == [(9, plant.m1.id, t[0], t[1], False), (9, plant.m1.id, t[2], None, False)]
    with plant.scope("event"):
        actuals.on_operation_completed(
            plant.session, _event(plant, "orders.operation_completed", **common, completed_at=t[3].isoformat())
        )
        actuals.on_operation_paused(
            plant.session, _event(plant, "orders.operation_paused", **common, paused_at=t[3].isoformat())
        )
    assert _actuals(plant)[-1] == (9, plant.m1.id, t[2], t[3], True)


def test_work_started_on_a_tablet_shows_in_the_overlay(plant):
    order = plant.order(quantity=30)
    with plant.app.app_context():
        plant.started(plant.ops(order)[0], plant.m1)
    # the event is delivered after commit; here its subscriber is called with the event the orders app recorded
    with plant.scope():
        from platform_core.events import OutboxEvent

        row = plant.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.name == "orders.operation_started"))
        actuals.on_operation_started(
            plant.session, Event(row.id, row.name, row.tenant_id, row.payload, row.occurred_at, row.actor)
        )
    (stretch,) = _actuals(plant)
    assert stretch[:2] == (plant.ops(order)[0].id, plant.m1.id) and stretch[3] is None


def test_the_gantt_data_has_exact_bars_shading_stops_actuals_and_now(client, plant):
    order = plant.order(product=plant.pb, quantity=10)  # 20 min set-up + 20 min: a bar shorter than an hour
    plant.order(quantity=700)  # turning runs past 20:00: the night shows as non-working time
    with plant.scope("maintenance"):
        stop = maintenance.create_order(
            plant.session,
            plant.session.get(md.Machine, plant.m2.id),
            kind=MaintenanceKind.PREVENTIVE,
            title="保养",
            planned_start=local(tomorrow(), 12),
            planned_end=local(tomorrow(), 13),
        )
    run = plant.run()
    with plant.scope("event"):
        actuals.on_operation_started(
            plant.session,
            _event(
                plant,
                "orders.operation_started",
                order_id=order.id,
                operation_id=plant.ops(order)[0].id,
                machine_id=plant.m1.id,
                started_at=(utcnow() - dt.timedelta(minutes=30)).isoformat(),
            ),
        )
    data = api(client, plant.viewer, "GET", f"/runs/{run.id}/gantt").json
    ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
    bar = next(b for b in data["bars"] if b["order_id"] == order.id)
    assert bar["end"] - bar["start"] == 40 * 60 * 1000 and bar["product_name"] == "支架" and bar["quantity"] == 10
    assert {m["code"] for m in data["machines"]} == {"CNC-01", "CNC-02", "ASM-01"}
    shade = data["shading"][str(plant.m1.id)]
    assert [ms(local(tomorrow(), 20)), ms(local(tomorrow(), 32))] in shade
    (window,) = [u for u in data["unavailable"] if u["machine_id"] == plant.m2.id]
    assert window == {
        "machine_id": plant.m2.id,
        "start": ms(local(tomorrow(), 12)),
        "end": ms(local(tomorrow(), 13)),
        "kind": "maintenance",
        "reference": stop.number,
    }
    assert data["actuals"][0]["order"] == order.number and data["actuals"][0]["running"] is True
    assert data["run"]["editable"] is True and data["zone"] == "Asia/Shanghai"
    assert abs(data["now"] - ms(utcnow())) < 60_000
    assert {str(bar["slot"])} <= set(data["eligible"]) and len(data["eligible"][str(bar["slot"])]) == 2
    english = client.get(
        f"/api/v1/scheduling/runs/{run.id}/gantt", headers={**plant.viewer.headers, "Accept-Language": "en"}
    )
    assert english.status_code == 200


def test_a_run_without_a_schedule_has_no_gantt(client, plant):
    plant.order()
    run = plant.create()
    response = api(client, plant.viewer, "GET", f"/runs/{run.id}/gantt")
    assert response.status_code == 422 and "run_id" in response.json["errors"]
