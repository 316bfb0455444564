"""Key figures of a schedule version, and how two versions differ.

Figures come from the engine's independent validator (recomputed from the assignments, never trusted from the
search), plus what a planner compares: which orders finish when, which operations moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.scheduling import runs as r
from apps.scheduling.models import Run, Slot
from platform_core.masterdata.models import Machine

MOVE_TOLERANCE = dt.timedelta(minutes=15)  # a start shifted by less is not counted as moved


def figures(report_kpis, origin: dt.datetime, now_minute: int, ops: dict, jobs: Iterable) -> dict[str, Any]:
    """The version's KPIs as stored with it (JSON): minutes, counts, tardiness per order, utilisation per machine."""
    tardiness: dict[str, int] = {}
    for job in jobs:
        order_id = job.id.removeprefix("order-")
        tardiness[order_id] = int(report_kpis.tardiness_by_job.get(job.id, 0))
    return {
        "late_orders": int(report_kpis.late_jobs),
        "weighted_tardiness": int(report_kpis.weighted_tardiness),
        "total_tardiness": int(report_kpis.total_tardiness),
        "makespan_minutes": max(0, int(report_kpis.makespan) - now_minute),
        "makespan_end": (origin + dt.timedelta(minutes=int(report_kpis.makespan))).isoformat(),
        "setup_minutes": int(report_kpis.total_setup),
        "utilisation": {str(k): float(v) for k, v in report_kpis.utilization.items()},
        "tardiness": tardiness,
        "operations": len(ops),
    }


def order_completion(slots: Iterable[Slot]) -> dict[int, dt.datetime]:
    """When each order's last planned operation ends."""
    done: dict[int, dt.datetime] = {}
    for slot in slots:
        if slot.order_id not in done or slot.end > done[slot.order_id]:
            done[slot.order_id] = slot.end
    return done


def moved(slots: Iterable[Slot], against: Iterable[Slot]) -> int:
    """Operations placed on another machine, or shifted by at least ``MOVE_TOLERANCE``, compared with ``against``."""
    before = {s.operation_id: s for s in against}
    count = 0
    for slot in slots:
        old = before.get(slot.operation_id)
        if old is not None and (old.machine_id != slot.machine_id or abs(old.start - slot.start) >= MOVE_TOLERANCE):
            count += 1
    return count


def affected_orders(slots: list[Slot], against: list[Slot]) -> list[dict[str, Any]]:
    """Orders whose planned completion changes by at least ``MOVE_TOLERANCE`` (or that are new), latest first."""
    after, before = order_completion(slots), order_completion(against)
    info = {s.order_id: s for s in slots}
    late = {s.order_id for s in slots if s.late}
    result = []
    for order_id, end in after.items():
        old = before.get(order_id)
        if old is not None and abs(end - old) < MOVE_TOLERANCE:
            continue
        slot = info[order_id]
        result.append(
            {
                "order_id": order_id,
                "order_number": slot.order_number,
                "before": old.isoformat() if old else None,
                "after": end.isoformat(),
                "due_date": slot.due_date.isoformat() if slot.due_date else None,
                "late": order_id in late,
                "newly_late": order_id in late and not any(s.late for s in against if s.order_id == order_id),
            }
        )
    return sorted(result, key=lambda r: (not r["newly_late"], not r["late"], r["order_number"]))


def compare(session: Session, runs: list[Run]) -> dict[str, Any]:
    """Side by side: each version's figures, its operations moved against the published version, and the
    utilisation of every machine that appears in any of them."""
    published = r.published(session)
    reference = r.published_plan(session)
    rows, machine_ids = [], set()
    for run in runs:
        figures = dict(run.kpis or {})
        utilisation = {int(m): v for m, v in (figures.get("utilisation") or {}).items()}
        slots = r.slots_of(session, run)
        used = {s.machine_id for s in slots}
        machine_ids |= used
        shown = [v for m, v in utilisation.items() if m in used]
        rows.append(
            {
                "id": run.id,
                "label": run.label,
                "status": run.status.value,
                "preset": run.preset.value,
                "created_at": run.created_at.isoformat() if run.created_at else None,
                "late_orders": figures.get("late_orders"),
                "weighted_tardiness": figures.get("weighted_tardiness"),
                "total_tardiness": figures.get("total_tardiness"),
                "makespan_minutes": figures.get("makespan_minutes"),
                "makespan_end": figures.get("makespan_end"),
                "setup_minutes": figures.get("setup_minutes"),
                "utilisation": utilisation,
                "mean_utilisation": round(sum(shown) / len(shown), 4) if shown else None,
                "moved": None if published is None or published.id == run.id else moved(slots, reference),
                "conflicts": len(figures.get("conflicts") or []),
            }
        )
    machines = session.scalars(sa.select(Machine).where(Machine.id.in_(machine_ids)).order_by(Machine.code)).all()
    return {
        "runs": rows,
        "machines": [{"id": m.id, "code": m.code} for m in machines],
        "published_id": published.id if published else None,
    }
