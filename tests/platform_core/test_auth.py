"""Sign-in, sessions, PIN lockout, throttling, tokens and suspension, through the real HTTP layer."""

from __future__ import annotations

import sqlalchemy as sa

from platform_core.identity.models import WebSession
from platform_core.rbac import Role
from tests.factories import PASSWORD, csrf_token, pin_login, web_login


def test_password_sign_in_rotates_the_session_id(client, make, db_session):
    tenant = make.tenant()
    member = make.member(tenant, Role.PLANNER)
    client.get("/login?mode=password")
    before = client.get_cookie("mes_session")
    response = web_login(client, member.user.username)
    assert response.status_code == 302
    after = client.get_cookie("mes_session")
    assert after is not None and (before is None or before.value != after.value)
    assert after.http_only and after.same_site == "Lax"
    assert client.get("/api/v1/me").json["roles"] == ["planner"]


def test_forms_refuse_posts_without_a_csrf_token(client, make):
    member = make.member(make.tenant())
    response = client.post(
        "/login?mode=password",
        data={"mode": "password", "pw-username": member.user.username, "pw-password": PASSWORD},
    )
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_cookie_authenticated_api_writes_need_the_csrf_header(client, make):
    member = make.member(make.tenant())
    web_login(client, member.user.username)
    body = {"name": "gw", "kind": "machine", "scopes": ["orders.view"]}
    assert client.post("/api/v1/admin/tokens", json=body).status_code == 400
    token = csrf_token(client.get("/").text)
    response = client.post("/api/v1/admin/tokens", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.text


def test_wrong_password_is_refused_and_throttled(app, client, make):
    member = make.member(make.tenant())
    limit = app.config["LOGIN_THROTTLE_MAX_PER_USER"]
    for _ in range(limit):
        response = web_login(client, member.user.username, "wrong-password")
        assert response.status_code == 200 and "Wrong username or password" in response.text
    throttled = web_login(client, member.user.username, PASSWORD)
    assert throttled.status_code == 429
    assert client.get("/api/v1/me").status_code == 401


def test_pin_sign_in_and_lockout_after_repeated_failures(app, client, make, db_session):
    tenant = make.tenant()
    member = make.member(tenant, Role.OPERATOR)
    make.employee(member, "1001", "2580")
    for _ in range(app.config["PIN_MAX_FAILURES"]):
        assert "Wrong employee number or PIN" in pin_login(client, tenant.code, "1001", "9999").text
    locked = pin_login(client, tenant.code, "1001", "2580")
    assert locked.status_code == 429 and "locked" in locked.text
    # A PIN reset by the factory's administrator lifts the lockout.
    admin = make.member(tenant)
    reset = client.post(f"/api/v1/admin/users/{member.user.id}/pin", json={"pin": "3691"}, headers=admin.headers)
    assert reset.status_code == 204
    assert pin_login(client, tenant.code, "1001", "3691").status_code == 302
    assert client.get("/api/v1/me").json["roles"] == ["operator"]


def test_weak_pins_and_passwords_are_refused_field_by_field(client, make):
    admin = make.member(make.tenant())
    body = {"username": "newbie", "display_name": "N", "password": "123", "roles": ["operator"]}
    response = client.post("/api/v1/admin/users", json=body, headers=admin.headers)
    assert response.status_code == 422 and "password" in response.json["errors"]
    body = {"username": "newbie", "display_name": "N", "employee_no": "77", "pin": "1111", "roles": ["operator"]}
    response = client.post("/api/v1/admin/users", json=body, headers=admin.headers)
    assert response.status_code == 422 and "pin" in response.json["errors"]


def test_tokens_are_shown_once_scoped_and_revocable(client, make, db_session):
    admin = make.member(make.tenant())
    created = client.post(
        "/api/v1/admin/tokens",
        json={"name": "gateway", "kind": "machine", "scopes": ["equipment.view"]},
        headers=admin.headers,
    )
    assert created.status_code == 201
    secret, token_id = created.json["secret"], created.json["id"]
    gateway = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/equipment/", headers=gateway).status_code == 200
    assert client.get("/api/v1/orders/", headers=gateway).status_code == 403  # outside its scopes
    listed = client.get(f"/api/v1/admin/tokens/{token_id}", headers=admin.headers).json
    assert "secret" not in listed and listed["last_used_at"] is not None
    assert client.delete(f"/api/v1/admin/tokens/{token_id}", headers=admin.headers).status_code == 200
    assert client.get("/api/v1/equipment/", headers=gateway).status_code == 401


def test_a_personal_token_never_exceeds_its_users_current_roles(client, make, db_session):
    tenant = make.tenant()
    member = make.member(tenant, Role.PLANNER)
    assert client.get("/api/v1/scheduling/", headers=member.headers).status_code == 200
    admin = make.member(tenant)
    user = client.get(f"/api/v1/admin/users/{member.user.id}", headers=admin.headers)
    changed = client.patch(
        f"/api/v1/admin/users/{member.user.id}",
        json={"roles": ["viewer"]},
        headers={**admin.headers, "If-Match": user.headers["ETag"]},
    )
    assert changed.status_code == 200
    assert "scheduling.plan" not in client.get("/api/v1/me", headers=member.headers).json["permissions"]


def test_suspending_a_factory_stops_its_sessions_and_tokens_and_keeps_its_data(client, app, make, db_session):
    tenant = make.tenant()
    member = make.member(tenant, Role.PLANNER)
    operator = make.operator()
    browser = app.test_client()
    web_login(browser, member.user.username)
    assert browser.get("/api/v1/me").status_code == 200
    web_login(client, operator.username)
    page = client.get(f"/platform/tenants/{tenant.id}")
    response = client.post(
        f"/platform/tenants/{tenant.id}/status", data={"status": "suspended", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    assert browser.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=member.headers).status_code == 401
    sessions = db_session.scalar(
        sa.select(sa.func.count()).select_from(WebSession).where(WebSession.tenant_id == tenant.id)
    )
    assert sessions == 0
    assert db_session.get(type(member.user), member.user.id) is not None


def test_a_disabled_app_is_404_and_leaves_the_navigation(client, make, db_session):
    tenant = make.tenant(apps=("orders",))
    member = make.member(tenant, Role.VIEWER)
    assert client.get("/api/v1/orders/", headers=member.headers).status_code == 200
    assert client.get("/api/v1/equipment/", headers=member.headers).status_code == 404
    web_login(client, member.user.username)
    home = client.get("/").text
    assert 'data-app="orders"' in home and 'data-app="equipment"' not in home
    assert client.get("/equipment/").status_code == 404


def test_sign_out_ends_the_server_side_session(client, make, db_session):
    member = make.member(make.tenant())
    web_login(client, member.user.username)
    cookie = client.get_cookie("mes_session").value
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    client.set_cookie("mes_session", cookie)  # replaying the old cookie does not bring the session back
    assert client.get("/api/v1/me").status_code == 401
