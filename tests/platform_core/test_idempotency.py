"""The Idempotency-Key facility: retries, double taps and concurrent twins are answered exactly once."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask import request as http_request

from platform_core import migrations
from platform_core.app import create_app
from platform_core.db import db
from platform_core.idempotency import idempotent
from platform_core.identity.auth import require_permission
from platform_core.masterdata.models import Workshop
from tests.conftest import TEST_CONFIG, new_database_url
from tests.factories import Factories


@pytest.fixture(scope="module")
def committed(backend, request):
    """An app on its own committed database (no per-test transaction), with an idempotent test endpoint."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": new_database_url(backend, request)})
    probe = Blueprint("idempotency_probe", __name__)

    @probe.post("/api/v1/probe/workshops")
    @idempotent()
    def add_workshop():
        require_permission("admin.manage_users")
        data = http_request.get_json()
        if not data.get("code"):
            return jsonify(code="validation_error", status=422, message="code missing"), 422
        workshop = Workshop(code=data["code"], name=data.get("name", "车间"))
        db.session.add(workshop)
        db.session.flush()
        return jsonify(id=workshop.id, code=workshop.code), 201

    app.register_blueprint(probe)
    with app.app_context():
        migrations.upgrade(db.engine)
        with db.unit_of_work() as session:
            member = Factories(app, session).member(Factories(app, session).tenant())
    yield app, member
    app.extensions["mes.engine"].dispose()


def _count(app, code: str) -> int:
    with app.app_context():
        statement = sa.select(sa.func.count()).select_from(Workshop).where(Workshop.code == code)
        return db.session.scalar(statement.execution_options(skip_tenant_filter=True))


def test_a_retry_returns_the_first_response_without_doing_the_work_again(committed):
    app, member = committed
    client = app.test_client()
    headers = {**member.headers, "Idempotency-Key": "tablet-7:report-0001"}
    first = client.post("/api/v1/probe/workshops", json={"code": "R1"}, headers=headers)
    again = client.post("/api/v1/probe/workshops", json={"code": "R1"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, "R1") == 1


def test_the_same_key_with_a_different_body_is_a_409(committed):
    app, member = committed
    client = app.test_client()
    headers = {**member.headers, "Idempotency-Key": "tablet-7:report-0002"}
    assert client.post("/api/v1/probe/workshops", json={"code": "R2"}, headers=headers).status_code == 201
    response = client.post("/api/v1/probe/workshops", json={"code": "R2-other"}, headers=headers)
    assert response.status_code == 409 and response.json["code"] == "idempotency_key_reused"
    assert _count(app, "R2-other") == 0


def test_a_failed_request_stores_nothing_so_its_retry_runs(committed):
    app, member = committed
    client = app.test_client()
    headers = {**member.headers, "Idempotency-Key": "tablet-7:report-0003"}
    assert client.post("/api/v1/probe/workshops", json={}, headers=headers).status_code == 422
    # A corrected retry under a new key works; the failed key was not consumed either.
    assert client.post("/api/v1/probe/workshops", json={}, headers=headers).status_code == 422


def test_missing_or_malformed_keys_are_refused(committed):
    app, member = committed
    client = app.test_client()
    missing = client.post("/api/v1/probe/workshops", json={"code": "R4"}, headers=member.headers)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json["errors"]["headers"]
    bad = client.post(
        "/api/v1/probe/workshops", json={"code": "R4"}, headers={**member.headers, "Idempotency-Key": "a b"}
    )
    assert bad.status_code == 422
    assert _count(app, "R4") == 0


def test_concurrent_twins_are_counted_once(committed):
    app, member = committed
    headers = {**member.headers, "Idempotency-Key": "tablet-9:double-tap-0001"}
    results: list[int] = []

    def post():
        results.append(
            app.test_client().post("/api/v1/probe/workshops", json={"code": "R5"}, headers=headers).status_code
        )

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 6
    assert _count(app, "R5") == 1
