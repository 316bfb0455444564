"""Shop-floor actions over HTTP: start, pause, resume, report, complete, with the quantity rules users trust."""

from __future__ import annotations

import sqlalchemy as sa

from apps.orders.models import OperationStatus, OrderStatus, ReportStatus, WorkReport
from platform_core.events import OutboxEvent
from tests.apps.orders.conftest import get, ops, post


def _start(client, shop, operation, machine=None, member=None, **body):
    machine = machine or shop.m1
    return post(
        client, member or shop.operator, f"/operations/{operation.id}/start", {"machine_id": machine.id, **body}
    )


def _report(client, shop, operation, member=None, **body):
    return post(client, member or shop.operator, f"/operations/{operation.id}/report", body)


def test_the_operator_flow_start_pause_resume_report_complete(client, shop):
    order = shop.order(quantity=10)
    op10, op20 = ops(order)

    started = _start(client, shop, op10)
    assert started.status_code == 200, started.json
    assert started.json["status"] == "running" and started.json["machine_code"] == "CNC-01"
    assert [c["employee_no"] for c in started.json["crew"]] == ["1001"]
    version = started.json["version"]

    paused = post(
        client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id, "version": version}
    )
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    assert paused.json["pause_reason_code"] == "TOOL"

    resumed = post(client, shop.operator, f"/operations/{op10.id}/resume", {"version": paused.json["version"]})
    assert resumed.status_code == 200 and resumed.json["status"] == "running"

    reported = _report(
        client, shop, op10, good=7, scrap=2, scrap_reason_id=shop.scrap_burr.id, rework=1, output_lot="L1"
    )
    assert reported.status_code == 201, reported.json
    assert reported.json["status"] == "accepted"
    assert reported.json["operation"]["good_qty"] == 7 and reported.json["operation"]["scrap_qty"] == 2
    assert reported.json["operation"]["rework_qty"] == 1
    assert reported.json["employee_name"] == shop.operator.user.display_name

    completed = post(client, shop.operator, f"/operations/{op10.id}/complete", {})
    assert completed.status_code == 200 and completed.json["status"] == "completed"
    assert completed.json["crew"] == []

    detail = get(client, shop.operator, f"/work-orders/{order.id}")
    assert detail.json["status"] == "in_progress"
    assert [o["status"] for o in detail.json["operations"]] == ["completed", "pending"]

    assert _start(client, shop, op20, machine=shop.m3).status_code == 200
    assert _report(client, shop, op20, good=7).status_code == 201
    assert post(client, shop.operator, f"/operations/{op20.id}/complete", {}).status_code == 200
    done = get(client, shop.operator, f"/work-orders/{order.id}").json
    assert done["status"] == "completed" and done["good_qty"] == 7 and done["completed_at"]


def test_events_carry_quantities_lots_machine_and_operator(client, shop, db_session):
    order = shop.order(quantity=5)
    op10, op20 = ops(order)
    _start(client, shop, op10)
    _report(
        client,
        shop,
        op10,
        good=4,
        scrap=1,
        scrap_reason_id=shop.scrap_burr.id,
        output_lot="L7",
        consumed_lots=["BAR-9"],
    )
    post(client, shop.operator, f"/operations/{op10.id}/complete", {})
    _start(client, shop, op20, machine=shop.m3)
    _report(client, shop, op20, good=4)
    post(client, shop.operator, f"/operations/{op20.id}/complete", {})

    with shop.scoped():
        rows = db_session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.occurred_at)).all()
    names = [row.name for row in rows]
    assert names[0] == "orders.order_released"
    assert names.count("orders.operation_started") == 2 and names.count("orders.operation_completed") == 2
    assert names[-1] == "orders.order_completed"
    reported = next(r.payload for r in rows if r.name == "orders.operation_reported")
    assert reported["good"] == 4 and reported["scrap"] == 1 and reported["scrap_reason_code"] == "BURR"
    assert reported["output_lot"] == "L7" and reported["consumed_lots"] == ["BAR-9"]
    assert reported["machine_id"] == shop.m1.id and reported["employee_id"] == shop.employees["operator"].id
    finished = next(r.payload for r in rows if r.name == "orders.order_completed")
    assert finished["good_total"] == 4 and finished["number"] == order.number


def test_start_needs_an_eligible_machine(client, shop):
    op10, _op20 = ops(shop.order())
    missing = post(client, shop.operator, f"/operations/{op10.id}/start", {})
    assert missing.status_code == 422 and "machine_id" in missing.json["errors"]
    wrong = _start(client, shop, op10, machine=shop.m3)
    assert wrong.status_code == 422 and "ASM-01" in wrong.json["message"]
    assert _start(client, shop, op10, machine=shop.m2).json["machine_code"] == "CNC-02"


def test_the_next_operation_starts_on_partial_quantities_only_when_the_routing_allows_it(client, shop):
    op10, op20 = ops(shop.order(quantity=10))
    waiting = _start(client, shop, op20, machine=shop.m3)
    assert waiting.status_code == 409 and waiting.json["code"] == "waiting_for_previous"
    _start(client, shop, op10)
    _report(client, shop, op10, good=3)
    assert _start(client, shop, op20, machine=shop.m3).status_code == 200  # operation 10 allows partial transfer

    # Operation 20 does not allow it, so an order with a third step would wait; check the flag itself:
    assert ops(shop.order())[1].allow_partial is False


def test_no_operation_takes_in_more_than_the_previous_one_delivered(client, shop):
    op10, op20 = ops(shop.order(quantity=10))
    _start(client, shop, op10)
    _report(client, shop, op10, good=4)
    _start(client, shop, op20, machine=shop.m3)

    too_many = _report(client, shop, op20, good=3, scrap=2, scrap_reason_id=shop.scrap_burr.id)
    assert too_many.status_code == 422 and too_many.json["code"] == "exceeds_previous_operation"
    assert too_many.json["available"] == 4
    assert _report(client, shop, op20, good=3, scrap=1, scrap_reason_id=shop.scrap_burr.id).status_code == 201
    assert _report(client, shop, op20, good=1).json["code"] == "exceeds_previous_operation"
    # even a supervisor's approval request cannot go past what was delivered
    asked = _report(client, shop, op20, good=1, request_approval=True)
    assert asked.status_code == 422 and asked.json["code"] == "exceeds_previous_operation"
    _report(client, shop, op10, good=2)
    assert _report(client, shop, op20, good=2).status_code == 201
    assert get(client, shop.operator, f"/operations/{op20.id}").json["good_qty"] == 5


def test_tolerance_allows_a_little_more_then_needs_a_supervisor(client, shop):
    shop.tolerance(5)
    op10, _op20 = ops(shop.order(quantity=100))
    _start(client, shop, op10)
    assert _report(client, shop, op10, good=100, scrap=5, scrap_reason_id=shop.scrap_burr.id).status_code == 201

    over = _report(client, shop, op10, good=3)
    assert over.status_code == 422 and over.json["code"] == "over_tolerance"
    assert over.json["limit"] == 105 and over.json["total"] == 108

    asked = _report(client, shop, op10, good=3, request_approval=True)
    assert asked.status_code == 201 and asked.json["status"] == "pending_approval"
    assert asked.json["operation"]["good_qty"] == 100  # not counted before the approval

    blocked = post(client, shop.operator, f"/operations/{op10.id}/complete", {})
    assert blocked.status_code == 409 and blocked.json["code"] == "approval_pending"

    pending = get(client, shop.supervisor, "/reports", query_string={"status": "pending_approval"}).json
    assert [r["id"] for r in pending] == [asked.json["id"]]
    refused = post(client, shop.operator, f"/reports/{asked.json['id']}/approve", {})
    assert refused.status_code == 403  # operators cannot approve
    approved = post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve", {"note": "客户接受超交"})
    assert approved.status_code == 200 and approved.json["status"] == "accepted"
    assert approved.json["operation"]["good_qty"] == 103 and approved.json["decision_note"] == "客户接受超交"
    again = post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve", {})
    assert again.status_code == 409 and again.json["current_state"] == "accepted"
    assert post(client, shop.operator, f"/operations/{op10.id}/complete", {}).status_code == 200


def test_a_rejected_report_never_counts(client, shop):
    op10, _op20 = ops(shop.order(quantity=10))
    _start(client, shop, op10)
    asked = _report(client, shop, op10, good=11, request_approval=True)
    assert asked.json["status"] == "pending_approval"
    rejected = post(client, shop.supervisor, f"/reports/{asked.json['id']}/reject", {"note": "数错了"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert rejected.json["operation"]["good_qty"] == 0
    assert post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve", {}).status_code == 409


def test_the_tolerance_limit_is_exact_in_decimals(client, shop):
    shop.tolerance(7)  # 300 * 1.07 is 320.99999999999994 in binary floating point
    op10, _op20 = ops(shop.order(quantity=300))
    _start(client, shop, op10)
    assert _report(client, shop, op10, good=321).status_code == 201


def test_scrap_needs_a_defect_reason_of_the_right_kind(client, shop):
    op10, _op20 = ops(shop.order())
    _start(client, shop, op10)
    missing = _report(client, shop, op10, good=1, scrap=1)
    assert missing.status_code == 422 and "scrap_reason_id" in missing.json["errors"]
    wrong_kind = _report(client, shop, op10, scrap=1, scrap_reason_id=shop.pause_tool.id)
    assert wrong_kind.status_code == 422 and "scrap_reason_id" in wrong_kind.json["errors"]
    nothing = _report(client, shop, op10)
    assert nothing.status_code == 422 and "good" in nothing.json["errors"]
    negative = _report(client, shop, op10, good=-1)
    assert negative.status_code == 422
    pause_with_downtime = post(client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.downtime.id})
    assert pause_with_downtime.status_code == 422


def test_invalid_actions_are_409_naming_the_current_state(client, shop):
    op10, _op20 = ops(shop.order())
    not_started = _report(client, shop, op10, good=1)
    assert not_started.status_code == 409 and not_started.json["current_state"] == "pending"
    assert not_started.json["operation"]["status"] == "pending"
    assert post(client, shop.operator, f"/operations/{op10.id}/resume", {}).json["current_state"] == "pending"
    _start(client, shop, op10)
    again = _start(client, shop, op10)
    assert again.status_code == 409 and again.json["current_state"] == "running"
    post(client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id})
    twice = post(client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id})
    assert twice.status_code == 409 and twice.json["current_state"] == "paused"
    start_paused = _start(client, shop, op10)
    assert start_paused.status_code == 409 and start_paused.json["current_state"] == "paused"
    post(client, shop.operator, f"/operations/{op10.id}/complete", {})
    late = _report(client, shop, op10, good=1)
    assert late.status_code == 409 and late.json["current_state"] == "completed"


def test_a_stale_version_is_a_409_with_the_current_state(client, shop):
    op10, _op20 = ops(shop.order())
    seen = _start(client, shop, op10).json["version"]
    # another tablet pauses it meanwhile
    post(client, shop.operator2, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id, "version": seen})
    stale = post(client, shop.operator, f"/operations/{op10.id}/complete", {"version": seen})
    assert stale.status_code == 409 and stale.json["code"] == "version_conflict"
    assert stale.json["current_state"] == "paused"
    assert stale.json["operation"]["status"] == "paused" and stale.json["operation"]["version"] == seen + 1
    fresh = post(client, shop.operator, f"/operations/{op10.id}/complete", {"version": seen + 1})
    assert fresh.status_code == 200


def test_several_operators_on_one_operation_and_one_operator_on_several(client, shop):
    first, second = shop.order(), shop.order()
    a, b = ops(first)[0], ops(second)[0]
    _start(client, shop, a, machine=shop.m1)
    joined = _start(client, shop, a, member=shop.operator2, machine=shop.m1)
    assert joined.status_code == 200
    assert sorted(c["employee_no"] for c in joined.json["crew"]) == ["1001", "1002"]
    _start(client, shop, b, machine=shop.m2)  # 张师傅 runs a second machine at the same time

    assert _report(client, shop, a, good=2).status_code == 201
    assert _report(client, shop, a, member=shop.operator2, good=3).status_code == 201
    state = get(client, shop.operator, f"/operations/{a.id}").json
    assert state["good_qty"] == 5
    reports = get(client, shop.operator, f"/operations/{a.id}/reports").json
    assert sorted(r["employee_name"] for r in reports) == sorted(
        [shop.operator.user.display_name, shop.operator2.user.display_name]
    )

    left = post(client, shop.operator2, f"/operations/{a.id}/leave", {})
    assert left.status_code == 200 and [c["employee_no"] for c in left.json["crew"]] == ["1001"]
    assert post(client, shop.operator2, f"/operations/{a.id}/leave", {}).status_code == 409
    on_b = get(client, shop.operator, f"/operations/{b.id}").json
    assert on_b["status"] == "running" and [c["employee_no"] for c in on_b["crew"]] == ["1001"]


def test_operators_report_for_themselves_and_supervisors_for_others(client, shop):
    op10, _op20 = ops(shop.order())
    _start(client, shop, op10)
    other = shop.employees["operator2"].id
    refused = _report(client, shop, op10, good=1, employee_id=other)
    assert refused.status_code == 403
    on_behalf = _report(client, shop, op10, member=shop.supervisor, good=1, employee_id=other)
    assert on_behalf.status_code == 201 and on_behalf.json["employee_id"] == other


def test_a_held_order_stops_the_floor_until_resumed(client, shop):
    order = shop.order()
    op10, _op20 = ops(order)
    _start(client, shop, op10)
    held = post(client, shop.planner, f"/work-orders/{order.id}/hold", {})
    assert held.status_code == 200 and held.json["status"] == "on_hold"
    assert held.json["operations"][0]["status"] == "paused"  # what ran is paused with the order
    refused = _report(client, shop, op10, good=1)
    assert refused.status_code == 409 and refused.json["current_state"] == "on_hold"
    assert post(client, shop.operator, f"/operations/{op10.id}/resume", {}).json["current_state"] == "on_hold"
    assert post(client, shop.planner, f"/work-orders/{order.id}/resume", {}).json["status"] == "in_progress"
    assert post(client, shop.operator, f"/operations/{op10.id}/resume", {}).status_code == 200
    assert _report(client, shop, op10, good=1).status_code == 201


def test_shop_floor_submissions_need_an_idempotency_key(client, shop):
    op10, _op20 = ops(shop.order())
    response = client.post(
        f"/api/v1/orders/operations/{op10.id}/start", json={"machine_id": shop.m1.id}, headers=shop.operator.headers
    )
    assert response.status_code == 422 and "Idempotency-Key" in response.json["errors"]["headers"]


def test_a_replayed_report_is_answered_again_and_counted_once(client, shop, db_session):
    op10, _op20 = ops(shop.order())
    _start(client, shop, op10)
    body = {"good": 4, "output_lot": "L1"}
    first = post(client, shop.operator, f"/operations/{op10.id}/report", body, idempotency_key="tablet-1:r-0001")
    replay = post(client, shop.operator, f"/operations/{op10.id}/report", body, idempotency_key="tablet-1:r-0001")
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json["id"] == first.json["id"]
    with shop.scoped():
        count = db_session.scalar(sa.select(sa.func.count(WorkReport.id)).where(WorkReport.operation_id == op10.id))
    assert count == 1
    assert get(client, shop.operator, f"/operations/{op10.id}").json["good_qty"] == 4


def test_other_roles_cannot_act_on_the_floor(client, shop, make):
    op10, _op20 = ops(shop.order())
    viewer = make.member(shop.tenant, __import__("platform_core.rbac", fromlist=["Role"]).Role.VIEWER)
    assert _start(client, shop, op10, member=viewer).status_code == 403
    assert get(client, viewer, f"/operations/{op10.id}").status_code == 200


def test_statuses_after_the_flow_are_consistent_with_the_reports(client, shop, db_session):
    order = shop.order(quantity=20)
    op10, _op20 = ops(order)
    _start(client, shop, op10)
    for good in (3, 4, 5):
        _report(client, shop, op10, good=good)
    with shop.scoped():
        totals = db_session.scalar(
            sa.select(sa.func.sum(WorkReport.good)).where(
                WorkReport.operation_id == op10.id, WorkReport.status == ReportStatus.ACCEPTED
            )
        )
    state = get(client, shop.operator, f"/operations/{op10.id}").json
    assert totals == state["good_qty"] == 12
    assert state["status"] == OperationStatus.RUNNING.value
    assert get(client, shop.operator, f"/work-orders/{order.id}").json["status"] == OrderStatus.IN_PROGRESS.value


def test_refusals_about_the_previous_operation_and_approvals_carry_the_current_state(client, shop):
    op10, op20 = ops(shop.order(quantity=10))
    waiting = _start(client, shop, op20, machine=shop.m3)
    assert waiting.status_code == 409 and waiting.json["code"] == "waiting_for_previous"
    assert waiting.json["current_state"] == "pending"
    assert waiting.json["operation"]["id"] == op20.id and waiting.json["operation"]["status"] == "pending"

    _start(client, shop, op10)
    _report(client, shop, op10, good=6)
    _start(client, shop, op20, machine=shop.m3)
    _report(client, shop, op20, good=2)
    early = post(client, shop.operator, f"/operations/{op20.id}/complete", {})
    assert early.status_code == 409 and early.json["code"] == "previous_not_completed"
    assert early.json["current_state"] == "running"
    assert (early.json["operation"]["status"], early.json["operation"]["good_qty"]) == ("running", 2)

    asked = _report(client, shop, op10, good=5, request_approval=True)
    assert asked.json["status"] == "pending_approval"
    blocked = post(client, shop.operator, f"/operations/{op10.id}/complete", {})
    assert blocked.status_code == 409 and blocked.json["code"] == "approval_pending"
    assert blocked.json["current_state"] == "running"
    current = blocked.json["operation"]
    assert (current["id"], current["good_qty"], current["version"]) == (op10.id, 6, asked.json["operation"]["version"])
