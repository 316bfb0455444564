"""Control-chart pages: the list, a chart with its zones and violations, limits history, capability, the
phase-I baseline form, and alarms with their acknowledgement."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from apps.quality import alarms, control
from apps.quality.models import AlarmStatus, ControlChart, ControlLimits, QualityAlarm
from apps.quality.pages.common import CONFIGURE, INSPECT, VIEW, acting_name, bp, flat_errors, load, text
from platform_core.db import db
from platform_core.errors import DomainError, ValidationFailed
from platform_core.identity.auth import permission_required
from platform_core.web.redirects import local_path


@bp.get("/charts")
@permission_required(VIEW)
def chart_list():
    charts = db.session.scalars(
        sa.select(ControlChart)
        .options(selectinload(ControlChart.product))
        .order_by(ControlChart.plan_code, ControlChart.characteristic_code)
    ).all()
    open_counts = dict(
        db.session.execute(
            sa.select(QualityAlarm.chart_id, sa.func.count())
            .where(QualityAlarm.status == AlarmStatus.OPEN)
            .group_by(QualityAlarm.chart_id)
        ).all()
    )
    phases = {chart.id: control.state(db.session, chart).phase for chart in charts}
    return render_template("quality/charts.html", charts=charts, open_counts=open_counts, phases=phases)


@bp.get("/charts/<int:control_chart_id>")
@permission_required(VIEW)
def chart_page(control_chart_id: int):
    chart = load(ControlChart, control_chart_id)
    data = control.payload(db.session, chart, limit=request.args.get("points", 100, type=int))
    capability, extra = control.capability(db.session, chart)
    history = db.session.scalars(
        sa.select(ControlLimits).where(ControlLimits.chart_id == chart.id).order_by(ControlLimits.version.desc())
    ).all()
    return render_template(
        "quality/chart.html",
        chart=chart,
        data=data,
        history=history,
        capability=capability,
        warnings=list(capability.warnings if capability else ()) + extra,
        alarms=db.session.scalars(control.open_alarms(chart)).all(),
        suspects=[p for p in data["points"] if p["rules"] or p["secondary_out"]],
        describe=alarms.describe_alarm,
        rule_names=alarms.RULE_NAMES,
    )


def _moment(name: str, errors: dict) -> dt.datetime | None:
    raw = text(name, 20)
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("Not a date.")]
        return None
    zone = get_timezone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start if name == "since" else start + dt.timedelta(days=1)


@bp.post("/charts/<int:control_chart_id>/limits")
@permission_required(CONFIGURE)
def fix_limits(control_chart_id: int):
    chart = load(ControlChart, control_chart_id)
    errors: dict[str, list[str]] = {}
    since, until = _moment("since", errors), _moment("until", errors)
    exclude = [int(v) for v in request.form.getlist("exclude") if v.isdigit()]
    if not errors:
        try:
            record = control.fix_limits(
                db.session, chart, by=acting_name(), since=since, until=until, exclude=exclude, note=text("note", 500)
            )
        except ValidationFailed as exc:
            errors = flat_errors(exc)
        else:
            flash(_("Limits version %(version)s are in force.", version=record.version), "success")
            return redirect(url_for("quality.chart_page", control_chart_id=chart.id))
    flash(" ".join(m for ms in errors.values() for m in ms), "error")
    return redirect(url_for("quality.chart_page", control_chart_id=chart.id))


@bp.post("/charts/<int:control_chart_id>/rules")
@permission_required(CONFIGURE)
def chart_rules(control_chart_id: int):
    chart = load(ControlChart, control_chart_id)
    chosen = [int(v) for v in request.form.getlist("rules") if v.isdigit()]
    try:
        control.set_rules(db.session, chart, chosen)
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        flash(_("The chart now checks rules %(rules)s.", rules=", ".join(map(str, chart.rules))), "success")
    return redirect(url_for("quality.chart_page", control_chart_id=chart.id))


@bp.post("/alarms/<int:spc_alarm_id>/acknowledge")
@permission_required(INSPECT)
def acknowledge_alarm(spc_alarm_id: int):
    alarm = load(QualityAlarm, spc_alarm_id)
    try:
        alarms.acknowledge(db.session, alarm, by=acting_name(), note=text("note", 500))
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Alarm acknowledged."), "success")
    target = local_path(request.form.get("next"))
    if not target or not target.startswith("/quality/"):  # only back into this app
        target = url_for("quality.chart_page", control_chart_id=alarm.chart_id)
    return redirect(target)
