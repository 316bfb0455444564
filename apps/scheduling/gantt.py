"""The data behind a version's Gantt chart, by machine or by order: bars, shading, stops, actuals, now.

Times are milliseconds since the epoch (what the chart's linear time axis reads), so a 20-minute operation is
drawn exactly 20 minutes long; the page formats them in the factory's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.scheduling import actuals
from apps.scheduling import runs as r
from apps.scheduling import timeaxis as ta
from apps.scheduling.assembly import OCCUPIED, due_moment, tenant_zone
from apps.scheduling.kpis import MOVE_TOLERANCE
from apps.scheduling.models import PUBLISHABLE, Run
from apps.scheduling.solver import instance_from_dict
from platform_core.db import utcnow
from platform_core.masterdata.models import Machine, Product

MARGIN = dt.timedelta(hours=2)


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def gantt(session: Session, run: Run, *, language: str = "zh_CN") -> dict[str, Any]:
    zone = tenant_zone(session)
    slots = r.slots_of(session, run)
    now = utcnow()
    first = min([run.horizon_start, *(s.start for s in slots)])
    last = max([run.horizon_start + dt.timedelta(hours=8), *(s.end for s in slots)])
    start, end = first - MARGIN, last + MARGIN
    instance = instance_from_dict(run.instance) if run.instance else None
    machine_ids = {s.machine_id for s in slots}
    if instance is not None:
        machine_ids |= {int(m.id) for m in instance.machines}
    machines = session.scalars(sa.select(Machine).where(Machine.id.in_(machine_ids)).order_by(Machine.code)).all()
    codes = {m.id: m.code for m in machines}
    products = {
        p.code: p.label(language)
        for p in session.scalars(sa.select(Product).where(Product.code.in_({s.product_code for s in slots})))
    }
    published = r.published(session)
    before = {s.operation_id: s for s in r.published_plan(session)} if published and published.id != run.id else {}
    bars = []
    for slot in slots:
        old = before.get(slot.operation_id)
        bars.append(
            {
                "slot": slot.id,
                "operation": slot.operation_id,
                "order_id": slot.order_id,
                "order": slot.order_number,
                "product": slot.product_code,
                "product_name": products.get(slot.product_code, ""),
                "quantity": slot.quantity,
                "due": slot.due_date.isoformat() if slot.due_date else None,
                "seq": slot.op_sequence,
                "name": slot.op_name,
                "machine_id": slot.machine_id,
                "machine": codes.get(slot.machine_id, str(slot.machine_id)),
                "start": ms(slot.start),
                "end": ms(slot.end),
                "setup": slot.setup_minutes,
                "late": slot.late,
                "frozen": slot.frozen,
                "locked": slot.locked,
                "moved": old is not None
                and (old.machine_id != slot.machine_id or abs(old.start - slot.start) >= MOVE_TOLERANCE),
            }
        )
    shading, stops, occupied, eligible = {}, [], [], {}
    if instance is not None and run.origin is not None:
        # calendars are known from minute 0 on: earlier time is not drawn as non-working
        low, high = max(0, ta.minutes_after(run.origin, start)), ta.minutes_after(run.origin, end, up=True)
        for machine in instance.machines:
            if machine.calendar is not None:
                working = ta.merge((w.start, w.end) for w in machine.calendar)
                shading[machine.id] = [
                    [ms(ta.at_minute(run.origin, a)), ms(ta.at_minute(run.origin, b))]
                    for a, b in ta.complement(working, low, high)
                ]
            for window in machine.unavailable:
                kind, _sep, reference = window.label.partition(":")
                # time held by orders this version left to the published plan is not a stop of the machine
                (occupied if kind == OCCUPIED else stops).append(
                    {
                        "machine_id": int(machine.id),
                        "start": ms(ta.at_minute(run.origin, window.start)),
                        "end": ms(ta.at_minute(run.origin, window.end)),
                        "kind": kind or "down",
                        "reference": reference,
                    }
                )
        modes = {op.id: op.modes for _job, op in instance.operations()}
        for slot in slots:
            eligible[str(slot.id)] = [
                [int(m.machine), codes.get(int(m.machine), m.machine), m.duration]
                for m in modes.get(str(slot.operation_id), ())
            ]
    numbers = {s.order_id: s.order_number for s in slots}
    done = []
    for actual in actuals.between(session, start, min(end, now)):
        done.append(
            {
                "operation": actual.operation_id,
                "order": numbers.get(actual.order_id, str(actual.order_id)),
                "machine_id": actual.machine_id,
                "start": ms(actual.started_at),
                "end": ms(actual.ended_at or now),
                "running": actual.ended_at is None,
            }
        )
    orders: dict[int, dict[str, Any]] = {}
    for slot in slots:
        row = orders.setdefault(
            slot.order_id,
            {
                "id": slot.order_id,
                "number": slot.order_number,
                "due": ms(due_moment(slot.due_date, zone)) if slot.due_date else None,
                "late": False,
                "first": ms(slot.start),
            },
        )
        row["late"] = row["late"] or slot.late
        row["first"] = min(row["first"], ms(slot.start))
    return {
        "run": {"id": run.id, "label": run.label, "status": run.status.value, "editable": run.status in PUBLISHABLE},
        "zone": str(zone.key),
        "now": ms(now),
        "start": ms(start),
        "end": ms(end),
        "horizon_start": ms(run.horizon_start),
        "machines": [{"id": m.id, "code": m.code, "name": m.label(language)} for m in machines],
        "orders": sorted(orders.values(), key=lambda o: (o["first"], o["number"])),
        "bars": bars,
        "shading": shading,
        "unavailable": stops,
        "occupied": occupied,
        "actuals": done,
        "eligible": eligible,
    }
