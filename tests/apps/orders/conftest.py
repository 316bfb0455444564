"""Fixtures of the orders tests: a small machining shop with a two-operation routing, and HTTP helpers.

``shop`` lives in the rolled-back test transaction; ``committed_shop`` is built on ``orders_app``, an app on its
own committed database, for what needs real commits and several connections (idempotent twins, row locks).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field

import pytest

from apps.orders import execution, routings, work_orders
from apps.orders.models import Operation, WorkOrder
from apps.orders.settings import update_settings
from platform_core.db import tenant_context
from platform_core.masterdata import models as md
from platform_core.rbac import Role
from tests.conftest import TEST_CONFIG, new_database_url
from tests.factories import Factories, Member

API = "/api/v1/orders"
_numbers = itertools.count(1)


@dataclass
class Shop:
    """A factory with a CNC center (two machines), an assembly center (one machine), reasons and people."""

    make: Factories
    tenant: object
    planner: Member
    operator: Member
    operator2: Member
    supervisor: Member
    cnc: md.WorkCenter
    assembly: md.WorkCenter
    m1: md.Machine
    m2: md.Machine
    m3: md.Machine
    product: md.Product
    pause_tool: md.ReasonCode
    scrap_burr: md.ReasonCode
    rework_dim: md.ReasonCode
    downtime: md.ReasonCode
    routing: object
    employees: dict[str, object] = field(default_factory=dict)

    @property
    def session(self):
        return self.make.session

    def scoped(self):
        return tenant_context(self.session, self.tenant.id)

    def order(self, quantity: int = 100, *, release: bool = True, **fields) -> WorkOrder:
        """A work order of the shop's product, released unless told otherwise."""
        with self.make.app.app_context(), self.scoped():
            order = work_orders.create_order(
                self.session,
                product=self.product,
                quantity=quantity,
                number=fields.pop("number", f"T-{next(_numbers):05d}"),
                **fields,
            )
            if release:
                work_orders.release_order(self.session, order)
            self.session.flush()  # the release event's row too, stamped now
            return order

    def tolerance(self, percent: float) -> None:
        with self.make.app.app_context(), self.scoped():
            update_settings(self.session, over_tolerance_pct=percent)

    def started(self, operation: Operation, machine: md.Machine | None = None, **kwargs) -> Operation:
        """Start an operation through the service (setup for tests about later steps)."""
        with self.make.app.app_context(), self.scoped():
            employee = self.employees["operator"]
            return execution.start(self.session, operation, machine=machine or self.m1, employee=employee, **kwargs)

    def reported(self, operation: Operation, good: int, scrap: int = 0, **kwargs) -> None:
        with self.make.app.app_context(), self.scoped():
            reason = self.scrap_burr if scrap else None
            data = execution.ReportInput(good=good, scrap=scrap, scrap_reason=reason)
            execution.report(self.session, operation, data, employee=self.employees["operator"], **kwargs)


def build_shop(make: Factories) -> Shop:
    session = make.session
    tenant = make.tenant()
    planner = make.member(tenant, Role.PLANNER)
    operator = make.member(tenant, Role.OPERATOR)
    operator2 = make.member(tenant, Role.OPERATOR)
    supervisor = make.member(tenant, Role.SUPERVISOR)
    employees = {
        "operator": make.employee(operator, "1001", "2580"),
        "operator2": make.employee(operator2, "1002", "1470"),
        "supervisor": make.employee(supervisor, "1003", "3691"),
    }
    with make.app.app_context(), tenant_context(session, tenant.id):
        cnc = md.WorkCenter(code="CNC", name="数控加工中心")
        assembly = md.WorkCenter(code="ASM", name="装配")
        m1 = md.Machine(code="CNC-01", name="数控1号", work_center=cnc)
        m2 = md.Machine(code="CNC-02", name="数控2号", work_center=cnc)
        m3 = md.Machine(code="ASM-01", name="装配台1", work_center=assembly)
        unit = md.Unit(code="pcs", name="件")
        product = md.Product(code="FL-100", name="法兰盘", unit=unit)
        pause_tool = md.ReasonCode(kind=md.ReasonKind.PAUSE, code="TOOL", name="换刀")
        scrap_burr = md.ReasonCode(kind=md.ReasonKind.SCRAP, code="BURR", name="毛刺")
        rework_dim = md.ReasonCode(kind=md.ReasonKind.REWORK, code="DIM", name="尺寸返修")
        downtime = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code="JAM", name="卡料")
        session.add_all([cnc, assembly, m1, m2, m3, unit, product, pause_tool, scrap_burr, rework_dim, downtime])
        session.flush()
        routing = routings.create_routing(
            session,
            product=product,
            steps=[
                {
                    "sequence": 10,
                    "name": "车削",
                    "work_center": cnc,
                    "setup_minutes": 30,
                    "seconds_per_unit": 60,
                    "allow_partial": True,
                    "machines": [{"machine": m1}, {"machine": m2, "seconds_per_unit": 90}],
                },
                {"sequence": 20, "name": "装配", "work_center": assembly, "setup_minutes": 10, "seconds_per_unit": 30},
            ],
        )
        routings.activate_routing(session, routing)
    return Shop(
        make=make,
        tenant=tenant,
        planner=planner,
        operator=operator,
        operator2=operator2,
        supervisor=supervisor,
        cnc=cnc,
        assembly=assembly,
        m1=m1,
        m2=m2,
        m3=m3,
        product=product,
        pause_tool=pause_tool,
        scrap_burr=scrap_burr,
        rework_dim=rework_dim,
        downtime=downtime,
        routing=routing,
        employees=employees,
    )


@pytest.fixture
def shop(make) -> Shop:
    return build_shop(make)


def key() -> str:
    return f"test:{uuid.uuid4()}"


def post(client, member: Member, path: str, body: dict | None = None, *, idempotency_key: str | None = None, **kw):
    """POST to the orders API as ``member`` with a fresh (or the given) Idempotency-Key."""
    headers = {**member.headers, "Idempotency-Key": idempotency_key or key(), **kw.pop("headers", {})}
    return client.post(f"{API}{path}", json=body if body is not None else {}, headers=headers, **kw)


def get(client, member: Member, path: str, **kw):
    return client.get(f"{API}{path}", headers=member.headers, **kw)


def ops(order: WorkOrder) -> list[Operation]:
    return list(order.operations)


# --- a committed database, for commits, concurrency and event delivery ------------------------------------------


@pytest.fixture(scope="session")
def orders_app(backend, request):
    """The application on its own committed database (no per-test transaction)."""
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db

    app = create_app({**TEST_CONFIG, "DATABASE_URL": new_database_url(backend, request)})
    with app.app_context():
        migrations.upgrade(db.engine)
    yield app
    app.extensions["mes.engine"].dispose()


@pytest.fixture
def committed_shop(orders_app) -> Shop:
    """A shop committed on ``orders_app``'s database (its own factory per test)."""
    from platform_core.db import db

    with orders_app.app_context():
        session = db._new_session()
        try:
            shop = build_shop(Factories(orders_app, session))
            session.commit()
        finally:
            session.close()  # loaded attributes stay readable; later work goes through ``committed``
    return shop


def committed(app, shop: Shop, recipe):
    """Run ``recipe(session)`` in a committed unit of work of the shop's factory; returns its result."""
    from platform_core.db import db

    with app.app_context(), db.unit_of_work(shop.tenant.id) as session:
        return recipe(session)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the server's clock -----------------------------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)


class Clock:
    """The server's clock, moved by the test (the tablets' clocks play no part)."""

    def __init__(self, monkeypatch) -> None:
        self.now = T0
        for module in ("apps.orders.execution", "apps.orders.schemas"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def at(self, seconds: int) -> None:
        self.now = T0 + dt.timedelta(seconds=seconds)

    def advance(self, seconds: int) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)
