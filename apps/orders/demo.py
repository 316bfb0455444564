"""The demo factory's orders: routings for its products and about twenty work orders in every status.

Everything goes through the services with explicit times, so the demo has a history: orders completed over the
last two weeks (on time and late, with scrap) for the KPIs, operations running and paused right now for the
live board, a report waiting for the supervisor's approval and a lot quality holds. CNC-05 is left free.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.orders import execution, lots, routings, work_orders
from apps.orders.models import Operation, WorkOrder
from apps.orders.settings import update_settings
from platform_core.db import utcnow
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product, ReasonCode, ReasonKind, WorkCenter
from platform_core.tenants.models import Tenant

# product -> operations: (sequence, name, work center, machines, set-up minutes, seconds per piece, partial transfer)
ROUTINGS = {
    "HD-FL-080": [
        (10, "粗车", "CNC", ["CNC-01", "CNC-02", "CNC-03"], 20, 95, True),
        (20, "钻孔", "CNC", ["CNC-04", "CNC-05"], 15, 120, True),
        (30, "磨平面", "GRD", ["GR-02"], 10, 60, False),
    ],
    "HD-FL-100": [
        (10, "粗车", "CNC", ["CNC-01", "CNC-02", "CNC-03"], 20, 110, True),
        (20, "钻孔攻丝", "CNC", ["CNC-04", "CNC-05"], 15, 150, True),
        (30, "磨平面", "GRD", ["GR-02"], 10, 70, False),
    ],
    "HD-FL-150": [
        (10, "粗车", "CNC", ["CNC-01", "CNC-02", "CNC-03"], 30, 160, True),
        (20, "精车", "CNC", ["CNC-07"], 30, 140, True),
        (30, "外圆磨", "GRD", ["GR-01"], 15, 90, False),
    ],
    "HD-SH-020": [
        (10, "车削", "CNC", ["CNC-01", "CNC-02", "CNC-03"], 15, 80, True),
        (20, "无心磨", "GRD", ["GR-03"], 10, 30, False),
    ],
    "HD-SH-032": [
        (10, "车削", "CNC", ["CNC-01", "CNC-02", "CNC-03"], 15, 90, True),
        (20, "外圆磨", "GRD", ["GR-01", "GR-03"], 10, 45, False),
    ],
    "HD-SH-045": [
        (10, "车削", "CNC", ["CNC-03", "CNC-07"], 20, 120, True),
        (20, "外圆磨", "GRD", ["GR-01"], 10, 60, False),
    ],
    "HD-BK-200": [
        (10, "铣削", "CNC", ["CNC-04", "CNC-05", "CNC-06"], 25, 180, True),
        (20, "装配", "ASM", ["AS-01"], 10, 300, False),
    ],
    "HD-BK-210": [
        (10, "铣削", "CNC", ["CNC-04", "CNC-05", "CNC-06"], 25, 200, True),
        (20, "压装", "ASM", ["AS-02"], 5, 45, False),
    ],
}  # fmt: skip


@dataclass
class _Demo:
    session: Session
    now: dt.datetime
    machines: dict[str, Machine]
    products: dict[str, Product]
    reasons: dict[tuple[ReasonKind, str], ReasonCode]
    zhang: Employee
    liu: Employee
    serial: int = 0

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> dt.datetime:
        return self.now - dt.timedelta(days=days, hours=hours, minutes=minutes)

    def order(self, product: str, quantity: int, due_in_days: int | None, priority: int = 5, **fields) -> WorkOrder:
        self.serial += 1
        due = (self.now + dt.timedelta(days=due_in_days)).date() if due_in_days is not None else None
        return work_orders.create_order(
            self.session,
            product=self.products[product],
            quantity=quantity,
            number=f"MO{self.now:%y%m}-{self.serial:03d}",
            due_date=due,
            priority=priority,
            **fields,
        )

    def released(self, *args, at: dt.datetime, **kwargs) -> WorkOrder:
        order = self.order(*args, **kwargs)
        return work_orders.release_order(self.session, order, now=at)

    def start(self, op: Operation, machine: str, who: Employee, at: dt.datetime) -> None:
        execution.start(self.session, op, machine=self.machines[machine], employee=who, now=at)

    def report(self, op: Operation, who: Employee, at: dt.datetime, good: int, scrap: int = 0, **kwargs) -> None:
        defect = self.reasons[(ReasonKind.SCRAP, kwargs.pop("defect", "BURR"))] if scrap else None
        data = execution.ReportInput(good=good, scrap=scrap, scrap_reason=defect, **kwargs)
        execution.report(self.session, op, data, employee=who, now=at)

    def run(
        self,
        op: Operation,
        machine: str,
        who: Employee,
        start: dt.datetime,
        hours: float,
        good: int,
        scrap: int = 0,
        lot: str | None = None,
    ) -> dt.datetime:
        """Start, report and complete an operation; returns when it ended."""
        end = start + dt.timedelta(hours=hours)
        self.start(op, machine, who, start)
        self.report(op, who, end, good, scrap, output_lot=lot)
        execution.complete(self.session, op, employee=who, now=end)
        return end  # fmt: skip


def _routings(session: Session, products: dict, centers: dict, machines: dict) -> None:
    for code, steps in ROUTINGS.items():
        rows = [
            {
                "sequence": sequence,
                "name": name,
                "work_center": centers[center],
                "setup_minutes": setup,
                "seconds_per_unit": seconds,
                "allow_partial": partial,
                "machines": [{"machine": machines[m]} for m in machine_codes],
            }
            for sequence, name, center, machine_codes, setup, seconds, partial in steps
        ]
        routing = routings.create_routing(session, product=products[code], steps=rows)
        routings.activate_routing(session, routing)
    # HD-FL-100 changed once: version 2 adds the deburring the customer asked for; version 1 stays archived.
    newer = routings.new_version(session, routings.active_routing(session, products["HD-FL-100"]))
    steps = [
        {
            "sequence": s.sequence, "name": s.name, "work_center": s.work_center, "setup_minutes": s.setup_minutes,
            "seconds_per_unit": s.seconds_per_unit, "allow_partial": s.allow_partial,
            "machines": [{"machine": m.machine} for m in s.machines],
        }
        for s in newer.steps
    ]  # fmt: skip
    steps.append({"sequence": 40, "name": "去毛刺", "work_center": centers["ASM"], "seconds_per_unit": 20,
                  "machines": [{"machine": machines["AS-01"]}]})  # fmt: skip
    routings.update_routing(session, newer, steps=steps, notes="客户要求增加去毛刺工序")
    routings.activate_routing(session, newer)


def seed_orders(session: Session, tenant: Tenant, now: dt.datetime | None = None) -> None:
    """Fill the demo factory's orders (the session is scoped to ``tenant``; master data is already there)."""
    now = now or utcnow()
    machines = {m.code: m for m in session.scalars(sa.select(Machine))}
    products = {p.code: p for p in session.scalars(sa.select(Product))}
    centers = {c.code: c for c in session.scalars(sa.select(WorkCenter))}
    reasons = {(r.kind, r.code): r for r in session.scalars(sa.select(ReasonCode))}
    employees = {e.employee_no: e for e in session.scalars(sa.select(Employee))}
    update_settings(session, over_tolerance_pct=5)
    _routings(session, products, centers, machines)
    demo = _Demo(session, now, machines, products, reasons, zhang=employees["1001"], liu=employees["1002"])
    zhang, liu = demo.zhang, demo.liu
    huang, zheng = employees["1007"], employees["1009"]  # grinding; machining centres

    # --- history: closed and completed orders of the last two weeks (for the KPIs) ---
    for days, product, quantity, due_offset, scrap, close in (
        (13, "HD-SH-020", 200, -9, 4, True),
        (11, "HD-FL-080", 120, -6, 2, True),
        (8, "HD-BK-200", 40, -8, 1, False),  # completed more than a day late
        (6, "HD-SH-032", 150, -2, 6, False),
        (4, "HD-FL-150", 60, 1, 3, False),
    ):
        order = demo.released(product, quantity, due_offset, at=demo.ago(days=days))
        when, delivered = demo.ago(days=days - 0.2), quantity
        for index, op in enumerate(order.operations):
            machine = op.machines[index % len(op.machines)].machine.code
            waste = scrap if index == 0 else 0
            when = demo.run(op, machine, zhang if index % 2 == 0 else liu, when, 6, delivered - waste, waste,
                            lot=f"L{now:%y%m}-{demo.serial:02d}{index}")  # fmt: skip
            delivered -= waste
            when += dt.timedelta(hours=14)  # the next operation starts on the next shift
        if close:
            work_orders.close_order(session, order, now=when)

    # --- running now ---
    # 张师傅 on CNC-01: flange, first operation running for 40 minutes after a short break
    order = demo.released("HD-FL-080", 300, 3, priority=3, customer="上海阀门厂", sales_order="SO-26-1188",
                          at=demo.ago(days=1))  # fmt: skip
    op10 = order.operations[0]
    demo.start(op10, "CNC-01", zhang, demo.ago(hours=3))
    demo.report(op10, zhang, demo.ago(hours=2), 80, 2, output_lot=f"L{now:%y%m}-21")
    execution.pause(session, op10, reason=reasons[(ReasonKind.PAUSE, "BREAK")], employee=zhang, now=demo.ago(hours=1))
    execution.resume(session, op10, employee=zhang, now=demo.ago(minutes=40))
    # 小刘 runs two machines: CNC-02 (paused for the shift meeting) and CNC-04 (drilling the flange's first pieces)
    shaft = demo.released("HD-SH-020", 500, 5, at=demo.ago(days=2))
    demo.start(shaft.operations[0], "CNC-02", liu, demo.ago(hours=5))
    demo.report(shaft.operations[0], liu, demo.ago(hours=1), 180, output_lot=f"L{now:%y%m}-22")
    execution.pause(session, shaft.operations[0], reason=reasons[(ReasonKind.PAUSE, "MEET")], employee=liu,
                    now=demo.ago(minutes=15))  # fmt: skip
    demo.start(order.operations[1], "CNC-04", liu, demo.ago(hours=1, minutes=30))
    demo.report(order.operations[1], liu, demo.ago(minutes=20), 30, consumed_lots=[f"L{now:%y%m}-21"])
    # A bracket whose milling is done and 8 % over: waits for 陈班长's approval (the tolerance is 5 %)
    bracket = demo.released("HD-BK-210", 100, 2, priority=2, customer="宁波电机", at=demo.ago(days=3))
    demo.start(bracket.operations[0], "CNC-06", zheng, demo.ago(days=1))
    demo.report(bracket.operations[0], zheng, demo.ago(hours=20), 100)
    demo.report(bracket.operations[0], zheng, demo.ago(hours=2), 8, request_approval=True, note="客户接受超交")
    # A shaft lot quality holds: its grinding cannot report on it
    held = demo.released("HD-SH-032", 60, 4, at=demo.ago(days=2))
    held_lot = f"L{now:%y%m}-07"
    demo.run(held.operations[0], "CNC-03", liu, demo.ago(days=1, hours=4), 4, 59, 1, lot=held_lot)
    demo.start(held.operations[1], "GR-01", huang, demo.ago(hours=6))
    demo.report(held.operations[1], huang, demo.ago(hours=5), 20, consumed_lots=[held_lot])
    lots.record_hold(session, held_lot, ncr_id=None, reason="外径超差，待质量评审", at=demo.ago(hours=4))
    # A late order still in its first operation
    late = demo.released("HD-FL-150", 40, -1, priority=1, customer="华东重工", at=demo.ago(days=6))
    demo.start(late.operations[0], "CNC-03", zheng, demo.ago(hours=20))
    demo.report(late.operations[0], zheng, demo.ago(hours=2), 25, 1, defect="LEN")

    # --- released, not started (CNC-05 stays free for whoever wants to try the tablet) ---
    demo.released("HD-SH-045", 1200, 1, priority=2, at=demo.ago(days=1))  # at risk: 60 h of work, due tomorrow
    demo.released("HD-FL-100", 200, 6, customer="上海阀门厂", at=demo.ago(hours=5))
    demo.released("HD-BK-200", 30, 8, at=demo.ago(hours=3))
    demo.released("HD-SH-020", 400, 10, priority=7, at=demo.ago(hours=2))
    demo.released("HD-FL-080", 150, -2, priority=4, at=demo.ago(days=5))  # late before it even started

    # --- on hold, cancelled, drafts from this morning's ERP export ---
    work_orders.hold_order(session, demo.released("HD-BK-210", 60, 9, at=demo.ago(days=1)), now=demo.ago(hours=6))
    work_orders.cancel_order(session, demo.order("HD-SH-045", 20, 12), now=demo.ago(days=2))
    demo.order("HD-FL-150", 80, 14, customer="华东重工", sales_order="SO-26-1203")
    demo.order("HD-SH-060", 50, 15)  # no routing yet: releasing it says so
    demo.order("HD-BK-200", 25, 16, notes="样品订单")
    session.flush()
