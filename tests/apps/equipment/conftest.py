"""A small plant for the equipment tests: a factory with machines, metrics, reason codes and a gateway.

``plant`` builds it inside the test's rolled-back transaction; ``plant.scope()`` gives the services what they
expect (an application context, the factory as the session's tenant, an actor). Times are built relative to
today in the factory's time zone (Asia/Shanghai, no daylight saving), so hand-computed figures do not depend on
the day the tests run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from apps.equipment import configuration
from apps.equipment.models import Gateway, Metric, MetricKind, StateInterval
from platform_core.db import Actor, set_actor, tenant_context
from platform_core.masterdata import models as md
from tests.factories import Member

SHANGHAI = ZoneInfo("Asia/Shanghai")
_codes = itertools.count(1)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time of the factory as an aware UTC datetime (``hour`` may pass 24 for the next day)."""
    moment = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI) + dt.timedelta(hours=hour, minutes=minute)
    return moment.astimezone(dt.UTC)


def days_ago(n: int) -> dt.date:
    return dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=n)


@dataclass
class Plant:
    app: object
    session: object
    tenant: object
    admin: Member
    work_center: md.WorkCenter
    machines: dict[str, md.Machine] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    reasons: dict[str, md.ReasonCode] = field(default_factory=dict)
    gateway: Gateway | None = None
    gateway_secret: str = ""

    @contextlib.contextmanager
    def scope(self, actor: str = "tester") -> Iterator:
        """A request context (services translate their messages), the factory's tenant and an actor."""
        with self.app.test_request_context(), tenant_context(self.session, self.tenant.id):
            set_actor(self.session, Actor(actor))
            yield self.session
            self.session.flush()  # leaving the tenant drops its rows from the identity map

    def calendar(self, code: str, shifts: list[tuple[str, str, str, list]], machine: md.Machine | None = None):
        """A calendar with ``(code, start, end, breaks)`` shifts on every day, given to a machine."""
        with self.scope():
            calendar = md.ShiftCalendar(code=code, name=code)
            for position, (shift, start, end, breaks) in enumerate(shifts):
                calendar.shifts.append(
                    md.CalendarShift(
                        code=shift,
                        name=f"班次 {shift}",
                        name_en=f"Shift {shift}",
                        position=position,
                        weekdays=list(range(1, 8)),
                        start_time=dt.time.fromisoformat(start),
                        end_time=dt.time.fromisoformat(end) if end != "24:00" else dt.time(0),
                        breaks=[list(b) for b in breaks],
                    )
                )
            self.session.add(calendar)
            self.session.flush()
            if machine is not None:
                self.session.get(md.Machine, machine.id).calendar_id = calendar.id
                self.session.flush()
            return calendar

    def get(self, record):
        """The record as loaded in the current scope (records leave the session when a scope ends)."""
        return self.session.get(type(record), record.id)

    def machine(self, code: str, *, ideal_cycle_time_s: float = 60, model: str | None = "CK6150", monitored=False):
        with self.scope():
            machine = md.Machine(
                code=code,
                name=f"设备 {code}",
                work_center=self.work_center,
                model=model,
                ideal_cycle_time_s=ideal_cycle_time_s,
            )
            self.session.add(machine)
            self.session.flush()
            if monitored:
                configuration.set_machine_config(
                    self.session,
                    machine,
                    run_metric=self.metrics["spindle_speed"],
                    count_metric=self.metrics["part_count"] if monitored == "counter" else None,
                )
            self.machines[code] = machine
            return machine

    def timeline(self, machine: md.Machine) -> list[StateInterval]:
        with self.scope():
            return list(
                self.session.scalars(
                    sa.select(StateInterval)
                    .where(StateInterval.machine_id == machine.id)
                    .order_by(StateInterval.started_at)
                )
            )


def assert_timeline_invariants(intervals: list[StateInterval]) -> None:
    """No gap, no overlap, positive lengths, exactly one open interval, and it is the last one."""
    assert intervals, "the machine has no timeline"
    for previous, following in itertools.pairwise(intervals):
        assert previous.ended_at is not None, "only the last interval may be open"
        assert previous.ended_at == following.started_at, f"gap or overlap at {previous.ended_at}"
    for interval in intervals[:-1]:
        assert interval.ended_at > interval.started_at
    assert intervals[-1].ended_at is None


def build_plant(app, session, make) -> Plant:
    tenant = make.tenant()
    admin = make.member(tenant)
    with app.app_context(), tenant_context(session, tenant.id):
        work_center = md.WorkCenter(code="CNC", name="数控加工", name_en="CNC machining")
        session.add(work_center)
        session.flush()
        plant = Plant(app, session, tenant, admin, work_center)
        for code, name, unit, kind in (
            ("spindle_speed", "主轴转速", "rpm", MetricKind.GAUGE),
            ("part_count", "计件", None, MetricKind.COUNTER),
            ("vibration", "振动", "mm/s", MetricKind.GAUGE),
            ("temperature", "温度", "°C", MetricKind.GAUGE),
        ):
            plant.metrics[code] = configuration.create_metric(session, code=code, name=name, unit=unit, kind=kind)
        mech = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code="MECH", name="机械故障", name_en="Mechanical")
        session.add(mech)
        session.flush()
        for code, name, name_en in (("TOOL", "刀具破损", "Tool breakage"), ("SPINDLE", "主轴故障", "Spindle failure")):
            reason = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code=code, name=name, name_en=name_en, parent=mech)
            session.add(reason)
            plant.reasons[code] = reason
        plant.reasons["BREAK"] = md.ReasonCode(kind=md.ReasonKind.PAUSE, code="BREAK", name="休息")
        session.add(plant.reasons["BREAK"])
        session.flush()
        set_actor(session, Actor("admin"))
        plant.gateway, plant.gateway_secret = configuration.create_gateway(session, f"gw-{secrets.token_hex(2)}", None)
    return plant


@pytest.fixture
def plant(app, db_session, make) -> Plant:
    return build_plant(app, db_session, make)


@pytest.fixture
def backdating(app, monkeypatch):
    """Let operator reports be dated back a few days (worked examples replay past shifts through the services)."""
    monkeypatch.setitem(app.config, "EQUIPMENT_BACKDATE_LIMIT_HOURS", 24 * 8)


def gateway_headers(plant: Plant) -> dict[str, str]:
    return {"Authorization": f"Bearer {plant.gateway_secret}"}


def next_code(prefix: str) -> str:
    return f"{prefix}{next(_codes)}"
