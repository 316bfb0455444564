"""Infeasibility explained in words a planner can act on.

Two stages: fast checks that catch the usual data problems one operation at a time (no eligible machine
that is available before the horizon, a lock on a machine that cannot do the work, contradictory lags, frozen
operations on top of each other), then, when those pass but the model is still infeasible, a CP-SAT run in which
each group of constraints (a release date, a lock, a maximum wait, a machine calendar, an unavailability window,
the horizon) is switched on by an assumption literal, so the solver can name a small subset that conflicts.
"""

from __future__ import annotations

import itertools

from .model import SolverConfig
from .prepare import Problem


def _fits(problem: Problem, o: int, machine: int, duration: int, earliest: int) -> tuple[int, int] | None:
    md = problem.machines[machine]
    placed = md.fit(earliest, 0, duration, problem.ops[o].op.may_pause)
    if placed is None or placed[1] > problem.horizon:
        return None
    return placed


def precheck(problem: Problem) -> list[str]:
    """Problems visible one operation or one job at a time, as sentences; empty if none is found."""
    reasons: list[str] = []
    machines = problem.machines
    for data in problem.ops:
        o = data.index
        if o in problem.frozen:
            continue
        op, name = data.op, data.describe()
        if not data.modes:
            reasons.append(f"{name} has no eligible machine.")
            continue
        if op.max_lag is not None and op.max_lag < op.min_lag:
            reasons.append(
                f"{name} must wait at least {op.min_lag} min but at most {op.max_lag} min after the previous operation."
            )
        lock = op.lock
        if lock is not None and lock.machine is not None and all(machines[m].id != lock.machine for m, _ in data.modes):
            reasons.append(f"{name} is locked to machine {lock.machine}, which is not eligible for it.")
            continue
        if lock is not None and lock.start is not None:
            if lock.start < max(data.job.release, problem.now):
                reasons.append(
                    f"{name} is locked to start at minute {lock.start}, before {data.job.label} is "
                    f"released or before now (minute {max(data.job.release, problem.now)})."
                )
            modes = [(m, d) for m, d in data.modes if lock.machine is None or machines[m].id == lock.machine]
            if not any((p := _fits(problem, o, m, d, lock.start)) is not None and p[0] == lock.start for m, d in modes):
                reasons.append(
                    f"{name} is locked to start at minute {lock.start}, but no eligible machine is "
                    f"working and available for its whole duration from then on."
                )
        head = problem.heads[o]
        if not any(_fits(problem, o, m, d, head) is not None for m, d in data.modes):
            machines_text = ", ".join(machines[m].id for m, _ in data.modes)
            reasons.append(
                f"{name} has no eligible machine that is available before the horizon ends (minute "
                f"{problem.horizon}): it can start at minute {head} at the earliest and needs "
                f"{data.min_duration} min on {machines_text}."
            )
    for j, chain in enumerate(problem.jobs):
        if not chain:
            continue
        last = chain[-1]
        if last not in problem.frozen and problem.heads[last] + problem.ops[last].min_duration > problem.horizon:
            job = problem.instance.jobs[j]
            total = sum(problem.ops[o].min_duration for o in chain)
            reasons.append(
                f"{job.label} cannot be finished before the horizon (minute {problem.horizon}): released at "
                f"minute {job.release}, it needs at least {total} min of processing and waiting."
            )
    reasons.extend(_overlapping_fixed(problem))
    return list(dict.fromkeys(reasons))


def _overlapping_fixed(problem: Problem) -> list[str]:
    placed: dict[int, list[tuple[int, int, str, str]]] = {}
    for o, (m, s, e) in problem.frozen.items():
        placed.setdefault(m, []).append((s, e, problem.ops[o].describe(), "frozen"))
    for data in problem.ops:
        lock = data.op.lock
        if data.index in problem.frozen or lock is None or lock.start is None or lock.machine is None:
            continue
        m = problem.machine_index.get(lock.machine)
        d = next((d for mm, d in data.modes if mm == m), None)
        if m is not None and d is not None:
            placed.setdefault(m, []).append((lock.start, lock.start + d, data.describe(), "locked"))
    reasons = []
    for m, spans in placed.items():
        spans.sort()
        for (s1, e1, n1, k1), (s2, e2, n2, k2) in itertools.pairwise(spans):
            if s2 < e1:
                reasons.append(
                    f"{n1} ({k1}, minute {s1}-{e1}) and {n2} ({k2}, minute {s2}-{e2}) overlap on machine "
                    f"{problem.machines[m].id}."
                )
    return reasons


def explain_infeasible(problem: Problem, config: SolverConfig, time_limit: float) -> list[str]:
    """Name a conflicting set of constraint groups found by CP-SAT with assumptions."""
    from .cpsat import ModelBuilder

    builder = ModelBuilder(problem, config, explain=True).build()
    model = builder.model
    model.clear_objective()
    if not builder.guards:
        return [
            "No schedule satisfies the routing and machine capacity on their own: the work does not fit on the "
            "machines at all."
        ]
    model.add_assumptions([literal for literal, _ in builder.guards])
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, time_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = config.random_seed
    status = solver.solve(model)
    if status != cp_model.INFEASIBLE:
        return [
            "No schedule satisfies all constraints; the conflicting constraints could not be narrowed down within "
            "the time limit."
        ]
    by_index = {literal.index: message for literal, message in builder.guards}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    if not core:
        return [
            "No schedule satisfies the routing and machine capacity on their own: the work does not fit on the "
            "machines at all."
        ]
    lines = ["These requirements cannot all be met at the same time:"]
    lines += [f"- {message}" for message in core]
    lines.append(
        "Relaxing any one of them (for example a later horizon, a removed lock or a longer allowed wait) "
        "may make a schedule possible."
    )
    return lines
