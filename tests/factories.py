"""Builders for test data, with sensible defaults; each flushes and returns the record."""

from __future__ import annotations

import functools
import itertools
import re
import secrets
from dataclasses import dataclass

from platform_core.db import tenant_context
from platform_core.identity import services as identity
from platform_core.identity.models import ApiToken, TokenKind, User
from platform_core.rbac import Role
from platform_core.registry import get_registry
from platform_core.tenants import services as tenants
from platform_core.tenants.models import Tenant

PASSWORD = "test-password-123"
_counter = itertools.count(1)


@dataclass
class Member:
    """A user in a tenant, with a bearer token holding every permission the user's roles allow."""

    user: User
    tenant: Tenant
    token: ApiToken
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def _in_app_context(method):
    """Run a builder inside an application context (services read the app's configuration and registry)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.app.app_context():
            return method(self, *args, **kwargs)

    return wrapper


class Factories:
    def __init__(self, app, session) -> None:
        self.app = app
        self.session = session

    @_in_app_context
    def tenant(self, code: str | None = None, apps=None) -> Tenant:
        n = next(_counter)
        installed = [m.name for m in get_registry()]
        apps = installed if apps is None else apps
        return tenants.create_tenant(
            self.session,
            code=code or f"T{n:03d}{secrets.token_hex(2).upper()}",
            name=f"工厂 {n}",
            timezone="Asia/Shanghai",
            default_locale="zh_CN",
            apps=list(apps),
            admin={"username": f"admin{n}-{secrets.token_hex(3)}", "password": PASSWORD},
        )

    @_in_app_context
    def member(self, tenant: Tenant, *roles: Role, username: str | None = None) -> Member:
        """A user holding ``roles`` in ``tenant`` (tenant admin by default) with an all-scopes personal token."""
        roles = roles or (Role.TENANT_ADMIN,)
        with tenant_context(self.session, tenant.id):
            user = identity.create_user(
                self.session,
                username=username or f"user{next(_counter)}-{secrets.token_hex(3)}",
                display_name="Test user",
                password=PASSWORD,
            )
            identity.set_roles(self.session, user, roles)
            token, secret = identity.create_token(
                self.session,
                name="test",
                kind=TokenKind.PERSONAL,
                scopes=get_registry().permissions,
                user=user,
                created_by=user,
            )
        return Member(user=user, tenant=tenant, token=token, secret=secret)

    @_in_app_context
    def employee(self, member: Member, employee_no: str, pin: str):
        with tenant_context(self.session, member.tenant.id):
            return identity.create_employee(
                self.session, employee_no=employee_no, name=member.user.display_name, user=member.user, pin=pin
            )

    @_in_app_context
    def operator(self) -> User:
        return identity.create_user(
            self.session,
            username=f"ops{next(_counter)}-{secrets.token_hex(3)}",
            display_name="Ops",
            password=PASSWORD,
            is_platform_operator=True,
        )


def csrf_token(html: str) -> str:
    match = re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"', html)
    if match is None:
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def web_login(client, username: str, password: str = PASSWORD):
    """Sign in through the real form; returns the response to the POST."""
    page = client.get("/login?mode=password")
    return client.post(
        "/login?mode=password",
        data={
            "mode": "password",
            "pw-csrf_token": csrf_token(page.text),
            "pw-username": username,
            "pw-password": password,
        },
    )


def pin_login(client, factory: str, employee_no: str, pin: str):
    page = client.get("/login?mode=pin")
    return client.post(
        "/login?mode=pin",
        data={
            "mode": "pin",
            "pin-csrf_token": csrf_token(page.text),
            "pin-factory": factory,
            "pin-employee_no": employee_no,
            "pin-pin": pin,
        },
    )
