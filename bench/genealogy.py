"""Lot-genealogy benchmark: backward and forward traces on a 10-level, 10,000-lot genealogy on PostgreSQL.

Builds, in a migrated database, a factory whose lots form ten levels of 1,000 lots each: level 0 is bar stock,
every lot of a higher level was made from one to three lots of the level below (neighbours in a window of five,
so bar stock spreads over a few dozen lots per level, as mixed material does), with a production record (order,
operation, machine, operator, time) per made lot and an inspection for one lot in five. A second factory holds
another 10,000-lot genealogy, so the tenant filter has rows to leave out. Then it times, through the product's
own code (``apps.quality.genealogy``, one recursive-CTE statement per trace):

* **backward** from random finished lots (level 9) to everything they were made from;
* **forward** from random bar-stock lots (level 0) to every lot and order they reached;

reporting the statement alone (execute and fetch every row) and the whole trace (rows assembled into the lots the
pages show), median, 95th percentile and worst over the runs, with the number of lots reached.

    python bench/genealogy.py                                  # throwaway PostgreSQL cluster, 30 traces each way
    python bench/genealogy.py --runs 100 --explain             # and print the plan of one backward trace
    python bench/genealogy.py --window 60                      # heavily mixed material: traces reach thousands
    python bench/genealogy.py --pg-url postgresql+psycopg://user@host/db   # an existing, empty database

The target is a trace under 200 ms. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LEVELS = 10
PER_LEVEL = 1000
WINDOW = 2  # by default a lot draws its inputs from the five neighbours (index ± 2) of the level below
TARGET_MS = 200.0


def _database(pg_url: str | None):
    """A fresh database URL (and the cluster to stop afterwards, if one was started)."""
    import sqlalchemy as sa

    cluster = None
    if pg_url is None:
        from tests.services import PostgresCluster

        cluster = PostgresCluster()
        if not cluster.available:
            raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found; pass --pg-url")
        pg_url = cluster.start()
        name = f"bench_genealogy_{secrets.token_hex(3)}"
        engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        pg_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    return pg_url, cluster


def _factory(session, code: str):
    """A factory with one product, machine, operator and inspection plan."""
    from apps.quality.models import Characteristic, CharacteristicKind, InspectionPlan, PlanStatus
    from platform_core.db import tenant_context
    from platform_core.identity.models import Employee
    from platform_core.masterdata import models as md
    from platform_core.tenants import services as tenants

    tenant = tenants.create_tenant(
        session,
        code=code,
        name=f"工厂 {code}",
        timezone="Asia/Shanghai",
        default_locale="zh_CN",
        apps=["orders", "quality"],
        admin={"username": f"admin-{code.lower()}", "password": secrets.token_urlsafe(16)},
    )
    with tenant_context(session, tenant.id):
        center = md.WorkCenter(code="CNC", name="数控")
        machine = md.Machine(code="CNC-01", name="数控 1", work_center=center)
        unit = md.Unit(code="pcs", name="件")
        product = md.Product(code="FL-080", name="法兰盘", unit=unit)
        employee = Employee(employee_no="1001", name="张伟")
        plan = InspectionPlan(code="QP", name="检验", product=product, status=PlanStatus.ACTIVE)
        plan.characteristics.append(
            Characteristic(code="OD", name="外径", kind=CharacteristicKind.VARIABLE, lsl=79.95, usl=80.05)
        )
        session.add_all([center, machine, unit, product, employee, plan])
        session.flush()
        return tenant.id, {"product": product.id, "machine": machine.id, "employee": employee.id, "plan": plan.id}


def _fill(connection, tenant_id: int, ids: dict, rng: random.Random, window: int) -> None:
    """10 levels × 1,000 lots, their links, production records, orders and inspections, in bulk."""
    import sqlalchemy as sa

    from apps.quality.models import Inspection, Lot, LotLink, ProductionOrder, ProductionRecord

    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    lots = [
        {"tenant_id": tenant_id, "code": f"L{level}-{index:04d}", "product_id": ids["product"], "quantity": 100,
         "first_seen_at": start + dt.timedelta(hours=level)}
        for level in range(LEVELS) for index in range(PER_LEVEL)
    ]  # fmt: skip
    connection.execute(sa.insert(Lot.__table__), lots)
    lot_id = dict(connection.execute(sa.select(Lot.code, Lot.id).where(Lot.tenant_id == tenant_id)).all())
    orders = [
        {"tenant_id": tenant_id, "order_id": tenant_id * 1000 + level, "number": f"WO-{level}",
         "product_code": "FL-080", "product_id": ids["product"], "quantity": PER_LEVEL * 100, "released_at": start}
        for level in range(1, LEVELS)
    ]  # fmt: skip
    connection.execute(sa.insert(ProductionOrder.__table__), orders)
    links, records, inspections = [], [], []
    for level in range(1, LEVELS):
        for index in range(PER_LEVEL):
            child = lot_id[f"L{level}-{index:04d}"]
            offsets = rng.sample(range(-window, window + 1), rng.randint(1, 3))
            for offset in offsets:
                parent = lot_id[f"L{level - 1}-{(index + offset) % PER_LEVEL:04d}"]
                links.append({"tenant_id": tenant_id, "parent_id": parent, "child_id": child, "linked_at": start})
            records.append(
                {"tenant_id": tenant_id, "event_id": secrets.token_hex(18), "order_id": tenant_id * 1000 + level,
                 "operation_id": level, "operation_sequence": level * 10, "product_id": ids["product"],
                 "machine_id": ids["machine"], "employee_id": ids["employee"], "output_lot_id": child, "consumed": [],
                 "good": 100, "scrap": 0, "rework": 0, "reported_at": start + dt.timedelta(hours=level, minutes=index)}
            )  # fmt: skip
    for number, code in enumerate(rng.sample(sorted(lot_id), len(lot_id) // 5)):
        inspections.append(
            {"tenant_id": tenant_id, "number": f"QI-{number:06d}", "plan_id": ids["plan"],
             "status": "failed" if number % 20 == 0 else "passed", "product_id": ids["product"],
             "lot_id": lot_id[code], "inspector_name": "周敏", "inspected_at": start}
        )  # fmt: skip
    connection.execute(sa.insert(LotLink.__table__), links)
    connection.execute(sa.insert(ProductionRecord.__table__), records)
    connection.execute(sa.insert(Inspection.__table__), inspections)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.1f} {p95:7.1f} {ordered[-1]:7.1f}"


def _time(app, tenant_id: int, direction, codes: list[str]) -> tuple[list[float], list[float], list[int]]:
    import sqlalchemy as sa

    from apps.quality import genealogy
    from apps.quality.models import Lot
    from platform_core.db import db

    statement_ms, trace_ms, reached = [], [], []
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        lots = {lot.code: lot for lot in session.scalars(sa.select(Lot).where(Lot.code.in_(codes)))}
        for code in codes:
            began = time.perf_counter()
            session.execute(genealogy.trace_statement(lots[code].id, direction)).all()
            statement_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            nodes = genealogy.trace(session, lots[code], direction)
            trace_ms.append((time.perf_counter() - began) * 1000)
            reached.append(len(nodes))
    return statement_ms, trace_ms, reached


def _explain(app, tenant_id: int, code: str) -> None:
    """EXPLAIN ANALYZE the statement exactly as the ORM sends it (with the tenant criteria it adds)."""
    import sqlalchemy as sa

    from apps.quality import genealogy
    from apps.quality.models import Lot
    from platform_core.db import db

    with app.app_context(), db.unit_of_work(tenant_id) as session:
        lot = session.scalar(sa.select(Lot).where(Lot.code == code))
        connection = session.connection()
        sent = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            sent.append((statement, parameters))

        sa.event.listen(connection, "before_cursor_execute", capture)
        try:
            session.execute(genealogy.trace_statement(lot.id, genealogy.Direction.BACKWARD)).all()
        finally:
            sa.event.remove(connection, "before_cursor_execute", capture)
        statement, parameters = sent[-1]
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
        print("\n".join(r[0] for r in rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="traces timed in each direction")
    parser.add_argument("--pg-url", help="an existing empty PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--explain", action="store_true", help="print the plan of one backward trace")
    parser.add_argument("--seed", type=int, default=2405)
    parser.add_argument(
        "--window",
        type=int,
        default=WINDOW,
        help="inputs come from index ± window of the level below (wider: more mixing)",
    )
    args = parser.parse_args()

    import sqlalchemy as sa

    from apps.quality.genealogy import Direction
    from platform_core import migrations
    from platform_core.app import create_app
    from platform_core.db import db

    url, cluster = _database(args.pg_url)
    try:
        app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
        with app.app_context():
            migrations.upgrade(db.engine)
        rng = random.Random(args.seed)  # noqa: S311 - a repeatable genealogy, not a secret
        began = time.perf_counter()
        factories = []
        for code in ("BENCH", "NOISE"):
            with app.app_context(), db.unit_of_work() as session:
                tenant_id, ids = _factory(session, code)
            with app.app_context(), db.engine.begin() as connection:
                _fill(connection, tenant_id, ids, rng, args.window)
            factories.append(tenant_id)
        with app.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
            links = connection.scalar(sa.text("SELECT count(*) FROM quality_lot_links"))
            version = connection.scalar(sa.text("SHOW server_version"))
        size = f"2 factories × {LEVELS * PER_LEVEL:,} lots, {links:,} links in all"
        print(f"window ±{args.window}; PostgreSQL {version}; {size}; built in {time.perf_counter() - began:.1f} s")
        tenant_id = factories[0]
        finished = [f"L{LEVELS - 1}-{rng.randrange(PER_LEVEL):04d}" for _ in range(args.runs)]
        bars = [f"L0-{rng.randrange(PER_LEVEL):04d}" for _ in range(args.runs)]
        _time(app, tenant_id, Direction.BACKWARD, finished[:3])  # warm the caches and the connection pool
        print(f"\n{'trace':10} {'lots reached':>14} | {'statement ms':^23} | {'whole trace ms':^23}")
        print(f"{'':10} {'median (max)':>14} | {'p50':>7} {'p95':>7} {'max':>7} | {'p50':>7} {'p95':>7} {'max':>7}")
        worst = 0.0
        for label, direction, codes in (
            ("backward", Direction.BACKWARD, finished),
            ("forward", Direction.FORWARD, bars),
        ):
            statement_ms, trace_ms, reached = _time(app, tenant_id, direction, codes)
            worst = max(worst, max(trace_ms))
            reach = f"{statistics.median(reached):.0f} ({max(reached)})"
            print(f"{label:10} {reach:>14} | {_ms(statement_ms)} | {_ms(trace_ms)}")
        verdict = "within" if worst < TARGET_MS else "ABOVE"
        print(f"\nworst whole trace {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
        if args.explain:
            print()
            _explain(app, tenant_id, finished[0])
        app.extensions["mes.engine"].dispose()
        return 0 if worst < TARGET_MS else 1
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
