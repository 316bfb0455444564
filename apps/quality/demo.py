"""The demo factory's quality: inspection plans, four weeks of measurements with the flange's outer diameter
drifting on CNC-01 (a Nelson rule fires), an NCR holding a lot, a genealogy to trace, unit costs for the KPIs.

It runs after the orders demo in the same transaction. The orders events published there have not been
delivered yet, so quality handles them here first (and records its receipts, so the platform's delivery after
the commit does not repeat them): the lots and tasks of the orders demo are then quality's too (its scrap is
routine, below the minimum that raises a scrap NCR). The flange lot the orders demo is turning on CNC-01 right
now is the one that fails inspection and is held.

Older production history (the bar-stock genealogy) predates the orders app in this factory: it is kept under
negative order ids, which the orders app never issues.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import Session

from apps.quality import alarms, control, inspections, ncrs, plans, production, settings
from apps.quality.models import (
    ActionStep,
    AlarmStatus,
    ControlChart,
    Disposition,
    InspectionPlan,
    Lot,
    ProductionRecord,
    QualityAlarm,
)
from platform_core.db import utcnow
from platform_core.events import Event, EventReceipt, OutboxEvent
from platform_core.identity.models import Employee, User
from platform_core.masterdata.models import Machine, Product
from platform_core.registry import get_registry
from platform_core.tenants.models import Tenant

COSTS = {
    "HD-FL-080": 18.5,
    "HD-FL-100": 24.0,
    "HD-FL-150": 65.0,
    "HD-SH-020": 9.8,
    "HD-SH-032": 16.0,
    "HD-SH-045": 28.0,
}

FLANGE_OD = {
    "code": "OD",
    "name": "外径 Φ80",
    "kind": "variable",
    "nominal": 80.0,
    "lsl": 79.95,
    "usl": 80.05,
    "unit": "mm",
    "gauge": "外径千分尺 75-100",
    "decimals": 3,
    "chart_type": "xbar_r",
    "subgroup_size": 5,
}
FLANGE_THICKNESS = {
    "code": "THK",
    "name": "厚度 20",
    "kind": "variable",
    "nominal": 20.0,
    "lsl": 19.9,
    "usl": 20.1,
    "unit": "mm",
    "gauge": "游标卡尺",
    "decimals": 2,
    "chart_type": "imr",
}
FLANGE_LOOK = {
    "code": "VIS",
    "name": "外观",
    "kind": "attribute",
    "defect_codes": ["BURR", "SCRATCH"],
    "accept_number": 0,
    "chart_type": "p",
}
SHAFT_OD = {
    "code": "OD",
    "name": "外圆 Φ32 h6",
    "kind": "variable",
    "nominal": 31.992,
    "lsl": 31.984,
    "usl": 32.0,
    "unit": "mm",
    "gauge": "外径千分尺 25-50",
    "decimals": 4,
    "chart_type": "imr",
}
BAR_DIAMETER = {
    "code": "DIA",
    "name": "直径 Φ50",
    "kind": "variable",
    "lsl": 49.7,
    "usl": 50.3,
    "unit": "mm",
    "decimals": 2,
}
BAR_LOOK = {"code": "VIS", "name": "表面", "kind": "attribute", "defect_codes": ["RUST"], "accept_number": 0}

# The demo people's accounts (platform_core.demo): four-eyes rules compare accounts, not display names.
INSPECTOR, ADMIN = "inspector", "admin"
BASELINE = 25  # subgroups before the limits are fixed
DRIFT = 9  # the last subgroups, each a quarter of a sigma of the mean larger: the tool wears


def seed_quality(session: Session, tenant: Tenant, now: dt.datetime | None = None) -> None:
    """Fill the demo factory's quality data (the session is scoped to ``tenant``; orders are seeded before)."""
    with force_locale(tenant.default_locale):  # `mes demo` has no request to take a language from
        _seed(session, now or utcnow())


def _seed(session: Session, now: dt.datetime) -> None:
    products = {p.code: p for p in session.scalars(sa.select(Product))}
    machines = {m.code: m for m in session.scalars(sa.select(Machine))}
    people = {e.employee_no: e for e in session.scalars(sa.select(Employee))}
    inspector = session.scalar(sa.select(User).where(User.username == INSPECTOR))
    for code, cost in COSTS.items():
        if code in products:
            settings.set_unit_cost(session, products[code], cost)
    flange, shaft, bar = _plans(session, products)
    _catch_up_with_orders(session)  # with the plans in force, the orders demo's reports raise their tasks
    rng = random.Random(2405)  # noqa: S311 - repeatable demo measurements, not secrets
    _flange_history(session, flange, machines, people, inspector, now, rng)
    _shaft_history(session, shaft, machines, people, inspector, now, rng)
    _genealogy(session, bar, products, machines, people, inspector, now)
    _held_lot(session, flange, machines, people, inspector, now)
    _closed_ncr(session, products, machines, now)
    session.flush()


def _catch_up_with_orders(session: Session) -> None:
    """Handle the orders demo's undelivered events now, as the platform would after the commit."""
    manifest = get_registry().get("quality")  # through the registry: the manifest imports this module
    pending = session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.name.like("orders.%"), OutboxEvent.dispatched_at.is_(None))
    ).all()
    # Releases first: a report names an order that quality must already know.
    pending = sorted(pending, key=lambda e: (e.name != "orders.order_released", e.occurred_at))
    for row in pending:
        handler = manifest.subscriptions.get(row.name)
        subscriber = f"{manifest.name}.{handler.__name__}" if handler else None
        done = sa.select(EventReceipt.id).where(EventReceipt.event_id == row.id, EventReceipt.subscriber == subscriber)
        if handler is None or session.scalar(done) is not None:
            continue
        event = Event(row.id, row.name, row.tenant_id, row.payload, row.occurred_at, row.actor)
        handler(session, event)
        session.add(EventReceipt(event_id=row.id, subscriber=subscriber))
        session.flush()
    session.flush()


def _plans(session: Session, products: dict) -> tuple[InspectionPlan, InspectionPlan, InspectionPlan]:
    flange = plans.create_plan(
        session,
        code="QP-FL080-10",
        name="法兰 DN80 粗车检验",
        product=products["HD-FL-080"],
        operation_sequence=10,
        notes="首件每班一次；之后每 50 件抽 5 件",
        characteristics=[FLANGE_OD, FLANGE_THICKNESS, FLANGE_LOOK],
        rules=[
            {"kind": "first_of_shift", "sample_size": 5, "due_minutes": 15},
            {"kind": "every_n", "every_n": 50, "sample_size": 5, "due_minutes": 30},
        ],
    )
    plans.activate_plan(session, flange)
    look = next(c for c in flange.characteristics if c.code == "VIS")
    # A p chart of rare defects sits below its centre line most of the time: only points beyond the limits count.
    control.set_rules(session, look.chart, [1])
    shaft = plans.create_plan(
        session,
        code="QP-SH032-20",
        name="阶梯轴 Φ32 外圆磨检验",
        product=products["HD-SH-032"],
        operation_sequence=20,
        characteristics=[SHAFT_OD],
        rules=[{"kind": "per_lot", "sample_size": 1, "due_minutes": 60}],
    )
    plans.activate_plan(session, shaft)
    bar = plans.create_plan(
        session,
        code="QP-RM-Q235",
        name="Q235 圆钢来料检验",
        product=products["RM-Q235-50"],
        characteristics=[BAR_DIAMETER, BAR_LOOK],
        rules=[{"kind": "incoming", "sample_size": 3, "due_minutes": 240}],
    )
    plans.activate_plan(session, bar)
    return flange, shaft, bar


def _record(session, plan, inspector, at, values_by_code, *, lot=None, machine=None, operator=None, note=None):
    results = []
    for characteristic in plan.characteristics:
        given = values_by_code[characteristic.code]
        if characteristic.kind.value == "variable":
            results.append({"characteristic_id": characteristic.id, "values": given})
        else:
            results.append({"characteristic_id": characteristic.id, **given})
    return inspections.record(
        session,
        results=results,
        inspector=inspector,
        inspector_name="周敏",
        plan=plan,
        context=inspections.Context(lot_code=lot, machine=machine, operator=operator),
        inspected_at=at,
        note=note,
    )


def _flange_history(session, plan, machines, people, inspector, now, rng) -> None:
    """Three subgroups a day for four weeks; limits fixed after the baseline; then CNC-01's tool wears."""
    start = now - dt.timedelta(days=28)
    total = BASELINE + 45 + DRIFT
    step = (now - dt.timedelta(hours=3) - start) / total
    chart = None
    for i in range(total):
        at = start + step * i
        drift = 0.0015 * (i - (total - DRIFT) + 1) if i >= total - DRIFT else 0.0
        machine = machines["CNC-01"] if i % 2 == 0 or drift else machines["CNC-02"]
        operator = people["1001"] if machine.code == "CNC-01" else people["1002"]
        od = [round(rng.gauss(80.0 + drift, 0.009), 3) for _ in range(5)]
        defectives = sum(1 for _ in range(50) if rng.random() < 0.01)
        recorded = _record(
            session,
            plan,
            inspector,
            at,
            {
                "OD": od,
                "THK": [round(rng.gauss(20.0, 0.025), 2)],
                "VIS": {
                    "inspected": 50,
                    "defectives": defectives,
                    "defect_counts": {"BURR": defectives} if defectives else {},
                },
            },
            lot=f"L{at:%y%m}-{5000 + i // 6}",
            machine=machine,
            operator=operator,
        )
        if i == BASELINE - 1:
            chart = session.get(ControlChart, recorded.inspection.results[0].chart_id)
            control.fix_limits(session, chart, by="周敏", note="首批 25 组基线（新刀具）")
        if i == total - DRIFT - 1:
            _acknowledge_until(session, plan, at, "复测确认为偶然波动，未调整")


def _acknowledge_until(session, plan: InspectionPlan, until: dt.datetime, note: str) -> None:
    """The plan's alarms the inspector looked into before ``until`` (the demo keeps the recent ones open)."""
    charts = {c.chart_id for c in plan.characteristics if c.chart_id}
    for alarm in session.scalars(sa.select(QualityAlarm).where(QualityAlarm.status == AlarmStatus.OPEN)):
        if alarm.chart_id in charts and alarm.point_at <= until:
            alarms.acknowledge(session, alarm, by="周敏", note=note)


def _shaft_history(session, plan, machines, people, inspector, now, rng) -> None:
    start = now - dt.timedelta(days=20)
    for i in range(30):
        at = start + dt.timedelta(hours=15 * i)
        _record(
            session,
            plan,
            inspector,
            at,
            {"OD": [round(rng.gauss(31.992, 0.0022), 4)]},
            lot=f"L{at:%y%m}-{6000 + i}",
            machine=machines["GR-01"],
            operator=people.get("1007"),
        )
    _acknowledge_until(session, plan, now, "砂轮修整后复测合格")


def _report(session, when, *, order_id, sequence, machine, employee, output, consumed, good, scrap=0) -> None:
    """A report of the time before the orders app, as quality would have copied it from one."""
    payload = {
        "order_id": order_id,
        "operation_id": order_id * 100 - sequence,
        "sequence": sequence,
        "machine_id": machine.id,
        "employee_id": employee.id if employee else None,
        "good": good,
        "scrap": scrap,
        "rework": 0,
        "scrap_reason_code": "BURR" if scrap else None,
        "output_lot": output,
        "consumed_lots": consumed,
        "reported_at": when.isoformat(),
    }
    production.record_report(session, str(uuid.uuid4()), payload, when)


def _genealogy(session, bar_plan, products, machines, people, inspector, now) -> None:
    """Bar stock Q235 lot → two turned flange lots → a drilled lot; the same bar also went into shafts."""
    yymm = f"{now - dt.timedelta(days=18):%y%m}"
    bar, t1, t2, done, shafts = (
        f"Q235-{yymm}-07",
        f"L{yymm}-5111",
        f"L{yymm}-5112",
        f"L{yymm}-5113",
        f"L{yymm}-5120",
    )
    when = now - dt.timedelta(days=18)
    _record(
        session,
        bar_plan,
        inspector,
        when - dt.timedelta(days=1),
        {"DIA": [50.05, 49.96, 50.1], "VIS": {"inspected": 3, "defectives": 0}},
        lot=bar,
        note="来料：宝钢 炉号 24B0719",
    )
    for order_id, number, product, quantity in (
        (-113, f"WO-{yymm}-H13", "HD-FL-080", 200),
        (-120, f"WO-{yymm}-H20", "HD-SH-032", 150),
    ):
        production.record_order(
            session,
            {"order_id": order_id, "number": number, "product_code": product, "quantity": quantity},
            when,
        )
    zhang, liu, zheng = people["1001"], people["1002"], people.get("1009")
    _report(
        session,
        when,
        order_id=-113,
        sequence=10,
        machine=machines["CNC-01"],
        employee=zhang,
        output=t1,
        consumed=[bar],
        good=98,
        scrap=2,
    )
    _report(
        session,
        when + dt.timedelta(hours=8),
        order_id=-113,
        sequence=10,
        machine=machines["CNC-02"],
        employee=liu,
        output=t2,
        consumed=[bar],
        good=100,
    )
    _report(
        session,
        when + dt.timedelta(days=1),
        order_id=-113,
        sequence=20,
        machine=machines["CNC-04"],
        employee=zheng,
        output=done,
        consumed=[t1, t2],
        good=196,
    )
    _report(
        session,
        when + dt.timedelta(days=2),
        order_id=-120,
        sequence=10,
        machine=machines["CNC-03"],
        employee=liu,
        output=shafts,
        consumed=[bar],
        good=150,
    )


def _held_lot(session, plan, machines, people, inspector, now) -> None:
    """The lot CNC-01 is turning now fails its patrol inspection: an NCR holds it (the orders app then refuses
    reports on it) and proposes rework; containment is done, the cause is being looked into."""
    code = _current_flange_lot(session) or f"L{now:%y%m}-5201"
    failed = _record(
        session,
        plan,
        inspector,
        now - dt.timedelta(minutes=90),
        {
            "OD": [80.031, 80.044, 80.052, 80.038, 80.057],
            "THK": [20.02],
            "VIS": {"inspected": 50, "defectives": 1, "defect_counts": {"BURR": 1}},
        },
        lot=code,
        machine=machines["CNC-01"],
        operator=people["1001"],
        note="巡检：外径偏大，已通知张师傅",
    )
    ncr = ncrs.raise_ncr(
        session,
        by="周敏",
        actor=INSPECTOR,
        inspection=failed.inspection,
        hold_lot=True,
        due_date=(now + dt.timedelta(days=3)).date(),
        description=(
            f"巡检 {failed.inspection.number}：5 件中 2 件外径超上差（80.052、80.057），1 件毛刺。批次已冻结待评审。"
        ),
    )
    inspector_user = session.scalar(sa.select(User).where(User.username == INSPECTOR))
    containment = ncrs.add_action(
        session, ncr, step=ActionStep.CONTAINMENT, description="隔离本批次，100% 复检外径", owner=inspector_user
    )
    ncrs.complete_action(session, containment, result="已隔离；复检中")
    ncrs.add_action(
        session,
        ncr,
        step=ActionStep.CAUSE,
        description="确认刀具磨损与换刀周期",
        owner=inspector_user,
        due_date=(now + dt.timedelta(days=2)).date(),
    )
    ncrs.propose(session, ncr, disposition=Disposition.REWORK, note="超差件返车至公差内", by="周敏", actor=INSPECTOR)


def _current_flange_lot(session) -> str | None:
    """The lot of the flange's first operation reported most recently (from the orders demo), if any."""
    return session.scalar(
        sa.select(Lot.code)
        .join(ProductionRecord, ProductionRecord.output_lot_id == Lot.id)
        .join(Product, Product.id == ProductionRecord.product_id)
        .where(Product.code == "HD-FL-080", ProductionRecord.operation_sequence == 10)
        .order_by(ProductionRecord.reported_at.desc())
        .limit(1)
    )


def _closed_ncr(session, products, machines, now) -> None:
    ncr = ncrs.raise_ncr(
        session,
        by="周敏",
        title="客户退回：法兰盘毛刺",
        product=products["HD-FL-080"],
        quantity=12,
        defect_codes=["BURR"],
        machine=machines["CNC-02"],
        description="上海阀门厂退回 12 件，孔口毛刺未去净。",
    )
    ncr.raised_at = now - dt.timedelta(days=16)
    ncrs.propose(session, ncr, disposition=Disposition.REWORK, note="去毛刺后重新交付", by="周敏", actor=INSPECTOR)
    ncrs.approve(session, ncr, by="王芳", actor=ADMIN)
    cause = ncrs.add_action(session, ncr, step=ActionStep.CAUSE, description="去毛刺工序漏检")
    ncrs.complete_action(session, cause, result="增加去毛刺后的目视检查")
    check = ncrs.add_action(session, ncr, step=ActionStep.VERIFICATION, description="连续 3 批无毛刺退货")
    ncrs.complete_action(session, check, result="已验证")
    ncrs.close(session, ncr, by="周敏", actor=INSPECTOR)
    ncr.closed_at = now - dt.timedelta(days=9)
