"""Tenant-administration API for the platform's shared services: webhooks, the audit trail, background jobs."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _

from platform_core import audit, jobs
from platform_core.api import ApiBlueprint, Id, Schema, SelectPage, record_loader
from platform_core.db import db
from platform_core.errors import ValidationFailed
from platform_core.events import CATALOG
from platform_core.webhooks import Webhook, WebhookDelivery, new_secret

blp = ApiBlueprint(
    "admin_api",
    __name__,
    url_prefix="/api/v1/admin",
    description="Webhooks, audit trail and background jobs of the factory",
    loaders={
        "webhook_id": record_loader(Webhook, lambda: _("No such webhook.")),
        "job_id": record_loader(jobs.Job, lambda: _("No such background job.")),
    },
)


def _check_url(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValidationFailed(_("Use an http:// or https:// address."), errors={"url": [_("Not a web address.")]})
    return url


def _check_events(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(CATALOG) - {"*"})
    if unknown:
        raise ValidationFailed(_("Unknown events."), errors={"events": unknown})
    return sorted(set(names))


class WebhookCreateSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=500))
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)), required=True, validate=ma.validate.Length(min=1)
    )


class WebhookUpdateSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    url = ma.fields.String(validate=ma.validate.Length(min=8, max=500))
    events = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=64)), validate=ma.validate.Length(min=1))
    active = ma.fields.Boolean()


class WebhookSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    consecutive_failures = ma.fields.Integer()
    disabled_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "The signing key; shown once"})


class DeliverySchema(Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.String()
    event_name = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime()
    last_status_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class AuditQuerySchema(Schema):
    entity = ma.fields.String(validate=ma.validate.Length(max=64))
    entity_id = ma.fields.String(validate=ma.validate.Length(max=64))
    user_id = Id(strict=False)  # query strings carry text
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()

    class Meta:
        unknown = ma.EXCLUDE  # the pagination parameters share the query string


class AuditEntrySchema(Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor = ma.fields.String()
    actor_user_id = ma.fields.Integer(allow_none=True)
    actor_token_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    entity = ma.fields.String()
    entity_id = ma.fields.String()
    changes = ma.fields.Dict()


class JobSchema(Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    status = ma.fields.Enum(jobs.JobStatus, by_value=True)
    attempts = ma.fields.Integer()
    max_attempts = ma.fields.Integer()
    progress = ma.fields.Dict(allow_none=True)
    result = ma.fields.Dict(allow_none=True)
    error = ma.fields.String(allow_none=True)
    cancel_requested = ma.fields.Boolean()
    worker = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.requires("admin.manage_webhooks")
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List the factory's webhooks."""
        return sa.select(Webhook).order_by(Webhook.id)

    @blp.requires("admin.manage_webhooks")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data):
        """Create a webhook; the response carries its signing secret, shown once."""
        hook = Webhook(
            name=data["name"].strip(),
            url=_check_url(data["url"]),
            events=_check_events(data["events"]),
            secret=new_secret(),
        )
        db.session.add(hook)
        db.session.flush()
        return hook


@blp.route("/webhooks/<int:webhook_id>")
class WebhookItem(MethodView):
    @blp.requires("admin.manage_webhooks")
    @blp.etag
    @blp.response(200, WebhookSchema)
    def get(self, webhook):
        """Show a webhook (never its secret)."""
        return webhook

    @blp.requires("admin.manage_webhooks")
    @blp.etag
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, data, webhook):
        """Change a webhook; switching it on again resets its failure count (If-Match required)."""
        blp.check_etag(webhook, WebhookSchema)
        if "url" in data:
            webhook.url = _check_url(data["url"])
        if "events" in data:
            webhook.events = _check_events(data["events"])
        if "name" in data:
            webhook.name = data["name"].strip()
        if data.get("active") is True and not webhook.active:
            webhook.consecutive_failures, webhook.disabled_reason = 0, None
        if "active" in data:
            webhook.active = data["active"]
        return webhook

    @blp.requires("admin.manage_webhooks")
    @blp.response(204)
    def delete(self, webhook):
        """Delete a webhook and its delivery log."""
        db.session.delete(webhook)


@blp.route("/webhooks/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.requires("admin.manage_webhooks")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, webhook):
        """The delivery log of a webhook, newest first."""
        return (
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        )


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.requires("admin.view_audit")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """The audit trail: filter by record (entity + entity_id), user and time."""
        return audit.entries(
            entity=query.get("entity"),
            entity_id=query.get("entity_id"),
            actor_user_id=query.get("user_id"),
            since=query.get("since"),
            until=query.get("until"),
        )


@blp.route("/jobs")
class Jobs(MethodView):
    @blp.requires("admin.view_jobs")
    @blp.response(200, JobSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """The factory's background jobs, newest first."""
        return sa.select(jobs.Job).order_by(jobs.Job.id.desc())


@blp.route("/jobs/<int:job_id>")
class JobItem(MethodView):
    @blp.requires("admin.view_jobs")
    @blp.response(200, JobSchema)
    def get(self, job):
        """A job with its progress."""
        return job


@blp.route("/jobs/<int:job_id>/cancel")
class JobCancel(MethodView):
    @blp.requires("admin.view_jobs")
    @blp.response(200, JobSchema)
    def post(self, job):
        """Cancel a queued job, or ask a running one to stop."""
        return jobs.request_cancel(db.session, job)
