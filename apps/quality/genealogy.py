"""Lot genealogy: backward (a lot → everything it was made from) and forward (a lot → everything made from it).

Each trace is one SQL statement: a recursive CTE walks ``quality_lot_links`` from the starting lot, and the
outer query joins each reached lot's product, the production records that made it (order, operation, machine,
operator, time), its inspection counts and whether a hold is active. The inspections' details for the traced
lots are read afterwards in one more query (``inspections_of``). The walk stops at ``MAX_DEPTH`` levels, which
also ends it should bad data ever make a cycle.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from apps.quality.models import (
    Inspection,
    InspectionStatus,
    Lot,
    LotHold,
    LotLink,
    ProductionOrder,
    ProductionRecord,
)
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product

MAX_DEPTH = 50


class Direction(enum.StrEnum):
    BACKWARD = "backward"  # towards the materials
    FORWARD = "forward"  # towards the products and orders


@dataclass
class Made:
    """One production record of a lot."""

    order_id: int | None
    order_number: str | None
    operation_sequence: int | None
    machine_code: str | None
    employee_name: str | None
    reported_at: dt.datetime
    good: int
    scrap: int


@dataclass
class Node:
    lot_id: int
    code: str
    depth: int
    product_code: str | None
    product_name: str | None
    quantity: int
    passed: int
    failed: int
    held: bool
    via: set[int] = field(default_factory=set)  # the lots one step closer to the start that lead here
    made: list[Made] = field(default_factory=list)


def trace_statement(lot_id: int, direction: Direction, max_depth: int = MAX_DEPTH) -> sa.Select:
    """The one statement that answers a trace (also what bench/genealogy.py times)."""
    forward = direction is Direction.FORWARD
    # Typed anchor columns: PostgreSQL wants the recursive term's types to match the anchor's exactly.
    start = sa.select(
        sa.cast(sa.literal(lot_id), sa.Integer).label("lot_id"),
        sa.cast(sa.literal(0), sa.Integer).label("depth"),
        sa.cast(sa.null(), sa.Integer).label("via"),
    ).cte("trace", recursive=True)
    edge = aliased(LotLink)
    step = (
        sa.select(
            (edge.child_id if forward else edge.parent_id).label("lot_id"),
            sa.cast(start.c.depth + 1, sa.Integer).label("depth"),
            start.c.lot_id.label("via"),
        )
        .join(start, (edge.parent_id if forward else edge.child_id) == start.c.lot_id)
        .where(start.c.depth < max_depth)
    )
    trace = start.union(step)  # UNION, not UNION ALL: a lot reached twice the same way is kept once
    passed = _inspection_count(InspectionStatus.PASSED)
    failed = _inspection_count(InspectionStatus.FAILED)
    held = sa.exists().where(LotHold.lot_id == Lot.id, LotHold.released_at.is_(None))
    return (
        sa.select(
            trace.c.lot_id,
            trace.c.depth,
            trace.c.via,
            Lot.code,
            Lot.quantity,
            Product.code.label("product_code"),
            Product.name.label("product_name"),
            passed.label("passed"),
            failed.label("failed"),
            held.label("held"),
            ProductionRecord.order_id,
            sa.func.coalesce(ProductionOrder.number, sa.cast(ProductionRecord.order_id, sa.String)).label("order"),
            ProductionRecord.operation_sequence,
            Machine.code.label("machine_code"),
            Employee.name.label("employee_name"),
            ProductionRecord.reported_at,
            ProductionRecord.good,
            ProductionRecord.scrap,
        )
        .select_from(trace)
        .join(Lot, Lot.id == trace.c.lot_id)
        .outerjoin(Product, Product.id == Lot.product_id)
        .outerjoin(ProductionRecord, ProductionRecord.output_lot_id == Lot.id)
        .outerjoin(ProductionOrder, ProductionOrder.order_id == ProductionRecord.order_id)
        .outerjoin(Machine, Machine.id == ProductionRecord.machine_id)
        .outerjoin(Employee, Employee.id == ProductionRecord.employee_id)
        .order_by(trace.c.depth, Lot.code, ProductionRecord.reported_at)
    )


def _inspection_count(status: InspectionStatus) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.count(Inspection.id))
        .where(Inspection.lot_id == Lot.id, Inspection.status == status)
        .correlate(Lot)
        .scalar_subquery()
    )


def trace(session: Session, lot: Lot, direction: Direction) -> list[Node]:
    """The lots reached from ``lot``, nearest first, each with how it was made and inspected."""
    nodes: dict[int, Node] = {}
    seen_records: set[tuple] = set()
    for row in session.execute(trace_statement(lot.id, direction)):
        node = nodes.get(row.lot_id)
        if node is None:
            node = nodes[row.lot_id] = Node(
                lot_id=row.lot_id,
                code=row.code,
                depth=row.depth,
                product_code=row.product_code,
                product_name=row.product_name,
                quantity=row.quantity,
                passed=row.passed,
                failed=row.failed,
                held=bool(row.held),
            )
        node.depth = min(node.depth, row.depth)
        if row.via is not None:
            node.via.add(row.via)
        record_key = (row.order_id, row.operation_sequence, row.reported_at, row.machine_code, row.employee_name)
        if row.reported_at is not None and (row.lot_id, *record_key) not in seen_records:
            seen_records.add((row.lot_id, *record_key))
            node.made.append(
                Made(
                    row.order_id,
                    row.order,
                    row.operation_sequence,
                    row.machine_code,
                    row.employee_name,
                    row.reported_at,
                    row.good,
                    row.scrap,
                )
            )
    return sorted(nodes.values(), key=lambda n: (n.depth, n.code))


def inspections_of(session: Session, lot_ids: list[int]) -> dict[int, list[Inspection]]:
    """The inspections of the traced lots, newest first (one query)."""
    found: dict[int, list[Inspection]] = {}
    if not lot_ids:
        return found
    statement = (
        sa.select(Inspection)
        .where(Inspection.lot_id.in_(lot_ids))
        .options(selectinload(Inspection.results), selectinload(Inspection.plan))
        .order_by(Inspection.inspected_at.desc())
    )
    for inspection in session.scalars(statement):
        found.setdefault(inspection.lot_id, []).append(inspection)
    return found


def orders_reached(nodes: list[Node]) -> list[str]:
    """The orders that made any of the traced lots (what a forward trace from a material lot asks)."""
    return sorted({m.order_number for n in nodes for m in n.made if m.order_number})
