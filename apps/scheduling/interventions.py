"""A planner's hand on a version: move an operation to another eligible machine or time, lock or unlock it, and
re-optimise the rest around the locks.

A move is checked for the moved operation itself, in words: the machine must be eligible, the start not in the
past, the operation (with the changeover before it) inside the machine's working time and clear of maintenance
and breakdowns, and clear of the work before and after it on that machine. A move that passes is kept and
locked; whatever it disturbs elsewhere (a later operation of the same order now starting too early) is listed
as a conflict by the engine's validator, and the version cannot be published until it is re-optimised.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.orders import planning
from apps.scheduling import kpis as k
from apps.scheduling import runs as r
from apps.scheduling import timeaxis as ta
from apps.scheduling.assembly import OCCUPIED, tenant_zone
from apps.scheduling.models import PUBLISHABLE, Run, RunKind, Slot
from apps.scheduling.solver import Assignment, Instance, Operation, Window, instance_from_dict, validate
from platform_core.db import utcnow
from platform_core.errors import Conflict, InvalidTransition, ValidationFailed
from platform_core.masterdata.models import Machine


def _editable(run: Run) -> None:
    if run.status not in PUBLISHABLE:
        raise InvalidTransition(
            _("Only a draft or a proposal can be changed; make a copy of this version to change it."),
            current_state=run.status.value,
        )
    if run.instance is None or run.origin is None:
        raise Conflict(_("This version has no schedule to change."), current_state=run.status.value)


def _operation(instance: Instance, operation_id: int) -> Operation:
    key = str(operation_id)
    for _job, op in instance.operations():
        if op.id == key:
            return op
    raise Conflict(_("This operation is not part of the version."))


def eligible_machines(run: Run, slot: Slot) -> dict[int, int]:
    """Machine id -> minutes, for the machines the slot's operation may run on."""
    if run.instance is None:
        return {}
    op = _operation(instance_from_dict(run.instance), slot.operation_id)
    return {int(mode.machine): mode.duration for mode in op.modes}


def _changeover(instance: Instance, machine_id: int, source: str | None, target: str | None) -> int:
    return instance.setups_for(instance.machine_by_id()[str(machine_id)]).time(source, target)


def _working(instance: Instance, machine_id: int) -> list[tuple[int, int]] | None:
    machine = instance.machine_by_id()[str(machine_id)]
    return None if machine.calendar is None else ta.merge((w.start, w.end) for w in machine.calendar)


def _inside_one(working, start: int, end: int) -> bool:
    return working is None or end <= start or any(a <= start and end <= b for a, b in working)


def _describe(slot: Slot) -> str:
    return f"{slot.order_number} / {slot.op_sequence} {slot.op_name}"


def check_move(session: Session, run: Run, slot: Slot, machine: Machine, start: dt.datetime) -> tuple[int, int, int]:
    """(start, end, setup) in minutes of the moved operation, or ValidationFailed naming what is wrong."""
    instance = instance_from_dict(run.instance)
    op = _operation(instance, slot.operation_id)
    duration = op.duration_on(str(machine.id))
    if duration is None:
        message = _("Machine %(machine)s cannot run this operation.", machine=machine.code)
        raise ValidationFailed(_("The move is not possible."), errors={"machine_id": [message]})
    zone = tenant_zone(session)

    def minute(moment: dt.datetime, up: bool = False) -> int:
        return ta.minutes_after(run.origin, moment, up=up)

    def clock(value: int) -> str:
        return ta.at_minute(run.origin, value).astimezone(zone).strftime("%m-%d %H:%M")

    errors: dict[str, list[str]] = defaultdict(list)
    s = minute(start)
    if s < max(instance.now, minute(utcnow())):
        errors["start"].append(_("The start is in the past or before the schedule starts."))
    others = [x for x in r.slots_of(session, run) if x.machine_id == machine.id and x.id != slot.id]  # by start
    before = next((x for x in reversed(others) if minute(x.start) <= s), None)
    after = next((x for x in others if minute(x.start) > s), None)
    source = before.family if before is not None else instance.machine_by_id()[str(machine.id)].initial_family
    setup = _changeover(instance, machine.id, source, op.family)
    working = _working(instance, machine.id)
    end = ta.advance(working, [], s, duration) if op.may_pause else s + duration
    if op.may_pause and working is not None and not any(a <= s < b for a, b in working):
        errors["start"].append(_("Machine %(machine)s does not work at that time.", machine=machine.code))
    elif op.may_pause and not _inside_one(working, s - setup, s):
        errors["start"].append(_("The changeover before it would fall outside working time."))
    elif not op.may_pause and not _inside_one(working, s - setup, end):
        errors["start"].append(
            _("The operation does not fit into one shift of %(machine)s from that time.", machine=machine.code)
        )
    for window in instance.machine_by_id()[str(machine.id)].unavailable:
        if window.start < end and s - setup < window.end:
            errors["start"].append(_unavailable(machine, window, clock))
    if before is not None and minute(before.end, up=True) > s - setup:
        errors["start"].append(_("It would overlap %(other)s on this machine.", other=_describe(before)))
    if after is not None and end + _changeover(instance, machine.id, op.family, after.family) > minute(after.start):
        errors["start"].append(_("It would overlap %(other)s on this machine.", other=_describe(after)))
    if errors:
        raise ValidationFailed(_("The move is not possible."), errors=dict(errors))
    return s, end, setup


def _unavailable(machine: Machine, window: Window, clock) -> str:
    kind, _sep, order_number = window.label.partition(":")
    if kind == OCCUPIED:
        return _(
            "It would overlap the published work of order %(order)s on %(machine)s.",
            order=order_number,
            machine=machine.code,
        )
    return _(
        "Machine %(machine)s is unavailable from %(start)s to %(end)s.",
        machine=machine.code,
        start=clock(window.start),
        end=clock(window.end),
    )


def _set_lock(run: Run, operation_id: int, lock: dict | None) -> None:
    """Record the lock in the version's instance too, so that its validation and re-optimisation honour it."""
    data = copy.deepcopy(run.instance)
    for job in data["jobs"]:
        for op in job["operations"]:
            if op["id"] == str(operation_id):
                op["lock"] = lock
    run.instance = data


def refresh(session: Session, run: Run) -> Run:
    """Renumber, recompute changeovers and KPIs after a change; list what the change left in conflict."""
    instance = instance_from_dict(run.instance)
    slots = r.slots_of(session, run)
    frozen = instance.frozen_assignments()
    by_machine: dict[int, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_machine[slot.machine_id].append(slot)
    for machine_id, placed in by_machine.items():
        previous: Slot | None = None
        for position, slot in enumerate(sorted(placed, key=lambda x: (x.start, x.end)), start=1):
            slot.sequence = position
            if str(slot.operation_id) in frozen and (previous is None or str(previous.operation_id) in frozen):
                slot.setup_minutes = 0
            else:
                source = previous.family if previous else instance.machine_by_id()[str(machine_id)].initial_family
                slot.setup_minutes = _changeover(instance, machine_id, source, slot.family)
            previous = slot
    assignments = [
        Assignment(
            str(s.operation_id),
            str(s.machine_id),
            ta.minutes_after(run.origin, s.start),
            ta.minutes_after(run.origin, s.end, up=True),
            s.setup_minutes,
        )
        for s in slots
    ]
    report = validate(instance, assignments)
    tardiness = report.kpis.tardiness_by_job
    for slot in slots:
        slot.late = tardiness.get(f"order-{slot.order_id}", 0) > 0
    figures = k.figures(report.kpis, run.origin, instance.now, {s.operation_id for s in slots}, instance.jobs)
    reference = r.published_plan(session)
    figures["moved"] = k.moved(slots, reference)
    figures["affected"] = k.affected_orders(slots, reference) if reference else []
    figures["conflicts"] = list(report.violations)
    run.kpis = figures
    session.flush()
    return run


def move(session: Session, run: Run, slot: Slot, *, machine: Machine, start: dt.datetime) -> Run:
    """Put an operation on ``machine`` at ``start`` and lock it there."""
    _editable(run)
    if slot.frozen:
        raise Conflict(_("Running work stays where it runs."), code="frozen")
    s, end, _setup = check_move(session, run, slot, machine, start)
    slot.machine_id = machine.id
    slot.start = ta.at_minute(run.origin, s)
    slot.end = ta.at_minute(run.origin, end)
    slot.locked = True
    _set_lock(run, slot.operation_id, {"machine": str(machine.id), "start": s})
    session.flush()
    return refresh(session, run)


def lock(session: Session, run: Run, slot: Slot) -> Run:
    """Pin an operation to its machine and start."""
    _editable(run)
    if slot.frozen:
        raise Conflict(_("Running work stays where it runs."), code="frozen")
    slot.locked = True
    _set_lock(
        run, slot.operation_id, {"machine": str(slot.machine_id), "start": ta.minutes_after(run.origin, slot.start)}
    )
    session.flush()
    return run


def unlock(session: Session, run: Run, slot: Slot) -> Run:
    _editable(run)
    if not slot.locked:
        raise Conflict(_("This operation is not locked."), code="not_locked")
    slot.locked = False
    _set_lock(run, slot.operation_id, None)
    session.flush()
    return refresh(session, run)


def reoptimise(session: Session, run: Run, *, actor: str) -> Run:
    """Queue a run that keeps the version's locks and re-plans everything else, as close to it as possible."""
    if run.instance is None:
        raise Conflict(_("Only a solved version can be re-optimised."), current_state=run.status.value)
    order_ids = run.order_ids
    if order_ids is not None:  # orders completed since drop out; the rest is planned again
        still_open = {o.order_id for o in planning.open_orders(session)}
        order_ids = [i for i in order_ids if i in still_open]
    return r.create_run(
        session,
        actor=actor,
        kind=RunKind.REOPTIMISE,
        base=run,
        preset=run.preset,
        time_limit_s=run.time_limit_s,
        order_ids=order_ids,
        note=_("Re-optimised from %(label)s", label=run.label),
    )
