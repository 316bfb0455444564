"""Data contracts of the scheduling engine: what goes in (Instance, SolverConfig) and what comes out (Solution).

All times are integer minutes on one time axis (minute 0 is an arbitrary origin chosen by the caller, for
example the start of the planning week). Intervals are half-open: ``[start, end)``.
Every class is a frozen dataclass made of plain values and tuples so an instance can be hashed, compared,
serialised to JSON (see ``serialize.py``) and shared between threads without copies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time interval ``[start, end)`` in minutes, with an optional label (e.g. "night shift").

    Used for working intervals of a machine calendar and for unavailability windows (maintenance, breakdowns).
    """

    start: int
    end: int
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window {self.label or ''} ends ({self.end}) before it starts ({self.start})".strip())


@dataclass(frozen=True, slots=True)
class SetupMatrix:
    """Sequence-dependent setup times between product families.

    ``times[(from_family, to_family)]`` is the changeover time in minutes needed on a machine before an operation
    of ``to_family`` when the previous operation on that machine (or the machine's initial state) was
    ``from_family``. Pairs that are not listed cost ``default`` when the families differ and 0 when they are the
    same family. Operations without a family never need a setup and do not change the machine state's need for
    one, i.e. any pair involving a ``None`` family costs 0.
    """

    times: Mapping[tuple[str, str], int] = field(default_factory=dict)
    default: int = 0

    def time(self, from_family: str | None, to_family: str | None) -> int:
        """Setup minutes needed to go from ``from_family`` to ``to_family``."""
        if from_family is None or to_family is None:
            return 0
        if (from_family, to_family) in self.times:
            return self.times[(from_family, to_family)]
        return 0 if from_family == to_family else self.default

    def max_time(self) -> int:
        """Largest setup time this matrix can produce."""
        return max([self.default, *self.times.values()], default=0)


@dataclass(frozen=True, slots=True)
class Machine:
    """A resource that processes one operation at a time.

    * ``id``: unique key, referenced by ``Mode.machine``.
    * ``group``: optional name of a group of similar machines (used for reporting and redundant capacity cuts).
    * ``calendar``: working intervals; ``None`` means the machine works around the clock. Touching intervals
      (e.g. a late shift ending at 22:00 and a night shift starting at 22:00) are merged: an operation that must
      fit inside one working interval may run across such a boundary.
    * ``unavailable``: windows no operation and no setup may overlap, not even a pausable one (planned
      maintenance, known breakdowns). Non-working time, in contrast, can be bridged by pausable operations.
    * ``initial_family``: the product family the machine is set up for at the start of planning; the first
      operation on the machine pays the setup from this family. ``None`` means no setup is owed for the first one.
    * ``setup_matrix``: overrides ``Instance.setup_matrix`` for this machine.
    """

    id: str
    name: str = ""
    group: str | None = None
    calendar: tuple[Window, ...] | None = None
    unavailable: tuple[Window, ...] = ()
    initial_family: str | None = None
    setup_matrix: SetupMatrix | None = None


@dataclass(frozen=True, slots=True)
class Mode:
    """One way to process an operation: on ``machine`` it takes ``duration`` minutes of working time."""

    machine: str
    duration: int

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError(f"negative duration {self.duration} on machine {self.machine}")


@dataclass(frozen=True, slots=True)
class Lock:
    """A planner's pin on an operation: ``machine`` and/or ``start`` are imposed (``None`` leaves it free)."""

    machine: str | None = None
    start: int | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """One step of a job's routing.

    * ``id``: unique within the instance (e.g. a database key); ``name`` is what planners call it
      (e.g. "30" for the operation numbered 30 in the routing) and is used in messages.
    * ``modes``: the eligible machines, each with its own duration (at least one).
    * ``family``: product family for sequence-dependent setups (``None``: no setups).
    * ``may_pause``: if False the operation (and its setup) must fit inside one working interval of the
      machine's calendar; if True it may be interrupted by non-working time (nights, weekends) and resumes
      after it; its duration then counts working minutes only. Unavailability windows may never be bridged.
    * Relation to the previous operation of the same job (ignored on the first operation):
      ``min_lag`` minutes must pass between the end of the previous operation and the start of this one
      (cooling, drying, transport); ``max_lag`` (if set) is the longest allowed wait between them.
      ``transfer_fraction`` (if set, in (0, 1]) allows overlap: this operation may start once that fraction of
      the previous operation's duration has elapsed (the first transfer batch), and it may not end earlier than
      the previous operation's end plus the same fraction of its own duration (the last batch). ``min_lag`` is
      then added to both of these times. Durations in this rule are the chosen modes' durations, rounded up.
    * ``lock``: the planner's pin, if any (see ``Lock``).
    """

    id: str
    modes: tuple[Mode, ...]
    name: str = ""
    family: str | None = None
    may_pause: bool = False
    min_lag: int = 0
    max_lag: int | None = None
    transfer_fraction: float | None = None
    lock: Lock | None = None

    @property
    def label(self) -> str:
        """Name used in messages to planners."""
        return self.name or self.id

    def duration_on(self, machine: str) -> int | None:
        """Duration of this operation on ``machine``, or None when that machine is not eligible."""
        for mode in self.modes:
            if mode.machine == machine:
                return mode.duration
        return None


@dataclass(frozen=True, slots=True)
class Job:
    """A work order: operations in routing order, with release date, due date and weight (priority).

    ``release``: no operation of the job may start before it (material availability).
    ``due``: completion (end of the last operation) after this is tardy; ``None`` means no due date.
    ``weight``: multiplies the job's tardiness and counts in weighted objectives (>= 0).
    """

    id: str
    operations: tuple[Operation, ...]
    release: int = 0
    due: int | None = None
    weight: int = 1
    name: str = ""

    @property
    def label(self) -> str:
        """Name used in messages to planners."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where and when one operation runs: on ``machine`` from ``start`` to ``end`` (elapsed, so a paused
    operation's ``end - start`` includes the non-working time it bridges). ``setup`` is the changeover time
    performed on the machine immediately before ``start``."""

    operation: str
    machine: str
    start: int
    end: int
    setup: int = 0


@dataclass(frozen=True, slots=True)
class Instance:
    """A complete scheduling problem.

    * ``horizon``: every operation must end by this minute; ``None`` lets the engine derive a safe one.
    * ``now``: operations that are not frozen may not start (nor have their setup start) before it.
    * ``reference``: the currently published schedule (may be partial). It seeds the search, is the baseline of
      the stability objective, and supplies the positions of frozen operations.
    * ``frozen_until``: operations of the reference that start before this minute (already started, or inside
      the frozen horizon) keep their machine, start and end; they are facts, so calendar, release and setup
      rules are not re-checked between two frozen operations. ``None`` freezes nothing.
    """

    jobs: tuple[Job, ...]
    machines: tuple[Machine, ...]
    setup_matrix: SetupMatrix | None = None
    horizon: int | None = None
    now: int = 0
    frozen_until: int | None = None
    reference: tuple[Assignment, ...] = ()
    name: str = "instance"

    def operations(self) -> list[tuple[Job, Operation]]:
        """All operations with their job, in job then routing order."""
        return [(job, op) for job in self.jobs for op in job.operations]

    def machine_by_id(self) -> dict[str, Machine]:
        """Machines keyed by id."""
        return {machine.id: machine for machine in self.machines}

    def setups_for(self, machine: Machine) -> SetupMatrix:
        """The setup matrix that applies on ``machine``."""
        return machine.setup_matrix or self.setup_matrix or SetupMatrix()

    def frozen_assignments(self) -> dict[str, Assignment]:
        """Reference assignments that are frozen, keyed by operation id."""
        if self.frozen_until is None:
            return {}
        return {a.operation: a for a in self.reference if a.start < self.frozen_until}

    @property
    def num_operations(self) -> int:
        """Number of operations over all jobs."""
        return sum(len(job.operations) for job in self.jobs)


class Objective(enum.StrEnum):
    """Quantities the engine can minimise."""

    MAKESPAN = "makespan"  # end of the last operation
    TARDINESS = "tardiness"  # sum over jobs of max(0, completion - due)
    WEIGHTED_TARDINESS = "weighted_tardiness"  # same, each job multiplied by its weight
    SETUP = "setup"  # total setup minutes
    LATE_JOBS = "late_jobs"  # number of jobs completed after their due date
    WEIGHTED_LATE_JOBS = "weighted_late_jobs"  # late jobs counted by weight
    FLOW_TIME = "flow_time"  # sum over jobs of completion - release
    STABILITY = "stability"  # deviation from the reference schedule (see SolverConfig.machine_change_cost)


@dataclass(frozen=True, slots=True)
class ObjectiveTerm:
    """One objective and its integer weight (the weight is ignored in lexicographic mode)."""

    kind: Objective
    weight: int = 1


class Combine(enum.StrEnum):
    """How several objective terms are combined."""

    WEIGHTED = "weighted"  # minimise the weighted sum
    LEXICOGRAPHIC = "lexicographic"  # minimise the first, then the second without worsening the first, ...


@dataclass(frozen=True, slots=True)
class SolverConfig:
    """How to solve.

    * ``time_limit`` (seconds, wall clock for the whole call), ``workers`` (CP-SAT threads), ``random_seed``.
    * ``relative_gap``: stop as soon as (objective - bound) / objective is at most this.
    * ``objectives`` and ``combine``: what to minimise (default: makespan).
    * ``machine_change_cost``: minutes of stability penalty for moving an operation to another machine than in
      the reference (the start deviation in minutes is always counted).
    * ``strategy``: ``"auto"`` picks the full model or the large-neighbourhood search by size; ``"full"`` and
      ``"lns"`` force one; ``"dispatch"`` returns the best dispatching rule's schedule only.
    * ``warm_start``: seed the search with the best dispatching rule and the reference schedule.
    * ``log``: print CP-SAT's search log to stdout.
    """

    time_limit: float = 10.0
    workers: int = 2
    random_seed: int = 0
    relative_gap: float = 0.0
    objectives: tuple[ObjectiveTerm, ...] = (ObjectiveTerm(Objective.MAKESPAN),)
    combine: Combine = Combine.WEIGHTED
    machine_change_cost: int = 60
    strategy: str = "auto"
    warm_start: bool = True
    log: bool = False

    @staticmethod
    def for_objective(name: str | Objective, **kwargs) -> SolverConfig:
        """Config minimising a single objective given by name (e.g. ``"weighted_tardiness"``)."""
        return SolverConfig(objectives=(ObjectiveTerm(Objective(name)),), **kwargs)

    @property
    def primary(self) -> Objective:
        """The first (most important) objective."""
        return self.objectives[0].kind


class Status(enum.StrEnum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"  # proven optimal (within relative_gap)
    FEASIBLE = "feasible"  # a valid schedule, optimality not proven
    INFEASIBLE = "infeasible"  # proven that no schedule satisfies all hard constraints
    NO_SOLUTION = "no_solution"  # no schedule found within the time limit (and no proof of infeasibility)


@dataclass(frozen=True, slots=True)
class Kpis:
    """Key figures of a schedule, recomputed from the assignments.

    ``utilization[machine]`` is processing minutes divided by the machine's working minutes between ``now``
    and the makespan (0.0 when that is empty).
    """

    makespan: int
    total_tardiness: int
    weighted_tardiness: int
    tardiness_by_job: Mapping[str, int]
    late_jobs: int
    total_setup: int
    flow_time: int
    utilization: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SolveStats:
    """How the search went: phases used, time to the first schedule, improvements, CP-SAT counters."""

    wall_seconds: float = 0.0
    strategy: str = ""
    first_solution_seconds: float | None = None
    improvements: int = 0
    warm_start_rule: str | None = None
    warm_start_objective: float | None = None
    tabu_objective: float | None = None
    lns_iterations: int = 0
    conflicts: int = 0
    branches: int = 0


@dataclass(frozen=True, slots=True)
class Solution:
    """The engine's answer.

    * ``assignments``: one per operation when a schedule was found, empty otherwise.
    * ``objective``: value of the combined objective (weighted sum, or the first term in lexicographic mode);
      ``objective_values`` holds each term separately.
    * ``bound``: best proven lower bound of ``objective`` (``None`` if unknown); ``gap`` = (objective - bound) /
      max(1, objective).
    * ``explanation``: for an infeasible instance, sentences a planner can act on.
    """

    status: Status
    assignments: tuple[Assignment, ...] = ()
    objective: float | None = None
    objective_values: Mapping[str, int] = field(default_factory=dict)
    bound: float | None = None
    gap: float | None = None
    kpis: Kpis | None = None
    stats: SolveStats = field(default_factory=SolveStats)
    explanation: tuple[str, ...] = ()

    @property
    def has_schedule(self) -> bool:
        """True when the solution carries a schedule."""
        return bool(self.assignments)

    def by_operation(self) -> dict[str, Assignment]:
        """Assignments keyed by operation id."""
        return {a.operation: a for a in self.assignments}


@dataclass(frozen=True, slots=True)
class Progress:
    """An improving schedule found during the search: its objective, the current bound, seconds elapsed."""

    objective: float
    bound: float | None
    elapsed: float
    source: str = "cp-sat"


ProgressCallback = Callable[[Progress], bool | None]
"""Called on every improving schedule; return True to stop the search (the best schedule so far is kept)."""
