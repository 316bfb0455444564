"""Independent schedule checker.

It recomputes everything from the Instance and the assignments and shares no code with the model, the
dispatching rules or the search (it reads the data classes' raw fields only), so a bug in the engine cannot hide
itself here. Every rule of the contract in ``model.py`` is checked; every violation becomes one sentence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from .model import Assignment, Instance, Job, Kpis, Machine, Operation, Solution, SolverConfig


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of a check: violations in words, the recomputed KPIs and every objective's value."""

    violations: tuple[str, ...]
    kpis: Kpis | None = None
    objective_values: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the schedule breaks no rule."""
        return not self.violations


def _setup_minutes(instance: Instance, machine: Machine, before: str | None, after: str | None) -> int:
    if before is None or after is None:
        return 0
    matrix = machine.setup_matrix or instance.setup_matrix
    if matrix is None:
        return 0
    if (before, after) in matrix.times:
        return matrix.times[(before, after)]
    return 0 if before == after else matrix.default


def _working(machine: Machine) -> list[tuple[int, int]] | None:
    """Merged working intervals, or None for a machine that always works."""
    if machine.calendar is None:
        return None
    spans = sorted((w.start, w.end) for w in machine.calendar if w.end > w.start)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _inside_one(working: list[tuple[int, int]] | None, start: int, end: int) -> bool:
    if working is None or end <= start:
        return True
    return any(a <= start and end <= b for a, b in working)


def _working_minutes(working: list[tuple[int, int]] | None, start: int, end: int) -> int:
    if working is None:
        return max(0, end - start)
    return sum(max(0, min(b, end) - max(a, start)) for a, b in working)


def _ceil_fraction(fraction: float, duration: int) -> int:
    return math.ceil(fraction * duration - 1e-9)


class _Checker:
    def __init__(self, instance: Instance, assignments: tuple[Assignment, ...], config: SolverConfig) -> None:
        self.instance = instance
        self.config = config
        self.violations: list[str] = []
        self.machines = {m.id: m for m in instance.machines}
        self.working = {m.id: _working(m) for m in instance.machines}
        self.op_of: dict[str, tuple[Job, Operation]] = {
            op.id: (job, op) for job in instance.jobs for op in job.operations
        }
        self.at: dict[str, Assignment] = {}
        for a in assignments:
            if a.operation not in self.op_of:
                self.fail(f"the schedule contains unknown operation {a.operation!r}")
            elif a.operation in self.at:
                self.fail(f"{self.name(a.operation)} is scheduled more than once")
            else:
                self.at[a.operation] = a
        self.frozen: dict[str, Assignment] = {}
        if instance.frozen_until is not None:
            self.frozen = {r.operation: r for r in instance.reference if r.start < instance.frozen_until}
        self.required_setup: dict[str, int] = {}

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def name(self, op_id: str) -> str:
        job, op = self.op_of[op_id]
        return f"operation {op.name or op.id} of {job.name or job.id}"

    def duration(self, op: Operation, machine: str) -> int | None:
        return next((mode.duration for mode in op.modes if mode.machine == machine), None)

    def chosen_duration(self, op: Operation) -> int:
        a = self.at[op.id]
        d = self.duration(op, a.machine)
        return d if d is not None else a.end - a.start

    def check_operations(self) -> None:
        horizon = self.instance.horizon
        for op_id, (job, op) in self.op_of.items():
            a = self.at.get(op_id)
            if a is None:
                self.fail(f"{self.name(op_id)} is not scheduled")
                continue
            if op_id in self.frozen:
                ref = self.frozen[op_id]
                if (a.machine, a.start, a.end) != (ref.machine, ref.start, ref.end):
                    self.fail(
                        f"{self.name(op_id)} is frozen at {ref.machine} {ref.start}-{ref.end} but was moved to "
                        f"{a.machine} {a.start}-{a.end}"
                    )
                continue
            if a.machine not in self.machines:
                self.fail(f"{self.name(op_id)} is on unknown machine {a.machine!r}")
                continue
            d = self.duration(op, a.machine)
            if d is None:
                self.fail(f"{self.name(op_id)} is on machine {a.machine}, which is not eligible for it")
                continue
            self.check_time(job, op, a, d)
            if op.lock is not None:
                if op.lock.machine is not None and a.machine != op.lock.machine:
                    self.fail(f"{self.name(op_id)} is locked to {op.lock.machine} but runs on {a.machine}")
                if op.lock.start is not None and a.start != op.lock.start:
                    self.fail(f"{self.name(op_id)} is locked to start at {op.lock.start} but starts at {a.start}")
            if horizon is not None and a.end > horizon:
                self.fail(f"{self.name(op_id)} ends at {a.end}, after the horizon {horizon}")

    def check_time(self, job: Job, op: Operation, a: Assignment, d: int) -> None:
        working = self.working[a.machine]
        if a.start < job.release:
            self.fail(
                f"{self.name(op.id)} starts at {a.start}, before the release of {job.name or job.id} ({job.release})"
            )
        if a.start - a.setup < self.instance.now:
            self.fail(
                f"{self.name(op.id)} (with its setup) starts at {a.start - a.setup}, before now ({self.instance.now})"
            )
        if not op.may_pause:
            if a.end - a.start != d:
                self.fail(f"{self.name(op.id)} lasts {a.end - a.start} min on {a.machine}, expected {d}")
            if not _inside_one(working, a.start - a.setup, a.end):
                self.fail(
                    f"{self.name(op.id)} with its setup ({a.start - a.setup}-{a.end}) does not fit inside one "
                    f"working interval of {a.machine}"
                )
        else:
            worked = _working_minutes(working, a.start, a.end)
            if worked != d:
                self.fail(f"{self.name(op.id)} gets {worked} working minutes on {a.machine}, expected {d}")
            if d > 0 and (
                _working_minutes(working, a.start, a.start + 1) != 1 or _working_minutes(working, a.end - 1, a.end) != 1
            ):
                self.fail(f"{self.name(op.id)} starts or ends in non-working time of {a.machine}")
            if not _inside_one(working, a.start - a.setup, a.start):
                self.fail(f"the setup of {self.name(op.id)} is not inside working time of {a.machine}")
        low = a.start - a.setup
        for w in self.machines[a.machine].unavailable:
            if a.end > low and low < w.end and w.start < a.end:
                self.fail(
                    f"{self.name(op.id)} ({low}-{a.end}) overlaps the unavailability {w.start}-{w.end}"
                    f"{' (' + w.label + ')' if w.label else ''} of {a.machine}"
                )

    def check_routing(self) -> None:
        for job in self.instance.jobs:
            for prev, op in zip(job.operations, job.operations[1:], strict=False):
                if prev.id not in self.at or op.id not in self.at:
                    continue
                if prev.id in self.frozen and op.id in self.frozen:
                    continue
                a, b = self.at[prev.id], self.at[op.id]
                lag = op.min_lag
                if op.transfer_fraction is None:
                    if b.start < a.end + lag:
                        self.fail(
                            f"{self.name(op.id)} starts at {b.start}, before {self.name(prev.id)} ends at "
                            f"{a.end} plus {lag} min"
                        )
                else:
                    first = a.start + _ceil_fraction(op.transfer_fraction, self.chosen_duration(prev)) + lag
                    last = a.end + _ceil_fraction(op.transfer_fraction, self.chosen_duration(op)) + lag
                    if b.start < first:
                        self.fail(
                            f"{self.name(op.id)} starts at {b.start}, before the first transfer batch from "
                            f"{self.name(prev.id)} is available at {first}"
                        )
                    if b.end < last:
                        self.fail(
                            f"{self.name(op.id)} ends at {b.end}, before the last transfer batch can be "
                            f"processed ({last})"
                        )
                if op.max_lag is not None and b.start > a.end + op.max_lag:
                    self.fail(
                        f"{self.name(op.id)} starts {b.start - a.end} min after {self.name(prev.id)} ends, "
                        f"more than the maximum {op.max_lag}"
                    )

    def check_machines(self) -> None:
        by_machine: dict[str, list[Assignment]] = defaultdict(list)
        for a in self.at.values():
            if a.machine in self.machines:
                by_machine[a.machine].append(a)
        for machine_id, placed in by_machine.items():
            machine = self.machines[machine_id]
            placed.sort(key=lambda x: (x.start, x.end))
            before: Assignment | None = None
            for a in placed:
                family = self.op_of[a.operation][1].family
                frozen = a.operation in self.frozen
                if frozen and (before is None or before.operation in self.frozen):
                    need = 0
                else:
                    source = self.op_of[before.operation][1].family if before else machine.initial_family
                    need = _setup_minutes(self.instance, machine, source, family)
                self.required_setup[a.operation] = need
                if a.setup != need:
                    self.fail(
                        f"{self.name(a.operation)} reports a setup of {a.setup} min on {machine_id}, "
                        f"the setup matrix requires {need}"
                    )
                if before is not None and a.start - need < before.end:
                    self.fail(
                        f"{self.name(a.operation)} overlaps {self.name(before.operation)} on {machine_id} "
                        f"(starts {a.start}, needs {need} min setup after {before.end})"
                    )
                before = a

    def kpis(self) -> tuple[Kpis, dict[str, int]]:
        completion = {}
        for job in self.instance.jobs:
            ends = [self.at[op.id].end for op in job.operations if op.id in self.at]
            completion[job.id] = max(ends, default=job.release)
        makespan = max((a.end for a in self.at.values()), default=0)
        tardy = {
            job.id: max(0, completion[job.id] - job.due) if job.due is not None else 0 for job in self.instance.jobs
        }
        weights = {job.id: job.weight for job in self.instance.jobs}
        late = [job for job in self.instance.jobs if tardy[job.id] > 0]
        busy: dict[str, int] = defaultdict(int)
        for a in self.at.values():
            if a.machine in self.machines:
                busy[a.machine] += _working_minutes(self.working[a.machine], a.start, a.end)
        utilization = {}
        for machine_id in self.machines:
            available = _working_minutes(self.working[machine_id], self.instance.now, makespan)
            utilization[machine_id] = round(busy[machine_id] / available, 4) if available > 0 else 0.0
        stability = 0
        for ref in self.instance.reference:
            a = self.at.get(ref.operation)
            if a is not None and ref.operation not in self.frozen:
                stability += abs(a.start - ref.start) + (
                    self.config.machine_change_cost if a.machine != ref.machine else 0
                )
        total_setup = sum(self.required_setup.values())
        kpis = Kpis(
            makespan=makespan,
            total_tardiness=sum(tardy.values()),
            weighted_tardiness=sum(weights[j] * t for j, t in tardy.items()),
            tardiness_by_job=tardy,
            late_jobs=len(late),
            total_setup=total_setup,
            flow_time=sum(completion[job.id] - job.release for job in self.instance.jobs),
            utilization=utilization,
        )
        values = {
            "makespan": makespan,
            "tardiness": kpis.total_tardiness,
            "weighted_tardiness": kpis.weighted_tardiness,
            "setup": total_setup,
            "late_jobs": len(late),
            "weighted_late_jobs": sum(job.weight for job in late),
            "flow_time": kpis.flow_time,
            "stability": stability,
        }
        return kpis, values


def validate(
    instance: Instance,
    schedule: Solution | tuple[Assignment, ...] | list[Assignment],
    config: SolverConfig | None = None,
) -> ValidationReport:
    """Check a schedule against every rule of the instance and recompute its KPIs and objective values.

    When a Solution is given, its reported objective values and objective are compared with the recomputed ones.
    """
    config = config or SolverConfig()
    assignments = tuple(schedule.assignments if isinstance(schedule, Solution) else schedule)
    checker = _Checker(instance, assignments, config)
    checker.check_operations()
    checker.check_routing()
    checker.check_machines()
    kpis, values = checker.kpis()
    if isinstance(schedule, Solution) and schedule.assignments:
        for name, reported in schedule.objective_values.items():
            if name in values and values[name] != reported:
                checker.fail(f"objective {name} is reported as {reported} but the schedule gives {values[name]}")
        if schedule.objective is not None and config.combine.value == "weighted":
            expected = sum(t.weight * values[t.kind.value] for t in config.objectives)
            if abs(expected - schedule.objective) > 1e-6:
                checker.fail(f"objective is reported as {schedule.objective} but the schedule gives {expected}")
    return ValidationReport(tuple(checker.violations), kpis, values)
