"""``mes worker``: the background process (never inside gunicorn).

Two duties:

* **Periodic jobs**, run by exactly one worker at a time, the leader: event outbox sweep, webhook deliveries,
  housekeeping, and the jobs apps declare (``AppManifest.jobs``), on an APScheduler 3 scheduler. Leadership is
  a lock that dies with its holder: a PostgreSQL advisory lock held on a dedicated connection, or on SQLite an
  ``flock`` on a file beside the database. The others retry every ``WORKER_LEADER_RETRY_SECONDS``, so a new
  leader takes over within seconds of the old one dying.
* **Queued jobs** (:mod:`platform_core.jobs`), run by every worker, ``WORKER_CONCURRENCY`` at a time.

Each worker keeps a row in ``platform_workers`` (heartbeat, leadership) for operators and health checks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import signal
import socket
import threading
import zlib
from pathlib import Path

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.orm import Mapped, mapped_column

from platform_core import events, jobs, webhooks
from platform_core.db import Base, UTCDateTime, db, utcnow
from platform_core.registry import JobSpec, get_registry

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = zlib.crc32(b"mes-suite:leader")  # the advisory lock id, stable across versions


class WorkerRecord(Base):
    """A running (or lately running) worker process."""

    __tablename__ = "platform_workers"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    hostname: Mapped[str] = mapped_column(sa.String(120))
    pid: Mapped[int]
    is_leader: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- leadership -----------------------------------------------------------------------------------------------


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a connection of its own; PostgreSQL frees it when the connection dies."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.connection: sa.Connection | None = None

    def try_acquire(self) -> bool:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self.connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY})
        return bool(got)

    def still_held(self) -> bool:
        try:
            self.connection.scalar(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            self.release()
            return False

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.connection.close()
            self.connection = None


class FileLeaderLock:
    """``flock`` on a file; the kernel frees it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def leader_lock(app: Flask):
    engine = app.extensions["mes.engine"]
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine)
    configured = app.config.get("LEADER_LOCK_FILE")
    database = engine.url.database or "mes.db"
    return FileLeaderLock(Path(configured) if configured else Path(f"{database}.worker.lock"))


# --- periodic jobs --------------------------------------------------------------------------------------------


def housekeeping() -> None:
    """Forget what is no longer needed: expired idempotency keys, sessions, old sign-in failures."""
    from platform_core.idempotency import purge_expired as purge_keys
    from platform_core.identity.services import purge_failures
    from platform_core.identity.sessions import purge_expired as purge_sessions

    with db.unit_of_work() as session:
        keys = purge_keys(session)
        sessions = purge_sessions(session)
        failures = purge_failures(session, older_than_seconds=24 * 3600)
    log.info("housekeeping: %d idempotency keys, %d sessions, %d sign-in failures removed", keys, sessions, failures)


def periodic_jobs(app: Flask) -> list[JobSpec]:
    config = app.config
    core = [
        JobSpec("platform.outbox_sweep", events.sweep, config["OUTBOX_SWEEP_SECONDS"]),
        JobSpec("platform.webhook_deliveries", webhooks.deliver_due, config["WEBHOOK_DELIVERY_SECONDS"]),
        JobSpec("platform.housekeeping", housekeeping, config["HOUSEKEEPING_SECONDS"]),
    ]
    with app.app_context():
        return core + [spec for manifest in get_registry() for spec in manifest.jobs]


# --- the process ----------------------------------------------------------------------------------------------


class Worker:
    """One worker process: leadership loop, scheduler when leader, queue consumers always."""

    def __init__(self, app: Flask, name: str | None = None) -> None:
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.lock = leader_lock(app)
        self.scheduler: BackgroundScheduler | None = None
        self.consumers: list[threading.Thread] = []
        self.services: list[threading.Thread] = []
        self.services_stop = threading.Event()

    # leadership
    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def _become_leader(self) -> None:
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        for spec in periodic_jobs(self.app):
            scheduler.add_job(
                self._in_context(spec.func),
                "interval",
                seconds=spec.seconds,
                id=spec.name,
                next_run_time=dt.datetime.now(dt.UTC),
            )
        scheduler.start()
        self.scheduler = scheduler
        self.services_stop = threading.Event()
        with self.app.app_context():
            services = [service for manifest in get_registry() for service in manifest.leader_services]
        for service in services:
            thread = threading.Thread(target=self._run_service, args=(service,), name=service.__name__, daemon=True)
            thread.start()
            self.services.append(thread)
        log.warning("worker %s is the leader: periodic jobs and %d services run here", self.name, len(services))

    def _run_service(self, service) -> None:
        """Keep a leader service running until leadership ends; restart it if it crashes."""
        while not self.services_stop.is_set():
            try:
                service(self.app, self.services_stop)
            except Exception:
                log.exception("leader service %s crashed; restarting", service.__name__)
            self.services_stop.wait(self.app.config["WORKER_LEADER_RETRY_SECONDS"])

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            self.services_stop.set()
            for thread in self.services:
                thread.join(timeout=10)
            self.services = []
            log.warning("worker %s is no longer the leader", self.name)

    def _in_context(self, func):
        def run() -> None:
            with self.app.app_context():
                try:
                    func()
                except Exception:
                    log.exception("periodic job %s failed", getattr(func, "__name__", func))

        return run

    def _maintain_leadership(self) -> None:
        if self.is_leader and not self.lock.still_held():
            self._step_down()
        if not self.is_leader and self.lock.try_acquire():
            self._become_leader()

    def _record(self, *, started_at: dt.datetime) -> None:
        with self.app.app_context(), db.unit_of_work() as session:
            record = session.get(WorkerRecord, self.name)
            if record is None:
                record = WorkerRecord(
                    name=self.name,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=started_at,
                    heartbeat_at=utcnow(),
                )
                session.add(record)
            record.is_leader = self.is_leader
            record.heartbeat_at = utcnow()

    # queue consumers
    def _consume(self) -> None:
        config = self.app.config
        with self.app.app_context():
            kinds = set(jobs.handlers())
            while not self.stopping.is_set():
                try:
                    jobs.requeue_stale(config["JOB_STALE_SECONDS"])
                    claimed = jobs.claim(self.name, kinds) if kinds else None
                except sa.exc.SQLAlchemyError:
                    log.warning("could not reach the job queue; retrying", exc_info=True)
                    claimed = None
                if claimed is None:
                    self.stopping.wait(config["WORKER_POLL_SECONDS"])
                    continue
                log.info("job %s (%s) attempt %s started", claimed.id, claimed.kind, claimed.attempt)
                status = jobs.run(self.app, claimed, self.name)
                log.info("job %s finished: %s", claimed.id, status)

    def run(self) -> None:
        """Run until SIGTERM/SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        started_at = utcnow()
        for index in range(self.app.config["WORKER_CONCURRENCY"]):
            thread = threading.Thread(target=self._consume, name=f"jobs-{index}", daemon=True)
            thread.start()
            self.consumers.append(thread)
        log.warning("worker %s started (%d queue consumers)", self.name, len(self.consumers))
        retry = self.app.config["WORKER_LEADER_RETRY_SECONDS"]
        try:
            while not self.stopping.is_set():
                try:
                    self._maintain_leadership()
                    self._record(started_at=started_at)
                except sa.exc.SQLAlchemyError:
                    log.warning("database unreachable; the worker keeps trying", exc_info=True)
                self.stopping.wait(retry)
        finally:
            self._step_down()
            self.lock.release()
            for thread in self.consumers:
                thread.join(timeout=30)
            with contextlib.suppress(sa.exc.SQLAlchemyError), self.app.app_context(), db.unit_of_work() as session:
                session.execute(sa.delete(WorkerRecord).where(WorkerRecord.name == self.name))
            log.warning("worker %s stopped", self.name)


def live_workers(session, within_seconds: float = 30) -> list[WorkerRecord]:
    """Workers that sent a heartbeat lately."""
    cutoff = utcnow() - dt.timedelta(seconds=within_seconds)
    return list(session.scalars(sa.select(WorkerRecord).where(WorkerRecord.heartbeat_at >= cutoff)))
