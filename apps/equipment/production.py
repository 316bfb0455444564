"""Quantities produced on a machine in a time window: from work reports, or from a part counter.

Work reports (the orders app's ``orders.operation_reported`` events, stored as :class:`ProductionCount`) give
good, scrap and rework. A machine whose configuration names a counter metric counts its total from the counter
instead (hourly rollups for whole hours, minute rollups at the edges); good is then that total minus the scrap
and rework reported by people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment.models import MachineConfig, ProductionCount, RollupHour, RollupMinute
from apps.equipment.store import counter_increase


@dataclass(frozen=True)
class Quantities:
    good: float = 0.0
    scrap: float = 0.0
    rework: float = 0.0

    @property
    def total(self) -> float:
        return self.good + self.scrap + self.rework


def reported(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> Quantities:
    row = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(ProductionCount.good), 0),
            sa.func.coalesce(sa.func.sum(ProductionCount.scrap), 0),
            sa.func.coalesce(sa.func.sum(ProductionCount.rework), 0),
        ).where(ProductionCount.machine_id == machine_id, ProductionCount.at >= start, ProductionCount.at < end)
    ).one()
    return Quantities(float(row[0]), float(row[1]), float(row[2]))


def _ceil_hour(ts: dt.datetime) -> dt.datetime:
    floor = ts.replace(minute=0, second=0, microsecond=0)
    return floor if floor == ts else floor + dt.timedelta(hours=1)


def _pairs(session: Session, model, machine_id: int, metric_id: int, start: dt.datetime, end: dt.datetime):
    if start >= end:
        return []
    return session.execute(
        sa.select(model.first, model.last)
        .where(model.machine_id == machine_id, model.metric_id == metric_id, model.bucket >= start, model.bucket < end)
        .order_by(model.bucket)
    ).all()


def counted(session: Session, machine_id: int, metric_id: int, start: dt.datetime, end: dt.datetime) -> float:
    """Parts a counter metric counted in ``[start, end)``, including the step from the value just before."""
    seed = session.execute(
        sa.select(RollupMinute.last)
        .where(
            RollupMinute.machine_id == machine_id,
            RollupMinute.metric_id == metric_id,
            RollupMinute.bucket < start,
            RollupMinute.bucket >= start - dt.timedelta(hours=1),
        )
        .order_by(RollupMinute.bucket.desc())
        .limit(1)
    ).first()
    first_hour, last_hour = _ceil_hour(start), end.replace(minute=0, second=0, microsecond=0)
    if first_hour >= last_hour:
        pairs = _pairs(session, RollupMinute, machine_id, metric_id, start, end)
    else:
        pairs = [
            *_pairs(session, RollupMinute, machine_id, metric_id, start, first_hour),
            *_pairs(session, RollupHour, machine_id, metric_id, first_hour, last_hour),
            *_pairs(session, RollupMinute, machine_id, metric_id, last_hour, end),
        ]
    if seed is not None:
        pairs = [(seed[0], seed[0]), *pairs]
    return counter_increase(pairs)


def produced(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime) -> Quantities:
    """Good, scrap and rework in ``[start, end)``: reports, with the total from the counter where there is one."""
    people = reported(session, machine_id, start, end)
    counter = session.scalar(sa.select(MachineConfig.count_metric_id).where(MachineConfig.machine_id == machine_id))
    if counter is None:
        return people
    total = counted(session, machine_id, counter, start, end)
    return Quantities(max(total - people.scrap - people.rework, 0.0), people.scrap, people.rework)
