"""Dispatching rules: fast, complete schedules used as warm start, fallback and benchmark baseline.

A schedule here is ``{operation index: (machine index, start, end, setup)}``. Operations are placed one at a
time (Giffler-Thompson style: among the operations that could start before the earliest possible completion,
the rule picks one) into the earliest gap of a machine timeline where the operation, its setup and the setup it
causes for the next operation all fit, respecting calendars and unavailability.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from .model import Objective, SolverConfig
from .prepare import MachineData, OpData, Problem, first_batch

Schedule = dict[int, tuple[int, int, int, int]]

MAKESPAN_RULES = ("mwkr", "mopnr", "spt", "fifo", "lpt_remaining")
DUE_DATE_RULES = ("atc", "edd", "slack", "cr", "wspt", "mwkr", "spt")


@dataclass
class Entry:
    """One operation placed on a machine timeline."""

    start: int
    end: int
    family: str | None
    op: int
    frozen: bool
    setup: int = 0


class Timeline:
    """Operations placed on one machine, sorted by start."""

    def __init__(self, machine: MachineData, now: int) -> None:
        self.machine = machine
        self.now = now
        self.entries: list[Entry] = []
        self.starts: list[int] = []

    def _setup_into(self, prev: Entry | None, family: str | None, frozen: bool) -> int:
        if frozen and (prev is None or prev.frozen):
            return 0
        source = prev.family if prev is not None else self.machine.machine.initial_family
        return self.machine.setup(source, family)

    def _setup_area_free(self, start: int, end: int) -> bool:
        if end <= start:
            return True
        md = self.machine
        k = md.window_at(start)
        if k >= len(md.windows) or md.windows[k][0] > start or md.windows[k][1] < end:
            return False
        return md.first_unavailable_overlap(start, end) is None

    def place(self, earliest: int, duration: int, family: str | None, may_pause: bool) -> tuple[int, int, int] | None:
        """Earliest feasible (start, end, setup) at or after ``earliest``, or None."""
        g = max(0, bisect.bisect_right(self.starts, earliest) - 1)
        while g <= len(self.entries):
            prev = self.entries[g - 1] if g > 0 else None
            nxt = self.entries[g] if g < len(self.entries) else None
            g += 1
            if nxt is not None and nxt.start < earliest:
                continue
            setup = self._setup_into(prev, family, False)
            t0 = max(earliest, (prev.end if prev else self.now) + setup, self.now + setup)
            fit = self.machine.fit(t0, setup, duration, may_pause)
            if fit is None:
                return None
            start, end = fit
            if nxt is not None:
                next_setup = self.machine.setup(family, nxt.family)
                if end + next_setup > nxt.start or not self._setup_area_free(nxt.start - next_setup, nxt.start):
                    continue
            return start, end, setup
        return None

    def insert(self, entry: Entry) -> None:
        """Add an entry and refresh the setup owed by its successor."""
        g = bisect.bisect_right(self.starts, entry.start)
        self.entries.insert(g, entry)
        self.starts.insert(g, entry.start)
        if g + 1 < len(self.entries):
            nxt = self.entries[g + 1]
            nxt.setup = self._setup_into(entry, nxt.family, nxt.frozen)


def _remaining_work(problem: Problem) -> tuple[list[int], list[int]]:
    work, count = [0] * len(problem.ops), [0] * len(problem.ops)
    for chain in problem.jobs:
        acc = 0
        for n, o in enumerate(reversed(chain), start=1):
            acc += problem.ops[o].min_duration
            work[o], count[o] = acc, n
    return work, count


def _priority(
    rule: str, data: OpData, start: int, end: int, work: int, count: int, pbar: float, rng: random.Random
) -> tuple:
    due = data.job.due if data.job.due is not None else math.inf
    weight = max(data.job.weight, 1e-9)
    p = max(end - start, 1)
    if rule == "spt":
        return (p, -work)
    if rule == "mwkr":
        return (-work, p)
    if rule == "lpt_remaining":
        return (-work - p, start)
    if rule == "mopnr":
        return (-count, -work)
    if rule == "fifo":
        return (start, -work)
    if rule == "edd":
        return (due, -work)
    if rule == "slack":
        return (due - start - work, p)
    if rule == "cr":
        return ((due - start) / max(work, 1), p)
    if rule == "wspt":
        return (p / weight, due)
    if rule == "atc":
        slack = 0.0 if due == math.inf else max(0.0, due - start - work)
        urgency = 0.0 if due == math.inf else math.exp(-slack / (2.0 * pbar))
        return (-(weight / p) * urgency, -work)
    if rule == "random":
        return (rng.random(),)
    raise ValueError(f"unknown dispatching rule {rule!r}")


def _earliest_after_predecessor(problem: Problem, data: OpData, schedule: Schedule, duration: int) -> tuple[int, int]:
    """(earliest start, earliest end) allowed by the routing given the placed predecessor."""
    job_release = max(data.job.release, problem.now)
    if data.pred is None or data.pred not in schedule:
        return job_release, job_release
    _, p_start, p_end, _ = schedule[data.pred]
    lag = data.op.min_lag
    fraction = data.op.transfer_fraction
    if fraction is None:
        return max(job_release, p_end + lag), 0
    p_duration = _chosen_duration(problem, data.pred, schedule)
    return (
        max(job_release, p_start + first_batch(fraction, p_duration) + lag),
        p_end + first_batch(fraction, duration) + lag,
    )


def _chosen_duration(problem: Problem, o: int, schedule: Schedule) -> int:
    m = schedule[o][0]
    for machine, d in problem.ops[o].modes:
        if machine == m:
            return d
    return schedule[o][2] - schedule[o][1]


def _best_mode(problem: Problem, data: OpData, schedule: Schedule, timelines: list[Timeline]):
    """Best (end, start, machine, setup) over the operation's modes, or None if no mode fits."""
    best = None
    modes = data.modes
    if data.op.lock is not None and data.op.lock.machine is not None:
        modes = [(m, d) for m, d in modes if problem.machines[m].id == data.op.lock.machine] or modes
    for m, d in modes:
        earliest, earliest_end = _earliest_after_predecessor(problem, data, schedule, d)
        placed = None
        for _ in range(50):
            placed = timelines[m].place(earliest, d, data.family, data.op.may_pause)
            if placed is None or placed[1] >= earliest_end:
                break
            earliest += earliest_end - placed[1]
        if placed is None or placed[1] > problem.horizon:
            continue
        start, end, setup = placed
        key = (end, start, m, setup)
        if best is None or key < best:
            best = key
    return best


def _preplace(problem: Problem, timelines: list[Timeline], schedule: Schedule) -> None:
    for o, (m, s, e) in problem.frozen.items():
        timelines[m].insert(Entry(s, e, problem.ops[o].family, o, True))
        schedule[o] = (m, s, e, 0)
    for data in problem.ops:
        lock = data.op.lock
        if data.index in schedule or lock is None or lock.start is None:
            continue
        for m, d in data.modes:
            if lock.machine is not None and problem.machines[m].id != lock.machine:
                continue
            md = problem.machines[m]
            end = md.walk(lock.start, d) if data.op.may_pause else lock.start + d
            if end is None:
                continue
            entry = Entry(lock.start, end, data.family, data.index, False)
            g = bisect.bisect_right(timelines[m].starts, lock.start)
            prev = timelines[m].entries[g - 1] if g > 0 else None
            entry.setup = timelines[m]._setup_into(prev, data.family, False)
            timelines[m].insert(entry)
            schedule[data.index] = (m, lock.start, end, entry.setup)
            break


def dispatch(problem: Problem, rule: str, seed: int = 0) -> Schedule | None:
    """Build a complete schedule with one priority rule; None if some operation cannot be placed."""
    rng = random.Random(seed)  # noqa: S311 - tie-breaking in a simulation, not security
    timelines = [Timeline(md, problem.now) for md in problem.machines]
    schedule: Schedule = {}
    _preplace(problem, timelines, schedule)
    work, count = _remaining_work(problem)
    pbar = max(1.0, sum(d.min_duration for d in problem.ops) / max(1, len(problem.ops)))
    pointer = [0] * len(problem.jobs)
    ready: dict[int, tuple | None] = {}

    def advance(job_index: int) -> None:
        chain = problem.jobs[job_index]
        while pointer[job_index] < len(chain) and chain[pointer[job_index]] in schedule:
            pointer[job_index] += 1
        if pointer[job_index] < len(chain):
            ready[chain[pointer[job_index]]] = None

    for j in range(len(problem.jobs)):
        advance(j)
    while ready:
        for o, cached in ready.items():
            if cached is None:
                ready[o] = _best_mode(problem, problem.ops[o], schedule, timelines) or (math.inf,)
        if any(v[0] == math.inf for v in ready.values()):
            return None
        horizon_end = min(v[0] for v in ready.values())
        candidates = [o for o, v in ready.items() if v[1] < horizon_end] or [min(ready, key=lambda o: ready[o][0])]
        chosen = min(
            candidates,
            key=lambda o: (
                _priority(rule, problem.ops[o], ready[o][1], ready[o][0], work[o], count[o], pbar, rng),
                ready[o][0],
                o,
            ),
        )
        end, start, m, setup = ready.pop(chosen)
        data = problem.ops[chosen]
        timelines[m].insert(Entry(start, end, data.family, chosen, False, setup))
        schedule[chosen] = (m, start, end, setup)
        for o in ready:
            if ready[o] is not None and any(mm == m for mm, _ in problem.ops[o].modes):
                ready[o] = None
        advance(data.job_index)
    for timeline in timelines:
        for entry in timeline.entries:
            m, s, e, _ = schedule[entry.op]
            schedule[entry.op] = (m, s, e, entry.setup)
    return schedule


def evaluate(problem: Problem, schedule: Schedule, config: SolverConfig) -> dict[Objective, int]:
    """Value of every objective kind for a schedule (engine-side; the validator recomputes independently)."""
    completion = {}
    for j, chain in enumerate(problem.jobs):
        completion[j] = max((schedule[o][2] for o in chain), default=problem.instance.jobs[j].release)
    tardiness, weighted, late, weighted_late, flow = 0, 0, 0, 0, 0
    for j, job in enumerate(problem.instance.jobs):
        flow += completion[j] - job.release
        if job.due is not None and completion[j] > job.due:
            tardiness += completion[j] - job.due
            weighted += job.weight * (completion[j] - job.due)
            late += 1
            weighted_late += job.weight
    stability = 0
    for o, (ref_m, ref_s, _) in problem.reference.items():
        if o in schedule and o not in problem.frozen:
            m, s, _, _ = schedule[o]
            stability += abs(s - ref_s) + (config.machine_change_cost if m != ref_m else 0)
    return {
        Objective.MAKESPAN: max((e for _, _, e, _ in schedule.values()), default=0),
        Objective.TARDINESS: tardiness,
        Objective.WEIGHTED_TARDINESS: weighted,
        Objective.SETUP: sum(su for _, _, _, su in schedule.values()),
        Objective.LATE_JOBS: late,
        Objective.WEIGHTED_LATE_JOBS: weighted_late,
        Objective.FLOW_TIME: flow,
        Objective.STABILITY: stability,
    }


def combined(values: dict[Objective, int], config: SolverConfig) -> tuple[int, ...]:
    """Comparable score: weighted sum in a 1-tuple, or the terms in order for lexicographic mode."""
    if config.combine.value == "lexicographic":
        return tuple(values[t.kind] for t in config.objectives)
    return (sum(t.weight * values[t.kind] for t in config.objectives),)


def rules_for(config: SolverConfig) -> tuple[str, ...]:
    """Dispatching rules worth trying for the configured objectives."""
    due_driven = {Objective.TARDINESS, Objective.WEIGHTED_TARDINESS, Objective.LATE_JOBS, Objective.WEIGHTED_LATE_JOBS}
    if any(t.kind in due_driven for t in config.objectives):
        return (*DUE_DATE_RULES, "mopnr", "fifo")
    return (*MAKESPAN_RULES, "edd", "atc")


def best_dispatch(
    problem: Problem,
    config: SolverConfig,
    budget: float,
    is_valid: Callable[[Schedule], bool] | None = None,
    on_improvement: Callable[[str, Schedule], bool | None] | None = None,
) -> tuple[str, Schedule] | None:
    """Run the rules for the objective within ``budget`` seconds and return the best (rule, schedule);
    ``on_improvement`` sees each better schedule and may return True to stop trying rules."""
    deadline = time.monotonic() + budget
    best = None
    for rule in rules_for(config):
        schedule = dispatch(problem, rule, config.random_seed)
        if schedule is not None and (is_valid is None or is_valid(schedule)):
            score = combined(evaluate(problem, schedule, config), config)
            if best is None or score < best[0]:
                best = (score, rule, schedule)
                if on_improvement is not None and on_improvement(rule, schedule):
                    break
        if time.monotonic() > deadline and best is not None:
            break
    return (best[1], best[2]) if best else None
