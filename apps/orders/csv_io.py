"""Work orders from and to CSV: the ERP's export in, the order list out.

Import is all or nothing: every row is checked, inside a savepoint that any error (or a check-only run) rolls
back. Errors name the row as the spreadsheet shows it (header = row 1) and the column as the file spells it.
The file may be UTF-8 (with or without Excel's BOM) or GBK, comma, semicolon or tab separated, with English or
Chinese headers (the master-data import's readers). An ERP export repeats yesterday's orders, so a known
number is not an error: unchanged rows are skipped, a draft is updated, an open order takes new dates, priority
and references, but its product and quantity stay as released.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from apps.orders import work_orders
from apps.orders.models import OrderStatus, Routing, WorkOrder
from platform_core.csvsafe import csv_bytes
from platform_core.errors import DomainError
from platform_core.masterdata import imports as sheets
from platform_core.masterdata.models import Product

COLUMNS = (
    sheets.Column("number", ("工单号", "生产工单号", "订单号"), _l("Work order number"), sheets.as_text(64),
                  required=True),
    sheets.Column("product", ("产品编码", "物料编码", "产品"), _l("Product code"), required=True),
    sheets.Column("quantity", ("数量", "计划数量"), _l("Quantity to make"), sheets.as_int(1, 10_000_000),
                  required=True),
    sheets.Column("due_date", ("交期", "交货日期", "完工日期"), _l("Due date, e.g. 2026-12-01"), sheets.as_date),
    sheets.Column("priority", ("优先级",), _l("1 (most urgent) to 9, default 5"), sheets.as_int(1, 9),
                  blank_keeps=True),
    sheets.Column("customer", ("客户",), _l("Customer"), sheets.as_text(200)),
    sheets.Column("sales_order", ("销售订单", "销售订单号"), _l("Sales order reference"), sheets.as_text(64)),
    sheets.Column("notes", ("备注",), _l("Notes"), sheets.as_text(1000)),
    sheets.Column("routing_version", ("工艺版本", "工艺路线版本"), _l("Routing version (default: the active one)"),
                  sheets.as_int(1, 9999)),
)  # fmt: skip
SHEET = sheets.Sheet("work-orders", WorkOrder, _l("Work orders"), COLUMNS, key=("number",))
REFERENCE_FIELDS = ("due_date", "priority", "customer", "sales_order", "notes")
EXPORT_EXTRA = ("status", "good_qty", "released_at", "completed_at")
# service field -> file column, for errors the services raise
COLUMN_OF = {
    **{c.key: c.key for c in COLUMNS},
    "product_id": "product",
    "routing": "routing_version",
    "routing_id": "routing_version",
}


@dataclass
class ImportResult:
    dry_run: bool
    release: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    released: int = 0
    errors: list[dict] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more_errors

    def error(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) >= sheets.MAX_ERRORS:
            self.more_errors += 1
        else:
            self.errors.append({"row": row, "column": column, "message": message})

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "release": self.release,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "released": self.released,
        }


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    headers: dict[str, str]


def _read(content: bytes, result: ImportResult) -> list[_Row]:
    if content.startswith(b"PK\x03\x04"):
        raise sheets.FileProblem(_("This is a workbook; save it as CSV (UTF-8 or GBK) and upload that."))
    table = sheets.read_csv(sheets.decode(content))
    skipped = 0
    while table and not any(c.strip() for c in table[0]):
        table.pop(0)  # blank lines above the header are tolerated; row numbers still count them
        skipped += 1
    if not table:
        raise sheets.FileProblem(_("The file is empty."))
    # The export's own columns (status, progress) are read back without complaint and ignored.
    ignored = {i for i, text in enumerate(table[0]) if text.strip().lower() in EXPORT_EXTRA}
    header = ["" if i in ignored else text for i, text in enumerate(table[0])]
    mapping = sheets.map_header(SHEET, header)
    headers = {column.key: header[i].strip() for i, column in mapping.items()}
    rows = []
    for number, cells in enumerate(table[1:], start=skipped + 2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) == sheets.MAX_ROWS:
            raise sheets.FileProblem(_("The file has more than %(n)d rows; split it.", n=sheets.MAX_ROWS))
        if any(c.strip() for i, c in enumerate(cells) if i not in mapping and i not in ignored):
            result.error(number, None, _("This row has values in columns without a header."))
        rows.append(_Row(number, {c.key: (cells[i] if i < len(cells) else "") for i, c in mapping.items()}, headers))
    if not rows:
        raise sheets.FileProblem(_("The file has a header but no rows."))
    return rows


class _Importer:
    def __init__(self, session: Session, result: ImportResult) -> None:
        self.session, self.result = session, result
        self.products = {p.code: p for p in session.scalars(sa.select(Product))}

    def error(self, row: _Row, key: str | None, message: str) -> None:
        self.result.error(row.number, row.headers.get(key, key) if key else None, message)

    def parse(self, row: _Row) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        ok = True
        for column in COLUMNS:
            if column.key not in row.cells:
                continue
            text = row.cells[column.key].strip()
            if not text:
                if column.required:
                    self.error(row, column.key, _("Required."))
                    ok = False
                elif not column.blank_keeps:
                    data[column.key] = None
                continue
            if column.key == "product":
                data["product"] = self.products.get(text)
                if data["product"] is None:
                    self.error(row, "product", _("No product with code %(code)s.", code=text))
                    ok = False
                continue
            try:
                data[column.key] = column.parse(text)
            except sheets.CellProblem as problem:
                self.error(row, column.key, str(problem))
                ok = False
        if ok and data.get("routing_version") is not None:
            routing = self.session.scalar(
                sa.select(Routing).where(
                    Routing.product_id == data["product"].id, Routing.version == data["routing_version"]
                )
            )
            if routing is None:
                self.error(
                    row,
                    "routing_version",
                    _(
                        "Product %(code)s has no routing version %(version)d.",
                        code=data["product"].code,
                        version=data["routing_version"],
                    ),
                )
                ok = False
            data["routing"] = routing
        data.pop("routing_version", None)
        return data if ok else None

    def apply(self, row: _Row, data: dict[str, Any]) -> WorkOrder | None:
        number = data.pop("number")
        order = self.session.scalar(sa.select(WorkOrder).where(WorkOrder.number == number))
        if order is None:
            order = work_orders.create_order(self.session, number=number, **data)
            self.result.created += 1
            return order
        changes = {name: value for name, value in data.items() if getattr(order, name) != value}
        if not changes:
            self.result.unchanged += 1
            return None
        if order.status is not OrderStatus.DRAFT:
            # An open order takes new dates, priority and references; anything else stays as released.
            refused = sorted(set(changes) - set(REFERENCE_FIELDS))
            if order.status not in work_orders.OPEN_STATUSES:
                refused = ["number"]
            if refused:
                message = _(
                    "Work order %(number)s is already %(status)s; change it in the MES.",
                    number=number,
                    status=work_orders.status_label(order.status),
                )
                for key in refused:
                    self.error(row, COLUMN_OF.get(key, key), message)
                return None
        work_orders.update_order(self.session, order, changes)
        self.result.updated += 1
        return None

    def run(self, rows: list[_Row]) -> None:
        seen: dict[str, int] = {}
        created: list[tuple[_Row, WorkOrder]] = []
        for row in rows:
            data = self.parse(row)
            if data is None:
                continue
            if data["number"] in seen:
                self.error(row, "number", _("Appears already in row %(row)d of this file.", row=seen[data["number"]]))
                continue
            seen[data["number"]] = row.number
            try:
                with self.session.begin_nested():
                    order = self.apply(row, data)
                    if order is not None:
                        created.append((row, order))
            except DomainError as error:
                self.domain_error(row, error)
        if self.result.release and not self.result.errors:
            for row, order in created:
                try:
                    with self.session.begin_nested():
                        work_orders.release_order(self.session, order)
                        self.result.released += 1
                except DomainError as error:
                    self.domain_error(row, error)

    def domain_error(self, row: _Row, error: DomainError) -> None:
        key = COLUMN_OF.get(next(iter(error.errors or {}), None))
        self.error(row, key, error.message)


def import_orders(session: Session, content: bytes, *, release: bool = False, dry_run: bool = False) -> ImportResult:
    """Check a whole CSV file and, when every row is good and it is not a dry run, write it (and release it)."""
    result = ImportResult(dry_run=dry_run, release=release)
    try:
        rows = _read(content, result)
    except sheets.FileProblem as problem:
        result.error(problem.row, problem.column, problem.message)
        return result
    except sheets.HeaderProblems as problems:
        for error in problems.errors:
            result.error(**error)
        return result
    result.rows = len(rows)
    savepoint = session.begin_nested()
    try:
        _Importer(session, result).run(rows)
    finally:
        if result.errors or result.dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
    if result.errors:
        result.created = result.updated = result.unchanged = result.released = 0
    return result


# --- export -------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value.value if hasattr(value, "value") else value)


def export_orders(session: Session, statement: sa.Select) -> bytes:
    """The orders of ``statement`` as CSV the import reads back (UTF-8 with BOM, so Excel shows Chinese).

    ERP text (customer, sales order, notes) is escaped so that a spreadsheet never runs it as a formula.
    """
    rows = (
        [
            order.number,
            order.product.code,
            str(order.quantity),
            _text(order.due_date),
            str(order.priority),
            order.customer or "",
            order.sales_order or "",
            order.notes or "",
            str(order.routing.version) if order.routing else "",
            order.status.value,
            str(order.good_qty),
            _text(order.released_at),
            _text(order.completed_at),
        ]
        for order in session.scalars(statement)
    )
    return csv_bytes([c.key for c in COLUMNS] + list(EXPORT_EXTRA), rows)
