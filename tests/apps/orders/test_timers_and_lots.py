"""Timers from server timestamps across pauses, and the held-lot hook fed by quality's events."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from apps.orders import events as subscribers
from apps.orders.models import HeldLot
from platform_core import events
from platform_core.db import db
from platform_core.events import Event
from tests.apps.orders.conftest import T0, committed, get, ops, post


def _timers(client, member, operation) -> tuple[str, int, int]:
    state = get(client, member, f"/operations/{operation.id}").json
    return state["status"], state["running_s"], state["paused_s"]


def test_timers_come_from_server_time_across_pauses_devices_and_completion(client, shop, clock):
    op10, _op20 = ops(shop.order())
    post(client, shop.operator, f"/operations/{op10.id}/start", {"machine_id": shop.m1.id})
    clock.at(600)
    assert _timers(client, shop.operator, op10) == ("running", 600, 0)
    post(client, shop.operator, f"/operations/{op10.id}/pause", {"reason_id": shop.pause_tool.id})
    clock.at(900)
    assert _timers(client, shop.operator2, op10) == ("paused", 600, 300)  # another tablet, the same numbers
    post(client, shop.operator2, f"/operations/{op10.id}/resume")
    clock.at(1000)
    state = get(client, shop.operator, f"/operations/{op10.id}").json
    assert (state["running_s"], state["paused_s"]) == (700, 300)
    assert state["status_since"] == (T0 + dt.timedelta(seconds=900)).isoformat()
    assert state["server_time"] == (T0 + dt.timedelta(seconds=1000)).isoformat()
    clock.at(1200)
    post(client, shop.operator, f"/operations/{op10.id}/complete")
    clock.at(9000)
    assert _timers(client, shop.operator, op10) == ("completed", 900, 300)  # frozen once completed

    timeline = get(client, shop.operator, f"/operations/{op10.id}/events").json
    assert [(e["kind"], e["at"]) for e in timeline] == [
        ("start", T0.isoformat()),
        ("pause", (T0 + dt.timedelta(seconds=600)).isoformat()),
        ("resume", (T0 + dt.timedelta(seconds=900)).isoformat()),
        ("complete", (T0 + dt.timedelta(seconds=1200)).isoformat()),
    ]
    assert timeline[1]["reason_code"] == "TOOL" and timeline[2]["employee_name"] == shop.operator2.user.display_name


def test_a_hold_closes_the_running_interval_at_the_hold(client, shop, clock):
    order = shop.order()
    op10 = ops(order)[0]
    post(client, shop.operator, f"/operations/{op10.id}/start", {"machine_id": shop.m1.id})
    clock.at(300)
    with shop.make.app.app_context(), shop.scoped():
        from apps.orders import work_orders

        work_orders.hold_order(shop.session, order, now=clock.now)
    clock.at(500)
    assert _timers(client, shop.operator, op10) == ("paused", 300, 200)


# --- held lots ----------------------------------------------------------------------------------------------------


def _event(shop, name: str, at: dt.datetime, **payload) -> Event:
    return Event(str(uuid.uuid4()), name, shop.tenant.id, payload, at, {"label": "quality"})


def _hold(shop, lot: str, at: dt.datetime, ncr_id: int = 1) -> None:
    with shop.scoped():
        subscribers.on_lot_held(
            shop.session, _event(shop, "quality.lot_held", at, lot=lot, ncr_id=ncr_id, reason="尺寸超差")
        )


def _release(shop, lot: str, at: dt.datetime, ncr_id: int = 1) -> None:
    with shop.scoped():
        subscribers.on_lot_released(shop.session, _event(shop, "quality.lot_released", at, lot=lot, ncr_id=ncr_id))


def test_a_held_lot_blocks_reports_naming_it_until_released(client, shop):
    order = shop.order()
    op10, op20 = ops(order)
    shop.started(op10)
    assert (
        post(client, shop.operator, f"/operations/{op10.id}/report", {"good": 5, "output_lot": "L2405-113"}).status_code
        == 201
    )
    post(client, shop.operator, f"/operations/{op20.id}/start", {"machine_id": shop.m3.id})
    _hold(shop, "L2405-113", T0)

    listed = get(client, shop.operator, "/held-lots").json
    assert [(x["lot"], x["reason"]) for x in listed] == [("L2405-113", "尺寸超差")]
    dispatched = get(client, shop.operator, "/dispatch", query_string={"machine_id": shop.m3.id}).json[0]
    assert dispatched["input_lots"] == ["L2405-113"] and dispatched["held_lots"] == ["L2405-113"]

    refused = post(client, shop.operator, f"/operations/{op20.id}/report", {"good": 2, "consumed_lots": ["L2405-113"]})
    assert refused.status_code == 409 and refused.json["code"] == "lot_held"
    assert refused.json["lots"] == ["L2405-113"] and "consumed_lots" in refused.json["errors"]
    assert "L2405-113" in refused.json["message"] and "尺寸超差" in refused.json["message"]
    same_lot_out = post(
        client, shop.operator, f"/operations/{op10.id}/report", {"good": 1, "output_lot": " L2405-113 "}
    )
    assert same_lot_out.status_code == 409

    _release(shop, "L2405-113", T0 + dt.timedelta(hours=2))
    assert get(client, shop.operator, "/held-lots").json == []
    assert (
        post(
            client, shop.operator, f"/operations/{op20.id}/report", {"good": 2, "consumed_lots": ["L2405-113"]}
        ).status_code
        == 201
    )


def test_holds_come_out_right_whatever_order_the_events_arrive_in(shop):
    _release(shop, "L1", T0 + dt.timedelta(minutes=5))  # the release overtook its hold
    _hold(shop, "L1", T0)
    _hold(shop, "L2", T0)
    _hold(shop, "L2", T0)  # delivered twice
    _hold(shop, "L3", T0, ncr_id=1)
    _hold(shop, "L3", T0, ncr_id=2)
    _release(shop, "L3", T0 + dt.timedelta(minutes=1), ncr_id=1)  # the other nonconformance still holds it
    _hold(shop, "L4", T0)
    _release(shop, "L4", T0 + dt.timedelta(minutes=1))
    _hold(shop, "L4", T0 + dt.timedelta(minutes=2))  # held again later
    with shop.scoped():
        from apps.orders import lots

        assert sorted(lots.held_among(shop.session, ["L1", "L2", "L3", "L4", "L5"])) == ["L2", "L3", "L4"]
        assert shop.session.scalar(sa.select(sa.func.count(HeldLot.id)).where(HeldLot.lot == "L2")) == 1


def test_quality_events_reach_the_orders_app_through_the_outbox(orders_app, committed_shop):
    shop = committed_shop
    with orders_app.app_context(), db.unit_of_work(shop.tenant.id) as session:
        events.publish(session, "quality.lot_held", {"lot": "BAR-77", "ncr_id": 9, "reason": "材质不符"})

    def held(session):
        return [(row.lot, row.ncr_id, row.is_held) for row in session.scalars(sa.select(HeldLot))]

    assert committed(orders_app, shop, held) == [("BAR-77", 9, True)]
    with orders_app.app_context(), db.unit_of_work(shop.tenant.id) as session:
        events.publish(session, "quality.lot_released", {"lot": "BAR-77", "ncr_id": 9})
    assert committed(orders_app, shop, held) == [("BAR-77", 9, False)]


def test_an_approval_is_refused_while_its_lot_is_held(client, shop):
    op10, _op20 = ops(shop.order(quantity=5))
    shop.started(op10)
    asked = post(
        client,
        shop.operator,
        f"/operations/{op10.id}/report",
        {"good": 6, "output_lot": "L9", "request_approval": True},
    )
    assert asked.json["status"] == "pending_approval"
    _hold(shop, "L9", T0)
    refused = post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve")
    assert refused.status_code == 409 and refused.json["code"] == "lot_held"


def _report(client, shop, operation, **body):
    return post(client, shop.operator, f"/operations/{operation.id}/report", body)


def test_a_held_input_lot_blocks_the_next_operation_even_when_the_report_names_no_lot(client, shop):
    op10, op20 = ops(shop.order())
    shop.started(op10)
    _report(client, shop, op10, good=10, output_lot="L-A")
    post(client, shop.operator, f"/operations/{op20.id}/start", {"machine_id": shop.m3.id})
    _hold(shop, "L-A", T0)

    unnamed = _report(client, shop, op20, good=2)
    assert unnamed.status_code == 409 and unnamed.json["code"] == "lot_held"
    assert unnamed.json["lots"] == ["L-A"] and "L-A" in unnamed.json["message"]
    assert "consumed_lots" in unnamed.json["errors"]
    assert unnamed.json["current_state"] == "running" and unnamed.json["operation"]["good_qty"] == 0
    other_material = _report(client, shop, op20, good=2, consumed_lots=["BOLT-7"])
    assert other_material.status_code == 409 and other_material.json["code"] == "lot_held"

    _report(client, shop, op10, good=10, output_lot="L-B")  # a second, good lot arrives
    on_the_free_lot = _report(client, shop, op20, good=2, consumed_lots=["L-B", "BOLT-7"])
    assert on_the_free_lot.status_code == 201, on_the_free_lot.json
    assert _report(client, shop, op20, good=1).status_code == 409  # unnamed, it may still be the held lot

    _release(shop, "L-A", T0 + dt.timedelta(hours=1))
    assert _report(client, shop, op20, good=1).status_code == 201
    assert get(client, shop.operator, f"/operations/{op20.id}").json["good_qty"] == 3


def test_an_operation_whose_input_lots_are_all_held_cannot_start(client, shop):
    op10, op20 = ops(shop.order())
    shop.started(op10)
    _report(client, shop, op10, good=5, output_lot="L-A")
    _hold(shop, "L-A", T0)

    refused = post(client, shop.operator, f"/operations/{op20.id}/start", {"machine_id": shop.m3.id})
    assert refused.status_code == 409 and refused.json["code"] == "lot_held"
    assert refused.json["lots"] == ["L-A"] and "L-A" in refused.json["message"]
    assert refused.json["current_state"] == "pending" and refused.json["operation"]["status"] == "pending"
    assert get(client, shop.operator, f"/operations/{op20.id}/events").json == []

    _report(client, shop, op10, good=5, output_lot="L-B")
    started = post(client, shop.operator, f"/operations/{op20.id}/start", {"machine_id": shop.m3.id})
    assert started.status_code == 200 and started.json["status"] == "running"


def test_an_approval_is_refused_while_the_lot_it_takes_in_is_held(client, shop):
    op10, op20 = ops(shop.order(quantity=5))
    shop.started(op10)
    delivered = _report(client, shop, op10, good=6, output_lot="L-A", request_approval=True)
    post(client, shop.supervisor, f"/reports/{delivered.json['id']}/approve")
    post(client, shop.operator, f"/operations/{op20.id}/start", {"machine_id": shop.m3.id})
    asked = _report(client, shop, op20, good=6, request_approval=True)
    assert asked.json["status"] == "pending_approval"
    _hold(shop, "L-A", T0)

    refused = post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve")
    assert refused.status_code == 409 and refused.json["code"] == "lot_held"
    assert refused.json["operation"]["good_qty"] == 0
    _release(shop, "L-A", T0 + dt.timedelta(hours=1))
    approved = post(client, shop.supervisor, f"/reports/{asked.json['id']}/approve")
    assert approved.status_code == 200 and approved.json["operation"]["good_qty"] == 6
