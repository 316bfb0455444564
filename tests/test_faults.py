"""Faults during a stream of tablet reports: every acknowledged report is stored exactly once, every event is
delivered at least once (docs/reliability.md).

The product runs as deployed: gunicorn (2 workers) on its own PostgreSQL with synchronous commits. Each tablet
sends reports one after the other; when an answer does not come (connection cut, 5xx), it sends the same report
again with the same Idempotency-Key until it is answered, as the tablet page's offline queue does. Meanwhile the
fault strikes. Afterwards the database must hold exactly the acknowledged reports, each once, and the outbox must
deliver an event for each of them.

Here the faults strike the deployed processes: a gunicorn worker (kill -9), PostgreSQL (crash and restart), the
background worker (kill -9 while it delivers the events the web processes leave in the outbox) and the MQTT broker
(restarted while a gateway streams telemetry to the worker's subscriber).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
import pytest
import sqlalchemy as sa

from bench.work_reports import Client, gunicorn, prepare_database, psycopg_dsn
from tests.services import MosquittoBroker, PostgresCluster, terminate
from tests.support import unavailable

pytestmark = pytest.mark.slow
TABLETS = 6
RETRY_PAUSE = 0.2
REPO = Path(__file__).resolve().parents[1]
WEB = {"MES_LOG_LEVEL": "CRITICAL"}
WORKER = {  # quick to notice a dead leader and to sweep the outbox
    "MES_LOG_LEVEL": "CRITICAL",
    "MES_WORKER_LEADER_RETRY_SECONDS": "0.5",
    "MES_OUTBOX_SWEEP_SECONDS": "1",
}


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


@contextlib.contextmanager
def mes_worker(url: str, env: dict):
    """A ``mes worker`` process on ``url`` until the block ends (or it is killed)."""
    command = [sys.executable, "-c", "from platform_core.cli import main; main()", "worker"]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "MES_DATABASE_URL": url, **env}
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        terminate(process)


def _stream_through(cluster, fault, *, prepared=None, web=WEB) -> Tablets:
    """Reports before, during and after ``fault(server)``; returns the tablets with what was acknowledged."""
    tokens, operation_ids = prepared or prepare_database(cluster.url, TABLETS)
    env = {"MES_DATABASE_URL": cluster.url, **web}
    with (
        gunicorn("platform_core.wsgi:app", env, workers=2, threads=2) as server,
        Tablets(server.port, tokens, operation_ids) as tablets,
    ):
        tablets.wait_for(30)
        fault(server)
        tablets.wait_for(tablets.count() + 30)  # the product serves again
    assert not tablets.refused, tablets.refused
    return tablets


def _outbox(url: str) -> tuple[int, int]:
    """(reported events in the outbox, how many of them are delivered)."""
    with psycopg.connect(psycopg_dsn(url)) as conn:
        statement = (
            "SELECT count(*), count(dispatched_at) FROM platform_outbox WHERE name = 'orders.operation_reported'"
        )
        return conn.execute(statement).fetchone()


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _assert_exactly_once_and_delivered(url: str, tablets: Tablets) -> None:
    from platform_core import events
    from platform_core.app import create_app

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
    app.extensions["mes.engine"].dispose()
    published, dispatched = _outbox(url)
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


@pytest.mark.backends("postgresql")
def test_a_background_worker_killed_while_delivering_leaves_no_event_undelivered(cluster, backend):
    """The web processes only write the events to the outbox; the worker delivers them and is killed meanwhile."""
    prepared = prepare_database(cluster.url, TABLETS, apps=("orders", "quality"))
    stranded = []
    with contextlib.ExitStack() as workers:

        def kill_the_worker_while_it_delivers(_server) -> None:
            first = workers.enter_context(mes_worker(cluster.url, WORKER))
            _wait(lambda: _outbox(cluster.url)[1] > 0, 60, "the worker's first deliveries")
            first.send_signal(signal.SIGKILL)  # its sweep runs every second while events keep coming
            first.wait(timeout=10)
            time.sleep(2)  # the tablets go on reporting; their events wait in the outbox
            published, dispatched = _outbox(cluster.url)
            stranded.append(published - dispatched)
            workers.enter_context(mes_worker(cluster.url, WORKER))  # a restart, as the process manager does

        web = {**WEB, "MES_EVENTS_DELIVER_INLINE": "false"}
        tablets = _stream_through(cluster, kill_the_worker_while_it_delivers, prepared=prepared, web=web)
        reports = len(tablets.acknowledged)
        _wait(lambda: _outbox(cluster.url) == (reports, reports), 120, "the restarted worker's sweeps")
    assert stranded and stranded[0] > 0  # the kill really left events behind
    with psycopg.connect(psycopg_dsn(cluster.url)) as conn:
        handled = conn.execute("SELECT count(*) FROM quality_production_records").fetchone()[0]
    assert handled == reports  # quality handled every reported event, none twice
    _assert_exactly_once_and_delivered(cluster.url, tablets)


class GatewayStream:
    """A gateway box streaming signed temperature points of one machine, one at a time with QoS 1; a point the
    broker has not acknowledged is sent again (the ingest stores a point once), as a gateway's buffer does."""

    def __init__(self, port: int, factory: str, secret: str, machine: str) -> None:
        from apps.equipment import signing

        self.topic = signing.machine_topic("mes", factory, machine)
        self.gateway, self.key = signing.token_id(secret), signing.signing_key(secret)
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"gw-{secrets.token_hex(4)}")
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect("127.0.0.1", port)
        self.acknowledged: list[str] = []  # timestamps of the points the broker took
        self.subscribed_at = 0  # how many were taken before the subscriber was surely subscribed (the broker drops
        self.restarted_at = 0  # those: nobody had subscribed yet), and before the broker's restart
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> GatewayStream:
        self.client.loop_start()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.client.loop_stop()
        self.client.disconnect()

    def _run(self) -> None:
        from apps.equipment import signing
        from platform_core.db import utcnow

        while not self.stop.is_set():
            ts = utcnow().isoformat()
            point = {"metric": "temperature", "ts": ts, "value": 20.0 + len(self.acknowledged) % 30}
            payload = signing.envelope(self.gateway, self.key, self.topic, [point])
            while not self.stop.is_set():
                info = self.client.publish(self.topic, payload, qos=1)
                with contextlib.suppress(RuntimeError):  # not connected: try again in a moment
                    info.wait_for_publish(timeout=2)
                if info.rc == paho.MQTT_ERR_SUCCESS and info.is_published():
                    self.acknowledged.append(ts)
                    break
                time.sleep(0.2)
            time.sleep(0.02)

    def acknowledged_since_restart(self) -> int:
        return len(self.acknowledged) - self.restarted_at

    def counted(self) -> list[dt.datetime]:
        """The points the broker took once the subscriber was subscribed: every one of them must be stored."""
        return [dt.datetime.fromisoformat(ts) for ts in self.acknowledged[self.subscribed_at :]]


def _gateway(url: str) -> tuple[str, str]:
    """A temperature metric and a gateway for the prepared factory; returns (factory code, gateway secret)."""
    from apps.equipment import configuration
    from platform_core.app import create_app
    from platform_core.db import Actor, db
    from platform_core.tenants.models import Tenant

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "CRITICAL"})
    with app.app_context():
        with db.unit_of_work() as session:
            tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.code == "BENCH"))
        with db.unit_of_work(tenant_id, actor=Actor("faults")) as session:
            configuration.create_metric(session, code="temperature", name="温度", unit="°C")
            _gateway, secret = configuration.create_gateway(session, "edge", None)
    app.extensions["mes.engine"].dispose()
    return "BENCH", secret


def _stored_points(url: str, machine: str) -> set[dt.datetime]:
    with psycopg.connect(psycopg_dsn(url)) as conn:
        statement = (
            "SELECT t.ts FROM equipment_telemetry t JOIN platform_machines m ON m.id = t.machine_id WHERE m.code = %s"
        )
        return {ts for (ts,) in conn.execute(statement, (machine,)).fetchall()}


@pytest.mark.backends("postgresql")
def test_a_broker_restart_loses_no_point_the_broker_took_and_no_report(cluster, backend):
    """As deployed: the broker keeps durable sessions (persistence), the worker's subscriber reconnects to it."""
    broker = MosquittoBroker(persistence=True)
    if not broker.available:
        unavailable("mosquitto not found")
    prepared = prepare_database(cluster.url, TABLETS, apps=("orders", "equipment"))
    factory, secret = _gateway(cluster.url)
    port = broker.start()
    subscriber = {
        **WORKER,
        "MES_EQUIPMENT_MQTT_ENABLED": "true",
        "MES_EQUIPMENT_MQTT_HOST": "127.0.0.1",
        "MES_EQUIPMENT_MQTT_PORT": str(port),
        "MES_EQUIPMENT_MQTT_CLIENT_ID": "mes-ingest-faults",
        "MES_EQUIPMENT_MQTT_BATCH_SECONDS": "0.1",
        "MES_EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS": "2",
    }
    try:
        with mes_worker(cluster.url, subscriber), GatewayStream(port, factory, secret, "CNC-00") as gateway:
            _wait(lambda: _stored_points(cluster.url, "CNC-00"), 60, "the subscriber's first point")
            gateway.subscribed_at = len(gateway.acknowledged)

            def restart_the_broker(_server) -> None:
                _wait(lambda: len(_stored_points(cluster.url, "CNC-00")) >= 20, 60, "the first points stored")
                broker.stop(keep=True)  # the same port, settings and saved sessions when it comes back
                gateway.restarted_at = len(gateway.acknowledged)
                time.sleep(1.0)
                broker.start()

            tablets = _stream_through(cluster, restart_the_broker, prepared=prepared)
            _wait(lambda: gateway.acknowledged_since_restart() >= 50, 60, "points taken after the restart")
        taken = gateway.counted()
        deadline = time.monotonic() + 60
        while not (stored := _stored_points(cluster.url, "CNC-00")) >= set(taken) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        broker.stop()
    lost = [i for i, ts in enumerate(taken) if ts not in stored]
    restart = gateway.restarted_at - gateway.subscribed_at
    assert not lost, f"{len(lost)} of {len(taken)} points the broker took were lost (restart after {restart}): {lost}"
    assert restart >= 20 and len(taken) >= restart + 50  # points on both sides of the restart
    _assert_exactly_once_and_delivered(cluster.url, tablets)
