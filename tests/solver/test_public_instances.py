"""A few public benchmark instances (read from the shared directory, skipped when it is absent)."""

from __future__ import annotations

import json

from apps.scheduling.solver import SolverConfig, Status
from apps.scheduling.solver.readers import read_instance

from .conftest import solve_checked


def test_ft06_is_solved_to_its_optimum(shared_bench):
    solution = solve_checked(read_instance(shared_bench / "jssp" / "ft06"), SolverConfig(time_limit=5, workers=2))
    assert solution.status == Status.OPTIMAL and solution.objective == 55


def test_brandimarte_mk01_reaches_the_best_known(shared_bench):
    best = json.loads((shared_bench / "fjsp" / "bounds.json").read_text())["mk01"]["upper_bound"]
    solution = solve_checked(
        read_instance(shared_bench / "fjsp" / "brandimarte" / "mk01.fjs"),
        SolverConfig(time_limit=5, workers=2, random_seed=1),
    )
    assert solution.objective == best


def test_kacem_instances_are_valid_and_never_below_the_lower_bound(shared_bench):
    bounds = json.loads((shared_bench / "fjsp" / "bounds.json").read_text())
    for name in ("kacem1", "kacem2"):
        solution = solve_checked(
            read_instance(shared_bench / "fjsp" / bounds[name]["file"]), SolverConfig(time_limit=2, workers=2)
        )
        assert bounds[name]["lower_bound"] <= solution.objective <= bounds[name]["upper_bound"] * 1.1
