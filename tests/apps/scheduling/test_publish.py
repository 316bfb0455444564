"""Publishing: the version becomes the plan, the tablets' dispatch lists follow it, one published version at a time."""

from __future__ import annotations

import sqlalchemy as sa

from apps.orders import execution, planning
from apps.orders.models import Operation
from apps.scheduling.models import Run, RunStatus, Slot
from platform_core.events import OutboxEvent
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
