"""Master-data models shared by the apps."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db import Base, TenantScoped, created_at, intpk, str_name


class Workshop(TenantScoped, Base):
    """A site or workshop of the factory (车间)."""

    __tablename__ = "platform_workshops"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str_name]
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]

    def label(self, locale: str) -> str:
        """The name in the reader's language when one is recorded."""
        return self.name_en if locale == "en" and self.name_en else self.name
