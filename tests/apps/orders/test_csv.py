"""ERP CSV import (all or nothing, row and column errors, GBK and UTF-8 with BOM) and CSV export."""

from __future__ import annotations

import codecs
import csv
import io

from tests.apps.orders.conftest import API, get, post


def _upload(client, member, content: bytes, **form):
    data = {"file": (io.BytesIO(content), "erp.csv"), **{k: str(v).lower() for k, v in form.items()}}
    return client.post(
        f"{API}/work-orders/import", data=data, headers=member.headers, content_type="multipart/form-data"
    )


CHINESE = (
    "工单号,产品编码,数量,交期,优先级,客户,销售订单,备注\r\n"
    "MO-001,FL-100,120,2026/12/01,2,华为,SO-88,首件检验\r\n"
    "MO-002,FL-100,80,2026-12-05,,小米,,\r\n"
)


def _orders(client, shop):
    return {o["number"]: o for o in get(client, shop.planner, "/work-orders", query_string={"page_size": 100}).json}


def test_an_erp_export_in_gbk_with_chinese_headers_is_imported(client, shop):
    response = _upload(client, shop.planner, CHINESE.encode("gbk"))
    assert response.status_code == 200, response.json
    assert response.json == {
        "dry_run": False,
        "release": False,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "released": 0,
    }
    orders = _orders(client, shop)
    assert orders["MO-001"]["quantity"] == 120 and orders["MO-001"]["due_date"] == "2026-12-01"
    assert orders["MO-001"]["priority"] == 2 and orders["MO-001"]["customer"] == "华为"
    assert orders["MO-001"]["notes"] == "首件检验" and orders["MO-002"]["priority"] == 5
    assert orders["MO-002"]["status"] == "draft"


def test_utf8_with_bom_and_semicolons_and_release_on_import(client, shop):
    content = codecs.BOM_UTF8 + b"number;product;quantity;due_date\nMO-010;FL-100;30;2026-12-10\n"
    response = _upload(client, shop.planner, content, release=True)
    assert response.status_code == 200, response.json
    assert response.json["created"] == 1 and response.json["released"] == 1
    order = _orders(client, shop)["MO-010"]
    assert order["status"] == "released"
    assert len(get(client, shop.planner, f"/work-orders/{order['id']}").json["operations"]) == 2


def test_one_bad_row_imports_nothing_and_every_problem_names_its_row_and_column(client, shop):
    content = (
        "工单号,产品编码,数量,交期,优先级\n"
        "MO-100,FL-100,10,2026-12-01,1\n"
        "MO-101,NOPE,10,2026-12-01,1\n"
        "MO-102,FL-100,-3,next week,12\n"
        "MO-100,FL-100,10,2026-12-01,1\n"
    ).encode()
    response = _upload(client, shop.planner, content)
    assert response.status_code == 422
    problems = {(e["row"], e["column"]) for e in response.json["errors"]}
    assert problems == {(3, "产品编码"), (4, "数量"), (4, "交期"), (4, "优先级"), (5, "工单号")}
    assert "5" in response.json["message"]
    assert _orders(client, shop) == {}


def test_header_problems_are_reported_before_any_row(client, shop):
    response = _upload(client, shop.planner, b"number,quantity,colour\nMO-1,3,red\n")
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json["errors"])
    assert "colour" in messages and "product" in messages
    assert _upload(client, shop.planner, b"").status_code == 422
    assert _upload(client, shop.planner, b"\xff\xfe\x00\x00garbage\x00").status_code == 422


def test_a_repeated_export_updates_drafts_and_open_orders_references_but_not_released_quantities(client, shop):
    _upload(
        client,
        shop.planner,
        b"number,product,quantity,due_date\nMO-1,FL-100,10,2026-12-01\nMO-2,FL-100,20,2026-12-01\n",
        release=False,
    )
    post(client, shop.planner, f"/work-orders/{_orders(client, shop)['MO-2']['id']}/release")

    again = _upload(
        client,
        shop.planner,
        b"number,product,quantity,due_date\nMO-1,FL-100,15,2026-12-01\nMO-2,FL-100,20,2026-12-03\n",
    )
    assert again.status_code == 200, again.json
    assert (again.json["updated"], again.json["created"], again.json["unchanged"]) == (2, 0, 0)
    orders = _orders(client, shop)
    assert orders["MO-1"]["quantity"] == 15 and orders["MO-2"]["due_date"] == "2026-12-03"

    same = _upload(client, shop.planner, b"number,product,quantity,due_date\nMO-2,FL-100,20,2026-12-03\n")
    assert same.json["unchanged"] == 1

    refused = _upload(client, shop.planner, b"number,product,quantity\nMO-2,FL-100,25\n")
    assert refused.status_code == 422
    assert [(e["row"], e["column"]) for e in refused.json["errors"]] == [(2, "quantity")]
    assert "MO-2" in refused.json["errors"][0]["message"]
    assert _orders(client, shop)["MO-2"]["quantity"] == 20


def test_a_dry_run_checks_without_writing(client, shop):
    response = _upload(client, shop.planner, CHINESE.encode("utf-8"), dry_run=True)
    assert response.status_code == 200 and response.json["created"] == 2 and response.json["dry_run"] is True
    assert _orders(client, shop) == {}


def test_release_on_import_fails_the_whole_file_without_a_routing(client, shop):
    with shop.scoped():
        from platform_core.masterdata.models import Product

        shop.session.add(Product(code="NEW-2", name="新品", unit=shop.product.unit))
        shop.session.flush()
    content = b"number,product,quantity\nMO-7,FL-100,5\nMO-8,NEW-2,5\n"
    response = _upload(client, shop.planner, content, release=True)
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json["errors"]] == [(3, "routing_version")]
    assert _orders(client, shop) == {}


def test_the_export_reads_back_as_an_import(client, shop):
    shop.order(quantity=12, customer="美的", number="EX-1")
    exported = client.get(f"{API}/work-orders/export", headers=shop.planner.headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.data.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0]["number"] == "EX-1" and rows[0]["customer"] == "美的" and rows[0]["status"] == "released"
    reimport = _upload(client, shop.planner, exported.data)
    assert reimport.status_code == 200 and reimport.json["unchanged"] == 1
    assert _upload(client, shop.operator, exported.data).status_code == 403


def test_the_export_never_hands_a_spreadsheet_a_formula_and_still_reads_back(client, shop):
    shop.order(quantity=5, number="EX-2", customer="=cmd|' /C calc'!A0", sales_order="+SO-7", notes="@SUM(A1)")
    exported = client.get(f"{API}/work-orders/export", headers=shop.planner.headers)
    row = next(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert row["customer"] == "'=cmd|' /C calc'!A0"
    assert (row["sales_order"], row["notes"], row["quantity"]) == ("'+SO-7", "'@SUM(A1)", "5")
    reimport = _upload(client, shop.planner, exported.data)
    assert reimport.status_code == 200 and reimport.json["unchanged"] == 1
    assert _orders(client, shop)["EX-2"]["customer"] == "=cmd|' /C calc'!A0"
