"""Tenant-administrator pages for the platform's shared services: webhooks, audit trail, background jobs."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from platform_core import audit, jobs
from platform_core.db import db
from platform_core.errors import DomainError, abort
from platform_core.events import CATALOG
from platform_core.identity.auth import permission_required
from platform_core.webhooks import Webhook, WebhookDelivery, new_secret

bp = Blueprint("system", __name__, url_prefix="/admin")


class EventsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    url = StringField(
        _l("Receiver address"),
        validators=[
            DataRequired(),
            Length(max=500),
            Regexp(r"^https?://", message=_l("Use an http:// or https:// address.")),
        ],
    )
    events = EventsField(_l("Events"), validators=[DataRequired()])


def _get_or_404(model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


@bp.route("/webhooks", methods=["GET", "POST"])
@permission_required("admin.manage_webhooks")
def webhooks():
    form = WebhookForm()
    form.events.choices = [SelectChoice("*", _("All events")), *(SelectChoice(n, n) for n in sorted(CATALOG))]
    created_secret, status = None, 200
    if form.validate_on_submit():
        chosen = ["*"] if "*" in form.events.data else form.events.data
        hook = Webhook(name=form.name.data.strip(), url=form.url.data.strip(), events=chosen, secret=new_secret())
        db.session.add(hook)
        db.session.flush()
        created_secret = hook.secret
        flash(_("Webhook created. Copy the signing secret now: it is shown only once."), "success")
    elif request.method == "POST":
        status = 422
    hooks = db.session.scalars(sa.select(Webhook).order_by(Webhook.id)).all()
    html = render_template("admin/webhooks.html", hooks=hooks, form=form, created_secret=created_secret)
    return html, status


@bp.get("/webhooks/<int:webhook_id>")
@permission_required("admin.manage_webhooks")
def webhook(webhook_id: int):
    hook = _get_or_404(Webhook, webhook_id)
    deliveries = db.session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(100)
    ).all()
    return render_template("admin/webhook.html", hook=hook, deliveries=deliveries)


@bp.post("/webhooks/<int:webhook_id>/active")
@permission_required("admin.manage_webhooks")
def toggle_webhook(webhook_id: int):
    hook = _get_or_404(Webhook, webhook_id)
    hook.active = request.form.get("active") == "1"
    if hook.active:
        hook.consecutive_failures, hook.disabled_reason = 0, None
    flash(_("Webhook switched on.") if hook.active else _("Webhook switched off."), "success")
    return redirect(url_for("system.webhook", webhook_id=hook.id))


@bp.post("/webhooks/<int:webhook_id>/delete")
@permission_required("admin.manage_webhooks")
def delete_webhook(webhook_id: int):
    db.session.delete(_get_or_404(Webhook, webhook_id))
    flash(_("Webhook deleted."), "success")
    return redirect(url_for("system.webhooks"))


def _parse_day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/audit")
@permission_required("admin.view_audit")
def audit_log():
    """The audit trail with filters; day bounds are in the factory's time zone."""
    from flask_babel import get_timezone

    args = request.args
    zone = get_timezone()
    since_day, until_day = _parse_day(args.get("since")), _parse_day(args.get("until"))
    since = dt.datetime.combine(since_day, dt.time(), zone) if since_day else None
    until = dt.datetime.combine(until_day + dt.timedelta(days=1), dt.time(), zone) if until_day else None
    statement = audit.entries(
        entity=args.get("entity") or None,
        entity_id=args.get("entity_id") or None,
        actor_user_id=args.get("user_id", type=int),
        since=since,
        until=until,
    )
    rows = db.session.scalars(statement.limit(200)).all()
    entities = db.session.scalars(sa.select(audit.AuditEntry.entity).distinct().order_by(audit.AuditEntry.entity))
    return render_template("admin/audit.html", rows=rows, entities=list(entities), args=args)


@bp.get("/jobs")
@permission_required("admin.view_jobs")
def jobs_page():
    rows = db.session.scalars(sa.select(jobs.Job).order_by(jobs.Job.id.desc()).limit(100)).all()
    template = "admin/_jobs_rows.html" if request.headers.get("HX-Request") else "admin/jobs.html"
    return render_template(template, rows=rows)


@bp.post("/jobs/<int:job_id>/cancel")
@permission_required("admin.view_jobs")
def cancel_job(job_id: int):
    try:
        jobs.request_cancel(db.session, _get_or_404(jobs.Job, job_id))
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Cancel requested."), "success")
    return redirect(url_for("system.jobs_page"))


@bp.get("/")
@permission_required("admin.*")
def index():
    """The administration hub."""
    return render_template("admin/index.html")
