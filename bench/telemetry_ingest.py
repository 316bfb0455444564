"""Telemetry ingest benchmark: points per second into PostgreSQL through the HTTP bulk endpoint (gunicorn) and
through MQTT (Mosquitto + the app's subscriber), against a raw psycopg COPY of the same points into the same
table, measured in the same run; and the OEE page for 50 machines over 30 days of 1-minute data.

    .venv/bin/python bench/telemetry_ingest.py                 # about 3 minutes on 2 cores
    .venv/bin/python bench/telemetry_ingest.py --points 200000 --skip-oee   # a quick look

PostgreSQL and Mosquitto are started for the run (throwaway, on free loopback ports), or taken from
``MES_TEST_PG_URL`` / ``MES_TEST_MQTT_PORT``. Every phase starts from empty telemetry tables, so each stores the
same points from scratch: the HTTP and MQTT phases keep the 1-minute and 1-hour rollups up to date as they go,
COPY writes raw rows only. The load generator shares the machine with the server: the numbers are for this
machine, as it is, and are relative.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import http.cookiejar
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from tests.services import MosquittoBroker, PostgresCluster, free_port  # noqa: E402

MACHINES = 50
METRICS = ("spindle_speed", "vibration", "spindle_temp", "current")
BATCH = 10000  # points per HTTP request (about 0.9 MB of JSON)
MQTT_BATCH = 500  # points per MQTT message (one machine's few seconds of all its metrics)
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway database's user


# --- set-up ---------------------------------------------------------------------------------------------------


class QueueingBroker(MosquittoBroker):
    """Mosquitto as production should run it for telemetry: the subscriber's queue is not capped at Mosquitto's
    default of 1,000 messages (beyond which QoS 1 messages for a slower subscriber are dropped)."""

    def start(self) -> int:
        port = super().start()
        self.stop()
        config = Path(tempfile.mkdtemp(prefix="mes-bench-mqtt-")) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 100\n"
        )
        os.chmod(config.parent, 0o755)  # noqa: S103 - mosquitto drops privileges and must read it
        os.chmod(config, 0o644)
        self.dir, self.port = config.parent, port
        self.process = subprocess.Popen(
            [self.binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")


def database(server_url: str) -> str:
    name = f"mes_bench_{secrets.token_hex(3)}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def prepare(url: str) -> dict:
    """Migrate, and create a factory with 50 machines on two shifts, four metrics and a gateway."""
    from apps.equipment import configuration
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db, tenant_context
    from platform_core.identity import services as identity
    from platform_core.masterdata import models as md
    from platform_core.rbac import Role
    from platform_core.tenants import services as tenants

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    with app.app_context():
        migrations.upgrade(db.engine)
    with app.test_request_context(), db.unit_of_work() as session:
        tenant = tenants.create_tenant(
            session,
            code="BENCH",
            name="压测工厂",
            timezone="Asia/Shanghai",
            default_locale="zh_CN",
            apps=["equipment"],
            admin={"username": "bench-admin", "password": PASSWORD},
        )
        with tenant_context(session, tenant.id):
            calendar = md.ShiftCalendar(code="2S", name="两班制", is_default=True)
            for position, (code, start, end) in enumerate((("A", 8, 16), ("B", 16, 0))):
                calendar.shifts.append(
                    md.CalendarShift(
                        code=code,
                        name=f"{code}班",
                        position=position,
                        weekdays=[1, 2, 3, 4, 5, 6],
                        start_time=dt.time(start),
                        end_time=dt.time(end),
                        breaks=[["12:00", "12:30"]] if code == "A" else [],
                    )
                )
            center = md.WorkCenter(code="CNC", name="数控", calendar=calendar)
            session.add_all([calendar, center])
            for i in range(MACHINES):
                session.add(md.Machine(code=f"M{i:03d}", name=f"设备 {i}", work_center=center, ideal_cycle_time_s=60))
            session.flush()
            for code in METRICS:
                configuration.create_metric(session, code=code, name=code)
            _gateway, secret = configuration.create_gateway(session, "bench", None)
            user = identity.create_user(session, username="bench-viewer", display_name="看板", password=PASSWORD)
            identity.set_roles(session, user, [Role.VIEWER])
            ids = {
                "tenant_id": tenant.id,
                "machines": {m.code: m.id for m in session.scalars(sa.select(md.Machine)).all()},
            }
    with app.app_context(), db.unit_of_work(ids["tenant_id"]) as session:
        from apps.equipment.models import Metric

        ids["metrics"] = {m.code: m.id for m in session.scalars(sa.select(Metric))}
    app.extensions["mes.engine"].dispose()
    return {**ids, "secret": secret}


def points(total: int, start: dt.datetime) -> list[tuple[str, str, dt.datetime, float]]:
    """``total`` points: every machine and metric once a second from ``start``."""
    rng = random.Random(7)  # noqa: S311 - test data
    per_second = MACHINES * len(METRICS)
    found = []
    for second in range(total // per_second):
        ts = start + dt.timedelta(seconds=second)
        for m in range(MACHINES):
            for metric in METRICS:
                found.append((f"M{m:03d}", metric, ts, round(rng.uniform(0, 3000), 2)))
    return found


def clear(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE equipment_telemetry, equipment_rollups_1m, equipment_rollups_1h")
    engine.dispose()


def count(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.scalar(sa.text("SELECT count(*) FROM equipment_telemetry"))
    engine.dispose()
    return found


def server_env(url: str, mqtt_port: int | None = None) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "MES_DATABASE_URL": url,
        "MES_LOG_LEVEL": "WARNING",
        "MES_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    if mqtt_port is not None:
        env.update(
            {
                "MES_EQUIPMENT_MQTT_ENABLED": "true",
                "MES_EQUIPMENT_MQTT_PORT": str(mqtt_port),
                "MES_EQUIPMENT_MQTT_CLIENT_ID": f"bench-{secrets.token_hex(3)}",
            }
        )
    return env


# --- phases ---------------------------------------------------------------------------------------------------


def phase_copy(url: str, ids: dict, data) -> float:
    import psycopg

    rows = [(ids["tenant_id"], ids["machines"][m], ids["metrics"][k], ts, v) for m, k, ts, v in data]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    statement = "COPY equipment_telemetry (tenant_id, machine_id, metric_id, ts, value) FROM STDIN"
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    elapsed = time.perf_counter() - started
    assert count(url) == len(data)
    return len(data) / elapsed


def phase_http(url: str, ids: dict, data, workers: int, clients: int) -> float:
    port = free_port()
    server = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "platform_core.wsgi:app",
        ],
        cwd=REPO,
        env=server_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(port)
        bodies = [
            json.dumps(
                [{"machine": m, "metric": k, "ts": ts.isoformat(), "value": v} for m, k, ts, v in data[i : i + BATCH]]
            ).encode()
            for i in range(0, len(data), BATCH)
        ]
        headers = {"Authorization": f"Bearer {ids['secret']}", "Content-Type": "application/json"}
        queue = list(reversed(bodies))
        lock = threading.Lock()

        def send() -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            accepted = 0
            while True:
                with lock:
                    if not queue:
                        break
                    body = queue.pop()
                connection.request("POST", "/api/v1/equipment/telemetry", body=body, headers=headers)
                response = connection.getresponse()
                result = json.loads(response.read())
                assert response.status == 200, result
                accepted += result["accepted"]
            connection.close()
            return accepted

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            accepted = sum(pool.map(lambda _i: send(), range(clients)))
        elapsed = time.perf_counter() - started
        assert accepted == len(data), (accepted, len(data))
        return len(data) / elapsed
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _wait_http(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def phase_mqtt(url: str, ids: dict, data, mqtt_port: int) -> float:
    import paho.mqtt.client as paho

    from apps.equipment import signing

    script = (
        "import threading, signal\n"
        "from platform_core.app import create_app\n"
        "from apps.equipment.mqtt import mqtt_subscriber\n"
        "stop = threading.Event()\n"
        "signal.signal(signal.SIGTERM, lambda *_: stop.set())\n"
        "mqtt_subscriber(create_app(), stop)\n"
    )
    subscriber = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=server_env(url, mqtt_port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # connected and subscribed
        gateway, key = signing.token_id(ids["secret"]), signing.signing_key(ids["secret"])
        by_machine: dict[str, list] = {}
        for m, k, ts, v in data:
            by_machine.setdefault(m, []).append({"metric": k, "ts": ts.isoformat(), "value": v})
        messages = []
        for machine, machine_points in by_machine.items():
            topic = signing.machine_topic("mes", "BENCH", machine)
            for i in range(0, len(machine_points), MQTT_BATCH):
                messages.append((topic, signing.envelope(gateway, key, topic, machine_points[i : i + MQTT_BATCH])))
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-gateway")
        client.max_inflight_messages_set(200)
        client.connect("127.0.0.1", mqtt_port)
        client.loop_start()
        started = time.perf_counter()
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(120)
        deadline = time.monotonic() + 300
        while count(url) < len(data) and time.monotonic() < deadline:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        client.loop_stop()
        client.disconnect()
        assert count(url) == len(data)
        return len(data) / elapsed
    finally:
        subscriber.send_signal(signal.SIGTERM)
        try:
            subscriber.wait(timeout=30)
        except subprocess.TimeoutExpired:
            subscriber.kill()


# --- the OEE page over a month of 1-minute data ----------------------------------------------------------------


def phase_oee(url: str, ids: dict, days: int = 30) -> dict:
    """A month of 1-minute run signals for 50 machines (raw points and rollups), the timelines they make,
    hourly work reports; the stats job's backfill; then the OEE page and API, timed over HTTP."""
    import psycopg

    rng = random.Random(11)  # noqa: S311 - test data
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    start = now - dt.timedelta(days=days)
    minutes = days * 24 * 60
    metric = ids["metrics"]["spindle_speed"]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    intervals, counts, raw = [], [], 0
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY equipment_telemetry (tenant_id, machine_id, metric_id, ts, value) FROM STDIN") as copy:
            for machine_id in ids["machines"].values():
                state, left, since = "idle", 0, start
                for minute in range(minutes):
                    ts = start + dt.timedelta(minutes=minute)
                    local_hour = (ts.hour + 8) % 24
                    working = 8 <= local_hour < 24 and (ts + dt.timedelta(hours=8)).isoweekday() != 7
                    if left <= 0:
                        wanted = (
                            ("running" if rng.random() < 0.8 else rng.choice(["idle", "down", "setup"]))
                            if working
                            else "idle"
                        )
                        left = rng.randint(20, 90) if wanted == "running" else rng.randint(5, 40)
                        if wanted != state:
                            if ts > since:
                                intervals.append((machine_id, state, since, ts))
                            state, since = wanted, ts
                    left -= 1
                    copy.write_row((ids["tenant_id"], machine_id, metric, ts, 2400.0 if state == "running" else 0.0))
                    raw += 1
                    if state == "running" and minute % 60 == 59:
                        counts.append((machine_id, ts, rng.randint(40, 58)))
                intervals.append((machine_id, state, since, None))
        cursor.execute("""
            INSERT INTO equipment_rollups_1m (tenant_id, machine_id, metric_id, bucket, count, sum, min, max,
                                              "first", first_ts, "last", last_ts)
            SELECT tenant_id, machine_id, metric_id, ts, 1, value, value, value, value, ts, value, ts
            FROM equipment_telemetry""")
        cursor.execute("""
            INSERT INTO equipment_rollups_1h (tenant_id, machine_id, metric_id, bucket, count, sum, min, max,
                                              "first", first_ts, "last", last_ts)
            SELECT tenant_id, machine_id, metric_id, date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01'),
                   sum(count), sum(sum), min(min), max(max), (array_agg("first" ORDER BY first_ts))[1], min(first_ts),
                   (array_agg("last" ORDER BY last_ts DESC))[1], max(last_ts)
            FROM equipment_rollups_1m GROUP BY 1, 2, 3, 4""")
        with cursor.copy(
            "COPY equipment_state_intervals (tenant_id, machine_id, state, started_at, ended_at, source) FROM STDIN"
        ) as copy:
            for machine_id, state, a, b in intervals:
                copy.write_row((ids["tenant_id"], machine_id, state, a, b, "telemetry"))
        with cursor.copy(
            "COPY equipment_counts (tenant_id, machine_id, at, good, scrap, rework, event_id) FROM STDIN"
        ) as copy:
            for machine_id, at, good in counts:
                copy.write_row((ids["tenant_id"], machine_id, at, good, 1, 0, secrets.token_hex(16)))
        cursor.execute("ANALYZE")
    loaded = time.perf_counter() - t0
    from apps.equipment import oee
    from platform_core.app import create_app
    from platform_core.db import db

    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    t1 = time.perf_counter()
    with app.test_request_context(), db.unit_of_work(ids["tenant_id"]) as session:
        stored = oee.refresh_shift_stats(session, now=now)
    backfill = time.perf_counter() - t1
    app.extensions["mes.engine"].dispose()
    timings = _time_oee_pages(url)
    return {
        "raw_points": raw,
        "intervals": len(intervals),
        "load_s": loaded,
        "shift_stats": stored,
        "backfill_s": backfill,
        **timings,
    }


def _time_oee_pages(url: str, repeats: int = 15) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
            "platform_core.wsgi:app",
        ],
        cwd=REPO,
        env=server_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(port)
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login?mode=password").read().decode()
        token = re.search(r'name="pw-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"mode": "password", "pw-csrf_token": token, "pw-username": "bench-viewer", "pw-password": PASSWORD}
        ).encode()
        opener.open(f"{base}/login?mode=password", data=form).read()
        found = {}
        for name, path in (
            ("page_30d_by_machine", "/equipment/oee?days=30&by=machine"),
            ("page_30d_by_week", "/equipment/oee?days=30&by=week"),
        ):
            opener.open(base + path).read()  # warm-up
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = opener.open(base + path)
                body = response.read()
                times.append(time.perf_counter() - started)
                assert response.status == 200 and b"oee-table" in body
            found[name] = {
                "median_ms": statistics.median(times) * 1000,
                "p90_ms": sorted(times)[int(repeats * 0.9)] * 1000,
            }
        return found
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


# --- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=600_000, help="points per ingest phase")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (docker-compose runs 3)")
    parser.add_argument("--clients", type=int, default=6, help="concurrent HTTP connections")
    parser.add_argument("--skip-oee", action="store_true")
    args = parser.parse_args()
    cluster = broker = None
    try:
        server_url = os.environ.get("MES_TEST_PG_URL")
        if not server_url:
            cluster = PostgresCluster()
            server_url = cluster.start()
        mqtt_port = os.environ.get("MES_TEST_MQTT_PORT")
        if not mqtt_port:
            broker = QueueingBroker()
            mqtt_port = broker.start()
        url = database(server_url)
        ids = prepare(url)
        data = points(args.points, dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=6))
        results = {"points": len(data)}
        clear(url)
        results["copy"] = phase_copy(url, ids, data)
        clear(url)
        results["http"] = phase_http(url, ids, data, args.workers, args.clients)
        clear(url)
        results["mqtt"] = phase_mqtt(url, ids, data, int(mqtt_port))
        clear(url)
        print(f"points per phase: {len(data):,} ({MACHINES} machines x {len(METRICS)} metrics, 1 per second)")
        print(f"raw COPY          {results['copy']:>10,.0f} points/s")
        for name, label in (("http", "HTTP bulk"), ("mqtt", "MQTT")):
            ratio = results[name] / results["copy"]
            print(f"{label:17} {results[name]:>10,.0f} points/s   ratio to COPY {ratio:.2f}")
        if not args.skip_oee:
            found = phase_oee(url, ids)
            print(
                f"OEE data: {found['raw_points']:,} 1-minute points, {found['intervals']:,} state intervals "
                f"(loaded in {found['load_s']:.0f} s); shift stats backfill {found['shift_stats']:,} shifts "
                f"in {found['backfill_s']:.1f} s"
            )
            for name in ("page_30d_by_machine", "page_30d_by_week"):
                print(f"{name:22} median {found[name]['median_ms']:.0f} ms, p90 {found[name]['p90_ms']:.0f} ms")
    finally:
        if broker is not None:
            broker.stop()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
