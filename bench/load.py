"""A shift's load on the product as deployed: gunicorn and a ``mes worker`` on PostgreSQL.

For ``--seconds`` (60 by default), at the same time:

* ``--tablets`` operators (50), each on a tablet at a machine of their own: they sign in with their employee
  number and PIN, then work through their machine's dispatch list: read it, start the first operation, report
  good and scrap pieces until its quantity is made, complete it, take the next; now and then they report the
  machine down (with a reason) and back up. Each write carries an Idempotency-Key and is sent again with the same
  key until it is answered, as the tablet page does. Between two taps an operator thinks ``--think`` seconds.
* one quality inspector per ten tablets, signed in with a PIN too, walking the floor: at every tap an inspection
  of a machine's part against its product's plan (five diameters measured), idempotent like the reports;
* a gateway posting telemetry (4 metrics of every machine, every second) to the HTTP bulk endpoint;
* a planner queuing a scheduling run of every open order every 20 s, solved by the worker.

It prints throughput and latency percentiles per action, the errors, and then reconciles the database with every
acknowledged request: each acknowledged report stored once with its quantities, each completed operation
completed, each acknowledged breakdown one down interval, each acknowledged inspection stored once, every accepted
telemetry point stored, every run solved.

    .venv/bin/python bench/load.py                              # 50 tablets, 60 s, a tap every 5 s each
    .venv/bin/python bench/load.py --think 1                    # the same tablets tapping every second
    .venv/bin/python bench/load.py --tablets 20 --seconds 30
    .venv/bin/python bench/load.py --pg-url postgresql+psycopg://user@host/db   # an existing, empty database

Run it on an otherwise idle machine: the tablets, gunicorn, the worker and PostgreSQL share its cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.work_reports import database, gunicorn, psycopg_dsn  # noqa: E402

PIN = "2580"
QUANTITY = 60  # pieces per work order
ORDERS_PER_MACHINE = 40
METRICS = ("spindle_speed", "spindle_temp", "vibration", "part_count")


# --- set-up -------------------------------------------------------------------------------------------------------


@dataclass
class Factory:
    code: str
    machine_ids: list[int]
    employee_nos: list[str]
    admin_token: str
    planner_token: str
    reason_id: int  # a breakdown
    scrap_reason_id: int  # a defect
    product_ids: list[int]  # the product made on each machine
    inspector_nos: list[str]


def prepare(url: str, tablets: int) -> Factory:
    """A factory with a machine, a work center, a product and its orders per tablet, and one operator each."""
    from apps.orders import routings, work_orders
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
            tenant = make.tenant(code="LOAD", apps=["orders", "equipment", "scheduling", "quality"])
            admin, planner = make.member(tenant), make.member(tenant, Role.PLANNER)
            operators = [make.member(tenant, Role.OPERATOR, username=f"load-op-{i:02d}") for i in range(tablets)]
            employee_nos = [f"L{i:03d}" for i in range(tablets)]
            inspectors = [
                make.member(tenant, Role.QUALITY_INSPECTOR, username=f"load-qc-{i:02d}")
                for i in range(inspectors_for(tablets))
            ]
            inspector_nos = [f"Q{i:03d}" for i in range(len(inspectors))]
            for person, number in zip(operators + inspectors, employee_nos + inspector_nos, strict=True):
                make.employee(person, number, PIN)
            with tenant_context(session, tenant.id):
                unit = md.Unit(code="pcs", name="件")
                reason = md.ReasonCode(kind=md.ReasonKind.DOWNTIME, code="JAM", name="卡料", name_en="Jam")
                defect = md.ReasonCode(kind=md.ReasonKind.SCRAP, code="BURR", name="毛刺", name_en="Burr")
                session.add_all([unit, reason, defect])
                machines, products = [], []
                for i in range(tablets):
                    center = md.WorkCenter(code=f"WC-{i:02d}", name=f"工位 {i}")
                    machine = md.Machine(code=f"M-{i:02d}", name=f"机床 {i}", work_center=center)
                    product = md.Product(code=f"P-{i:02d}", name=f"零件 {i}", unit=unit)
                    session.add_all([center, machine, product])
                    session.flush()
                    routing = routings.create_routing(
                        session, product=product, steps=[{"sequence": 10, "name": "加工", "work_center": center}]
                    )
                    routings.activate_routing(session, routing)
                    for n in range(ORDERS_PER_MACHINE):
                        order = work_orders.create_order(
                            session, product=product, quantity=QUANTITY, number=f"L{i:02d}-{n:03d}"
                        )
                        work_orders.release_order(session, order)
                    machines.append(machine)
                    products.append(product)
                session.flush()
                factory = Factory(
                    "LOAD",
                    [m.id for m in machines],
                    employee_nos,
                    admin.secret,
                    planner.secret,
                    reason.id,
                    defect.id,
                    [p.id for p in products],
                    inspector_nos,
                )
    app.extensions["mes.engine"].dispose()
    return factory


# --- HTTP ---------------------------------------------------------------------------------------------------------


class Browser:
    """One keep-alive connection with the cookies and CSRF token of a signed-in tablet (or a bearer token)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, body=None, headers=None, form: dict | None = None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method != "GET":
            headers["X-CSRFToken"] = self.csrf
        payload = None
        if form is not None:
            payload, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        elif body is not None:
            payload, headers["Content-Type"] = json.dumps(body), "application/json"
        self.connection.request(method, path, payload, headers)
        response = self.connection.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        is_json = (response.getheader("Content-Type") or "").startswith("application/json")
        return response.status, (json.loads(data) if is_json and data else data.decode(errors="replace"))

    def sign_in_with_pin(self, factory: str, employee_no: str, home: str = "/orders/terminal") -> None:
        _status, page = self.request("GET", "/login?mode=pin")
        token = re.search(r'name="pin-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = {"mode": "pin", "pin-csrf_token": token, "pin-factory": factory, "pin-employee_no": employee_no}
        status, _page = self.request("POST", "/login?mode=pin", form={**form, "pin-pin": PIN})
        assert status == 302, f"PIN sign-in of {employee_no}: {status}"
        _status, page = self.request("GET", home)
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


# --- the load -----------------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the server acknowledged, and how long each action took."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    reports: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> (operation, good, scrap)
    completed: set[int] = field(default_factory=set)
    downs: int = 0
    inspections: set[str] = field(default_factory=set)  # keys of acknowledged inspections
    points: int = 0
    runs: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, seconds: float, status: int) -> None:
        with self.lock:
            if status < 400:
                self.latencies[action].append(seconds)
            else:
                self.errors[action][status] += 1


def _send(browser: Browser, ledger: Ledger, action: str, method: str, path: str, body=None):
    """A request, again with the same Idempotency-Key until it is answered (network trouble, 5xx)."""
    key = f"load:{uuid.uuid4().hex}"
    for _attempt in range(50):
        started = time.monotonic()
        try:
            status, data = browser.request(method, path, body, {"Idempotency-Key": key} if method == "POST" else {})
        except (OSError, http.client.HTTPException):
            browser.reconnect()
            time.sleep(0.2)
            continue
        ledger.record(action, time.monotonic() - started, status)
        if status < 500:
            return status, data, key
        time.sleep(0.2)
    raise RuntimeError(f"{action} {path}: no answer after 50 attempts")


def tablet(port: int, factory: Factory, index: int, ledger: Ledger, stop_at: float, think: float) -> None:
    rng = random.Random(index)  # noqa: S311 - a reproducible shift, not a secret
    browser = Browser(port)
    started = time.monotonic()
    browser.sign_in_with_pin(factory.code, factory.employee_nos[index])
    ledger.record("pin sign-in", time.monotonic() - started, 200)
    machine_id = factory.machine_ids[index]
    taps = 0
    while time.monotonic() < stop_at:
        time.sleep(think * rng.uniform(0.5, 1.5))
        taps += 1
        if taps % 10 == 0:  # a jam: down with its reason, then back up
            status, _data, _key = _send(
                browser, ledger, "machine down", "POST", f"/api/v1/equipment/machines/{machine_id}/down",
                {"reason_id": factory.reason_id},
            )  # fmt: skip
            if status == 201:
                with ledger.lock:
                    ledger.downs += 1
            time.sleep(think)
            _send(browser, ledger, "machine up", "POST", f"/api/v1/equipment/machines/{machine_id}/up", {})
            continue
        _status, items, _key = _send(
            browser, ledger, "dispatch list", "GET", f"/api/v1/orders/dispatch?machine_id={machine_id}"
        )
        if not items:
            break  # the machine's orders are all made
        operation = items[0]["operation"]
        path = f"/api/v1/orders/operations/{operation['id']}"
        if operation["status"] == "pending":
            _send(browser, ledger, "start", "POST", f"{path}/start", {"machine_id": machine_id})
            continue
        left = operation["quantity"] - operation["good_qty"] - operation["scrap_qty"]
        if left <= 0:
            status, _data, _key = _send(browser, ledger, "complete", "POST", f"{path}/complete", {})
            if status == 200:
                with ledger.lock:
                    ledger.completed.add(operation["id"])
            continue
        good = min(left, rng.randint(5, 15))
        scrap = 1 if good < left and rng.random() < 0.2 else 0
        body = {"good": good, "scrap": scrap, **({"scrap_reason_id": factory.scrap_reason_id} if scrap else {})}
        status, _data, key = _send(browser, ledger, "report", "POST", f"{path}/report", body)
        if status == 201:
            with ledger.lock:
                ledger.reports[key] = (operation["id"], good, scrap)


def inspectors_for(tablets: int) -> int:
    return max(1, tablets // 10)


def inspector(
    port: int, factory: Factory, index: int, plans: list[tuple[int, int]], ledger: Ledger, stop_at: float, think: float
) -> None:
    """An inspector measuring parts at the machines, against each product's plan (plan id, characteristic id)."""
    rng = random.Random(1000 + index)  # noqa: S311 - a reproducible shift, not a secret
    browser = Browser(port)
    browser.sign_in_with_pin(factory.code, factory.inspector_nos[index], home="/quality/")
    while time.monotonic() < stop_at:
        time.sleep(think * rng.uniform(0.5, 1.5))
        at = rng.randrange(len(factory.machine_ids))
        plan_id, characteristic_id = plans[at]
        body = {
            "plan_id": plan_id,
            "machine_id": factory.machine_ids[at],
            "results": [{"characteristic_id": characteristic_id, "values": [rng.gauss(10.0, 0.01) for _ in range(5)]}],
        }
        status, _data, key = _send(browser, ledger, "inspection", "POST", "/api/v1/quality/inspections", body)
        if status == 201:
            with ledger.lock:
                ledger.inspections.add(key)


def gateway(port: int, factory: Factory, token: str, ledger: Ledger, stop_at: float) -> None:
    browser = Browser(port, token)
    second = 0
    while time.monotonic() < stop_at:
        began = time.monotonic()
        ts = dt.datetime.now(dt.UTC).isoformat()
        batch = [
            {"machine": f"M-{i:02d}", "metric": metric, "ts": ts, "value": float(second + i)}
            for i in range(len(factory.machine_ids))
            for metric in METRICS
        ]
        status, data, _key = _send(browser, ledger, "telemetry batch", "POST", "/api/v1/equipment/telemetry", batch)
        if status == 200:
            with ledger.lock:
                ledger.points += data["accepted"]
        second += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))


def planner(port: int, factory: Factory, ledger: Ledger, stop_at: float) -> None:
    browser = Browser(port, factory.planner_token)
    while time.monotonic() < stop_at - 20:
        status, data, _key = _send(
            browser, ledger, "queue a run", "POST", "/api/v1/scheduling/runs", {"time_limit_s": 5, "preset": "on_time"}
        )
        if status == 201:
            with ledger.lock:
                ledger.runs.append(data["id"])
        time.sleep(20)


def set_up_telemetry(port: int, factory: Factory) -> str:
    admin = Browser(port, factory.admin_token)
    for metric in METRICS:
        kind = "counter" if metric == "part_count" else "gauge"
        status, _data = admin.request(
            "POST", "/api/v1/equipment/metrics", {"code": metric, "name": metric, "kind": kind}
        )
        assert status == 201, status
    status, data = admin.request("POST", "/api/v1/equipment/gateways", {"name": "load-gateway"})
    assert status == 201, status
    return data["token"]


def set_up_inspection_plans(port: int, factory: Factory) -> list[tuple[int, int]]:
    """An active plan per product: the diameter, 10 ± 0.05 mm, on an X̄-R chart; (plan id, characteristic id)."""
    admin = Browser(port, factory.admin_token)
    plans = []
    for index, product_id in enumerate(factory.product_ids):
        diameter = {"code": "DIA", "name": "外径", "kind": "variable", "nominal": 10.0, "lsl": 9.95, "usl": 10.05}
        body = {
            "code": f"IP-{index:02d}",
            "name": f"检验 {index}",
            "product_id": product_id,
            "characteristics": [diameter],
        }
        status, plan = admin.request("POST", "/api/v1/quality/plans", body)
        assert status == 201, (status, plan)
        status, _data = admin.request("POST", f"/api/v1/quality/plans/{plan['id']}/activate", {})
        assert status == 200, status
        plans.append((plan["id"], plan["characteristics"][0]["id"]))
    return plans


# --- reconciliation -----------------------------------------------------------------------------------------------


def reconcile(url: str, factory: Factory, ledger: Ledger, deadline_s: float = 120) -> list[str]:
    import psycopg

    problems = []
    with psycopg.connect(psycopg_dsn(url)) as conn:
        rows = conn.execute("SELECT id, good_qty, scrap_qty, status FROM orders_operations").fetchall()
        operations = {op_id: (good, scrap, status) for op_id, good, scrap, status in rows}
        reports = conn.execute("SELECT count(*) FROM orders_work_reports").fetchone()[0]
        downs = conn.execute("SELECT count(*) FROM equipment_state_intervals WHERE state = 'down'").fetchone()[0]
        inspections = conn.execute("SELECT count(*) FROM quality_inspections").fetchone()[0]
        points = conn.execute("SELECT count(*) FROM equipment_telemetry").fetchone()[0]
        deadline = time.monotonic() + deadline_s
        while True:  # the worker solves the last queued run after the load
            pending = conn.execute(
                "SELECT count(*) FROM scheduling_runs WHERE status IN ('queued', 'solving')"
            ).fetchone()[0]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(1)
        solved = conn.execute(
            "SELECT count(*) FROM scheduling_runs WHERE status IN ('draft', 'infeasible', 'published')"
        ).fetchone()[0]
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for operation_id, good, scrap in ledger.reports.values():
        expected[operation_id][0] += good
        expected[operation_id][1] += scrap
    if reports != len(ledger.reports):
        problems.append(f"{reports} report rows for {len(ledger.reports)} acknowledged reports")
    for operation_id, (good, scrap) in expected.items():
        if operations[operation_id][:2] != (good, scrap):
            problems.append(f"operation {operation_id}: {operations[operation_id][:2]} stored, {good, scrap} acked")
    not_completed = [op for op in ledger.completed if operations[op][2] != "completed"]
    if not_completed:
        problems.append(f"{len(not_completed)} acknowledged completions not stored")
    if downs != ledger.downs:
        problems.append(f"{downs} down intervals for {ledger.downs} acknowledged breakdowns")
    if inspections != len(ledger.inspections):
        problems.append(f"{inspections} inspections stored for {len(ledger.inspections)} acknowledged")
    if points != ledger.points:
        problems.append(f"{points} telemetry points stored, {ledger.points} accepted")
    if solved != len(ledger.runs):
        problems.append(f"{solved} runs solved of {len(ledger.runs)} queued")
    return problems


def report_lines(ledger: Ledger, seconds: float) -> list[str]:
    lines = [f"{'action':<16} {'count':>6} {'per s':>7} {'p50':>8} {'p95':>8} {'p99':>8}   errors"]
    for action, values in sorted(ledger.latencies.items()):
        ordered = sorted(values)

        def pct(p: float, ordered=ordered) -> float:
            return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

        errors = dict(ledger.errors.get(action, {}))
        lines.append(
            f"{action:<16} {len(values):>6} {len(values) / seconds:>7.1f} {pct(50):>6.1f}ms {pct(95):>6.1f}ms "
            f"{pct(99):>6.1f}ms   {errors or ''}"
        )
    for action, errors in ledger.errors.items():
        if action not in ledger.latencies:
            lines.append(f"{action:<16} {0:>6}   errors {dict(errors)}")
    return lines


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=5.0, help="seconds an operator takes between two taps")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--pg-url", help="an existing empty PostgreSQL database (default: a throwaway cluster)")
    args = parser.parse_args()

    with database(args.pg_url) as url:
        factory = prepare(url, args.tablets)
        env = {"MES_DATABASE_URL": url, "MES_LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "mes"), "worker"],
            cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with gunicorn("platform_core.wsgi:app", env, args.workers, args.threads) as server:
                gateway_token = set_up_telemetry(server.port, factory)
                plans = set_up_inspection_plans(server.port, factory)
                ledger = Ledger()
                stop_at = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(target=tablet, args=(server.port, factory, i, ledger, stop_at, args.think))
                    for i in range(args.tablets)
                ]
                threads += [
                    threading.Thread(
                        target=inspector, args=(server.port, factory, i, plans, ledger, stop_at, args.think)
                    )
                    for i in range(inspectors_for(args.tablets))
                ]
                threads.append(
                    threading.Thread(target=gateway, args=(server.port, factory, gateway_token, ledger, stop_at))
                )
                threads.append(threading.Thread(target=planner, args=(server.port, factory, ledger, stop_at)))
                began = time.monotonic()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.monotonic() - began
            print(
                f"{args.tablets} tablets and {inspectors_for(args.tablets)} inspectors (think {args.think:g} s), "
                f"a gateway and a planner for {elapsed:.0f} s; "
                f"gunicorn {args.workers} × {args.threads} threads, one worker, PostgreSQL; {os.cpu_count()} cores"
            )
            print("\n".join(report_lines(ledger, elapsed)))
            problems = reconcile(url, factory, ledger)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    total = sum(len(v) for v in ledger.latencies.values())
    errors = sum(sum(e.values()) for e in ledger.errors.values())
    print(f"requests   {total} answered, {errors} refused or failed")
    print(
        f"reconciled {len(ledger.reports)} reports, {len(ledger.completed)} completions, {ledger.downs} breakdowns, "
        f"{len(ledger.inspections)} inspections, "
        f"{ledger.points} telemetry points, {len(ledger.runs)} runs: "
        + ("nothing lost, nothing doubled" if not problems else "; ".join(problems[:8]))
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
