"""The audit trail: every change of a tenant-owned record, with its actor, from one mechanism."""

from __future__ import annotations

import sqlalchemy as sa

from platform_core.audit import AuditEntry
from platform_core.rbac import Role


def _entries(db_session, tenant_id, **where):
    statement = sa.select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.id)
    for key, value in where.items():
        statement = statement.where(getattr(AuditEntry, key) == value)
    return db_session.scalars(statement.execution_options(skip_tenant_filter=True)).all()


def test_creating_a_user_through_the_api_is_audited_with_its_actor(client, make, db_session):
    tenant = make.tenant()
    admin = make.member(tenant)
    body = {"username": "zhangwei", "display_name": "张伟", "employee_no": "1001", "pin": "2580", "roles": ["operator"]}
    created = client.post("/api/v1/admin/users", json=body, headers=admin.headers)
    assert created.status_code == 201
    employee = _entries(db_session, tenant.id, entity="platform_employees", action="create")[-1]
    assert employee.actor == admin.user.username and employee.actor_user_id == admin.user.id
    assert employee.actor_token_id == admin.token.id
    assert employee.changes["employee_no"] == [None, "1001"]
    assert employee.changes["pin_hash"] == [None, "***"]  # secrets are never copied into the trail
    membership = _entries(db_session, tenant.id, entity="platform_memberships", action="create")[-1]
    assert membership.changes["role"] == [None, "operator"]


def test_updates_record_each_changed_field_before_and_after(client, make, db_session):
    tenant = make.tenant()
    admin = make.member(tenant)
    created = client.post(
        "/api/v1/admin/webhooks",
        json={"name": "ERP", "url": "https://erp.example/in", "events": ["*"]},
        headers=admin.headers,
    ).json
    url = f"/api/v1/admin/webhooks/{created['id']}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    client.patch(url, json={"name": "ERP 2", "active": False}, headers={**admin.headers, "If-Match": etag})
    update = _entries(db_session, tenant.id, entity="platform_webhooks", action="update")[-1]
    assert update.entity_id == str(created["id"])
    assert update.changes == {"name": ["ERP", "ERP 2"], "active": [True, False]}
    client.delete(url, headers=admin.headers)
    deleted = _entries(db_session, tenant.id, entity="platform_webhooks", action="delete")[-1]
    assert deleted.changes["name"] == ["ERP 2", None] and deleted.changes["secret"] == ["***", None]


def test_role_changes_are_audited(client, make, db_session):
    tenant = make.tenant()
    admin = make.member(tenant)
    target = make.member(tenant, Role.OPERATOR)
    url = f"/api/v1/admin/users/{target.user.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    client.patch(url, json={"roles": ["supervisor"]}, headers={**admin.headers, "If-Match": etag})
    actions = [(e.action, e.changes["role"]) for e in _entries(db_session, tenant.id, entity="platform_memberships")]
    assert ("delete", ["operator", None]) in actions and ("create", [None, "supervisor"]) in actions


def test_admins_query_the_trail_by_record_user_and_time_and_see_only_their_factory(client, make, db_session):
    tenant, other = make.tenant(), make.tenant()
    admin, other_admin = make.member(tenant), make.member(other)
    client.post(
        "/api/v1/admin/webhooks",
        json={"name": "A", "url": "https://a.example/", "events": ["*"]},
        headers=admin.headers,
    )
    client.post(
        "/api/v1/admin/webhooks",
        json={"name": "B", "url": "https://b.example/", "events": ["*"]},
        headers=other_admin.headers,
    )
    listed = client.get(
        f"/api/v1/admin/audit?entity=platform_webhooks&user_id={admin.user.id}", headers=admin.headers
    ).json
    assert [e["changes"]["name"][1] for e in listed] == ["A"]
    assert client.get("/api/v1/admin/audit?since=2999-01-01T00:00:00Z", headers=admin.headers).json == []
    everything = client.get("/api/v1/admin/audit?page_size=100", headers=admin.headers).json
    assert all(e["actor"] != other_admin.user.username for e in everything)
    viewer = make.member(tenant, Role.VIEWER)
    assert client.get("/api/v1/admin/audit", headers=viewer.headers).status_code == 403
