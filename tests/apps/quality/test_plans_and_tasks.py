"""Inspection plans (versions, validation) and the tasks sampling rules raise from the orders app's events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from apps.quality import plans, tasks
from apps.quality.models import InspectionTask, PlanStatus, ProductionRecord, TaskStatus
from platform_core.db import utcnow
from platform_core.errors import InvalidTransition, ValidationFailed
from platform_core.masterdata import models as md
from tests.apps.quality.conftest import OD, VISUAL


def _tasks(plant) -> list[InspectionTask]:
    with plant.scoped() as session:
        return list(session.scalars(sa.select(InspectionTask).order_by(InspectionTask.id)))


def test_a_plan_names_every_bad_field_and_writes_nothing(plant):
    bad_od = {**OD, "lsl": 80.1, "usl": 80.0, "subgroup_size": 40}
    bad_visual = {**VISUAL, "lsl": 1.0, "chart_type": "xbar_r", "defect_codes": ["NOPE"]}
    with plant.scoped() as session, pytest.raises(ValidationFailed) as caught:
        plans.create_plan(
            session,
            code="QP-X",
            name="x",
            product=plant.product,
            characteristics=[bad_od, bad_visual],
            rules=[{"kind": "every_n"}],
        )
    errors = caught.value.errors["json"]
    assert set(errors["characteristics"]["0"]) == {"usl", "nominal", "subgroup_size"}
    assert set(errors["characteristics"]["1"]) == {"lsl", "chart_type", "defect_codes", "subgroup_size"}
    assert "every_n" in errors["rules"]["0"]
    with plant.scoped() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(plans.InspectionPlan)) == 0


def test_versions_supersede_and_keep_one_chart_per_characteristic(plant):
    first = plant.plan()
    with plant.scoped() as session:
        assert first.status is PlanStatus.ACTIVE
        draft = plans.revise_plan(session, first)
        assert (draft.version, draft.status) == (2, PlanStatus.DRAFT)
        with pytest.raises(InvalidTransition):
            plans.update_plan(session, first, {"name": "changed"})
        od = {**OD, "usl": 80.04}  # a tighter tolerance in version 2
        plans.update_plan(session, draft, {"characteristics": [od, dict(VISUAL)]})
        plans.activate_plan(session, draft)
        assert first.status is PlanStatus.SUPERSEDED and draft.status is PlanStatus.ACTIVE
        old_od, new_od = first.characteristics[0], draft.characteristics[0]
        assert old_od.chart_id == new_od.chart_id is not None
        assert (old_od.usl, new_od.usl) == (80.05, 80.04)


def test_activation_needs_a_characteristic(plant):
    with plant.scoped() as session:
        draft = plans.create_plan(session, code="QP-E", name="empty", product=plant.product)
        with pytest.raises(ValidationFailed):
            plans.activate_plan(session, draft)


def test_every_n_pieces_raises_one_task_per_multiple_crossed(plant):
    plant.plan()
    plant.release_order(1)
    plant.report(1, good=30)
    assert _tasks(plant) == []
    plant.report(1, good=25, output_lot="L-1")  # 55 pieces: the 50th has passed
    plant.report(1, good=20)  # 75
    plant.report(1, good=60)  # 135: crosses 100 (one task, for the latest multiple)
    found = _tasks(plant)
    assert [t.trigger_key.rsplit(":", 1)[-1] for t in found] == ["1", "2"]
    first = found[0]
    assert (first.sample_size, first.order_number, first.operation_sequence) == (5, "WO-1", 10)
    assert first.work_center_id == plant.work_center.id and first.machine_id == plant.machine.id
    assert first.lot.code == "L-1" and first.operator_id == plant.employee.id


def test_a_redelivered_report_counts_once(plant):
    plant.plan()
    plant.release_order(2)
    event_id = plant.report(2, good=60)
    with plant.scoped() as session:
        record = session.scalar(sa.select(ProductionRecord).where(ProductionRecord.event_id == event_id))
        from apps.quality import production

        again = production.record_report(session, event_id, {"order_id": 2, "good": 60}, utcnow())
        assert again.id == record.id
        assert production.pieces_reported(session, 30) == 60
    assert len(_tasks(plant)) == 1


def test_first_piece_of_each_shift_and_per_lot_rules(plant):
    with plant.scoped() as session:
        calendar = md.ShiftCalendar(code="2S", name="两班", is_default=True)
        calendar.shifts.append(
            md.CalendarShift(
                code="A", name="早班", weekdays=list(range(1, 8)), start_time=dt.time(8), end_time=dt.time(16)
            )
        )
        calendar.shifts.append(
            md.CalendarShift(
                code="B", name="中班", weekdays=list(range(1, 8)), start_time=dt.time(16), end_time=dt.time(0)
            )
        )
        session.add(calendar)
        session.flush()
    plant.plan(rules=[{"kind": "first_of_shift", "sample_size": 1, "due_minutes": 15}, {"kind": "per_lot"}])
    plant.release_order(3)
    # Shanghai time: 09:00 and 11:00 are the early shift, 17:00 the late shift.
    day = dt.datetime(2026, 11, 23, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    started = {"order_id": 3, "operation_id": 40, "machine_id": plant.machine.id, "employee_id": plant.employee.id}
    plant.deliver("orders.operation_started", {**started, "started_at": (day + dt.timedelta(hours=9)).isoformat()})
    plant.report(3, good=5, output_lot="L-A", at=day + dt.timedelta(hours=11))
    plant.report(3, good=5, output_lot="L-A", at=day + dt.timedelta(hours=17))
    found = _tasks(plant)
    triggers = sorted(t.trigger for t in found)
    assert triggers == ["first_of_shift", "first_of_shift", "per_lot"]
    first = next(t for t in found if t.trigger == "first_of_shift")
    assert first.due_at == day + dt.timedelta(hours=9, minutes=15)
    assert first.sample_size == 1
    assert first.lot.code == "L-A"  # raised at the start, it learnt its lot from the first report


def test_orders_released_before_quality_knew_them_raise_no_tasks(plant):
    plant.plan()
    plant.report(99, good=100)  # no order_released seen: the product is unknown
    assert _tasks(plant) == []


def test_due_and_overdue_tasks_per_work_center(plant):
    plan = plant.plan()
    with plant.scoped() as session:
        context = tasks.TaskContext(work_center=plant.work_center, machine=plant.machine)
        late = tasks.create_task(session, plan, context, due_at=utcnow() - dt.timedelta(minutes=5))
        tasks.create_task(session, plan, context, due_at=utcnow() + dt.timedelta(hours=1))
        tasks.create_task(session, plan, tasks.TaskContext(), due_at=utcnow() + dt.timedelta(hours=2))
        loads = tasks.load_by_work_center(session)
        assert [(load.work_center, load.open, load.overdue) for load in loads] == [
            (plant.work_center, 2, 1),
            (None, 1, 0),
        ]
        overdue = session.scalars(tasks.open_tasks(overdue_only=True)).all()
        assert overdue == [late]
        tasks.cancel_task(session, late, "machine stopped")
        assert late.status is TaskStatus.CANCELLED
        with pytest.raises(InvalidTransition):
            tasks.cancel_task(session, late)


def test_a_share_of_each_reported_quantity_is_inspected_rounded_up(plant):
    plant.plan(rules=[{"kind": "percent", "percent": 2.5, "sample_size": 5, "due_minutes": 20}])
    plant.release_order(5)
    at = utcnow()
    plant.report(5, good=40, at=at)  # 2.5 % of 40 is exactly one piece
    plant.report(5, good=38, scrap=3)  # 41 pieces, scrap included: 1.025 pieces, so two
    plant.report(5, good=8)  # 0.2 piece: at least one is inspected
    plant.report(5, good=0)  # nothing made: nothing to inspect
    found = _tasks(plant)
    assert [t.sample_size for t in found] == [1, 2, 1]  # the share decides, not the rule's sample size
    assert {t.trigger for t in found} == {"percent"}
    assert found[0].due_at == at + dt.timedelta(minutes=20)
    assert len({t.trigger_key for t in found}) == 3  # one task per report
