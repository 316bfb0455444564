"""Compile an Instance into index-based tables shared by the CP-SAT model, the dispatching rules and the LNS.

The independent validator (``validate.py``) deliberately does not use this module.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from .model import Assignment, Instance, Job, Machine, Operation, SetupMatrix

ALWAYS = (-(10**9), 10**9)  # the single working window of a machine without calendar


def merge_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort windows and merge overlapping or touching ones."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass
class MachineData:
    """A machine with merged working windows, sorted unavailability and its setup rules."""

    index: int
    machine: Machine
    windows: list[tuple[int, int]]
    unavailable: list[tuple[int, int]]
    setups: SetupMatrix
    has_calendar: bool
    candidates: list[tuple[int, int]] = field(default_factory=list)  # (operation index, duration)
    needs_setups: bool = False

    def __post_init__(self) -> None:
        self._window_ends = [end for _, end in self.windows]
        self._unavailable_ends = [end for _, end in self.unavailable]

    @property
    def id(self) -> str:
        """Machine id."""
        return self.machine.id

    def setup(self, from_family: str | None, to_family: str | None) -> int:
        """Setup minutes between two families on this machine."""
        return self.setups.time(from_family, to_family)

    def window_at(self, t: int) -> int:
        """Index of the first working window ending after ``t`` (len(windows) if none)."""
        return bisect.bisect_right(self._window_ends, t)

    def walk(self, start: int, duration: int) -> int | None:
        """End of ``duration`` working minutes started at ``start`` (which lies in working time)."""
        k = self.window_at(start)
        remaining, t = duration, start
        while k < len(self.windows):
            a, b = self.windows[k]
            t = max(t, a)
            take = min(b - t, remaining)
            remaining -= take
            if remaining == 0:
                return t + take
            k += 1
        return None

    def first_unavailable_overlap(self, start: int, end: int) -> tuple[int, int] | None:
        """First unavailability window overlapping ``[start, end)``."""
        k = bisect.bisect_right(self._unavailable_ends, start)
        if k < len(self.unavailable):
            u = self.unavailable[k]
            if u[0] < end:
                return u
        return None

    def fit(self, earliest: int, setup: int, duration: int, may_pause: bool) -> tuple[int, int] | None:
        """Earliest ``(start, end)`` with start >= earliest, the setup right before start in working time, the
        processing fitting the calendar, and nothing overlapping an unavailability window."""
        t = earliest
        for _ in range(10000):
            k = self.window_at(t)
            if k >= len(self.windows):
                return None
            a, b = self.windows[k]
            start = max(t, a + setup)
            if not may_pause:
                if start + duration > b or (start >= b and duration > 0):
                    t = b
                    continue
                end = start + duration
            else:
                if start >= b:
                    t = b
                    continue
                end = self.walk(start, duration)
                if end is None:
                    return None
            low = start - setup
            blocked = self.first_unavailable_overlap(low, end) if end > low else None
            if blocked is not None:
                t = blocked[1] + setup
                continue
            return start, end
        return None

    def nonworking(self, low: int, high: int) -> list[tuple[int, int]]:
        """Non-working intervals of the calendar inside ``[low, high)``."""
        gaps, cursor = [], low
        for a, b in self.windows:
            if a > cursor:
                gaps.append((cursor, min(a, high)))
            cursor = max(cursor, b)
            if cursor >= high:
                break
        if cursor < high:
            gaps.append((cursor, high))
        return [(s, e) for s, e in gaps if e > s]


@dataclass
class OpData:
    """An operation with its position in the job and its candidate modes as (machine index, duration)."""

    index: int
    job_index: int
    position: int
    job: Job
    op: Operation
    modes: list[tuple[int, int]]
    pred: int | None = None
    succ: int | None = None

    @property
    def family(self) -> str | None:
        """Product family."""
        return self.op.family

    @property
    def min_duration(self) -> int:
        """Shortest duration over the modes."""
        return min(d for _, d in self.modes) if self.modes else 0

    def describe(self) -> str:
        """Planner wording, e.g. 'operation 30 of WO-0012'."""
        return f"operation {self.op.label} of {self.job.label}"


def first_batch(fraction: float, duration: int) -> int:
    """Minutes of the transfer-batch offset for an overlapping successor."""
    return math.ceil(fraction * duration - 1e-9)


@dataclass
class Problem:
    """The compiled instance."""

    instance: Instance
    ops: list[OpData]
    jobs: list[list[int]]
    machines: list[MachineData]
    horizon: int
    frozen: dict[int, tuple[int, int, int]]  # op -> (machine, start, end), facts from the reference
    reference: dict[int, tuple[int, int, int]]  # op -> (machine, start, end) for all reference assignments
    op_index: dict[str, int]
    machine_index: dict[str, int]
    heads: list[int] = field(default_factory=list)
    tails: list[int] = field(default_factory=list)

    @property
    def now(self) -> int:
        """Earliest start of non-frozen operations."""
        return self.instance.now

    def to_assignments(self, schedule: dict[int, tuple[int, int, int, int]]) -> tuple[Assignment, ...]:
        """Convert {op: (machine, start, end, setup)} into Assignment records in instance order."""
        return tuple(
            Assignment(self.ops[o].op.id, self.machines[m].id, s, e, su)
            for o, (m, s, e, su) in sorted(schedule.items())
        )

    def from_assignments(self, assignments) -> dict[int, tuple[int, int, int, int]]:
        """Convert Assignment records (skipping unknown ids) into {op: (machine, start, end, setup)}."""
        out = {}
        for a in assignments:
            o, m = self.op_index.get(a.operation), self.machine_index.get(a.machine)
            if o is not None and m is not None:
                out[o] = (m, a.start, a.end, a.setup)
        return out


def compile_instance(instance: Instance) -> Problem:
    """Index the instance, check references between its parts, derive the horizon, heads and tails."""
    machine_index: dict[str, int] = {}
    machines: list[MachineData] = []
    for machine in instance.machines:
        if machine.id in machine_index:
            raise ValueError(f"duplicate machine id {machine.id!r}")
        machine_index[machine.id] = len(machines)
        windows = (
            merge_windows([(w.start, w.end) for w in machine.calendar]) if machine.calendar is not None else [ALWAYS]
        )
        machines.append(
            MachineData(
                len(machines),
                machine,
                windows,
                merge_windows([(w.start, w.end) for w in machine.unavailable]),
                instance.setups_for(machine),
                machine.calendar is not None,
            )
        )
    ops: list[OpData] = []
    jobs: list[list[int]] = []
    op_index: dict[str, int] = {}
    job_ids: set[str] = set()
    for j, job in enumerate(instance.jobs):
        if job.id in job_ids:
            raise ValueError(f"duplicate job id {job.id!r}")
        job_ids.add(job.id)
        chain = []
        for position, op in enumerate(job.operations):
            if op.id in op_index:
                raise ValueError(f"duplicate operation id {op.id!r}")
            modes = []
            for mode in op.modes:
                if mode.machine not in machine_index:
                    raise ValueError(f"operation {op.id!r} refers to unknown machine {mode.machine!r}")
                modes.append((machine_index[mode.machine], mode.duration))
            if op.transfer_fraction is not None and not 0 < op.transfer_fraction <= 1:
                raise ValueError(f"operation {op.id!r}: transfer_fraction must be in (0, 1]")
            data = OpData(len(ops), j, position, job, op, modes)
            if chain:
                data.pred = chain[-1]
                ops[chain[-1]].succ = data.index
            op_index[op.id] = data.index
            chain.append(data.index)
            ops.append(data)
        jobs.append(chain)
    reference: dict[int, tuple[int, int, int]] = {}
    for a in instance.reference:
        if a.operation in op_index and a.machine in machine_index:
            reference[op_index[a.operation]] = (machine_index[a.machine], a.start, a.end)
    frozen = {}
    if instance.frozen_until is not None:
        frozen = {o: v for o, v in reference.items() if v[1] < instance.frozen_until}
    for data in ops:
        for m, d in data.modes:
            machines[m].candidates.append((data.index, d))
    for md in machines:
        families = {ops[o].family for o, _ in md.candidates} - {None}
        sources = families | ({md.machine.initial_family} - {None})
        md.needs_setups = any(md.setup(f, g) > 0 for f in sources for g in families)
    trim_unavailability_under_frozen(machines, frozen)
    problem = Problem(instance, ops, jobs, machines, 0, frozen, reference, op_index, machine_index)
    problem.horizon = instance.horizon if instance.horizon is not None else derive_horizon(problem)
    compute_heads_and_tails(problem)
    return problem


def trim_unavailability_under_frozen(machines: list[MachineData], frozen: dict[int, tuple[int, int, int]]) -> None:
    """A frozen operation is a fact: unavailability recorded under it is dropped rather than made infeasible."""
    for _o, (m, s, e) in frozen.items():
        md = machines[m]
        kept = []
        for a, b in md.unavailable:
            if a < e and s < b:
                kept.extend(piece for piece in ((a, s), (e, b)) if piece[1] > piece[0])
            else:
                kept.append((a, b))
        md.unavailable = merge_windows(kept)
        md.__post_init__()


def derive_horizon(problem: Problem) -> int:
    """A horizon that any sensible schedule fits in: all operations one after another on their best machine."""
    instance = problem.instance
    locked_ends = [
        d.op.lock.start + max((dur for _, dur in d.modes), default=0)
        for d in problem.ops
        if d.op.lock is not None and d.op.lock.start is not None
    ]
    t = max(
        [instance.now, *(j.release for j in instance.jobs), *(e for _, _, e in problem.frozen.values()), *locked_ends]
    )
    calendar_end = max((md.windows[-1][1] for md in problem.machines if md.has_calendar), default=None)
    for data in problem.ops:
        if data.index in problem.frozen:
            continue
        t += data.op.min_lag
        ends = []
        for m, d in data.modes:
            md = problem.machines[m]
            placed = md.fit(t + md.setups.max_time(), md.setups.max_time(), d, data.op.may_pause)
            if placed is not None:
                ends.append(placed[1])
        if not ends:
            return calendar_end if calendar_end is not None else t + sum(d.min_duration for d in problem.ops)
        t = min(ends)
    return t


def compute_heads_and_tails(problem: Problem) -> None:
    """Earliest start and latest end of every operation from release, now, routing and horizon alone."""
    n = len(problem.ops)
    heads, tails = [0] * n, [problem.horizon] * n
    for job_index, chain in enumerate(problem.jobs):
        release = max(problem.instance.jobs[job_index].release, problem.now)
        t = release
        for o in chain:
            data = problem.ops[o]
            if o in problem.frozen:
                heads[o] = problem.frozen[o][1]
                t = problem.frozen[o][2]
                continue
            if data.pred is not None and data.op.transfer_fraction is not None:
                pred = problem.ops[data.pred]
                frozen_pred = problem.frozen.get(data.pred)
                pred_min = (frozen_pred[2] - frozen_pred[1]) if frozen_pred else pred.min_duration
                t = heads[data.pred] + first_batch(data.op.transfer_fraction, pred_min) + data.op.min_lag
            elif data.pred is not None:
                t += data.op.min_lag
            heads[o] = max(t, release)
            t = heads[o] + data.min_duration
        t = problem.horizon
        for o in reversed(chain):
            data = problem.ops[o]
            if o in problem.frozen:
                tails[o] = problem.frozen[o][2]
                t = problem.frozen[o][1]
                continue
            tails[o] = t
            t = t - data.min_duration
            if data.pred is not None:
                if data.op.transfer_fraction is not None:
                    t = tails[o] - first_batch(data.op.transfer_fraction, data.min_duration) - data.op.min_lag
                else:
                    t -= data.op.min_lag
    problem.heads, problem.tails = heads, tails
