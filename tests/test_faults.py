"""Faults during a stream of tablet reports: every acknowledged report is stored exactly once, every event is
delivered at least once (docs/reliability.md).

The product runs as deployed: gunicorn (2 workers) on its own PostgreSQL with synchronous commits. Each tablet
sends reports one after the other; when an answer does not come (connection cut, 5xx), it sends the same report
again with the same Idempotency-Key until it is answered, as the tablet page's offline queue does. Meanwhile the
fault strikes. Afterwards the database must hold exactly the acknowledged reports, each once, and the outbox must
deliver an event for each of them.

The other faults of docs/reliability.md have their tests beside the code they prove: the MQTT broker restart in
tests/apps/equipment/test_mqtt.py, the background worker killed between commit and delivery in
tests/platform_core/test_worker_processes.py.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from bench.work_reports import Client, gunicorn, prepare_database, psycopg_dsn
from tests.services import PostgresCluster
from tests.support import unavailable

pytestmark = pytest.mark.slow
TABLETS = 6
RETRY_PAUSE = 0.2


@pytest.fixture
def cluster():
    """A PostgreSQL of this test's own (it is crashed on purpose), with durable commits."""
    cluster = PostgresCluster(durable=True)
    if not cluster.available:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) not found")
    server = cluster.start()
    with psycopg.connect(psycopg_dsn(server), autocommit=True) as conn:
        conn.execute("CREATE DATABASE faults")
    cluster.url = server.rsplit("/", 1)[0] + "/faults"
    try:
        yield cluster
    finally:
        cluster.stop()


class Tablets:
    """``TABLETS`` threads reporting on their own operations, retrying each report until it is answered."""

    def __init__(self, port: int, tokens: list[str], operation_ids: list[int]) -> None:
        self.port, self.tokens, self.operation_ids = port, tokens, operation_ids
        self.acknowledged: dict[str, tuple[int, int]] = {}  # key -> (operation id, good)
        self.retries = 0
        self.refused: list[tuple[int, dict]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(TABLETS)]

    def __enter__(self) -> Tablets:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _run(self, index: int) -> None:
        rng = random.Random(index)  # a reproducible load
        headers = {"Authorization": f"Bearer {self.tokens[index]}"}
        path = f"/api/v1/orders/operations/{self.operation_ids[index]}/report"
        client = Client(self.port, headers)
        while not self.stop.is_set():
            key, good = f"fault:{uuid.uuid4().hex}", rng.randint(1, 5)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # the same report until it is answered
                try:
                    status, data, _headers = client.post(path, {"good": good}, key)
                except (OSError, http.client.HTTPException):
                    status = None
                if status == 201:
                    with self.lock:
                        self.acknowledged[key] = (self.operation_ids[index], data["good"])
                    break
                with self.lock:
                    if status is not None and status < 500:  # a refusal: never expected here
                        self.refused.append((status, data))
                        return
                    self.retries += 1
                client.close()
                time.sleep(RETRY_PAUSE)
                client = Client(self.port, headers)
        client.close()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, reports: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < reports:
            assert not self.refused, self.refused
            assert time.monotonic() < deadline, f"only {self.count()} reports acknowledged"
            time.sleep(0.05)


def _stream_through(cluster, fault) -> Tablets:
    """Reports before, during and after ``fault(server)``; returns the tablets with what was acknowledged."""
    tokens, operation_ids = prepare_database(cluster.url, TABLETS)
    env = {"MES_DATABASE_URL": cluster.url, "MES_LOG_LEVEL": "CRITICAL"}
    with (
        gunicorn("platform_core.wsgi:app", env, workers=2, threads=2) as server,
        Tablets(server.port, tokens, operation_ids) as tablets,
    ):
        tablets.wait_for(30)
        fault(server)
        tablets.wait_for(tablets.count() + 30)  # the product serves again
    assert not tablets.refused, tablets.refused
    return tablets


def _assert_exactly_once_and_delivered(url: str, tablets: Tablets) -> None:
    from platform_core import events
    from platform_core.app import create_app
    from platform_core.db import db

    with psycopg.connect(psycopg_dsn(url)) as conn:
        good = dict(conn.execute("SELECT id, good_qty FROM orders_operations").fetchall())
        reports = conn.execute("SELECT count(*) FROM orders_work_reports").fetchone()[0]
    expected: dict[int, int] = {}
    for operation_id, quantity in tablets.acknowledged.values():
        expected[operation_id] = expected.get(operation_id, 0) + quantity
    assert reports == len(tablets.acknowledged), "a report was stored twice or an acknowledged one was lost"
    assert {op: good[op] for op in expected} == expected

    # Whatever inline delivery missed (a worker killed after its commit) the worker's sweep delivers.
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "CRITICAL"})
    with app.app_context():
        events.sweep(min_age_seconds=0)
        with db.unit_of_work() as session:
            statement = sa.text(
                "SELECT count(*), count(dispatched_at) FROM platform_outbox WHERE name = 'orders.operation_reported'"
            )
            published, dispatched = session.execute(statement).one()
    app.extensions["mes.engine"].dispose()
    assert published == reports and dispatched == published


@pytest.mark.backends("postgresql")
def test_a_killed_web_worker_loses_and_doubles_no_report(cluster, backend):
    killed = []

    def kill_a_worker(server) -> None:
        pid = server.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)  # mid-request: some answers are lost after their commit
        killed.append(pid)
        deadline = time.monotonic() + 30
        while len(server.worker_pids()) < 2 or pid in server.worker_pids():
            assert time.monotonic() < deadline, "gunicorn did not replace its worker"
            time.sleep(0.1)

    tablets = _stream_through(cluster, kill_a_worker)
    assert killed and tablets.retries > 0  # the fault really cut requests
    _assert_exactly_once_and_delivered(cluster.url, tablets)


@pytest.mark.backends("postgresql")
def test_a_database_crash_and_restart_loses_and_doubles_no_report(cluster, backend):
    tablets = _stream_through(cluster, lambda _server: cluster.crash_and_restart(down_seconds=1.5))
    assert tablets.retries > 0  # requests failed while the database was down, and were sent again
    _assert_exactly_once_and_delivered(cluster.url, tablets)
