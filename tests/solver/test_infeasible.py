"""Infeasible instances are reported as such, explained in words a planner can act on."""

from __future__ import annotations

import pytest

from apps.scheduling.solver import Lock, Mode, Operation, Status, Window, solve
from apps.scheduling.solver.model import Instance, Job, Machine

from .conftest import config, instance, job, machines, op


def explanation(inst) -> str:
    solution = solve(inst, config(time_limit=3))
    assert solution.status == Status.INFEASIBLE and not solution.has_schedule
    assert solution.explanation
    return "\n".join(solution.explanation)


def test_no_eligible_machine_available_before_the_horizon():
    inst = instance(
        [job("WO-0012", op("WO-0012/30", ("M1", 120), name="30"))],
        machines("M1", calendar=(Window(0, 60),)),
        horizon=480,
    )
    text = explanation(inst)
    assert "operation 30 of WO-0012 has no eligible machine that is available before the horizon ends" in text


def test_job_that_cannot_finish_before_the_horizon():
    inst = instance(
        [job("WO-1", op("a", ("M1", 10), name="10"), op("b", ("M2", 10), name="20"))], machines("M1", "M2"), horizon=15
    )
    assert "WO-1 cannot be finished before the horizon" in explanation(inst)


def test_lock_on_a_machine_that_cannot_do_the_work():
    inst = instance([job("WO-2", op("a", ("M1", 10), name="10", lock=Lock(machine="M2")))], machines("M1", "M2"))
    assert "locked to machine M2, which is not eligible" in explanation(inst)


def test_contradictory_lags():
    inst = instance(
        [job("WO-3", op("a", ("M1", 5)), op("b", ("M1", 5), name="20", min_lag=10, max_lag=5))], machines("M1")
    )
    assert "must wait at least 10 min but at most 5 min" in explanation(inst)


def test_conflict_found_by_the_solver_names_the_constraints_involved():
    # each operation fits on its own, but the no-wait rule cannot be met: M2 only works after M1 stops.
    inst = instance(
        [job("WO-4", op("a", ("M1", 5), name="10"), op("b", ("M2", 5), name="20", max_lag=0))],
        (Machine("M1", calendar=(Window(0, 10),)), Machine("M2", calendar=(Window(20, 30),))),
        horizon=40,
    )
    text = explanation(inst)
    assert "maximum wait of 0 min between operation 10 of WO-4 and operation 20 of WO-4" in text
    assert text.startswith("These requirements cannot all be met")


def test_frozen_operations_on_top_of_each_other():
    from apps.scheduling.solver import Assignment

    inst = instance(
        [job("A", op("a", ("M1", 10))), job("B", op("b", ("M1", 10)))],
        machines("M1"),
        reference=(Assignment("a", "M1", 0, 10), Assignment("b", "M1", 5, 15)),
        frozen_until=20,
    )
    assert "overlap on machine M1" in explanation(inst)


def test_malformed_instance_raises():
    bad = Instance(jobs=(Job("J", (Operation("o", (Mode("nowhere", 5),)),)),), machines=(Machine("M1"),))
    with pytest.raises(ValueError, match="unknown machine 'nowhere'"):
        solve(bad)
