"""Pages for supervisors and managers: the live board (htmx polling) and the KPIs (Chart.js, CSV export)."""

from __future__ import annotations

import json

from flask import render_template, request

from apps.orders import execution, supervision, work_orders
from platform_core.db import db

KPI_PERIODS = (7, 30, 90)


def _board_context() -> dict:
    return {
        "board": supervision.live_board(db.session),
        "op_status_label": execution.status_label,
        "status_label": work_orders.status_label,
    }


def board():
    return render_template("orders/board.html", **_board_context())


def board_live():
    """The board's content alone, polled every few seconds."""
    return render_template("orders/_board.html", **_board_context())


def kpis():
    days = request.args.get("days", 30, type=int)
    days = days if days in KPI_PERIODS else 30
    result = supervision.kpis(db.session, days=days)
    return render_template(
        "orders/kpis.html",
        kpis=result,
        days=days,
        periods=KPI_PERIODS,
        series=json.dumps(supervision.chart_series(result.days)),
    )
