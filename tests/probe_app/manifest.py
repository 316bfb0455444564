"""Manifest of the test app: an event subscriber and queue handlers whose effects land in the database.

Their trace is a row in ``test_probe_records`` (its own metadata, created by the ``live_app`` fixture, not
part of the product's schema); the unique ``code`` makes a double run visible.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from platform_core.registry import AppManifest

probe_metadata = sa.MetaData()
probe_records = sa.Table(
    "test_probe_records",
    probe_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("source", sa.String(200), nullable=False),
)

FAILING: set[str] = set()  # operation ids whose event makes the subscriber fail (until removed)


def _record(session, tenant_id: int, code: str, source: str) -> None:
    session.execute(sa.insert(probe_records).values(tenant_id=tenant_id, code=code, source=source))


def record_completion(session, event) -> None:
    """Leave a trace of the event, named after the operation."""
    operation_id = str(event.payload["operation_id"])
    if operation_id in FAILING:
        raise RuntimeError(f"subscriber told to fail on {operation_id}")
    _record(session, event.tenant_id, f"EV-{operation_id}", event.name)


def record_job(ctx) -> dict:
    """Write one row named by the payload."""
    time.sleep(ctx.payload.get("sleep", 0))
    _record(ctx.session, ctx.tenant_id, ctx.payload["code"], f"job {ctx.job_id} by {ctx.worker}")
    return {"code": ctx.payload["code"], "worker": ctx.worker}


def slow_job(ctx) -> dict:
    """Take a while, reporting progress (and stopping when cancelled), then write one row."""
    steps = ctx.payload.get("steps", 20)
    for step in range(steps):
        ctx.progress(step=step, of=steps)
        time.sleep(ctx.payload.get("step_seconds", 0.2))
    _record(ctx.session, ctx.tenant_id, ctx.payload["code"], f"slow job {ctx.job_id} by {ctx.worker}")
    return {"steps": steps, "worker": ctx.worker}


def leader_service(app, stop) -> None:
    """Announce that the leader started its services, then wait for the end of leadership."""
    import os

    from platform_core.db import db

    with app.app_context(), db.unit_of_work() as session:
        _record(session, 0, f"SERVICE-{os.getpid()}", "leader service")
    stop.wait()


def failing_job(ctx) -> None:
    raise ValueError("this job always fails")


manifest = AppManifest(
    name="probe",
    label="Probe",
    subscriptions={"orders.operation_completed": record_completion},
    queue_handlers={"probe.record": record_job, "probe.slow": slow_job, "probe.fail": failing_job},
    leader_services=(leader_service,),
)
