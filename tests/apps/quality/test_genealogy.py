"""Lot genealogy from the orders app's reports: backward and forward traces, each one recursive query."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event

from apps.quality import genealogy, inspections, ncrs
from apps.quality.genealogy import Direction
from apps.quality.models import Lot
from platform_core.db import set_tenant, tenant_context, utcnow
from platform_core.masterdata import models as md
from tests.apps.quality.conftest import OD, build_plant


def _lot(plant, code) -> Lot:
    with plant.scoped() as session:
        return session.scalar(sa.select(Lot).where(Lot.code == code))


def _genealogy(plant):
    """Bar stock B1 → turned lots T1, T2 (order WO-1, op 10) → finished F1 (from T1, T2) and F2 (from T2)."""
    plant.release_order(1, number="WO-1")
    plant.release_order(2, number="WO-2")
    at = utcnow() - dt.timedelta(days=1)
    plant.report(1, 10, good=50, output_lot="T1", consumed=["B1"], at=at)
    plant.report(1, 10, good=50, output_lot="T2", consumed=["B1", "B9"], at=at + dt.timedelta(hours=1))
    plant.report(1, 20, good=45, output_lot="F1", consumed=["T1", "T2"], at=at + dt.timedelta(hours=2))
    plant.report(2, 20, good=40, output_lot="F2", consumed=["T2"], at=at + dt.timedelta(hours=3))
    plant.report(2, 20, good=5, output_lot="F2", consumed=["T2"], at=at + dt.timedelta(hours=4))


def test_backward_from_a_finished_lot_reaches_the_bar_stock_with_machine_operator_and_time(plant):
    _genealogy(plant)
    with plant.scoped() as session:
        nodes = genealogy.trace(session, _lot(plant, "F1"), Direction.BACKWARD)
    by_code = {n.code: n for n in nodes}
    assert [(n.code, n.depth) for n in nodes] == [("F1", 0), ("T1", 1), ("T2", 1), ("B1", 2), ("B9", 2)]
    assert by_code["B1"].via == {by_code["T1"].lot_id, by_code["T2"].lot_id}
    made = by_code["T1"].made
    assert [(m.order_number, m.operation_sequence, m.machine_code, m.employee_name) for m in made] == [
        ("WO-1", 10, "CNC-01", plant.operator.user.display_name)
    ]
    assert by_code["F1"].product_code == "FL-080" and by_code["B1"].made == []  # bar stock was not made here


def test_forward_from_the_bar_stock_reaches_every_lot_and_order(plant):
    _genealogy(plant)
    with plant.scoped() as session:
        nodes = genealogy.trace(session, _lot(plant, "B9"), Direction.FORWARD)
    assert [(n.code, n.depth) for n in nodes] == [("B9", 0), ("T2", 1), ("F1", 2), ("F2", 2)]
    assert genealogy.orders_reached(nodes) == ["WO-1", "WO-2"]
    f2 = next(n for n in nodes if n.code == "F2")
    assert len(f2.made) == 2 and f2.quantity == 45


def test_a_trace_is_one_statement_and_shows_inspections_and_holds(plant, app):
    _genealogy(plant)
    plan = plant.plan(characteristics=(OD,), sequence=None)
    with plant.scoped() as session:
        recorded = inspections.record(
            session,
            results=[{"characteristic_id": plan.characteristics[0].id, "values": [80.0, 80.2, 80.0, 80.0, 80.0]}],
            inspector=None,
            inspector_name="周敏",
            plan=plan,
            context=inspections.Context(lot_code="T2"),
        )
        ncrs.raise_ncr(session, by="周敏", inspection=recorded.inspection, hold_lot=True)
        start = _lot(plant, "F1")
        session.flush()
        statements = []
        connection = session.connection()
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
        event.listen(connection, "before_cursor_execute", listener)
        try:
            nodes = genealogy.trace(session, start, Direction.BACKWARD)
        finally:
            event.remove(connection, "before_cursor_execute", listener)
        assert len(statements) == 1 and "RECURSIVE" in statements[0].upper()
        recursive_part = statements[0].split(" UNION ", 1)[1].split(" SELECT ", 1)[0]
        assert "quality_lot_links_1.tenant_id" in recursive_part  # the tenant filter reaches inside the walk
        t2 = next(n for n in nodes if n.code == "T2")
        assert (t2.failed, t2.passed, t2.held) == (1, 0, True)
        details = genealogy.inspections_of(session, [n.lot_id for n in nodes])
        assert [i.number for i in details[t2.lot_id]] == [recorded.inspection.number]


def test_a_cycle_in_bad_data_ends_at_the_depth_limit(plant):
    plant.release_order(5)
    plant.report(5, good=1, output_lot="X", consumed=["Y"])
    plant.report(5, good=1, output_lot="Y", consumed=["X"])
    with plant.scoped() as session:
        nodes = genealogy.trace(session, _lot(plant, "X"), Direction.BACKWARD)
    assert sorted(n.code for n in nodes) == ["X", "Y"]


def test_another_factorys_links_never_join_a_trace(plant, make):
    _genealogy(plant)
    other = build_plant(make)  # a second factory whose lots have the same codes
    other.release_order(1, number="OTHER-1")
    other.report(1, 10, good=5, output_lot="T1", consumed=["B1", "SECRET"])
    set_tenant(plant.session, plant.tenant.id)
    with plant.scoped() as session:
        nodes = genealogy.trace(session, _lot(plant, "F1"), Direction.BACKWARD)
        assert "SECRET" not in {n.code for n in nodes}
        assert genealogy.orders_reached(nodes) == ["WO-1"]
    with make.app.app_context(), tenant_context(plant.session, other.tenant.id):
        assert plant.session.scalar(sa.select(sa.func.count()).select_from(md.Product)) == 2
