"""Alarm rules: thresholds with hysteresis and minimum duration, rate of change, stale data, machine states, rules
per machine model; the lifecycle active → acknowledged → cleared with who and when, over the API."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from apps.equipment import configuration, ingest, states, watch
from apps.equipment.models import (
    Alarm,
    AlarmStatus,
    MaintenanceKind,
    MaintenanceOrder,
    MaintenanceStatus,
    RuleKind,
    Severity,
    State,
)
from platform_core.db import utcnow
from platform_core.events import OutboxEvent
from platform_core.rbac import Role

T0 = None


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _clock():
    global T0
    T0 = utcnow().replace(microsecond=0) - dt.timedelta(hours=2)


def send(plant, machine: str, metric: str, series: list[tuple[float, float]]) -> None:
    with plant.scope() as session:
        points = [{"machine": machine, "metric": metric, "ts": at(s).isoformat(), "value": v} for s, v in series]
        result = ingest.ingest(session, points)
        assert result.rejected_count == 0, result.rejected


def alarms_of(plant, machine) -> list[Alarm]:
    with plant.scope() as session:
        statement = sa.select(Alarm).where(Alarm.machine_id == machine.id).order_by(Alarm.id)
        return list(session.scalars(statement.options(sa.orm.joinedload(Alarm.rule))))


def rule(plant, **fields):
    defaults = {"code": f"R{utcnow().timestamp()}", "name": "规则", "severity": Severity.WARNING}
    with plant.scope() as session:
        return configuration.create_rule(session, **{**defaults, **fields})


def test_a_high_limit_waits_for_its_minimum_duration_and_clears_below_its_hysteresis(plant):
    machine = plant.machine("AL-1")
    rule(
        plant,
        code="TEMP-HI",
        kind=RuleKind.HIGH,
        machine=machine,
        metric=plant.metrics["temperature"],
        threshold=80,
        hysteresis=5,
        min_duration_s=120,
    )
    send(plant, "AL-1", "temperature", [(0, 70), (30, 82), (60, 85), (90, 84), (120, 83)])
    assert alarms_of(plant, machine) == []  # 90 s above the limit: not yet
    send(plant, "AL-1", "temperature", [(150, 86)])
    [alarm] = alarms_of(plant, machine)
    assert alarm.raised_at == at(150) and alarm.status is AlarmStatus.ACTIVE and alarm.value == 86
    send(plant, "AL-1", "temperature", [(180, 78)])  # below the limit, above limit - hysteresis: still on
    assert alarms_of(plant, machine)[0].cleared_at is None
    send(plant, "AL-1", "temperature", [(210, 74), (240, 81), (270, 79), (300, 85), (390, 86)])
    first, *rest = alarms_of(plant, machine)
    assert first.cleared_at == at(210) and first.cleared_by == "system" and rest == []  # 81 then 79: restarted
    send(plant, "AL-1", "temperature", [(420, 90), (60, 200)])  # 120 s since 300; a late point changes nothing
    alarms = alarms_of(plant, machine)
    assert [a.raised_at for a in alarms] == [at(150), at(420)] and alarms[1].value == 90


def test_low_limits_and_rates_of_change(plant):
    machine = plant.machine("AL-2")
    rule(
        plant,
        code="PRESS-LO",
        kind=RuleKind.LOW,
        machine=machine,
        metric=plant.metrics["vibration"],
        threshold=2.0,
        hysteresis=0.5,
        severity=Severity.CRITICAL,
    )
    rule(
        plant, code="TEMP-RATE", kind=RuleKind.RATE, machine=machine, metric=plant.metrics["temperature"], threshold=10
    )
    send(plant, "AL-2", "vibration", [(0, 3), (60, 1.9), (120, 2.2), (180, 2.6)])
    send(plant, "AL-2", "temperature", [(0, 50), (60, 52), (120, 70), (180, 71)])
    low, rate = sorted(alarms_of(plant, machine), key=lambda a: a.rule.code)
    assert low.rule.code == "PRESS-LO" and low.raised_at == at(60) and low.cleared_at == at(180)
    assert low.severity is Severity.CRITICAL
    assert rate.raised_at == at(120) and rate.value == pytest.approx(18.0) and rate.cleared_at == at(180)


def test_a_rule_for_a_machine_model_watches_every_machine_of_that_model(plant):
    a, b = plant.machine("MD-1", model="VMC850"), plant.machine("MD-2", model="VMC850")
    other = plant.machine("MD-3", model="CK6150")
    rule(
        plant,
        code="VMC-VIB",
        kind=RuleKind.HIGH,
        machine_model="VMC850",
        metric=plant.metrics["vibration"],
        threshold=7.1,
    )
    for code in ("MD-1", "MD-2", "MD-3"):
        send(plant, code, "vibration", [(0, 8.0)])
    assert len(alarms_of(plant, a)) == len(alarms_of(plant, b)) == 1
    assert alarms_of(plant, other) == []


def test_stale_data_raises_and_fresh_data_clears(plant):
    machine = plant.machine("AL-3")
    rule(plant, code="STALE", kind=RuleKind.STALE, machine=machine, metric=plant.metrics["temperature"], threshold=300)
    send(plant, "AL-3", "temperature", [(0, 40)])
    with plant.scope() as session:
        watch.watch(session, now=at(200))
    assert alarms_of(plant, machine) == []
    with plant.scope() as session:
        watch.watch(session, now=at(400))
        watch.watch(session, now=at(500))  # still stale: still one alarm
    [alarm] = alarms_of(plant, machine)
    assert alarm.raised_at == at(400)
    send(plant, "AL-3", "temperature", [(510, 41)])
    assert alarms_of(plant, machine)[0].cleared_at == at(510)


def test_a_machine_down_too_long_raises_a_state_alarm_until_it_is_up(plant):
    machine = plant.machine("AL-4")
    rule(
        plant,
        code="DOWN-30",
        kind=RuleKind.STATE,
        machine=machine,
        state=State.DOWN,
        threshold=30,
        severity=Severity.CRITICAL,
    )
    with plant.scope() as session:
        states.report_down(session, machine, at=utcnow() - dt.timedelta(minutes=20))
        watch.watch(session)
        assert alarms_of(plant, machine) == []
        watch.watch(session, now=utcnow() + dt.timedelta(minutes=15))
        [alarm] = alarms_of(plant, machine)
        assert "30" in alarm.message or "35" in alarm.message
        states.report_up(session, machine)
        watch.watch(session, now=utcnow() + dt.timedelta(minutes=16))
    assert alarms_of(plant, machine)[0].status is AlarmStatus.CLEARED


def test_a_machine_down_too_long_calls_a_technician_once(plant):
    machine = plant.machine("AL-5")
    rule(plant, code="DOWN-10", kind=RuleKind.STATE, machine=machine, state=State.DOWN, threshold=10)
    with plant.scope() as session:
        states.report_down(session, machine, at=utcnow() - dt.timedelta(minutes=20))
        for minutes in (0, 1, 2):  # the watch runs every minute; the alarm stays up
            watch.watch(session, now=utcnow() + dt.timedelta(minutes=minutes))
        [alarm] = alarms_of(plant, machine)
        [order] = session.scalars(sa.select(MaintenanceOrder).where(MaintenanceOrder.machine_id == machine.id)).all()
        assert (order.kind, order.status, order.alarm_id) == (
            MaintenanceKind.CORRECTIVE,
            MaintenanceStatus.OPEN,
            alarm.id,
        )
        # up, then down again before anyone repaired it: a new alarm, but the technician is already called
        states.report_up(session, machine)
        watch.watch(session, now=utcnow() + dt.timedelta(minutes=3))
        states.report_down(session, machine)
        watch.watch(session, now=utcnow() + dt.timedelta(minutes=15))
        assert len(alarms_of(plant, machine)) == 2
        orders = session.scalars(sa.select(MaintenanceOrder).where(MaintenanceOrder.machine_id == machine.id)).all()
        assert orders == [order]


def test_incomplete_rules_are_refused_with_the_field_named(plant, client):
    response = client.post(
        "/api/v1/equipment/alarm-rules",
        json={"code": "X", "name": "x", "kind": "high", "machine_model": "CK6150", "threshold": 1},
        headers=plant.admin.headers,
    )
    assert response.status_code == 422 and "metric_id" in response.json["errors"]
    response = client.post(
        "/api/v1/equipment/alarm-rules",
        json={"code": "X", "name": "x", "kind": "state", "threshold": 5, "state": "down"},
        headers=plant.admin.headers,
    )
    assert response.status_code == 422 and "machine_id" in response.json["errors"]


def test_the_alarm_lifecycle_over_the_api_records_who_and_when(plant, client, make):
    machine = plant.machine("AL-5")
    rule(plant, code="HI", kind=RuleKind.HIGH, machine=machine, metric=plant.metrics["temperature"], threshold=80)
    send(plant, "AL-5", "temperature", [(0, 95)])
    operator = make.member(plant.tenant, Role.OPERATOR, username="zhang-al5")
    technician = make.member(plant.tenant, Role.MAINTENANCE_TECHNICIAN, username="wang-al5")
    listed = client.get("/api/v1/equipment/alarms", headers=operator.headers).json
    [alarm] = [a for a in listed if a["machine_code"] == "AL-5"]
    assert alarm["status"] == "active" and alarm["rule_code"] == "HI"
    base = f"/api/v1/equipment/alarms/{alarm['id']}"
    assert client.post(f"{base}/clear", headers=operator.headers).status_code == 403
    acknowledged = client.post(f"{base}/acknowledge", headers=operator.headers)
    assert acknowledged.json["status"] == "acknowledged" and acknowledged.json["acknowledged_by"] == "zhang-al5"
    assert client.post(f"{base}/acknowledge", headers=operator.headers).status_code == 409
    cleared = client.post(f"{base}/clear", headers=technician.headers)
    assert cleared.json["status"] == "cleared" and cleared.json["cleared_by"] == "wang-al5"
    assert client.post(f"{base}/clear", headers=technician.headers).json["code"] == "invalid_transition"
    with plant.scope() as session:
        names = session.scalars(sa.select(OutboxEvent.name).where(OutboxEvent.name.like("equipment.alarm%"))).all()
    assert sorted(names) == ["equipment.alarm_cleared", "equipment.alarm_raised"]
    # cleared by hand while still too hot: it comes back with the next point
    send(plant, "AL-5", "temperature", [(60, 96)])
    assert [a.status for a in alarms_of(plant, machine)] == [AlarmStatus.CLEARED, AlarmStatus.ACTIVE]


def test_savepoints_keep_the_transactions_events_for_its_commit(plant):
    from platform_core.events import PENDING_KEY

    machine = plant.machine("AL-6")
    hot = rule(plant, code="HI6", kind=RuleKind.HIGH, machine=machine, metric=plant.metrics["temperature"], threshold=1)
    with plant.scope() as session:
        states.report_down(session, plant.get(machine))
        pending = list(session.info[PENDING_KEY])
        from apps.equipment.alarms import lock_track

        lock_track(session, session.get(type(hot), hot.id), machine.id)  # a savepoint, released
        assert session.info[PENDING_KEY] == pending  # still waiting for the real commit
