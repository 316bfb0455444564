"""Quality's own copy of production: orders, operations, reports and lots, kept from the orders app's events.

Payload keys used (``platform_core.events`` declares the guaranteed ones; the others are read when present):

* ``orders.order_released``: order_id, number, product_code, quantity, [operations: operation_id, sequence,
  name, work_center_id];
* ``orders.operation_reported``: order_id, operation_id, machine_id, employee_id, good, scrap, rework,
  scrap_reason_code, output_lot, consumed_lots, reported_at, [report_id, sequence];
* ``orders.operation_started`` (see :mod:`apps.quality.sampling`): order_id, operation_id, machine_id,
  employee_id, started_at, [sequence].
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.quality.common import product_by_code
from apps.quality.models import Lot, LotLink, ProductionOperation, ProductionOrder, ProductionRecord
from platform_core.db import utcnow
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, WorkCenter

MAX_LOT_CODE = 64


def parse_time(value: Any, default: dt.datetime | None = None) -> dt.datetime:
    """An ISO timestamp from a payload as an aware UTC datetime (naive values are read as UTC)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = default or utcnow()
    else:
        parsed = default or utcnow()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def clean_lot(code: Any) -> str | None:
    """Lot codes as written, without surrounding blanks; empty is no lot (as the orders app reads them)."""
    code = str(code or "").strip()[:MAX_LOT_CODE]
    return code or None


def record_order(session: Session, payload: dict[str, Any], at: dt.datetime) -> ProductionOrder:
    order = session.scalar(sa.select(ProductionOrder).where(ProductionOrder.order_id == payload["order_id"]))
    if order is None:
        order = ProductionOrder(order_id=payload["order_id"], released_at=at)
        session.add(order)
    order.number = str(payload.get("number") or payload["order_id"])
    order.product_code = str(payload.get("product_code") or "")
    order.product = product_by_code(session, order.product_code)
    order.quantity = int(payload.get("quantity") or 0)
    for item in payload.get("operations") or ():
        operation = ensure_operation(session, item["operation_id"], payload["order_id"], item.get("sequence"))
        operation.name = item.get("name")
        work_center_id = item.get("work_center_id")
        operation.work_center_id = work_center_id if session.get(WorkCenter, work_center_id or 0) else None
    session.flush()
    return order


def ensure_operation(
    session: Session, operation_id: int, order_id: int | None, sequence: int | None
) -> ProductionOperation:
    operation = session.scalar(sa.select(ProductionOperation).where(ProductionOperation.operation_id == operation_id))
    if operation is None:
        operation = ProductionOperation(operation_id=operation_id, order_id=order_id or 0)
        session.add(operation)
    if sequence is not None:
        operation.sequence = sequence
    return operation


def order_of(session: Session, order_id: int | None) -> ProductionOrder | None:
    if order_id is None:
        return None
    return session.scalar(sa.select(ProductionOrder).where(ProductionOrder.order_id == order_id))


def operation_of(session: Session, operation_id: int | None) -> ProductionOperation | None:
    if operation_id is None:
        return None
    return session.scalar(sa.select(ProductionOperation).where(ProductionOperation.operation_id == operation_id))


def get_lot(session: Session, code: str, product_id: int | None = None) -> Lot:
    """The lot of that code, created when first named; a product learnt later is filled in."""
    lot = session.scalar(sa.select(Lot).where(Lot.code == code))
    if lot is None:
        lot = Lot(code=code, product_id=product_id)
        session.add(lot)
        session.flush()
    elif lot.product_id is None and product_id is not None:
        lot.product_id = product_id
    return lot


def find_lot(session: Session, code: str | None) -> Lot | None:
    code = clean_lot(code)
    return None if code is None else session.scalar(sa.select(Lot).where(Lot.code == code))


def link(session: Session, parent: Lot, child: Lot) -> None:
    exists = sa.select(LotLink.id).where(LotLink.parent_id == parent.id, LotLink.child_id == child.id)
    if parent.id != child.id and session.scalar(exists) is None:
        session.add(LotLink(parent_id=parent.id, child_id=child.id))


def known(session: Session, model: type, record_id: Any) -> int | None:
    """``record_id`` if it names a record of the factory, else None (payloads are not trusted blindly)."""
    if not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1:
        return None
    return record_id if session.get(model, record_id) is not None else None


def record_report(session: Session, event_id: str, payload: dict[str, Any], at: dt.datetime) -> ProductionRecord:
    """A report's production record, output lot and genealogy links (once per event)."""
    existing = session.scalar(sa.select(ProductionRecord).where(ProductionRecord.event_id == event_id))
    if existing is not None:
        return existing
    order = order_of(session, payload.get("order_id"))
    operation = operation_of(session, payload.get("operation_id"))
    if operation is None and payload.get("operation_id") is not None:
        operation = ensure_operation(session, payload["operation_id"], payload.get("order_id"), payload.get("sequence"))
    product_id = order.product_id if order else None
    output_code = clean_lot(payload.get("output_lot"))
    output = get_lot(session, output_code, product_id) if output_code else None
    consumed = [code for code in (clean_lot(c) for c in payload.get("consumed_lots") or ()) if code]
    good = int(payload.get("good") or 0)
    if output is not None:
        output.quantity += good
        for code in dict.fromkeys(consumed):
            if code != output.code:
                link(session, get_lot(session, code), output)
    record = ProductionRecord(
        event_id=event_id,
        report_id=payload.get("report_id"),
        order_id=payload.get("order_id"),
        operation_id=payload.get("operation_id"),
        operation_sequence=payload.get("sequence", operation.sequence if operation else None),
        product_id=product_id,
        machine_id=known(session, Machine, payload.get("machine_id")),
        employee_id=known(session, Employee, payload.get("employee_id")),
        output_lot=output,
        consumed=consumed,
        good=good,
        scrap=int(payload.get("scrap") or 0),
        rework=int(payload.get("rework") or 0),
        scrap_reason_code=payload.get("scrap_reason_code"),
        reported_at=parse_time(payload.get("reported_at"), at),
    )
    session.add(record)
    session.flush()
    return record


def pieces_reported(session: Session, operation_id: int) -> int:
    """Pieces (good, scrap and rework) reported on an operation so far."""
    total = ProductionRecord.good + ProductionRecord.scrap + ProductionRecord.rework
    statement = sa.select(sa.func.coalesce(sa.func.sum(total), 0)).where(ProductionRecord.operation_id == operation_id)
    return int(session.scalar(statement))
