"""The demo factory's equipment: a gateway on six CNC machines, eight days of machine states, hourly telemetry
(sixteen days for vibration and temperature), work reports, alarm rules with a few alarms, maintenance plans
and orders, and one machine (CNC-03) whose spindle bearing is wearing out, so that a predictive warning and its
maintenance suggestion are there from the start. ``mes simulate-gateway`` continues the telemetry live.

History is written as the services would have left it (contiguous intervals, rollups, status rows); the
present is reached through the services themselves (plan scan, forecasts, OEE figures).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import alarms, configuration, forecasting, maintenance, oee, states
from apps.equipment.models import (
    AlarmRule,
    MachineStatus,
    MaintenanceKind,
    MaintenanceStatus,
    MetricKind,
    PlanTrigger,
    ProductionCount,
    RollupHour,
    RuleKind,
    Severity,
    State,
    StateInterval,
)
from apps.equipment.simulator import HEALTHY_VIBRATION, HOURLY_WANDER, wear
from platform_core.db import Actor, set_actor, utcnow
from platform_core.masterdata.calendar import working_intervals
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind
from platform_core.tenants.models import Tenant

MONITORED = ("CNC-01", "CNC-02", "CNC-03", "CNC-04", "CNC-05", "CNC-06")
DEGRADING = "CNC-03"
HISTORY_DAYS = 8  # a week of OEE, whatever weekday the demo starts on
SENSOR_DAYS = 16
WORN_DAYS = 10  # CNC-03's spindle bearing started wearing this long before the demo
VIBRATION_LIMIT = 7.1  # mm/s, ISO 10816-3 "not acceptable" for medium machines
METRICS = [
    ("spindle_speed", "主轴转速", "Spindle speed", "rpm", MetricKind.GAUGE),
    ("part_count", "计件", "Part counter", None, MetricKind.COUNTER),
    ("vibration", "主轴振动", "Spindle vibration", "mm/s", MetricKind.GAUGE),
    ("spindle_temp", "主轴温度", "Spindle temperature", "°C", MetricKind.GAUGE),
]


def seed_equipment(session: Session, tenant: Tenant) -> None:
    """Seed the demo factory's equipment data (called by ``mes demo`` through ``platform_core.demo.SEEDERS``)."""
    set_actor(session, Actor("demo"))
    rng = random.Random(20261122)  # noqa: S311 - a repeatable demo, not a secret
    now = utcnow().replace(second=0, microsecond=0)
    machines = {m.code: m for m in session.scalars(sa.select(Machine).order_by(Machine.code))}
    reasons = {
        r.code: r
        for r in session.scalars(sa.select(ReasonCode).where(ReasonCode.kind == ReasonKind.DOWNTIME))
        if r.parent_id is not None
    }
    metrics = {
        code: configuration.create_metric(session, code=code, name=name, name_en=name_en, unit=unit, kind=kind)
        for code, name, name_en, unit, kind in METRICS
    }
    configuration.create_gateway(session, "车间网关 1 (CNC)", None)
    for code in MONITORED:
        configuration.set_machine_config(session, machines[code], run_metric=metrics["spindle_speed"], run_above=50)
    for machine in machines.values():
        _history(session, rng, machine, reasons, now)
    _sensors(session, rng, machines, metrics, now)
    _rules(session, machines, metrics)
    _alarms(session, machines, now)
    _maintenance(session, machines, now)
    forecasting.evaluate(session, now=now)
    maintenance.scan_plans(session, now=now)
    oee.refresh_shift_stats(session, now=now)
    session.flush()


# --- a week of states and work reports ------------------------------------------------------------------


def _history(session: Session, rng: random.Random, machine: Machine, reasons: dict, now: dt.datetime) -> None:
    """A plausible timeline: idle outside shifts; in shifts runs of work with set-ups, short stops and breakdowns."""
    start = now - dt.timedelta(days=HISTORY_DAYS)
    shifts = working_intervals(session, machine, start, now)
    monitored = machine.code in MONITORED
    pieces: list[tuple[dt.datetime, State, ReasonCode | None]] = [(start, State.IDLE, None)]
    cycle = machine.ideal_cycle_time_s or 60
    for shift_start, shift_end in shifts:
        cursor = shift_start
        pieces.append((cursor, State.SETUP if rng.random() < 0.5 else State.RUNNING, None))
        cursor += dt.timedelta(minutes=rng.randint(15, 30))
        while cursor < shift_end - dt.timedelta(minutes=10):
            pieces.append((cursor, State.RUNNING, None))
            run = dt.timedelta(minutes=rng.randint(40, 150))
            _report(session, rng, machine, cursor, min(cursor + run, shift_end), cycle)
            cursor += run
            if cursor >= shift_end:
                break
            roll = rng.random()
            if roll < 0.12:  # a breakdown, now and then without a reason given
                reason = rng.choice([*reasons.values(), None]) if reasons else None
                pieces.append((cursor, State.DOWN, reason))
                cursor += dt.timedelta(minutes=rng.randint(15, 70))
            elif roll < 0.45:
                pieces.append((cursor, State.IDLE, None))
                cursor += dt.timedelta(minutes=rng.randint(4, 20))
        pieces.append((min(cursor, shift_end), State.IDLE, None))
    # CNC-07's history stops half an hour ago: its operator reports it down 25 minutes ago (see _alarms). A
    # random breakdown still going on at the cutoff is ended just before it: the demo opens with CNC-07 as the
    # one machine down, whatever the time of day it is seeded at.
    cutoff = now - dt.timedelta(minutes=30) if machine.code == "CNC-07" else now
    pieces = [p for p in pieces if p[0] < cutoff]
    if pieces[-1][1] is State.DOWN:
        back_up = max(pieces[-1][0] + dt.timedelta(minutes=1), cutoff - dt.timedelta(minutes=1))
        if back_up < cutoff:
            pieces.append((back_up, State.RUNNING, None))
        else:  # it broke down this very minute: leave that breakdown out
            pieces.pop()
    _write_timeline(session, machine, pieces, now, monitored)


def _report(session: Session, rng: random.Random, machine: Machine, a: dt.datetime, b: dt.datetime, cycle: float):
    """Hourly work reports over a run, at 70-95 % of the ideal speed, with a little scrap."""
    cursor = a
    while cursor < b:
        step = min(b, cursor + dt.timedelta(hours=1))
        made = int((step - cursor).total_seconds() / cycle * rng.uniform(0.7, 0.95))
        scrap = sum(1 for _ in range(made) if rng.random() < 0.02)
        rework = sum(1 for _ in range(made) if rng.random() < 0.005)
        if made:
            session.add(
                ProductionCount(
                    machine_id=machine.id,
                    at=step,
                    good=made - scrap - rework,
                    scrap=scrap,
                    rework=rework,
                    event_id=str(uuid.uuid4()),
                )
            )
        cursor = step


def _write_timeline(session, machine: Machine, pieces, now: dt.datetime, monitored: bool) -> None:
    merged: list[list] = []
    for at, state, reason in sorted(pieces, key=lambda p: p[0]):
        if at >= now:
            continue
        if merged and merged[-1][0] == at:
            merged[-1] = [at, state, reason]
        elif not merged or merged[-1][1] is not state or state is State.DOWN:
            merged.append([at, state, reason])
    intervals = []
    for index, (at, state, reason) in enumerate(merged):
        end = merged[index + 1][0] if index + 1 < len(merged) else None
        source = states.source_of(state, monitored)
        intervals.append(
            StateInterval(
                machine_id=machine.id,
                state=state,
                started_at=at,
                ended_at=end,
                source=source,
                reason_id=reason.id if reason else None,
                reported_by="张伟 (Zhang Wei)" if state is State.DOWN else None,
            )
        )
    session.add_all(intervals)
    session.flush()
    last = intervals[-1]
    state = last.state
    # the inputs that make derive_state() give this state, so that the next input continues from here
    status = MachineStatus(
        machine_id=machine.id,
        state=state,
        since=last.started_at,
        open_interval_id=last.id,
        manual=State.DOWN if state is State.DOWN else None,
        active_operations=[1] if state in (State.SETUP, State.RUNNING) else [],
        setup_operations=[1] if state is State.SETUP else [],
        telemetry_state=(State.RUNNING if state is State.RUNNING else State.IDLE) if monitored else None,
        telemetry_at=now - dt.timedelta(minutes=1) if monitored else None,
        last_data_at=now - dt.timedelta(minutes=1) if monitored else None,
    )
    assert states.derive_state(status, monitored) is state
    session.add(status)
    session.flush()


# --- sensors --------------------------------------------------------------------------------------------------


def _sensors(session: Session, rng: random.Random, machines: dict, metrics: dict, now: dt.datetime) -> None:
    """Hourly rollups: spindle speed and parts for eight days, vibration and temperature for sixteen."""
    rows = []
    end_hour = now.replace(minute=0)
    for code in MONITORED:
        machine = machines[code]
        counter = rng.randint(10000, 90000)
        for hours_back in range(SENSOR_DAYS * 24, 0, -1):
            bucket = end_hour - dt.timedelta(hours=hours_back)
            age_days = hours_back / 24
            vibration = vibration_average(rng, age_days, code == DEGRADING)
            temperature = 38 + 6 * math.sin(bucket.hour / 24 * 2 * math.pi) + rng.gauss(0, 0.6)
            values = {"vibration": vibration, "spindle_temp": temperature}
            if age_days <= HISTORY_DAYS:
                running = 1.0 if 0 <= (bucket.hour + 8) % 24 < 16 else 0.0  # the two shifts, 08:00-24:00 local
                values["spindle_speed"] = 2400 * running * rng.uniform(0.7, 1.0)
                made = int(3600 / (machine.ideal_cycle_time_s or 60) * 0.8 * running)
                values["part_count"] = (counter, counter + made)
                counter += made
            for metric_code, value in values.items():
                first, last = value if isinstance(value, tuple) else (value, value)
                spread = 0.0 if isinstance(value, tuple) else abs(value) * 0.08
                rows.append(
                    {
                        "tenant_id": machine.tenant_id,
                        "machine_id": machine.id,
                        "metric_id": metrics[metric_code].id,
                        "bucket": bucket,
                        "count": 60,
                        "sum": (first + last) / 2 * 60,
                        "min": min(first, last) - spread,
                        "max": max(first, last) + spread,
                        "first": first,
                        "first_ts": bucket,
                        "last": last,
                        "last_ts": bucket + dt.timedelta(minutes=59),
                    }
                )
    session.execute(sa.insert(RollupHour), rows)


def vibration_average(rng: random.Random, days_ago: float, wearing: bool) -> float:
    """An hourly average of spindle vibration ``days_ago`` before the demo: healthy, or on CNC-03 the wear curve
    that ``mes simulate-gateway`` continues."""
    healthy = HEALTHY_VIBRATION + rng.gauss(0, HOURLY_WANDER)
    return healthy + wear(WORN_DAYS - days_ago) if wearing else healthy


# --- alarms ---------------------------------------------------------------------------------------------------


def _rules(session: Session, machines: dict, metrics: dict) -> None:
    models = sorted({machines[code].model for code in MONITORED if machines[code].model})
    for model in models:
        suffix = model.replace(" ", "")
        configuration.create_rule(
            session,
            code=f"VIB-{suffix}",
            name=f"主轴振动超限 {model}",
            kind=RuleKind.HIGH,
            machine_model=model,
            metric=metrics["vibration"],
            threshold=VIBRATION_LIMIT,
            hysteresis=0.5,
            min_duration_s=60,
            severity=Severity.CRITICAL,
        )
        configuration.create_rule(
            session,
            code=f"VIBT-{suffix}",
            name=f"振动趋势 {model}",
            kind=RuleKind.TREND,
            machine_model=model,
            metric=metrics["vibration"],
            threshold=VIBRATION_LIMIT,
            lead_time_h=5 * 24,
            severity=Severity.WARNING,
        )
        configuration.create_rule(
            session,
            code=f"TEMP-{suffix}",
            name=f"主轴温度高 {model}",
            kind=RuleKind.HIGH,
            machine_model=model,
            metric=metrics["spindle_temp"],
            threshold=60,
            hysteresis=3,
            min_duration_s=120,
        )
        configuration.create_rule(
            session,
            code=f"TEMPA-{suffix}",
            name=f"主轴温度异常 {model}",
            kind=RuleKind.ANOMALY,
            machine_model=model,
            metric=metrics["spindle_temp"],
            threshold=0,
            severity=Severity.INFO,
        )
        configuration.create_rule(
            session,
            code=f"STALE-{suffix}",
            name=f"网关无数据 {model}",
            kind=RuleKind.STALE,
            machine_model=model,
            metric=metrics["spindle_speed"],
            threshold=600,
            severity=Severity.INFO,
        )
    for model in sorted({m.model for m in machines.values() if m.model}):
        configuration.create_rule(
            session,
            code=f"DOWN-{model.replace(' ', '')}",
            name="停机超过 30 分钟",
            kind=RuleKind.STATE,
            machine_model=model,
            state=State.DOWN,
            threshold=30,
            severity=Severity.CRITICAL,
        )


def _alarms(session: Session, machines: dict, now: dt.datetime) -> None:
    """CNC-07 is down right now (an operator's report); CNC-05 ran hot this morning (acknowledged)."""
    states.report_down(
        session,
        machines["CNC-07"],
        reason_id=session.scalar(sa.select(ReasonCode.id).where(ReasonCode.code == "SPINDLE")),
        at=now - dt.timedelta(minutes=25),
        expected_up_at=now + dt.timedelta(hours=3, minutes=35),
        note="主轴异响",
    )
    hot = session.scalar(sa.select(AlarmRule).where(AlarmRule.code == f"TEMP-{machines['CNC-05'].model}"))
    if hot is not None:
        alarm = alarms.raise_alarm(
            session,
            hot,
            machines["CNC-05"],
            at=now - dt.timedelta(hours=2),
            value=63.5,
            message=f"{hot.name}: 63.5 °C (> 60 °C)",
        )
        if alarm is not None:
            alarms.acknowledge(session, alarm)


# --- maintenance ----------------------------------------------------------------------------------------------


def _maintenance(session: Session, machines: dict, now: dt.datetime) -> None:
    lathe = configuration.create_plan(
        session,
        code="PM-CK6150-M",
        name="数控车床月度保养",
        machine_model="CK6150",
        trigger=PlanTrigger.CALENDAR,
        interval=30,
        lead=3,
        tolerance=2,
        duration_min=120,
        checklist=["清洁导轨与防护罩", "检查主轴润滑油位", "检查卡盘夹紧力", "检查冷却液浓度", "紧固电气接线"],
    )
    configuration.create_plan(
        session,
        code="PM-VMC-500H",
        name="加工中心 500 小时保养",
        machine_model="VMC850",
        trigger=PlanTrigger.RUNNING_HOURS,
        interval=500,
        lead=24,
        duration_min=180,
        checklist=["更换主轴润滑油", "检查刀库换刀", "清洗过滤网"],
    )
    configuration.create_plan(
        session,
        code="PM-GR01-5K",
        name="外圆磨床砂轮修整",
        machine=machines["GR-01"],
        trigger=PlanTrigger.COUNT,
        interval=5000,
        lead=300,
        duration_min=45,
        checklist=["修整砂轮", "检查平衡"],
    )
    # CNC-01's last monthly service was 28 days ago: due in two days, so the scan opens its order now
    for code in ("CNC-01", "CNC-02"):
        progress = maintenance.lock_progress(session, lathe, machines[code].id)
        progress.baseline_at = now - dt.timedelta(days=28 if code == "CNC-01" else 12)
    done = maintenance.create_order(
        session,
        machines["CNC-02"],
        kind=MaintenanceKind.PREVENTIVE,
        title=lathe.name,
        checklist=lathe.checklist,
        plan=lathe,
        cycle=1,
        planned_start=now - dt.timedelta(days=12, hours=2),
        planned_end=now - dt.timedelta(days=12),
    )
    done.status, done.started_at, done.started_by = MaintenanceStatus.COMPLETED, done.planned_start, "王磊 (Wang Lei)"
    done.completed_at, done.completed_by, done.time_spent_min = done.planned_end, "王磊 (Wang Lei)", 115
    done.checklist = [{**item, "done": True, "ok": True} for item in done.checklist]
    done.findings = "导轨润滑正常，更换磨损的刮屑板一块"
    done.parts_used = [{"part": "刮屑板", "quantity": 1}, {"part": "导轨油 68# (L)", "quantity": 2}]
    maintenance.lock_progress(session, lathe, machines["CNC-02"].id).cycles = 1
    session.flush()
