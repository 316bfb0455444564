"""Routings (versioned) and work orders (status workflow, changes with ETags, release snapshots) over the API."""

from __future__ import annotations

import datetime as dt

import pytest

from platform_core.rbac import Role
from tests.apps.orders.conftest import API, get, ops, post

STEP = {"sequence": 10, "name": "铣削", "setup_minutes": 15, "seconds_per_unit": 40}


def _routing_body(shop, **changes):
    steps = [
        {**STEP, "work_center_id": shop.cnc.id, "machines": [{"machine_id": shop.m2.id, "seconds_per_unit": 35}]},
        {"sequence": 20, "name": "装配", "work_center_id": shop.assembly.id},
    ]
    return {"product_id": shop.product.id, "steps": steps, **changes}


def test_a_routing_is_versioned_and_an_active_version_never_changes(client, shop):
    draft = post(client, shop.planner, "/routings", _routing_body(shop))
    assert draft.status_code == 201, draft.json
    assert draft.json["version"] == 2 and draft.json["status"] == "draft"  # the shop's own routing is version 1
    assert draft.json["steps"][0]["machines"] == [
        {"machine_id": shop.m2.id, "machine_code": "CNC-02", "seconds_per_unit": 35.0}
    ]
    routing_id = draft.json["id"]

    etag = get(client, shop.planner, f"/routings/{routing_id}").headers["ETag"]
    renamed = client.patch(
        f"{API}/routings/{routing_id}",
        json={"steps": [{**STEP, "name": "精铣", "work_center_id": shop.cnc.id}]},
        headers={**shop.planner.headers, "If-Match": etag},
    )
    assert renamed.status_code == 200 and [s["name"] for s in renamed.json["steps"]] == ["精铣"]

    activated = post(client, shop.planner, f"/routings/{routing_id}/activate")
    assert activated.status_code == 200 and activated.json["status"] == "active"
    assert get(client, shop.planner, f"/routings/{shop.routing.id}").json["status"] == "archived"

    etag = get(client, shop.planner, f"/routings/{routing_id}").headers["ETag"]
    locked = client.patch(
        f"{API}/routings/{routing_id}", json={"notes": "x"}, headers={**shop.planner.headers, "If-Match": etag}
    )
    assert locked.status_code == 409 and locked.json["current_state"] == "active"
    assert client.delete(f"{API}/routings/{routing_id}", headers=shop.planner.headers).status_code == 409

    copy = post(client, shop.planner, f"/routings/{routing_id}/new-version")
    assert copy.status_code == 201 and copy.json["version"] == 3 and copy.json["status"] == "draft"
    assert [s["name"] for s in copy.json["steps"]] == ["精铣"]
    assert client.delete(f"{API}/routings/{copy.json['id']}", headers=shop.planner.headers).status_code == 204


def test_release_snapshots_the_routing_so_later_versions_change_nothing_released(client, shop):
    order = shop.order(quantity=40)
    before = get(client, shop.planner, f"/work-orders/{order.id}").json
    assert before["routing_version"] == 1
    assert [(o["sequence"], o["name"], o["quantity"]) for o in before["operations"]] == [
        (10, "车削", 40),
        (20, "装配", 40),
    ]
    assert before["operations"][0]["machines"][1] == {
        "machine_id": shop.m2.id,
        "machine_code": "CNC-02",
        "seconds_per_unit": 90.0,
    }

    new = post(client, shop.planner, "/routings", _routing_body(shop)).json
    post(client, shop.planner, f"/routings/{new['id']}/activate")
    after = get(client, shop.planner, f"/work-orders/{order.id}").json

    def snapshot(detail):
        return [{k: v for k, v in op.items() if k != "server_time"} for op in detail["operations"]]

    assert snapshot(after) == snapshot(before)
    assert get(client, shop.planner, f"/work-orders/{shop.order().id}").json["operations"][0]["name"] == "铣削"


def test_routing_steps_are_checked(client, shop):
    body = _routing_body(shop)
    body["steps"][1]["machines"] = [{"machine_id": shop.m1.id}]  # a CNC machine on the assembly step
    body["steps"].append({"sequence": 20, "name": "重复", "work_center_id": shop.cnc.id})
    response = post(client, shop.planner, "/routings", body)
    assert response.status_code == 422
    assert set(response.json["errors"]["steps"]) == {"1", "2"}
    assert post(client, shop.planner, "/routings", {**body, "steps": []}).status_code == 422


def test_create_a_work_order_with_the_next_number_of_the_day(client, shop):
    body = {"product_id": shop.product.id, "quantity": 50, "due_date": "2026-12-01", "priority": 2, "customer": "华为"}
    first = post(client, shop.planner, "/work-orders", body)
    second = post(client, shop.planner, "/work-orders", body)
    assert first.status_code == 201 and first.json["status"] == "draft"
    today = dt.datetime.now(dt.UTC).date()
    assert first.json["number"] == f"WO-{today:%y%m%d}-001" and second.json["number"] == f"WO-{today:%y%m%d}-002"
    taken = post(client, shop.planner, "/work-orders", {**body, "number": first.json["number"]})
    assert taken.status_code == 409 and "number" in taken.json["errors"]
    assert post(client, shop.planner, "/work-orders", {**body, "quantity": 0}).status_code == 422
    assert post(client, shop.planner, "/work-orders", {**body, "priority": 10}).status_code == 422


@pytest.mark.parametrize(
    ("path", "from_status"),
    [("close", "released"), ("resume", "released"), ("release", "released")],
)
def test_an_invalid_transition_is_a_409_naming_the_current_status(client, shop, path, from_status):
    order = shop.order()
    response = post(client, shop.planner, f"/work-orders/{order.id}/{path}")
    assert response.status_code == 409
    assert response.json["code"] == "invalid_transition" and response.json["current_state"] == from_status
    assert order.number in response.json["message"]


def test_the_whole_workflow(client, shop):
    draft = shop.order(release=False)
    assert post(client, shop.planner, f"/work-orders/{draft.id}/release").json["status"] == "released"
    held = post(client, shop.planner, f"/work-orders/{draft.id}/hold").json
    assert held["status"] == "on_hold"
    assert post(client, shop.planner, f"/work-orders/{draft.id}/resume").json["status"] == "released"
    assert post(client, shop.planner, f"/work-orders/{draft.id}/cancel").json["status"] == "cancelled"
    cancelled_again = post(client, shop.planner, f"/work-orders/{draft.id}/cancel")
    assert cancelled_again.status_code == 409 and cancelled_again.json["current_state"] == "cancelled"

    running = shop.order(quantity=2)
    op10, op20 = ops(running)
    shop.started(op10)
    refused = post(client, shop.planner, f"/work-orders/{running.id}/cancel")
    assert refused.status_code == 409 and refused.json["current_state"] == "in_progress"
    shop.reported(op10, 2)
    post(client, shop.operator, f"/operations/{op10.id}/complete")
    shop.started(op20, shop.m3)
    shop.reported(op20, 2)
    post(client, shop.operator, f"/operations/{op20.id}/complete")
    assert get(client, shop.planner, f"/work-orders/{running.id}").json["status"] == "completed"
    closed = post(client, shop.planner, f"/work-orders/{running.id}/close").json
    assert closed["status"] == "closed" and closed["closed_at"]


def test_a_release_needs_an_active_routing(client, shop, make):
    with shop.scoped():
        from platform_core.masterdata.models import Product

        bare = Product(code="NEW-1", name="新品", unit=shop.product.unit)
        shop.session.add(bare)
        shop.session.flush()
    order = post(client, shop.planner, "/work-orders", {"product_id": bare.id, "quantity": 5}).json
    refused = post(client, shop.planner, f"/work-orders/{order['id']}/release")
    assert refused.status_code == 409 and refused.json["code"] == "no_routing"
    assert get(client, shop.planner, f"/work-orders/{order['id']}").json["status"] == "draft"


def test_changes_need_the_current_etag_and_respect_the_status(client, shop):
    draft = shop.order(release=False)
    url = f"{API}/work-orders/{draft.id}"
    assert client.patch(url, json={"quantity": 60}, headers=shop.planner.headers).status_code == 428
    etag = get(client, shop.planner, f"/work-orders/{draft.id}").headers["ETag"]
    changed = client.patch(url, json={"quantity": 60}, headers={**shop.planner.headers, "If-Match": etag})
    assert changed.status_code == 200 and changed.json["quantity"] == 60
    stale = client.patch(url, json={"quantity": 70}, headers={**shop.planner.headers, "If-Match": etag})
    assert stale.status_code == 412

    post(client, shop.planner, f"/work-orders/{draft.id}/release")
    etag = get(client, shop.planner, f"/work-orders/{draft.id}").headers["ETag"]
    frozen = client.patch(url, json={"quantity": 80}, headers={**shop.planner.headers, "If-Match": etag})
    assert (
        frozen.status_code == 409 and frozen.json["current_state"] == "released" and "quantity" in frozen.json["errors"]
    )
    moved = client.patch(
        url, json={"due_date": "2026-12-24", "priority": 1}, headers={**shop.planner.headers, "If-Match": etag}
    )
    assert moved.status_code == 200 and moved.json["due_date"] == "2026-12-24" and moved.json["priority"] == 1


def test_the_list_filters_by_status_text_and_lateness(client, shop):
    late = shop.order(due_date=dt.date(2020, 1, 1), customer="老客户")
    shop.order(due_date=dt.date(2099, 1, 1))
    shop.order(release=False)
    drafts = get(client, shop.planner, "/work-orders", query_string={"status": "draft"}).json
    assert [o["status"] for o in drafts] == ["draft"]
    assert [o["number"] for o in get(client, shop.planner, "/work-orders", query_string={"late": "true"}).json] == [
        late.number
    ]
    assert [o["number"] for o in get(client, shop.planner, "/work-orders", query_string={"q": "老客"}).json] == [
        late.number
    ]
    assert len(get(client, shop.planner, "/work-orders", query_string={"q": "FL-100"}).json) == 3


def test_who_may_manage(client, shop, make):
    operator_try = post(client, shop.operator, "/work-orders", {"product_id": shop.product.id, "quantity": 1})
    assert operator_try.status_code == 403
    viewer = make.member(shop.tenant, Role.VIEWER)
    assert get(client, viewer, "/work-orders").status_code == 200
    assert post(client, viewer, f"/work-orders/{shop.order().id}/hold").status_code == 403
