"""Scheduling benchmark: this engine vs a textbook CP-SAT model vs the best dispatching rule.

Runs every solver under the same time limit and worker count on public job-shop and flexible job-shop
instances (read from ../shared/bench, or $MES_BENCH_DIR), reports the gap to the best known makespan per
instance and on average over several seeds (mean and worst), and measures a generated realistic factory
(time to first feasible schedule, weighted tardiness against earliest-due-date dispatch).

    python bench/scheduling.py            # default set (about 26 minutes on 2 cores)
    python bench/scheduling.py --quick    # smoke subset, about 2 minutes
    python bench/scheduling.py --all      # every instance
    python bench/scheduling.py --out docs/performance-table.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.scheduling.solver import SolverConfig, solve, validate  # noqa: E402
from apps.scheduling.solver.generate import factory_instance  # noqa: E402
from apps.scheduling.solver.heuristics import dispatch, evaluate, rules_for  # noqa: E402
from apps.scheduling.solver.model import Instance, Objective  # noqa: E402
from apps.scheduling.solver.prepare import compile_instance  # noqa: E402
from apps.scheduling.solver.readers import read_instance  # noqa: E402

DEFAULT_JSSP = [
    "ft10",
    "la21",
    "la24",
    "la25",
    "la27",
    "la29",
    "la36",
    "la37",
    "la38",
    "la39",
    "la40",
    "abz7",
    "abz8",
    "abz9",
    "ta01",
    "ta11",
    "ta21",
    "ta31",
    "ta41",
]
DEFAULT_FJSP = [f"mk{k:02d}" for k in range(1, 11)]
QUICK_JSSP = ["ft10", "la21", "ta21"]
QUICK_FJSP = ["mk01", "mk04"]


def bench_dir() -> Path:
    """Location of the public instances."""
    return Path(os.environ.get("MES_BENCH_DIR", REPO.parent / "shared" / "bench"))


def textbook_makespan(instance: Instance, time_limit: float, workers: int, seed: int) -> tuple[int | None, float]:
    """The plain model everyone writes: optional interval per machine choice, no-overlap, precedence."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    horizon = sum(max(m.duration for m in op.modes) for job in instance.jobs for op in job.operations)
    by_machine: dict[str, list] = {}
    ends = []
    for job in instance.jobs:
        previous_end = None
        for op in job.operations:
            start = model.new_int_var(0, horizon, "")
            end = model.new_int_var(0, horizon, "")
            literals = []
            for mode in op.modes:
                present = model.new_bool_var("") if len(op.modes) > 1 else True
                interval = model.new_optional_interval_var(start, mode.duration, end, present, "")
                by_machine.setdefault(mode.machine, []).append(interval)
                if len(op.modes) > 1:
                    literals.append(present)
            if literals:
                model.add_exactly_one(literals)
            if previous_end is not None:
                model.add(start >= previous_end)
            previous_end = end
        ends.append(previous_end)
    for intervals in by_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    started = time.monotonic()
    status = solver.solve(model)
    value = int(solver.objective_value) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    return value, time.monotonic() - started


def best_dispatch_makespan(instance: Instance) -> tuple[int, float]:
    """Best makespan over the makespan dispatching rules."""
    problem = compile_instance(instance)
    config = SolverConfig()
    started = time.monotonic()
    values = []
    for rule in rules_for(config):
        schedule = dispatch(problem, rule)
        if schedule is not None:
            values.append(evaluate(problem, schedule, config)[Objective.MAKESPAN])
    return min(values), time.monotonic() - started


def engine_makespan(instance: Instance, time_limit: float, workers: int, seed: int) -> tuple[int | None, float]:
    """This engine's makespan (validated independently)."""
    config = SolverConfig(time_limit=time_limit, workers=workers, random_seed=seed)
    started = time.monotonic()
    solution = solve(instance, config)
    wall = time.monotonic() - started
    if not solution.has_schedule:
        return None, wall
    report = validate(instance, solution, config)
    if not report.ok:
        raise SystemExit(f"{instance.name}: engine schedule failed validation: {report.violations[:3]}")
    return solution.kpis.makespan, wall


def gap(value: int | None, best: int) -> float | None:
    """Gap in percent to the best known makespan."""
    return None if value is None else 100.0 * (value - best) / best


def fmt(x: float | None) -> str:
    """Percent with two decimals, or 'n/a'."""
    return "n/a" if x is None else f"{x:.2f}"


def run_set(names: list[str], kind: str, limit: float, workers: int, seeds: list[int], log) -> list[dict]:
    """Benchmark one instance family; returns one row per instance."""
    bounds = json.loads((bench_dir() / kind / "bounds.json").read_text())
    rows = []
    for name in names:
        info = bounds[name]
        instance = read_instance(bench_dir() / kind / info["file"])
        best = info["upper_bound"]
        dispatch_value, _ = best_dispatch_makespan(instance)
        engine_gaps, textbook_gaps = [], []
        for seed in seeds:
            value, _ = engine_makespan(instance, limit, workers, seed)
            engine_gaps.append(gap(value, best))
            value, _ = textbook_makespan(instance, limit, workers, seed)
            textbook_gaps.append(gap(value, best))
        row = {
            "name": name,
            "size": f"{info['jobs']}x{info['machines']}",
            "best": best,
            "engine_mean": _mean(engine_gaps),
            "engine_worst": _worst(engine_gaps),
            "textbook_mean": _mean(textbook_gaps),
            "textbook_worst": _worst(textbook_gaps),
            "dispatch": gap(dispatch_value, best),
        }
        rows.append(row)
        log(
            f"{name:6s} best {best:5d}  engine {fmt(row['engine_mean'])}% (worst {fmt(row['engine_worst'])})  "
            f"textbook {fmt(row['textbook_mean'])}% (worst {fmt(row['textbook_worst'])})  "
            f"dispatch {fmt(row['dispatch'])}%"
        )
    return rows


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if len(known) == len(values) and known else None


def _worst(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if len(known) == len(values) and known else None


def factory(limit: float, workers: int, seed: int, log) -> dict:
    """Generated factory: first feasible time and weighted tardiness vs EDD dispatch."""
    instance = factory_instance(seed=seed)
    problem = compile_instance(instance)
    config = SolverConfig.for_objective("weighted_tardiness", time_limit=limit, workers=workers, random_seed=seed)
    edd = evaluate(problem, dispatch(problem, "edd"), config)[Objective.WEIGHTED_TARDINESS]
    first = {}

    def progress(update) -> None:
        first.setdefault("seconds", update.elapsed)

    started = time.monotonic()
    solution = solve(instance, config, progress)
    wall = time.monotonic() - started
    report = validate(instance, solution, config)
    result = {
        "operations": instance.num_operations,
        "machines": len(instance.machines),
        "edd": edd,
        "engine": solution.kpis.weighted_tardiness if solution.kpis else None,
        "valid": report.ok,
        "first_feasible": first.get("seconds"),
        "wall": wall,
        "strategy": solution.stats.strategy,
        "iterations": solution.stats.lns_iterations,
        "warm_rule": solution.stats.warm_start_rule,
        "warm": solution.stats.warm_start_objective,
    }
    log(f"factory {result}")
    return result


def table(title: str, rows: list[dict]) -> list[str]:
    """Markdown table of one instance family, with a mean row."""
    lines = [
        f"### {title}",
        "",
        "| instance | size | best known | engine gap % mean | engine worst | "
        "textbook gap % mean | textbook worst | best dispatch gap % |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['size']} | {r['best']} | {fmt(r['engine_mean'])} | {fmt(r['engine_worst'])} "
            f"| {fmt(r['textbook_mean'])} | {fmt(r['textbook_worst'])} | {fmt(r['dispatch'])} |"
        )
    lines.append(
        "| **mean** | | | "
        + " | ".join(
            fmt(_col(rows, c)) for c in ("engine_mean", "engine_worst", "textbook_mean", "textbook_worst", "dispatch")
        )
        + " |"
    )
    return [*lines, ""]


def _col(rows: list[dict], column: str) -> float | None:
    values = [r[column] for r in rows]
    return statistics.fmean(values) if values and all(v is not None for v in values) else None


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2-minute smoke subset")
    parser.add_argument("--all", action="store_true", help="every public instance")
    parser.add_argument("--jssp-limit", type=float, default=10.0)
    parser.add_argument("--fjsp-limit", type=float, default=30.0)
    parser.add_argument("--factory-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=2, help="seeds per instance (mean and worst are reported)")
    parser.add_argument("--no-factory", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown tables here")
    args = parser.parse_args()
    if not bench_dir().exists():
        raise SystemExit(f"benchmark instances not found in {bench_dir()} (set MES_BENCH_DIR)")
    jssp, fjsp = DEFAULT_JSSP, DEFAULT_FJSP
    seeds = list(range(args.seeds))
    if args.quick:
        jssp, fjsp, seeds = QUICK_JSSP, QUICK_FJSP, [0]
        args.jssp_limit, args.fjsp_limit, args.factory_limit = 5.0, 10.0, 20.0
    if args.all:
        jssp = sorted(json.loads((bench_dir() / "jssp" / "bounds.json").read_text()))
        fjsp = sorted(json.loads((bench_dir() / "fjsp" / "bounds.json").read_text()))

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.monotonic()
    jssp_rows = run_set(jssp, "jssp", args.jssp_limit, args.workers, seeds, log)
    fjsp_rows = run_set(fjsp, "fjsp", args.fjsp_limit, args.workers, seeds, log)
    lines = [
        f"Time limit {args.jssp_limit:g} s (job shop) / {args.fjsp_limit:g} s (flexible), {args.workers} workers, "
        f"seeds {seeds}; gap = 100 * (makespan - best known) / best known.",
        "",
    ]
    lines += table("Job shop", jssp_rows) + table("Flexible job shop", fjsp_rows)
    if not args.no_factory:
        lines += [
            "### Generated factory",
            "",
            f"About 300 orders, 1,500 operations, 40 machines, 3 families with setups, two shifts, due dates "
            f"(`factory_instance(seed=K)`); weighted tardiness after {args.factory_limit:g} s with "
            f"{args.workers} workers, against the earliest-due-date dispatch schedule.",
            "",
            "| seed | operations | first feasible (s) | weighted tardiness, EDD dispatch | "
            "weighted tardiness, engine | engine / EDD | LNS iterations | valid |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for seed in seeds:
            f = factory(args.factory_limit, args.workers, seed, log)
            ratio = f"{f['engine'] / f['edd']:.3f}" if f["edd"] else "n/a"
            lines.append(
                f"| {seed} | {f['operations']} | {f['first_feasible']:.2f} | {f['edd']} | {f['engine']} | "
                f"{ratio} | {f['iterations']} | {f['valid']} |"
            )
        lines.append("")
    lines.append(f"Total benchmark wall time: {(time.monotonic() - started) / 60:.1f} min.")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
