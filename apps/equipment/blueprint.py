"""Equipment pages: the machine wall, a machine's page and tablet actions, downtime, OEE, alarms, maintenance
and the configuration of gateways, metrics, monitoring, alarm rules and plans."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from apps.equipment import (
    alarms,
    board,
    configuration,
    downtime,
    forms,
    labels,
    maintenance,
    oee,
    signing,
    states,
    store,
)
from apps.equipment.models import (
    Alarm,
    AlarmRule,
    AlarmTrack,
    Gateway,
    MaintenanceOrder,
    MaintenancePlan,
    Metric,
    MetricKind,
    PlanTrigger,
    RollupHour,
    RuleKind,
    Severity,
    State,
    StateInterval,
)
from apps.equipment.settings import setting
from apps.equipment.signing import factory_topic, machine_topic
from platform_core.db import db, utcnow
from platform_core.errors import DomainError, abort
from platform_core.identity.auth import current_principal, permission_required
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind, WorkCenter
from platform_core.web.redirects import local_path

bp = Blueprint("equipment", __name__, template_folder="templates")

VIEW = "equipment.view"
REPORT = "equipment.report_downtime"
MAINTAIN = "equipment.maintain"
CONFIGURE = "equipment.configure"
STATE_COLORS = {
    "running": "#2e7d32",
    "idle": "#f9a825",
    "setup": "#1565c0",
    "down": "#c62828",
    "maintenance": "#6a1b9a",
    "offline": "#78909c",
}


def _get(model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_principal().tenant.timezone)


def _local_midnight(days_back: int) -> dt.datetime:
    today = dt.datetime.now(_zone()).date() - dt.timedelta(days=days_back)
    return dt.datetime.combine(today, dt.time(0), tzinfo=_zone()).astimezone(dt.UTC)


def _period() -> tuple[int, dt.datetime, dt.datetime]:
    """The period of an analysis page: ``days`` (1, 7 or 30) up to now, starting at a local midnight."""
    days = request.args.get("days", 7, type=int)
    days = days if days in (1, 7, 30) else 7
    return days, _local_midnight(days - 1), utcnow()


@bp.app_template_filter("minutes")
def _minutes(value: float | None) -> str:
    """A duration in minutes, as people say it: 45 min, 3 h 20 min, 2 d 4 h."""
    if value is None:
        return "—"
    total = round(value)
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    return _("%(m)d min", m=minutes)


@bp.app_template_filter("percent")
def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


@bp.context_processor
def _context():
    principal = current_principal()
    return {
        "labels": labels,
        "state_label": labels.state_label,
        "can": principal.can if principal else (lambda _p: False),
        "locale": _locale(),
    }


# --- the machine wall -----------------------------------------------------------------------------------------


def _wall_context() -> dict:
    work_center_id = request.args.get("work_center", type=int)
    machines = board.machines_of(db.session, work_center_id)
    tiles = board.board(db.session, machines)
    counts = {state: sum(1 for t in tiles if t["state"] is state) for state in State}
    centers = db.session.scalars(sa.select(WorkCenter).where(WorkCenter.active).order_by(WorkCenter.code)).all()
    return {"tiles": tiles, "counts": counts, "centers": centers, "work_center_id": work_center_id, "now": utcnow()}


@bp.get("/")
@permission_required(VIEW)
def index():
    return render_template("equipment/index.html", **_wall_context())


@bp.get("/wall")
@permission_required(VIEW)
def wall():
    """The tiles alone, for the wall's live refresh."""
    return render_template("equipment/_wall.html", **_wall_context())


# --- a machine ------------------------------------------------------------------------------------------------


def _timeline_chart(machine: Machine, start: dt.datetime, end: dt.datetime) -> dict:
    intervals = states.intervals_between(db.session, machine.id, start, end)
    bars = []
    for interval in intervals:
        a = max(interval.started_at, start)
        b = min(interval.ended_at or end, end)
        bars.append(
            {
                "from": (a - start).total_seconds() / 60,
                "to": (b - start).total_seconds() / 60,
                "state": interval.state.value,
                "label": labels.state_label(interval.state),
            }
        )
    offset = start.astimezone(_zone()).utcoffset().total_seconds() / 60
    start_minute = (start.timestamp() / 60 + offset) % 1440
    return {"kind": "timeline", "bars": bars, "start_minute": start_minute, "colors": STATE_COLORS}


def _telemetry_charts(machine: Machine, start: dt.datetime, end: dt.datetime) -> list[dict]:
    metric_ids = db.session.scalars(
        sa.select(RollupHour.metric_id)
        .where(RollupHour.machine_id == machine.id, RollupHour.bucket >= start)
        .distinct()
    ).all()
    charts = []
    for metric in db.session.scalars(sa.select(Metric).where(Metric.id.in_(metric_ids)).order_by(Metric.code)):
        rows = store.series(db.session, machine.id, metric.id, start, end, "1m")
        if not 30 <= len(rows) <= 720:  # a day of minutes is too fine for a tablet, a few too sparse: hours
            rows = store.series(db.session, machine.id, metric.id, start, end, "1h")
        charts.append(
            {
                "kind": "series",
                "title": metric.label(_locale()) + (f" ({metric.unit})" if metric.unit else ""),
                "points": [
                    {
                        "t": row.bucket.astimezone(_zone()).strftime("%H:%M"),
                        "avg": row.avg,
                        "min": row.min,
                        "max": row.max,
                    }
                    for row in rows
                ],
            }
        )
    return charts


def _predictions(machine: Machine) -> list[dict]:
    rows = db.session.execute(
        sa.select(AlarmRule, AlarmTrack)
        .join(AlarmTrack, AlarmTrack.rule_id == AlarmRule.id)
        .where(AlarmTrack.machine_id == machine.id, AlarmRule.kind.in_((RuleKind.TREND, RuleKind.ANOMALY)))
    ).all()
    return [{"rule": rule, "detail": track.detail} for rule, track in rows if track.detail]


def _downtime_reasons() -> list[ReasonCode]:
    """Leaf downtime reasons (the ones operators pick), grouped under their category by sort order."""
    reasons = db.session.scalars(
        sa.select(ReasonCode)
        .where(ReasonCode.kind == ReasonKind.DOWNTIME, ReasonCode.active)
        .order_by(ReasonCode.sort_order, ReasonCode.code)
    ).all()
    parents = {r.parent_id for r in reasons if r.parent_id}
    return [r for r in reasons if r.id not in parents]


@bp.get("/machines/<int:machine_id>")
@permission_required(VIEW)
def machine_page(machine_id: int):
    machine = _get(Machine, machine_id)
    end = utcnow()
    start = end - dt.timedelta(hours=24)
    return render_template(
        "equipment/machine.html",
        machine=machine,
        tile=board.board(db.session, [machine])[0],
        timeline=_timeline_chart(machine, start, end),
        charts=_telemetry_charts(machine, start, end),
        predictions=_predictions(machine),
        orders=maintenance.history(db.session, machine.id, limit=20),
        config=configuration.machine_config(db.session, machine),
        now=end,
    )


@bp.get("/machines/<int:machine_id>/panel")
@permission_required(VIEW)
def machine_panel(machine_id: int):
    """The live part of a machine's page: state, order, alarms (refreshed by htmx)."""
    machine = _get(Machine, machine_id)
    return render_template("equipment/_panel.html", machine=machine, tile=board.board(db.session, [machine])[0])


# The down page's choices, in minutes: an operator taps them, he does not type times.
STOPPED_MINUTES_AGO = (10, 20, 30, 60)  # he often reports only after trying to clear the fault himself
EXPECTED_BACK_IN_MINUTES = (30, 60, 120, 240, 480)


def _duration_label(minutes: int) -> str:
    return _("%(n)s min", n=minutes) if minutes < 60 else _("%(n)s h", n=minutes // 60)


def _picked_minutes(raw: str | None, offered: tuple[int, ...]) -> int | None:
    """One of the offered durations, or None when none was picked; anything else is refused."""
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in offered:
        raise DomainError(_("Pick one of the offered times."))
    return int(raw)


@bp.get("/machines/<int:machine_id>/down")
@permission_required(REPORT)
def down_page(machine_id: int):
    machine = _get(Machine, machine_id)
    # only times the report can take: not back into the machine's last down or maintenance
    limit, now = states.earliest_backdate(db.session, machine.id), utcnow()
    reachable = [m for m in STOPPED_MINUTES_AGO if limit is None or now - dt.timedelta(minutes=m) >= limit]
    return render_template(
        "equipment/down.html",
        machine=machine,
        reasons=_downtime_reasons(),
        stopped_choices=[("", _("Just now"))]
        + [(m, _("%(duration)s ago", duration=_duration_label(m))) for m in reachable],
        expected_choices=[("", _("Not known"))] + [(m, _duration_label(m)) for m in EXPECTED_BACK_IN_MINUTES],
    )


def _back_to(machine: Machine):
    fallback = url_for("equipment.machine_page", machine_id=machine.id)
    return redirect(local_path(request.form.get("next")) or fallback)


@bp.post("/machines/<int:machine_id>/down")
@permission_required(REPORT)
def report_down(machine_id: int):
    machine = _get(Machine, machine_id)
    reason_id = request.form.get("reason_id", type=int)
    try:
        now = utcnow()
        ago = _picked_minutes(request.form.get("stopped_ago"), STOPPED_MINUTES_AGO)
        back_in = _picked_minutes(request.form.get("expected_in"), EXPECTED_BACK_IN_MINUTES)
        states.report_down(
            db.session,
            machine,
            reason_id=reason_id,
            at=now - dt.timedelta(minutes=ago) if ago else now,
            expected_up_at=now + dt.timedelta(minutes=back_in) if back_in else None,
        )
    except DomainError as error:
        flash(error.message, "error")
        return _back_to(machine)
    flash(_("%(machine)s reported down.", machine=machine.code), "success")
    return _back_to(machine)


@bp.post("/machines/<int:machine_id>/up")
@permission_required(REPORT)
def report_up(machine_id: int):
    machine = _get(Machine, machine_id)
    try:
        states.report_up(db.session, machine)
    except DomainError as error:
        flash(error.message, "error")
        return _back_to(machine)
    flash(_("%(machine)s is running again.", machine=machine.code), "success")
    return _back_to(machine)


# --- alarms ---------------------------------------------------------------------------------------------------


@bp.get("/alarms")
@permission_required(VIEW)
def alarms_page():
    open_alarms = alarms.active_alarms(db.session)
    recent = db.session.scalars(
        sa.select(Alarm).where(Alarm.cleared_at.is_not(None)).order_by(Alarm.cleared_at.desc()).limit(50)
    ).all()
    return render_template("equipment/alarms.html", open_alarms=open_alarms, recent=recent)


def _alarm_action(alarm_id: int, action) -> object:
    alarm = _get(Alarm, alarm_id)
    try:
        action(db.session, alarm)
    except DomainError as error:
        flash(error.message, "error")
    return redirect(local_path(request.form.get("next")) or url_for("equipment.alarms_page"))


@bp.post("/alarms/<int:alarm_id>/acknowledge")
@permission_required(REPORT)
def acknowledge_alarm(alarm_id: int):
    return _alarm_action(alarm_id, alarms.acknowledge)


@bp.post("/alarms/<int:alarm_id>/clear")
@permission_required(MAINTAIN)
def clear_alarm(alarm_id: int):
    return _alarm_action(alarm_id, alarms.clear)


# --- downtime -------------------------------------------------------------------------------------------------


@bp.get("/downtime")
@permission_required(VIEW)
def downtime_page():
    days, start, end = _period()
    by = request.args.get("by", "reason")
    by = by if by in downtime.PARETO_GROUPINGS else "reason"
    machines = board.machines_of(db.session)
    bars = downtime.pareto(db.session, machines, start, end, by, _locale())
    for bar in bars:
        if bar.key == downtime.UNCLASSIFIED:
            bar.key = _("Unclassified")
        elif bar.key == downtime.OUTSIDE_SHIFTS:
            bar.key = _("Outside shifts")
    chart = {
        "kind": "pareto",
        "labels": [b.key for b in bars],
        "minutes": [b.minutes for b in bars],
        "cumulative": [round(b.cumulative * 100, 1) for b in bars],
        "minutes_label": _("Down minutes"),
        "cumulative_label": _("Cumulative %"),
    }
    return render_template(
        "equipment/downtime.html",
        days=days,
        by=by,
        bars=bars,
        chart=chart,
        reliability=downtime.reliability(db.session, machines, start, end),
        unclassified=downtime.unclassified(db.session, limit=50),
        reasons=_downtime_reasons(),
    )


@bp.post("/machine-states/<int:machine_state_id>/classify")
@permission_required(REPORT)
def classify(machine_state_id: int):
    interval = _get(StateInterval, machine_state_id)
    try:
        states.classify(db.session, interval, request.form.get("reason_id", type=int) or 0)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Downtime classified."), "success")
    return redirect(url_for("equipment.downtime_page"))


# --- OEE ------------------------------------------------------------------------------------------------------


@bp.get("/oee")
@permission_required(VIEW)
def oee_page():
    days, start, end = _period()
    by = request.args.get("by", "machine")
    by = by if by in oee.GROUPINGS else "machine"
    machines = board.machines_of(db.session)
    items = oee.collect(db.session, machines, start, end)
    rows, overall = oee.rows(db.session, machines, start, end, by, _locale(), items=items)
    daily, _overall = oee.group(items, "day")
    trend = {
        "kind": "trend",
        "labels": sorted(daily),
        "series": [
            {"label": _("OEE"), "values": [_pct(daily[d].oee) for d in sorted(daily)]},
            {"label": _("Availability"), "values": [_pct(daily[d].availability) for d in sorted(daily)]},
            {"label": _("Performance"), "values": [_pct(daily[d].performance) for d in sorted(daily)]},
            {"label": _("Quality"), "values": [_pct(daily[d].quality) for d in sorted(daily)]},
        ],
    }
    losses = overall.losses()
    waterfall = {
        "kind": "waterfall",
        "total_label": _("Planned production time"),
        "total": round(overall.planned_production_s / 60, 1),
        "steps": [{"label": str(labels.LOSSES[k]), "minutes": round(v / 60, 1)} for k, v in losses.items()],
    }
    return render_template(
        "equipment/oee.html",
        days=days,
        by=by,
        rows=rows,
        overall=overall,
        trend=trend,
        waterfall=waterfall,
        unrated=[m.code for m in machines if not m.ideal_cycle_time_s],
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


# --- maintenance ----------------------------------------------------------------------------------------------


@bp.get("/maintenance")
@permission_required(VIEW)
def maintenance_page():
    open_orders = db.session.scalars(
        sa.select(MaintenanceOrder)
        .where(MaintenanceOrder.status.in_(maintenance.OPEN_STATUSES))
        .order_by(MaintenanceOrder.planned_start.is_(None), MaintenanceOrder.planned_start, MaintenanceOrder.id)
    ).all()
    closed = db.session.scalars(
        sa.select(MaintenanceOrder)
        .where(MaintenanceOrder.status.not_in(maintenance.OPEN_STATUSES))
        .order_by(MaintenanceOrder.completed_at.desc())
        .limit(30)
    ).all()
    plans = db.session.scalars(sa.select(MaintenancePlan).order_by(MaintenancePlan.code)).all()
    return render_template(
        "equipment/maintenance.html",
        open_orders=open_orders,
        closed=closed,
        plans=plans,
        overdue={o.id for o in open_orders if maintenance.is_overdue(db.session, o)},
        machines=board.machines_of(db.session),
    )


@bp.post("/maintenance/new")
@permission_required(MAINTAIN)
def new_order():
    machine = _get(Machine, request.form.get("machine_id", type=int) or 0)
    title = (request.form.get("title") or "").strip() or _("Repair")
    order = maintenance.create_order(
        db.session, machine, kind=maintenance.MaintenanceKind.CORRECTIVE, title=title, blocks_machine=False
    )
    flash(_("Maintenance order %(number)s opened.", number=order.number), "success")
    return redirect(url_for("equipment.order_page", maintenance_order_id=order.id))


@bp.get("/maintenance/<int:maintenance_order_id>")
@permission_required(VIEW)
def order_page(maintenance_order_id: int):
    order = _get(MaintenanceOrder, maintenance_order_id)
    overdue = maintenance.is_overdue(db.session, order)
    return render_template("equipment/order.html", order=order, overdue=overdue)


def _order_step(maintenance_order_id: int, step):
    order = _get(MaintenanceOrder, maintenance_order_id)
    try:
        step(order)
    except DomainError as error:
        flash(error.message, "error")
        if error.errors and "checklist" in error.errors:
            flash(_("Not done yet: %(items)s", items="、".join(error.errors["checklist"])), "error")
    return redirect(url_for("equipment.order_page", maintenance_order_id=order.id))


@bp.post("/maintenance/<int:maintenance_order_id>/start")
@permission_required(MAINTAIN)
def start_order(maintenance_order_id: int):
    return _order_step(maintenance_order_id, lambda order: maintenance.start(db.session, order))


@bp.post("/maintenance/<int:maintenance_order_id>/check")
@permission_required(MAINTAIN)
def check_item(maintenance_order_id: int):
    def check(order):
        index = request.form.get("index", type=int)
        ok = request.form.get("ok")
        note = (request.form.get("note") or "").strip() or None
        item = {"index": -1 if index is None else index, "done": True, "note": note}
        if ok in ("yes", "no"):
            item["ok"] = ok == "yes"
        maintenance.record(db.session, order, checks=[item])

    return _order_step(maintenance_order_id, check)


@bp.post("/maintenance/<int:maintenance_order_id>/record")
@permission_required(MAINTAIN)
def record_order(maintenance_order_id: int):
    def record(order):
        parts = []
        for line in (request.form.get("parts") or "").splitlines():
            name, _sep, quantity = line.strip().rpartition(" ")
            if not line.strip():
                continue
            try:
                parts.append({"part": name or line.strip(), "quantity": float(quantity) if name else 1.0})
            except ValueError:
                parts.append({"part": line.strip(), "quantity": 1.0})
        minutes = request.form.get("time_spent_min", type=int)
        maintenance.record(
            db.session,
            order,
            findings=(request.form.get("findings") or "").strip() or None,
            parts_used=parts,
            time_spent_min=minutes if minutes is not None and minutes >= 0 else None,
        )
        flash(_("Saved."), "success")

    return _order_step(maintenance_order_id, record)


@bp.post("/maintenance/<int:maintenance_order_id>/complete")
@permission_required(MAINTAIN)
def complete_order(maintenance_order_id: int):
    def complete(order):
        maintenance.complete(db.session, order)
        flash(_("Maintenance order %(number)s completed.", number=order.number), "success")

    return _order_step(maintenance_order_id, complete)


# --- configuration --------------------------------------------------------------------------------------------


def _machine_choices():
    return [(str(m.id), f"{m.code} {m.name}") for m in board.machines_of(db.session)]


def _metric_choices():
    metrics = db.session.scalars(sa.select(Metric).where(Metric.active).order_by(Metric.code)).all()
    return [("", "—")] + [(str(m.id), f"{m.code} {m.label(_locale())}") for m in metrics]


def _apply_errors(form, error: DomainError) -> None:
    for name, messages in (error.errors or {}).items():
        field = getattr(form, name, None)
        if field is not None and isinstance(messages, list):
            field.errors = [*field.errors, *[str(m) for m in messages]]


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def settings_page():
    gateway_form = forms.GatewayForm(prefix="gw")
    metric_form = forms.MetricForm(prefix="metric")
    retention_form = forms.RetentionForm(prefix="ret")
    created_token, status = None, 200
    try:
        if gateway_form.submit.data and gateway_form.validate_on_submit():
            gateway, created_token = configuration.create_gateway(
                db.session, gateway_form.name.data, current_principal().user
            )
            flash(
                _("Gateway %(name)s registered. Copy its token now: it is shown only once.", name=gateway.name),
                "success",
            )
        elif metric_form.submit.data and metric_form.validate_on_submit():
            configuration.create_metric(
                db.session,
                code=metric_form.code.data.strip(),
                name=metric_form.name.data.strip(),
                name_en=metric_form.name_en.data or None,
                unit=metric_form.unit.data or None,
                kind=MetricKind(metric_form.kind.data),
            )
            flash(_("Metric saved."), "success")
            return redirect(url_for("equipment.settings_page"))
        elif retention_form.submit.data and retention_form.validate_on_submit():
            configuration.set_raw_retention(db.session, retention_form.days.data)
            flash(_("Retention saved."), "success")
            return redirect(url_for("equipment.settings_page"))
        elif request.method == "POST":
            status = 422
    except DomainError as error:
        db.session.rollback()
        for form in (gateway_form, metric_form, retention_form):
            _apply_errors(form, error)
        flash(error.message, "error")
        status = 422
    if request.method == "GET":
        from apps.equipment.ingest import raw_retention_days

        retention_form.days.data = raw_retention_days(db.session)
    gateways = [
        (g, configuration.gateway_token(db.session, g))
        for g in db.session.scalars(sa.select(Gateway).order_by(Gateway.name))
    ]
    root = setting("EQUIPMENT_MQTT_TOPIC_PREFIX")
    factory = current_principal().tenant.code
    html = render_template(
        "equipment/settings.html",
        gateway_form=gateway_form,
        metric_form=metric_form,
        retention_form=retention_form,
        created_token=created_token,
        broker_account=_broker_account(created_token) if created_token else None,
        gateways=gateways,
        metrics=db.session.scalars(sa.select(Metric).order_by(Metric.code)).all(),
        machines=board.machines_of(db.session),
        configs={c.machine_id: c for c in db.session.scalars(sa.select(configuration.MachineConfig))},
        topics={"factory": factory_topic(root, factory), "machine": machine_topic(root, factory, "<machine>")},
    )
    return html, status


def _broker_account(token: str) -> tuple[str, str]:
    """The MQTT broker sign-in a new gateway gets (used where the broker has accounts), from its token."""
    return signing.broker_username(signing.token_id(token)), signing.broker_password(signing.signing_key(token))


@bp.post("/gateways/<int:gateway_id>/revoke")
@permission_required(CONFIGURE)
def revoke_gateway(gateway_id: int):
    gateway = _get(Gateway, gateway_id)
    configuration.revoke_gateway(db.session, gateway)
    flash(_("Gateway %(name)s switched off.", name=gateway.name), "success")
    return redirect(url_for("equipment.settings_page"))


@bp.route("/settings/machines/<int:machine_id>", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def machine_settings(machine_id: int):
    machine = _get(Machine, machine_id)
    config = configuration.machine_config(db.session, machine)
    form = forms.MachineConfigForm(obj=None)
    form.run_metric_id.choices = form.count_metric_id.choices = _metric_choices()
    if request.method == "GET" and config is not None:
        form.run_metric_id.data = str(config.run_metric_id or "")
        form.count_metric_id.data = str(config.count_metric_id or "")
        form.run_above.data = config.run_above
        form.offline_after_s.data = config.offline_after_s
    status = 200
    if form.validate_on_submit():
        configuration.set_machine_config(
            db.session,
            machine,
            run_metric=db.session.get(Metric, int(form.run_metric_id.data)) if form.run_metric_id.data else None,
            run_above=form.run_above.data or 0.0,
            count_metric=db.session.get(Metric, int(form.count_metric_id.data)) if form.count_metric_id.data else None,
            offline_after_s=form.offline_after_s.data,
        )
        flash(_("Monitoring of %(machine)s saved.", machine=machine.code), "success")
        return redirect(url_for("equipment.settings_page"))
    if request.method == "POST":
        status = 422
    return render_template("equipment/machine_settings.html", machine=machine, form=form), status


@bp.route("/settings/rules", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def rules_page():
    form = forms.RuleForm()
    form.machine_id.choices = [("", "—"), *_machine_choices()]
    form.metric_id.choices = _metric_choices()
    status = 200
    if form.validate_on_submit():
        try:
            configuration.create_rule(
                db.session,
                code=form.code.data.strip(),
                name=form.name.data.strip(),
                kind=RuleKind(form.kind.data),
                machine=db.session.get(Machine, int(form.machine_id.data)) if form.machine_id.data else None,
                machine_model=form.machine_model.data or None,
                metric=db.session.get(Metric, int(form.metric_id.data)) if form.metric_id.data else None,
                state=State(form.state.data) if form.state.data else None,
                threshold=form.threshold.data,
                hysteresis=form.hysteresis.data or 0.0,
                min_duration_s=form.min_duration_s.data or 0,
                lead_time_h=form.lead_time_h.data,
                severity=Severity(form.severity.data),
            )
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error)
            flash(error.message, "error")
            status = 422
        else:
            flash(_("Alarm rule saved."), "success")
            return redirect(url_for("equipment.rules_page"))
    elif request.method == "POST":
        status = 422
    rules = db.session.scalars(sa.select(AlarmRule).order_by(AlarmRule.code)).all()
    return render_template("equipment/rules.html", form=form, rules=rules), status


@bp.route("/settings/plans", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def plans_page():
    form = forms.PlanForm()
    form.machine_id.choices = [("", "—"), *_machine_choices()]
    status = 200
    if form.validate_on_submit():
        try:
            configuration.create_plan(
                db.session,
                code=form.code.data.strip(),
                name=form.name.data.strip(),
                machine=db.session.get(Machine, int(form.machine_id.data)) if form.machine_id.data else None,
                machine_model=form.machine_model.data or None,
                trigger=PlanTrigger(form.trigger.data),
                interval=form.interval.data,
                lead=form.lead.data or 0.0,
                tolerance=form.tolerance.data or 0.0,
                duration_min=form.duration_min.data or 60,
                checklist=[line.strip() for line in (form.checklist.data or "").splitlines() if line.strip()],
                blocks_machine=form.blocks_machine.data,
            )
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error)
            flash(error.message, "error")
            status = 422
        else:
            flash(_("Maintenance plan saved."), "success")
            return redirect(url_for("equipment.plans_page"))
    elif request.method == "POST":
        status = 422
    plans = db.session.scalars(sa.select(MaintenancePlan).order_by(MaintenancePlan.code)).all()
    return render_template("equipment/plans.html", form=form, plans=plans), status
