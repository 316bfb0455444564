"""Public read module for other apps (the scheduling app): when machines are unavailable.

``unavailability(session, start, end)`` lists, for the session's factory, the windows in ``[start, end)`` during
which machines cannot take production work:

* open or started maintenance work orders that block their machine, over their planned window (a started one
  at least from its start until its planned end, or one hour from now when it overruns);
* machines down right now, from the downtime's start until the operator's expected "up" time (``end`` is None
  when nobody gave one: unknown).

Plain data, no Flask: call it with any session scoped to the factory. Changes are also announced by the events
``equipment.maintenance_planned``, ``equipment.maintenance_completed``, ``equipment.machine_down`` and
``equipment.machine_up``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment.models import MachineStatus, MaintenanceOrder, MaintenanceStatus, State, StateInterval
from platform_core.db import utcnow

OVERRUN = dt.timedelta(hours=1)  # a started order past its planned end is assumed to need this much more


@dataclass(frozen=True)
class Unavailability:
    machine_id: int
    start: dt.datetime
    end: dt.datetime | None  # None: until further notice
    kind: str  # "maintenance" or "down"
    reference: str  # the maintenance order number, or "down"
    maintenance_id: int | None = None


def unavailability(
    session: Session, start: dt.datetime, end: dt.datetime, machine_ids: Iterable[int] | None = None
) -> list[Unavailability]:
    """Unavailability windows overlapping ``[start, end)``, by machine then start."""
    now = utcnow()
    ids = None if machine_ids is None else list(machine_ids)
    found: list[Unavailability] = []
    orders = sa.select(MaintenanceOrder).where(
        MaintenanceOrder.blocks_machine,
        MaintenanceOrder.status.in_((MaintenanceStatus.OPEN, MaintenanceStatus.IN_PROGRESS)),
        MaintenanceOrder.planned_start.is_not(None),
    )
    if ids is not None:
        orders = orders.where(MaintenanceOrder.machine_id.in_(ids))
    for order in session.scalars(orders):
        window_start, window_end = order.planned_start, order.planned_end
        if order.status is MaintenanceStatus.IN_PROGRESS:
            window_start = min(window_start, order.started_at)
            window_end = max(window_end, now + OVERRUN) if window_end <= now else window_end
        if window_start < end and window_end > start:
            found.append(
                Unavailability(order.machine_id, window_start, window_end, "maintenance", order.number, order.id)
            )
    down = (
        sa.select(StateInterval)
        .join(MachineStatus, MachineStatus.open_interval_id == StateInterval.id)
        .where(StateInterval.state == State.DOWN)
    )
    if ids is not None:
        down = down.where(StateInterval.machine_id.in_(ids))
    for interval in session.scalars(down):
        until = interval.expected_up_at
        if interval.started_at < end and (until is None or until > start):
            found.append(Unavailability(interval.machine_id, interval.started_at, until, "down", "down"))
    return sorted(found, key=lambda u: (u.machine_id, u.start))
