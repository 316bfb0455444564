"""Objective presets: what a planner picks, and the weighted objective the engine minimises for it.

Weights are integers on minutes: weighted tardiness is minutes late times the order's weight (priority 1 weighs
9, priority 9 weighs 1), makespan and setup time are minutes. When a published plan exists, stability (minutes
each operation's start moves plus an hour's worth per operation moved to another machine) joins with a small
weight, so that two equally good schedules are told apart by how little they change the shop floor's plan;
repairs weigh it more, to disturb the floor as little as possible.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from apps.scheduling.models import Preset
from apps.scheduling.solver import Combine, Objective, ObjectiveTerm, SolverConfig

LABELS = {
    Preset.ON_TIME: _l("On-time delivery first"),
    Preset.MAKESPAN: _l("Shortest makespan"),
    Preset.SETUPS: _l("Fewest setups"),
    Preset.BALANCED: _l("Balanced"),
}
HINTS = {
    Preset.ON_TIME: _l("Late orders as few and as little late as possible, urgent orders first; then finish early."),
    Preset.MAKESPAN: _l("Finish all work as early as possible; lateness breaks ties."),
    Preset.SETUPS: _l("Group products of a family on each machine to save changeovers; then on time."),
    Preset.BALANCED: _l("A compromise between on-time delivery, makespan and changeovers."),
}
TERMS: dict[Preset, tuple[tuple[Objective, int], ...]] = {
    Preset.ON_TIME: ((Objective.WEIGHTED_TARDINESS, 10), (Objective.MAKESPAN, 1)),
    Preset.MAKESPAN: ((Objective.MAKESPAN, 10), (Objective.WEIGHTED_TARDINESS, 1)),
    Preset.SETUPS: ((Objective.SETUP, 10), (Objective.WEIGHTED_TARDINESS, 2), (Objective.MAKESPAN, 1)),
    Preset.BALANCED: ((Objective.WEIGHTED_TARDINESS, 4), (Objective.MAKESPAN, 2), (Objective.SETUP, 2)),
}
STABILITY_WEIGHT = 1
REPAIR_STABILITY_WEIGHT = 3
MACHINE_CHANGE_MINUTES = 60  # stability penalty for moving an operation to another machine
RELATIVE_GAP = 0.005  # stop once the schedule is proven within half a percent of the best possible


def weight_of(priority: int) -> int:
    """An order's weight from its priority (1 most urgent ... 9 least)."""
    return 10 - min(9, max(1, priority))


def solver_config(preset: Preset, time_limit: float, *, stability: bool, repair: bool = False) -> SolverConfig:
    terms = [ObjectiveTerm(kind, weight) for kind, weight in TERMS[preset]]
    if stability:
        terms.append(ObjectiveTerm(Objective.STABILITY, REPAIR_STABILITY_WEIGHT if repair else STABILITY_WEIGHT))
    return SolverConfig(
        time_limit=float(time_limit),
        workers=int(current_app.config.get("SCHEDULING_SOLVER_WORKERS", 2)),
        relative_gap=RELATIVE_GAP,
        objectives=tuple(terms),
        combine=Combine.WEIGHTED,
        machine_change_cost=MACHINE_CHANGE_MINUTES,
    )
