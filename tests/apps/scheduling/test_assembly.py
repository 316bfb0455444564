"""The engine instance built from the factory's data: what is left, where it may run, when machines work."""

from __future__ import annotations

import datetime as dt

from apps.equipment import maintenance, states
from apps.equipment.models import MaintenanceKind
from apps.scheduling import settings
from apps.scheduling.assembly import PlannerLock
from apps.scheduling.models import Run, RunStatus, Slot
from apps.scheduling.solver import Window
from platform_core.db import utcnow
from platform_core.masterdata import models as md
from tests.apps.scheduling.conftest import build_plant, local, tomorrow


def _job(assembled, order):
    return next(j for j in assembled.instance.jobs if j.id == f"order-{order.id}")


def _machine(assembled, machine):
    return assembled.instance.machine_by_id()[str(machine.id)]


def _kinds(assembled) -> list[str]:
    return [p["kind"] for p in assembled.problems]


def test_remaining_quantities_durations_and_eligible_machines(plant):
    order = plant.order(quantity=100, due_date=tomorrow() + dt.timedelta(days=2), priority=2)
    op10, op20 = plant.ops(order)
    assembled = plant.assemble()
    job = _job(assembled, order)
    first, second = job.operations
    # setup 30 min + 100 pieces: 60 s on CNC-01, 90 s on CNC-02
    assert {(m.machine, m.duration) for m in first.modes} == {(str(plant.m1.id), 130), (str(plant.m2.id), 180)}
    assert [(m.machine, m.duration) for m in second.modes] == [(str(plant.m3.id), 60)]  # from the work center
    assert first.family == "FA" and first.may_pause is True and first.lock is None
    # op 10 hands over partial quantities: op 20 may start after a transfer batch of 20 of its 100 pieces
    assert first.transfer_fraction is None and second.transfer_fraction == 0.2
    assert job.weight == 8 and job.name == order.number
    assert job.due == assembled.minute(local(tomorrow() + dt.timedelta(days=3), 0))  # the end of the due day
    assert assembled.ops[str(op10.id)].quantity == 100 and assembled.ops[str(op20.id)].sequence == 20


def test_completed_quantities_are_subtracted_and_running_work_is_frozen_where_it_runs(plant):
    order = plant.order(quantity=100)
    op10 = plant.ops(order)[0]
    started_at = utcnow() - dt.timedelta(hours=1)
    plant.started(op10, plant.m2, at=started_at)
    plant.reported(op10, good=30, scrap=10)
    assembled = plant.assemble()
    frozen = assembled.instance.frozen_assignments()
    assert set(frozen) == {str(op10.id)}
    running = frozen[str(op10.id)]
    assert running.machine == str(plant.m2.id)
    assert running.start == assembled.minute(started_at.replace(second=0, microsecond=0))
    # 60 pieces left at 90 s on CNC-02 = 90 working minutes from when the schedule starts (tomorrow 08:00)
    assert running.end == assembled.minute(local(tomorrow(), 9, 30))
    job = _job(assembled, order)
    assert {m.machine for m in job.operations[0].modes} >= {str(plant.m2.id)}
    assert [m.duration for m in job.operations[1].modes] == [60]  # op 20 still has all 100 pieces to assemble
    assert assembled.ops[str(op10.id)].quantity == 60
    assert assembled.origin <= started_at and assembled.instance.now == assembled.minute(plant.start)


def test_completed_operations_leave_the_instance(plant):
    order = plant.order(quantity=10)
    op10, op20 = plant.ops(order)
    plant.started(op10, plant.m1)
    plant.reported(op10, good=10)
    with plant.scope("operator"):
        from apps.orders import execution
        from apps.orders.models import Operation

        execution.complete(plant.session, plant.session.get(Operation, op10.id), employee=plant.employee)
    assembled = plant.assemble()
    assert [op.id for op in _job(assembled, order).operations] == [str(op20.id)]


def test_a_paused_operation_beside_running_work_is_locked_to_its_machine(plant):
    first, second = plant.order(quantity=10), plant.order(quantity=10)
    plant.started(plant.ops(first)[0], plant.m1)
    plant.paused(plant.ops(first)[0])
    plant.started(plant.ops(second)[0], plant.m1)
    assembled = plant.assemble()
    frozen = assembled.instance.frozen_assignments()
    assert set(frozen) == {str(plant.ops(second)[0].id)}  # the one running is frozen...
    paused = _job(assembled, first).operations[0]
    assert paused.lock.machine == str(plant.m1.id) and paused.lock.start is None  # ...the paused one resumes there


def test_working_intervals_come_from_the_shift_calendars(plant):
    plant.order()
    assembled = plant.assemble()
    calendar = _machine(assembled, plant.m1).calendar
    day = tomorrow()
    assert Window(assembled.minute(local(day, 8)), assembled.minute(local(day, 20))) in calendar
    assert Window(assembled.minute(local(day, 32)), assembled.minute(local(day, 44))) in calendar
    assert len(calendar) == settings.DEFAULTS["horizon_days"]  # one window a day over the planning horizon
    assert assembled.instance.horizon == assembled.minute(plant.start + dt.timedelta(days=21))
    assert "no_calendar" not in _kinds(assembled)


def test_a_machine_without_any_calendar_works_around_the_clock_and_is_reported(plant):
    plant.order()
    with plant.scope():
        center = md.WorkCenter(code="OPEN", name="无日历")
        machine = md.Machine(code="FREE-1", name="无日历设备", work_center=center)
        plant.session.add_all([center, machine])
        plant.session.flush()
    assembled = plant.assemble()
    assert _machine(assembled, machine).calendar is None
    problem = next(p for p in assembled.problems if p["kind"] == "no_calendar")
    assert problem["machine_code"] == "FREE-1" and problem["severity"] == "warning"


def test_planned_maintenance_and_breakdowns_make_machines_unavailable(plant):
    plant.order()
    day = tomorrow()
    with plant.scope("maintenance"):
        order = maintenance.create_order(
            plant.session,
            plant.session.get(md.Machine, plant.m1.id),
            kind=MaintenanceKind.PREVENTIVE,
            title="保养",
            planned_start=local(day, 10),
            planned_end=local(day, 12),
        )
        since = utcnow() - dt.timedelta(minutes=10)
        states.report_down(
            plant.session, plant.session.get(md.Machine, plant.m2.id), at=since, expected_up_at=local(day, 9)
        )
    assembled = plant.assemble()
    m1_windows = _machine(assembled, plant.m1).unavailable
    assert m1_windows == (
        Window(assembled.minute(local(day, 10)), assembled.minute(local(day, 12)), f"maintenance:{order.number}"),
    )
    (down,) = _machine(assembled, plant.m2).unavailable
    assert down.label.startswith("down:") and down.end == assembled.minute(local(day, 9))
    assert down.start == max(0, assembled.minute(since))  # from when it stopped, or from minute 0
    assert "down_unknown_end" not in _kinds(assembled)


def test_a_breakdown_with_no_expected_end_lasts_the_assumed_time(plant):
    plant.order()
    with plant.scope("operator"):
        states.report_down(plant.session, plant.session.get(md.Machine, plant.m2.id))
    assembled = plant.assemble()
    (down,) = _machine(assembled, plant.m2).unavailable
    assumed = settings.DEFAULTS["unknown_down_minutes"]
    assert down.end == assembled.instance.now + assumed  # counted from when the schedule starts
    assert "down_unknown_end" in _kinds(assembled)


def test_without_the_equipment_app_no_stops_are_read(make):
    plant = build_plant(make, apps=["orders", "scheduling"])
    plant.order()
    assembled = plant.assemble()
    assert all(m.unavailable == () for m in assembled.instance.machines)
    assert "equipment_off" in _kinds(assembled)


def test_orders_with_an_operation_no_active_machine_can_run_are_left_out(plant):
    kept, dropped = plant.order(product=plant.pb), plant.order(product=plant.pa)
    with plant.scope():
        plant.session.get(md.Machine, plant.m3.id).active = False
    assembled = plant.assemble()
    assert [j.id for j in assembled.instance.jobs] == [f"order-{kept.id}"]
    problem = next(p for p in assembled.problems if p["kind"] == "no_machine")
    assert (problem["order_number"], problem["sequence"], problem["severity"]) == (dropped.number, 20, "error")
    assert dropped.id not in assembled.scheduled_orders


def test_work_running_on_an_order_left_out_still_occupies_its_machine(plant):
    order = plant.order()
    op10 = plant.ops(order)[0]
    plant.started(op10, plant.m1)
    with plant.scope():
        plant.session.get(md.Machine, plant.m3.id).active = False  # op 20 can run nowhere
    assembled = plant.assemble()
    assert [op.id for op in _job(assembled, order).operations] == [str(op10.id)]
    assert str(op10.id) in assembled.instance.frozen_assignments() and order.id not in assembled.scheduled_orders


def test_due_dates_in_the_past_and_missing_are_reported(plant):
    late = plant.order(due_date=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2))
    undated = plant.order()
    assembled = plant.assemble()
    problems = {p["kind"]: p for p in assembled.problems}
    assert problems["due_past"]["order_number"] == late.number
    assert problems["no_due_date"]["order_number"] == undated.number and _job(assembled, undated).due is None


def test_changeover_times_between_families(plant):
    plant.order()
    with plant.scope():
        settings.update_settings(plant.session, changeover_minutes=15)
        settings.set_setup_time(plant.session, plant.fa, plant.fb, 40)
    matrix = plant.assemble().instance.setup_matrix
    assert matrix.time("FA", "FB") == 40 and matrix.time("FB", "FA") == 15 and matrix.time("FA", "FA") == 0


def test_a_selection_still_sees_work_running_on_other_orders(plant):
    chosen, other = plant.order(), plant.order()
    plant.started(plant.ops(other)[0], plant.m1)
    assembled = plant.assemble(order_ids=[chosen.id])
    jobs = {j.id: j for j in assembled.instance.jobs}
    assert [op.id for op in jobs[f"order-{other.id}"].operations] == [str(plant.ops(other)[0].id)]  # running only
    assert str(plant.ops(other)[0].id) in assembled.instance.frozen_assignments()
    assert assembled.scheduled_orders == {chosen.id}


def _published(plant, slots: list[tuple]) -> Run:
    """A published version placing ``(operation, machine, start, end)``."""
    with plant.scope():
        run = Run(number=99, status=RunStatus.PUBLISHED, horizon_start=plant.start, origin=plant.start)
        plant.session.add(run)
        plant.session.flush()
        for op, machine, start, end in slots:
            plant.session.add(
                Slot(
                    run_id=run.id,
                    operation_id=op.id,
                    order_id=op.order_id,
                    order_number="x",
                    product_code="PA",
                    family="FA",
                    op_sequence=op.sequence,
                    op_name=op.name,
                    quantity=op.quantity,
                    machine_id=machine.id,
                    start=start,
                    end=end,
                )
            )
        plant.session.flush()
        return run


def test_the_published_plan_is_the_reference_and_its_first_minutes_are_frozen(plant):
    soon, later = plant.order(quantity=10), plant.order(quantity=10)
    soon10, later10 = plant.ops(soon)[0], plant.ops(later)[0]
    start = plant.start
    published = _published(
        plant,
        [
            (soon10, plant.m1, start + dt.timedelta(minutes=10), start + dt.timedelta(minutes=50)),
            (later10, plant.m2, start + dt.timedelta(hours=3), start + dt.timedelta(hours=4)),
        ],
    )
    with plant.scope():
        reference = list(plant.session.get(Run, published.id).slots)
    assembled = plant.assemble(reference=reference)  # frozen horizon: 30 minutes by default
    frozen = assembled.instance.frozen_assignments()
    assert set(frozen) == {str(soon10.id)}
    assert frozen[str(soon10.id)].start == assembled.minute(start) + 10
    assert frozen[str(soon10.id)].end == assembled.minute(start) + 10 + 40  # set-up 30 + 10 pieces at 60 s
    kept = {a.operation: a for a in assembled.instance.reference}
    assert kept[str(later10.id)].start == assembled.minute(start) + 180 and str(later10.id) not in frozen


def test_published_work_is_not_frozen_onto_a_machine_that_stopped(plant):
    order = plant.order(quantity=10)
    op10 = plant.ops(order)[0]
    published = _published(
        plant, [(op10, plant.m1, plant.start + dt.timedelta(minutes=5), plant.start + dt.timedelta(minutes=45))]
    )
    with plant.scope("operator"):
        states.report_down(
            plant.session,
            plant.session.get(md.Machine, plant.m1.id),
            expected_up_at=plant.start + dt.timedelta(hours=2),
        )
        reference = list(plant.session.get(Run, published.id).slots)
    assembled = plant.assemble(reference=reference)
    assert assembled.instance.frozen_assignments() == {}


def test_planner_locks_become_engine_locks_and_stale_ones_are_dropped(plant):
    order = plant.order()
    op10, op20 = plant.ops(order)
    at = plant.start + dt.timedelta(hours=2)
    assembled = plant.assemble(
        locks={op10.id: PlannerLock(plant.m2.id, at), op20.id: PlannerLock(plant.m1.id, at)}  # M1 cannot assemble
    )
    first, second = _job(assembled, order).operations
    assert (first.lock.machine, first.lock.start) == (str(plant.m2.id), assembled.minute(at))
    assert second.lock is None
    dropped = next(p for p in assembled.problems if p["kind"] == "lock_dropped")
    assert dropped["reason"] == "machine" and dropped["sequence"] == 20


def test_a_selection_plans_around_the_published_work_of_the_other_orders(plant):
    chosen, other = plant.order(quantity=10), plant.order(quantity=10)
    other10, other20 = plant.ops(other)
    start = plant.start
    published = _published(
        plant,
        [
            (other10, plant.m1, start + dt.timedelta(minutes=10), start + dt.timedelta(minutes=50)),
            (other20, plant.m3, start + dt.timedelta(hours=2), start + dt.timedelta(hours=2, minutes=15)),
        ],
    )
    with plant.scope():
        reference = list(plant.session.get(Run, published.id).slots)
    assembled = plant.assemble(order_ids=[chosen.id], reference=reference)
    zero = assembled.minute(start)
    assert f"order-{other.id}" not in {j.id for j in assembled.instance.jobs}
    assert _machine(assembled, plant.m1).unavailable == (Window(zero + 10, zero + 50, f"planned:{other.number}"),)
    assert _machine(assembled, plant.m3).unavailable == (Window(zero + 120, zero + 135, f"planned:{other.number}"),)
    assert assembled.instance.frozen_assignments() == {}  # the chosen order has no published place to keep
    everything = plant.assemble(reference=reference)  # a run for every order moves the other one freely
    assert _machine(everything, plant.m1).unavailable == () and _machine(everything, plant.m3).unavailable == ()


def test_a_lock_elsewhere_wins_over_the_frozen_horizon(plant):
    order = plant.order(quantity=10)
    op10 = plant.ops(order)[0]
    soon = plant.start + dt.timedelta(minutes=5)
    published = _published(plant, [(op10, plant.m1, soon, soon + dt.timedelta(minutes=40))])
    with plant.scope():
        reference = list(plant.session.get(Run, published.id).slots)
    later = plant.start + dt.timedelta(hours=3)
    assembled = plant.assemble(reference=reference, locks={op10.id: PlannerLock(plant.m2.id, later)})
    assert assembled.instance.frozen_assignments() == {}
    lock = _job(assembled, order).operations[0].lock
    assert (lock.machine, lock.start) == (str(plant.m2.id), assembled.minute(later))
