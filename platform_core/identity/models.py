"""Users, tenant memberships with roles, shop-floor employees, API tokens, login failures, web sessions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, TenantScoped, UTCDateTime, created_at, enum_type, intpk, str_name
from platform_core.rbac import Role
from platform_core.tenants.models import Tenant


class User(Base):
    """A person who can sign in; global, because one person may work for several tenants."""

    __tablename__ = "platform_users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str_name]
    email: Mapped[str | None] = mapped_column(sa.String(254))
    preferred_locale: Mapped[str | None] = mapped_column(sa.String(16))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_platform_operator: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Membership(TenantScoped, Base):
    """One role a user holds in one tenant (a user has one row per role)."""

    __tablename__ = "platform_memberships"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "user_id", "role"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey(User.id, ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()


class Employee(TenantScoped, Base):
    """A shop-floor worker with an employee number and a PIN for the shared tablets."""

    __tablename__ = "platform_employees"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "employee_no"), sa.UniqueConstraint("tenant_id", "user_id"))
    __audit_redact__ = ("pin_hash",)

    id: Mapped[intpk]
    employee_no: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str_name]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey(User.id, ondelete="SET NULL"))
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    skills: Mapped[list[str]] = mapped_column(default=list, server_default=sa.text("'[]'"))  # qualifications
    created_at: Mapped[created_at]

    user: Mapped[User | None] = relationship()


class TokenKind(enum.StrEnum):
    PERSONAL = "personal"  # acts as its user, limited to its scopes
    MACHINE = "machine"  # a gateway or integration; no user, only its scopes


class ApiToken(TenantScoped, Base):
    """A bearer token for one tenant and a set of permissions; only a hash of the secret is stored."""

    __tablename__ = "platform_api_tokens"
    __audit_redact__ = ("secret_hash",)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[TokenKind] = mapped_column(enum_type(TokenKind))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey(User.id, ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list[str]]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey(User.id, ondelete="SET NULL"))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    tenant: Mapped[Tenant] = relationship(viewonly=True)  # loaded with the token when a request authenticates

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoginFailure(Base):
    """One failed sign-in, counted per key (username, client address, tenant+employee) for throttling."""

    __tablename__ = "platform_login_failures"
    __table_args__ = (sa.Index("ix_platform_login_failures_key_at", "key", "at"),)

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A server-side browser session; the cookie carries only its random id."""

    __tablename__ = "platform_web_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey(User.id, ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey(Tenant.id, ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
