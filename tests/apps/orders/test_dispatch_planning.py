"""Dispatch lists (priority and due date, or the published plan) and the planning service for the scheduling app."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.orders import planning
from apps.orders.models import WorkOrder
from platform_core.errors import ValidationFailed
from tests.apps.orders.conftest import get, ops

T0 = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)


def _dispatch(client, shop, **where):
    response = get(client, shop.operator, "/dispatch", query_string=where)
    assert response.status_code == 200, response.json
    return response.json


def test_without_a_plan_the_list_follows_priority_then_due_date(client, shop):
    later = shop.order(priority=5, due_date=dt.date(2026, 12, 20), number="D-LATER")
    sooner = shop.order(priority=5, due_date=dt.date(2026, 12, 10), number="D-SOONER")
    urgent = shop.order(priority=1, due_date=dt.date(2026, 12, 30), number="D-URGENT")
    undated = shop.order(priority=5, number="D-UNDATED")
    shop.order(release=False, number="D-DRAFT")
    listed = [item["order_number"] for item in _dispatch(client, shop, machine_id=shop.m1.id)]
    assert listed == [urgent.number, sooner.number, later.number, undated.number]
    item = _dispatch(client, shop, machine_id=shop.m1.id)[0]
    assert item["operation"]["sequence"] == 10 and item["ready"] is True and item["available"] == 100
    assert item["planned"] is False and item["product_code"] == "FL-100"


def test_what_runs_on_the_machine_comes_first_and_what_runs_elsewhere_is_not_offered(client, shop):
    first, second, third = shop.order(priority=1), shop.order(priority=2), shop.order(priority=3)
    shop.started(ops(third)[0], shop.m1)
    shop.started(ops(first)[0], shop.m2)
    on_m1 = [item["order_number"] for item in _dispatch(client, shop, machine_id=shop.m1.id)]
    assert on_m1 == [third.number, second.number]
    on_center = [item["order_number"] for item in _dispatch(client, shop, work_center_id=shop.cnc.id)]
    assert set(on_center[:2]) == {first.number, third.number} and on_center[2] == second.number


def test_waiting_operations_are_listed_as_not_ready(client, shop):
    order = shop.order()
    listed = _dispatch(client, shop, machine_id=shop.m3.id)
    assert [(i["order_number"], i["operation"]["sequence"], i["ready"]) for i in listed] == [(order.number, 20, False)]
    shop.started(ops(order)[0])
    shop.reported(ops(order)[0], 5)
    assert _dispatch(client, shop, machine_id=shop.m3.id)[0]["ready"] is True
    assert _dispatch(client, shop, machine_id=shop.m3.id)[0]["available"] == 5


def test_a_published_plan_sets_the_sequence_per_machine(client, shop):
    a, b, c = shop.order(priority=1), shop.order(priority=2), shop.order(priority=3)
    slots = [
        planning.PlannedSlot(ops(c)[0].id, shop.m1.id, T0, T0 + dt.timedelta(hours=2), 1),
        planning.PlannedSlot(ops(a)[0].id, shop.m1.id, T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=4), 2),
        planning.PlannedSlot(ops(b)[0].id, shop.m2.id, T0, T0 + dt.timedelta(hours=3), 1),
    ]
    with shop.scoped():
        assert planning.write_plan(shop.session, slots, plan_ref="schedule-7/v3") == 3
    listed = _dispatch(client, shop, machine_id=shop.m1.id)
    assert [i["order_number"] for i in listed] == [c.number, a.number]  # b is planned on CNC-02
    assert all(i["planned"] for i in listed) and listed[0]["operation"]["planned_sequence"] == 1
    assert [i["order_number"] for i in _dispatch(client, shop, machine_id=shop.m2.id)] == [b.number]
    with shop.scoped():
        assert planning.dispatch_sequence(shop.session, shop.m1.id) == [ops(c)[0].id, ops(a)[0].id]
        planning.clear_plan(shop.session)
    assert [i["order_number"] for i in _dispatch(client, shop, machine_id=shop.m1.id)] == [a.number, b.number, c.number]


def _completions(shop, *orders) -> list[dt.datetime | None]:
    with shop.scoped():
        return [shop.session.get(WorkOrder, order.id).planned_completion for order in orders]


def test_a_plan_gives_each_order_its_planned_completion_and_forgetting_it_clears_it(shop):
    a, b = shop.order(), shop.order()
    (a10, a20), (b10, _b20) = ops(a), ops(b)
    with shop.scoped():
        planning.write_plan(
            shop.session,
            [
                planning.PlannedSlot(a10.id, shop.m1.id, T0, T0 + dt.timedelta(hours=2), 1),
                planning.PlannedSlot(a20.id, shop.m3.id, T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=3), 1),
                planning.PlannedSlot(b10.id, shop.m2.id, T0, T0 + dt.timedelta(hours=5), 1),
            ],
            plan_ref="schedule-1/V1",
        )
    assert _completions(shop, a, b) == [T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=5)]
    with shop.scoped():  # a new plan that covers A only
        slot = planning.PlannedSlot(a10.id, shop.m1.id, T0, T0 + dt.timedelta(hours=4), 1)
        planning.write_plan(shop.session, [slot], plan_ref="schedule-2/V2")
    assert _completions(shop, a, b) == [T0 + dt.timedelta(hours=4), None]
    with shop.scoped():
        planning.clear_plan(shop.session)
    assert _completions(shop, a, b) == [None, None]


def test_a_plan_with_a_bad_slot_writes_nothing(shop):
    a = shop.order()
    good = planning.PlannedSlot(ops(a)[0].id, shop.m1.id, T0, T0 + dt.timedelta(hours=1), 1)
    wrong_machine = planning.PlannedSlot(ops(a)[1].id, shop.m1.id, T0, T0 + dt.timedelta(hours=1), 2)
    with shop.scoped():
        with pytest.raises(ValidationFailed) as refused:
            planning.write_plan(shop.session, [good, wrong_machine], plan_ref="x")
        assert list(refused.value.errors["slots"]) == ["1"]
        assert ops(a)[0].planned_sequence is None


def test_open_orders_give_the_scheduler_what_is_left_to_do(shop):
    order = shop.order(quantity=100, due_date=dt.date(2026, 12, 1), priority=2)
    op10 = ops(order)[0]
    shop.started(op10, shop.m2)
    shop.reported(op10, 40)
    shop.order(release=False)
    with shop.scoped():
        found = planning.open_orders(shop.session)
    assert [o.number for o in found] == [order.number]
    first, second = found[0].operations
    assert (first.status, first.remaining_quantity, first.machine_id) == ("running", 60, shop.m2.id)
    # started: no set-up left; CNC-01 runs the routing's 60 s per piece, CNC-02 its own 90 s
    assert [(o.machine_code, o.minutes) for o in first.options] == [("CNC-01", 60), ("CNC-02", 90)]
    assert second.remaining_quantity == 100 and [(o.machine_code, o.minutes) for o in second.options] == [
        ("ASM-01", 60)
    ]
    assert found[0].due_date == dt.date(2026, 12, 1) and found[0].priority == 2 and first.allow_partial is True
