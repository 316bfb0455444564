"""A planner's moves and locks: checked for eligibility, time, calendar, stops and overlaps; re-optimised around."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import sqlalchemy as sa

from apps.equipment import maintenance
from apps.equipment.models import MaintenanceKind
from apps.scheduling.models import Run, RunStatus, Slot
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import api, local, tomorrow


def _slots(plant, run) -> list[Slot]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Slot).where(Slot.run_id == run.id).order_by(Slot.start)))


def _slot(plant, run, operation) -> Slot:
    return next(s for s in _slots(plant, run) if s.operation_id == operation.id)


def _move(client, plant, run, slot, machine, start):
    body = {"machine_id": machine.id, "start": start.isoformat()}
    return api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{slot.id}/move", json=body)


def test_a_valid_move_is_locked_renumbered_and_rescored(client, plant):
    a, b = plant.order(product=plant.pb, quantity=30), plant.order(product=plant.pb, quantity=30)
    run = plant.run()
    slot = _slot(plant, run, plant.ops(a)[0])
    target = local(tomorrow(), 15)
    response = _move(client, plant, run, slot, plant.m2, target)
    assert response.status_code == 200, response.json
    assert response.json["kpis"]["conflicts"] == []
    moved = _slot(plant, run, plant.ops(a)[0])
    assert (moved.machine_id, moved.start, moved.locked) == (plant.m2.id, target, True)
    assert moved.end == target + dt.timedelta(minutes=20 + 60)  # set-up 20 + 30 pieces at 120 s
    on_m2 = [s for s in _slots(plant, run) if s.machine_id == plant.m2.id]
    assert [s.sequence for s in on_m2] == list(range(1, len(on_m2) + 1)) and on_m2[
        -1
    ].operation_id == moved.operation_id
    with plant.scope():
        lock = next(
            op["lock"]
            for job in plant.session.get(Run, run.id).instance["jobs"]
            for op in job["operations"]
            if op["id"] == str(moved.operation_id)
        )
    assert lock["machine"] == str(plant.m2.id)
    assert b.id != a.id


def test_moves_that_break_a_rule_are_refused_and_change_nothing(client, plant):
    order = plant.order(quantity=60)
    plant.order(product=plant.pb, quantity=60)
    run = plant.run()
    op10, op20 = plant.ops(order)
    slot10, slot20 = _slot(plant, run, op10), _slot(plant, run, op20)
    cases = [
        (slot20, plant.m1, local(tomorrow(), 15), "machine_id"),  # CNC-01 cannot assemble
        (slot10, plant.m1, local(tomorrow(), -20), "start"),  # in the past
        (slot10, plant.m1, local(tomorrow(), 21), "start"),  # the machine does not work at 21:00
    ]
    before = [(s.machine_id, s.start, s.end, s.locked) for s in _slots(plant, run)]
    for slot, machine, start, field in cases:
        response = _move(client, plant, run, slot, machine, start)
        assert response.status_code == 422, response.json
        assert field in response.json["errors"], response.json
    other = next(s for s in _slots(plant, run) if s.machine_id in (plant.m1.id, plant.m2.id) and s.id != slot10.id)
    overlap = _move(
        client, plant, run, slot10, SimpleNamespace(id=other.machine_id), other.start + dt.timedelta(minutes=1)
    )
    assert overlap.status_code == 422 and "重叠" in " ".join(
        overlap.json["errors"]["start"]
    )  # the factory reads Chinese
    assert [(s.machine_id, s.start, s.end, s.locked) for s in _slots(plant, run)] == before


def test_a_move_onto_maintenance_is_refused(client, plant):
    order = plant.order(product=plant.pb, quantity=30)
    run = plant.run()
    with plant.scope("maintenance"):
        maintenance.create_order(
            plant.session,
            plant.session.get(md.Machine, plant.m2.id),
            kind=MaintenanceKind.PREVENTIVE,
            title="保养",
            planned_start=local(tomorrow(), 16),
            planned_end=local(tomorrow(), 18),
        )
    run = plant.run()  # this version knows the maintenance window
    slot = _slot(plant, run, plant.ops(order)[0])
    response = _move(client, plant, run, slot, plant.m2, local(tomorrow(), 15, 30))
    assert response.status_code == 422 and "不可用" in " ".join(response.json["errors"]["start"])


def test_a_move_that_disturbs_the_routing_is_kept_as_a_conflict_until_re_optimised(client, plant):
    order = plant.order(quantity=60)
    run = plant.run()
    op10, op20 = plant.ops(order)
    slot20 = _slot(plant, run, op20)
    response = _move(client, plant, run, _slot(plant, run, op10), plant.m2, slot20.start + dt.timedelta(hours=2))
    assert response.status_code == 200 and response.json["kpis"]["conflicts"]  # op 20 now starts before op 10
    refused = api(client, plant.planner, "POST", f"/runs/{run.id}/publish")
    assert refused.status_code == 409 and refused.json["code"] == "conflicts"
    again = api(client, plant.planner, "POST", f"/runs/{run.id}/reoptimise")
    assert again.status_code == 201 and again.json["kind"] == "reoptimise" and again.json["base_id"] == run.id
    with plant.scope():
        queued = plant.session.get(Run, again.json["id"])
    repaired = plant.solve(queued)
    assert repaired.status is RunStatus.DRAFT and not repaired.kpis.get("conflicts")
    locked = _slot(plant, repaired, op10)
    assert (locked.machine_id, locked.start, locked.locked) == (plant.m2.id, slot20.start + dt.timedelta(hours=2), True)
    assert _slot(plant, repaired, op20).start >= locked.start  # the rest was planned around the lock
    assert api(client, plant.planner, "POST", f"/runs/{repaired.id}/publish").status_code == 200


def test_lock_unlock_and_running_work_stays(client, plant):
    running, waiting = plant.order(quantity=30), plant.order(product=plant.pb, quantity=30)
    plant.started(plant.ops(running)[0], plant.m1)
    run = plant.run()
    frozen = _slot(plant, run, plant.ops(running)[0])
    assert frozen.frozen
    refused = api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{frozen.id}/lock")
    assert refused.status_code == 409 and refused.json["code"] == "frozen"
    slot = _slot(plant, run, plant.ops(waiting)[0])
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{slot.id}/lock").status_code == 200
    assert _slot(plant, run, plant.ops(waiting)[0]).locked
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{slot.id}/unlock").status_code == 200
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{slot.id}/unlock").status_code == 409


def test_published_versions_are_changed_through_a_copy(client, plant):
    order = plant.order(product=plant.pb, quantity=30)
    run = plant.run()
    api(client, plant.planner, "POST", f"/runs/{run.id}/publish")
    slot = _slot(plant, run, plant.ops(order)[0])
    refused = api(client, plant.planner, "POST", f"/runs/{run.id}/slots/{slot.id}/lock")
    assert refused.status_code == 409 and refused.json["current_state"] == "published"
    copy = api(client, plant.planner, "POST", f"/runs/{run.id}/copy").json
    copied = next(s for s in api(client, plant.viewer, "GET", f"/runs/{copy['id']}/slots").json)
    assert api(client, plant.planner, "POST", f"/runs/{copy['id']}/slots/{copied['id']}/lock").status_code == 200


def test_slots_are_addressed_within_their_own_version(client, plant):
    plant.order(product=plant.pb, quantity=30)
    first, second = plant.run(), plant.run()
    foreign = _slots(plant, second)[0]
    response = api(client, plant.planner, "POST", f"/runs/{first.id}/slots/{foreign.id}/lock")
    assert response.status_code == 404


def _machine(plant, machine_id: int) -> md.Machine:
    return next(m for m in (plant.m1, plant.m2, plant.m3) if m.id == machine_id)


def test_re_optimising_a_draft_keeps_its_locks_and_follows_the_published_plan(client, plant):
    a, b = plant.order(product=plant.pb, quantity=30), plant.order(product=plant.pb, quantity=30)
    (a10,), (b10,) = plant.ops(a), plant.ops(b)
    published = plant.run(preset="makespan")
    assert api(client, plant.planner, "POST", f"/runs/{published.id}/publish").status_code == 200
    a_published = _slot(plant, published, a10)
    assert a_published.start == plant.start  # inside the frozen horizon of a run planning from then
    machine = _machine(plant, a_published.machine_id)
    draft_id = api(client, plant.planner, "POST", f"/runs/{published.id}/copy").json["id"]
    with plant.scope():
        draft = plant.session.get(Run, draft_id)
    # in the draft, A sits two hours later without a lock, and B is locked after it on the same machine
    assert _move(client, plant, draft, _slot(plant, draft, a10), machine, local(tomorrow(), 10)).status_code == 200
    unlocked = api(client, plant.planner, "POST", f"/runs/{draft.id}/slots/{_slot(plant, draft, a10).id}/unlock")
    assert unlocked.status_code == 200
    target = local(tomorrow(), 13)
    assert _move(client, plant, draft, _slot(plant, draft, b10), machine, target).status_code == 200

    queued = api(client, plant.planner, "POST", f"/runs/{draft.id}/reoptimise").json
    with plant.scope():
        run = plant.session.get(Run, queued["id"])
        run.horizon_start = plant.start  # plan from tomorrow 08:00, whatever the time the test runs
    solved = plant.solve(run)
    a_now, b_now = _slot(plant, solved, a10), _slot(plant, solved, b10)
    assert (a_now.machine_id, a_now.start, a_now.frozen) == (machine.id, plant.start, True)  # published place
    assert (b_now.machine_id, b_now.start, b_now.locked) == (machine.id, target, True)  # the draft's lock
    assert solved.kpis["moved"] == 1  # against what the shop floor follows, not against the draft
    assert [row["order_id"] for row in solved.kpis["affected"]] == [b.id]


def test_a_move_onto_the_published_work_of_an_order_left_out_is_refused(client, plant):
    a, b = plant.order(product=plant.pb, quantity=30), plant.order(product=plant.pb, quantity=30)
    published = plant.run(order_ids=[a.id])
    assert api(client, plant.planner, "POST", f"/runs/{published.id}/publish").status_code == 200
    a_published = _slot(plant, published, plant.ops(a)[0])
    draft = plant.run(order_ids=[b.id])
    slot = _slot(plant, draft, plant.ops(b)[0])
    response = _move(client, plant, draft, slot, _machine(plant, a_published.machine_id), a_published.start)
    assert response.status_code == 422
    assert a.number in " ".join(response.json["errors"]["start"])
    assert _slot(plant, draft, plant.ops(b)[0]).start == slot.start
