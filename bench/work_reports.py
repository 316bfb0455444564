"""Work-report benchmark: the orders app's report endpoint under gunicorn on PostgreSQL, against a minimal endpoint.

In one run, on one PostgreSQL and with the same gunicorn settings:

1. **minimal**: a Flask app doing one INSERT with psycopg per request (the floor of what a Python web stack costs);
2. **reports**: ``POST /api/v1/orders/operations/<id>/report`` with a bearer token and an Idempotency-Key, each of
   the N clients reporting on its own running operation (a tablet per machine) — everything the product does
   per report: authentication, idempotency record, row locks, quantity rules, held-lot check, audit trail,
   outbox event;
3. **auth only**: ``GET /api/v1/orders/`` with the same tokens: what any authenticated API call costs here
   (token, tenant, roles, app enablement, a small JSON answer), the floor under the report;
4. **paced**: the same reports, but each tablet reports once every ``--every`` seconds (a working pace rather than
   back to back): the latency an operator sees at that load;
5. **replay storm**: every report sent three times at the same moment, as tablets retrying after a lost answer;
   afterwards each operation's good quantity must equal the sum of the reports the server acknowledged, and
   each key must have produced exactly one report.

In phases 1-3 each client sends its next request as soon as the previous one is answered (a closed loop), so
latency includes the wait behind the other clients. Prints requests per second, p50 and p99 latency, the ratio
reports/minimal and the storm's verdict.

    python bench/work_reports.py                        # 32 clients, 10 s per phase, throwaway PostgreSQL
    python bench/work_reports.py --clients 8 --seconds 5
    python bench/work_reports.py --sweep-events         # events left to the worker's sweep
    python bench/work_reports.py --pg-url postgresql+psycopg://user@host/db   # an existing (empty) database

Run it on an otherwise idle machine: the clients, gunicorn and PostgreSQL share its cores.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MINIMAL_TABLE = "bench_minimal_reports"


# --- the minimal endpoint (gunicorn imports it from here) ---------------------------------------------------------


def minimal_app():
    """Flask + psycopg, one INSERT per request, one connection per worker thread."""
    import psycopg
    from flask import Flask, jsonify, request

    url = os.environ["BENCH_PG_DSN"]
    local = threading.local()
    app = Flask("minimal")

    def connection():
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(url)
        return local.connection

    @app.post("/report")
    def report():
        data = request.get_json()
        conn = connection()
        with conn.transaction():  # one INSERT, committed
            row = conn.execute(
                f"INSERT INTO {MINIMAL_TABLE} (operation_id, good, key) VALUES (%s, %s, %s) RETURNING id",  # noqa: S608
                (data["operation_id"], data["good"], request.headers.get("Idempotency-Key")),
            ).fetchone()
        return jsonify(id=row[0], good=data["good"]), 201

    return app


# --- set-up -------------------------------------------------------------------------------------------------------


def psycopg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def prepare_database(url: str, clients: int, apps=("orders",)) -> tuple[list[str], list[int]]:
    """Migrate, create a factory with ``clients`` operators each running an operation; returns (tokens, op ids).

    The factory (code ``BENCH``) has ``apps`` enabled and machines ``CNC-00`` … one per operator."""
    from apps.orders import execution, routings, work_orders
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db, tenant_context
    from platform_core.masterdata import models as md
    from platform_core.rbac import Role
    from tests.factories import Factories

    app = create_app({"DATABASE_URL": url, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        migrations.upgrade(db.engine)
        with db.unit_of_work() as session:
            make = Factories(app, session)
            tenant = make.tenant(code="BENCH", apps=list(apps))
            # One operator per tablet, each with a token of their own, as on a real shop floor.
            operators = [make.member(tenant, Role.OPERATOR, username=f"bench-op-{i:02d}") for i in range(clients)]
            employees = [make.employee(op, f"B{i:03d}", "2580") for i, op in enumerate(operators)]
            with tenant_context(session, tenant.id):
                center = md.WorkCenter(code="CNC", name="数控加工")
                machines = [
                    md.Machine(code=f"CNC-{i:02d}", name=f"数控 {i}", work_center=center) for i in range(clients)
                ]
                unit = md.Unit(code="pcs", name="件")
                product = md.Product(code="FL-100", name="法兰盘", unit=unit)
                session.add_all([center, unit, product, *machines])
                session.flush()
                routing = routings.create_routing(
                    session, product=product, steps=[{"sequence": 10, "name": "车削", "work_center": center}]
                )
                routings.activate_routing(session, routing)
                operation_ids = []
                for i, machine in enumerate(machines):
                    order = work_orders.create_order(session, product=product, quantity=10_000_000, number=f"B-{i:03d}")
                    work_orders.release_order(session, order)
                    first = order.operations[0]
                    execution.start(session, first, machine=machine, employee=employees[i])
                    operation_ids.append(first.id)
                session.flush()  # the release and start events too, while the factory is in context
            tokens = [op.secret for op in operators]
    app.extensions["mes.engine"].dispose()
    import psycopg

    with psycopg.connect(psycopg_dsn(url)) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MINIMAL_TABLE} "
            "(id serial PRIMARY KEY, operation_id int NOT NULL, good int NOT NULL, key text)"
        )
    return tokens, operation_ids


@dataclass
class Server:
    port: int
    process: subprocess.Popen  # the gunicorn master

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]


@contextlib.contextmanager
def gunicorn(app_path: str, env: dict, workers: int, threads: int):
    """gunicorn serving ``app_path`` on a free port until the block ends; yields the :class:`Server`."""
    from tests.services import _wait_for_port, free_port, terminate

    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
        "--keep-alive", "30",
        "--preload",  # the app is built once, before the workers fork: they all answer from the first request
        "--log-level", "warning",
        app_path,
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            if not _wait_for_port(port, timeout=60):
                log.seek(0)
                raise RuntimeError(f"gunicorn did not start:\n{log.read().decode(errors='replace')[-2000:]}")
            yield Server(port, process)
        finally:
            terminate(process)


# --- load ---------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        errors = sum(self.errors.values())
        return (
            f"{self.name:<10} {self.rate:8.1f} req/s   p50 {self.percentile(50):6.1f} ms   "
            f"p99 {self.percentile(99):6.1f} ms   {len(self.latencies)} ok, {errors} errors {self.errors or ''}"
        )


class Client:
    """One keep-alive HTTP connection, as one tablet."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json", **headers}

    def post(self, path: str, body: dict, key: str) -> tuple[int, dict, dict]:
        return self.send("POST", path, body, key)

    def send(self, method: str, path: str, body: dict | None, key: str) -> tuple[int, dict, dict]:
        payload = json.dumps(body) if body is not None else None
        self.connection.request(method, path, payload, {**self.headers, "Idempotency-Key": key})
        response = self.connection.getresponse()
        data = response.read()
        is_json = (response.getheader("Content-Type") or "").startswith("application/json")
        return response.status, (json.loads(data) if is_json and data else {}), dict(response.getheaders())

    def close(self) -> None:
        self.connection.close()


def closed_loop(
    name: str,
    port: int,
    headers_for,
    clients: int,
    seconds: float,
    request_for,
    *,
    every: float | None = None,
    method: str = "POST",
) -> Result:
    """``clients`` threads sending back to back for ``seconds`` (after a warm-up of 3 s, not counted).

    With ``every``, each client sends one request every ``every`` seconds instead (tablets at a working pace; the
    clients start spread over one period), which shows the latency an operator sees at that load.
    """
    warmup = 3.0
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    result = Result(name, seconds)
    lock = threading.Lock()

    def run(index: int) -> None:
        client = Client(port, headers_for(index))
        latencies, errors = [], {}
        due = start + (every * index / clients if every else 0)
        try:
            while (now := time.monotonic()) < stop_at:
                if every:
                    if now < due:
                        time.sleep(due - now)
                        now = time.monotonic()
                    due += every
                path, body = request_for(index)
                status, _data, _headers = client.send(method, path, body, f"bench:{uuid.uuid4().hex}")
                done = time.monotonic()
                if now >= measure_from:
                    if status < 300:
                        latencies.append(done - now)
                    else:
                        errors[status] = errors.get(status, 0) + 1
        finally:
            client.close()
            with lock:
                result.latencies.extend(latencies)
                for status, count in errors.items():
                    result.errors[status] = result.errors.get(status, 0) + count

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def replay_storm(port: int, headers_for, operation_ids: list[int], reports: int, clients: int) -> dict:
    """Send every report three times at the same moment; return what the server acknowledged.

    The reports are shared out among ``clients // 3`` groups of three clients; a group's three clients wait for
    each other before each report, so its three copies are in flight together while the other groups do the same.
    """
    rng = random.Random(20261122)  # noqa: S311 - a reproducible load, not a secret
    plan = [(f"storm:{uuid.uuid4().hex}", rng.choice(operation_ids), rng.randint(1, 9)) for _ in range(reports)]
    acknowledged: dict[str, list[tuple[int, int, int]]] = {}  # key -> [(status, report id, good)]
    lock = threading.Lock()
    groups = max(1, clients // 3)

    def send(share: list, barrier: threading.Barrier, index: int) -> None:
        client = Client(port, headers_for(index))
        try:
            for key, operation_id, good in share:
                barrier.wait()
                path = f"/api/v1/orders/operations/{operation_id}/report"
                status, data, _headers = client.post(path, {"good": good}, key)
                with lock:
                    acknowledged.setdefault(key, []).append((status, data.get("id"), data.get("good")))
        finally:
            client.close()

    threads = []
    for group in range(groups):
        share, barrier = plan[group::groups], threading.Barrier(3)
        threads += [threading.Thread(target=send, args=(share, barrier, 3 * group + copy)) for copy in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"plan": plan, "acknowledged": acknowledged}


def check_storm(url: str, before: dict[int, int], storm: dict) -> tuple[bool, str]:
    """Final quantities equal the acknowledged reports exactly, and one report exists per key."""
    import psycopg

    problems = []
    expected = dict(before)
    for key, operation_id, good in storm["plan"]:
        answers = storm["acknowledged"][key]
        statuses = {status for status, _id, _good in answers}
        ids = {report_id for _status, report_id, _good in answers}
        if statuses != {201} or len(ids) != 1:
            problems.append(f"{key}: answers {answers}")
            continue
        expected[operation_id] = expected.get(operation_id, 0) + good
    with psycopg.connect(psycopg_dsn(url)) as conn:
        actual = dict(conn.execute("SELECT id, good_qty FROM orders_operations").fetchall())
        reports = conn.execute("SELECT count(*) FROM orders_work_reports").fetchone()[0]
    for operation_id, good in expected.items():
        if actual.get(operation_id) != good:
            problems.append(f"operation {operation_id}: {actual.get(operation_id)} good recorded, {good} acknowledged")
    return not problems, (
        f"{len(storm['plan'])} reports × 3 copies; {reports} report rows; "
        + ("every operation's good quantity equals its acknowledged reports: zero double counts" if not problems
           else f"{len(problems)} problems: " + "; ".join(problems[:5]))
    )  # fmt: skip


def good_totals(url: str) -> tuple[dict[int, int], int]:
    import psycopg

    with psycopg.connect(psycopg_dsn(url)) as conn:
        totals = dict(conn.execute("SELECT id, good_qty FROM orders_operations").fetchall())
        count = conn.execute("SELECT count(*) FROM orders_work_reports").fetchone()[0]
    return totals, count


# --- main ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(pg_url: str | None):
    if pg_url:
        yield pg_url
        return
    from tests.services import PostgresCluster

    cluster = PostgresCluster()
    if not cluster.available:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found; pass --pg-url")
    server = cluster.start()
    try:
        import psycopg

        name = f"mes_bench_{secrets.token_hex(3)}"
        with psycopg.connect(psycopg_dsn(server), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (both endpoints)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (both endpoints)")
    parser.add_argument("--storm", type=int, default=300, help="distinct reports in the replay storm")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between a tablet's reports, paced phase")
    parser.add_argument("--pg-url", help="an existing empty PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument(
        "--sweep-events",
        action="store_true",
        help="leave event delivery to the worker's sweep (default: delivered right after commit)",
    )
    args = parser.parse_args()  # fmt: skip

    with database(args.pg_url) as url:
        tokens, operation_ids = prepare_database(url, args.clients)
        env = {
            "MES_DATABASE_URL": url,
            "MES_LOG_LEVEL": "WARNING",
            "MES_EVENTS_DELIVER_INLINE": "false" if args.sweep_events else "true",
            "BENCH_PG_DSN": psycopg_dsn(url),
        }
        print(
            f"{args.clients} clients, {args.seconds:g} s per phase, gunicorn {args.workers} workers × "
            f"{args.threads} threads, PostgreSQL; events {'by the worker' if args.sweep_events else 'after commit'}"
        )
        with gunicorn("bench.work_reports:minimal_app()", env, args.workers, args.threads) as server:
            port = server.port
            minimal = closed_loop(
                "minimal", port, lambda i: {}, args.clients, args.seconds,
                lambda i: ("/report", {"operation_id": operation_ids[i], "good": 1}),
            )  # fmt: skip
        print(minimal.line())

        def headers(i: int) -> dict:
            return {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}

        with gunicorn("platform_core.wsgi:app", env, args.workers, args.threads) as server:
            port = server.port
            reports = closed_loop(
                "reports", port, headers, args.clients, args.seconds,
                lambda i: (f"/api/v1/orders/operations/{operation_ids[i]}/report", {"good": 1}),
            )  # fmt: skip
            print(reports.line())
            print(f"ratio      {reports.rate / max(minimal.rate, 1e-9):8.2f} (reports / minimal)")
            # What any authenticated API call costs here: token, tenant, roles, app enablement, a JSON answer.
            floor = closed_loop(
                "auth only", port, headers, args.clients, args.seconds, lambda i: ("/api/v1/orders/", None),
                method="GET",
            )  # fmt: skip
            print(floor.line())
            paced = closed_loop(
                f"paced {args.every:g}s", port, headers, args.clients, args.seconds,
                lambda i: (f"/api/v1/orders/operations/{operation_ids[i]}/report", {"good": 1}), every=args.every,
            )  # fmt: skip
            print(paced.line() + f"   (each tablet reports every {args.every:g} s)")
            before, _count = good_totals(url)
            storm = replay_storm(port, headers, operation_ids, args.storm, args.clients)
        ok, verdict = check_storm(url, before, storm)
        print(f"storm      {verdict}")
    return 0 if ok and not reports.errors and not paced.errors else 1


if __name__ == "__main__":
    sys.exit(main())
