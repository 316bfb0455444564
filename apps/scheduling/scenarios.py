"""Demo scenarios the planner's app plays on the demo factory (``mes demo --scenario NAME``).

``breakdown``: the day of a breakdown, through the apps' own services and events, each step committed as it
would be in production: a plan is solved and published; the machine with the next planned work breaks down (as
an operator's tablet reports it); the equipment app's event makes this app propose a repair, which is solved and
published; the tablets' dispatch lists follow it; the machine comes back and the shift's OEE shows the stop.
Solving runs here, as a worker would run it, so the scenario needs no ``mes worker`` beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from apps.scheduling import publishing, runs
from apps.scheduling.models import Run, RunKind, RunStatus, Slot
from platform_core import jobs
from platform_core.db import Actor, db, utcnow
from platform_core.masterdata.models import Machine, ReasonCode, ReasonKind

PLANNER = Actor("scenario:planner")
OPERATOR = Actor("scenario:operator")
WORKER = "scenario"
DOWN_HOURS = 3


def _solve_queued() -> None:
    """Run the queued solve jobs as a worker does."""
    while (claimed := jobs.claim(WORKER, {runs.SOLVE})) is not None:
        jobs.run(current_app._get_current_object(), claimed, WORKER)


def _next_planned_slot(session) -> Slot:
    plan = runs.published_plan(session)
    upcoming = [s for s in plan if not s.frozen and s.start > utcnow()]
    if not upcoming:
        raise RuntimeError("the published plan has no work ahead to disturb")
    return min(upcoming, key=lambda s: s.start)


def breakdown(tenant_id: int, say: Callable[[str], None], time_limit_s: int = 10) -> None:
    """Plan → breakdown → repair proposal → publish → dispatch lists → back up → OEE."""
    from apps.equipment import oee, states
    from apps.orders import dispatch

    with db.unit_of_work(tenant_id, actor=PLANNER) as session:
        run_id = runs.create_run(session, actor=PLANNER.label, time_limit_s=time_limit_s).id
    say(f"1. The planner queues a run of every open order ({time_limit_s} s to solve) …")
    _solve_queued()
    with db.unit_of_work(tenant_id, actor=PLANNER) as session:
        run = session.get(Run, run_id)
        if run.status is not RunStatus.DRAFT:
            raise RuntimeError(f"the run ended {run.status.value}: {run.error or run.explanation}")
        publishing.publish(session, run, actor=PLANNER.label)
        slot = _next_planned_slot(session)
        machine_id, machine_code, order_number = slot.machine_id, slot.machine.code, slot.order_number
        # down at least until two hours into that work, so the breakdown really disturbs the plan
        back_at = max(utcnow() + dt.timedelta(hours=DOWN_HOURS), slot.start + dt.timedelta(hours=2))
        say(f"   published {run.label}: {len(run.slots)} operations; next on {machine_code}: {order_number}")

    with db.unit_of_work(tenant_id, actor=OPERATOR) as session:
        machine = session.get(Machine, machine_id)
        reason = session.scalar(
            sa.select(ReasonCode).where(ReasonCode.kind == ReasonKind.DOWNTIME, ReasonCode.code == "SPINDLE")
        )
        states.report_down(
            session,
            machine,
            reason_id=reason.id if reason else None,
            expected_up_at=back_at,
            note="scenario: breakdown",
        )
    say(f"2. The operator at {machine_code} taps 'machine down', expected back at {back_at:%Y-%m-%d %H:%M} UTC …")

    _solve_queued()  # the equipment app's event queued a repair run
    with db.unit_of_work(tenant_id, actor=PLANNER) as session:
        proposals = [r for r in runs.pending_proposals(session) if r.kind is RunKind.REPAIR]
        if not proposals:
            raise RuntimeError("no repair was proposed (is auto repair off in the scheduling settings?)")
        proposal = proposals[0]
        affected = (proposal.kpis or {}).get("affected", [])
        say(f"3. Repair proposed: {proposal.label}; orders finishing at another time: {len(affected)}")
        for row in affected:
            late = " — now late" if row.get("newly_late") else ""
            say(f"   {row['order_number']}: {row['before'] or 'new'} → {row['after']}{late}")
        publishing.publish(session, proposal, actor=PLANNER.label)
        say(f"4. The planner publishes {proposal.label}.")
        affected_ids = {row["order_id"] for row in affected}
        followed = sorted({s.machine_id for s in proposal.slots if s.order_id in affected_ids})
    with db.unit_of_work(tenant_id, actor=OPERATOR) as session:
        for other_id in followed[:3]:  # the tablets at the machines the affected orders now run on
            other = session.get(Machine, other_id)
            listed = [item.operation.order.number for item in dispatch.for_machine(session, other)[:5]]
            say(f"   dispatch list of {other.code}: {', '.join(listed) or '(empty)'}")

    with db.unit_of_work(tenant_id, actor=OPERATOR) as session:
        machine = session.get(Machine, machine_id)
        states.report_up(session, machine)
        today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        _groups, overall = oee.report(session, [machine], today - dt.timedelta(days=1), today + dt.timedelta(days=1))
        figures = overall.summary()
        say(
            f"5. {machine_code} is back up. OEE of its shifts yesterday and today: availability "
            f"{_percent(figures.get('availability'))}, breakdowns {figures['losses_min'].get('breakdowns', 0):.0f} min."
        )
    _solve_queued()  # an early return may queue one more repair: solved, left as a proposal for the planner


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


SCENARIOS = {"breakdown": breakdown}
