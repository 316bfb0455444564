"""Progress reporting and cancellation, the LNS path on a few hundred operations, the command line."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
import time

from click.testing import CliRunner

from apps.scheduling.solver import Instance, SolverConfig, Status, solve, validate
from apps.scheduling.solver.cli import solve as solve_command
from apps.scheduling.solver.generate import factory_instance

from .conftest import REPO, job, machines, op, solve_checked


def random_job_shop(n: int, m: int, seed: int) -> Instance:
    rng = random.Random(seed)
    jobs = []
    for j in range(n):
        route = rng.sample(range(m), m)
        jobs.append(job(f"J{j}", *(op(f"J{j}/{k}", (f"M{r}", rng.randint(1, 99))) for k, r in enumerate(route))))
    return Instance(jobs=tuple(jobs), machines=machines(*(f"M{r}" for r in range(m))), name=f"rand{n}x{m}")


def test_progress_receives_improving_solutions():
    updates = []
    inst = random_job_shop(12, 8, 3)
    solution = solve_checked(
        inst, SolverConfig(time_limit=3, workers=2, random_seed=1), progress=lambda p: updates.append(p)
    )
    assert updates and solution.status in (Status.OPTIMAL, Status.FEASIBLE)
    cp_sat = [u.objective for u in updates if u.source == "cp-sat"]
    assert all(b <= a for a, b in itertools.pairwise(cp_sat))
    assert min(u.objective for u in updates) == solution.objective
    assert all(u.elapsed <= 3.5 for u in updates)


def test_progress_can_stop_the_search():
    inst = random_job_shop(15, 10, 4)
    started = time.monotonic()
    solution = solve_checked(
        inst, SolverConfig(time_limit=20, workers=2, random_seed=1, warm_start=False), progress=lambda p: True
    )
    assert time.monotonic() - started < 10
    assert solution.has_schedule and solution.status == Status.FEASIBLE


def test_dispatch_strategy_returns_a_valid_schedule():
    inst = random_job_shop(10, 5, 5)
    solution = solve_checked(inst, SolverConfig(time_limit=2, strategy="dispatch"))
    assert solution.has_schedule and solution.stats.warm_start_rule


def test_lns_on_a_generated_factory():
    inst = factory_instance(orders=60, machines=12, seed=2, days=14)
    assert 250 <= inst.num_operations <= 400
    cfg = SolverConfig.for_objective("weighted_tardiness", time_limit=6, workers=2, random_seed=1, strategy="lns")
    solution = solve(inst, cfg)
    report = validate(inst, solution, cfg)
    assert report.ok, report.violations[:5]
    assert solution.stats.strategy == "lns" and solution.stats.lns_iterations >= 1
    assert solution.objective <= solution.stats.warm_start_objective


def test_cli_prints_one_json_line_and_writes_the_schedule(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("2 2\n0 3 1 2\n1 4 0 1\n")
    out = tmp_path / "schedule.json"
    result = CliRunner().invoke(
        solve_command, [str(path), "--time-limit", "2", "--workers", "2", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["instance"] == "tiny" and line["makespan"] == 6 and line["status"] == "optimal"
    assert line["bound"] == 6 and line["valid"] is True and "wall_seconds" in line
    written = json.loads(out.read_text())
    assert len(written["assignments"]) == 4


def test_cli_rejects_malformed_files(tmp_path):
    path = tmp_path / "bad.fjs"
    path.write_text("1 2\n1 1 7 4\n")
    result = CliRunner().invoke(solve_command, [str(path), "--time-limit", "1"])
    assert result.exit_code != 0 and "line 2" in result.output


def test_module_entry_point(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("2 2\n0 3 1 2\n1 4 0 1\n")
    done = subprocess.run(
        [sys.executable, "-m", "apps.scheduling.solver", str(path), "--time-limit", "2", "--objective", "flow_time"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
