"""The engine's native JSON format for instances and solutions (plain dicts, stable keys).

Instance JSON::

    {"name": "week 12", "horizon": 10080, "now": 0, "frozen_until": null,
     "setup_matrix": {"default": 0, "times": [["red", "blue", 30], ["blue", "red", 45]]},
     "machines": [{"id": "M1", "group": "lathes", "initial_family": "red",
                   "calendar": [[0, 480, "early"], [480, 960]], "unavailable": [[600, 660, "maintenance"]]}],
     "jobs": [{"id": "WO-0012", "release": 0, "due": 900, "weight": 3,
               "operations": [{"id": "WO-0012/10", "name": "10", "family": "red", "may_pause": false,
                               "min_lag": 0, "max_lag": null, "transfer_fraction": null,
                               "lock": {"machine": "M1", "start": null},
                               "modes": [{"machine": "M1", "duration": 45}]}]}],
     "reference": [{"operation": "WO-0012/10", "machine": "M1", "start": 0, "end": 45, "setup": 0}]}

Omitted keys take the data classes' defaults.
"""

from __future__ import annotations

from typing import Any

from .model import Assignment, Instance, Job, Lock, Machine, Mode, Operation, SetupMatrix, Solution, Window


def _windows(raw: list | None) -> tuple[Window, ...] | None:
    if raw is None:
        return None
    return tuple(Window(int(w[0]), int(w[1]), str(w[2]) if len(w) > 2 else "") for w in raw)


def _matrix(raw: dict | None) -> SetupMatrix | None:
    if raw is None:
        return None
    times = {(str(a), str(b)): int(t) for a, b, t in raw.get("times", [])}
    return SetupMatrix(times=times, default=int(raw.get("default", 0)))


def _matrix_dict(matrix: SetupMatrix | None) -> dict | None:
    if matrix is None:
        return None
    return {"default": matrix.default, "times": [[a, b, t] for (a, b), t in sorted(matrix.times.items())]}


def instance_from_dict(data: dict[str, Any]) -> Instance:
    """Build an Instance from its JSON dict (KeyError/ValueError/TypeError on malformed input)."""
    machines = tuple(
        Machine(
            id=str(m["id"]),
            name=m.get("name", ""),
            group=m.get("group"),
            calendar=_windows(m.get("calendar")),
            unavailable=_windows(m.get("unavailable")) or (),
            initial_family=m.get("initial_family"),
            setup_matrix=_matrix(m.get("setup_matrix")),
        )
        for m in data["machines"]
    )
    jobs = []
    for j in data["jobs"]:
        operations = []
        for o in j["operations"]:
            lock = o.get("lock")
            operations.append(
                Operation(
                    id=str(o["id"]),
                    name=str(o.get("name", "")),
                    family=o.get("family"),
                    modes=tuple(Mode(str(m["machine"]), int(m["duration"])) for m in o["modes"]),
                    may_pause=bool(o.get("may_pause", False)),
                    min_lag=int(o.get("min_lag", 0)),
                    max_lag=None if o.get("max_lag") is None else int(o["max_lag"]),
                    transfer_fraction=o.get("transfer_fraction"),
                    lock=None if lock is None else Lock(lock.get("machine"), lock.get("start")),
                )
            )
        jobs.append(
            Job(
                id=str(j["id"]),
                name=str(j.get("name", "")),
                operations=tuple(operations),
                release=int(j.get("release", 0)),
                due=None if j.get("due") is None else int(j["due"]),
                weight=int(j.get("weight", 1)),
            )
        )
    reference = tuple(
        Assignment(str(a["operation"]), str(a["machine"]), int(a["start"]), int(a["end"]), int(a.get("setup", 0)))
        for a in data.get("reference", [])
    )
    return Instance(
        jobs=tuple(jobs),
        machines=machines,
        setup_matrix=_matrix(data.get("setup_matrix")),
        horizon=data.get("horizon"),
        now=int(data.get("now", 0)),
        frozen_until=data.get("frozen_until"),
        reference=reference,
        name=str(data.get("name", "instance")),
    )


def _window_list(windows: tuple[Window, ...] | None) -> list | None:
    if windows is None:
        return None
    return [[w.start, w.end, w.label] if w.label else [w.start, w.end] for w in windows]


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The JSON dict of an Instance (inverse of instance_from_dict)."""
    return {
        "name": instance.name,
        "horizon": instance.horizon,
        "now": instance.now,
        "frozen_until": instance.frozen_until,
        "setup_matrix": _matrix_dict(instance.setup_matrix),
        "machines": [
            {
                "id": m.id,
                "name": m.name,
                "group": m.group,
                "calendar": _window_list(m.calendar),
                "unavailable": _window_list(m.unavailable),
                "initial_family": m.initial_family,
                "setup_matrix": _matrix_dict(m.setup_matrix),
            }
            for m in instance.machines
        ],
        "jobs": [
            {
                "id": j.id,
                "name": j.name,
                "release": j.release,
                "due": j.due,
                "weight": j.weight,
                "operations": [
                    {
                        "id": o.id,
                        "name": o.name,
                        "family": o.family,
                        "may_pause": o.may_pause,
                        "min_lag": o.min_lag,
                        "max_lag": o.max_lag,
                        "transfer_fraction": o.transfer_fraction,
                        "lock": None if o.lock is None else {"machine": o.lock.machine, "start": o.lock.start},
                        "modes": [{"machine": m.machine, "duration": m.duration} for m in o.modes],
                    }
                    for o in j.operations
                ],
            }
            for j in instance.jobs
        ],
        "reference": [assignment_to_dict(a) for a in instance.reference],
    }


def assignment_to_dict(a: Assignment) -> dict[str, Any]:
    """JSON dict of one assignment."""
    return {"operation": a.operation, "machine": a.machine, "start": a.start, "end": a.end, "setup": a.setup}


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    """The JSON dict of a Solution: status, objective, bound, gap, KPIs, statistics and the schedule."""
    kpis = solution.kpis
    stats = solution.stats
    return {
        "status": solution.status.value,
        "objective": solution.objective,
        "objective_values": dict(solution.objective_values),
        "bound": solution.bound,
        "gap": solution.gap,
        "explanation": list(solution.explanation),
        "kpis": None
        if kpis is None
        else {
            "makespan": kpis.makespan,
            "total_tardiness": kpis.total_tardiness,
            "weighted_tardiness": kpis.weighted_tardiness,
            "tardiness_by_job": dict(kpis.tardiness_by_job),
            "late_jobs": kpis.late_jobs,
            "total_setup": kpis.total_setup,
            "flow_time": kpis.flow_time,
            "utilization": dict(kpis.utilization),
        },
        "stats": {name: getattr(stats, name) for name in stats.__dataclass_fields__},
        "assignments": [assignment_to_dict(a) for a in solution.assignments],
    }
