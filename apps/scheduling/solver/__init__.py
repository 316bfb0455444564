"""Flexible job-shop scheduling engine on OR-Tools CP-SAT.

Pure Python: typed data classes in (``Instance``, ``SolverConfig``), a validated ``Solution`` out.
``solve`` imports OR-Tools lazily, so importing this package for its data classes stays cheap.
"""

from .model import (
    Assignment,
    Combine,
    Instance,
    Job,
    Kpis,
    Lock,
    Machine,
    Mode,
    Objective,
    ObjectiveTerm,
    Operation,
    Progress,
    ProgressCallback,
    SetupMatrix,
    Solution,
    SolverConfig,
    SolveStats,
    Status,
    Window,
)
from .readers import read_instance
from .serialize import instance_from_dict, instance_to_dict, solution_to_dict
from .validate import ValidationReport, validate


def solve(instance: Instance, config: SolverConfig | None = None, progress: ProgressCallback | None = None) -> Solution:
    """Schedule ``instance``; see ``engine.solve``."""
    from .engine import solve as run

    return run(instance, config, progress)


__all__ = [
    "Assignment",
    "Combine",
    "Instance",
    "Job",
    "Kpis",
    "Lock",
    "Machine",
    "Mode",
    "Objective",
    "ObjectiveTerm",
    "Operation",
    "Progress",
    "ProgressCallback",
    "SetupMatrix",
    "Solution",
    "SolveStats",
    "SolverConfig",
    "Status",
    "ValidationReport",
    "Window",
    "instance_from_dict",
    "instance_to_dict",
    "read_instance",
    "solution_to_dict",
    "solve",
    "validate",
]
