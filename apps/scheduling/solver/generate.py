"""Generated instances that look like a real factory: machine groups, product families with setups, two shifts
on weekdays, maintenance windows, releases and due dates. Used by the benchmark and the tests."""

from __future__ import annotations

import random

from .model import Instance, Job, Machine, Mode, Operation, SetupMatrix, Window

DAY = 1440


def two_shift_calendar(days: int, start_weekday: int = 0) -> tuple[Window, ...]:
    """Early (06:00-14:00) and late (14:00-22:00) shifts on weekdays, nothing on weekends."""
    windows = []
    for day in range(days):
        if (start_weekday + day) % 7 >= 5:
            continue
        base = day * DAY
        windows.append(Window(base + 360, base + 840, "early"))
        windows.append(Window(base + 840, base + 1320, "late"))
    return tuple(windows)


def factory_instance(
    orders: int = 300,
    machines: int = 40,
    families: int = 3,
    operations_per_order: float = 5.0,
    days: int = 21,
    seed: int = 0,
    calendars: bool = True,
    setups: bool = True,
) -> Instance:
    """A realistic flexible job shop (about ``orders * operations_per_order`` operations)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    group_count = max(1, machines // 5)
    groups = [[] for _ in range(group_count)]
    for k in range(machines):
        groups[k % group_count].append(f"M{k + 1:02d}")
    family_names = [chr(ord("A") + f) for f in range(families)]
    times = {(a, b): rng.randint(15, 45) for a in family_names for b in family_names if a != b}
    calendar = two_shift_calendar(days) if calendars else None
    machine_list = []
    for g, members in enumerate(groups):
        for name in members:
            unavailable = ()
            if rng.random() < 0.25:
                day = rng.randint(1, 4)
                unavailable = (Window(day * DAY + 600, day * DAY + 720, "maintenance"),)
            machine_list.append(
                Machine(
                    id=name,
                    group=f"G{g + 1}",
                    calendar=calendar,
                    unavailable=unavailable,
                    initial_family=rng.choice(family_names) if setups else None,
                )
            )
    jobs = []
    for j in range(orders):
        family = rng.choice(family_names)
        count = max(1, round(rng.gauss(operations_per_order, 1.2)))
        route_groups = sorted(rng.sample(range(group_count), min(count, group_count)))
        while len(route_groups) < count:
            route_groups.append(rng.randrange(group_count))
        ops = []
        total = 0
        for k, g in enumerate(route_groups, start=1):
            base = rng.randint(20, 120)
            eligible = rng.sample(groups[g], min(len(groups[g]), rng.randint(2, 3)))
            modes = tuple(Mode(m, max(5, int(base * rng.uniform(0.8, 1.25)))) for m in eligible)
            total += base
            ops.append(
                Operation(
                    id=f"WO-{j + 1:04d}/{k * 10}",
                    name=str(k * 10),
                    family=family if setups else None,
                    modes=modes,
                    may_pause=base > 90,
                    min_lag=rng.choice((0, 0, 0, 15)),
                )
            )
        release = rng.choice((0, 0, DAY, 2 * DAY)) + 360
        due = release + int(total * rng.uniform(2.0, 5.0)) + rng.randint(0, 4) * DAY
        jobs.append(
            Job(id=f"WO-{j + 1:04d}", operations=tuple(ops), release=release, due=due, weight=rng.choice((1, 1, 2, 3)))
        )
    return Instance(
        jobs=tuple(jobs),
        machines=tuple(machine_list),
        setup_matrix=SetupMatrix(times=times) if setups else None,
        horizon=days * DAY,
        name=f"factory-{orders}x{machines}-s{seed}",
    )
