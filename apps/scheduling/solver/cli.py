"""Command line: ``solve FILE --time-limit S --workers N [--seed K] [--objective ...] [--out PATH]``.

Prints exactly one JSON line with the instance name, objective, status, bound and wall seconds; ``--out`` writes
the full solution (schedule, KPIs, statistics) as JSON. The platform attaches the command as ``mes solve``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .model import Combine, Objective, ObjectiveTerm, SolverConfig, Status

OBJECTIVE_NAMES = [o.value for o in Objective]


def _parse_objectives(text: str) -> tuple[ObjectiveTerm, ...]:
    terms = []
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        if name not in OBJECTIVE_NAMES:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(OBJECTIVE_NAMES)}")
        terms.append(ObjectiveTerm(Objective(name), int(weight) if weight else 1))
    return tuple(terms)


@click.command("solve")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--time-limit", default=10.0, show_default=True, help="Wall-clock limit in seconds.")
@click.option("--workers", default=2, show_default=True, help="CP-SAT worker threads.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option(
    "--objective",
    default="makespan",
    show_default=True,
    help="One of " + "|".join(OBJECTIVE_NAMES) + "; several as 'a,b' (optionally 'a:3,b:1' weights).",
)
@click.option("--lexicographic", is_flag=True, help="Combine several objectives in order instead of by weights.")
@click.option("--gap", default=0.0, show_default=True, help="Stop at this relative gap.")
@click.option("--strategy", type=click.Choice(["auto", "full", "lns", "dispatch"]), default="auto", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsplib", "taillard", "fjs", "json"]),
    default="auto",
    show_default=True,
    help="Input format.",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the solution as JSON here.")
@click.option("--log", is_flag=True, help="Show CP-SAT's search log on stderr.")
def solve(
    file: str,
    time_limit: float,
    workers: int,
    seed: int,
    objective: str,
    lexicographic: bool,
    gap: float,
    strategy: str,
    fmt: str,
    out: str | None,
    log: bool,
) -> None:
    """Schedule FILE (JSPLIB, Taillard, .fjs or native JSON) and print one JSON line with the result."""
    from . import engine
    from .readers import read_instance
    from .serialize import solution_to_dict
    from .validate import validate

    started = time.monotonic()
    try:
        instance = read_instance(file, None if fmt == "auto" else fmt)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    config = SolverConfig(
        time_limit=time_limit,
        workers=workers,
        random_seed=seed,
        relative_gap=gap,
        objectives=_parse_objectives(objective),
        combine=Combine.LEXICOGRAPHIC if lexicographic else Combine.WEIGHTED,
        strategy=strategy,
        log=False,
    )
    if log:
        config = SolverConfig(**{**{f: getattr(config, f) for f in config.__dataclass_fields__}, "log": True})
    solution = engine.solve(instance, config)
    report = validate(instance, solution, config)
    line = {
        "instance": instance.name,
        "objective_name": objective,
        "objective": solution.objective,
        "makespan": solution.kpis.makespan if solution.kpis else None,
        "status": solution.status.value,
        "bound": solution.bound,
        "gap": solution.gap,
        "wall_seconds": round(time.monotonic() - started, 3),
        "valid": report.ok if solution.has_schedule else None,
        "operations": instance.num_operations,
        "strategy": solution.stats.strategy,
    }
    if solution.status == Status.INFEASIBLE:
        line["explanation"] = list(solution.explanation)
    click.echo(json.dumps(line))
    if out:
        Path(out).write_text(json.dumps({"instance": instance.name, **solution_to_dict(solution)}, indent=1))
    if solution.has_schedule and not report.ok:
        click.echo("; ".join(report.violations[:10]), err=True)
        sys.exit(2)


def main() -> None:
    """Entry point for ``python -m apps.scheduling.solver``."""
    solve(prog_name="python -m apps.scheduling.solver")
