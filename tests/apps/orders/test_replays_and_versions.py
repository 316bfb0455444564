"""Tablet retries and stale tablets: a retry gets the first answer again, a stale action gets the current state."""

from __future__ import annotations

import sqlalchemy as sa

from apps.orders.models import CrewMember, OperationEvent, WorkReport
from tests.apps.orders.conftest import get, key, ops, post


def _twice(client, member, path: str, body: dict | None = None, *, meanwhile=lambda: None):
    """Send an action, then its retry with the same Idempotency-Key and body (the answer was lost)."""
    same_key = key()
    first = post(client, member, path, body, idempotency_key=same_key)
    meanwhile()
    retry = post(client, member, path, body, idempotency_key=same_key)
    return first, retry


def _assert_replayed(first, retry) -> None:
    assert first.status_code == 200, first.json
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json  # the stored answer, not a new one
    assert "Idempotent-Replayed" not in first.headers


def _count(shop, db_session, model, operation) -> int:
    with shop.scoped():
        return db_session.scalar(sa.select(sa.func.count(model.id)).where(model.operation_id == operation.id))


def test_replayed_actions_are_answered_again_and_recorded_once(client, shop, clock, db_session):
    op10, _op20 = ops(shop.order())
    path = f"/operations/{op10.id}"

    first, retry = _twice(client, shop.operator, f"{path}/start", {"machine_id": shop.m1.id})
    _assert_replayed(first, retry)
    clock.at(100)
    joined, rejoined = _twice(client, shop.operator2, f"{path}/start", {"machine_id": shop.m1.id})
    _assert_replayed(joined, rejoined)
    clock.at(200)
    left, left_again = _twice(client, shop.operator2, f"{path}/leave")
    _assert_replayed(left, left_again)
    clock.at(600)
    paused, paused_again = _twice(
        client, shop.operator, f"{path}/pause", {"reason_id": shop.pause_tool.id}, meanwhile=lambda: clock.advance(100)
    )
    _assert_replayed(paused, paused_again)
    clock.at(900)
    resumed, resumed_again = _twice(client, shop.operator, f"{path}/resume", meanwhile=lambda: clock.advance(100))
    _assert_replayed(resumed, resumed_again)
    clock.at(1200)
    completed, completed_again = _twice(client, shop.operator, f"{path}/complete")
    _assert_replayed(completed, completed_again)

    timeline = get(client, shop.operator, f"{path}/events").json
    assert [e["kind"] for e in timeline] == ["start", "join", "leave", "pause", "resume", "complete"]
    assert _count(shop, db_session, OperationEvent, op10) == 6
    assert _count(shop, db_session, CrewMember, op10) == 2  # one stint each, none reopened
    state = get(client, shop.operator, path).json
    assert (state["status"], state["running_s"], state["paused_s"]) == ("completed", 900, 300)
    assert state["version"] == first.json["version"] + 5  # join, leave, pause, resume, complete


def test_a_stale_start_is_a_409_with_the_current_state(client, shop):
    op10, _op20 = ops(shop.order())
    seen = get(client, shop.operator, f"/operations/{op10.id}").json["version"]
    post(client, shop.operator2, f"/operations/{op10.id}/start", {"machine_id": shop.m2.id, "version": seen})

    stale = post(client, shop.operator, f"/operations/{op10.id}/start", {"machine_id": shop.m1.id, "version": seen})
    assert stale.status_code == 409 and stale.json["code"] == "version_conflict"
    assert stale.json["current_state"] == "running"
    current = stale.json["operation"]
    assert (current["status"], current["version"], current["machine_id"]) == ("running", seen + 1, shop.m2.id)
    assert current["crew"] == [shop.employees["operator2"].id]  # the stale start joined nobody


def test_a_stale_resume_is_a_409_with_the_current_state(client, shop):
    op10, _op20 = ops(shop.order())
    started = post(client, shop.operator, f"/operations/{op10.id}/start", {"machine_id": shop.m1.id}).json
    seen = post(client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id}).json
    assert seen["version"] == started["version"] + 1
    # another tablet resumes and pauses it again meanwhile
    again = post(client, shop.operator2, f"/operations/{op10.id}/resume", {"version": seen["version"]}).json
    pause_again = {"reason_id": shop.pause_tool.id, "version": again["version"]}
    post(client, shop.operator2, f"/operations/{op10.id}/pause", pause_again)

    stale = post(client, shop.operator, f"/operations/{op10.id}/resume", {"version": seen["version"]})
    assert stale.status_code == 409 and stale.json["code"] == "version_conflict"
    assert stale.json["current_state"] == "paused"
    assert stale.json["operation"]["status"] == "paused" and stale.json["operation"]["version"] == seen["version"] + 2
    assert get(client, shop.operator, f"/operations/{op10.id}").json["status"] == "paused"


def test_a_stale_report_is_a_409_with_the_current_state_and_counts_nothing(client, shop, db_session):
    op10, _op20 = ops(shop.order())
    seen = post(client, shop.operator, f"/operations/{op10.id}/start", {"machine_id": shop.m1.id}).json["version"]
    post(client, shop.operator2, f"/operations/{op10.id}/report", {"good": 3, "version": seen})

    stale = post(client, shop.operator, f"/operations/{op10.id}/report", {"good": 4, "version": seen})
    assert stale.status_code == 409 and stale.json["code"] == "version_conflict"
    assert stale.json["current_state"] == "running"
    assert stale.json["operation"]["good_qty"] == 3 and stale.json["operation"]["version"] == seen + 1
    assert _count(shop, db_session, WorkReport, op10) == 1
    fresh = post(client, shop.operator, f"/operations/{op10.id}/report", {"good": 4, "version": seen + 1})
    assert fresh.status_code == 201 and fresh.json["operation"]["good_qty"] == 7
