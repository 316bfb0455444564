"""The quality API over HTTP: the inspector's flow, field-level 422s that write nothing, idempotent submissions,
ETags, photos checked by content and size, roles, and references to another factory's records."""

from __future__ import annotations

import base64
import io

import pytest
import sqlalchemy as sa

from apps.quality.models import Attachment, Inspection, Nonconformance
from tests.apps.quality.conftest import API, OD, VISUAL, build_plant, get, key, post

# The smallest valid PNG (1 × 1 pixel) and a JPEG-looking header around an HTML page.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
FAKE_JPEG = b"\xff\xd8\xff<html><script>alert(1)</script></html>"


def _plan_body(code="QP-API"):
    return {
        "code": code,
        "name": "法兰车削检验",
        "operation_sequence": 10,
        "characteristics": [OD, VISUAL],
        "rules": [{"kind": "every_n", "every_n": 50, "sample_size": 5}],
    }


@pytest.fixture
def active_plan(client, plant):
    created = post(client, plant.inspector, "/plans", {**_plan_body(), "product_id": plant.product.id})
    assert created.status_code == 201, created.text
    plan = created.json
    activated = post(client, plant.inspector, f"/plans/{plan['id']}/activate")
    assert activated.status_code == 200, activated.text
    return activated.json


def _results(plan, od, defectives=0):
    ids = {c["code"]: c["id"] for c in plan["characteristics"]}
    return [
        {"characteristic_id": ids["OD"], "values": od},
        {"characteristic_id": ids["VIS"], "inspected": 5, "defectives": defectives},
    ]


def test_the_inspector_flow_pass_fail_ncr_hold_release(client, plant, active_plan):
    good = post(
        client,
        plant.inspector,
        "/inspections",
        {"plan_id": active_plan["id"], "lot": "L-9", "results": _results(active_plan, [80.0] * 5)},
    )
    assert good.status_code == 201, good.text
    assert good.json["status"] == "passed" and good.json["alarms"] == []
    bad = post(
        client,
        plant.inspector,
        "/inspections",
        {
            "plan_id": active_plan["id"],
            "lot": "L-9",
            "machine_id": plant.machine.id,
            "results": _results(active_plan, [80.0, 80.08, 80.0, 80.0, 80.0], defectives=1),
        },
    )
    assert bad.json["status"] == "failed"
    assert [r["passed"] for r in bad.json["results"]] == [False, False]
    ncr = post(client, plant.inspector, "/ncrs", {"inspection_id": bad.json["id"], "hold_lot": True})
    assert ncr.status_code == 201, ncr.text
    body = ncr.json
    assert body["lot"] == "L-9" and body["machine_code"] == "CNC-01" and body["holds"][0]["released_at"] is None
    held = get(client, plant.viewer, "/holds")
    assert [h["lot"] for h in held.json] == ["L-9"]
    assert post(client, plant.operator, f"/ncrs/{body['id']}/release").status_code == 403
    released = post(client, plant.admin, f"/ncrs/{body['id']}/release", {"note": "复检合格"})
    assert released.status_code == 200 and released.json[0]["released_by"]
    assert get(client, plant.viewer, "/holds").json == []


def test_bad_input_is_a_422_naming_each_field_and_writes_nothing(client, plant, active_plan, db_session):
    ids = {c["code"]: c["id"] for c in active_plan["characteristics"]}
    response = post(
        client,
        plant.inspector,
        "/inspections",
        {
            "plan_id": active_plan["id"],
            "results": [
                {"characteristic_id": ids["OD"], "values": ["abc"]},
                {"characteristic_id": ids["VIS"], "inspected": 5, "defectives": -1, "extra": 1},
            ],
        },
    )
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["results"]
    assert "values" in errors["0"] and {"defectives", "extra"} <= set(errors["1"])
    plan_errors = post(client, plant.inspector, "/plans", {"code": "has space", "product_id": plant.product.id})
    assert plan_errors.status_code == 422
    assert {"code", "name"} <= set(plan_errors.json["errors"]["json"])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_a_retried_submission_is_answered_once(client, plant, active_plan, db_session):
    body = {"plan_id": active_plan["id"], "results": _results(active_plan, [80.0] * 5)}
    headers = {**plant.inspector.headers, "Idempotency-Key": key()}
    first = client.post(f"{API}/inspections", json=body, headers=headers)
    again = client.post(f"{API}/inspections", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert client.post(f"{API}/inspections", json=body, headers=plant.inspector.headers).status_code == 422


def test_editing_an_ncr_needs_its_current_etag(client, plant):
    ncr = post(client, plant.inspector, "/ncrs", {"title": "客户投诉", "quantity": 3}).json
    url = f"{API}/ncrs/{ncr['id']}"
    assert client.patch(url, json={"quantity": 4}, headers=plant.inspector.headers).status_code == 428
    etag = client.get(url, headers=plant.inspector.headers).headers["ETag"]
    changed = client.patch(url, json={"quantity": 4}, headers={**plant.inspector.headers, "If-Match": etag})
    assert changed.status_code == 200 and changed.json["quantity"] == 4
    stale = client.patch(url, json={"quantity": 5}, headers={**plant.inspector.headers, "If-Match": etag})
    assert stale.status_code == 412


def test_the_ncr_workflow_over_http(client, plant):
    ncr = post(client, plant.inspector, "/ncrs", {"title": "毛刺", "quantity": 3, "defect_codes": ["BURR"]}).json
    base = f"/ncrs/{ncr['id']}"
    assert post(client, plant.inspector, f"{base}/approve").status_code == 409
    assert post(client, plant.inspector, f"{base}/propose", {"disposition": "melt"}).status_code == 422
    proposed = post(client, plant.inspector, f"{base}/propose", {"disposition": "rework", "note": "去毛刺"})
    assert proposed.json["status"] == "proposed"
    approved = post(client, plant.admin, f"{base}/approve", {"note": "同意"})
    assert approved.json["status"] == "dispositioned" and approved.json["approved_by"]
    action = post(
        client,
        plant.inspector,
        f"{base}/actions",
        {
            "step": "corrective",
            "description": "更换去毛刺刀",
            "owner_id": plant.inspector.user.id,
            "due_date": "2026-12-01",
        },
    )
    assert action.status_code == 201 and action.json["owner_name"]
    assert post(client, plant.inspector, f"{base}/close").status_code == 409
    done = post(client, plant.inspector, f"{base}/actions/{action.json['id']}/done", {"result": "已更换"})
    assert done.json["status"] == "done"
    for step, description, result in (
        ("cause", "刀具磨损未及时更换", "换刀周期过长"),
        ("verification", "连续三批", "无毛刺"),
    ):
        added = post(client, plant.inspector, f"{base}/actions", {"step": step, "description": description}).json
        post(client, plant.inspector, f"{base}/actions/{added['id']}/done", {"result": result})
    closed = post(client, plant.inspector, f"{base}/close")
    assert closed.json["status"] == "closed"


def test_photos_are_checked_by_content_and_size_and_never_served_as_a_page(client, plant, active_plan, db_session):
    inspection = post(
        client,
        plant.inspector,
        "/inspections",
        {"plan_id": active_plan["id"], "results": _results(active_plan, [80.0] * 5)},
    ).json
    url = f"{API}/inspections/{inspection['id']}/photos"

    def upload(content: bytes, name: str):
        data = {"file": (io.BytesIO(content), name)}
        return client.post(url, data=data, headers=plant.inspector.headers, content_type="multipart/form-data")

    fake = upload(FAKE_JPEG, "photo.jpg")
    assert fake.status_code == 422 and "file" in fake.json["errors"]["multipart"]
    settings = client.get(f"{API}/settings", headers=plant.inspector.headers)
    smaller = client.patch(
        f"{API}/settings",
        json={"photo_max_kb": 64},
        headers={**plant.inspector.headers, "If-Match": settings.headers["ETag"]},
    )
    assert smaller.status_code == 200 and smaller.json["photo_max_kb"] == 64
    big = upload(PNG[:-12] + b"\x00" * (100 * 1024) + PNG[-12:], "big.png")  # a valid-looking PNG of 100 KB
    assert big.status_code == 422 and "64 KB" in big.json["errors"]["multipart"]["file"][0]
    stored = upload(PNG, "../../evil name.html")
    assert stored.status_code == 201, stored.text
    assert stored.json["content_type"] == "image/png" and stored.json["filename"] == "evil_name.png"
    served = client.get(f"{API}/photos/{stored.json['id']}", headers=plant.viewer.headers)
    assert served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1


def test_roles(client, plant, active_plan):
    body = {"plan_id": active_plan["id"], "results": _results(active_plan, [80.0] * 5)}
    assert post(client, plant.operator, "/inspections", body).status_code == 403
    assert post(client, plant.viewer, "/inspections", body).status_code == 403
    assert get(client, plant.viewer, "/inspections").status_code == 200
    assert get(client, plant.operator, "/inspections").status_code == 403
    assert post(client, plant.viewer, "/plans", _plan_body("QP-V")).status_code == 403


def test_another_factorys_records_named_in_a_body_are_unknown(client, plant, make, active_plan, db_session):
    other = build_plant(make)
    from platform_core.db import set_tenant

    set_tenant(db_session, plant.tenant.id)
    for field, value in (
        ("machine_id", other.machine.id),
        ("operator_id", other.employee.id),
        ("order_id", 424242),
        ("plan_id", 10**9),
    ):
        body = {"plan_id": active_plan["id"], "results": _results(active_plan, [80.0] * 5), field: value}
        response = post(client, plant.inspector, "/inspections", body)
        assert response.status_code == 422, field
        assert field in response.json["errors"]["json"], field
    other_ncr = post(client, other.inspector, "/ncrs", {"title": "x"}).json
    assert get(client, plant.inspector, f"/ncrs/{other_ncr['id']}").status_code == 404
    assert db_session.scalar(sa.select(sa.func.count()).where(Nonconformance.tenant_id == plant.tenant.id)) == 0


def test_charts_limits_capability_and_kpis_answer(client, plant, active_plan):
    for i in range(21):
        values = [80.0 + 0.001 * ((i + j) % 5 - 2) for j in range(5)]
        post(
            client,
            plant.inspector,
            "/inspections",
            {"plan_id": active_plan["id"], "results": _results(active_plan, values)},
        )
    charts = get(client, plant.viewer, "/charts").json
    od = next(c for c in charts if c["characteristic_code"] == "OD")
    detail = get(client, plant.viewer, f"/charts/{od['id']}").json
    assert detail["phase"] == "trial" and detail["limits"] is None
    data = get(client, plant.viewer, f"/charts/{od['id']}/data").json
    assert len(data["points"]) == 21 and data["limits"]["ucl"] > data["limits"]["center"]
    assert post(client, plant.viewer, f"/charts/{od['id']}/limits", {}).status_code == 403
    fixed = post(client, plant.inspector, f"/charts/{od['id']}/limits", {"note": "首批基线"})
    assert fixed.status_code == 201 and fixed.json["version"] == 1
    assert get(client, plant.viewer, f"/charts/{od['id']}").json["phase"] == "fixed"
    chosen = client.patch(f"{API}/charts/{od['id']}", json={"rules": [2, 5]}, headers=plant.inspector.headers)
    assert chosen.status_code == 200 and chosen.json["rules"] == [1, 2, 5]  # rule 1 always stays
    bad_rules = client.patch(f"{API}/charts/{od['id']}", json={"rules": [9]}, headers=plant.inspector.headers)
    assert bad_rules.status_code == 422 and "rules" in bad_rules.json["errors"]["json"]
    capability = get(client, plant.viewer, f"/charts/{od['id']}/capability").json
    assert capability["cpk"] > 1 and capability["notes"]
    for path in ("first-pass-yield", "defect-pareto", "ppm", "scrap-cost", "ncr-ageing"):
        assert get(client, plant.viewer, f"/kpis/{path}?days=7").status_code == 200, path
