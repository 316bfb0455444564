"""Probes over every page (HTML route), like the API probes: roles without a page's permission are refused,
and another factory's ids are 404. New pages are covered as soon as they exist."""

from __future__ import annotations

import re

import pytest

from platform_core.rbac import Role
from tests.factories import csrf_token, web_login
from tests.platform_core.test_probes import World

PARAM = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def _pages(app):
    """(rule, methods, required permission) of every page guarded by a permission."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static/")):
            continue
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "required_permission", None)
        if permission and permission != "platform.operate":
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"}), permission


def _url(rule, ids: dict) -> str:
    def value(match):
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"the page probes do not know how to address <{name}> in {rule.rule}: add it to World")
        return str(ids[name])

    return PARAM.sub(value, rule.rule)


def test_every_page_refuses_roles_without_its_permission(app, client, make, db_session):
    world = World(make, db_session)
    registry = app.extensions["mes.registry"]
    members = {role: make.member(world.a, role) for role in Role}
    checked = 0
    for role, member in members.items():
        held = registry.role_permissions[role]
        browser = app.test_client()
        web_login(browser, member.user.username)
        token = csrf_token(browser.get("/").text)
        for rule, methods, permission in _pages(app):
            if fnmatch_any(held, permission):
                continue
            url = _url(rule, world.ids[world.a.id])
            for method in methods:
                response = browser.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"
                checked += 1
    assert checked > 10


def test_another_factorys_ids_are_404_on_every_page(app, client, make, db_session):
    world = World(make, db_session)
    browser = app.test_client()
    web_login(browser, world.admin_a.user.username)
    token = csrf_token(browser.get("/").text)
    probed = 0
    for rule, methods, _permission in _pages(app):
        if not PARAM.search(rule.rule):
            continue
        url = _url(rule, world.ids[world.b.id])
        for method in methods:
            response = browser.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            probed += 1
    assert probed >= 3


def test_signed_out_visitors_are_sent_to_sign_in(app, client, make, db_session):
    world = World(make, db_session)
    for rule, methods, _permission in _pages(app):
        if "GET" in methods:
            response = client.get(_url(rule, world.ids[world.a.id]))
            assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule


def fnmatch_any(held, permission: str) -> bool:
    import fnmatch

    return bool(fnmatch.filter(held, permission)) if "*" in permission else permission in held
