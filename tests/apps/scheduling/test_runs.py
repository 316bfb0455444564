"""Runs: queued for the workers, solved by the queue handler, validated before they are stored; the API's checks."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from apps.scheduling import solving
from apps.scheduling.models import Run, RunStatus, Slot
from apps.scheduling.solver import Assignment, Solution, Status, instance_from_dict, validate
from platform_core.jobs import Job, JobStatus
from tests.apps.scheduling.conftest import api, local, tomorrow


def _slots(plant, run) -> list[Slot]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Slot).where(Slot.run_id == run.id).order_by(Slot.start)))


def test_creating_a_run_queues_a_solve_job_and_never_solves_in_the_request(client, plant):
    plant.order()
    response = api(client, plant.planner, "POST", "/runs", json={"preset": "makespan", "time_limit_s": 2})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "queued" and body["state"] == "queued" and body["label"] == "V1"
    with plant.scope():
        job = plant.session.get(Job, body["job_id"])
        assert job.kind == "scheduling.solve" and job.payload == {"run_id": body["id"]}
        assert job.status is JobStatus.QUEUED
        assert plant.session.scalar(sa.select(sa.func.count()).select_from(Slot)) == 0
    progress = api(client, plant.viewer, "GET", f"/runs/{body['id']}/progress").json
    assert progress["state"] == "queued" and progress["points"] == []


def test_a_solved_run_is_a_validated_draft_version(client, plant):
    a = plant.order(quantity=100, due_date=tomorrow())
    b = plant.order(product=plant.pb, quantity=50, due_date=tomorrow() + dt.timedelta(days=1), priority=1)
    run = plant.run()
    assert run.status is RunStatus.DRAFT and run.solver_status in ("optimal", "feasible")
    slots = _slots(plant, run)
    assert {s.order_id for s in slots} == {a.id, b.id} and len(slots) == 3
    # what is stored passes the independent validator against the stored instance
    instance = instance_from_dict(run.instance)
    minute = lambda t: int((t - run.origin).total_seconds() // 60)  # noqa: E731
    stored = [
        Assignment(str(s.operation_id), str(s.machine_id), minute(s.start), minute(s.end), s.setup_minutes)
        for s in slots
    ]
    assert validate(instance, stored).ok
    assert all(s.start >= plant.start for s in slots)
    for machine_id in {s.machine_id for s in slots}:
        placed = [s for s in slots if s.machine_id == machine_id]
        assert [s.sequence for s in placed] == list(range(1, len(placed) + 1))
    assert run.kpis["operations"] == 3 and run.kpis["late_orders"] >= 0
    assert set(run.kpis["utilisation"]) >= {str(s.machine_id) for s in slots}
    assert run.progress_log and run.progress_log[0][1] >= run.objective
    body = api(client, plant.viewer, "GET", f"/runs/{run.id}").json
    assert body["state"] == "draft" and body["kpis"]["makespan_minutes"] > 0
    slots_out = api(client, plant.viewer, "GET", f"/runs/{run.id}/slots").json
    assert [s["machine_code"] for s in slots_out] and slots_out[0]["start"].endswith("+00:00")
    progress = api(client, plant.viewer, "GET", f"/runs/{run.id}/progress").json
    assert progress["state"] == "draft" and progress["improvements"] >= 1 and progress["points"]


def test_the_handler_publishes_progress_while_it_solves(plant):
    plant.order()
    run = plant.create()
    seen = []
    original = solving._solve_watching

    def watching(ctx, *args):
        seen.append(ctx)
        return original(ctx, *args)

    solving._solve_watching = watching
    try:
        plant.solve(run)
    finally:
        solving._solve_watching = original
    phases = [u.get("phase") for u in seen[0].updates]
    assert phases[0] == "assembling" and "solving" in phases and phases[-1] == "storing"
    solving_updates = [u for u in seen[0].updates if u.get("phase") == "solving"]
    assert solving_updates[-1]["operations"] == 2 and "points" in solving_updates[-1]


def test_a_schedule_that_breaks_a_rule_is_never_stored(plant, monkeypatch):
    order = plant.order()
    op10, op20 = plant.ops(order)
    run = plant.create()

    def broken(instance, config, progress):
        # op 20 before op 10 ends, on a machine that works: a valid-looking but wrong schedule
        start = instance.now
        return Solution(
            Status.FEASIBLE,
            assignments=(
                Assignment(str(op10.id), str(plant.m1.id), start, start + 130),
                Assignment(str(op20.id), str(plant.m3.id), start, start + 60),
            ),
            objective=1.0,
        )

    monkeypatch.setattr(solving, "solve", broken)
    failed = plant.solve(run)
    assert failed.status is RunStatus.FAILED and failed.error.startswith("invalid:")
    assert _slots(plant, failed) == [] and failed.kpis is None


def test_an_infeasible_run_says_why(plant):
    plant.order(quantity=100)
    with plant.scope():
        from apps.scheduling import settings

        settings.update_settings(plant.session, horizon_days=1, allow_pause=False)  # 12 working hours, no pausing
    plant.order(quantity=2000)  # 2000 min on CNC-01 at best: longer than any shift
    run = plant.run()
    assert run.status is RunStatus.INFEASIBLE and run.explanation
    assert _slots(plant, run) == []


def test_a_run_whose_orders_were_all_cancelled_meanwhile_fails_in_words(client, plant):
    order = plant.order()
    run = plant.create()
    with plant.scope():
        from apps.orders import work_orders
        from apps.orders.models import WorkOrder

        work_orders.cancel_order(plant.session, plant.session.get(WorkOrder, order.id))
    failed = plant.solve(run)
    assert failed.status is RunStatus.FAILED and failed.error == "nothing" and failed.kpis is None
    assert api(client, plant.viewer, "GET", f"/runs/{run.id}").json["state"] == "failed"


def test_an_engine_failure_is_recorded_on_the_run(plant, monkeypatch):
    plant.order()
    run = plant.create()

    def crash(instance, config, progress):
        raise ValueError("operation refers to unknown machine")

    monkeypatch.setattr(solving, "solve", crash)
    failed = plant.solve(run)
    assert failed.status is RunStatus.FAILED and "unknown machine" in failed.error


def test_a_run_cancelled_meanwhile_stays_cancelled(client, plant, monkeypatch):
    plant.order()
    run = plant.create()
    real = solving.solve

    def cancel_then_solve(instance, config, progress):
        # the planner cancels while the engine searches
        assert api(client, plant.planner, "POST", f"/runs/{run.id}/cancel").status_code == 200
        return real(instance, config, progress)

    monkeypatch.setattr(solving, "solve", cancel_then_solve)
    with pytest.raises(solving.JobCancelled):
        plant.solve(run)
    with plant.scope():
        stored = plant.session.get(Run, run.id)
        plant.session.refresh(stored)
        assert stored.status is RunStatus.CANCELLED and stored.slots == []
        assert plant.session.get(Job, run.job_id).status is JobStatus.CANCELLED


def test_cancel_discard_and_copy(client, plant):
    plant.order()
    queued = plant.create()
    response = api(client, plant.planner, "POST", f"/runs/{queued.id}/cancel")
    assert response.json["status"] == "cancelled"
    again = api(client, plant.planner, "POST", f"/runs/{queued.id}/cancel")
    assert again.status_code == 409 and again.json["current_state"] == "cancelled"
    run = plant.run()
    copy = api(client, plant.planner, "POST", f"/runs/{run.id}/copy")
    assert copy.status_code == 201 and copy.json["status"] == "draft" and copy.json["base_id"] == run.id
    assert len(api(client, plant.viewer, "GET", f"/runs/{copy.json['id']}/slots").json) == len(_slots(plant, run))
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/discard").json["status"] == "discarded"
    assert api(client, plant.planner, "POST", f"/runs/{run.id}/discard").status_code == 409
    listed = api(client, plant.viewer, "GET", "/runs", query_string={"status": "draft"}).json
    assert [r["id"] for r in listed] == [copy.json["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preset": "fastest"}, "preset"),
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": "10"}, "time_limit_s"),
        ({"horizon_start": "2020-01-01T08:00:00+08:00"}, "horizon_start"),
        ({"horizon_start": "2030-01-01T08:00:00"}, "horizon_start"),
        ({"order_ids": []}, "order_ids"),
        ({"order_ids": [999999]}, "order_ids"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_run_requests_are_refused_field_by_field_and_write_nothing(client, plant, body, field):
    plant.order()
    response = api(client, plant.planner, "POST", "/runs", json=body)
    assert response.status_code == 422, response.json
    assert field in str(response.json["errors"])
    with plant.scope():
        assert plant.session.scalar(sa.select(sa.func.count()).select_from(Run)) == 0


def test_an_order_not_yet_released_cannot_be_scheduled(client, plant):
    draft = plant.order(release=False)
    response = api(client, plant.planner, "POST", "/runs", json={"order_ids": [draft.id]})
    assert response.status_code == 422 and str(draft.id) in response.json["errors"]["order_ids"]


def test_nothing_to_schedule(client, plant):
    response = api(client, plant.planner, "POST", "/runs", json={})
    assert response.status_code == 422 and "order_ids" in response.json["errors"]


def test_viewers_read_but_do_not_plan(client, plant):
    plant.order()
    assert api(client, plant.viewer, "POST", "/runs", json={}).status_code == 403
    assert api(client, plant.viewer, "GET", "/runs").status_code == 200


def test_the_data_check_lists_problems_before_solving(client, plant):
    late = plant.order(due_date=local(tomorrow(), 0).date() - dt.timedelta(days=3))
    body = api(client, plant.viewer, "GET", "/check", query_string={"order_ids": str(late.id)}).json
    assert body["orders"] == 1 and body["operations"] == 2 and body["machines"] == 3
    problem = next(p for p in body["problems"] if p["kind"] == "due_past")
    assert late.number in problem["message"] and problem["link"].endswith(f"/orders/work-orders/{late.id}/edit")
    assert api(client, plant.viewer, "GET", "/check", query_string={"order_ids": "x"}).status_code == 422
