"""Fixtures of the quality tests: a small turning shop with an active inspection plan, and the orders app's events
played into quality's subscribers the way the platform delivers them (``Plant.deliver``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import pytest

from apps.quality import events as subscribers
from apps.quality import plans
from apps.quality.models import InspectionPlan
from platform_core.db import set_tenant, tenant_context, utcnow
from platform_core.events import Event
from platform_core.masterdata import models as md
from platform_core.rbac import Role
from tests.factories import Factories, Member

API = "/api/v1/quality"
_ids = itertools.count(1000)

HANDLERS = {
    "orders.order_released": subscribers.on_order_released,
    "orders.operation_started": subscribers.on_operation_started,
    "orders.operation_reported": subscribers.on_operation_reported,
}

# The turned flange's outer diameter: 80.00 mm −0.05/+0.05, checked five at a time (X̄-R); its length on an
# individuals chart; and a visual check judged good/defective with defect codes (p chart).
OD = {
    "code": "OD",
    "name": "外径",
    "kind": "variable",
    "nominal": 80.0,
    "lsl": 79.95,
    "usl": 80.05,
    "unit": "mm",
    "gauge": "千分尺",
    "decimals": 3,
    "chart_type": "xbar_r",
    "subgroup_size": 5,
}
LENGTH = {
    "code": "LEN",
    "name": "长度",
    "kind": "variable",
    "lsl": 24.9,
    "usl": 25.1,
    "unit": "mm",
    "chart_type": "imr",
}
VISUAL = {
    "code": "VIS",
    "name": "外观",
    "kind": "attribute",
    "defect_codes": ["BURR", "SCRATCH"],
    "accept_number": 0,
    "chart_type": "p",
}


@dataclass
class Plant:
    make: Factories
    tenant: object
    admin: Member
    inspector: Member
    operator: Member
    viewer: Member
    work_center: md.WorkCenter
    machine: md.Machine
    product: md.Product
    material: md.Product
    burr: md.ReasonCode
    employee: object

    @property
    def session(self):
        return self.make.session

    @contextlib.contextmanager
    def scoped(self):
        """The test session scoped to the plant's factory, in a request context (services speak its language)."""
        with self.make.app.test_request_context():
            set_tenant(self.session, self.tenant.id)  # stays set: leaving a tenant would detach the plant's rows
            yield self.session

    def plan(self, characteristics=(OD, VISUAL), rules=None, *, code="QP-FL", sequence=10) -> InspectionPlan:
        """An active plan for the flange's turning operation."""
        rules = rules if rules is not None else [{"kind": "every_n", "every_n": 50, "sample_size": 5}]
        with self.scoped() as session:
            plan = plans.create_plan(
                session,
                code=code,
                name="法兰车削检验",
                product=self.product,
                operation_sequence=sequence,
                characteristics=[dict(c) for c in characteristics],
                rules=rules,
            )
            return plans.activate_plan(session, plan)

    def deliver(self, name: str, payload: dict, at: dt.datetime | None = None) -> str:
        """Hand an orders event to quality's subscriber, as the platform does after the orders app commits."""
        event = Event(
            id=str(uuid.uuid4()),
            name=name,
            tenant_id=self.tenant.id,
            payload=payload,
            occurred_at=at or utcnow(),
            actor={"label": "orders-tablet", "user_id": None, "token_id": None},
        )
        # An application context only, as in the worker's outbox sweep: no request to take a language from.
        with self.make.app.app_context():
            set_tenant(self.session, self.tenant.id)
            HANDLERS[name](self.session, event)
            self.session.flush()
        return event.id

    def release_order(self, order_id: int, number: str = "WO-1", sequences=(10, 20)) -> None:
        operations = [
            {
                "operation_id": order_id * 10 + s,
                "sequence": s,
                "name": f"工序{s}",
                "work_center_id": self.work_center.id,
            }
            for s in sequences
        ]
        self.deliver(
            "orders.order_released",
            {
                "order_id": order_id,
                "number": number,
                "product_code": self.product.code,
                "quantity": 500,
                "due_at": None,
                "operations": operations,
            },
        )

    def report(self, order_id: int, sequence: int = 10, *, good=10, scrap=0, output_lot=None, consumed=(), **extra):
        payload = {
            "report_id": next(_ids),
            "order_id": order_id,
            "operation_id": order_id * 10 + sequence,
            "sequence": sequence,
            "machine_id": self.machine.id,
            "employee_id": self.employee.id,
            "good": good,
            "scrap": scrap,
            "rework": 0,
            "scrap_reason_code": "BURR" if scrap else None,
            "output_lot": output_lot,
            "consumed_lots": list(consumed),
            "reported_at": (extra.pop("at", None) or utcnow()).isoformat(),
            **extra,
        }
        return self.deliver("orders.operation_reported", payload)


def build_plant(make: Factories) -> Plant:
    session = make.session
    tenant = make.tenant()
    admin = make.member(tenant)
    inspector = make.member(tenant, Role.QUALITY_INSPECTOR)
    operator = make.member(tenant, Role.OPERATOR)
    viewer = make.member(tenant, Role.VIEWER)
    employee = make.employee(operator, "1001", "2580")
    with make.app.app_context(), tenant_context(session, tenant.id):
        work_center = md.WorkCenter(code="CNC", name="数控车削")
        machine = md.Machine(code="CNC-01", name="数控车床1号", work_center=work_center)
        pcs, kg = md.Unit(code="pcs", name="件"), md.Unit(code="kg", name="千克", decimals=3)
        product = md.Product(code="FL-080", name="法兰盘 DN80", unit=pcs)
        material = md.Product(code="Q235-50", name="Q235 圆钢", unit=kg)
        burr = md.ReasonCode(kind=md.ReasonKind.SCRAP, code="BURR", name="毛刺", name_en="Burr")
        scratch = md.ReasonCode(kind=md.ReasonKind.SCRAP, code="SCRATCH", name="划伤", name_en="Scratch")
        session.add_all([work_center, machine, pcs, kg, product, material, burr, scratch])
        session.flush()
    set_tenant(session, tenant.id)
    return Plant(
        make, tenant, admin, inspector, operator, viewer, work_center, machine, product, material, burr, employee
    )


@pytest.fixture
def plant(make) -> Plant:
    return build_plant(make)


def key() -> str:
    return f"test:{uuid.uuid4()}"


def post(client, member: Member, path: str, body: dict | None = None, **kw):
    """POST to the quality API as ``member`` with a fresh Idempotency-Key."""
    headers = {**member.headers, "Idempotency-Key": key(), **kw.pop("headers", {})}
    return client.post(f"{API}{path}", json=body if body is not None else {}, headers=headers, **kw)


def get(client, member: Member, path: str, **kw):
    return client.get(f"{API}{path}", headers=member.headers, **kw)
