"""Helpers shared by the quality pages: loading records, reading forms, formatting numbers and labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, request
from flask_babel import gettext as _

from apps.quality import labels
from apps.quality.common import acting_name  # noqa: F401 - the pages import it from here
from platform_core.db import db
from platform_core.errors import ValidationFailed

VIEW, INSPECT, DISPOSITION, CONFIGURE = "quality.view", "quality.inspect", "quality.disposition", "quality.configure"

# Defined here, beside what every page module shares, so the pages register on it without importing the module
# that imports them (apps/quality/blueprint.py).
bp = Blueprint("quality", "apps.quality", template_folder="templates")


def load(model: type, record_id: int):
    """The factory's record, or 404 (another factory's id looks like one that does not exist)."""
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


def text(name: str, limit: int = 1000) -> str | None:
    value = (request.form.get(name) or "").strip()
    return value[:limit] or None


def number(name: str, errors: dict, *, integer: bool = False, required: bool = False) -> Any:
    """A number from the form; a field error (not an exception) when it is not one."""
    raw = (request.form.get(name) or "").strip().replace("，", ".").replace(",", ".")
    if not raw:
        if required:
            errors.setdefault(name, []).append(_("Required."))
        return None
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        errors.setdefault(name, []).append(_("Not a number."))
        return None


def flat_errors(exc: ValidationFailed) -> dict[str, list[str]]:
    """A service's nested field errors as ``{"results.0.values": [...]}`` for the page to show."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        else:
            flat.setdefault(prefix, []).extend(node if isinstance(node, list) else [str(node)])

    for location in (exc.errors or {}).values():
        walk("", location)
    return flat


@bp.app_template_filter("q_num")
def format_number(value: Any, decimals: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{decimals}f}"


@bp.app_template_filter("q_pct")
def format_percent(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{decimals}f}%"


@bp.context_processor
def _quality_context() -> dict[str, Any]:
    return {
        "q_label": lambda mapping, value: labels.label(getattr(labels, mapping), value),
        "q_now": dt.datetime.now(dt.UTC),
    }
