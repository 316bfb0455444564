"""Exactly once under concurrency, on committed data: double taps, replays and two tablets at the same moment.

Each request runs in its own thread, connection and transaction, as behind gunicorn. On PostgreSQL the rows are
locked (order, then operation); on SQLite the database's write lock serialises the writers.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from apps.orders import execution, work_orders
from apps.orders.models import Operation, ReportStatus, WorkReport
from apps.orders.settings import update_settings
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product
from tests.apps.orders.conftest import committed, key

API = "/api/v1/orders"


def _running_operation(app, shop, quantity: int, tolerance: float = 0.0) -> int:
    """A released order of ``quantity`` with its first operation running; returns that operation's id."""

    def recipe(session):
        update_settings(session, over_tolerance_pct=tolerance)
        order = work_orders.create_order(
            session, product=session.get(Product, shop.product.id), quantity=quantity, number=f"C-{key()[-8:]}"
        )
        work_orders.release_order(session, order)
        first = order.operations[0]
        employee = session.get(Employee, shop.employees["operator"].id)
        execution.start(session, first, machine=session.get(Machine, shop.m1.id), employee=employee)
        return first.id

    return committed(app, shop, recipe)


def _all_at_once(app, requests: list[tuple[str, dict, dict]]) -> list:
    """Send the (path, body, headers) requests from one thread each, released together; responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index: int, path: str, body: dict, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(f"{API}{path}", json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def _state(app, shop, operation_id: int) -> tuple[int, int, int]:
    """(good total on the operation, sum of its accepted reports, number of reports)."""

    def recipe(session):
        operation = session.get(Operation, operation_id)
        accepted = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(WorkReport.good), 0)).where(
                WorkReport.operation_id == operation_id, WorkReport.status == ReportStatus.ACCEPTED
            )
        )
        count = session.scalar(sa.select(sa.func.count(WorkReport.id)).where(WorkReport.operation_id == operation_id))
        return operation.good_qty, accepted, count

    return committed(app, shop, recipe)


def test_concurrent_twins_of_a_report_are_counted_once(orders_app, committed_shop):
    shop = committed_shop
    operation_id = _running_operation(orders_app, shop, quantity=100)
    headers = {**shop.operator.headers, "Idempotency-Key": "tablet-3:double-tap-0001"}
    responses = _all_at_once(orders_app, [(f"/operations/{operation_id}/report", {"good": 7}, headers)] * 6)
    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 5
    assert _state(orders_app, shop, operation_id) == (7, 7, 1)


def test_a_replay_storm_never_double_counts(orders_app, committed_shop):
    shop = committed_shop
    operation_id = _running_operation(orders_app, shop, quantity=1000)
    keys = [key() for _ in range(5)]
    requests = [
        (f"/operations/{operation_id}/report", {"good": n + 1}, {**shop.operator.headers, "Idempotency-Key": k})
        for n, k in enumerate(keys)
        for _copy in range(3)
    ]
    responses = _all_at_once(orders_app, requests)
    assert all(r.status_code == 201 for r in responses), [r.json for r in responses if r.status_code != 201]
    acknowledged = {r.json["id"]: r.json["good"] for r in responses}
    assert len(acknowledged) == 5
    assert _state(orders_app, shop, operation_id) == (15, sum(acknowledged.values()), 5)


def test_concurrent_reports_never_pass_the_limit_together(orders_app, committed_shop):
    shop = committed_shop
    operation_id = _running_operation(orders_app, shop, quantity=10)
    requests = [
        (f"/operations/{operation_id}/report", {"good": 2}, {**member.headers, "Idempotency-Key": key()})
        for member in [shop.operator, shop.operator2] * 4
    ]
    responses = _all_at_once(orders_app, requests)
    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(accepted) == 5 and len(refused) == 3
    assert {r.json["code"] for r in refused} == {"over_tolerance"}
    assert _state(orders_app, shop, operation_id) == (10, 10, 5)


def test_two_tablets_acting_on_one_version_lose_nothing(orders_app, committed_shop):
    shop = committed_shop
    operation_id = _running_operation(orders_app, shop, quantity=10)
    client = orders_app.test_client()
    seen = client.get(f"{API}/operations/{operation_id}", headers=shop.operator.headers).json["version"]
    pause = {"reason_id": shop.pause_tool.id, "version": seen}
    complete = {"version": seen}
    responses = _all_at_once(
        orders_app,
        [
            (f"/operations/{operation_id}/pause", pause, {**shop.operator.headers, "Idempotency-Key": key()}),
            (f"/operations/{operation_id}/complete", complete, {**shop.operator2.headers, "Idempotency-Key": key()}),
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.json for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json["code"] == "version_conflict"
    assert loser.json["current_state"] == winner.json["status"]
    assert loser.json["operation"]["version"] == winner.json["version"]
    final = client.get(f"{API}/operations/{operation_id}", headers=shop.operator.headers).json
    assert final["status"] == winner.json["status"] and final["version"] == seen + 1
