"""Large-neighbourhood search for big instances (thousands of operations).

Starting from a complete schedule, each iteration frees a neighbourhood of operations and re-optimises it with
CP-SAT while every other operation stays exactly where it is (a fixed interval on its machine, a fixed time for
its job neighbours). Because the sub-model is small, each run is fast; accepting equal-or-better schedules and
adapting the neighbourhood size to how hard the sub-problems are keeps the search moving. Neighbourhoods:

* time window: operations starting inside a random window (a rolling horizon when chosen left to right);
* machines: the operations of a machine group (plus two random machines) closest to a random point in time;
* late job (due-date objectives): a tardy job, picked by weighted tardiness, with the operations on the machines
  it may use from a little before it starts until it ends, so it can be pulled forward.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from dataclasses import dataclass

from .cpsat import ModelBuilder
from .heuristics import Schedule, combined, evaluate
from .model import Combine, Objective, ObjectiveTerm, Progress, ProgressCallback, SolverConfig
from .prepare import Problem

SUB_LIMIT = 3.0  # seconds per sub-problem: enough to re-optimise 100-200 operations, short enough to move on


@dataclass
class LnsResult:
    """Best schedule found and how many iterations and improvements it took."""

    schedule: Schedule
    iterations: int
    improvements: int
    stopped: bool


def _score(problem: Problem, schedule: Schedule, config: SolverConfig) -> tuple[int, ...]:
    return combined(evaluate(problem, schedule, config), config)


def _time_window(problem: Problem, schedule: Schedule, size: int, rng: random.Random, sweep: list[int]) -> set[int]:
    order = sorted((v[1], o) for o, v in schedule.items() if o not in problem.frozen)
    if not order:
        return set()
    count = min(size, len(order))
    if sweep[0] + count > len(order):
        sweep[0] = 0
    first = sweep[0] if rng.random() < 0.5 else rng.randrange(0, len(order) - count + 1)
    sweep[0] = first + max(1, count // 2)
    return {o for _, o in order[first : first + count]}


def _machines(problem: Problem, schedule: Schedule, size: int, rng: random.Random) -> set[int]:
    """Operations of a few machines (the machine group when the instance names one) around one point in time."""
    anchor_op = rng.choice([o for o in schedule if o not in problem.frozen])
    anchor_machine = problem.machines[schedule[anchor_op][0]]
    group = anchor_machine.machine.group
    machines = {md.index for md in problem.machines if group is not None and md.machine.group == group}
    others = [md.index for md in problem.machines if md.index not in machines]
    rng.shuffle(others)
    machines |= {anchor_machine.index, *others[:2]}
    anchor = schedule[anchor_op][1]
    near = sorted((abs(v[1] - anchor), o) for o, v in schedule.items() if v[0] in machines and o not in problem.frozen)
    return {o for _, o in near[:size]}


def _late_job(problem: Problem, schedule: Schedule, size: int, rng: random.Random) -> set[int]:
    """A tardy job (picked by weighted tardiness) with every operation on the machines it may use, in the time
    span from a little before it starts until it ends: room to pull the job forward."""
    lateness = []
    for j, chain in enumerate(problem.jobs):
        due = problem.instance.jobs[j].due
        if chain and due is not None:
            late = max(schedule[o][2] for o in chain) - due
            if late > 0:
                lateness.append((late * max(1, problem.instance.jobs[j].weight), j))
    if not lateness:
        return set()
    cumulative = list(itertools.accumulate(w for w, _ in lateness))
    j = lateness[min(len(lateness) - 1, bisect.bisect_left(cumulative, rng.random() * cumulative[-1]))][1]
    chain = [o for o in problem.jobs[j] if o not in problem.frozen]
    machines = {m for o in chain for m, _ in problem.ops[o].modes}
    low = min(schedule[o][1] for o in problem.jobs[j])
    high = max(schedule[o][2] for o in problem.jobs[j])
    low -= high - low
    near = sorted(
        (abs(v[1] - high), o)
        for o, v in schedule.items()
        if v[0] in machines and o not in problem.frozen and low <= v[1] <= high
    )
    free = set(chain)
    free.update(o for _, o in near[: max(0, size - len(free))])
    return free


def _windows(problem: Problem, schedule: Schedule, free: set[int]) -> dict[int, tuple[int, int]]:
    """Start windows of free operations implied by the nearest fixed operations of their job."""
    windows = {}
    for o in free:
        low, high = -(10**9), 10**9
        p, overlap = problem.ops[o].pred, problem.ops[o].op.transfer_fraction is not None
        while p is not None and p in free:
            overlap = overlap or problem.ops[p].op.transfer_fraction is not None
            p = problem.ops[p].pred
        if p is not None:
            low = schedule[p][1] if overlap else schedule[p][2]
        q = problem.ops[o].succ
        while q is not None and q in free:
            q = problem.ops[q].succ
        if q is not None:
            high = schedule[q][1]
        windows[o] = (low, high)
    times = [schedule[o][1] for o in free]
    mean_duration = sum(d.min_duration for d in problem.ops) / max(1, len(problem.ops))
    reach = int(max(8 * mean_duration, min(max(times) - min(times), 40 * mean_duration))) if times else 0
    return {
        o: (max(low, schedule[o][1] - reach), min(high, schedule[o][1] + reach)) for o, (low, high) in windows.items()
    }


def _sub_objective(config: SolverConfig, incumbent: dict[Objective, int]) -> tuple[ObjectiveTerm, ...]:
    """Weighted terms; lexicographic terms get weights that keep their order for moves near the incumbent."""
    if config.combine != Combine.LEXICOGRAPHIC or len(config.objectives) == 1:
        return config.objectives
    terms, scale = [], 1
    for term in reversed(config.objectives):
        terms.append(ObjectiveTerm(term.kind, scale))
        scale *= max(2, 2 * incumbent[term.kind] + 1)
    return tuple(reversed(terms))


def improve(
    problem: Problem,
    config: SolverConfig,
    incumbent: Schedule,
    deadline: float,
    clock_start: float,
    progress: ProgressCallback | None = None,
) -> LnsResult:
    """Improve ``incumbent`` by large-neighbourhood search until ``deadline`` (time.monotonic())."""
    rng = random.Random(config.random_seed)  # noqa: S311 - search diversification, not security
    best = dict(incumbent)
    best_score = _score(problem, best, config)
    movable = len(problem.ops) - len(problem.frozen)
    size = max(10, min(movable, 150 if movable > 400 else movable // 2))
    iterations = improvements = 0
    sweep = [0]
    due_driven = any(
        t.kind in (Objective.TARDINESS, Objective.WEIGHTED_TARDINESS, Objective.LATE_JOBS, Objective.WEIGHTED_LATE_JOBS)
        for t in config.objectives
    )
    kinds = ("late", "late", "window", "machines") if due_driven else ("window", "window", "machines")
    while deadline - time.monotonic() > 0.2 and movable > 0:
        iterations += 1
        kind = rng.choice(kinds)
        if kind == "late":
            free = _late_job(problem, best, size, rng)
            if not free:  # nothing is late any more
                kinds = ("window", "window", "machines")
                continue
        elif kind == "window":
            free = _time_window(problem, best, size, rng, sweep)
        else:
            free = _machines(problem, best, size, rng)
        if not free:
            break
        fixed = {o: (m, s, e) for o, (m, s, e, _) in best.items() if o not in free and o not in problem.frozen}
        values = evaluate(problem, best, config)
        terms = _sub_objective(config, values)
        builder = ModelBuilder(
            problem,
            config,
            fixed=fixed,
            windows=_windows(problem, best, free),
            break_symmetry=False,
            redundant=False,
            incumbent=best,
        ).build()
        if builder.infeasible_reason is not None:
            size = max(10, int(size * 0.8))
            continue
        builder.set_objective(terms)
        builder.model.add(
            sum(t.weight * builder.terms[t.kind] for t in terms) <= sum(t.weight * values[t.kind] for t in terms)
        )
        builder.add_hint(best)
        limit = min(deadline - time.monotonic(), SUB_LIMIT)
        run = builder.solve(limit, None, clock_start, log=False, light_presolve=True)
        if run.schedule is not None:
            candidate = run.schedule
            score = _score(problem, candidate, config)
            if score <= best_score:
                if score < best_score:
                    improvements += 1
                    if progress is not None and progress(
                        Progress(float(score[0]), None, time.monotonic() - clock_start, "lns")
                    ):
                        return LnsResult(candidate, iterations, improvements, True)
                best, best_score = candidate, score
        if run.status == "OPTIMAL":
            size = min(movable, int(size * 1.2) + 1)
        else:  # shrink faster when not even the current schedule was recovered in time
            size = max(10, int(size * (0.85 if run.schedule is not None else 0.6)))
    return LnsResult(best, iterations, improvements, False)
