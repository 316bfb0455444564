"""The orders pages: who sees what, the forms behind them, and the live fragments htmx polls."""

from __future__ import annotations

import io

import pytest

from apps.orders.models import OrderStatus
from tests.apps.orders.conftest import ops
from tests.factories import csrf_token, pin_login, web_login


def _signed_in(client, member):
    assert web_login(client, member.user.username).status_code == 302
    return client


def _post_form(client, url: str, data: dict | None = None, page: str | None = None, **kw):
    html = client.get(page or url).text
    return client.post(url, data={"csrf_token": csrf_token(html), **(data or {})}, **kw)


def test_a_pin_signed_in_operator_lands_on_the_shop_floor(client, shop):
    shop.order(number="P-FLOOR")
    response = pin_login(client, shop.tenant.code, "1001", "2580")
    assert response.status_code == 302
    landing = client.get("/orders/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/orders/terminal")
    picker = client.get("/orders/terminal")
    assert picker.status_code == 200 and 'data-machine="CNC-01"' in picker.text
    listed = client.get(f"/orders/terminal/machines/{shop.m1.id}")
    assert listed.status_code == 200 and 'data-order="P-FLOOR"' in listed.text
    fragment = client.get(f"/orders/terminal/machines/{shop.m1.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'data-order="P-FLOOR"' in fragment.text


def test_the_operation_page_shows_state_timers_and_the_right_buttons(client, shop):
    order = shop.order(number="P-OP")
    op10, op20 = ops(order)
    _signed_in(client, shop.operator)
    page = client.get(f"/orders/terminal/operations/{op10.id}?machine_id={shop.m1.id}")
    assert page.status_code == 200
    assert 'data-status="pending"' in page.text and 'id="pause-dialog"' in page.text
    assert f'data-action="start" data-machine="{shop.m1.id}" data-when="pending">' in page.text  # shown
    assert 'data-action="pause" data-when="running" hidden' in page.text
    shop.started(op10)
    panel = client.get(f"/orders/terminal/operations/{op10.id}/panel")
    assert 'data-status="running"' in panel.text and 'data-action="pause" data-when="running">' in panel.text
    waiting = client.get(f"/orders/terminal/operations/{op20.id}")
    assert 'data-ready="false"' in waiting.text


def test_office_pages_render_for_planners(client, shop):
    order = shop.order(number="P-LIST")
    _signed_in(client, shop.planner)
    for url in (
        "/orders/",
        "/orders/work-orders?status=released&q=P-",
        f"/orders/work-orders/{order.id}",
        f"/orders/work-orders/{order.id}/edit",
        "/orders/work-orders/new",
        "/orders/routings",
        f"/orders/routings/{shop.routing.id}",
        "/orders/import",
        "/orders/settings",
        "/orders/board",
        "/orders/board/live",
        "/orders/kpis?days=7",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "P-LIST" in client.get("/orders/work-orders").text


def test_create_release_and_hold_an_order_through_the_pages(client, shop):
    _signed_in(client, shop.planner)
    created = _post_form(
        client,
        "/orders/work-orders/new",
        {
            "number": "P-NEW",
            "product_id": str(shop.product.id),
            "quantity": "30",
            "priority": "3",
            "due_date": "2026-12-01",
        },
    )
    assert created.status_code == 302
    detail_url = created.headers["Location"]
    assert "P-NEW" in client.get(detail_url).text
    order_id = int(detail_url.rstrip("/").rsplit("/", 1)[-1])
    released = _post_form(client, f"/orders/work-orders/{order_id}/release", page=detail_url)
    assert released.status_code == 302
    page = client.get(detail_url).text
    assert 'data-status="released"' in page and 'data-sequence="20"' in page
    again = _post_form(client, f"/orders/work-orders/{order_id}/release", page=detail_url, follow_redirects=True)
    assert "flash error" in again.text  # the 409 shows as a message on the page


def test_a_routing_is_built_on_its_page(client, shop):
    _signed_in(client, shop.planner)
    created = _post_form(client, "/orders/routings/new", {"product_id": str(shop.product.id)}, page="/orders/routings")
    routing_url = created.headers["Location"]
    routing_id = int(routing_url.rstrip("/").rsplit("/", 1)[-1])
    added = _post_form(
        client,
        f"/orders/routings/{routing_id}/steps",
        {"sequence": "30", "name": "去毛刺", "work_center_id": str(shop.cnc.id), "setup_minutes": "5",
         "seconds_per_unit": "12", "machine_ids": [str(shop.m2.id)], "allow_partial": "y"},
        page=routing_url,
    )  # fmt: skip
    assert added.status_code == 302
    page = client.get(routing_url).text
    assert 'data-sequence="30"' in page and "去毛刺" in page and "CNC-02" in page
    activated = _post_form(client, f"/orders/routings/{routing_id}/activate", page=routing_url, follow_redirects=True)
    assert "ord-routing-active" in activated.text


def test_the_erp_import_page_lists_problems_or_imports(client, shop):
    _signed_in(client, shop.planner)
    html = client.get("/orders/import").text
    bad = client.post(
        "/orders/import",
        data={
            "csrf_token": csrf_token(html),
            "file": (io.BytesIO("工单号,产品编码,数量\nI-1,NOPE,3\n".encode("gbk")), "erp.csv"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 200 and 'id="import-errors"' in bad.text and "NOPE" in bad.text
    good = client.post(
        "/orders/import",
        data={
            "csrf_token": csrf_token(html),
            "release": "y",
            "file": (io.BytesIO(b"number,product,quantity\nI-2,FL-100,3\n"), "erp.csv"),
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 200 and "flash success" in good.text
    assert 'data-order="I-2"' in client.get("/orders/work-orders?status=released").text


def test_supervisors_approve_on_the_board(client, shop):
    op10, _op20 = ops(shop.order(quantity=5))
    shop.started(op10)
    with shop.make.app.app_context(), shop.scoped():
        from apps.orders import execution

        record = execution.report(
            shop.session,
            op10,
            execution.ReportInput(good=6, request_approval=True),
            employee=shop.employees["operator"],
        )
    _signed_in(client, shop.supervisor)
    board = client.get("/orders/board").text
    assert f'data-report="{record.id}"' in board and 'hx-trigger="every 5s"' in board
    decided = _post_form(
        client, f"/orders/reports/{record.id}/approve", {"next": "/orders/board"}, page="/orders/board"
    )
    assert decided.status_code == 302 and decided.headers["Location"].endswith("/orders/board")
    assert f'data-report="{record.id}"' not in client.get("/orders/board/live").text


@pytest.mark.parametrize("url", ["/orders/work-orders/new", "/orders/import", "/orders/settings"])
def test_operators_cannot_open_the_planners_pages(client, shop, url):
    _signed_in(client, shop.operator)
    assert client.get(url).status_code == 403


def test_the_settings_page_changes_the_tolerance(client, shop):
    _signed_in(client, shop.planner)
    assert _post_form(client, "/orders/settings", {"over_tolerance_pct": "8"}).status_code == 302
    assert 'value="8.00"' in client.get("/orders/settings").text


def test_the_order_list_shows_every_status_label(client, shop):
    _signed_in(client, shop.planner)
    page = client.get("/orders/work-orders").text
    for status in OrderStatus:
        assert f'value="{status.value}"' in page
