"""A durable job queue in the database, for heavy work that must not run inside a web request.

Apps register handlers by kind in their manifest (``queue_handlers={"scheduling.solve": solve}``) and enqueue
with :func:`enqueue`. Any number of workers (``mes worker``), on any number of machines, claim queued jobs:
on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, on SQLite under its single write lock. A running job
sends a heartbeat; a job whose worker died (no heartbeat for ``JOB_STALE_SECONDS``) is queued again for
another worker, up to ``max_attempts``.

Exactly once: a handler does its writes through ``ctx.session``, and the job is marked succeeded *in that same
transaction*, on the condition that this worker still holds it. A worker that lost its job (it was presumed
dead and the job re-queued) rolls its writes back, so the effects of a job are committed once.
Progress and cancellation travel through the job row: ``ctx.progress(...)`` publishes progress (and raises
:class:`JobCancelled` once a cancel was requested), which the web reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Mapped, Session, mapped_column

from platform_core.db import (
    SKIP_TENANT_FILTER,
    Actor,
    Base,
    TenantScoped,
    UTCDateTime,
    created_at,
    db,
    enum_type,
    intpk,
    utcnow,
)
from platform_core.errors import Conflict, ValidationFailed

log = logging.getLogger(__name__)
_UNSCOPED = {SKIP_TENANT_FILTER: True}  # the queue is claimed across tenants; each job then runs in its own


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(TenantScoped, Base):
    """A unit of queued work of one tenant."""

    __tablename__ = "platform_jobs"
    __table_args__ = (sa.Index("ix_platform_jobs_claim", "status", "priority", "run_after"),)
    __audit__ = False  # its own row is the record of what happened

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.QUEUED)
    priority: Mapped[int] = mapped_column(default=100)  # lower runs first
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    worker: Mapped[str | None] = mapped_column(sa.String(120))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    progress: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None]
    created_at: Mapped[created_at]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class JobCancelled(Exception):
    """Raised inside a handler (by ``ctx.progress`` or ``ctx.check_cancelled``) once a cancel was requested."""


def handlers() -> dict[str, Callable[[JobContext], Any]]:
    from platform_core.registry import get_registry

    found: dict[str, Callable] = {}
    for manifest in get_registry():
        found.update(manifest.queue_handlers)
    return found


# --- the web side ---------------------------------------------------------------------------------------------


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    priority: int = 100,
    max_attempts: int = 3,
    created_by_id: int | None = None,
) -> Job:
    """Queue a job for the session's tenant; it starts once the transaction commits."""
    if kind not in handlers():
        raise ValidationFailed(f"no handler for job kind {kind!r}", errors={"kind": ["Unknown."]})
    job = Job(kind=kind, payload=payload, priority=priority, max_attempts=max_attempts, created_by_id=created_by_id)
    session.add(job)
    session.flush()
    return job


def request_cancel(session: Session, job: Job) -> Job:
    """Cancel a queued job at once, or ask its worker to stop a running one."""
    if job.status in FINISHED:
        raise Conflict(f"the job is already {job.status.value}", current_state=job.status.value)
    if job.status is JobStatus.QUEUED:
        job.status, job.finished_at = JobStatus.CANCELLED, utcnow()
    else:
        job.cancel_requested = True
    session.flush()
    return job


# --- the worker side ------------------------------------------------------------------------------------------


@dataclass
class JobContext:
    """What a handler gets: its job's data, a session for its writes, progress and cancellation."""

    job_id: int
    tenant_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    worker: str
    session: Session
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _last_progress: float = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()

    def progress(self, force: bool = False, **data: Any) -> None:
        """Publish progress for the web (at most twice a second unless forced); stops a cancelled job."""
        self.check_cancelled()
        now = time.monotonic()
        if not force and now - self._last_progress < 0.5:
            return
        self._last_progress = now
        with db.unit_of_work() as session:
            session.execute(
                sa.update(Job)
                .where(Job.id == self.job_id, Job.worker == self.worker)
                .values(progress=data, heartbeat_at=utcnow())
                .execution_options(**_UNSCOPED)
            )


@dataclass(frozen=True)
class Claimed:
    id: int
    tenant_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int


def requeue_stale(stale_seconds: float) -> int:
    """Give the jobs of dead workers to the living: re-queue (or fail, when out of attempts) stale running jobs."""
    cutoff = utcnow() - dt.timedelta(seconds=stale_seconds)
    stale = sa.and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < cutoff)
    with db.unit_of_work() as session:
        failed = session.execute(
            sa.update(Job)
            .where(stale, Job.attempts >= Job.max_attempts)
            .values(status=JobStatus.FAILED, finished_at=utcnow(), worker=None, error="its worker stopped responding")
            .execution_options(**_UNSCOPED)
        ).rowcount
        requeued = session.execute(
            sa.update(Job)
            .where(stale, Job.attempts < Job.max_attempts)
            .values(status=JobStatus.QUEUED, worker=None, run_after=utcnow())
            .execution_options(**_UNSCOPED)
        ).rowcount
    if failed or requeued:
        log.warning("stale jobs: %d re-queued, %d failed", requeued, failed)
    return requeued + failed


def claim(worker: str, kinds: set[str]) -> Claimed | None:
    """Take the next queued job this worker can run, or None."""
    with db.unit_of_work() as session:
        statement = (
            sa.select(Job)
            .where(Job.status == JobStatus.QUEUED, Job.run_after <= utcnow(), Job.kind.in_(kinds))
            .order_by(Job.priority, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(**_UNSCOPED)
        )
        job = session.scalar(statement)
        if job is None:
            return None
        now = utcnow()
        job.status, job.worker, job.attempts = JobStatus.RUNNING, worker, job.attempts + 1
        job.started_at = job.heartbeat_at = now
        return Claimed(job.id, job.tenant_id, job.kind, dict(job.payload), job.attempts)


@contextlib.contextmanager
def _heartbeat(app: Flask, claimed: Claimed, worker: str, cancelled: threading.Event) -> Iterator[None]:
    """Keep the job's lease alive and watch for a cancel request while the handler runs."""
    stop = threading.Event()

    def beat() -> None:
        interval = app.config["JOB_HEARTBEAT_SECONDS"]
        with app.app_context():
            while not stop.wait(interval):
                try:
                    with db.unit_of_work() as session:
                        flag = session.scalar(
                            sa.update(Job)
                            .where(Job.id == claimed.id, Job.worker == worker, Job.status == JobStatus.RUNNING)
                            .values(heartbeat_at=utcnow())
                            .returning(Job.cancel_requested)
                            .execution_options(**_UNSCOPED)
                        )
                    if flag:
                        cancelled.set()
                except sa.exc.SQLAlchemyError:
                    log.warning("heartbeat of job %s failed; retrying", claimed.id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{claimed.id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _finish(session: Session, claimed: Claimed, owner: str, **values: Any) -> bool:
    """Record the outcome if ``owner`` still holds the job; False means the lease was lost."""
    values.setdefault("finished_at", utcnow())
    updated = session.execute(
        sa.update(Job)
        .where(Job.id == claimed.id, Job.worker == owner, Job.status == JobStatus.RUNNING)
        .values(**values)
        .execution_options(**_UNSCOPED)
    ).rowcount
    return updated == 1


def run(app: Flask, claimed: Claimed, worker: str) -> JobStatus | None:
    """Run a claimed job to its end; returns its final status (None if another worker had taken it over)."""
    handler = handlers()[claimed.kind]
    cancelled = threading.Event()
    session = db._new_session()
    session.info.update(tenant_id=claimed.tenant_id, actor=Actor(f"job:{claimed.kind}#{claimed.id}"))
    ctx = JobContext(
        claimed.id, claimed.tenant_id, claimed.kind, claimed.payload, claimed.attempt, worker, session, cancelled
    )
    try:
        with _heartbeat(app, claimed, worker, cancelled):
            try:
                result = handler(ctx)
            except JobCancelled:
                session.rollback()
                with db.unit_of_work() as outcome:
                    _finish(outcome, claimed, worker, status=JobStatus.CANCELLED)
                return JobStatus.CANCELLED
            except Exception as exc:
                session.rollback()
                log.exception("job %s (%s) failed", claimed.id, claimed.kind)
                return _record_failure(claimed, worker, exc)
            status = JobStatus.SUCCEEDED
            if not _finish(session, claimed, worker, status=status, result=result, progress=None):
                session.rollback()  # presumed dead and re-queued meanwhile: the other worker's run counts
                log.warning("job %s was taken over by another worker; its writes here are discarded", claimed.id)
                return None
            session.commit()
            return status
    finally:
        session.close()


def _record_failure(claimed: Claimed, worker: str, exc: Exception) -> JobStatus:
    error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
    with db.unit_of_work() as session:
        job = session.scalar(sa.select(Job).where(Job.id == claimed.id).execution_options(**_UNSCOPED))
        if job.attempts < job.max_attempts:
            delay = dt.timedelta(seconds=min(600, 10 * 2 ** (job.attempts - 1)))
            _finish(
                session,
                claimed,
                worker,
                status=JobStatus.QUEUED,
                run_after=utcnow() + delay,
                error=error,
                worker=None,
                finished_at=None,
            )
            return JobStatus.QUEUED
        _finish(session, claimed, worker, status=JobStatus.FAILED, error=error)
        return JobStatus.FAILED
