"""Quality KPIs over a period: first-pass yield, defect Pareto, PPM, scrap cost, NCR ageing; each as rows that
the pages chart and export as CSV.

* First-pass yield (FPY) of a product's operation = good / (good + scrap + rework) of the reports; the rolled
  throughput yield of a product is the product of its operations' FPYs.
* Defect Pareto: scrapped pieces by scrap reason (reports) plus defects found by inspections by defect code,
  largest first, with the cumulative share.
* PPM: nonconforming pieces (scrap and rework) per million reported.
* Scrap cost: scrapped pieces × the product's unit cost (``quality_product_costs``).
* NCR ageing: open NCRs by days since raised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.quality.common import defect_labels
from apps.quality.models import (
    Characteristic,
    CharacteristicKind,
    InspectionResult,
    NcrStatus,
    Nonconformance,
    ProductCost,
    ProductionRecord,
)
from platform_core.csvsafe import escape_cell
from platform_core.db import utcnow
from platform_core.masterdata.models import Product

AGE_BUCKETS = ((0, 7), (8, 30), (31, 90), (91, None))


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def last_days(cls, days: int, now: dt.datetime | None = None) -> Period:
        end = now or utcnow()
        return cls(end - dt.timedelta(days=days), end)


def _products(session: Session, ids) -> dict[int, Product]:
    ids = {i for i in ids if i is not None}
    return {p.id: p for p in session.scalars(sa.select(Product).where(Product.id.in_(ids)))} if ids else {}


def first_pass_yield(session: Session, period: Period) -> list[dict]:
    rows = session.execute(
        sa.select(
            ProductionRecord.product_id,
            ProductionRecord.operation_sequence,
            sa.func.sum(ProductionRecord.good),
            sa.func.sum(ProductionRecord.scrap),
            sa.func.sum(ProductionRecord.rework),
        )
        .where(ProductionRecord.reported_at >= period.start, ProductionRecord.reported_at < period.end)
        .group_by(ProductionRecord.product_id, ProductionRecord.operation_sequence)
    ).all()
    products = _products(session, (r[0] for r in rows))
    out = []
    for product_id, sequence, good, scrap, rework in rows:
        total = int(good or 0) + int(scrap or 0) + int(rework or 0)
        product = products.get(product_id)
        out.append(
            {
                "product": product.code if product else "-",
                "product_name": product.name if product else "",
                "operation": sequence,
                "good": int(good or 0),
                "scrap": int(scrap or 0),
                "rework": int(rework or 0),
                "fpy": (int(good or 0) / total) if total else None,
            }
        )
    out.sort(key=lambda r: (r["product"], r["operation"] if r["operation"] is not None else -1))
    return out


def rolled_throughput_yield(fpy_rows: list[dict]) -> dict[str, float]:
    """Per product, the chance a piece passes every operation first time (the product of the FPYs)."""
    per_product: dict[str, float] = {}
    for row in fpy_rows:
        if row["fpy"] is not None:
            per_product[row["product"]] = per_product.get(row["product"], 1.0) * row["fpy"]
    return per_product


def defect_pareto(session: Session, period: Period, locale: str) -> list[dict]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"scrap": 0, "inspection": 0})
    scrap_rows = session.execute(
        sa.select(ProductionRecord.scrap_reason_code, sa.func.sum(ProductionRecord.scrap))
        .where(
            ProductionRecord.reported_at >= period.start,
            ProductionRecord.reported_at < period.end,
            ProductionRecord.scrap > 0,
        )
        .group_by(ProductionRecord.scrap_reason_code)
    )
    for code, quantity in scrap_rows:
        counts[code or "?"]["scrap"] += int(quantity or 0)
    found = session.scalars(
        sa.select(InspectionResult.defect_counts)
        .join(Characteristic, Characteristic.id == InspectionResult.characteristic_id)
        .where(
            Characteristic.kind == CharacteristicKind.ATTRIBUTE,
            InspectionResult.inspected_at >= period.start,
            InspectionResult.inspected_at < period.end,
        )
    )
    for defect_counts in found:
        for code, number in (defect_counts or {}).items():
            counts[code]["inspection"] += int(number)
    labels = defect_labels(session, locale)
    total = sum(c["scrap"] + c["inspection"] for c in counts.values())
    rows = sorted(
        ({"code": code, **c, "count": c["scrap"] + c["inspection"]} for code, c in counts.items()),
        key=lambda r: (-r["count"], r["code"]),
    )
    running = 0
    for row in rows:
        running += row["count"]
        row["name"] = labels.get(row["code"], row["code"])
        row["share"] = row["count"] / total if total else 0.0
        row["cumulative"] = running / total if total else 0.0
    return rows


def ppm(session: Session, period: Period) -> list[dict]:
    rows = []
    totals = {"good": 0, "scrap": 0, "rework": 0}
    by_product: dict[str, dict[str, int]] = defaultdict(lambda: {"good": 0, "scrap": 0, "rework": 0})
    for row in first_pass_yield(session, period):
        for key in totals:
            by_product[row["product"]][key] += row[key]
            totals[key] += row[key]
    for product, c in sorted(by_product.items()):
        rows.append({"product": product, **c, "ppm": _ppm(c)})
    rows.append({"product": "*", **totals, "ppm": _ppm(totals)})
    return rows


def _ppm(counts: dict[str, int]) -> float | None:
    total = counts["good"] + counts["scrap"] + counts["rework"]
    return (counts["scrap"] + counts["rework"]) / total * 1e6 if total else None


def scrap_cost(session: Session, period: Period) -> list[dict]:
    rows = session.execute(
        sa.select(ProductionRecord.product_id, sa.func.sum(ProductionRecord.scrap))
        .where(
            ProductionRecord.reported_at >= period.start,
            ProductionRecord.reported_at < period.end,
            ProductionRecord.scrap > 0,
        )
        .group_by(ProductionRecord.product_id)
    ).all()
    products = _products(session, (r[0] for r in rows))
    costs = {c.product_id: c for c in session.scalars(sa.select(ProductCost))}
    out = []
    for product_id, scrapped in rows:
        cost = costs.get(product_id)
        product = products.get(product_id)
        unit = float(cost.unit_cost) if cost else None
        out.append(
            {
                "product": product.code if product else "-",
                "product_name": product.name if product else "",
                "scrap": int(scrapped or 0),
                "unit_cost": unit,
                "currency": cost.currency if cost else None,
                "cost": round(unit * int(scrapped or 0), 2) if unit is not None else None,
            }
        )
    return sorted(out, key=lambda r: -(r["cost"] or 0.0))


def ncr_ageing(session: Session, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    open_ncrs = session.scalars(
        sa.select(Nonconformance)
        .where(Nonconformance.status.not_in((NcrStatus.CLOSED, NcrStatus.CANCELLED)))
        .order_by(Nonconformance.raised_at)
    ).all()
    buckets = [{"from": low, "to": high, "count": 0} for low, high in AGE_BUCKETS]
    items = []
    for ncr in open_ncrs:
        age = max(0, math.floor((now - ncr.raised_at).total_seconds() / 86400))
        for bucket in buckets:
            if age >= bucket["from"] and (bucket["to"] is None or age <= bucket["to"]):
                bucket["count"] += 1
        items.append({"number": ncr.number, "title": ncr.title, "status": ncr.status.value, "age_days": age})
    closed = session.execute(
        sa.select(Nonconformance.raised_at, Nonconformance.closed_at).where(
            Nonconformance.status == NcrStatus.CLOSED, Nonconformance.closed_at >= now - dt.timedelta(days=90)
        )
    ).all()
    days = [(c - r).total_seconds() / 86400 for r, c in closed]
    return {"buckets": buckets, "open": items, "mean_days_to_close": sum(days) / len(days) if days else None}


KPIS = ("fpy", "pareto", "ppm", "scrap_cost", "ncr_ageing")


def table(session: Session, kpi: str, period: Period, locale: str) -> tuple[list[str], list[list]]:
    """A KPI as a header and rows (for CSV export)."""
    if kpi == "fpy":
        rows = first_pass_yield(session, period)
        head = ["product", "product_name", "operation", "good", "scrap", "rework", "fpy"]
    elif kpi == "pareto":
        rows = defect_pareto(session, period, locale)
        head = ["code", "name", "scrap", "inspection", "count", "share", "cumulative"]
    elif kpi == "ppm":
        rows = ppm(session, period)
        head = ["product", "good", "scrap", "rework", "ppm"]
    elif kpi == "scrap_cost":
        rows = scrap_cost(session, period)
        head = ["product", "product_name", "scrap", "unit_cost", "currency", "cost"]
    elif kpi == "ncr_ageing":
        rows = ncr_ageing(session)["open"]
        head = ["number", "title", "status", "age_days"]
    else:
        raise ValueError(f"unknown KPI {kpi!r}")
    return head, [[_cell(r.get(h)) for h in head] for r in rows]


def _cell(value):
    if isinstance(value, float):
        return round(value, 6)
    return "" if value is None else value


def to_csv(head: list[str], rows: list[list]) -> str:
    """CSV with a byte-order mark, so that Excel opens the Chinese names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head)
    for row in rows:
        writer.writerow([escape_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return "\ufeff" + buffer.getvalue()
