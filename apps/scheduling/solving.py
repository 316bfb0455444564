"""The ``scheduling.solve`` queue handler: assemble, solve with live progress, validate, store the version.

The engine runs in a thread of its own while the job's thread publishes progress (best objective, bound, every
improving schedule) through the job row and watches for a cancel request; a cancelled run stops at once, and the
engine's search is told to stop at its next improvement. Nothing is stored unless the independent validator
accepts the schedule. The result is written in the job's transaction, under a row lock on the run, so a run the
planner cancelled meanwhile stays cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.scheduling import kpis as k
from apps.scheduling import runs as r
from apps.scheduling.assembly import Assembled, assemble
from apps.scheduling.models import Run, RunKind, RunStatus, Slot
from apps.scheduling.presets import solver_config
from apps.scheduling.solver import Progress, Solution, SolverConfig, Status, instance_to_dict, solve, validate
from platform_core.db import db, utcnow
from platform_core.jobs import JobCancelled, JobContext

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25
MAX_POINTS = 300  # objective-over-time points kept per run (the chart needs no more)


class NothingToSchedule(Exception):
    """No open work is left for the run."""


class _Watch:
    """Collects the engine's improving schedules (engine thread) for the job's thread to publish."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.points: list[list[float | None]] = []
        self.stop = threading.Event()
        self.solution: Solution | None = None
        self.error: BaseException | None = None
        self.improvements = 0

    def on_progress(self, progress: Progress) -> bool:
        with self.lock:
            self.improvements += 1
            point = [round(progress.elapsed, 2), progress.objective, progress.bound]
            self.points.append(point)
            if len(self.points) > MAX_POINTS:
                del self.points[1 : len(self.points) - MAX_POINTS + 1]  # keep the first, drop the oldest after it
        return self.stop.is_set()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            last = self.points[-1] if self.points else [None, None, None]
            objective, bound = last[1], last[2]
            gap = None if objective in (None, 0) or bound is None else max(0.0, (objective - bound) / abs(objective))
            return {
                "objective": objective,
                "bound": bound,
                "gap": gap,
                "improvements": self.improvements,
                "points": [list(p) for p in self.points],
            }


def _solve_watching(ctx: JobContext, assembled: Assembled, config: SolverConfig, base: dict) -> tuple[Solution, dict]:
    watch = _Watch()

    def work() -> None:
        try:
            watch.solution = solve(assembled.instance, config, watch.on_progress)
        except BaseException as exc:  # handed to the job's thread, which decides
            watch.error = exc

    thread = threading.Thread(target=work, name=f"solve-{ctx.job_id}", daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL_SECONDS)
            ctx.progress(phase="solving", elapsed=round(time.monotonic() - started, 1), **base, **watch.snapshot())
    except JobCancelled:
        watch.stop.set()  # the engine stops at its next improvement; its result is not wanted
        raise
    if watch.error is not None:
        raise watch.error
    return watch.solution, watch.snapshot()


def solve_run(ctx: JobContext) -> dict[str, Any]:
    """Queue handler of ``scheduling.solve``."""
    run_id = ctx.payload["run_id"]
    ctx.progress(force=True, phase="assembling", run_id=run_id)
    # Read in a short transaction of its own and search outside any: on SQLite an open transaction holds the
    # database's write lock, which every shop-floor tablet would then wait for during the whole search.
    with db.unit_of_work(ctx.tenant_id) as reading:
        queued = reading.get(Run, run_id)
        if queued is None or queued.status is not RunStatus.QUEUED:
            return {"run_id": run_id, "skipped": True}
        assembled = assemble(
            reading,
            horizon_start=max(queued.horizon_start, utcnow()),  # it waited in the queue: plan from now
            order_ids=queued.order_ids,
            reference=r.published_plan(reading),  # also when re-optimising: what the shop floor follows
            locks=r.locks_for(reading, queued),
        )
        preset, time_limit, kind = queued.preset, queued.time_limit_s, queued.kind
    config = solver_config(preset, time_limit, stability=assembled.has_reference, repair=kind is RunKind.REPAIR)
    base = {"run_id": run_id, "operations": len(assembled.ops), "orders": len(assembled.instance.jobs)}
    try:
        if not assembled.instance.jobs:  # everything was completed or held since the run was queued
            raise NothingToSchedule()
        solution, seen = _solve_watching(ctx, assembled, config, base)
        error = None
    except JobCancelled:
        raise
    except NothingToSchedule:
        solution, seen, error = None, {"points": [], "improvements": 0}, "nothing"
    except Exception as exc:  # a malformed instance or an engine failure: recorded on the run, not retried
        log.exception("solving run %s failed", run_id)
        solution, seen, error = None, {"points": [], "improvements": 0}, f"{type(exc).__name__}: {exc}"
    ctx.progress(force=True, phase="storing", **base)
    session = ctx.session
    # the planner may have cancelled meanwhile: the row lock orders this write after theirs
    run = session.get(Run, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.status is not RunStatus.QUEUED:
        raise JobCancelled()
    run.horizon_start = assembled.horizon_start
    run.origin, run.problems = assembled.origin, assembled.problems
    run.instance = instance_to_dict(assembled.instance)
    run.progress_log, run.improvements = seen["points"], seen["improvements"]
    run.finished_at = utcnow()
    if error is not None:
        run.status, run.error = RunStatus.FAILED, error
    else:
        _record(session, run, assembled, config, solution)
    session.flush()
    if run.status is RunStatus.PROPOSED:
        from apps.scheduling import repair  # the repair module imports this one

        repair.proposal_ready(session, run)
    return {"run_id": run.id, "status": run.status.value}


def _record(session: Session, run: Run, assembled: Assembled, config: SolverConfig, solution: Solution) -> None:
    run.solver_status = solution.status.value
    run.wall_seconds = solution.stats.wall_seconds
    if solution.status is Status.INFEASIBLE:
        run.status, run.explanation = RunStatus.INFEASIBLE, list(solution.explanation)
        return
    if not solution.has_schedule:
        run.status, run.error = RunStatus.FAILED, "no_solution"
        return
    report = validate(assembled.instance, solution, config)
    if not report.ok:  # never store a schedule that breaks a rule
        log.error("run %s: the engine's schedule failed validation: %s", run.id, report.violations[:5])
        run.status, run.error = RunStatus.FAILED, "invalid: " + "; ".join(report.violations[:5])
        return
    run.objective, run.bound, run.gap = solution.objective, solution.bound, solution.gap
    store_slots(session, run, assembled, solution.assignments, report.kpis.tardiness_by_job)
    figures = k.figures(report.kpis, assembled.origin, assembled.instance.now, assembled.ops, assembled.instance.jobs)
    slots = r.slots_of(session, run)
    reference = r.published_plan(session)
    figures["moved"] = k.moved(slots, reference)
    figures["affected"] = k.affected_orders(slots, reference) if reference else []
    run.kpis = figures
    run.status = RunStatus.PROPOSED if run.kind is RunKind.REPAIR else RunStatus.DRAFT


def store_slots(session: Session, run: Run, assembled: Assembled, assignments, tardiness: dict[str, int]) -> None:
    """The version's slots from the engine's assignments, numbered per machine in time order."""
    instance = assembled.instance
    frozen = instance.frozen_assignments()
    locked = {op.id for _job, op in instance.operations() if op.lock is not None and op.lock.start is not None}
    by_machine: dict[str, list] = defaultdict(list)
    for a in assignments:
        by_machine[a.machine].append(a)
    session.execute(sa.delete(Slot).where(Slot.run_id == run.id))
    for machine, placed in by_machine.items():
        for position, a in enumerate(sorted(placed, key=lambda x: (x.start, x.end)), start=1):
            meta = assembled.ops[a.operation]
            session.add(
                Slot(
                    run_id=run.id,
                    operation_id=meta.operation_id,
                    order_id=meta.order_id,
                    order_number=meta.order_number,
                    product_code=meta.product_code,
                    family=meta.family,
                    op_sequence=meta.sequence,
                    op_name=meta.name,
                    quantity=meta.quantity,
                    due_date=meta.due_date,
                    priority=meta.priority,
                    machine_id=int(machine),
                    start=assembled.moment(a.start),
                    end=assembled.moment(a.end),
                    setup_minutes=a.setup,
                    sequence=position,
                    frozen=a.operation in frozen,
                    locked=a.operation in locked,
                    late=tardiness.get(f"order-{meta.order_id}", 0) > 0,
                )
            )
    session.flush()
