"""Real `mes worker` processes: one leader at a time with takeover, queued jobs done exactly once,
a killed worker's job finished by another, events left undelivered by a crash delivered by the worker."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from platform_core import events, jobs
from platform_core.config import DefaultConfig
from platform_core.db import db, utcnow
from platform_core.jobs import Job, JobStatus
from platform_core.worker import WorkerRecord
from tests.conftest import PROBE
from tests.probe_app.manifest import probe_records

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.backends("postgresql")]  # several processes, PostgreSQL locks
_codes = itertools.count(1)


class Workers:
    """Worker processes on the live app's database, killed at the end."""

    def __init__(self, app) -> None:
        self.app = app
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MES_DATABASE_URL": self.app.config["DATABASE_URL"],
            "MES_INSTALLED_APPS": json.dumps([*DefaultConfig.INSTALLED_APPS, PROBE]),
            "MES_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "MES_LOG_LEVEL": "WARNING",
            "MES_WORKER_LEADER_RETRY_SECONDS": "0.3",
            "MES_WORKER_POLL_SECONDS": "0.1",
            "MES_JOB_HEARTBEAT_SECONDS": "0.3",
            "MES_JOB_STALE_SECONDS": "2",
            "MES_OUTBOX_SWEEP_SECONDS": "1",
        }
        command = [sys.executable, "-c", "from platform_core.cli import main; main()", "worker", "--name", name]
        self.processes[name] = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def live(self) -> dict[str, bool]:
        """Names of workers with a fresh heartbeat, and whether each is the leader."""
        with self.app.app_context(), db.unit_of_work() as session:
            cutoff = utcnow().timestamp() - 2
            rows = session.scalars(sa.select(WorkerRecord)).all()
            running = {name for name, process in self.processes.items() if process.poll() is None}
            return {r.name: r.is_leader for r in rows if r.heartbeat_at.timestamp() > cutoff and r.name in running}


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def workers(live_app):
    group = Workers(live_app)
    yield group
    group.stop_all()


@pytest.fixture
def tenant(make_committed):
    return make_committed(lambda make: make.tenant())


def _enqueue(app, tenant_id, kind, **payload) -> int:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return jobs.enqueue(session, kind, payload).id


def _jobs(app, ids) -> list[Job]:
    with app.app_context(), db.unit_of_work() as session:
        return list(session.scalars(sa.select(Job).where(Job.id.in_(ids)).execution_options(skip_tenant_filter=True)))


def _records(app, code) -> int:
    with app.app_context(), db.unit_of_work() as session:
        return session.scalar(sa.select(sa.func.count()).where(probe_records.c.code == code))


def test_exactly_one_leader_and_a_takeover_when_it_dies(workers):
    workers.start("A")
    workers.start("B")
    live = wait_for(lambda: (s := workers.live()) and len(s) == 2 and sum(s.values()) == 1 and s, what="two workers")
    leader = next(name for name, is_leader in live.items() if is_leader)
    other = "B" if leader == "A" else "A"
    workers.kill(leader)
    wait_for(lambda: workers.live().get(other) is True, timeout=20, what=f"{other} to take over")
    assert sum(workers.live().values()) == 1


def test_the_leader_runs_the_apps_services(workers, live_app):
    workers.start("A")
    pid = workers.processes["A"].pid
    wait_for(lambda: _records(live_app, f"SERVICE-{pid}") == 1, what="the leader service to start")


def test_every_queued_job_is_done_exactly_once_across_two_workers(workers, live_app, tenant):
    codes = [f"X{next(_codes)}" for _ in range(40)]
    ids = [_enqueue(live_app, tenant.id, "probe.record", code=code, sleep=0.05) for code in codes]
    workers.start("A")
    workers.start("B")
    wait_for(
        lambda: all(j.status is JobStatus.SUCCEEDED for j in _jobs(live_app, ids)),
        timeout=60,
        what="all jobs to succeed",
    )
    done = _jobs(live_app, ids)
    assert all(j.attempts == 1 for j in done)
    assert {j.result["worker"] for j in done} == {"A", "B"}  # the work was spread
    assert all(_records(live_app, code) == 1 for code in codes)


def test_a_killed_workers_job_is_finished_by_the_other(workers, live_app, tenant):
    code = f"X{next(_codes)}"
    job_id = _enqueue(live_app, tenant.id, "probe.slow", code=code, steps=30, step_seconds=0.1)
    workers.start("A")
    running = wait_for(lambda: (j := _jobs(live_app, [job_id])[0]).status is JobStatus.RUNNING and j, what="start")
    workers.start("B" if running.worker == "A" else "A")
    workers.kill(running.worker)
    job = wait_for(
        lambda: (j := _jobs(live_app, [job_id])[0]).status is JobStatus.SUCCEEDED and j,
        timeout=40,
        what="the other worker to finish the job",
    )
    assert job.attempts == 2 and job.result["worker"] != running.worker
    assert _records(live_app, code) == 1


def test_events_left_undelivered_by_a_crash_are_delivered_by_the_worker(workers, live_app, tenant):
    live_app.config["EVENTS_DELIVER_INLINE"] = False  # this process "dies" right after its commit
    try:
        operation = 900000 + next(_codes)
        payload = {
            "order_id": 1,
            "operation_id": operation,
            "machine_id": 1,
            "good_total": 1,
            "scrap_total": 0,
            "completed_at": "2026-11-22T08:00:00+00:00",
        }
        with live_app.app_context(), db.unit_of_work(tenant.id) as session:
            events.publish(session, "orders.operation_completed", payload)
    finally:
        live_app.config["EVENTS_DELIVER_INLINE"] = True
    assert _records(live_app, f"EV-{operation}") == 0
    workers.start("A")
    wait_for(lambda: _records(live_app, f"EV-{operation}") == 1, timeout=30, what="the worker's outbox sweep")


def test_sqlite_leadership_is_a_file_lock_that_dies_with_its_holder(tmp_path):
    from platform_core.worker import FileLeaderLock

    first, second = FileLeaderLock(tmp_path / "db.worker.lock"), FileLeaderLock(tmp_path / "db.worker.lock")
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    first.release()  # what the kernel does when the holder dies
    assert second.try_acquire() is True
    second.release()
