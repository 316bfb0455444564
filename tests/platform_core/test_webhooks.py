"""Webhooks against a real local HTTP receiver: signed bodies, retries with backoff, disabling, delivery log."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from platform_core import events, webhooks
from platform_core.db import SKIP_TENANT_FILTER, db, utcnow
from platform_core.webhooks import Webhook, WebhookDelivery

_ids = itertools.count(5000)


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it gets and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def admin(make_committed):
    return make_committed(lambda make: make.member(make.tenant()))


def _create_hook(live_app, admin, url: str, events_wanted=("orders.operation_completed",)) -> dict:
    client = live_app.test_client()
    response = client.post(
        "/api/v1/admin/webhooks", json={"name": "ERP", "url": url, "events": list(events_wanted)}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return response.json


def _publish(live_app, tenant_id: int) -> str:
    payload = {
        "order_id": 7,
        "operation_id": next(_ids),
        "machine_id": 3,
        "good_total": 120,
        "scrap_total": 3,
        "completed_at": "2026-11-22T08:00:00+00:00",
    }
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        return events.publish(session, "orders.operation_completed", payload)


def _make_due(live_app, webhook_id: int) -> None:
    """Skip the backoff wait (the test does not sleep for minutes)."""
    with live_app.app_context(), db.unit_of_work() as session:
        session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .values(next_attempt_at=utcnow())
            .execution_options(**{SKIP_TENANT_FILTER: True})
        )


def test_events_reach_the_receiver_signed(live_app, admin, receiver):
    hook = _create_hook(live_app, admin, receiver.url)
    event_id = _publish(live_app, admin.tenant.id)
    with live_app.app_context():
        assert webhooks.deliver_due() == 1
        assert webhooks.deliver_due() == 0  # delivered once
    headers, body = receiver.requests[-1]
    assert webhooks.verify(hook["secret"], headers["X-Mes-Timestamp"], body, headers["X-Mes-Signature"])
    assert not webhooks.verify("wrong-secret", headers["X-Mes-Timestamp"], body, headers["X-Mes-Signature"])
    message = json.loads(body)
    assert message["id"] == event_id and message["event"] == "orders.operation_completed"
    assert message["data"]["good_total"] == 120 and headers["X-Mes-Event"] == "orders.operation_completed"
    log = live_app.test_client().get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries", headers=admin.headers).json
    assert log[0]["status"] == "delivered" and log[0]["last_status_code"] == 200


def test_unwanted_events_are_not_sent(live_app, admin, receiver):
    _create_hook(live_app, admin, receiver.url, events_wanted=("equipment.machine_down",))
    _publish(live_app, admin.tenant.id)
    with live_app.app_context():
        assert webhooks.deliver_due() == 0
    assert receiver.requests == []


def test_failures_back_off_exponentially_then_the_webhook_is_disabled(live_app, admin, receiver, monkeypatch):
    monkeypatch.setitem(live_app.config, "WEBHOOK_DISABLE_AFTER", 4)
    monkeypatch.setitem(live_app.config, "WEBHOOK_MAX_ATTEMPTS", 6)
    receiver.status = 500
    hook = _create_hook(live_app, admin, receiver.url)
    _publish(live_app, admin.tenant.id)
    delays = []
    limit = live_app.config["WEBHOOK_DISABLE_AFTER"]
    with live_app.app_context():
        for _ in range(limit):
            webhooks.deliver_due()
            with db.unit_of_work(admin.tenant.id) as session:
                delivery = session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"]))
                delays.append((delivery.next_attempt_at - utcnow()).total_seconds())
            _make_due(live_app, hook["id"])
        with db.unit_of_work(admin.tenant.id) as session:
            stored = session.get(Webhook, hook["id"])
            assert stored.active is False and "failed deliveries" in stored.disabled_reason
            delivery = session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"]))
    assert len(receiver.requests) == limit
    assert delays[1] > delays[0] * 1.5 and delays[2] > delays[1] * 1.5  # exponential
    assert delivery.last_status_code == 500 and delivery.status == "pending" and delivery.attempts == limit
    # Switching the webhook on again resets its failure count; the delivery log shows every attempt.
    client = live_app.test_client()
    etag = client.get(f"/api/v1/admin/webhooks/{hook['id']}", headers=admin.headers).headers["ETag"]
    response = client.patch(
        f"/api/v1/admin/webhooks/{hook['id']}", json={"active": True}, headers={**admin.headers, "If-Match": etag}
    )
    assert response.json["active"] is True and response.json["consecutive_failures"] == 0


def test_webhook_input_is_checked_field_by_field(live_app, admin):
    client = live_app.test_client()
    response = client.post(
        "/api/v1/admin/webhooks",
        json={"name": "x", "url": "ftp://erp.local/x", "events": ["orders.no_such_event"]},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert "url" in response.json["errors"]
