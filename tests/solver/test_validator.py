"""The independent validator catches each kind of broken schedule."""

from __future__ import annotations

from apps.scheduling.solver import Assignment, Lock, SetupMatrix, Window, validate

from .conftest import instance, job, machines, op

SETUPS = SetupMatrix({("A", "B"): 5, ("B", "A"): 5})


def base():
    return instance(
        [
            job("J1", op("a", ("M1", 10), family="A"), op("b", ("M2", 5), ("M1", 7), family="A")),
            job("J2", op("c", ("M1", 4), family="B"), release=2, due=12),
        ],
        machines("M1", "M2"),
        setup_matrix=SETUPS,
    )


GOOD = [Assignment("a", "M1", 0, 10), Assignment("b", "M2", 10, 15), Assignment("c", "M1", 15, 19, 5)]


def violations(schedule, inst=None) -> str:
    return " | ".join(validate(inst or base(), schedule).violations)


def replace(op_id, **changes):
    out = []
    for a in GOOD:
        if a.operation == op_id:
            a = (
                Assignment(**{**a.__dict__, **changes})
                if hasattr(a, "__dict__")
                else Assignment(
                    changes.get("operation", a.operation),
                    changes.get("machine", a.machine),
                    changes.get("start", a.start),
                    changes.get("end", a.end),
                    changes.get("setup", a.setup),
                )
            )
        out.append(a)
    return out


def test_good_schedule_passes_and_kpis_are_recomputed():
    report = validate(base(), GOOD)
    assert report.ok, report.violations
    assert report.kpis.makespan == 19 and report.kpis.total_setup == 5
    assert report.kpis.tardiness_by_job == {"J1": 0, "J2": 7}
    assert report.objective_values["late_jobs"] == 1


def test_missing_and_duplicate_operations():
    assert "operation c of J2 is not scheduled" in violations(GOOD[:2])
    assert "more than once" in violations([*GOOD, GOOD[0]])


def test_ineligible_machine_and_wrong_duration():
    assert "not eligible" in violations(replace("a", machine="M2"))
    assert "lasts 6 min on M2, expected 5" in violations(replace("b", end=16))


def test_precedence_and_release():
    assert "before operation a of J1 ends" in violations(replace("b", start=8, end=13))
    early = [GOOD[0], GOOD[1], Assignment("c", "M1", -9, -5, 5)]
    assert "before the release of J2" in violations(early)


def test_overlap_and_missing_setup():
    assert "overlaps" in violations(replace("c", start=12, end=16))
    text = violations(replace("c", setup=0))
    assert "reports a setup of 0 min" in text


def test_calendar_unavailability_lock_and_frozen():
    inst = instance(
        [job("J", op("a", ("M1", 5), lock=Lock(start=3)))],
        machines("M1", calendar=(Window(0, 6),), unavailable=(Window(20, 30),)),
    )
    assert "does not fit inside one working interval" in violations([Assignment("a", "M1", 3, 8)], inst)
    assert "locked to start at 3" in violations([Assignment("a", "M1", 0, 5)], inst)
    inst = instance([job("J", op("a", ("M1", 5)))], machines("M1", unavailable=(Window(2, 4, "maintenance"),)))
    assert "overlaps the unavailability 2-4 (maintenance)" in violations([Assignment("a", "M1", 0, 5)], inst)
    inst = instance(
        [job("J", op("a", ("M1", 5)))], machines("M1"), reference=(Assignment("a", "M1", 0, 5),), frozen_until=1
    )
    assert "is frozen" in violations([Assignment("a", "M1", 1, 6)], inst)


def test_lags_and_transfer_batches():
    inst = instance(
        [job("J", op("a", ("M1", 10)), op("b", ("M2", 4), transfer_fraction=0.5, max_lag=3))], machines("M1", "M2")
    )
    assert "first transfer batch" in violations([Assignment("a", "M1", 0, 10), Assignment("b", "M2", 2, 6)], inst)
    assert "last transfer batch" in violations([Assignment("a", "M1", 0, 10), Assignment("b", "M2", 5, 9)], inst)
    assert validate(inst, [Assignment("a", "M1", 0, 10), Assignment("b", "M2", 8, 12)]).ok
    assert "more than the maximum 3" in violations([Assignment("a", "M1", 0, 10), Assignment("b", "M2", 14, 18)], inst)
