"""Publishing: the version becomes the plan, the tablets' dispatch lists follow it, one published version at a time."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from apps.orders import execution, planning, work_orders
from apps.orders.models import Operation, WorkOrder
from apps.scheduling import runs
from apps.scheduling.models import Run, RunStatus, Slot
from platform_core.events import OutboxEvent
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import api


def _slots(plant, run) -> list[Slot]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Slot).where(Slot.run_id == run.id).order_by(Slot.start)))


def _dispatch(plant, machine) -> list[int]:
    with plant.scope():
        return planning.dispatch_sequence(plant.session, machine.id)


def _planned(plant) -> dict[int, tuple]:
    with plant.scope():
        return {
            op.operation_id: (op.planned_machine_id, op.planned_start, op.planned_end, op.planned_sequence)
            for order in planning.open_orders(plant.session)
            for op in order.operations
        }


def test_publishing_writes_the_plan_and_the_dispatch_lists_follow_it(client, plant):
    orders = [plant.order(quantity=q) for q in (30, 60, 90)] + [plant.order(product=plant.pb, quantity=20)]
    run = plant.run(preset="makespan")
    response = api(client, plant.planner, "POST", f"/runs/{run.id}/publish")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "published" and response.json["published_by"] == plant.planner.user.username
    slots = _slots(plant, run)
    planned = _planned(plant)
    for slot in slots:
        machine_id, start, end, _sequence = planned[slot.operation_id]
        assert (machine_id, start, end) == (slot.machine_id, slot.start, slot.end)
    for machine in (plant.m1, plant.m2, plant.m3):
        expected = [s.operation_id for s in sorted(slots, key=lambda s: s.start) if s.machine_id == machine.id]
        assert _dispatch(plant, machine)[: len(expected)] == expected
    with plant.scope():
        event = plant.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.name == "scheduling.schedule_published"))
    assert event.payload["schedule_id"] == run.id and event.payload["version"] == run.number
    assert set(event.payload["machine_ids"]) == {s.machine_id for s in slots}
    assert len({o.id for o in orders}) == 4


def test_one_published_version_at_a_time(client, plant):
    plant.order()
    first, second = plant.run(), plant.run(preset="setups")
    assert api(client, plant.planner, "POST", f"/runs/{first.id}/publish").status_code == 200
    assert api(client, plant.planner, "POST", f"/runs/{second.id}/publish").status_code == 200
    with plant.scope():
        statuses = dict(plant.session.execute(sa.select(Run.id, Run.status)).all())
    assert statuses == {first.id: RunStatus.SUPERSEDED, second.id: RunStatus.PUBLISHED}
    again = api(client, plant.planner, "POST", f"/runs/{first.id}/publish")
    assert again.status_code == 409 and again.json["current_state"] == "superseded"


def test_work_completed_since_the_run_is_left_out_of_the_plan(client, plant):
    order = plant.order(quantity=5)
    run = plant.run()
    op10 = plant.ops(order)[0]
    plant.started(op10, plant.m1)
    plant.reported(op10, good=5)
    with plant.scope("operator"):
        execution.complete(plant.session, plant.session.get(Operation, op10.id), employee=plant.employee)
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/publish").status_code == 200
    planned = _planned(plant)
    assert op10.id not in planned and planned[plant.ops(order)[1].id][0] == plant.m3.id


def test_publishing_needs_its_own_permission(client, plant):
    order = plant.order()
    run = plant.run()
    for member in (plant.viewer, plant.supervisor, plant.operator):
        assert api(client, member, "POST", f"/runs/{run.id}/publish").status_code == 403
    with plant.scope():
        assert plant.session.get(Run, run.id).status is RunStatus.DRAFT
    assert _planned(plant)[plant.ops(order)[0].id][0] is None  # nothing written to the operations


def test_queued_and_discarded_versions_cannot_be_published(client, plant):
    plant.order()
    queued = plant.create()
    response = api(client, plant.planner, "POST", f"/runs/{queued.id}/publish")
    assert response.status_code == 409 and response.json["current_state"] == "queued"
    run = plant.run()
    api(client, plant.planner, "POST", f"/runs/{run.id}/discard")
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/publish").status_code == 409


def _overlapping(slots, others) -> list[tuple[int, int]]:
    return [
        (s.operation_id, o.operation_id)
        for s in slots
        for o in others
        if s.machine_id == o.machine_id and s.start < o.end and o.start < s.end
    ]


def test_publishing_a_selection_keeps_the_plan_of_the_other_orders(client, plant):
    a, b = plant.order(product=plant.pb, quantity=60), plant.order(product=plant.pb, quantity=60)
    first = plant.run(order_ids=[a.id, b.id], preset="makespan")  # one order on each milling machine
    assert api(client, plant.planner, "POST", f"/runs/{first.id}/publish").status_code == 200
    a_slots = [s for s in _slots(plant, first) if s.order_id == a.id]
    (b_first,) = [s for s in _slots(plant, first) if s.order_id == b.id]
    assert {s.machine_id for s in a_slots} == {plant.m1.id, plant.m2.id} - {b_first.machine_id}
    a_ops = {op.id for op in plant.ops(a)}
    a_planned = {op_id: place for op_id, place in _planned(plant).items() if op_id in a_ops}
    with plant.scope():  # B's machine stops: B can only go where A is planned
        plant.session.get(md.Machine, b_first.machine_id).active = False

    second = plant.run(order_ids=[b.id])
    chart = api(client, plant.viewer, "GET", f"/runs/{second.id}/gantt").json
    assert [(o["machine_id"], o["reference"]) for o in chart["occupied"]] == [(a_slots[0].machine_id, a.number)]
    assert chart["unavailable"] == []  # A's time is not drawn as a stop of the machine
    assert api(client, plant.planner, "POST", f"/runs/{second.id}/publish").status_code == 200
    planned = _planned(plant)
    assert {op_id: planned[op_id] for op_id in a_ops} == a_planned  # A keeps machine, times and position
    (b_second,) = [s for s in _slots(plant, second) if s.order_id == b.id]
    assert b_second.machine_id == a_slots[0].machine_id and _overlapping([b_second], a_slots) == []
    assert planned[b_second.operation_id] == (b_second.machine_id, b_second.start, b_second.end, 2)
    with plant.scope():
        plan = {(s.operation_id, s.machine_id, s.start, s.end) for s in runs.published_plan(plant.session)}
    assert plan == {(s.operation_id, s.machine_id, s.start, s.end) for s in [*a_slots, b_second]}


def _completion(client, plant, order) -> dt.datetime | None:
    response = client.get(f"/api/v1/orders/work-orders/{order.id}", headers=plant.viewer.headers)
    assert response.status_code == 200
    value = response.json["planned_completion"]
    return None if value is None else dt.datetime.fromisoformat(value)


def test_each_order_gets_its_planned_completion_until_no_plan_covers_it(client, plant):
    a, b = plant.order(quantity=30), plant.order(product=plant.pb, quantity=30)
    first = plant.run()
    assert _completion(client, plant, a) is None  # a draft plans nothing for the shop floor
    assert api(client, plant.planner, "POST", f"/runs/{first.id}/publish").status_code == 200
    slots = _slots(plant, first)
    for order in (a, b):
        assert _completion(client, plant, order) == max(s.end for s in slots if s.order_id == order.id)

    with plant.scope():
        work_orders.hold_order(plant.session, plant.session.get(WorkOrder, b.id))
    second = plant.run()  # B is held: the new plan does not cover it
    assert api(client, plant.planner, "POST", f"/runs/{second.id}/publish").status_code == 200
    assert _completion(client, plant, b) is None
    assert _completion(client, plant, a) == max(s.end for s in _slots(plant, second) if s.order_id == a.id)


def test_a_partial_publish_keeps_the_completion_of_the_orders_it_left_alone(client, plant):
    a, b = plant.order(quantity=30), plant.order(product=plant.pb, quantity=30)
    first = plant.run()
    assert api(client, plant.planner, "POST", f"/runs/{first.id}/publish").status_code == 200
    before = _completion(client, plant, a)
    second = plant.run(order_ids=[b.id])
    assert api(client, plant.planner, "POST", f"/runs/{second.id}/publish").status_code == 200
    assert _completion(client, plant, a) == before
    assert _completion(client, plant, b) == max(s.end for s in _slots(plant, second) if s.order_id == b.id)
