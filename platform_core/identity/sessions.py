"""Server-side browser sessions: the cookie holds a random id, the database holds the data.

Server-side, so that a session can really end: logging out, a password reset or a suspended tenant removes it,
and signing in issues a new id (no session fixation). Only a SHA-256 of the id is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from platform_core.db import db, utcnow
from platform_core.identity.models import WebSession

_SID_LENGTH = 43  # token_urlsafe(32)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The session dict; ``regenerate()`` gives it a fresh id, dropping the old one."""

    def __init__(self, initial=None, sid: str | None = None, expires_at: dt.datetime | None = None) -> None:
        def on_update(this):
            this.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.expires_at = expires_at
        self.old_sid: str | None = None
        self.modified = False

    def regenerate(self) -> None:
        """New id for the same data, e.g. at sign-in, so an id planted before sign-in is worthless after it."""
        if self.sid and self.old_sid is None:
            self.old_sid = self.sid
        self.sid = None
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    """Keeps sessions in ``platform_web_sessions`` through the request's database session."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if len(sid) != _SID_LENGTH:
            return ServerSession()
        row = db.session.get(WebSession, _digest(sid))
        if row is None or row.expires_at <= utcnow():
            return ServerSession()
        return ServerSession(row.data, sid=sid, expires_at=row.expires_at)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        lifetime = app.permanent_session_lifetime
        if session.old_sid:
            db.session.execute(sa.delete(WebSession).where(WebSession.id == _digest(session.old_sid)))
        if not session:
            if session.sid:
                db.session.execute(sa.delete(WebSession).where(WebSession.id == _digest(session.sid)))
                response.delete_cookie(name, domain=domain, path=path)
            db.session.commit()
            return
        now = utcnow()
        refresh = session.expires_at is None or session.expires_at - now < lifetime / 2
        if not (session.modified or refresh):
            db.session.commit()
            return
        session.expires_at = now + lifetime
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
        row = db.session.get(WebSession, _digest(session.sid))
        if row is None:
            row = WebSession(id=_digest(session.sid))
            db.session.add(row)
        user_id = session.get("_user_id")
        row.data = dict(session)
        row.expires_at = session.expires_at
        row.user_id = int(user_id) if user_id else None
        row.tenant_id = session.get("tenant_id")
        db.session.commit()
        response.set_cookie(
            name,
            session.sid,
            expires=session.expires_at,
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")


def end_sessions(session, *, user_id: int | None = None, tenant_id: int | None = None) -> None:
    """Remove every stored session of a user or of a tenant (password reset, suspension)."""
    statement = sa.delete(WebSession)
    if user_id is not None:
        statement = statement.where(WebSession.user_id == user_id)
    if tenant_id is not None:
        statement = statement.where(WebSession.tenant_id == tenant_id)
    session.execute(statement)


def purge_expired(session) -> int:
    """Housekeeping: drop expired sessions."""
    return session.execute(sa.delete(WebSession).where(WebSession.expires_at <= utcnow())).rowcount
