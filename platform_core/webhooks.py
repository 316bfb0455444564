"""Webhooks: a factory's own systems (ERP, WeCom bots, SMS gateways) receive its events over HTTPS.

Every delivery is a POST of ``{"id", "event", "tenant", "occurred_at", "data"}`` signed with the webhook's
secret: ``X-MES-Signature: sha256=<hex HMAC-SHA256 of "<X-MES-Timestamp>.<body>">``. A delivery that fails is
retried with exponential backoff; after ``WEBHOOK_MAX_ATTEMPTS`` it is abandoned, and a webhook whose deliveries
keep failing (``WEBHOOK_DISABLE_AFTER`` in a row) is disabled until an administrator turns it on again. Every
attempt is logged for the tenant's administrators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from platform_core.db import SKIP_TENANT_FILTER, Base, TenantScoped, UTCDateTime, created_at, db, intpk, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-MES-Signature"
TIMESTAMP_HEADER = "X-MES-Timestamp"


class Webhook(TenantScoped, Base):
    """A receiver of some of a tenant's events."""

    __tablename__ = "platform_webhooks"
    __audit_redact__ = ("secret",)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(100))
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(100))  # the HMAC key; needed in clear to sign
    events: Mapped[list[str]]  # event names, or ["*"] for all
    active: Mapped[bool] = mapped_column(default=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]

    def wants(self, event_name: str) -> bool:
        return "*" in self.events or event_name in self.events


class WebhookDelivery(TenantScoped, Base):
    """One event to one webhook, with its attempts."""

    __tablename__ = "platform_webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id"),
        sa.Index("ix_platform_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    __audit__ = False

    id: Mapped[intpk]
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey(Webhook.id, ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(sa.String(36))
    event_name: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending, delivered, abandoned
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    webhook: Mapped[Webhook] = relationship()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp`` (seconds since the epoch, as text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_seconds: int = 300) -> bool:
    """Receiver-side check (documented for integrators, used by the tests)."""
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def queue_deliveries(session: Session, event) -> int:
    """Create a pending delivery of ``event`` for each active webhook of its tenant that wants it."""
    hooks = [h for h in session.scalars(sa.select(Webhook).where(Webhook.active.is_(True))) if h.wants(event.name)]
    if not hooks:
        return 0
    body = json.dumps(
        {
            "id": event.id,
            "event": event.name,
            "tenant": event.tenant_id,
            "occurred_at": event.occurred_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    queued = 0
    for hook in hooks:
        exists = sa.select(WebhookDelivery.id).where(
            WebhookDelivery.webhook_id == hook.id, WebhookDelivery.event_id == event.id
        )
        if session.scalar(exists) is None:
            session.add(WebhookDelivery(webhook_id=hook.id, event_id=event.id, event_name=event.name, body=body))
            queued += 1
    session.flush()
    return queued


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked at creation
        return response.status


def _backoff(attempts: int) -> dt.timedelta:
    base = current_app.config["WEBHOOK_BACKOFF_SECONDS"]
    return dt.timedelta(seconds=min(3600, base * 2 ** (attempts - 1)))


def _delivery_tenant(delivery_id: int) -> int | None:
    with db.unit_of_work() as session:
        statement = sa.select(WebhookDelivery.tenant_id).where(WebhookDelivery.id == delivery_id)
        return session.scalar(statement.execution_options(**{SKIP_TENANT_FILTER: True}))


def attempt(delivery_id: int) -> str:
    """Send one delivery once; record the outcome; returns the new status."""
    config = current_app.config
    tenant_id = _delivery_tenant(delivery_id)
    if tenant_id is None:
        return "missing"
    with db.unit_of_work(tenant_id) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery.status != "pending" or not delivery.webhook.active:
            return delivery.status
        url, secret, body = delivery.webhook.url, delivery.webhook.secret, delivery.body.encode()
        event_name = delivery.event_name
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "mes-suite-webhooks/1",
        "X-MES-Event": event_name,
        "X-MES-Delivery": str(delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    status_code, error = None, None
    try:
        status_code = _post(url, body, headers, config["WEBHOOK_TIMEOUT_SECONDS"])
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    ok = status_code is not None and 200 <= status_code < 300
    with db.unit_of_work(tenant_id) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        hook = delivery.webhook
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = None if ok else error
        if ok:
            delivery.status, delivery.delivered_at = "delivered", utcnow()
            hook.consecutive_failures = 0
        else:
            hook.consecutive_failures += 1
            if delivery.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
                delivery.status = "abandoned"
            else:
                delivery.next_attempt_at = utcnow() + _backoff(delivery.attempts)
            if hook.active and hook.consecutive_failures >= config["WEBHOOK_DISABLE_AFTER"]:
                hook.active = False
                hook.disabled_reason = f"disabled after {hook.consecutive_failures} failed deliveries in a row"
        return delivery.status


def deliver_due(limit: int = 100) -> int:
    """Worker job: attempt every pending delivery whose time has come; returns how many were delivered."""
    with db.unit_of_work() as session:
        due = list(
            session.scalars(
                sa.select(WebhookDelivery.id)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= utcnow(),
                    Webhook.active.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .execution_options(**{SKIP_TENANT_FILTER: True})
            )
        )
    return sum(attempt(delivery_id) == "delivered" for delivery_id in due)
