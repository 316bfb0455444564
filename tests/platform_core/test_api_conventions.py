"""API conventions: one error shape, bounded ids, body limits, pagination, ETags, offline OpenAPI docs."""

from __future__ import annotations

from platform_core.rbac import Role


def test_validation_errors_name_every_bad_field(client, make):
    admin = make.member(make.tenant())
    response = client.post(
        "/api/v1/admin/users", json={"username": "x y", "roles": ["nope"], "extra": 1}, headers=admin.headers
    )
    assert response.status_code == 422
    body = response.json
    assert set(body) >= {"code", "status", "message", "errors"} and body["status"] == 422
    fields = body["errors"]["json"]
    assert {"username", "display_name", "roles", "extra"} <= set(fields)


def test_text_with_control_characters_is_refused_and_nothing_is_stored(client, make):
    admin = make.member(make.tenant())
    body = {"code": "W9", "name": "Halle\x01B", "name_en": "line one\nline two\tok"}
    response = client.post("/api/v1/masterdata/workshops", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"name"}  # newline and tab are fine
    assert client.get("/api/v1/masterdata/workshops", headers=admin.headers).json == []


def test_huge_malformed_ids_and_unknown_routes_are_json_404s(client, make):
    admin = make.member(make.tenant())
    for url in ("/api/v1/admin/users/99999999999999999999999", "/api/v1/admin/users/-1", "/api/v1/admin/users/abc"):
        response = client.get(url, headers=admin.headers)
        assert response.status_code == 404 and response.json["code"] == "not_found", url
    assert client.get("/api/v1/nowhere", headers=admin.headers).json["status"] == 404


def test_malformed_and_oversized_bodies_are_4xx(app, client, make):
    admin = make.member(make.tenant())
    headers = {**admin.headers, "Content-Type": "application/json"}
    response = client.post("/api/v1/admin/tokens", data="{not json", headers=headers)
    assert 400 <= response.status_code < 500 and "code" in response.json
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/admin/tokens", data=big, headers=headers)
    assert response.status_code == 413 and response.json["code"] == "request_entity_too_large"


def test_wrong_method_is_a_json_405(client, make):
    admin = make.member(make.tenant())
    response = client.put("/api/v1/admin/users", headers=admin.headers, json={})
    assert response.status_code == 405 and response.json["status"] == 405


def test_lists_are_paginated(client, make):
    tenant = make.tenant()
    admin = make.member(tenant)
    for _ in range(3):
        make.member(tenant, Role.OPERATOR)
    response = client.get("/api/v1/admin/users?page=2&page_size=2", headers=admin.headers)
    assert response.status_code == 200 and len(response.json) == 2  # 5 users: the tenant's admin, ours, 3
    assert '"total": 5' in response.headers["X-Pagination"]
    assert client.get("/api/v1/admin/users?page=999999999999999999", headers=admin.headers).json == []
    assert client.get("/api/v1/admin/users?page_size=100000", headers=admin.headers).status_code == 422


def test_etags_prevent_lost_updates(client, make):
    tenant = make.tenant()
    admin = make.member(tenant)
    target = make.member(tenant, Role.OPERATOR)
    url = f"/api/v1/admin/users/{target.user.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    assert client.patch(url, json={"display_name": "A"}, headers=admin.headers).status_code == 428
    first = client.patch(url, json={"display_name": "A"}, headers={**admin.headers, "If-Match": etag})
    assert first.status_code == 200
    stale = client.patch(url, json={"display_name": "B"}, headers={**admin.headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    assert client.get(url, headers=admin.headers).json["display_name"] == "A"


def test_openapi_document_and_offline_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/admin/users" in spec["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "http" not in page.text.split("<body>", 1)[1].replace("http-equiv", "")  # no CDN: local assets only
    asset = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "ok"


def test_pages_send_security_headers_and_no_inline_script(client):
    for path in ("/login", "/api/v1/openapi.json", "/static/css/mes.css", "/no-such-page"):
        response = client.get(path)
        response.close()  # a static file is streamed from an open file
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
    assert "<script>" not in client.get("/login").text
    assert response.headers["X-Request-ID"]
