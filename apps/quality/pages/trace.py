"""Traceability (backward and forward from a lot) and the KPI page with its CSV exports."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _

from apps.quality import genealogy, kpis, labels
from apps.quality.models import Lot
from apps.quality.pages.common import VIEW, bp, load
from apps.quality.production import find_lot
from platform_core.db import db
from platform_core.identity.auth import permission_required
from platform_core.web import current_language

PERIODS = (7, 30, 90)


def _trace_page(lot: Lot | None, code: str, direction: genealogy.Direction):
    nodes, found, orders = [], {}, []
    if lot is not None:
        nodes = genealogy.trace(db.session, lot, direction)
        found = genealogy.inspections_of(db.session, [n.lot_id for n in nodes])
        orders = genealogy.orders_reached(nodes)
    return render_template(
        "quality/trace.html",
        lot=lot,
        code=code,
        direction=direction.value,
        nodes=nodes,
        inspections=found,
        orders=orders,
        names={n.lot_id: n.code for n in nodes},
    )


def _direction() -> genealogy.Direction:
    return genealogy.Direction.FORWARD if request.args.get("direction") == "forward" else genealogy.Direction.BACKWARD


@bp.get("/trace")
@permission_required(VIEW)
def trace_page():
    code = (request.args.get("lot") or "").strip()
    return _trace_page(find_lot(db.session, code) if code else None, code, _direction())


@bp.get("/lots/<int:quality_lot_id>")
@permission_required(VIEW)
def lot_page(quality_lot_id: int):
    lot = load(Lot, quality_lot_id)
    return _trace_page(lot, lot.code, _direction())


def _days() -> int:
    days = request.args.get("days", 30, type=int)
    return days if days in PERIODS else 30


@bp.get("/kpis")
@permission_required(VIEW)
def kpi_page():
    days = _days()
    period = kpis.Period.last_days(days)
    language = current_language()
    fpy = kpis.first_pass_yield(db.session, period)
    pareto = kpis.defect_pareto(db.session, period, language)
    cost = kpis.scrap_cost(db.session, period)
    ageing = kpis.ncr_ageing(db.session)
    fpy_chart = {
        "kind": "bar",
        "labels": [f"{r['product']} · {r['operation'] or '-'}" for r in fpy],
        "series": [{"label": _("First-pass yield"), "data": [round((r["fpy"] or 0) * 100, 2) for r in fpy]}],
        "unit": "%",
    }
    pareto_chart = {
        "kind": "pareto",
        "labels": [r["name"] for r in pareto],
        "series": [
            {"label": _("Defects"), "data": [r["count"] for r in pareto]},
            {"label": _("Cumulative share"), "data": [round(r["cumulative"] * 100, 1) for r in pareto]},
        ],
    }
    cost_chart = {
        "kind": "bar",
        "labels": [r["product"] for r in cost],
        "series": [{"label": _("Scrap cost"), "data": [r["cost"] or 0 for r in cost]}],
    }
    ageing_chart = {
        "kind": "bar",
        "labels": [_bucket(b) for b in ageing["buckets"]],
        "series": [{"label": _("Open NCRs"), "data": [b["count"] for b in ageing["buckets"]]}],
    }
    return render_template(
        "quality/kpis.html",
        days=days,
        periods=PERIODS,
        fpy=fpy,
        rty=kpis.rolled_throughput_yield(fpy),
        pareto=pareto,
        ppm=kpis.ppm(db.session, period),
        cost=cost,
        ageing=ageing,
        charts={"fpy": fpy_chart, "pareto": pareto_chart, "cost": cost_chart, "ageing": ageing_chart},
        kpi_names=labels.KPI,
    )


def _bucket(bucket: dict) -> str:
    if bucket["to"] is None:
        return _("over %(days)s days", days=bucket["from"] - 1)
    return _("%(low)s–%(high)s days", low=bucket["from"], high=bucket["to"])


@bp.get("/kpis.csv")
@permission_required(VIEW)
def kpi_csv():
    kpi = request.args.get("kpi", "fpy")
    if kpi not in kpis.KPIS:
        kpi = "fpy"
    days = _days()
    head, rows = kpis.table(db.session, kpi, kpis.Period.last_days(days), current_language())
    filename = f"quality-{kpi}-{days}d.csv"
    return Response(
        kpis.to_csv(head, rows),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
