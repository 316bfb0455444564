"""Predictive maintenance on generated series with a known failure time: the trend warning comes at least the
lead time before the failure (linear, accelerating and exponential wear; noise and spikes), never on healthy
noisy machines; the anomaly detector flags a step and stays quiet otherwise; and the job raises the predictive
alarm and suggests one maintenance order."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics

import pytest
import sqlalchemy as sa

from apps.equipment import alarms, configuration, demo, forecasting, ingest, maintenance, simulator
from apps.equipment.models import (
    Alarm,
    MaintenanceKind,
    MaintenanceOrder,
    MaintenanceStatus,
    RuleKind,
    Severity,
)
from apps.equipment.predictive import forecast
from platform_core.db import utcnow

LIMIT = 7.1  # mm/s: vibration severity "not acceptable" for medium machines (ISO 10816-3)
HEALTHY = 2.0
LEAD_H = 5 * 24
ONSET_DAY, FAILURE_DAY = 16, 30
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def vibration(shape: str, seed: int, noise: float = 0.15, days: int = 34) -> list[tuple[dt.datetime, float]]:
    """Hourly averages: healthy until the onset, then wearing out to reach the limit exactly at the failure."""
    rng = random.Random(seed)
    series = []
    for hour in range(days * 24):
        u = (hour - ONSET_DAY * 24) / ((FAILURE_DAY - ONSET_DAY) * 24)
        wear = 0.0
        if shape != "healthy" and u > 0:
            wear = {"linear": u, "accelerating": u * u, "exponential": (math.exp(3 * u) - 1) / (math.exp(3) - 1)}[shape]
        value = HEALTHY + (LIMIT - HEALTHY) * wear + rng.gauss(0, noise)
        if rng.random() < 0.01:  # a knock now and then
            value += rng.uniform(1, 3)
        series.append((START + dt.timedelta(hours=hour), value))
    return series


def first_warning(series, until_day: int, every_h: int = 1) -> dt.datetime | None:
    """Run the job's forecast every ``every_h`` hours, as the worker would; the first time it warns."""
    for hour in range(3 * 24, until_day * 24, every_h):
        now = START + dt.timedelta(hours=hour, minutes=5)
        window = [(t, v) for t, v in series if now - dt.timedelta(days=16) <= t < now]
        found = forecasting.trend_forecast(window, now, LIMIT)
        if found is not None and found[0].warns(LEAD_H):
            return now
    return None


@pytest.mark.parametrize("shape", ["linear", "accelerating", "exponential"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_warning_comes_at_least_the_lead_time_before_the_failure(shape, seed):
    failure = START + dt.timedelta(days=FAILURE_DAY)
    warned = first_warning(vibration(shape, seed), FAILURE_DAY)
    assert warned is not None, "no warning before the failure"
    assert warned <= failure - dt.timedelta(hours=LEAD_H), (
        f"warned only {(failure - warned) / dt.timedelta(days=1):.1f} days ahead"
    )
    assert warned > START + dt.timedelta(days=ONSET_DAY), "warned before the machine started to wear"


@pytest.mark.parametrize(("seed", "noise"), [(1, 0.15), (2, 0.15), (3, 0.4), (4, 0.4)])
def test_no_warning_on_a_healthy_noisy_machine(seed, noise):
    assert first_warning(vibration("healthy", seed, noise=noise), 34, every_h=2) is None


def test_the_forecast_band_brackets_its_estimate_and_the_truth():
    series = vibration("linear", 7)
    now = START + dt.timedelta(days=24)
    window = [(t, v) for t, v in series if now - dt.timedelta(days=16) <= t < now]
    result, _newest = forecasting.trend_forecast(window, now, LIMIT)
    truth_h = (FAILURE_DAY - 24) * 24
    assert result.earliest_hours <= result.hours_to_threshold <= result.latest_hours
    assert result.earliest_hours <= truth_h
    assert forecast([0, 1], [1, 2], LIMIT) is None  # too few points: no forecast


def test_the_anomaly_detector_flags_a_step_and_stays_quiet_on_noise():
    rng = random.Random(5)
    quiet = [(START + dt.timedelta(hours=h), 40 + rng.gauss(0, 0.5)) for h in range(30 * 24)]
    for hour in range(15 * 24, 30 * 24, 3):
        now = START + dt.timedelta(hours=hour)
        window = [(t, v) for t, v in quiet if now - dt.timedelta(days=16) <= t < now]
        assert not forecasting.anomaly_check(window, now).anomalous
    stepped = quiet[: 20 * 24] + [(t, v + 3.0) for t, v in quiet[20 * 24 :]]  # a bearing starts to rub
    now = START + dt.timedelta(days=20, hours=6)
    window = [(t, v) for t, v in stepped if now - dt.timedelta(days=16) <= t < now]
    result = forecasting.anomaly_check(window, now)
    assert result.anomalous and result.ewma > result.upper


def test_the_job_raises_a_predictive_alarm_and_suggests_one_order(plant):
    worn, healthy = plant.machine("PD-1"), plant.machine("PD-2")
    now = utcnow().replace(minute=5, second=0, microsecond=0)
    start = now - dt.timedelta(days=16)
    shift = now - (START + dt.timedelta(days=26))  # put day 26 of the generated life at "now"
    with plant.scope() as session:
        configuration.create_rule(
            session,
            code="VIB-TREND",
            name="振动趋势",
            kind=RuleKind.TREND,
            machine_model="CK6150",
            metric=plant.metrics["vibration"],
            threshold=LIMIT,
            lead_time_h=LEAD_H,
            severity=Severity.WARNING,
        )
        for machine, shape in ((worn, "linear"), (healthy, "healthy")):
            points = [
                {"machine": machine.code, "metric": "vibration", "ts": (t + shift).isoformat(), "value": v}
                for t, v in vibration(shape, 11)
                if start <= t + shift < now
            ]
            assert ingest.ingest(session, points).rejected_count == 0
        forecasting.evaluate(session, now=now)
        forecasting.evaluate(session, now=now + dt.timedelta(minutes=10))  # again: still one alarm, one order
        alarms = session.scalars(sa.select(Alarm)).all()
        orders = session.scalars(sa.select(MaintenanceOrder)).all()
    assert [a.machine_id for a in alarms] == [worn.id]
    assert "振动趋势" in alarms[0].message
    [order] = orders
    assert order.kind is MaintenanceKind.PREDICTIVE and order.alarm_id == alarms[0].id
    assert order.due_at is not None and order.planned_end <= order.due_at + dt.timedelta(hours=2)


# --- the demo's degrading machine, seeded then simulated ------------------------------------------------------


def wearing_machine(plant, code: str, seeded_at: dt.datetime):
    """A machine with the demo's sixteen days of hourly vibration up to ``seeded_at`` (CNC-03's wear) and the
    demo's trend rule on its model."""
    machine = plant.machine(code)
    rng = random.Random(20261122)
    with plant.scope() as session:
        configuration.create_rule(
            session,
            code=f"VIBT-{code}",
            name="振动趋势",
            kind=RuleKind.TREND,
            machine=plant.get(machine),
            metric=plant.metrics["vibration"],
            threshold=demo.VIBRATION_LIMIT,
            lead_time_h=LEAD_H,
            severity=Severity.WARNING,
        )
        points = [
            {
                "machine": code,
                "metric": "vibration",
                "ts": (seeded_at - dt.timedelta(hours=hours_back) + dt.timedelta(minutes=30)).isoformat(),
                "value": demo.vibration_average(rng, hours_back / 24, wearing=True),
            }
            for hours_back in range(demo.SENSOR_DAYS * 24, 0, -1)
        ]
        assert ingest.ingest(session, points).rejected_count == 0
    return machine


def simulate_vibration(session, sim: simulator.SimulatedMachine, machine, start: dt.datetime, hours: int) -> None:
    """Run the simulated gateway second by second and store every minute's vibration reading."""
    points = []
    for second in range(hours * 3600):
        ts = start + dt.timedelta(seconds=second)
        readings = sim.step(ts, second / 3600)
        if second % 60 == 0:
            [vibration] = [r for r in readings if r["metric"] == "vibration"]
            points.append({"machine": machine.code, **vibration})
    assert ingest.ingest(session, points).rejected_count == 0


def hourly_vibration(session, plant, machine, start: dt.datetime, end: dt.datetime) -> list[float]:
    return [v for _t, v in forecasting.hourly(session, machine.id, plant.metrics["vibration"].id, start, end)]


def test_the_simulated_gateway_continues_the_seeded_wear_and_the_warning_stays(plant):
    live_hours = 12
    seeded_at = utcnow().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=live_hours)
    machine = wearing_machine(plant, "SIM-3", seeded_at)
    with plant.scope() as session:
        forecasting.evaluate(session, now=seeded_at)
        [raised] = session.scalars(sa.select(Alarm)).all()  # the demo opens with its predictive warning
        worn = simulator.days_worn(session, machine.id, plant.metrics["vibration"].id, seeded_at)
        assert worn == pytest.approx(demo.WORN_DAYS, abs=0.5)  # read back from the history's level
        sim = simulator.SimulatedMachine(machine.code, 60, random.Random(3), degrading=True, worn_days=worn)
        simulate_vibration(session, sim, machine, seeded_at, live_hours)
        for hour in range(1, live_hours + 1):
            forecasting.evaluate(session, now=seeded_at + dt.timedelta(hours=hour, minutes=5))
            current = alarms.open_alarm(session, raised.rule_id, machine.id)
            assert current is not None and current.id == raised.id, f"cleared after {hour} h of live data"
        seeded = hourly_vibration(session, plant, machine, seeded_at - dt.timedelta(hours=6), seeded_at)
        live = hourly_vibration(session, plant, machine, seeded_at, seeded_at + dt.timedelta(hours=6))
        assert len(session.scalars(sa.select(Alarm)).all()) == 1
    assert statistics.fmean(live) == pytest.approx(statistics.fmean(seeded), abs=0.3)  # no step at the join


def test_a_predictive_alarm_raised_again_keeps_its_one_open_order(plant):
    seeded_at = utcnow().replace(minute=0, second=0, microsecond=0)
    machine = wearing_machine(plant, "SIM-4", seeded_at)
    with plant.scope("技术员") as session:
        forecasting.evaluate(session, now=seeded_at)
        first = session.scalars(sa.select(Alarm)).one()
        alarms.clear(session, first)  # a technician clears it; the wear goes on, so the job raises it again
        forecasting.evaluate(session, now=seeded_at + dt.timedelta(minutes=10))
        second = alarms.open_alarm(session, first.rule_id, machine.id)
        assert second is not None and second.id != first.id
        [order] = session.scalars(sa.select(MaintenanceOrder)).all()
        assert order.alarm_id == first.id and order.kind is MaintenanceKind.PREDICTIVE
        maintenance.cancel(session, order)  # once that order is closed, a new warning plans a new one
        alarms.clear(session, second)
        forecasting.evaluate(session, now=seeded_at + dt.timedelta(minutes=20))
        orders = session.scalars(sa.select(MaintenanceOrder).order_by(MaintenanceOrder.id)).all()
    assert [o.status for o in orders] == [MaintenanceStatus.CANCELLED, MaintenanceStatus.OPEN]
