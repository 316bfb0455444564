"""The audit trail: who did what, when, to every tenant-owned record, written by one mechanism.

An ``after_flush`` listener turns every flushed change of a ``TenantScoped`` model into an ``AuditEntry``:
create, update (each changed field with before → after), delete, and transition (a change of ``status``).
Services never write audit entries by hand. A model opts out with ``__audit__ = False`` (the trail itself,
outbox and delivery bookkeeping); columns listed in ``__audit_redact__`` are recorded as changed without values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from platform_core.db import Base, TenantScoped, UTCDateTime, current_actor, intpk, utcnow

REDACTED = "***"
TRANSITION_FIELDS = ("status", "state")


class AuditEntry(TenantScoped, Base):
    """One change of one record."""

    __tablename__ = "platform_audit_log"
    __table_args__ = (
        sa.Index("ix_platform_audit_log_entity", "tenant_id", "entity", "entity_id"),
        sa.Index("ix_platform_audit_log_at", "tenant_id", "at"),
    )
    __audit__ = False

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(120))
    actor_user_id: Mapped[int | None] = mapped_column(index=True)
    actor_token_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(16))  # create, update, delete, transition
    entity: Mapped[str] = mapped_column(sa.String(64))  # table name
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    changes: Mapped[dict[str, Any]]


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _audited(obj: object) -> bool:
    return isinstance(obj, TenantScoped) and getattr(type(obj), "__audit__", True)


def _entity_id(state) -> str:
    return "/".join(str(v) for v in state.identity or state.mapper.primary_key_from_instance(state.obj()))


def _columns(state):
    redact = getattr(state.class_, "__audit_redact__", ())
    for attr in state.mapper.column_attrs:
        if attr.key != "tenant_id":
            yield attr.key, attr.key in redact


def _snapshot(state) -> dict[str, Any]:
    return {key: REDACTED if redacted else _plain(state.dict.get(key)) for key, redacted in _columns(state)}


def _diff(state) -> dict[str, list[Any]]:
    changes = {}
    for key, redacted in _columns(state):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        changes[key] = [REDACTED, REDACTED] if redacted else [_plain(before), _plain(after)]
    return changes


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, flush_context) -> None:
    actor = current_actor(session)
    rows = []

    def add(obj, action: str, changes: dict) -> None:
        state = sa.inspect(obj)
        rows.append(
            {
                "tenant_id": obj.tenant_id,
                "at": utcnow(),
                "actor": actor.label,
                "actor_user_id": actor.user_id,
                "actor_token_id": actor.token_id,
                "action": action,
                "entity": state.mapper.local_table.name,
                "entity_id": _entity_id(state),
                "changes": changes,
            }
        )

    for obj in session.new:
        if _audited(obj):
            add(obj, "create", {k: [None, v] for k, v in _snapshot(sa.inspect(obj)).items() if v is not None})
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _diff(sa.inspect(obj))
            if changes:
                add(obj, "transition" if any(f in changes for f in TRANSITION_FIELDS) else "update", changes)
    for obj in session.deleted:
        if _audited(obj):
            add(obj, "delete", {k: [v, None] for k, v in _snapshot(sa.inspect(obj)).items() if v is not None})
    if rows:
        session.connection().execute(sa.insert(AuditEntry.__table__), rows)


def entries(
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_user_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> sa.Select:
    """The current tenant's audit entries, newest first, filtered."""
    statement = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    if actor_user_id:
        statement = statement.where(AuditEntry.actor_user_id == actor_user_id)
    if since:
        statement = statement.where(AuditEntry.at >= since)
    if until:
        statement = statement.where(AuditEntry.at < until)
    return statement
