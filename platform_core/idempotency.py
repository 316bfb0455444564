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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db import Base, TenantScoped, created_at, current_tenant_id, db, intpk, utcnow
from platform_core.errors import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


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
            done = _existing(key)
            if done is None:
                claim = IdempotencyKey(key=key, fingerprint=fingerprint)
                db.session.add(claim)
                try:
                    db.session.flush()  # claims the key; a concurrent twin waits here until we commit
                except IntegrityError:
                    db.session.rollback()
                    done = _existing(key)
                    if done is None:
                        raise
            if done is not None:
                if done.fingerprint != fingerprint:
                    raise Conflict(
                        _("This Idempotency-Key was already used for a different request."),
                        code="idempotency_key_reused",
                    )
                return _replay(done)
            response = make_response(view(*args, **kwargs))
            claim.status_code = response.status_code
            claim.content_type = response.content_type
            claim.body = response.get_data(as_text=True)
            return response

        wrapper.idempotent = True
        return wrapper

    return decorator


def purge_expired(session) -> int:
    """Housekeeping: forget keys older than ``IDEMPOTENCY_TTL_HOURS``."""
    cutoff = utcnow() - dt.timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    statement = sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
    return session.execute(statement.execution_options(skip_tenant_filter=True)).rowcount
