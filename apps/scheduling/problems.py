"""Data problems found while a run is assembled, stated in words with a link to where they are fixed.

A problem is stored as plain data (kind, severity, ids and codes) and put into words when shown, so that each
reader sees it in their own language. ``error``: the order is left out of the schedule; ``warning``: it is
scheduled, but the result may not be what the planner expects; ``info``: worth knowing.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

ERROR, WARNING, INFO = "error", "warning", "info"


def problem(kind: str, severity: str, **params: Any) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, **params}


def message(item: dict[str, Any]) -> str:
    """The problem in the reader's language."""
    p = item
    texts = {
        "no_machine": lambda: _(
            "Operation %(seq)s %(name)s of %(order)s has no eligible active machine; the order is left out.",
            seq=p.get("sequence"),
            name=p.get("name"),
            order=p.get("order_number"),
        ),
        "no_calendar": lambda: _(
            "Machine %(machine)s has no shift calendar (nor has its work center, and there is no default calendar): "
            "it is planned around the clock.",
            machine=p.get("machine_code"),
        ),
        "due_past": lambda: _(
            "The due date of %(order)s (%(date)s) has passed: it will be late whatever the schedule.",
            order=p.get("order_number"),
            date=p.get("due_date"),
        ),
        "no_due_date": lambda: _(
            "%(order)s has no due date: it can never be late, so dated work goes first.", order=p.get("order_number")
        ),
        "down_unknown_end": lambda: _(
            "Machine %(machine)s is down and nobody gave an expected end: the schedule assumes it runs again at "
            "%(until)s.",
            machine=p.get("machine_code"),
            until=p.get("until"),
        ),
        "lock_dropped": lambda: _(
            "The lock of operation %(seq)s of %(order)s no longer applies (%(why)s) and was left out.",
            seq=p.get("sequence"),
            order=p.get("order_number"),
            why=_reason(p.get("reason")),
        ),
        "equipment_off": lambda: _(
            "The equipment app is not enabled: maintenance and breakdowns are not taken into account."
        ),
        "not_open": lambda: _(
            "%(order)s is no longer open (completed, on hold or cancelled) and is left out.",
            order=p.get("order_number") or p.get("order_id"),
        ),
    }
    text = texts.get(p.get("kind"))
    return text() if text else str(p.get("kind"))


def _reason(code: str | None) -> str:
    return {
        "machine": _("the machine cannot run it any more"),
        "past": _("its start has passed"),
    }.get(code or "", code or "")


def link(item: dict[str, Any]) -> str | None:
    """Where the problem is fixed, if the page exists in this installation."""
    kind = item.get("kind")
    try:
        if kind in ("no_machine", "not_open") and item.get("order_id"):
            return url_for("orders.order", order_id=item["order_id"])
        if kind in ("due_past", "no_due_date") and item.get("order_id"):
            return url_for("orders.order_edit", order_id=item["order_id"])
        if kind == "no_calendar" and item.get("machine_id"):
            return url_for("masterdata.machines_record", machine_id=item["machine_id"])
        if kind == "down_unknown_end" and item.get("machine_id"):
            return url_for("equipment.machine_page", machine_id=item["machine_id"])
    except BuildError:
        return None
    return None


def described(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Problems with their message and link, errors first."""
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return [
        {**item, "message": message(item), "link": link(item)}
        for item in sorted(items or [], key=lambda i: order.get(i.get("severity"), 3))
    ]
