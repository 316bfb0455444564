"""Repairs: when reality departs from the published plan, a repair schedule is proposed automatically.

Triggers: a machine goes down (``equipment.machine_down``) or comes back while the plan still counts it down
(``equipment.machine_up``), maintenance is planned where work is planned (``equipment.maintenance_planned``), a
rush order is released (``orders.order_released`` at or above the factory's rush priority), or the plan slips
beyond the factory's threshold (checked periodically). A repair is a run like any other, queued for the workers
ahead of ordinary runs, that keeps running work in place, respects the frozen horizon and weighs deviation from
the published plan more than ordinary runs do. Triggers arriving while a repair still waits in the queue join
it. When it is solved, the planner is told (``scheduling.repair_proposed``, and the banner on the planning
pages); with the factory's policy it is published at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.orders import planning
from apps.scheduling import runs as r
from apps.scheduling.models import Cause, Run, RunKind, RunStatus
from apps.scheduling.settings import get_settings
from platform_core import events
from platform_core.db import Actor, db, utcnow
from platform_core.errors import DomainError
from platform_core.events import Event
from platform_core.jobs import Job, JobStatus
from platform_core.tenants.models import Tenant, TenantApp, TenantStatus

log = logging.getLogger(__name__)
ACTOR = "scheduling"


def _moment(value: Any, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return fallback


def _waiting_repair(session: Session) -> Run | None:
    """A repair still waiting for a worker: new triggers join it instead of queueing another."""
    return session.scalar(
        sa.select(Run)
        .join(Job, Job.id == Run.job_id)
        .where(Run.kind == RunKind.REPAIR, Run.status == RunStatus.QUEUED, Job.status == JobStatus.QUEUED)
        .order_by(Run.id.desc())
    )


def propose(session: Session, cause: Cause, detail: dict[str, Any]) -> Run | None:
    """Queue a repair of the published plan (or join the one waiting); None when there is nothing to repair."""
    settings = get_settings(session)
    current = r.published(session)
    if not settings.auto_repair or current is None:
        return None
    waiting = _waiting_repair(session)
    if waiting is not None:
        also = list((waiting.cause_detail or {}).get("also", []))
        also.append({"cause": cause.value, **detail})
        waiting.cause_detail = {**(waiting.cause_detail or {}), "also": also}
        session.flush()
        return waiting
    return r.create_run(
        session,
        actor=ACTOR,
        kind=RunKind.REPAIR,
        preset=settings.preset,
        base=current,
        cause=cause.value,
        cause_detail=detail,
        order_ids=None,
    )


def _planned_on(session: Session, machine_id: int, start: dt.datetime, end: dt.datetime | None) -> bool:
    """Whether the published plan has work on the machine that overlaps ``[start, end)`` (``end=None``: open-ended)."""
    on_machine = (s for s in r.published_plan(session) if s.machine_id == machine_id)
    return any(s.end > start and (end is None or s.start < end) for s in on_machine)


# --- event subscribers -------------------------------------------------------------------------------------------


def on_machine_down(session: Session, event: Event) -> None:
    payload = event.payload
    current = r.published(session)
    machine_id = payload.get("machine_id")
    if current is None or not isinstance(machine_id, int):
        return
    since = _moment(payload.get("since"), event.occurred_at)
    until = _moment(payload.get("expected_up_at"), None) if payload.get("expected_up_at") else None
    if _planned_on(session, machine_id, since, until):
        detail = {"machine_id": machine_id, "machine_code": payload.get("machine_code"), "since": since.isoformat()}
        detail["expected_up_at"] = until.isoformat() if until else None
        propose(session, Cause.MACHINE_DOWN, detail)


def on_machine_up(session: Session, event: Event) -> None:
    """Back earlier than the plan assumed: work may move back onto the machine."""
    payload = event.payload
    current = r.published(session)
    machine_id = payload.get("machine_id")
    if current is None or current.instance is None or current.origin is None or not isinstance(machine_id, int):
        return
    at = _moment(payload.get("since"), event.occurred_at)
    for machine in current.instance.get("machines", []):
        if machine["id"] != str(machine_id):
            continue
        for window in machine.get("unavailable") or []:
            label = window[2] if len(window) > 2 else ""
            if label.startswith("down:") and current.origin + dt.timedelta(minutes=window[1]) > at:
                propose(session, Cause.MACHINE_UP, {"machine_id": machine_id, "since": at.isoformat()})
                return


def on_maintenance_planned(session: Session, event: Event) -> None:
    payload = event.payload
    current = r.published(session)
    machine_id = payload.get("machine_id")
    if current is None or not isinstance(machine_id, int):
        return
    starts = _moment(payload.get("starts_at"), None)
    ends = _moment(payload.get("ends_at"), None)
    if starts is None or ends is None:
        return
    if _planned_on(session, machine_id, starts, ends):
        detail = {"machine_id": machine_id, "maintenance_id": payload.get("maintenance_id")}
        detail.update(starts_at=starts.isoformat(), ends_at=ends.isoformat())
        propose(session, Cause.MAINTENANCE, detail)


def on_order_released(session: Session, event: Event) -> None:
    payload = event.payload
    settings = get_settings(session)
    priority = payload.get("priority")
    if not isinstance(priority, int):
        found = [o for o in planning.open_orders(session) if o.order_id == payload.get("order_id")]
        priority = found[0].priority if found else None
    if priority is not None and priority <= settings.rush_priority:
        propose(session, Cause.RUSH_ORDER, {"order_id": payload.get("order_id"), "order_number": payload.get("number")})


# --- slippage ------------------------------------------------------------------------------------------------------


def slippage(session: Session, now: dt.datetime | None = None) -> tuple[int, int]:
    """(operations late against the published plan by more than the threshold, the largest delay in minutes)."""
    now = now or utcnow()
    threshold = dt.timedelta(minutes=get_settings(session).slippage_minutes)
    late, worst = 0, dt.timedelta(0)
    for order in planning.open_orders(session):
        for op in order.operations:
            if op.planned_start is None or op.planned_end is None:
                continue
            if op.status == "pending":
                delay = now - op.planned_start
            else:
                minutes = next((o.minutes for o in op.options if o.machine_id == op.machine_id), 0)
                delay = now + dt.timedelta(minutes=minutes) - op.planned_end
            if delay > threshold:
                late += 1
                worst = max(worst, delay)
    return late, int(worst.total_seconds() // 60)


def check_slippage(session: Session) -> Run | None:
    """Propose a repair when the plan slipped; at most one per threshold period, none while one is pending."""
    settings = get_settings(session)
    if not settings.auto_repair or r.published(session) is None:
        return None
    pending = session.scalar(
        sa.select(sa.func.count()).where(
            Run.kind == RunKind.REPAIR, Run.status.in_((RunStatus.QUEUED, RunStatus.PROPOSED))
        )
    )
    recent = session.scalar(
        sa.select(sa.func.count()).where(
            Run.cause == Cause.SLIPPAGE.value,
            Run.created_at > utcnow() - dt.timedelta(minutes=settings.slippage_minutes),
        )
    )
    if pending or recent:
        return None
    late, worst = slippage(session)
    if not late:
        return None
    return propose(session, Cause.SLIPPAGE, {"operations": late, "minutes": worst})


def scan_slippage() -> None:
    """Periodic job on the leader worker: every active factory with the app enabled, each in its own transaction."""
    with db.unit_of_work() as session:
        tenant_ids = list(
            session.scalars(
                sa.select(Tenant.id)
                .join(TenantApp, TenantApp.tenant_id == Tenant.id)
                .where(TenantApp.app == "scheduling", Tenant.status == TenantStatus.ACTIVE)
            )
        )
    for tenant_id in tenant_ids:
        try:
            with db.unit_of_work(tenant_id, actor=Actor(ACTOR)) as session:
                check_slippage(session)
        except Exception:
            log.exception("slippage check failed for tenant %s", tenant_id)


# --- when a proposal is ready -------------------------------------------------------------------------------------


def proposal_ready(session: Session, run: Run) -> None:
    """Announce a solved repair; older proposals give way to it; publish it when the factory says so."""
    for older in session.scalars(sa.select(Run).where(Run.status == RunStatus.PROPOSED, Run.id != run.id)):
        older.status = RunStatus.DISCARDED
    affected = [a["order_id"] for a in (run.kpis or {}).get("affected", [])]
    events.publish(
        session,
        "scheduling.repair_proposed",
        {"schedule_id": run.id, "version": run.number, "cause": run.cause, "affected_order_ids": affected},
    )
    settings = get_settings(session)
    current = r.published(session)
    if not settings.auto_publish_repairs or (current is not None and current.id != run.base_id):
        return  # a planner published another plan meanwhile: theirs stands until they decide
    from apps.scheduling.publishing import publish

    try:
        with session.begin_nested():
            publish(session, run, actor=ACTOR)
    except DomainError as error:
        log.warning("repair %s could not be published automatically: %s", run.id, error.message)
