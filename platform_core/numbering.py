"""Human record numbers (``QI-000042``, ``WO-261204-007``, run 12) drawn from one counter per factory and kind.

Reading the highest number and adding one hands the same number to two requests that save at the same moment;
the unique index then refuses one of them. Here each kind has a counter row, bumped by one
``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the row stays locked until the transaction ends, so a concurrent
twin waits and then draws the next number. The counter never goes below the highest number already in use, so
records made before the counter existed, or numbered by hand, are never drawn again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from platform_core.db import Base, TenantContextError, TenantScoped, current_tenant_id, intpk

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_GREATEST = {"postgresql": sa.func.greatest, "sqlite": sa.func.max}  # SQLite's max() of several values


class NumberCounter(TenantScoped, Base):
    """The last number drawn of one kind in one factory."""

    __tablename__ = "platform_number_counters"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)
    __audit__ = False  # bookkeeping; the numbered records carry the audit trail

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(60))
    last: Mapped[int]


def draw(session: Session, name: str, *, in_use: int = 0) -> int:
    """The next number of the counter ``name``: one more than both the last drawn and ``in_use``.

    The counter row stays locked until the caller's transaction ends; draw numbers just before saving the
    record that carries them.
    """
    tenant_id = current_tenant_id(session)
    if tenant_id is None:
        raise TenantContextError("numbers are drawn per factory; no tenant in context")
    dialect = session.get_bind().dialect.name
    table = NumberCounter.__table__
    statement = (
        _INSERTS[dialect](table)
        .values(tenant_id=tenant_id, name=name, last=in_use + 1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "name"],
            set_={"last": _GREATEST[dialect](table.c.last, in_use) + 1},
        )
        .returning(table.c.last)
    )
    return session.execute(statement).scalar_one()


def next_number(session: Session, model: type, prefix: str, width: int = 6) -> str:
    """The factory's next ``prefix`` + zero-padded number for ``model.number`` (``QI-`` → ``QI-000042``)."""
    highest = session.scalar(
        sa.select(model.number).where(model.number.like(f"{prefix}%")).order_by(model.number.desc()).limit(1)
    )
    suffix = (highest or "")[len(prefix) :]
    return f"{prefix}{draw(session, prefix, in_use=int(suffix) if suffix.isdigit() else 0):0{width}d}"
