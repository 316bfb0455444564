"""The public entry point: ``solve(instance, config, progress) -> Solution``.

Flow: compile and pre-check the instance; build warm starts (best dispatching rule, reference schedule); pick
the full CP-SAT model or the large-neighbourhood search by size; explain infeasibility when proven; validate
the schedule independently before returning it.
"""

from __future__ import annotations

import time

from . import explain
from .cpsat import ModelBuilder, solve_staged
from .heuristics import Schedule, best_dispatch, combined, evaluate
from .lns import improve
from .model import (
    Combine,
    Instance,
    Objective,
    Progress,
    ProgressCallback,
    Solution,
    SolverConfig,
    SolveStats,
    Status,
)
from .prepare import Problem, compile_instance
from .tabu import is_plain_job_shop, tabu_search
from .validate import validate

LNS_THRESHOLD_OPERATIONS = 900  # above this the full model is too slow to improve within typical time limits
LNS_THRESHOLD_WITH_SETUPS = 400  # setup circuits grow quadratically with operations per machine
TABU_SHARE = 0.5  # share of the remaining time given to the tabu search on large classic job shops
LARGE_JOB_SHOP = 250  # below this CP-SAT alone closes most of the gap within seconds; tabu search would only slow it


def _choose_strategy(problem: Problem, config: SolverConfig) -> str:
    if config.strategy != "auto":
        return config.strategy
    movable = len(problem.ops) - len(problem.frozen)
    with_setups = any(md.needs_setups for md in problem.machines)
    threshold = LNS_THRESHOLD_WITH_SETUPS if with_setups else LNS_THRESHOLD_OPERATIONS
    return "lns" if movable > threshold else "full"


def _reference_schedule(problem: Problem, config: SolverConfig) -> Schedule | None:
    """The reference as a schedule, if it covers every operation and is still valid."""
    schedule = problem.from_assignments(problem.instance.reference)
    if len(schedule) != len(problem.ops):
        return None
    return schedule if validate(problem.instance, problem.to_assignments(schedule), config).ok else None


def _warm_start(
    problem: Problem,
    config: SolverConfig,
    budget: float,
    clock_start: float,
    progress: ProgressCallback | None,
    stats: dict,
) -> tuple[str | None, Schedule | None, bool]:
    """Best of the dispatching rules and the reference schedule; reports each improvement to ``progress``."""
    stopped = False

    def is_valid(schedule: Schedule) -> bool:
        return validate(problem.instance, problem.to_assignments(schedule), config).ok

    def found(rule: str, schedule: Schedule) -> bool:
        nonlocal stopped
        elapsed = time.monotonic() - clock_start
        if stats.get("first_solution_seconds") is None:
            stats["first_solution_seconds"] = elapsed
        value = _objective_of(evaluate(problem, schedule, config), config)
        stopped = bool(progress is not None and progress(Progress(value, None, elapsed, f"dispatch:{rule}")))
        return stopped

    result = best_dispatch(problem, config, budget, is_valid, found)
    candidates = [result] if result is not None else []
    reference = _reference_schedule(problem, config)
    if reference is not None:
        candidates.append(("reference", reference))
    if not candidates:
        return None, None, stopped
    rule, schedule = min(candidates, key=lambda c: combined(evaluate(problem, c[1], config), config))
    return rule, schedule, stopped


def _objective_of(values, config: SolverConfig) -> float:
    if config.combine == Combine.LEXICOGRAPHIC:
        return float(values[config.objectives[0].kind])
    return float(sum(t.weight * values[t.kind] for t in config.objectives))


def solve(instance: Instance, config: SolverConfig | None = None, progress: ProgressCallback | None = None) -> Solution:
    """Schedule ``instance`` under ``config``; ``progress`` gets every improving schedule and may stop the search.

    Raises ValueError when the instance is malformed (unknown machine, duplicate id); an instance that is well
    formed but has no schedule gets status INFEASIBLE with an explanation in words.
    """
    config = config or SolverConfig()
    clock_start = time.monotonic()
    deadline = clock_start + config.time_limit
    problem = compile_instance(instance)
    reasons = explain.precheck(problem)
    if reasons:
        return Solution(
            Status.INFEASIBLE,
            explanation=tuple(reasons),
            stats=SolveStats(wall_seconds=time.monotonic() - clock_start, strategy="precheck"),
        )
    strategy = _choose_strategy(problem, config)
    stats = {"strategy": strategy, "warm_start_rule": None, "first_solution_seconds": None}
    rule, warm, stopped = None, None, False
    if config.warm_start or strategy in ("dispatch", "lns"):
        budget = config.time_limit * 0.5 if strategy == "dispatch" else min(0.15 * config.time_limit, 4.0)
        rule, warm, stopped = _warm_start(problem, config, budget, clock_start, progress, stats)
    stats["warm_start_rule"] = rule
    best, status, bound = warm, Status.FEASIBLE, None
    if warm is not None:
        stats["warm_start_objective"] = _objective_of(evaluate(problem, warm, config), config)
    if strategy == "lns" and warm is None:
        strategy = stats["strategy"] = "full"
    if not stopped and strategy == "full":
        best, status, bound, stopped = _run_full(problem, config, warm, deadline, clock_start, progress, stats)
        if status == Status.INFEASIBLE:
            budget = max(1.0, deadline - time.monotonic())
            lines = explain.explain_infeasible(problem, config, budget)
            return Solution(
                Status.INFEASIBLE,
                explanation=tuple(lines),
                stats=SolveStats(wall_seconds=time.monotonic() - clock_start, strategy=strategy),
            )
    elif not stopped and strategy == "lns":
        result = improve(problem, config, warm, deadline, clock_start, progress)
        best = result.schedule
        stats["lns_iterations"] = result.iterations
        stats["improvements"] = result.improvements
    if best is None:
        return Solution(
            Status.NO_SOLUTION, stats=SolveStats(wall_seconds=time.monotonic() - clock_start, strategy=strategy)
        )
    return _finish(problem, config, best, status, bound, clock_start, stats)


def _makespan_only(config: SolverConfig) -> bool:
    return all(t.kind == Objective.MAKESPAN for t in config.objectives)


def _polish_job_shop(
    problem: Problem,
    config: SolverConfig,
    warm: Schedule,
    deadline: float,
    clock_start: float,
    progress: ProgressCallback | None,
    stats: dict,
) -> Schedule:
    """Classic job shop: spend part of the time in tabu search before CP-SAT takes over from its result."""
    before = evaluate(problem, warm, config)[Objective.MAKESPAN]
    share = TABU_SHARE * (deadline - time.monotonic())
    improved = tabu_search(problem, warm, time.monotonic() + share, config.random_seed)
    if not validate(problem.instance, problem.to_assignments(improved), config).ok:
        return warm
    after = evaluate(problem, improved, config)[Objective.MAKESPAN]
    stats["tabu_objective"] = after
    if after < before and progress is not None:
        progress(Progress(float(after), None, time.monotonic() - clock_start, "tabu"))
    return improved if after <= before else warm


def _run_full(
    problem: Problem,
    config: SolverConfig,
    warm: Schedule | None,
    deadline: float,
    clock_start: float,
    progress: ProgressCallback | None,
    stats: dict,
):
    plain = is_plain_job_shop(problem) and _makespan_only(config) and len(problem.ops) >= LARGE_JOB_SHOP
    if plain and warm is not None and config.warm_start:
        warm = _polish_job_shop(problem, config, warm, deadline, clock_start, progress, stats)
    builder = ModelBuilder(problem, config, plain_job_shop=plain).build()
    if warm is not None and _makespan_only(config):
        builder.model.add(builder.terms[Objective.MAKESPAN] <= evaluate(problem, warm, config)[Objective.MAKESPAN])
    if builder.infeasible_reason is not None:
        return None, Status.INFEASIBLE, None, False
    run = solve_staged(builder, config, deadline, clock_start, progress, warm)
    stats["conflicts"], stats["branches"] = run.conflicts, run.branches
    stats["improvements"] = run.improvements
    if stats["first_solution_seconds"] is None:
        stats["first_solution_seconds"] = run.first_solution
    if run.status == "INFEASIBLE":
        return None, Status.INFEASIBLE, None, run.stopped
    if run.schedule is None:
        return warm, Status.FEASIBLE, run.bound, run.stopped
    schedule = run.schedule
    if warm is not None and combined(evaluate(problem, warm, config), config) < combined(
        evaluate(problem, schedule, config), config
    ):
        schedule = warm
    status = Status.OPTIMAL if run.status == "OPTIMAL" else Status.FEASIBLE
    return schedule, status, run.bound, run.stopped


def _finish(
    problem: Problem,
    config: SolverConfig,
    schedule: Schedule,
    status: Status,
    bound: float | None,
    clock_start: float,
    stats: dict,
) -> Solution:
    instance = problem.instance
    assignments = problem.to_assignments(schedule)
    values = evaluate(problem, schedule, config)
    objective = _objective_of(values, config)
    report = validate(instance, assignments, config)
    if not report.ok:
        raise RuntimeError("internal error, the schedule breaks rules: " + "; ".join(report.violations[:5]))
    if bound is not None:
        bound = min(float(bound), objective)
    gap = None if bound is None else (objective - bound) / max(1.0, abs(objective))
    if status == Status.OPTIMAL and gap is not None and gap > config.relative_gap + 1e-9:
        status = Status.FEASIBLE
    return Solution(
        status=status,
        assignments=assignments,
        objective=objective,
        objective_values={kind.value: value for kind, value in values.items()},
        bound=bound,
        gap=gap,
        kpis=report.kpis,
        stats=SolveStats(wall_seconds=time.monotonic() - clock_start, **stats),
    )
