"""The live picture of the machines: state and how long, reason, current order, active alarms (wall and API)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment.models import Alarm, MachineConfig, MachineStatus, OrderRef, StateInterval
from platform_core.db import utcnow
from platform_core.masterdata.models import Machine, WorkCenter


def machines_of(session: Session, work_center_id: int | None = None) -> list[Machine]:
    statement = (
        sa.select(Machine)
        .join(WorkCenter, WorkCenter.id == Machine.work_center_id)
        .where(Machine.active)
        .order_by(WorkCenter.code, Machine.code)
    )
    if work_center_id is not None:
        statement = statement.where(Machine.work_center_id == work_center_id)
    return list(session.scalars(statement))


def board(session: Session, machines: list[Machine], now: dt.datetime | None = None) -> list[dict]:
    now = now or utcnow()
    ids = [m.id for m in machines]
    statuses = {
        s.machine_id: s for s in session.scalars(sa.select(MachineStatus).where(MachineStatus.machine_id.in_(ids)))
    }
    opened = {
        i.machine_id: i
        for i in session.scalars(
            sa.select(StateInterval).where(StateInterval.machine_id.in_(ids), StateInterval.ended_at.is_(None))
        )
    }
    monitored = set(
        session.scalars(
            sa.select(MachineConfig.machine_id).where(
                MachineConfig.machine_id.in_(ids), MachineConfig.run_metric_id.is_not(None)
            )
        )
    )
    alarms: dict[int, list[Alarm]] = defaultdict(list)
    for alarm in session.scalars(
        sa.select(Alarm).where(Alarm.machine_id.in_(ids), Alarm.cleared_at.is_(None)).order_by(Alarm.raised_at.desc())
    ):
        alarms[alarm.machine_id].append(alarm)
    order_ids = {s.order_id for s in statuses.values() if s.order_id}
    orders = (
        {r.order_id: r for r in session.scalars(sa.select(OrderRef).where(OrderRef.order_id.in_(order_ids)))}
        if order_ids
        else {}
    )
    tiles = []
    for machine in machines:
        status, interval = statuses.get(machine.id), opened.get(machine.id)
        order = orders.get(status.order_id) if status and status.order_id else None
        tiles.append(
            {
                "machine": machine,
                "machine_id": machine.id,
                "code": machine.code,
                "name": machine.name,
                "work_center_code": machine.work_center.code,
                "monitored": machine.id in monitored,
                "state": status.state if status else None,
                "since": status.since if status else None,
                "minutes_in_state": round((now - status.since).total_seconds() / 60, 1) if status else None,
                "reason": interval.reason if interval else None,
                "reason_code": interval.reason.code if interval and interval.reason else None,
                "unclassified": bool(interval and interval.state.value == "down" and interval.reason_id is None),
                "expected_up_at": interval.expected_up_at if interval else None,
                "order_id": status.order_id if status else None,
                "order_number": order.number if order else None,
                "product_code": order.product_code if order else None,
                "operation_id": status.operation_id if status else None,
                "last_data_at": status.last_data_at if status else None,
                "alarms": alarms.get(machine.id, []),
            }
        )
    return tiles
