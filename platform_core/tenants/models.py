"""Tenant (factory) records; platform-owned, so they are not tenant-scoped themselves."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.db import Base, created_at, enum_type, intpk, str_name


class TenantStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(Base):
    """A factory using the platform."""

    __tablename__ = "platform_tenants"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str_name]
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    default_locale: Mapped[str] = mapped_column(sa.String(16), default="zh_CN")
    status: Mapped[TenantStatus] = mapped_column(
        enum_type(TenantStatus),
        default=TenantStatus.ACTIVE,
    )
    created_at: Mapped[created_at]

    apps: Mapped[list[TenantApp]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantApp.app"
    )

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    @property
    def enabled_apps(self) -> set[str]:
        return {a.app for a in self.apps}


class TenantApp(Base):
    """An app enabled for a tenant; absence means disabled."""

    __tablename__ = "platform_tenant_apps"

    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey(Tenant.id, ondelete="CASCADE"), primary_key=True)
    app: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    enabled_at: Mapped[created_at]

    tenant: Mapped[Tenant] = relationship(back_populates="apps")
