"""The administration pages for webhooks, the audit trail and background jobs, through the real forms."""

from __future__ import annotations

from platform_core.db import tenant_context
from platform_core.jobs import Job
from platform_core.rbac import Role
from tests.factories import csrf_token, web_login


def _english_admin(make, db_session, tenant=None):
    """A tenant administrator who reads the pages in English (the factories' default is Chinese)."""
    admin = make.member(tenant or make.tenant())
    admin.user.preferred_locale = "en"
    db_session.flush()
    return admin


def test_the_hub_shows_the_sections_the_admin_may_use(client, make):
    admin = make.member(make.tenant())
    web_login(client, admin.user.username)
    page = client.get("/admin/").text
    for section in ("users", "tokens", "webhooks", "audit", "jobs"):
        assert f'data-section="{section}"' in page


def test_a_webhook_is_created_on_its_page_and_its_secret_shown_once(client, make):
    admin = make.member(make.tenant())
    web_login(client, admin.user.username)
    form = client.get("/admin/webhooks")
    response = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_token(form.text),
            "name": "ERP",
            "url": "https://erp.example/in",
            "events": ["orders.order_completed"],
        },
    )
    assert response.status_code == 200 and 'id="webhook-secret"' in response.text
    assert 'id="webhook-secret"' not in client.get("/admin/webhooks").text
    bad = client.post("/admin/webhooks", data={"csrf_token": csrf_token(form.text), "name": "x", "url": "ftp://x"})
    assert bad.status_code == 422


def test_the_audit_page_lists_and_filters_changes(client, make, db_session):
    admin = _english_admin(make, db_session)
    web_login(client, admin.user.username)
    form = client.get("/admin/webhooks")
    client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_token(form.text),
            "name": "WeCom <bot>",
            "url": "https://qyapi.example/send",
            "events": ["*"],
        },
    )
    page = client.get("/admin/audit?entity=platform_webhooks").text
    assert "WeCom &lt;bot&gt;" in page and "<bot>" not in page  # escaped
    assert "No entries match" in client.get("/admin/audit?since=2999-01-01").text


def test_the_jobs_page_shows_progress_and_cancels(client, make, db_session):
    tenant = make.tenant()
    admin = _english_admin(make, db_session, tenant)
    with tenant_context(db_session, tenant.id):
        job = Job(kind="probe.slow", payload={}, progress={"step": 3, "of": 10})
        db_session.add(job)
        db_session.flush()
    web_login(client, admin.user.username)
    rows = client.get("/admin/jobs", headers={"HX-Request": "true"}).text
    assert f'data-job="{job.id}"' in rows and "<html" not in rows  # the htmx poll gets rows only
    page = client.get("/admin/jobs")
    response = client.post(f"/admin/jobs/{job.id}/cancel", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert "cancelled" in client.get("/admin/jobs", headers={"HX-Request": "true"}).text


def test_roles_without_the_permissions_are_refused(client, make):
    tenant = make.tenant()
    viewer = make.member(tenant, Role.VIEWER)
    web_login(client, viewer.user.username)
    for url in ("/admin/webhooks", "/admin/audit", "/admin/jobs"):
        assert client.get(url).status_code == 403, url
