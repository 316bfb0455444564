"""Platform-operator services: onboard a factory, enable its apps, suspend it, manage its administrators.

These functions work across tenants by design; they address tenants explicitly and run tenant-owned writes
inside ``tenant_context`` for the tenant concerned, so the tenant filter still guards every row they touch.
"""

from __future__ import annotations

import re
import zoneinfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from platform_core.db import tenant_context
from platform_core.errors import Conflict, NotFound, ValidationFailed
from platform_core.identity import services as identity
from platform_core.identity.models import Membership, User
from platform_core.identity.sessions import end_sessions
from platform_core.rbac import Role
from platform_core.registry import get_registry
from platform_core.tenants.models import Tenant, TenantApp, TenantStatus

TENANT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


def tenant_problems(*, code: str | None = None, timezone: str | None = None, locale: str | None = None) -> dict:
    """Field errors for tenant settings (empty when all are acceptable)."""
    problems: dict[str, list[str]] = {}
    if code is not None and not TENANT_CODE.match(code):
        problems["code"] = [_("2 to 32 capital letters, digits, '-' or '_', starting with a letter or digit.")]
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems["timezone"] = [_("Unknown time zone %(tz)s.", tz=timezone)]
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        problems["default_locale"] = [_("Choose one of: %(langs)s.", langs=", ".join(current_app.config["LANGUAGES"]))]
    return problems


def get_tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(_("No such factory."))
    return tenant


def create_tenant(
    session: Session,
    *,
    code: str,
    name: str,
    timezone: str,
    default_locale: str,
    apps: list[str],
    admin: dict,
) -> Tenant:
    """Create a factory, enable its apps and create (or reuse) its first administrator."""
    code = code.strip().upper()
    if problems := tenant_problems(code=code, timezone=timezone, locale=default_locale):
        raise ValidationFailed(_("Some tenant settings are not valid."), errors=problems)
    if session.scalar(sa.select(Tenant.id).where(Tenant.code == code)) is not None:
        raise Conflict(_("The factory code %(code)s is taken.", code=code), errors={"code": [_("Already taken.")]})
    tenant = Tenant(code=code, name=name.strip(), timezone=timezone, default_locale=default_locale)
    session.add(tenant)
    session.flush()
    for app_name in apps:
        set_app_enabled(session, tenant, app_name, True)
    add_admin(session, tenant, **admin)
    return tenant


def update_tenant(session: Session, tenant: Tenant, **changes) -> Tenant:
    problems = tenant_problems(timezone=changes.get("timezone"), locale=changes.get("default_locale"))
    if problems:
        raise ValidationFailed(_("Some tenant settings are not valid."), errors=problems)
    for field, value in changes.items():
        setattr(tenant, field, value.strip() if isinstance(value, str) else value)
    session.flush()
    return tenant


def set_app_enabled(session: Session, tenant: Tenant, app_name: str, enabled: bool) -> None:
    """Enable or disable an app for a tenant, respecting dependencies between apps."""
    registry = get_registry()
    manifest = registry.get(app_name)
    if manifest is None:
        raise NotFound(_("No app named %(name)s.", name=app_name))
    current = tenant.enabled_apps
    if enabled:
        missing = [dep for dep in manifest.depends_on if dep not in current]
        if missing:
            raise Conflict(_("Enable %(deps)s first.", deps=", ".join(missing)), errors={"depends_on": missing})
        if app_name not in current:
            tenant.apps.append(TenantApp(app=app_name))
    else:
        dependents = [dep for dep in registry.dependents(app_name) if dep in current]
        if dependents:
            raise Conflict(
                _("Disable %(deps)s first; it needs %(app)s.", deps=", ".join(dependents), app=app_name),
                errors={"dependents": dependents},
            )
        tenant.apps = [a for a in tenant.apps if a.app != app_name]
    session.flush()


def set_status(session: Session, tenant: Tenant, status: TenantStatus) -> None:
    """Suspend or reactivate; suspension ends the factory's web sessions at once (tokens stop at their next use)."""
    tenant.status = status
    if status is TenantStatus.SUSPENDED:
        end_sessions(session, tenant_id=tenant.id)
    session.flush()


def add_admin(
    session: Session,
    tenant: Tenant,
    *,
    username: str,
    display_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
) -> User:
    """Make a user a tenant administrator; a new username needs a password, an existing one keeps its own."""
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        if not password:
            raise ValidationFailed(_("A new administrator needs a password."), errors={"password": [_("Required.")]})
        user = identity.create_user(
            session,
            username=username,
            display_name=display_name or username,
            password=password,
            email=email,
            preferred_locale=tenant.default_locale,
        )
    with tenant_context(session, tenant.id):
        roles = identity.roles_of(session, user.id)
        identity.set_roles(session, user, roles | {Role.TENANT_ADMIN})
    return user


def tenant_admins(session: Session, tenant: Tenant) -> list[User]:
    with tenant_context(session, tenant.id):
        admin_ids = sa.select(Membership.user_id).where(Membership.role == Role.TENANT_ADMIN)
        return list(session.scalars(sa.select(User).where(User.id.in_(admin_ids)).order_by(User.username)))
