"""From the factory's data to the engine's ``Instance``: what is left to do, where it may run, when machines work.

Sources, each through the interface its owner publishes for it:

* the orders app's planning service (``apps.orders.planning``): open orders with their remaining operations,
  quantities still to make (completed quantities subtracted), eligible machines with minutes, what has started;
* master data: active machines and their working intervals from the shift calendars (DST-safe);
* the equipment app's availability service, when the factory has the app enabled: planned maintenance and
  current breakdowns;
* this app: changeover times between product families, the settings, the reference schedule (the published plan,
  also when a draft is re-optimised) and the planner's locks (those of the version a run starts from).

Started operations stay where they are: the first one running on a machine is frozen at its actual machine and
start and ends when its remaining quantity is done; any other started one (paused there) is locked to that
machine. Published work starting inside the frozen horizon keeps its place too, when nothing makes that
impossible (its machine stopped, work before it was not frozen) and no planner locked it elsewhere. A run for a
selection of orders leaves the others where the published plan has them: their slots are time their machines are
taken (``planned:`` windows).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from apps.orders import planning
from apps.scheduling import problems as pb
from apps.scheduling import timeaxis as ta
from apps.scheduling.models import SchedulingSettings, Slot
from apps.scheduling.presets import weight_of
from apps.scheduling.settings import get_settings, setup_matrix_codes
from apps.scheduling.solver import Assignment, Instance, Job, Lock, Machine, Mode, Operation, SetupMatrix, Window
from platform_core.db import current_tenant_id, utcnow
from platform_core.masterdata import calendar as cal
from platform_core.masterdata.models import Machine as MachineRow
from platform_core.tenants.models import Tenant, TenantApp

STARTED = ("running", "paused")
OCCUPIED = "planned"  # label kind of the machine time other orders' published work holds


@dataclass(frozen=True)
class OpMeta:
    """What a slot keeps about an operation besides its place in the schedule."""

    operation_id: int
    order_id: int
    order_number: str
    product_code: str
    family: str | None
    sequence: int
    name: str
    quantity: int
    due_date: dt.date | None
    priority: int
    status: str


@dataclass(frozen=True)
class PlannerLock:
    """A planner's pin of an operation to a machine, and to a start when given."""

    machine_id: int
    start: dt.datetime | None = None


@dataclass
class Assembled:
    instance: Instance
    origin: dt.datetime  # minute 0
    horizon_start: dt.datetime  # the instance's ``now``
    ops: dict[str, OpMeta]
    problems: list[dict] = field(default_factory=list)
    scheduled_orders: set[int] = field(default_factory=set)  # orders whose remaining work is in the instance
    has_reference: bool = False

    def minute(self, moment: dt.datetime, *, up: bool = False) -> int:
        return ta.minutes_after(self.origin, moment, up=up)

    def moment(self, minute: int) -> dt.datetime:
        return ta.at_minute(self.origin, minute)


def equipment_enabled(session: Session) -> bool:
    tenant_id = current_tenant_id(session)
    found = session.scalar(
        sa.select(TenantApp.app).where(TenantApp.tenant_id == tenant_id, TenantApp.app == "equipment")
    )
    return found is not None


def tenant_zone(session: Session) -> ZoneInfo:
    return ZoneInfo(session.get(Tenant, current_tenant_id(session)).timezone)


def due_moment(due: dt.date, zone: ZoneInfo) -> dt.datetime:
    """An order due on a day is due by the end of that day in the factory's time."""
    return dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.UTC)


class _Builder:
    def __init__(self, session: Session, settings: SchedulingSettings, horizon_start: dt.datetime) -> None:
        self.session = session
        self.settings = settings
        self.zone = tenant_zone(session)
        self.horizon_start = ta.floor_minute(horizon_start)
        self.horizon_end = self.horizon_start + dt.timedelta(days=settings.horizon_days)
        self.problems: list[dict] = []
        self.origin = self.horizon_start
        self.now = 0
        self.machines: dict[int, MachineRow] = {}
        self.working: dict[int, list[tuple[int, int]] | None] = {}
        self.blocked: dict[int, list[Window]] = defaultdict(list)

    # --- time --------------------------------------------------------------------------------------------------
    def minute(self, moment: dt.datetime, *, up: bool = False) -> int:
        return ta.minutes_after(self.origin, moment, up=up)

    def set_origin(self, orders: list[planning.OpenOrder]) -> None:
        """Minute 0 is the horizon start, or the earliest start of work still running, if earlier."""
        starts = [op.started_at for o in orders for op in o.operations if op.status in STARTED and op.started_at]
        self.origin = min([self.horizon_start, *(ta.floor_minute(s) for s in starts)])
        self.now = self.minute(self.horizon_start)

    # --- machines ----------------------------------------------------------------------------------------------
    def load_machines(self, orders: list[planning.OpenOrder]) -> None:
        rows = self.session.scalars(
            sa.select(MachineRow)
            .where(MachineRow.active)
            .options(selectinload(MachineRow.work_center), selectinload(MachineRow.calendar))
            .order_by(MachineRow.code)
        ).all()
        self.machines = {m.id: m for m in rows}
        running_on = {op.machine_id for o in orders for op in o.operations if op.status in STARTED and op.machine_id}
        for machine_id in running_on - set(self.machines):  # deactivated while work still runs on it
            machine = self.session.get(MachineRow, machine_id)
            if machine is not None:
                self.machines[machine.id] = machine
        calendars: dict[int, list[tuple[int, int]]] = {}
        for machine in self.machines.values():
            calendar = cal.calendar_of(self.session, machine)
            if calendar is None:
                self.working[machine.id] = None
                self.problems.append(
                    pb.problem("no_calendar", pb.WARNING, machine_id=machine.id, machine_code=machine.code)
                )
                continue
            if calendar.id not in calendars:
                intervals = cal.calendar_intervals(self.session, calendar, self.origin, self.horizon_end)
                calendars[calendar.id] = ta.merge((self.minute(a, up=True), self.minute(b)) for a, b in intervals)
            self.working[machine.id] = calendars[calendar.id]

    def load_unavailability(self) -> None:
        if not equipment_enabled(self.session):
            self.problems.append(pb.problem("equipment_off", pb.INFO))
            return
        from apps.equipment import availability  # only when the factory has the app

        now = utcnow()
        for window in availability.unavailability(self.session, self.origin, self.horizon_end, list(self.machines)):
            end = window.end
            if end is None:
                end = max(now, self.horizon_start) + dt.timedelta(minutes=self.settings.unknown_down_minutes)
                self.problems.append(
                    pb.problem(
                        "down_unknown_end",
                        pb.WARNING,
                        machine_id=window.machine_id,
                        machine_code=self.machines[window.machine_id].code,
                        until=end.astimezone(self.zone).strftime("%Y-%m-%d %H:%M"),
                    )
                )
            start, stop = max(0, self.minute(window.start)), self.minute(end, up=True)
            if stop > start:
                label = f"{window.kind}:{window.reference}"
                self.blocked[window.machine_id].append(Window(start, stop, label))

    def engine_machines(self) -> tuple[Machine, ...]:
        result = []
        for machine in self.machines.values():
            working = self.working[machine.id]
            result.append(
                Machine(
                    id=str(machine.id),
                    name=machine.code,
                    group=machine.work_center.code,
                    calendar=None if working is None else tuple(Window(a, b) for a, b in working),
                    unavailable=tuple(sorted(self.blocked[machine.id], key=lambda w: w.start)),
                )
            )
        return tuple(result)

    def finish_after(self, machine_id: int, start: int, minutes: int) -> int:
        """When ``minutes`` of work starting at ``start`` on the machine are done (calendar and stops skipped)."""
        blocked = [(w.start, w.end) for w in self.blocked[machine_id]]
        return ta.advance(self.working.get(machine_id), blocked, start, minutes)

    def available(self, machine_id: int, start: int, end: int) -> bool:
        return all(w.end <= start or w.start >= end for w in self.blocked[machine_id])

    def occupy(self, slot: Slot, order_number: str) -> bool:
        """Take the machine for the time a published slot of an order left out of the run holds it."""
        if slot.machine_id not in self.machines:
            return False
        start, end = max(0, self.minute(slot.start)), self.minute(slot.end, up=True)
        if end <= max(start, self.now):
            return False
        self.blocked[slot.machine_id].append(Window(start, end, f"{OCCUPIED}:{order_number}"))
        return True


def _minutes(op: planning.RemainingOperation, machine_id: int) -> int:
    for option in op.options:
        if option.machine_id == machine_id:
            return option.minutes
    return math.ceil(op.remaining_quantity * op.seconds_per_unit / 60 - 1e-9)


def assemble(
    session: Session,
    *,
    horizon_start: dt.datetime,
    order_ids: list[int] | None = None,
    reference: list[Slot] | None = None,
    locks: dict[int, PlannerLock] | None = None,
    settings: SchedulingSettings | None = None,
) -> Assembled:
    """The engine instance for the factory's open orders (or the chosen ones) from ``horizon_start`` on."""
    settings = settings or get_settings(session)
    builder = _Builder(session, settings, horizon_start)
    orders = planning.open_orders(session)
    builder.set_origin(orders)
    builder.load_machines(orders)
    builder.load_unavailability()
    chosen = None if order_ids is None else set(order_ids)
    if chosen is not None:
        open_ids = {o.order_id for o in orders}
        for missing in sorted(chosen - open_ids):
            builder.problems.append(pb.problem("not_open", pb.WARNING, order_id=missing))
    locks = dict(locks or {})
    frozen, frozen_ops = _frozen_running(builder, orders)
    reference_slots = {s.operation_id: s for s in reference or []}
    jobs: list[Job] = []
    metas: dict[str, OpMeta] = {}
    scheduled: set[int] = set()
    for order in orders:
        selected = chosen is None or order.order_id in chosen
        ops = order.operations if selected else tuple(o for o in order.operations if o.operation_id in frozen_ops)
        if not ops:
            continue
        job = _job(builder, order, ops, frozen_ops, locks, metas)
        if job is None:  # left out; what already runs of it still occupies its machine
            running = tuple(o for o in order.operations if o.operation_id in frozen_ops)
            if running:
                jobs.append(_job(builder, order, running, frozen_ops, locks, metas))
            continue
        jobs.append(job)
        if selected:
            scheduled.add(order.order_id)
            _order_problems(builder, order)
    occupied = _occupy_published(builder, orders, chosen, reference_slots, frozen_ops)
    unlocked = {op_id: slot for op_id, slot in reference_slots.items() if op_id not in locks}  # a lock is obeyed
    frozen.update(_frozen_horizon(builder, orders, unlocked, frozen, metas, occupied))
    references = list(frozen.values())
    for op_id, slot in reference_slots.items():
        key = str(op_id)
        if key in metas and key not in frozen and slot.machine_id in builder.machines:
            start = builder.minute(slot.start)
            if start >= builder.now + max(1, settings.frozen_minutes):  # earlier ones would count as frozen
                end = max(start + 1, builder.minute(slot.end, up=True))
                references.append(Assignment(key, str(slot.machine_id), start, end, slot.setup_minutes))
    matrix = SetupMatrix(times=setup_matrix_codes(session), default=settings.changeover_minutes)
    instance = Instance(
        jobs=tuple(jobs),
        machines=builder.engine_machines(),
        setup_matrix=matrix,
        horizon=builder.minute(builder.horizon_end),
        now=builder.now,
        frozen_until=builder.now + max(1, settings.frozen_minutes),
        reference=tuple(sorted(references, key=lambda a: (a.start, a.operation))),
        name="schedule",
    )
    return Assembled(
        instance=instance,
        origin=builder.origin,
        horizon_start=builder.horizon_start,
        ops=metas,
        problems=builder.problems,
        scheduled_orders=scheduled,
        has_reference=bool(reference_slots),
    )


def _frozen_running(builder: _Builder, orders: list[planning.OpenOrder]) -> tuple[dict[str, Assignment], set[int]]:
    """Work that has started: the first one running on each machine is frozen where it runs."""
    by_machine: dict[int, list[planning.RemainingOperation]] = defaultdict(list)
    for order in orders:
        for op in order.operations:
            if op.status in STARTED and op.machine_id in builder.machines and op.started_at is not None:
                by_machine[op.machine_id].append(op)
    frozen: dict[str, Assignment] = {}
    for machine_id, started in by_machine.items():
        started.sort(key=lambda op: (op.status != "running", op.started_at, op.operation_id))
        op = started[0]
        start = builder.minute(op.started_at)
        end = builder.finish_after(machine_id, max(start, builder.now), _minutes(op, machine_id))
        end = max(end, start + 1, builder.now)
        frozen[str(op.operation_id)] = Assignment(str(op.operation_id), str(machine_id), start, end, 0)
    return frozen, {int(k) for k in frozen}


def _occupy_published(
    builder: _Builder,
    orders: list[planning.OpenOrder],
    chosen: set[int] | None,
    reference: dict[int, Slot],
    frozen_ops: set[int],
) -> set[int]:
    """Operations of open orders the run leaves out keep their published place; their ids are returned."""
    if chosen is None:
        return set()
    occupied = set()
    for order in orders:
        if order.order_id in chosen:
            continue
        for op in order.operations:
            slot = reference.get(op.operation_id)
            if op.operation_id not in frozen_ops and slot is not None and builder.occupy(slot, order.number):
                occupied.add(op.operation_id)
    return occupied


def _job(builder, order, ops, frozen_ops: set[int], locks: dict[int, PlannerLock], metas: dict) -> Job | None:
    """The order's remaining operations as an engine job, or None when one of them cannot run anywhere."""
    settings = builder.settings
    engine_ops = []
    previous: planning.RemainingOperation | None = None
    for op in ops:
        started_here = op.status in STARTED and op.machine_id in builder.machines
        machine_ids = [o.machine_id for o in op.options if o.machine_id in builder.machines]
        if started_here and op.machine_id not in machine_ids:
            machine_ids.append(op.machine_id)
        if not machine_ids:
            builder.problems.append(
                pb.problem(
                    "no_machine",
                    pb.ERROR,
                    order_id=order.order_id,
                    order_number=order.number,
                    sequence=op.sequence,
                    name=op.name,
                )
            )
            return None
        modes = tuple(Mode(str(m), max(1, _minutes(op, m))) for m in machine_ids)
        lock = None
        if op.operation_id not in frozen_ops:
            if started_here:
                lock = Lock(machine=str(op.machine_id))  # paused there: it resumes there
            elif op.operation_id in locks:
                lock = _engine_lock(builder, order, op, locks[op.operation_id], machine_ids)
        transfer = None
        if previous is not None and previous.allow_partial and previous.remaining_quantity > 0:
            transfer = min(1.0, max(1, settings.transfer_batch) / previous.remaining_quantity)
        engine_ops.append(
            Operation(
                id=str(op.operation_id),
                modes=modes,
                name=str(op.sequence),
                family=order.family_code,
                may_pause=settings.allow_pause,
                transfer_fraction=transfer,
                lock=lock,
            )
        )
        metas[str(op.operation_id)] = OpMeta(
            operation_id=op.operation_id,
            order_id=order.order_id,
            order_number=order.number,
            product_code=order.product_code,
            family=order.family_code,
            sequence=op.sequence,
            name=op.name,
            quantity=op.remaining_quantity,
            due_date=order.due_date,
            priority=order.priority,
            status=op.status,
        )
        previous = op
    release = 0
    if order.released_at is not None:
        release = max(0, builder.minute(order.released_at, up=True))
    due = None
    if order.due_date is not None:
        due = builder.minute(due_moment(order.due_date, builder.zone))
    return Job(
        id=f"order-{order.order_id}",
        operations=tuple(engine_ops),
        release=release if release > builder.now else 0,
        due=due,
        weight=weight_of(order.priority),
        name=order.number,
    )


def _engine_lock(builder, order, op, lock: PlannerLock, machine_ids: list[int]) -> Lock | None:
    if lock.machine_id not in machine_ids:
        builder.problems.append(
            pb.problem(
                "lock_dropped",
                pb.WARNING,
                order_id=order.order_id,
                order_number=order.number,
                sequence=op.sequence,
                reason="machine",
            )
        )
        return None
    start = None
    if lock.start is not None:
        start = builder.minute(lock.start)
        if start < builder.now:
            builder.problems.append(
                pb.problem(
                    "lock_dropped",
                    pb.INFO,
                    order_id=order.order_id,
                    order_number=order.number,
                    sequence=op.sequence,
                    reason="past",
                )
            )
            start = None
    return Lock(machine=str(lock.machine_id), start=start)


def _order_problems(builder: _Builder, order: planning.OpenOrder) -> None:
    if order.due_date is None:
        builder.problems.append(pb.problem("no_due_date", pb.INFO, order_id=order.order_id, order_number=order.number))
    elif due_moment(order.due_date, builder.zone) <= builder.horizon_start:
        builder.problems.append(
            pb.problem(
                "due_past",
                pb.WARNING,
                order_id=order.order_id,
                order_number=order.number,
                due_date=order.due_date.isoformat(),
            )
        )


def _frozen_horizon(
    builder: _Builder,
    orders: list[planning.OpenOrder],
    reference: dict[int, Slot],
    running: dict[str, Assignment],
    metas: dict[str, OpMeta],
    occupied: set[int],
) -> dict[str, Assignment]:
    """Published work that starts within the frozen horizon keeps its machine and start.

    Only when that is still possible: its machine works and is free then, and everything before it in its order
    and on its machine is frozen too, or holds its published place outside the run (otherwise the rest of the
    schedule could not be planned around it).
    """
    minutes = builder.settings.frozen_minutes
    if minutes <= 0 or not reference:
        return {}
    until = builder.now + minutes
    frozen_now = {int(k) for k in running} | occupied
    result: dict[str, Assignment] = {}
    candidates = sorted(
        (s for s in reference.values() if str(s.operation_id) in metas and s.operation_id not in frozen_now),
        key=lambda s: s.start,
    )
    order_ops = {o.order_id: [op.operation_id for op in o.operations] for o in orders}
    op_lookup = {op.operation_id: op for o in orders for op in o.operations}
    machine_slots: dict[int, list[Slot]] = defaultdict(list)
    for slot in sorted(reference.values(), key=lambda s: s.start):
        if slot.operation_id in op_lookup:
            machine_slots[slot.machine_id].append(slot)
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a in running.values():
        taken[int(a.machine)].append((a.start, a.end))
    for slot in candidates:
        start = builder.minute(slot.start)
        if not builder.now <= start < until or slot.machine_id not in builder.machines:
            continue
        op = op_lookup[slot.operation_id]
        if op.status in STARTED or slot.machine_id not in {o.machine_id for o in op.options}:
            continue
        before_in_order = order_ops[metas[str(slot.operation_id)].order_id]
        earlier = before_in_order[: before_in_order.index(slot.operation_id)]
        earlier_on_machine = [s.operation_id for s in machine_slots[slot.machine_id] if s.start < slot.start]
        if any(e not in frozen_now for e in earlier + earlier_on_machine):
            continue
        end = builder.finish_after(slot.machine_id, start, _minutes(op, slot.machine_id))
        end = max(end, start + 1)
        if not builder.available(slot.machine_id, start, end):
            continue
        if any(a < end and start < b for a, b in taken[slot.machine_id]):
            continue
        result[str(slot.operation_id)] = Assignment(
            str(slot.operation_id), str(slot.machine_id), start, end, slot.setup_minutes
        )
        taken[slot.machine_id].append((start, end))
        frozen_now.add(slot.operation_id)
    return result
