"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, jsonify

from platform_core.db import db


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """The process is up."""
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        """The database answers and its schema is at the newest migration."""
        from platform_core.migrations import current_revisions, head_revisions

        try:
            db.session.execute(sa.text("SELECT 1"))
            current = current_revisions(db.session.connection())
        except sa.exc.SQLAlchemyError as exc:
            return jsonify(status="unavailable", database="unreachable", detail=type(exc).__name__), 503
        head = head_revisions()
        if current != head:
            return jsonify(status="unavailable", database="ok", migration=sorted(current), expected=sorted(head)), 503
        return jsonify(status="ok", database="ok", migration=sorted(current))
