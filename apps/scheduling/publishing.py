"""Publishing a version: it becomes the plan the shop floor follows.

In one transaction: the previous published version is superseded, this one is published, its slots are written
to the operations through the orders app's planning service (planned machine, start, end and the sequence the
tablets' dispatch lists follow, and each order's planned completion), and ``scheduling.schedule_published`` is
announced. A version that planned a selection of orders replaces the plan of those orders only: the others keep
their planned slots, and every machine's sequence is numbered again over both. Two planners publishing at
the same moment are serialised by the factory's scheduling lock: the second waits, then supersedes the first;
the partial unique index on published versions is the backstop. Slots of operations completed since the version
was solved are left out, so a version is still publishable an hour later.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.orders import planning
from apps.scheduling import runs as r
from apps.scheduling.locking import lock_factory
from apps.scheduling.models import PUBLISHABLE, Run, RunStatus, Slot
from platform_core import events
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition


def planned_slots(slots: list[Slot], open_operations: set[int]) -> list[planning.PlannedSlot]:
    """The slots still to be done, numbered 1, 2, ... per machine in time order."""
    by_machine: dict[int, list[Slot]] = defaultdict(list)
    for slot in slots:
        if slot.operation_id in open_operations:
            by_machine[slot.machine_id].append(slot)
    planned = []
    for machine_id, placed in by_machine.items():
        for position, slot in enumerate(sorted(placed, key=lambda s: (s.start, s.end, s.id or 0)), start=1):
            planned.append(planning.PlannedSlot(slot.operation_id, machine_id, slot.start, slot.end, position))
    return planned


def plan_after(session: Session, run: Run) -> list[Slot]:
    """The plan once ``run`` is published: its slots of the orders it planned, the current plan of the others."""
    slots = r.slots_of(session, run)
    if run.order_ids is None:
        return slots
    chosen = set(run.order_ids)
    kept = [s for s in r.published_plan(session) if s.order_id not in chosen]
    return [s for s in slots if s.order_id in chosen] + kept


def publish(session: Session, run: Run, *, actor: str) -> Run:
    """Make ``run`` the factory's plan."""
    lock_factory(session)
    session.refresh(run)  # as committed by whoever held the lock before us
    if run.status not in PUBLISHABLE:
        raise InvalidTransition(
            _("Only a draft or a repair proposal can be published; this version is %(state)s.", state=run.status.value),
            current_state=run.status.value,
        )
    if (run.kpis or {}).get("conflicts"):
        raise Conflict(
            _("Manual moves left conflicts in this version; re-optimise it before publishing."),
            code="conflicts",
            errors={"conflicts": run.kpis["conflicts"]},
        )
    previous = r.published(session)
    plan = plan_after(session, run)  # while the current plan is still the published one
    if previous is not None:
        previous.status = RunStatus.SUPERSEDED
        session.flush()  # before the new one counts as published (one published version per factory)
    open_operations = {op.operation_id for order in planning.open_orders(session) for op in order.operations}
    planned = planned_slots(plan, open_operations)
    planning.write_plan(session, planned, plan_ref=f"scheduling-{run.id}/{run.label}", replace=True)
    run.status = RunStatus.PUBLISHED
    run.published_at = utcnow()
    run.published_by = actor
    session.flush()
    events.publish(
        session,
        "scheduling.schedule_published",
        {
            "schedule_id": run.id,
            "version": run.number,
            "published_at": run.published_at.isoformat(),
            "machine_ids": sorted({p.machine_id for p in planned}),
            "operations": len(planned),
            "superseded_id": previous.id if previous is not None else None,
        },
    )
    return run
