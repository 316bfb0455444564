"""The event contract with the orders app, through real commits and the platform's delivery:

* ``orders.order_released`` / ``orders.operation_reported`` published by an orders transaction reach quality's
  subscribers after the commit (genealogy, production record, scrap NCR), once even when delivered twice;
* ``quality.lot_held`` / ``quality.lot_released`` reach the orders app, whose list of held lots follows them.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from apps.quality import inspections, ncrs, plans
from apps.quality.models import LotLink, Nonconformance, ProductionRecord
from platform_core import events
from platform_core.db import db, tenant_context, utcnow
from platform_core.events import OutboxEvent
from platform_core.masterdata import models as md
from tests.apps.quality.conftest import OD

_ids = itertools.count(5000)


def _factory(make_committed):
    def build(make):
        tenant = make.tenant()
        with make.app.app_context(), tenant_context(make.session, tenant.id):
            unit = md.Unit(code="pcs", name="件")
            product = md.Product(code="FL-080", name="法兰盘", unit=unit)
            burr = md.ReasonCode(kind=md.ReasonKind.SCRAP, code="BURR", name="毛刺")
            make.session.add_all([unit, product, burr])
            make.session.flush()
            return tenant.id, product.id

    return make_committed(build)


def test_orders_reports_reach_quality_after_the_commit_once(live_app, make_committed):
    tenant_id, _product_id = _factory(make_committed)
    order_id = next(_ids)
    with live_app.app_context():
        with db.unit_of_work(tenant_id) as session:  # what the orders app's transactions publish
            events.publish(
                session,
                "orders.order_released",
                {"order_id": order_id, "number": "WO-9", "product_code": "FL-080", "quantity": 10, "due_at": None},
            )
        with db.unit_of_work(tenant_id) as session:
            event_id = events.publish(
                session,
                "orders.operation_reported",
                {
                    "order_id": order_id,
                    "operation_id": order_id * 10,
                    "machine_id": None,
                    "employee_id": None,
                    "good": 8,
                    "scrap": 12,  # enough to raise a scrap NCR with the default settings
                    "rework": 0,
                    "scrap_reason_code": "BURR",
                    "output_lot": "T-1",
                    "consumed_lots": ["BAR-1"],
                    "reported_at": utcnow().isoformat(),
                },
            )
        events.deliver_one(event_id)  # a second delivery (the sweep after a crash) changes nothing
        with db.unit_of_work(tenant_id) as session:
            records = session.scalars(sa.select(ProductionRecord)).all()
            assert [(r.good, r.scrap, r.output_lot.code) for r in records] == [(8, 12, "T-1")]
            assert session.scalar(sa.select(sa.func.count()).select_from(LotLink)) == 1
            scrap = session.scalars(sa.select(Nonconformance)).all()
            assert [(n.quantity, n.defect_codes, n.order_number) for n in scrap] == [(12, ["BURR"], "WO-9")]
            row = session.get(OutboxEvent, event_id)
            assert row.dispatched_at is not None and row.last_error is None


def test_holds_and_releases_reach_the_orders_app(live_app, make_committed):
    from apps.orders import lots as orders_lots

    tenant_id, product_id = _factory(make_committed)
    with live_app.test_request_context(), db.unit_of_work(tenant_id) as session:
        product = session.get(md.Product, product_id)
        plan = plans.create_plan(session, code="QP", name="x", product=product, characteristics=[dict(OD)])
        plans.activate_plan(session, plan)
        failed = inspections.record(
            session,
            results=[{"characteristic_id": plan.characteristics[0].id, "values": [80.2, 80, 80, 80, 80]}],
            inspector=None,
            inspector_name="周敏",
            plan=plan,
            context=inspections.Context(lot_code="L2405-113"),
        )
        ncr_id = ncrs.raise_ncr(session, by="周敏", inspection=failed.inspection, hold_lot=True).id
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        assert "L2405-113" in orders_lots.held_among(session, ["L2405-113"])
    with live_app.test_request_context(), db.unit_of_work(tenant_id) as session:
        ncr = session.get(Nonconformance, ncr_id)
        ncrs.cancel(session, ncr, by="王芳", note="复检合格")  # not the inspector who held the lot
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        assert orders_lots.held_among(session, ["L2405-113"]) == {}
