"""Exactly-once POSTs for flaky networks: the ``Idempotency-Key`` header.

The first request with a key does the work and stores its response *in the same transaction*; a retry with the
same key and the same body gets that stored response back (``Idempotent-Replayed: true``) without doing the work
again; the same key with a different body is a 409. A request that failed (4xx/5xx) stores nothing, so its retry
runs afresh. Two copies arriving at the same moment are serialised by the unique (tenant, key) index: the second
waits for the first to commit, then replays it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Response, current_app, make_response, request
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db import Base, TenantScoped, created_at, current_tenant_id, db, intpk, utcnow
from platform_core.errors import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class IdempotencyKey(TenantScoped, Base):
    """A request already handled, with the response to replay."""

    __tablename__ = "platform_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)
    __audit__ = False  # bookkeeping of requests, not a record anyone edits

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(sa.String(100))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.body, status=record.status_code, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _existing(key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == key))


def _claim(key: str, fingerprint: str) -> int | None:
    """Claim ``key`` for this request: its row id, or None when the key is already taken.

    One ``INSERT ... ON CONFLICT DO NOTHING``: the first request pays no extra read, and a concurrent twin waits
    on the unique index until the first commits (then finds its row) or rolls back (then claims it itself).
    """
    session = db.session
    insert = _INSERTS[session.get_bind().dialect.name](IdempotencyKey)
    statement = (
        insert.values(tenant_id=current_tenant_id(session), key=key, fingerprint=fingerprint, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        .returning(IdempotencyKey.id)
    )
    return session.execute(statement).scalar()


def idempotent(required: bool = True) -> Callable:
    """Decorate a tenant-scoped POST view so that retries with the same key are answered exactly once."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise ValidationFailed(
                        _("This submission needs an Idempotency-Key header."),
                        errors={"headers": {HEADER: [_("Missing.")]}},
                    )
                return view(*args, **kwargs)
            if not _KEY_FORMAT.match(key):
                raise ValidationFailed(
                    _("The Idempotency-Key header is malformed."),
                    errors={"headers": {HEADER: [_("Use 8 to 100 letters, digits, '.', '_', ':' or '-'.")]}},
                )
            if current_tenant_id(db.session) is None:
                raise Conflict(_("Idempotency keys apply to a factory's requests only."))
            fingerprint = _fingerprint()
            claim_id = _claim(key, fingerprint)
            if claim_id is None:
                done = _existing(key)
                if done.fingerprint != fingerprint:
                    raise Conflict(
                        _("This Idempotency-Key was already used for a different request."),
                        code="idempotency_key_reused",
                    )
                return _replay(done)
            response = make_response(view(*args, **kwargs))
            answer = {"status_code": response.status_code, "content_type": response.content_type}
            answer["body"] = response.get_data(as_text=True)
            # by primary key on the table itself: the row is ours (claimed above), no ORM bookkeeping is needed
            table = IdempotencyKey.__table__
            db.session.execute(sa.update(table).where(table.c.id == claim_id).values(**answer))
            return response

        wrapper.idempotent = True
        return wrapper

    return decorator


def purge_expired(session) -> int:
    """Housekeeping: forget keys older than ``IDEMPOTENCY_TTL_HOURS``."""
    cutoff = utcnow() - dt.timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    statement = sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    return session.execute(statement.execution_options(skip_tenant_filter=True)).rowcount
