"""Security checks that span the product (OWASP ASVS level 1 items; docs/security.md maps each to its test).

Headers, CSRF on every form, cookies, stored XSS through every free-text field, secrets, error pages and SQL
built from strings. Sign-in, PINs, throttling, tokens and suspension are tested in
tests/platform_core/test_auth.py; tenant isolation and roles in the API and page probes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from platform_core.rbac import Role
from tests.factories import csrf_token, web_login
from tests.platform_core.test_page_probes import PARAM, _url
from tests.platform_core.test_probes import World

REPO = Path(__file__).resolve().parent.parent
XSS = '"><svg onload=alert(1)>'
ESCAPED = "&lt;svg onload=alert(1)&gt;"
# Free text people type and pages show: names, notes, titles, reasons, customers ...
FREE_TEXT = re.compile(
    r"^(name|name_en|display_name|title|description|note|notes|customer|sales_order|findings|cause|reason|"
    r"decision_note|disposition_note|release_note|drawing_no|model|machine_model|family|gauge|op_name)$"
)


def _page_rules(app, method: str):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static/")) or method not in rule.methods:
            continue
        yield rule


def _signed_in(app, member):
    browser = app.test_client()
    web_login(browser, member.user.username)
    return browser


def test_every_form_post_without_the_csrf_token_is_refused(app, make, db_session):
    world = World(make, db_session)
    browser = _signed_in(app, make.member(world.a, *Role))
    posted = 0
    for rule in _page_rules(app, "POST"):
        url = _url(rule, world.ids[world.a.id]) if PARAM.search(rule.rule) else rule.rule
        response = browser.post(url, data={"name": "x"})
        assert response.status_code == 400, f"POST {url} without a CSRF token: {response.status_code}"
        posted += 1
    assert posted > 30


def test_stored_markup_in_every_free_text_field_comes_back_escaped(app, make, db_session):
    from platform_core.db import Base, TenantScoped

    world = World(make, db_session)
    member = make.member(world.a, *Role)
    changed = 0
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        columns = {  # only where there is text already: some columns are optional alternatives of others
            c.name: sa.case((c.is_(None), None), else_=XSS)
            for c in table.columns
            if FREE_TEXT.match(c.name)
            and isinstance(c.type, sa.String | sa.Text)
            and not isinstance(c.type, sa.Enum)
            and (c.type.length is None or c.type.length >= len(XSS))
        }
        if not columns:
            continue
        statement = sa.update(table).values(**columns)
        if issubclass(mapper.class_, TenantScoped):
            statement = statement.where(table.c.tenant_id == world.a.id)
        changed += db_session.execute(statement).rowcount
    db_session.flush()
    assert changed > 20

    browser = _signed_in(app, member)
    shown = 0
    for rule in _page_rules(app, "GET"):
        url = _url(rule, world.ids[world.a.id]) if PARAM.search(rule.rule) else rule.rule
        response = browser.get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if not response.mimetype.startswith("text/html"):
            continue
        assert "<svg onload" not in response.text, f"GET {url} shows stored markup unescaped"
        shown += ESCAPED in response.text
    assert shown > 15, f"only {shown} pages showed the stored text: the probe reached too few"


def test_session_cookie_flags_and_secure_cookies_in_production(app, client, make):
    from platform_core.app import create_app

    member = make.member(make.tenant())
    response = web_login(client, member.user.username)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("mes_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    production = create_app({"ENV": "production", "SECRET_KEY": "k" * 48, "DATABASE_URL": "sqlite://"})
    assert production.config["SESSION_COOKIE_SECURE"] is True and production.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("secret", [None, "dev-only-insecure-secret-key", "short"])
def test_production_refuses_to_start_without_a_real_secret_from_the_environment(secret):
    from platform_core.app import create_app

    overrides = {"ENV": "production", "DATABASE_URL": "sqlite://"}
    if secret is not None:
        overrides["SECRET_KEY"] = secret
    with pytest.raises(RuntimeError, match="MES_SECRET_KEY"):
        create_app(overrides)


def test_production_error_pages_reveal_no_stack_trace():
    from platform_core.app import create_app

    app = create_app(
        {"ENV": "production", "SECRET_KEY": "k" * 48, "DATABASE_URL": "sqlite://", "LOG_LEVEL": "CRITICAL"}
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /etc/passwd")

    client = app.test_client()
    for accept in ("text/html", "application/json"):
        response = client.get("/boom", headers={"Accept": accept})
        assert response.status_code == 500
        assert "Traceback" not in response.text and "secret internals" not in response.text


def test_no_sql_is_built_from_strings():
    """Every text() / exec_driver_sql() / execute() gets a literal or a bound statement, never an f-string."""
    offenders = []
    for path in [*REPO.glob("platform_core/**/*.py"), *REPO.glob("apps/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("text", "exec_driver_sql", "execute") and isinstance(node.args[0], ast.JoinedStr | ast.BinOp):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"SQL built from strings at {offenders}"


def test_the_sign_in_page_carries_a_csrf_token_and_logout_needs_a_post(client):
    page = client.get("/login?mode=password")
    assert csrf_token(page.text)
    assert client.get("/logout").status_code in (404, 405)
