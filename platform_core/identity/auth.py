"""Who is asking, for which tenant, with which permissions: resolved once per request into ``g.principal``.

Bearer tokens (API) win over the session cookie (pages and same-origin scripts). The principal's tenant becomes
the database session's tenant, which switches the tenant filter on for the rest of the request.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect

from platform_core.db import Actor, db, set_actor, set_tenant, utcnow
from platform_core.errors import abort
from platform_core.identity import services
from platform_core.identity.models import ApiToken, Employee, TokenKind, User
from platform_core.rbac import Role
from platform_core.registry import get_registry
from platform_core.tenants.models import Tenant, TenantStatus

login_manager = LoginManager()
csrf = CSRFProtect()

_TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass
class Principal:
    """The authenticated party of a request."""

    user: User | None
    tenant: Tenant | None
    roles: frozenset[Role] = frozenset()
    permissions: frozenset[str] = frozenset()
    token: ApiToken | None = None
    employee: Employee | None = None
    is_platform_operator: bool = False
    via: str = "session"  # or "token"
    extra: dict = field(default_factory=dict)

    def can(self, permission: str) -> bool:
        """Whether the principal holds ``permission`` (a pattern such as ``admin.*`` asks for any of them)."""
        if "*" in permission:
            return bool(fnmatch.filter(self.permissions, permission))
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        """The principal as the audit trail and events name it."""
        token_id = self.token.id if self.token else None
        if self.user is not None:
            return Actor(self.user.username, user_id=self.user.id, token_id=token_id)
        return Actor(f"token:{self.token.name}", token_id=token_id)


def current_principal() -> Principal | None:
    return g.get("principal")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


@login_manager.unauthorized_handler
def _unauthorized():
    if _is_api():
        abort(401)
    return redirect(url_for("web.login", next=request.full_path if request.query_string else request.path))


def resolve_principal() -> None:
    """``before_request``: authenticate, pick the tenant, scope the database session."""
    g.principal = None
    header = request.headers.get("Authorization")
    if header is not None:
        g.principal = _principal_from_token(header)
    else:
        signed_in = current_user.is_authenticated
        # Every cookie-borne write (forms, same-origin scripts) carries the CSRF token; an anonymous API call
        # has no cookie to abuse and simply gets its 401.
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and (signed_in or not _is_api()):
            csrf.protect()
        if signed_in:
            g.principal = _principal_from_session(current_user)
    principal = g.principal
    set_tenant(db.session, principal.tenant.id if principal and principal.tenant else None)
    if principal is not None:
        set_actor(db.session, principal.actor)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _principal_from_token(header: str) -> Principal:
    scheme, _sep, secret = header.partition(" ")
    token = services.find_token(db.session, secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        abort(401, _("The API token is missing, unknown, expired or revoked."))
    tenant = token.tenant
    if tenant is None or tenant.status is not TenantStatus.ACTIVE:
        abort(401, _("This factory's access is suspended."), code="tenant_suspended")
    set_tenant(db.session, tenant.id)
    permissions = frozenset(token.scopes)
    roles: frozenset[Role] = frozenset()
    if token.kind is TokenKind.PERSONAL:
        user = token.user
        if user is None or not user.active:
            abort(401)
        roles = frozenset(services.roles_of(db.session, user.id))
        permissions &= get_registry().permissions_for(roles)  # never more than the user holds today
    if token.last_used_at is None or utcnow() - token.last_used_at > _TOKEN_TOUCH_INTERVAL:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    return Principal(user=token.user, tenant=tenant, roles=roles, permissions=permissions, token=token, via="token")


def _end_session(message: str) -> None:
    logout_user()
    session.clear()
    flash(message, "error")
    return None


def _principal_from_session(user: User) -> Principal | None:
    tenant = None
    roles: frozenset[Role] = frozenset()
    tenant_id = session.get("tenant_id")
    if tenant_id is not None:
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None or tenant.status is not TenantStatus.ACTIVE:
            return _end_session(_("This factory's access is suspended; contact your platform operator."))
        set_tenant(db.session, tenant.id)
        roles = frozenset(services.roles_of(db.session, user.id))
        if not roles and not user.is_platform_operator:
            return _end_session(_("You no longer have access to this factory."))
    employee = None
    if session.get("employee_id"):
        employee = db.session.get(Employee, session["employee_id"]) if tenant else None
    return Principal(
        user=user,
        tenant=tenant,
        roles=roles,
        permissions=get_registry().permissions_for(roles),
        employee=employee,
        is_platform_operator=user.is_platform_operator,
    )


def require_permission(permission: str) -> None:
    """Abort with 401 (nobody signed in) or 403 (signed in, lacks the permission)."""
    principal = current_principal()
    if principal is None:
        abort(401)
    if principal.tenant is None or not principal.can(permission):
        abort(403)


def permission_required(permission: str) -> Callable:
    """Decorator for page views; the permission is kept on the view for the RBAC probes."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if current_principal() is None:
                return login_manager.unauthorized()
            require_permission(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator


def platform_operator_required(view: Callable) -> Callable:
    """Decorator for the platform console (pages and API)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = current_principal()
        if principal is None:
            if _is_api():
                abort(401)
            return login_manager.unauthorized()
        if not principal.is_platform_operator or principal.via != "session":
            abort(403)
        return view(*args, **kwargs)

    wrapper.required_permission = "platform.operate"
    return wrapper


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in resolve_principal, where token requests are known
    csrf.init_app(app)
    app.before_request(resolve_principal)
