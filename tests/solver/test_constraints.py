"""Every constraint kind on a tiny instance whose optimum is known, chosen so that ignoring the constraint
would give a different optimum. Assertions are on objective values and validity, not on exact assignments."""

from __future__ import annotations

import itertools

from apps.scheduling.solver import (
    Assignment,
    Combine,
    Lock,
    Machine,
    Objective,
    ObjectiveTerm,
    SetupMatrix,
    SolverConfig,
    Status,
    Window,
)

from .conftest import config, instance, job, machines, op, solve_checked


def makespan_of(inst, **kwargs) -> int:
    solution = solve_checked(inst, config(**kwargs))
    assert solution.status == Status.OPTIMAL
    return solution.objective


def test_job_shop_optimum():
    inst = instance(
        [job("J1", op("a", ("M1", 3)), op("b", ("M2", 2))), job("J2", op("c", ("M2", 4)), op("d", ("M1", 1)))],
        machines("M1", "M2"),
    )
    assert makespan_of(inst) == 6


def test_sequence_dependent_setups_group_families():
    setups = SetupMatrix({("A", "B"): 20, ("B", "A"): 20})
    jobs = [
        job("A1", op("a1", ("M1", 10), family="A")),
        job("B1", op("b1", ("M1", 10), family="B")),
        job("A2", op("a2", ("M1", 10), family="A")),
    ]
    solution = solve_checked(instance(jobs, machines("M1"), setup_matrix=setups), config())
    assert solution.objective == 50 and solution.kpis.total_setup == 20
    assert makespan_of(instance(jobs, machines("M1"))) == 30


def test_initial_setup_state_is_paid_by_the_first_operation():
    setups = SetupMatrix({("A", "B"): 15, ("B", "A"): 15})
    jobs = [job("J", op("a", ("M1", 10), family="A"))]
    assert makespan_of(instance(jobs, machines("M1", initial_family="B"), setup_matrix=setups)) == 25
    assert makespan_of(instance(jobs, machines("M1", initial_family="A"), setup_matrix=setups)) == 10


def test_asymmetric_setups_choose_the_cheap_direction():
    setups = SetupMatrix({("A", "B"): 30, ("B", "A"): 2})
    jobs = [job("J1", op("a", ("M1", 5), family="A")), job("J2", op("b", ("M1", 5), family="B"))]
    assert makespan_of(instance(jobs, machines("M1"), setup_matrix=setups)) == 12


def test_minimum_lag():
    jobs = [job("J", op("a", ("M1", 5)), op("b", ("M2", 5), min_lag=10))]
    assert makespan_of(instance(jobs, machines("M1", "M2"))) == 20


def test_maximum_lag_forces_a_worse_sequence():
    def build(max_lag):
        return instance(
            [
                job("J1", op("a", ("M1", 3)), op("b", ("M2", 3), max_lag=max_lag)),
                job("J2", op("c", ("M2", 8))),
                job("J3", op("d", ("M1", 10))),
            ],
            machines("M1", "M2"),
        )

    assert makespan_of(build(None)) == 13
    assert makespan_of(build(0)) == 14


def test_transfer_batch_overlap():
    jobs = [job("J", op("a", ("M1", 10)), op("b", ("M2", 10), transfer_fraction=0.2))]
    assert makespan_of(instance(jobs, machines("M1", "M2"))) == 12
    plain = [job("J", op("a", ("M1", 10)), op("b", ("M2", 10)))]
    assert makespan_of(instance(plain, machines("M1", "M2"))) == 20


def test_eligible_machines_have_their_own_durations():
    jobs = [job("J1", op("a", ("M1", 10), ("M2", 4))), job("J2", op("b", ("M2", 4)))]
    assert makespan_of(instance(jobs, machines("M1", "M2"))) == 8


def test_calendar_fit_in_one_interval_versus_pause():
    calendar = (Window(0, 8), Window(16, 24))

    def build(may_pause):
        return instance(
            [job("J", op("a", ("M1", 6), may_pause=may_pause), release=4)], machines("M1", calendar=calendar)
        )

    assert makespan_of(build(False)) == 22
    assert makespan_of(build(True)) == 18


def test_night_shift_across_midnight_is_one_interval():
    day = 1440
    calendar = tuple(
        w for d in range(3) for w in (Window(d * day, d * day + 360), Window(d * day + 1320, (d + 1) * day))
    )
    inst = instance([job("J", op("a", ("M1", 300)), release=1320)], machines("M1", calendar=calendar))
    assert makespan_of(inst) == 1620


def test_holiday_pushes_work_to_the_next_working_day():
    day = 1440
    calendar = (Window(1320, day), Window(2 * day, 2 * day + 360), Window(2 * day + 1320, 3 * day))
    for may_pause, end in ((False, 2 * day + 300), (True, 2 * day + 180)):
        inst = instance(
            [job("J", op("a", ("M1", 300), may_pause=may_pause), release=1320)], machines("M1", calendar=calendar)
        )
        assert makespan_of(inst) == end


def test_unavailability_cannot_be_bridged_even_by_pausable_operations():
    for may_pause in (False, True):
        inst = instance(
            [job("J", op("a", ("M1", 8), may_pause=may_pause))],
            machines("M1", unavailable=(Window(5, 10, "maintenance"),)),
        )
        assert makespan_of(inst) == 18
    assert makespan_of(instance([job("J", op("a", ("M1", 8)))], machines("M1"))) == 8


def test_setup_must_not_overlap_unavailability():
    setups = SetupMatrix({("B", "A"): 5})
    inst = instance(
        [job("J", op("a", ("M1", 10), family="A"))],
        machines("M1", initial_family="B", unavailable=(Window(0, 3),)),
        setup_matrix=setups,
    )
    assert makespan_of(inst) == 18


def test_release_dates():
    jobs = [job("J1", op("a", ("M1", 10)), release=50), job("J2", op("b", ("M1", 10)))]
    assert makespan_of(instance(jobs, machines("M1"))) == 60


def test_now_keeps_unfrozen_work_in_the_future():
    inst = instance([job("J", op("a", ("M1", 10)))], machines("M1"), now=30)
    solution = solve_checked(inst)
    assert solution.objective == 40 and solution.assignments[0].start == 30


SINGLE_MACHINE = [("a", 4, 4, 1), ("b", 3, 6, 3), ("c", 2, 5, 2), ("d", 5, 9, 1)]


def brute_force(measure) -> int:
    best = None
    for order in itertools.permutations(SINGLE_MACHINE):
        t, value = 0, 0
        for _, p, due, weight in order:
            t += p
            value += measure(t, due, weight)
        best = value if best is None else min(best, value)
    return best


def single_machine_instance():
    return instance(
        [job(n, op(n + "1", ("M1", p)), due=due, weight=w) for n, p, due, w in SINGLE_MACHINE], machines("M1")
    )


def test_weighted_tardiness_matches_brute_force():
    expected = brute_force(lambda t, due, w: w * max(0, t - due))
    solution = solve_checked(single_machine_instance(), config("weighted_tardiness"))
    assert solution.status == Status.OPTIMAL and solution.objective == expected
    unweighted = brute_force(lambda t, due, w: max(0, t - due))
    assert solve_checked(single_machine_instance(), config("tardiness")).objective == unweighted
    assert expected != unweighted


def test_late_jobs_match_brute_force():
    expected = brute_force(lambda t, due, w: int(t > due))
    solution = solve_checked(single_machine_instance(), config("late_jobs"))
    assert solution.objective == expected


def test_total_setup_objective():
    setups = SetupMatrix(default=10)
    jobs = [job(f"J{k}", op(f"o{k}", ("M1", 5), family=fam)) for k, fam in enumerate("ABAB")]
    solution = solve_checked(instance(jobs, machines("M1", initial_family="A"), setup_matrix=setups), config("setup"))
    assert solution.objective == 10


def test_stability_keeps_the_reference_and_prefers_the_reference_machine():
    reference = (Assignment("a", "M1", 0, 10), Assignment("b", "M1", 10, 20))
    jobs = [job("J1", op("a", ("M1", 10), ("M2", 10))), job("J2", op("b", ("M1", 10))), job("J3", op("c", ("M1", 5)))]
    inst = instance(jobs, machines("M1", "M2"), reference=reference)
    solution = solve_checked(inst, config("stability"))
    assert solution.objective == 0
    placed = solution.by_operation()
    assert (placed["a"].machine, placed["a"].start, placed["b"].start) == ("M1", 0, 10)
    assert makespan_of(inst) == 15


def test_frozen_operations_stay_even_when_moving_them_would_help():
    jobs = [job("J1", op("a", ("M1", 4)), op("b", ("M2", 10))), job("J2", op("c", ("M1", 10)))]
    reference = (Assignment("c", "M1", 0, 10), Assignment("a", "M1", 10, 14), Assignment("b", "M2", 14, 24))
    frozen = instance(jobs, machines("M1", "M2"), reference=reference, frozen_until=5)
    assert makespan_of(frozen) == 24
    assert makespan_of(instance(jobs, machines("M1", "M2"), reference=reference)) == 14


def test_locked_operation_is_pinned():
    jobs = [job("J1", op("a", ("M1", 5), ("M2", 5), lock=Lock(machine="M2", start=20))), job("J2", op("b", ("M1", 5)))]
    solution = solve_checked(instance(jobs, machines("M1", "M2")))
    placed = solution.by_operation()["a"]
    assert (placed.machine, placed.start, solution.objective) == ("M2", 20, 25)


def test_lexicographic_tardiness_then_makespan():
    jobs = [job("J1", op("a", ("M1", 5)), op("b", ("M2", 5)), due=10), job("J2", op("c", ("M2", 3)), due=100)]
    cfg = SolverConfig(
        time_limit=5,
        workers=2,
        random_seed=1,
        combine=Combine.LEXICOGRAPHIC,
        objectives=(ObjectiveTerm(Objective.TARDINESS), ObjectiveTerm(Objective.MAKESPAN)),
    )
    solution = solve_checked(instance(jobs, machines("M1", "M2")), cfg)
    assert solution.objective_values["tardiness"] == 0 and solution.objective_values["makespan"] == 10


def test_identical_parallel_machines():
    durations = [5, 5, 4, 4, 3, 3]
    jobs = [job(f"J{k}", op(f"o{k}", *((m, d) for m in ("M1", "M2", "M3")))) for k, d in enumerate(durations)]
    solution = solve_checked(instance(jobs, (Machine("M1"), Machine("M2"), Machine("M3"))))
    assert solution.status == Status.OPTIMAL and solution.objective == 8
