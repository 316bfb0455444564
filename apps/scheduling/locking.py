"""One factory's scheduling writes that must not interleave (numbering versions, publishing) take this lock.

PostgreSQL: a transaction-scoped advisory lock per factory, released by the commit or rollback. SQLite: every
write transaction already starts with ``BEGIN IMMEDIATE``, so writers are serialised by the database itself.
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from platform_core.db import current_tenant_id

LOCK_CLASS = zlib.crc32(b"mes-suite:scheduling") & 0x7FFFFFFF  # the advisory lock's first key, stable


def lock_factory(session: Session) -> None:
    """Wait until no other transaction holds this factory's scheduling lock, then hold it until commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASS, current_tenant_id(session))))
