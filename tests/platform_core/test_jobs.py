"""The job queue in one process: claim, run, progress, cancel, retry, lost leases."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import sqlalchemy as sa

from platform_core import jobs
from platform_core.db import db
from platform_core.jobs import Job, JobStatus
from tests.probe_app.manifest import probe_records

_codes = itertools.count(1)
KINDS = {"probe.record", "probe.slow", "probe.fail"}


@pytest.fixture
def tenant(make_committed):
    return make_committed(lambda make: make.tenant())


@pytest.fixture(autouse=True)
def _empty_queue(live_app):
    """Each test starts with no runnable job of another test left in the queue."""
    with live_app.app_context(), db.unit_of_work() as session:
        session.execute(
            sa.update(Job)
            .where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .values(status=JobStatus.CANCELLED)
            .execution_options(skip_tenant_filter=True)
        )


def _enqueue(app, tenant_id, kind, **payload) -> int:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return jobs.enqueue(session, kind, payload).id


def _job(app, tenant_id, job_id) -> Job:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return session.get(Job, job_id)


def _records(app, code) -> int:
    with app.app_context(), db.unit_of_work() as session:
        return session.scalar(sa.select(sa.func.count()).where(probe_records.c.code == code))


def _run_next(app, worker="w1"):
    with app.app_context():
        claimed = jobs.claim(worker, KINDS)
        assert claimed is not None
        return claimed, jobs.run(app, claimed, worker)


def test_a_job_runs_once_and_its_effect_commits_with_its_success(live_app, tenant):
    code = f"J{next(_codes)}"
    job_id = _enqueue(live_app, tenant.id, "probe.record", code=code)
    claimed, status = _run_next(live_app)
    assert claimed.id == job_id and status is JobStatus.SUCCEEDED
    job = _job(live_app, tenant.id, job_id)
    assert job.result == {"code": code, "worker": "w1"} and job.attempts == 1 and job.finished_at
    assert _records(live_app, code) == 1
    with live_app.app_context():
        assert jobs.claim("w1", KINDS) is None


def test_a_worker_that_lost_its_lease_discards_its_writes(live_app, tenant):
    code = f"J{next(_codes)}"
    job_id = _enqueue(live_app, tenant.id, "probe.record", code=code)
    with live_app.app_context():
        claimed = jobs.claim("w1", KINDS)
        # Meanwhile w1 was presumed dead and the job went to w2.
        with db.unit_of_work() as session:
            session.execute(
                sa.update(Job).where(Job.id == job_id).values(worker="w2").execution_options(skip_tenant_filter=True)
            )
        assert jobs.run(live_app, claimed, "w1") is None
    assert _records(live_app, code) == 0


def test_failures_are_retried_then_recorded(live_app, tenant):
    job_id = _enqueue(live_app, tenant.id, "probe.fail")
    _, status = _run_next(live_app)
    assert status is JobStatus.QUEUED
    job = _job(live_app, tenant.id, job_id)
    assert "always fails" in job.error and job.run_after > job.created_at
    with live_app.app_context(), db.unit_of_work(tenant.id) as session:
        session.get(Job, job_id).attempts = 3  # the last attempt
        session.get(Job, job_id).run_after = job.created_at
    _, status = _run_next(live_app)
    assert status is JobStatus.FAILED


def test_progress_is_visible_and_a_running_job_can_be_cancelled(live_app, tenant, make_committed):
    admin = make_committed(lambda make: make.member(make.tenant()))
    live_app.config["JOB_HEARTBEAT_SECONDS"] = 0.2
    code = f"J{next(_codes)}"
    job_id = _enqueue(live_app, admin.tenant.id, "probe.slow", code=code, steps=100, step_seconds=0.05)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=_run_next(live_app)))
    thread.start()
    client = live_app.test_client()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shown = client.get(f"/api/v1/admin/jobs/{job_id}", headers=admin.headers).json
        if shown["status"] == "running" and shown["progress"]:
            break
        time.sleep(0.05)
    assert shown["progress"]["of"] == 100
    assert client.post(f"/api/v1/admin/jobs/{job_id}/cancel", headers=admin.headers).json["cancel_requested"]
    thread.join(timeout=30)
    assert outcome["result"][1] is JobStatus.CANCELLED
    assert client.get(f"/api/v1/admin/jobs/{job_id}", headers=admin.headers).json["status"] == "cancelled"
    assert _records(live_app, code) == 0
    live_app.config["JOB_HEARTBEAT_SECONDS"] = 5.0


def test_a_queued_job_is_cancelled_at_once_and_a_finished_one_not_at_all(live_app, make_committed):
    admin = make_committed(lambda make: make.member(make.tenant()))
    job_id = _enqueue(live_app, admin.tenant.id, "probe.record", code=f"J{next(_codes)}")
    client = live_app.test_client()
    assert client.post(f"/api/v1/admin/jobs/{job_id}/cancel", headers=admin.headers).json["status"] == "cancelled"
    again = client.post(f"/api/v1/admin/jobs/{job_id}/cancel", headers=admin.headers)
    assert again.status_code == 409 and again.json["current_state"] == "cancelled"


def test_stale_jobs_go_back_to_the_queue(live_app, tenant):
    job_id = _enqueue(live_app, tenant.id, "probe.record", code=f"J{next(_codes)}")
    with live_app.app_context():
        jobs.claim("dead-worker", KINDS)
        assert jobs.requeue_stale(stale_seconds=3600) == 0
        time.sleep(0.05)
        assert jobs.requeue_stale(stale_seconds=0.01) == 1
    job = _job(live_app, tenant.id, job_id)
    assert job.status is JobStatus.QUEUED and job.worker is None


def test_unknown_job_kinds_are_refused(live_app, tenant):
    from platform_core.errors import ValidationFailed

    with live_app.app_context(), db.unit_of_work(tenant.id) as session, pytest.raises(ValidationFailed):
        jobs.enqueue(session, "nothing.here", {})
