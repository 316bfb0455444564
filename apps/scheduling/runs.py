"""Scheduling runs: create (queued for a worker), cancel, discard, copy; what a run plans against.

A run is solved by ``scheduling.solve`` in the background workers, never inside a web request. Its status in
the database changes when the worker commits its result; meanwhile the job row carries the live progress, and
:func:`state` combines both into what a planner sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from apps.orders import planning
from apps.scheduling.assembly import PlannerLock, assemble, due_moment, tenant_zone
from apps.scheduling.locking import lock_factory
from apps.scheduling.models import PUBLISHABLE, Preset, Run, RunKind, RunStatus, Slot
from apps.scheduling.settings import get_settings
from platform_core import jobs, numbering
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.jobs import Job, JobStatus

SOLVE = "scheduling.solve"
PAST_TOLERANCE = dt.timedelta(minutes=5)  # a horizon start this far back still counts as "now"
REPAIR_PRIORITY, PLAN_PRIORITY = 50, 100  # repairs jump the queue: the shop floor is waiting for them

STATUS_LABELS = {
    RunStatus.QUEUED: _l("Queued"),
    RunStatus.DRAFT: _l("Draft"),
    RunStatus.PROPOSED: _l("Repair proposal"),
    RunStatus.PUBLISHED: _l("Published"),
    RunStatus.SUPERSEDED: _l("Superseded"),
    RunStatus.DISCARDED: _l("Discarded"),
    RunStatus.INFEASIBLE: _l("No schedule possible"),
    RunStatus.FAILED: _l("Failed"),
    RunStatus.CANCELLED: _l("Cancelled"),
}
SOLVING_LABEL = _l("Solving")
KIND_LABELS = {RunKind.PLAN: _l("Plan"), RunKind.REOPTIMISE: _l("Re-optimised"), RunKind.REPAIR: _l("Repair")}


def published(session: Session) -> Run | None:
    """The factory's published version, if any."""
    statement = sa.select(Run).where(Run.status == RunStatus.PUBLISHED)
    return session.scalar(statement.execution_options(populate_existing=True))


def slots_of(session: Session, run: Run | None) -> list[Slot]:
    if run is None:
        return []
    return list(session.scalars(sa.select(Slot).where(Slot.run_id == run.id).order_by(Slot.start, Slot.id)))


def published_plan(session: Session) -> list[Slot]:
    """The plan the shop floor follows, one slot per open operation that has a planned place.

    That is the published version's slots, and for orders a partly published version left alone, the places an
    earlier version gave them (read back from the operations: those versions are superseded by now).
    """
    own = {s.operation_id: s for s in slots_of(session, published(session))}
    zone = tenant_zone(session)
    plan: list[Slot] = []
    for order in planning.open_orders(session):
        placed = [op for op in order.operations if op.planned_machine_id and op.planned_start and op.planned_end]
        if not placed:
            continue
        completion = max(op.planned_end for op in placed)
        late = order.due_date is not None and completion > due_moment(order.due_date, zone)
        plan.extend(own.get(op.operation_id) or _kept_slot(order, op, late) for op in placed)
    return sorted(plan, key=lambda s: (s.start, s.operation_id))


def _kept_slot(order: planning.OpenOrder, op: planning.RemainingOperation, late: bool) -> Slot:
    """A slot (never stored) for an operation planned by an earlier version."""
    return Slot(
        operation_id=op.operation_id,
        order_id=order.order_id,
        order_number=order.number,
        product_code=order.product_code,
        family=order.family_code,
        op_sequence=op.sequence,
        op_name=op.name,
        quantity=op.remaining_quantity,
        due_date=order.due_date,
        priority=order.priority,
        machine_id=op.planned_machine_id,
        start=op.planned_start,
        end=op.planned_end,
        setup_minutes=0,
        sequence=op.planned_sequence or 0,
        frozen=False,
        locked=False,
        late=late,
    )


def _next_number(session: Session) -> int:
    return numbering.draw(session, "scheduling-run", in_use=session.scalar(sa.select(sa.func.max(Run.number))) or 0)


def job_of(session: Session, run: Run) -> Job | None:
    return session.get(Job, run.job_id) if run.job_id else None


def state(run: Run, job: Job | None) -> str:
    """What the planner sees: the run's status, or ``solving`` while a worker has it, or the job's failure."""
    if run.status is RunStatus.QUEUED and job is not None:
        if job.status is JobStatus.RUNNING:
            return "solving"
        if job.status is JobStatus.FAILED:
            return RunStatus.FAILED.value
        if job.status is JobStatus.CANCELLED:
            return RunStatus.CANCELLED.value
    return run.status.value


def state_label(value: str) -> str:
    return str(SOLVING_LABEL) if value == "solving" else str(STATUS_LABELS[RunStatus(value)])


def _default_limit(settings, kind: RunKind) -> int:
    return settings.repair_time_limit_s if kind is RunKind.REPAIR else settings.time_limit_s


def create_run(
    session: Session,
    *,
    actor: str,
    preset: Preset | str | None = None,
    time_limit_s: int | None = None,
    horizon_start: dt.datetime | None = None,
    order_ids: list[int] | None = None,
    note: str | None = None,
    kind: RunKind = RunKind.PLAN,
    base: Run | None = None,
    cause: str | None = None,
    cause_detail: dict[str, Any] | None = None,
) -> Run:
    """Queue a run; the workers solve it. The reference is ``base``, else the published version."""
    settings = get_settings(session)
    now = utcnow()
    start = horizon_start or now
    if start.tzinfo is None:
        raise ValidationFailed(_("Give the time with its time zone."), errors={"horizon_start": [_("No time zone.")]})
    if start < now - PAST_TOLERANCE:
        raise ValidationFailed(
            _("The schedule cannot start in the past."), errors={"horizon_start": [_("In the past.")]}
        )
    if order_ids is not None:
        order_ids = sorted(set(order_ids))
        open_ids = {o.order_id for o in planning.open_orders(session)}
        unknown = [i for i in order_ids if i not in open_ids]
        if unknown:
            raise ValidationFailed(
                _("Only released or running orders of this factory can be scheduled."),
                errors={"order_ids": {str(i): [_("Not an open order.")] for i in unknown}},
            )
        if not order_ids:
            raise ValidationFailed(_("Choose at least one order."), errors={"order_ids": [_("Empty.")]})
    elif kind is RunKind.PLAN and not planning.open_orders(session):
        raise ValidationFailed(
            _("There is no released order to schedule."), errors={"order_ids": [_("No open orders.")]}
        )
    lock_factory(session)
    run = Run(
        number=_next_number(session),
        kind=kind,
        status=RunStatus.QUEUED,
        preset=Preset(preset or settings.preset),
        time_limit_s=time_limit_s or _default_limit(settings, kind),
        horizon_start=max(start, now),
        order_ids=order_ids,
        note=note,
        cause=cause,
        cause_detail=cause_detail,
        base=base if base is not None else published(session),
        created_by=actor,
    )
    session.add(run)
    session.flush()
    priority = REPAIR_PRIORITY if kind is RunKind.REPAIR else PLAN_PRIORITY
    # one attempt more than the default would only repeat a deterministic failure; a dead worker's job is retried
    run.job_id = jobs.enqueue(session, SOLVE, {"run_id": run.id}, priority=priority, max_attempts=2).id
    session.flush()
    return run


def cancel_run(session: Session, run: Run) -> Run:
    """Stop a queued or solving run; nothing of it is kept."""
    if run.status is not RunStatus.QUEUED:
        raise InvalidTransition(_("Only a queued or running run can be cancelled."), current_state=run.status.value)
    job = job_of(session, run)
    if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        jobs.request_cancel(session, job)
    run.status = RunStatus.CANCELLED
    run.finished_at = utcnow()
    session.flush()
    return run


def discard_run(session: Session, run: Run) -> Run:
    if run.status not in PUBLISHABLE:
        raise InvalidTransition(_("Only a draft or a proposal can be discarded."), current_state=run.status.value)
    run.status = RunStatus.DISCARDED
    session.flush()
    return run


def copy_run(session: Session, run: Run, *, actor: str) -> Run:
    """A draft copy of a solved version, to move and lock operations in without touching the original."""
    if run.slots == [] or run.instance is None:
        raise Conflict(_("Only a solved version can be copied."), current_state=run.status.value)
    lock_factory(session)
    copy = Run(
        number=_next_number(session),
        kind=RunKind.REOPTIMISE,
        status=RunStatus.DRAFT,
        preset=run.preset,
        time_limit_s=run.time_limit_s,
        horizon_start=run.horizon_start,
        order_ids=run.order_ids,
        note=_("Copy of %(label)s", label=run.label),
        base=run,
        created_by=actor,
        finished_at=utcnow(),
        solver_status=run.solver_status,
        objective=run.objective,
        bound=run.bound,
        gap=run.gap,
        wall_seconds=run.wall_seconds,
        improvements=run.improvements,
        progress_log=run.progress_log,
        kpis=run.kpis,
        problems=run.problems,
        origin=run.origin,
        instance=run.instance,
    )
    session.add(copy)
    session.flush()
    columns = [c.key for c in Slot.__table__.columns if c.key not in ("id", "run_id", "tenant_id")]
    for slot in slots_of(session, run):
        session.add(Slot(run_id=copy.id, **{name: getattr(slot, name) for name in columns}))
    session.flush()
    return copy


def locks_for(session: Session, run: Run) -> dict[int, PlannerLock]:
    """The planner's locks a run must respect: those of the version it starts from."""
    return locks_for_version(session, run.base if run.base is not None else published(session))


def locks_for_version(session: Session, version: Run | None) -> dict[int, PlannerLock]:
    return {
        s.operation_id: PlannerLock(s.machine_id, s.start)
        for s in slots_of(session, version)
        if s.locked and not s.frozen
    }


def runs_query(statuses: list[RunStatus] | None = None) -> sa.Select:
    statement = sa.select(Run).order_by(Run.number.desc())
    if statuses:
        statement = statement.where(Run.status.in_(statuses))
    return statement


def pending_proposals(session: Session) -> list[Run]:
    return list(
        session.scalars(
            sa.select(Run)
            .where(Run.status == RunStatus.PROPOSED)
            .options(selectinload(Run.base))
            .order_by(Run.number.desc())
        )
    )


def progress(session: Session, run: Run) -> dict[str, Any]:
    """Live progress of a run for the page and the API: from the job row while solving, else the stored result."""
    job = job_of(session, run)
    current = state(run, job)
    live = job.progress if job is not None and job.status is JobStatus.RUNNING and job.progress else None
    result: dict[str, Any] = {
        "run_id": run.id,
        "state": current,
        "time_limit_s": run.time_limit_s,
        "phase": None,
        "elapsed": None,
        "objective": run.objective,
        "bound": run.bound,
        "gap": run.gap,
        "improvements": run.improvements or 0,
        "points": run.progress_log or [],
    }
    if live is not None:
        started = job.started_at or utcnow()
        result.update(
            phase=live.get("phase"),
            elapsed=round((utcnow() - started).total_seconds(), 1),
            objective=live.get("objective"),
            bound=live.get("bound"),
            gap=live.get("gap"),
            improvements=live.get("improvements") or 0,
            points=live.get("points") or [],
        )
    elif current == "solving":
        result.update(phase="starting", elapsed=round((utcnow() - (job.started_at or utcnow())).total_seconds(), 1))
    elif run.wall_seconds is not None:
        result["elapsed"] = round(run.wall_seconds, 1)
    return result


def preview(session: Session, order_ids: list[int] | None = None, horizon_start: dt.datetime | None = None) -> dict:
    """What a run would plan, and the data problems it would meet, without solving anything."""
    assembled = assemble(
        session,
        horizon_start=horizon_start or utcnow(),
        order_ids=order_ids,
        reference=published_plan(session),
        locks=locks_for_version(session, published(session)),
    )
    return {
        "orders": len(assembled.scheduled_orders),
        "operations": sum(1 for meta in assembled.ops.values() if meta.order_id in assembled.scheduled_orders),
        "machines": len(assembled.instance.machines),
        "problems": assembled.problems,
    }
