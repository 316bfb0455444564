"""Events: published in the business transaction, delivered after commit, and never lost by a crash."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from platform_core import events
from platform_core.db import SKIP_TENANT_FILTER, db
from platform_core.events import EventReceipt, OutboxEvent
from tests.probe_app.manifest import FAILING, probe_records

_ids = itertools.count(1)


@pytest.fixture
def tenant(make_committed):
    return make_committed(lambda make: make.tenant())


def _completed_payload(operation_id: int) -> dict:
    return {
        "order_id": 1,
        "operation_id": operation_id,
        "machine_id": 1,
        "good_total": 10,
        "scrap_total": 0,
        "completed_at": "2026-11-22T08:00:00+00:00",
    }


def _publish(app, tenant_id: int, operation_id: int) -> str:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return events.publish(session, "orders.operation_completed", _completed_payload(operation_id))


def _trace(app, tenant_id: int, operation_id: int) -> int:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        records = probe_records.c
        statement = sa.select(sa.func.count()).where(records.code == f"EV-{operation_id}")
        return session.scalar(statement)


def _outbox(app, event_id: str) -> OutboxEvent:
    with app.app_context(), db.unit_of_work() as session:
        return session.scalar(
            sa.select(OutboxEvent).where(OutboxEvent.id == event_id).execution_options(**{SKIP_TENANT_FILTER: True})
        )


@pytest.fixture
def no_inline_delivery(live_app):
    """Simulate a crash between commit and delivery: nothing is delivered until the worker's sweep."""
    live_app.config["EVENTS_DELIVER_INLINE"] = False
    yield
    live_app.config["EVENTS_DELIVER_INLINE"] = True


def test_an_event_is_delivered_to_subscribers_right_after_commit(live_app, tenant):
    operation = 1000 + next(_ids)
    event_id = _publish(live_app, tenant.id, operation)
    assert _trace(live_app, tenant.id, operation) == 1
    assert _outbox(live_app, event_id).dispatched_at is not None


def test_a_rolled_back_transaction_publishes_nothing(live_app, tenant):
    operation = 1000 + next(_ids)
    with live_app.app_context(), pytest.raises(RuntimeError), db.unit_of_work(tenant.id) as session:
        events.publish(session, "orders.operation_completed", _completed_payload(operation))
        raise RuntimeError("the business change failed")
    assert _trace(live_app, tenant.id, operation) == 0
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        payloads = session.scalars(sa.select(OutboxEvent.payload)).all()
    assert all(p["operation_id"] != operation for p in payloads)


def test_a_crash_between_commit_and_delivery_loses_nothing(live_app, tenant, no_inline_delivery):
    operation = 1000 + next(_ids)
    event_id = _publish(live_app, tenant.id, operation)
    assert _trace(live_app, tenant.id, operation) == 0  # committed, not delivered: the process "died" here
    with live_app.app_context():
        events.sweep(min_age_seconds=0)
        events.sweep(min_age_seconds=0)  # a second sweep finds nothing left to do
        events.deliver_one(event_id)  # and a stray redelivery runs no subscriber twice
    assert _trace(live_app, tenant.id, operation) == 1
    assert _outbox(live_app, event_id).dispatched_at is not None


def test_a_failing_subscriber_is_retried_until_it_succeeds_once(live_app, tenant):
    operation = 1000 + next(_ids)
    FAILING.add(str(operation))
    try:
        event_id = _publish(live_app, tenant.id, operation)
        row = _outbox(live_app, event_id)
        assert row.dispatched_at is None and "told to fail" in row.last_error and row.next_attempt_at is not None
    finally:
        FAILING.discard(str(operation))
    with live_app.app_context():
        assert events.deliver_one(event_id) is True
    assert _trace(live_app, tenant.id, operation) == 1
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        statement = sa.select(EventReceipt.subscriber).where(
            EventReceipt.event_id == event_id, EventReceipt.subscriber.like("probe.%")
        )
        assert list(session.scalars(statement)) == ["probe.record_completion"]  # once, despite the retry


def test_subscribers_of_an_app_the_tenant_has_not_enabled_do_not_run(live_app, make_committed):
    tenant = make_committed(lambda make: make.tenant(apps=["orders"]))
    operation = 1000 + next(_ids)
    event_id = _publish(live_app, tenant.id, operation)
    assert _trace(live_app, tenant.id, operation) == 0
    assert _outbox(live_app, event_id).dispatched_at is not None


def test_undeclared_events_and_incomplete_payloads_are_refused(live_app, tenant):
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        with pytest.raises(events.UnknownEvent):
            events.publish(session, "orders.nonsense", {})
        with pytest.raises(events.UnknownEvent):
            events.publish(session, "orders.operation_completed", {"order_id": 1})


def test_every_declared_event_is_documented():
    for name, event_type in events.CATALOG.items():
        app, _, action = name.partition(".")
        assert app in {"orders", "equipment", "quality", "scheduling"} and action, name
        assert event_type.doc and event_type.payload, name


def test_events_wait_for_the_real_commit_across_savepoints(live_app, tenant):
    before, inside_kept, inside_dropped = (1000 + next(_ids) for _ in range(3))
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        events.publish(session, "orders.operation_completed", _completed_payload(before))
        with session.begin_nested():  # released: its event joins the outer transaction's
            events.publish(session, "orders.operation_completed", _completed_payload(inside_kept))
        with pytest.raises(RuntimeError), session.begin_nested():  # rolled back: its event is gone with it
            events.publish(session, "orders.operation_completed", _completed_payload(inside_dropped))
            raise RuntimeError("this part failed")
        # nothing is delivered before the outer transaction commits
        codes = [f"EV-{op}" for op in (before, inside_kept, inside_dropped)]
        delivered = sa.select(sa.func.count()).where(probe_records.c.code.in_(codes))
        assert session.scalar(delivered) == 0
    assert [_trace(live_app, tenant.id, op) for op in (before, inside_kept, inside_dropped)] == [1, 1, 0]
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        undelivered = session.scalar(
            sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
        )
    assert undelivered == 0
