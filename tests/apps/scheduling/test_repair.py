"""Repairs: disruptions propose a schedule that keeps running work in place and avoids the stop; the planner
publishes it (or the factory's policy does)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from apps.equipment import states
from apps.scheduling import publishing, repair, settings
from apps.scheduling.models import Cause, Run, RunKind, RunStatus, Slot
from platform_core.db import utcnow
from platform_core.events import Event, OutboxEvent
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import api, build_plant, local, tomorrow
from tests.apps.scheduling.live import clear_queue, committed, create_run, release, run_queued


def _event(plant, name: str, **payload) -> Event:
    return Event(str(uuid.uuid4()), name, plant.tenant.id, payload, utcnow(), {"label": "test"})


def _published(plant, **kwargs) -> Run:
    run = plant.run(**kwargs)
    with plant.scope():
        return publishing.publish(plant.session, plant.session.get(Run, run.id), actor="planner")


def _repairs(plant) -> list[Run]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Run).where(Run.kind == RunKind.REPAIR).order_by(Run.id)))


def _slots(plant, run) -> list[Slot]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Slot).where(Slot.run_id == run.id).order_by(Slot.start)))


def test_no_repair_without_a_published_plan_or_when_switched_off(plant):
    plant.order()
    with plant.scope():
        assert repair.propose(plant.session, Cause.MACHINE_DOWN, {"machine_id": plant.m1.id}) is None
    _published(plant)
    with plant.scope():
        settings.update_settings(plant.session, auto_repair=False)
        assert repair.propose(plant.session, Cause.MACHINE_DOWN, {"machine_id": plant.m1.id}) is None
    assert _repairs(plant) == []


def test_a_machine_down_where_work_is_planned_proposes_a_repair(plant):
    plant.order(quantity=100)
    plant.order(product=plant.pb, quantity=60)
    published = _published(plant)
    busy = {s.machine_id for s in _slots(plant, published)}
    idle = next(m for m in (plant.m1, plant.m2, plant.m3) if m.id not in busy) if len(busy) < 3 else None
    machine = next(m for m in (plant.m1, plant.m2) if m.id in busy)
    until = (plant.start + dt.timedelta(hours=4)).isoformat()
    with plant.scope("event"):
        event = _event(
            plant,
            "equipment.machine_down",
            machine_id=machine.id,
            machine_code=machine.code,
            reason_code="TOOL",
            since=utcnow().isoformat(),
            expected_up_at=until,
        )
        repair.on_machine_down(plant.session, event)
        if idle is not None:
            repair.on_machine_down(
                plant.session,
                _event(
                    plant, "equipment.machine_down", machine_id=idle.id, since=utcnow().isoformat(), expected_up_at=None
                ),
            )
    (queued,) = _repairs(plant)
    assert queued.status is RunStatus.QUEUED and queued.cause == "machine_down" and queued.base_id == published.id
    assert queued.cause_detail["machine_id"] == machine.id and queued.time_limit_s == 15


def test_triggers_join_a_repair_still_waiting_for_a_worker(plant):
    plant.order()
    _published(plant)
    with plant.scope():
        first = repair.propose(plant.session, Cause.MACHINE_DOWN, {"machine_id": plant.m1.id})
        second = repair.propose(plant.session, Cause.RUSH_ORDER, {"order_id": 7})
    assert first.id == second.id and second.cause_detail["also"] == [{"cause": "rush_order", "order_id": 7}]


def test_maintenance_over_planned_work_and_rush_orders_propose_repairs(plant):
    plant.order(quantity=100)
    published = _published(plant)
    slot = _slots(plant, published)[0]
    with plant.scope("event"):
        repair.on_maintenance_planned(
            plant.session,
            _event(
                plant,
                "equipment.maintenance_planned",
                maintenance_id=1,
                machine_id=slot.machine_id,
                starts_at=slot.start.isoformat(),
                ends_at=(slot.start + dt.timedelta(hours=1)).isoformat(),
            ),
        )
    assert [r.cause for r in _repairs(plant)] == ["maintenance"]
    with plant.scope():
        plant.session.get(Run, _repairs(plant)[0].id).status = RunStatus.DISCARDED
    rush = plant.order(priority=1)
    calm = plant.order(priority=5)
    with plant.scope("event"):
        for order in (calm, rush):
            repair.on_order_released(
                plant.session,
                _event(plant, "orders.order_released", order_id=order.id, number=order.number, priority=order.priority),
            )
    assert [(r.cause, r.cause_detail.get("order_id")) for r in _repairs(plant)][1:] == [("rush_order", rush.id)]


def test_a_slipping_plan_proposes_a_repair_once_per_period(plant):
    order = plant.order(quantity=10)
    published = _published(plant)
    with plant.scope():
        assert repair.check_slippage(plant.session) is None  # on time: the plan starts tomorrow
        # the shop floor is two hours behind: the plan said the first operation starts at 08:00, it is now 10:00
        late, worst = repair.slippage(plant.session, now=plant.start + dt.timedelta(hours=2, minutes=30))
        assert late >= 1 and worst >= 150 - 1
    first = _slots(plant, published)[0]
    with plant.scope():
        moved_back = utcnow() - dt.timedelta(hours=3)
        from apps.orders.models import Operation

        plant.session.get(Operation, first.operation_id).planned_start = moved_back
        proposed = repair.check_slippage(plant.session)
        assert proposed is not None and proposed.cause == "slippage" and proposed.cause_detail["minutes"] >= 180
        assert repair.check_slippage(plant.session) is None  # one is pending already
    assert order.id == first.order_id


def test_the_repair_keeps_running_work_avoids_the_stop_and_lists_the_orders_it_moves(client, plant):
    a = plant.order(quantity=200, due_date=tomorrow())
    b = plant.order(product=plant.pb, quantity=120, due_date=tomorrow())
    c = plant.order(quantity=150, due_date=tomorrow() + dt.timedelta(days=5))
    running = plant.ops(a)[0]
    plant.started(running, plant.m1, at=utcnow() - dt.timedelta(minutes=20))
    published = _published(plant)
    down_from, down_until = utcnow() - dt.timedelta(minutes=5), local(tomorrow(), 14)
    with plant.scope("operator"):
        states.report_down(
            plant.session, plant.session.get(md.Machine, plant.m1.id), at=down_from, expected_up_at=down_until
        )
        repair.on_machine_down(
            plant.session,
            _event(
                plant,
                "equipment.machine_down",
                machine_id=plant.m1.id,
                since=down_from.isoformat(),
                expected_up_at=down_until.isoformat(),
            ),
        )
    (queued,) = _repairs(plant)
    proposal = plant.solve(queued)
    assert proposal.status is RunStatus.PROPOSED
    slots = {s.operation_id: s for s in _slots(plant, proposal)}
    kept = slots[running.id]
    before = {s.operation_id: s for s in _slots(plant, published)}[running.id]
    assert (kept.machine_id, kept.frozen) == (plant.m1.id, True) and kept.start == before.start
    for slot in slots.values():
        if slot.machine_id == plant.m1.id and not slot.frozen:
            assert slot.end <= down_from or slot.start >= down_until, "work planned on the broken machine"
    affected = {row["order_id"] for row in proposal.kpis["affected"]}
    assert affected and affected <= {a.id, b.id, c.id}
    with plant.scope():
        event = plant.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.name == "scheduling.repair_proposed"))
    assert event.payload["schedule_id"] == proposal.id and event.payload["cause"] == "machine_down"
    assert set(event.payload["affected_order_ids"]) == affected
    page = client.get(f"/scheduling/runs/{proposal.id}", headers=plant.planner.headers)
    assert page.status_code == 200 and 'id="affected"' in page.text
    assert api(client, plant.planner, "POST", f"/runs/{proposal.id}/publish").json["status"] == "published"


def test_a_newer_proposal_replaces_the_older_one_and_the_policy_can_publish_at_once(plant):
    plant.order(quantity=80)
    published = _published(plant)
    with plant.scope():
        older = repair.propose(plant.session, Cause.SLIPPAGE, {"operations": 1, "minutes": 90})
    older = plant.solve(older)
    assert older.status is RunStatus.PROPOSED
    with plant.scope():
        settings.update_settings(plant.session, auto_publish_repairs=True)
        newer = repair.propose(plant.session, Cause.MACHINE_DOWN, {"machine_id": plant.m2.id})
    newer = plant.solve(newer)
    with plant.scope():
        statuses = {run.id: plant.session.get(Run, run.id).status for run in (published, older, newer)}
    assert statuses == {
        published.id: RunStatus.SUPERSEDED,
        older.id: RunStatus.DISCARDED,
        newer.id: RunStatus.PUBLISHED,
    }


# --- end to end on real commits: the equipment app's report reaches the scheduler through the event ------------


def test_machine_down_reported_on_a_tablet_leads_to_a_published_repair(live_app, make_committed):
    clear_queue(live_app)
    shop = make_committed(build_plant)
    for quantity in (120, 80):
        release(live_app, shop, quantity=quantity)
    release(live_app, shop, product=shop.pb, quantity=60)
    first = create_run(live_app, shop)
    run_queued(live_app)
    client = live_app.test_client()
    assert client.post(f"/api/v1/scheduling/runs/{first}/publish", headers=shop.planner.headers).status_code == 200
    busy = committed(live_app, shop, lambda s: s.scalars(sa.select(Slot.machine_id).where(Slot.run_id == first)).all())
    machine_id = max(set(busy), key=busy.count)
    response = client.post(
        f"/api/v1/equipment/machines/{machine_id}/down",
        json={"expected_up_at": (shop.start + dt.timedelta(hours=6)).isoformat()},
        headers={**shop.operator.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.json
    proposals = client.get("/api/v1/scheduling/runs?status=queued", headers=shop.viewer.headers).json
    assert [p["cause"] for p in proposals] == ["machine_down"]
    run_queued(live_app)
    proposal = client.get(f"/api/v1/scheduling/runs/{proposals[0]['id']}", headers=shop.viewer.headers).json
    assert proposal["status"] == "proposed" and proposal["base_id"] == first
    banner = client.get("/scheduling/proposals", headers=shop.planner.headers)
    assert f'data-run="{proposal["id"]}"' in banner.text
    published = client.post(f"/api/v1/scheduling/runs/{proposal['id']}/publish", headers=shop.planner.headers)
    assert published.status_code == 200 and published.json["status"] == "published"


def test_a_machine_back_earlier_than_the_plan_assumed_proposes_a_repair(plant):
    plant.order(quantity=100)
    with plant.scope("operator"):
        states.report_down(
            plant.session,
            plant.session.get(md.Machine, plant.m1.id),
            expected_up_at=plant.start + dt.timedelta(hours=6),
        )
    published = _published(plant)  # planned around the breakdown
    with plant.scope("event"):
        repair.on_machine_up(
            plant.session,
            _event(plant, "equipment.machine_up", machine_id=plant.m2.id, since=utcnow().isoformat(), down_minutes=5),
        )
        assert _repairs(plant) == []  # the plan did not count CNC-02 down
        repair.on_machine_up(
            plant.session,
            _event(plant, "equipment.machine_up", machine_id=plant.m1.id, since=utcnow().isoformat(), down_minutes=5),
        )
    (queued,) = _repairs(plant)
    assert (queued.cause, queued.base_id) == ("machine_up", published.id)


def test_the_periodic_slippage_check_visits_every_factory(live_app, make_committed):
    clear_queue(live_app)
    shop = make_committed(build_plant)
    release(live_app, shop, quantity=10)
    first = create_run(live_app, shop)
    run_queued(live_app)

    def publish_late(session):
        from apps.orders.models import Operation

        run = publishing.publish(session, session.get(Run, first), actor="planner")
        for slot in session.scalars(sa.select(Slot).where(Slot.run_id == run.id)):
            session.get(Operation, slot.operation_id).planned_start = utcnow() - dt.timedelta(hours=5)

    committed(live_app, shop, publish_late)
    with live_app.app_context():
        repair.scan_slippage()
    causes = committed(
        live_app, shop, lambda s: s.scalars(sa.select(Run.cause).where(Run.kind == RunKind.REPAIR)).all()
    )
    assert causes == ["slippage"]
