"""Recording inspections: automatic pass/fail, validation, tasks closed, the failure event, SPC alarms."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from apps.quality import control, inspections, tasks
from apps.quality.models import (
    AlarmStatus,
    ControlChart,
    InspectionStatus,
    QualityAlarm,
    TaskStatus,
)
from platform_core.db import utcnow
from platform_core.errors import InvalidTransition, ValidationFailed
from platform_core.events import OutboxEvent
from tests.apps.quality.conftest import LENGTH, OD, VISUAL


def _ids(plan):
    return {c.code: c.id for c in plan.characteristics}


def _record(plant, plan, od=None, visual=None, *, task=None, at=None, lot="L-1", **kw):
    ids = _ids(plan)
    results = []
    if "OD" in ids:
        results.append({"characteristic_id": ids["OD"], "values": od or [80.0, 80.01, 79.99, 80.0, 80.02]})
    if "VIS" in ids:
        results.append({"characteristic_id": ids["VIS"], "inspected": 5, **(visual or {"defectives": 0})})
    with plant.scoped() as session:
        return inspections.record(
            session,
            results=results,
            inspector=plant.inspector.user,
            inspector_name="周敏",
            task=task,
            plan=None if task else plan,
            context=None if task else inspections.Context(lot_code=lot, machine=plant.machine),
            inspected_at=at,
            **kw,
        )


def _outbox(plant, name):
    with plant.scoped() as session:
        statement = sa.select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.occurred_at)
        return [e.payload for e in session.scalars(statement)]


def test_values_on_the_limits_pass_and_beyond_them_fail(plant):
    plan = plant.plan()
    passed = _record(plant, plan, od=[79.95, 80.05, 80.0, 80.0, 80.0]).inspection
    assert passed.status is InspectionStatus.PASSED
    failed = _record(plant, plan, od=[79.95, 80.051, 80.0, 80.0, 80.0]).inspection
    assert failed.status is InspectionStatus.FAILED
    assert [r.passed for r in failed.results] == [False, True]
    assert _outbox(plant, "quality.inspection_failed") == [
        {
            "inspection_id": failed.id,
            "order_id": None,
            "operation_id": None,
            "lot": "L-1",
            "number": failed.number,
            "product_code": "FL-080",
            "machine_id": plant.machine.id,
            "failed_characteristics": ["OD"],
        }
    ]


def test_attribute_results_fail_beyond_the_acceptance_number(plant):
    plan = plant.plan(characteristics=(VISUAL,))
    ok = _record(plant, plan, visual={"defectives": 0}).inspection
    bad = _record(plant, plan, visual={"defectives": 2, "defect_counts": {"BURR": 2, "SCRATCH": 1}}).inspection
    assert (ok.status, bad.status) == (InspectionStatus.PASSED, InspectionStatus.FAILED)
    result = bad.results[0]
    assert (result.inspected, result.defectives, result.defects) == (5, 2, 3)


def test_bad_results_name_their_fields_and_write_nothing(plant):
    plan = plant.plan()
    ids = _ids(plan)
    with plant.scoped() as session, pytest.raises(ValidationFailed) as caught:
        inspections.record(
            session,
            results=[
                {"characteristic_id": ids["VIS"], "inspected": 5, "defectives": 6, "defect_counts": {"DENT": 1}},
                {"characteristic_id": 999999, "values": [1.0]},
            ],
            inspector=None,
            inspector_name="x",
            plan=plan,
            inspected_at=utcnow() + dt.timedelta(hours=1),
        )
    errors = caught.value.errors["json"]
    assert set(errors["results"]["0"]) == {"defectives", "defect_counts", "defects"}
    assert "characteristic_id" in errors["results"]["1"]
    assert "OD" in errors["results"]  # a characteristic without a result
    assert "inspected_at" in errors
    with plant.scoped() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(inspections.Inspection)) == 0


def test_a_task_asks_for_its_sample_size_and_is_done_once(plant):
    plan = plant.plan()
    with plant.scoped() as session:
        task = tasks.create_task(session, plan, tasks.TaskContext(machine=plant.machine), sample_size=5)
    with pytest.raises(ValidationFailed):
        _record(plant, plan, od=[80.0, 80.0], task=task)
    recorded = _record(plant, plan, task=task)
    assert task.status is TaskStatus.DONE and recorded.inspection.task_id == task.id
    assert recorded.inspection.machine_id == plant.machine.id
    with pytest.raises(InvalidTransition):
        _record(plant, plan, task=task)


def test_a_form_sent_twice_records_once(plant):
    plan = plant.plan()
    first = _record(plant, plan, submission="form-123")
    again = _record(plant, plan, submission="form-123")
    assert again.replayed and again.inspection.id == first.inspection.id


def test_results_keep_the_plan_version_they_were_measured_against(plant):
    from apps.quality import plans

    v1 = plant.plan()
    old = _record(plant, v1).inspection
    with plant.scoped() as session:
        v2 = plans.revise_plan(session, v1)
        plans.activate_plan(session, v2)
    new = _record(plant, v2).inspection
    assert (old.plan.version, new.plan.version) == (1, 2)
    assert old.results[0].chart_id == new.results[0].chart_id  # one chart across versions


def _subgroup(rng, mean):
    return [round(rng.gauss(mean, 0.008), 4) for _ in range(5)]


def test_a_slow_drift_raises_one_alarm_in_plain_words_before_parts_go_out_of_tolerance(plant):
    plan = plant.plan(characteristics=(OD,))
    rng = random.Random(7)
    start = utcnow() - dt.timedelta(days=10)
    for i in range(25):  # a stable baseline
        _record(plant, plan, od=_subgroup(rng, 80.0), at=start + dt.timedelta(hours=i))
    with plant.scoped() as session:
        chart = session.scalar(sa.select(ControlChart))
        limits = control.fix_limits(session, chart, by="周敏", note="baseline")
        assert limits.version == 1 and limits.points == 25
    raised = []
    for i in range(7):  # the tool wears: each subgroup's mean a third of its sigma larger than the last
        at = start + dt.timedelta(days=2, hours=i)
        recorded = _record(plant, plan, od=[80.0 + 0.0012 * (i + 1) + d for d in (0, 0.001, -0.001, 0, 0)], at=at)
        assert recorded.inspection.status is InspectionStatus.PASSED  # still within tolerance
        raised.extend(recorded.alarms)
    assert raised, "the drift went unnoticed"
    first = raised[0]
    assert first.rule in (3, 5, 6) and first.status is AlarmStatus.OPEN  # a pattern, not a point beyond the limits
    with plant.scoped() as session:
        assert session.scalar(sa.select(sa.func.count()).where(QualityAlarm.rule == 1)) == 0
    events = _outbox(plant, "quality.spc_violation")
    assert events[0]["rule"] == first.rule and events[0]["characteristic_id"] == first.characteristic_id
    assert "外径" in events[0]["message"]  # the chart is named; the message is in the factory's language
    with plant.scoped() as session:
        alarms_by_rule = session.scalars(sa.select(QualityAlarm).where(QualityAlarm.rule == 3)).all()
    assert len(alarms_by_rule) == 1 and alarms_by_rule[0].points >= 2  # the trend extends one alarm


def test_limits_are_trial_until_fixed_and_fixed_limits_stay(plant):
    plan = plant.plan(characteristics=(LENGTH,))
    length = _ids(plan)["LEN"]
    rng = random.Random(3)
    start = utcnow() - dt.timedelta(days=5)
    with plant.scoped() as session:
        for i in range(19):
            inspections.record(
                session,
                results=[{"characteristic_id": length, "values": [round(rng.gauss(25.0, 0.02), 3)]}],
                inspector=None,
                inspector_name="x",
                plan=plan,
                inspected_at=start + dt.timedelta(hours=i),
            )
        chart = session.scalar(sa.select(ControlChart))
        assert control.state(session, chart).phase == "collecting"
        with pytest.raises(ValidationFailed):
            control.fix_limits(session, chart, by="x")  # 19 points are not enough
        inspections.record(
            session,
            results=[{"characteristic_id": length, "values": [25.3]}],  # an assignable cause
            inspector=None,
            inspector_name="x",
            plan=plan,
            inspected_at=start + dt.timedelta(hours=20),
        )
        assert control.state(session, chart).phase == "trial"
        outlier = control.results(session, chart)[-1].id
        with pytest.raises(ValidationFailed):
            control.fix_limits(session, chart, by="x", exclude=[outlier])  # 19 left
        inspections.record(
            session,
            results=[{"characteristic_id": length, "values": [25.0]}],
            inspector=None,
            inspector_name="x",
            plan=plan,
            inspected_at=start + dt.timedelta(hours=21),
        )
        fixed = control.fix_limits(session, chart, by="x", exclude=[outlier])
        assert fixed.excluded == [outlier] and fixed.points == 20
        assert fixed.ucl < 25.2  # the outlier did not widen the limits
        state = control.state(session, chart)
        assert state.phase == "fixed" and state.limits.center == pytest.approx(fixed.center)
        payload = control.payload(session, chart)
        outlier_point = next(p for p in payload["points"] if p["key"] == outlier)
        assert outlier_point["excluded"] and 1 in outlier_point["rules"]
        assert payload["limits"]["version"] == 1
        second = control.fix_limits(session, chart, by="x", exclude=[outlier], note="recomputed")
        assert [v.version for v in chart.limits] == [1, 2] and second.note == "recomputed"


def test_capability_with_warnings(plant):
    plan = plant.plan(characteristics=(OD,))
    rng = random.Random(11)
    start = utcnow() - dt.timedelta(days=3)
    for i in range(25):
        _record(plant, plan, od=_subgroup(rng, 80.0), at=start + dt.timedelta(hours=i))
    with plant.scoped() as session:
        chart = session.scalar(sa.select(ControlChart))
        result, warnings = control.capability(session, chart)
    assert result.n == 125
    assert result.cp == pytest.approx(0.1 / (6 * result.sigma_within))
    assert 1.0 < result.cpk < 3.0
    assert "no_fixed_limits" in warnings
    assert result.normality is not None
