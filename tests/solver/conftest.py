"""Helpers shared by the solver tests: tiny instance builders and a solve-and-validate shortcut."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.scheduling.solver import Instance, Job, Machine, Mode, Operation, Solution, SolverConfig, solve, validate

REPO = Path(__file__).resolve().parents[2]


def bench_dir() -> Path:
    """Where the public benchmark instances live (never copied into the repository)."""
    return Path(os.environ.get("MES_BENCH_DIR", REPO.parent / "shared" / "bench"))


def op(op_id: str, *modes: tuple[str, int], **kwargs) -> Operation:
    """Operation with modes given as (machine, duration) pairs."""
    return Operation(id=op_id, modes=tuple(Mode(m, d) for m, d in modes), **kwargs)


def job(job_id: str, *operations: Operation, **kwargs) -> Job:
    """Job with operations in routing order."""
    return Job(id=job_id, operations=tuple(operations), **kwargs)


def machines(*ids: str, **kwargs) -> tuple[Machine, ...]:
    """Machines with the same extra attributes."""
    return tuple(Machine(id=i, **kwargs) for i in ids)


def instance(jobs, machine_list, **kwargs) -> Instance:
    """Instance from lists."""
    return Instance(jobs=tuple(jobs), machines=tuple(machine_list), **kwargs)


def config(objective: str = "makespan", time_limit: float = 5.0, **kwargs) -> SolverConfig:
    """Small, deterministic config for tests."""
    return SolverConfig.for_objective(objective, time_limit=time_limit, workers=2, random_seed=1, **kwargs)


def solve_checked(inst: Instance, cfg: SolverConfig | None = None, progress=None) -> Solution:
    """Solve and assert the independent validator accepts the schedule and its objective values."""
    cfg = cfg or config()
    solution = solve(inst, cfg, progress)
    if solution.has_schedule:
        report = validate(inst, solution, cfg)
        assert report.ok, report.violations
    return solution


@pytest.fixture
def shared_bench() -> Path:
    """The shared benchmark directory, or skip the test when it is absent."""
    path = bench_dir()
    if not path.exists():
        pytest.skip(f"public benchmark instances not found in {path} (set MES_BENCH_DIR)")
    return path
