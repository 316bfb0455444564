"""A small machining shop for the scheduling tests, and a way to solve runs without a worker process.

``plant`` lives in the test's rolled-back transaction. Every machine works 08:00–20:00 every day (Asia/Shanghai,
no daylight saving) and the schedules start tomorrow at 08:00, so hand-computed minutes do not depend on when the
tests run. ``plant.solve(run)`` runs the real queue handler with a stand-in for the worker's job context (same
code path as ``mes worker``, minus the queue machinery, which tests/apps/scheduling/test_worker.py covers).

Products: PA (family FA) is turned on CNC-01 (60 s a piece) or CNC-02 (90 s), set-up 30 min, handing over partial
quantities, then assembled on ASM-01 (30 s, set-up 10 min). PB (family FB) is milled on CNC-01 or CNC-02 (120 s,
set-up 20 min).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.orders import execution, routings, work_orders
from apps.orders.models import Operation, WorkOrder
from apps.scheduling import runs, solving
from apps.scheduling.assembly import Assembled, assemble
from apps.scheduling.models import Run
from platform_core.db import Actor, db, set_actor, tenant_context
from platform_core.masterdata import models as md
from platform_core.rbac import Role
from tests.factories import Factories, Member

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1/scheduling"
TIME_LIMIT = 2
_numbers = itertools.count(1)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time of the factory as an aware UTC datetime (``hour`` may pass 24 for the next day)."""
    moment = dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI) + dt.timedelta(hours=hour, minutes=minute)
    return moment.astimezone(dt.UTC)


def tomorrow() -> dt.date:
    return dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)


class JobStandIn:
    """What the queue handler needs of ``platform_core.jobs.JobContext``; records the progress it publishes."""

    def __init__(self, session, run: Run, tenant_id: int) -> None:
        self.session = session
        self.job_id = run.job_id
        self.tenant_id = tenant_id
        self.kind = runs.SOLVE
        self.payload = {"run_id": run.id}
        self.attempt = 1
        self.worker = "test"
        self.cancelled = False
        self.updates: list[dict[str, Any]] = []

    def progress(self, force: bool = False, **data: Any) -> None:
        self.updates.append(data)

    def check_cancelled(self) -> None:
        pass


@dataclass
class Plant:
    make: Factories
    tenant: Any
    planner: Member
    viewer: Member
    supervisor: Member
    operator: Member
    employee: Any
    calendar: md.ShiftCalendar
    cnc: md.WorkCenter
    asm: md.WorkCenter
    m1: md.Machine
    m2: md.Machine
    m3: md.Machine
    fa: md.ProductFamily
    fb: md.ProductFamily
    pa: md.Product
    pb: md.Product
    start: dt.datetime = field(default_factory=lambda: local(tomorrow(), 8))

    @property
    def app(self):
        return self.make.app

    @property
    def session(self):
        return self.make.session

    @contextlib.contextmanager
    def scope(self, actor: str = "planner") -> Iterator:
        """A request context (services translate and build links), the factory's tenant and an actor."""
        with self.app.test_request_context(), tenant_context(self.session, self.tenant.id):
            set_actor(self.session, Actor(actor))
            yield self.session
            self.session.flush()

    def minute(self, moment: dt.datetime, assembled: Assembled) -> int:
        return assembled.minute(moment)

    def order(self, product: md.Product | None = None, quantity: int = 100, *, release: bool = True, **fields):
        with self.scope():
            order = work_orders.create_order(
                self.session,
                product=product or self.pa,
                quantity=quantity,
                number=fields.pop("number", f"S-{next(_numbers):05d}"),
                **fields,
            )
            if release:
                work_orders.release_order(self.session, order)
            self.session.flush()
            return order

    def ops(self, order: WorkOrder) -> list[Operation]:
        with self.scope():
            return sorted(self.session.get(WorkOrder, order.id).operations, key=lambda o: o.sequence)

    def started(self, operation: Operation, machine: md.Machine, at: dt.datetime | None = None) -> Operation:
        with self.scope("operator"):
            op = self.session.get(Operation, operation.id)
            return execution.start(
                self.session, op, machine=self.session.get(md.Machine, machine.id), employee=self.employee, now=at
            )

    def reported(self, operation: Operation, good: int, scrap: int = 0) -> None:
        with self.scope("operator"):
            defect = None
            if scrap:
                defect = md.ReasonCode(kind=md.ReasonKind.SCRAP, code=f"S{next(_numbers)}", name="毛刺")
                self.session.add(defect)
                self.session.flush()
            op = self.session.get(Operation, operation.id)
            data = execution.ReportInput(good=good, scrap=scrap, scrap_reason=defect)
            execution.report(self.session, op, data, employee=self.employee)

    def paused(self, operation: Operation) -> None:
        with self.scope("operator"):
            reason = md.ReasonCode(kind=md.ReasonKind.PAUSE, code=f"P{next(_numbers)}", name="休息")
            self.session.add(reason)
            self.session.flush()
            op = self.session.get(Operation, operation.id)
            execution.pause(self.session, op, reason=reason, employee=self.employee)

    def assemble(self, **kwargs) -> Assembled:
        with self.scope():
            kwargs.setdefault("horizon_start", self.start)
            return assemble(self.session, **kwargs)

    def create(self, **kwargs) -> Run:
        kwargs.setdefault("time_limit_s", TIME_LIMIT)
        kwargs.setdefault("horizon_start", self.start)
        with self.scope():
            return runs.create_run(self.session, actor="planner", **kwargs)

    def solve(self, run: Run) -> Run:
        """Run the ``scheduling.solve`` handler on the run, as a worker would."""
        with self.app.test_request_context():
            session = db._new_session()
            session.info.update(tenant_id=self.tenant.id, actor=Actor("job:test"))
            try:
                solving.solve_run(JobStandIn(session, run, self.tenant.id))
                session.commit()
            finally:
                session.close()
        with self.scope():
            solved = self.session.get(Run, run.id)
            self.session.refresh(solved)
            return solved

    def run(self, **kwargs) -> Run:
        return self.solve(self.create(**kwargs))


def build_plant(make: Factories, *, apps: list[str] | None = None) -> Plant:
    session = make.session
    tenant = make.tenant(apps=apps)
    planner = make.member(tenant, Role.PLANNER)
    viewer = make.member(tenant, Role.VIEWER)
    supervisor = make.member(tenant, Role.SUPERVISOR)
    operator = make.member(tenant, Role.OPERATOR)
    employee = make.employee(operator, "1001", "2580")
    with make.app.app_context(), tenant_context(session, tenant.id):
        calendar = md.ShiftCalendar(code="DAY", name="白班", is_default=False)
        calendar.shifts.append(
            md.CalendarShift(
                code="D",
                name="白班",
                weekdays=list(range(1, 8)),
                start_time=dt.time(8),
                end_time=dt.time(20),
                breaks=[],
            )
        )
        cnc = md.WorkCenter(code="CNC", name="数控加工", calendar=calendar)
        asm = md.WorkCenter(code="ASM", name="装配", calendar=calendar)
        m1 = md.Machine(code="CNC-01", name="数控1号", work_center=cnc)
        m2 = md.Machine(code="CNC-02", name="数控2号", work_center=cnc)
        m3 = md.Machine(code="ASM-01", name="装配台", work_center=asm)
        unit = md.Unit(code="pcs", name="件")
        fa = md.ProductFamily(code="FA", name="法兰")
        fb = md.ProductFamily(code="FB", name="支架")
        pa = md.Product(code="PA", name="法兰盘", name_en="Flange", unit=unit, family=fa)
        pb = md.Product(code="PB", name="支架", name_en="Bracket", unit=unit, family=fb)
        session.add_all([calendar, cnc, asm, m1, m2, m3, unit, fa, fb, pa, pb])
        session.flush()
        for product, steps in (
            (
                pa,
                [
                    {
                        "sequence": 10,
                        "name": "车削",
                        "work_center": cnc,
                        "setup_minutes": 30,
                        "seconds_per_unit": 60,
                        "allow_partial": True,
                        "machines": [{"machine": m1}, {"machine": m2, "seconds_per_unit": 90}],
                    },
                    {"sequence": 20, "name": "装配", "work_center": asm, "setup_minutes": 10, "seconds_per_unit": 30},
                ],
            ),
            (
                pb,
                [
                    {
                        "sequence": 10,
                        "name": "铣削",
                        "work_center": cnc,
                        "setup_minutes": 20,
                        "seconds_per_unit": 120,
                        "machines": [{"machine": m1}, {"machine": m2}],
                    }
                ],
            ),
        ):
            routing = routings.create_routing(session, product=product, steps=steps)
            routings.activate_routing(session, routing)
        session.flush()
    return Plant(
        make=make,
        tenant=tenant,
        planner=planner,
        viewer=viewer,
        supervisor=supervisor,
        operator=operator,
        employee=employee,
        calendar=calendar,
        cnc=cnc,
        asm=asm,
        m1=m1,
        m2=m2,
        m3=m3,
        fa=fa,
        fb=fb,
        pa=pa,
        pb=pb,
    )


@pytest.fixture
def plant(make) -> Plant:
    return build_plant(make)


def api(client, member: Member, method: str, path: str, **kwargs):
    return client.open(f"{API}{path}", method=method, headers={**member.headers, **kwargs.pop("headers", {})}, **kwargs)
