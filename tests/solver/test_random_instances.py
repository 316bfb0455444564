"""Random small factories with every feature switched on: whatever the engine returns must pass the independent
validator, and the reported objective must match the one the validator recomputes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.scheduling.solver import (
    Instance,
    Job,
    Lock,
    Machine,
    Mode,
    Operation,
    SetupMatrix,
    SolverConfig,
    Status,
    Window,
    solve,
    validate,
)

FAMILIES = ("A", "B", None)


@st.composite
def factories(draw) -> Instance:
    machine_count = draw(st.integers(1, 3))
    calendars = draw(st.booleans())
    machines = []
    for k in range(machine_count):
        calendar = (Window(0, 40), Window(60, 120), Window(120, 200), Window(260, 600)) if calendars else None
        unavailable = (Window(30, 45, "maintenance"),) if draw(st.booleans()) else ()
        machines.append(
            Machine(f"M{k}", calendar=calendar, unavailable=unavailable, initial_family=draw(st.sampled_from(FAMILIES)))
        )
    jobs = []
    for j in range(draw(st.integers(1, 4))):
        ops = []
        for k in range(draw(st.integers(1, 3))):
            eligible = draw(
                st.lists(st.integers(0, machine_count - 1), min_size=1, max_size=machine_count, unique=True)
            )
            modes = tuple(Mode(f"M{m}", draw(st.integers(1, 25))) for m in eligible)
            lock = Lock(machine=modes[0].machine) if draw(st.integers(0, 9)) == 0 else None
            ops.append(
                Operation(
                    id=f"J{j}/{k}",
                    modes=modes,
                    family=draw(st.sampled_from(FAMILIES)),
                    may_pause=draw(st.booleans()),
                    min_lag=draw(st.sampled_from((0, 0, 5))),
                    max_lag=draw(st.sampled_from((None, None, 60))),
                    transfer_fraction=draw(st.sampled_from((None, None, 0.5))) if k > 0 else None,
                    lock=lock,
                )
            )
        jobs.append(
            Job(
                f"J{j}",
                tuple(ops),
                release=draw(st.sampled_from((0, 0, 10))),
                due=draw(st.sampled_from((None, 50, 120))),
                weight=draw(st.integers(1, 3)),
            )
        )
    setups = SetupMatrix({("A", "B"): 7, ("B", "A"): 3}, default=2)
    return Instance(jobs=tuple(jobs), machines=tuple(machines), setup_matrix=setups, horizon=600)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(factories(), st.sampled_from(("makespan", "weighted_tardiness", "setup")))
def test_engine_schedules_always_pass_the_validator(instance, objective):
    config = SolverConfig.for_objective(objective, time_limit=1.0, workers=2, random_seed=0)
    solution = solve(instance, config)
    if solution.status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        assert not solution.has_schedule
        if solution.status == Status.INFEASIBLE:
            assert solution.explanation
        return
    report = validate(instance, solution, config)
    assert report.ok, report.violations
    assert report.objective_values[objective] == solution.objective


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(factories(), st.sampled_from((20, 60, 150)), st.sampled_from(("makespan", "stability")))
def test_replanning_with_frozen_operations_passes_the_validator(instance, frozen_until, objective):
    first = solve(instance, SolverConfig(time_limit=1.0, workers=2))
    if not first.has_schedule:
        return
    extra = Job("NEW", (Operation("NEW/0", tuple(Mode(m.id, 10) for m in instance.machines), family="A"),))
    replanned = Instance(
        jobs=(*instance.jobs, extra),
        machines=instance.machines,
        setup_matrix=instance.setup_matrix,
        horizon=instance.horizon,
        now=frozen_until,
        frozen_until=frozen_until,
        reference=first.assignments,
    )
    config = SolverConfig.for_objective(objective, time_limit=1.0, workers=2)
    solution = solve(replanned, config)
    if not solution.has_schedule:
        assert solution.status in (Status.INFEASIBLE, Status.NO_SOLUTION)
        return
    report = validate(replanned, solution, config)
    assert report.ok, report.violations
    frozen = {a.operation: a for a in first.assignments if a.start < frozen_until}
    placed = solution.by_operation()
    assert all(placed[o].start == a.start and placed[o].machine == a.machine for o, a in frozen.items())
