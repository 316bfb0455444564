"""The CP-SAT model of the flexible job shop, built in labelled phases: variables, constraints, objective,
solve and extract.

One model builder serves three uses: the full model, the sub-models of the large-neighbourhood search (where
the operations outside the neighbourhood are fixed) and the explanation of infeasibility (where groups of
constraints are switched on by assumption literals so CP-SAT can name a conflicting subset).

Main ideas beyond the textbook "interval per operation + no-overlap + precedence":
* operations share one start/end pair across their alternative machines (fewer variables, stronger bounds);
* setups are modelled with an extended interval ``[start - setup, end)`` per machine choice and a circuit per
  machine whose arcs are pruned by time windows and by fixed operations;
* calendars restrict start domains directly (fit-in-one-interval) and non-working time is a fixed interval in
  a no-overlap (which also keeps setups inside working time); pausable operations pick (start window, end window)
  pairs that determine their elapsed length exactly;
* redundant cumulative constraints over groups of machines that share operations, and symmetry breaking on
  interchangeable machines;
* complete solution hints (including circuit arcs) from the warm start.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field

from .heuristics import Schedule
from .model import Combine, Objective, ObjectiveTerm, Progress, ProgressCallback, SolverConfig
from .prepare import Problem, first_batch


@dataclass
class ModeVars:
    """Variables of one (operation, machine) choice."""

    machine: int
    duration: int
    literal: object | None  # None: the only possible machine
    setup: object | None = None
    setup_start: object | None = None
    interval: object | None = None
    occupation: object | None = None  # interval including the setup
    setup_interval: object | None = None
    pausable: bool = False
    occupation_size: object | None = None
    pairs: list[tuple[int, int, object]] = field(default_factory=list)  # (start window, end window, literal)


@dataclass
class OpVars:
    """Variables of one operation."""

    start: object
    end: object
    modes: list[ModeVars]
    frozen: bool
    fixed: bool
    start_bounds: tuple[int, int]
    end_bounds: tuple[int, int]
    span: object | None = None


@dataclass
class RunResult:
    """Outcome of one CP-SAT run."""

    status: str
    schedule: Schedule | None
    objective: float | None
    bound: float | None
    conflicts: int = 0
    branches: int = 0
    first_solution: float | None = None
    improvements: int = 0
    stopped: bool = False
    term_values: dict[Objective, int] = field(default_factory=dict)


def _enforce(constraint, literal) -> None:
    if literal is not None:
        constraint.only_enforce_if(literal)


class ModelBuilder:
    """Builds and solves the CP-SAT model of a compiled problem.

    ``fixed`` maps operations to (machine, start, end) that must be kept (LNS); ``windows`` limits the start of
    free operations to (low, high); ``explain`` guards release dates, locks, lags, the horizon, calendars and
    unavailability with assumption literals.
    """

    def __init__(
        self,
        problem: Problem,
        config: SolverConfig,
        fixed: dict[int, tuple[int, int, int]] | None = None,
        windows: dict[int, tuple[int, int]] | None = None,
        explain: bool = False,
        break_symmetry: bool = True,
        redundant: bool = True,
        incumbent: Schedule | None = None,
        plain_job_shop: bool = False,
    ) -> None:
        from ortools.sat.python import cp_model

        self.cp_model = cp_model
        self.problem = problem
        self.config = config
        self.fixed = fixed or {}
        self.plain_job_shop = plain_job_shop  # the LP relaxation is empty there: skip it for faster propagation
        self.incumbent = incumbent or {}
        self.passive: set[int] = set()  # fixed operations that cannot interact with free ones: constants only
        self.boundary_setup: dict[int, int] = {}  # first kept fixed operation per machine keeps its setup
        self.windows = windows or {}
        self.explain = explain
        self.break_symmetry = break_symmetry and not self.fixed and not explain
        self.redundant = redundant and not explain
        self.model = cp_model.CpModel()
        self.ops: list[OpVars] = []
        self.guards: list[tuple[object, str]] = []
        self.arcs: dict[int, list[tuple[int, int, object]]] = {}  # machine -> (from item, to item, literal)
        self.items: dict[int, list[tuple[int, int]]] = {}  # machine -> [(op, mode position)]
        self.terms: dict[Objective, object] = {}
        self.completion: list[object] = []
        self.relabel: dict[int, list[int]] = {}  # symmetric machine groups (machine indices in label order)
        self.infeasible_reason: str | None = None
        self.time_cap = problem.horizon if not explain else problem.horizon * 4 + 10**6
        self.helpers: list[tuple[object, object]] = []  # (variable, function of the schedule) for hints

    # ----------------------------------------------------------------------------------------------- variables
    def guard(self, message: str) -> object | None:
        """A fresh assumption literal describing a constraint group (explain mode only)."""
        if not self.explain:
            return None
        literal = self.model.new_bool_var(f"guard{len(self.guards)}")
        self.guards.append((literal, message))
        return literal

    def _op_bounds(self, o: int) -> tuple[int, int, int, int]:
        p = self.problem
        data = p.ops[o]
        low = p.now if self.explain else p.heads[o]
        high_end = self.time_cap if self.explain else p.tails[o]
        high_start = high_end - data.min_duration
        if o in self.windows:
            low, high_start = max(low, self.windows[o][0]), min(high_start, self.windows[o][1])
        return low, high_start, low + data.min_duration, high_end

    def _create_operation(self, o: int) -> OpVars:
        p, m = self.problem, self.model
        data = p.ops[o]
        lock = data.op.lock
        if o in p.frozen or o in self.fixed:
            machine, start, end = p.frozen.get(o) or self.fixed[o]
            duration = next((d for mm, d in data.modes if mm == machine), end - start)
            start_var, end_var = m.new_constant(start), m.new_constant(end)
            modes = [ModeVars(machine, duration, None)]
            ov = OpVars(start_var, end_var, modes, o in p.frozen, True, (start, start), (end, end))
            if o not in self.passive:
                self._mode_intervals(o, ov)
            return ov
        modes = data.modes
        if lock is not None and lock.machine is not None and not self.explain:
            modes = [(mm, d) for mm, d in modes if p.machines[mm].id == lock.machine]
        if not modes:
            self.infeasible_reason = f"{data.describe()} has no eligible machine"
            modes = data.modes[:1] or [(0, 0)]
        low, high_start, low_end, high_end = self._op_bounds(o)
        if lock is not None and lock.start is not None and not self.explain:
            low = high_start = lock.start
            low_end = max(low_end, lock.start)
        if low > high_start or low_end > high_end:
            self.infeasible_reason = f"{data.describe()} cannot fit between its earliest start and the horizon"
            high_start, high_end = max(high_start, low), max(high_end, low_end, low + data.min_duration)
        start = m.new_int_var(low, high_start, f"s{o}")
        end = m.new_int_var(low_end, high_end, f"e{o}")
        single = len(modes) == 1
        mode_vars = [ModeVars(mm, d, None if single else m.new_bool_var(f"x{o}_{mm}")) for mm, d in modes]
        if not single:
            m.add_exactly_one([mv.literal for mv in mode_vars])
        ov = OpVars(start, end, mode_vars, False, False, (low, high_start), (low_end, high_end))
        self._mode_intervals(o, ov)
        if self.explain and lock is not None:
            literal = self.guard(
                f"the lock of {data.describe()}"
                + (f" on machine {lock.machine}" if lock.machine else "")
                + (f" at minute {lock.start}" if lock.start is not None else "")
            )
            if lock.start is not None:
                m.add(start == lock.start).only_enforce_if(literal)
            if lock.machine is not None:
                allowed = [mv.literal for mv in mode_vars if p.machines[mv.machine].id == lock.machine]
                if single:
                    if not allowed:
                        m.add_bool_or([literal.Not()])
                else:
                    m.add_bool_or(allowed).only_enforce_if(literal) if allowed else m.add_bool_or([literal.Not()])
        return ov

    def _mode_intervals(self, o: int, ov: OpVars) -> None:
        p, m = self.problem, self.model
        data = p.ops[o]
        pausable_somewhere = any(data.op.may_pause and p.machines[mv.machine].has_calendar for mv in ov.modes)
        if pausable_somewhere and not ov.fixed:
            ov.span = m.new_int_var(
                data.min_duration, max(data.min_duration, ov.end_bounds[1] - ov.start_bounds[0]), f"span{o}"
            )
            m.add(ov.span == ov.end - ov.start)
        for mv in ov.modes:
            md = p.machines[mv.machine]
            mv.pausable = data.op.may_pause and md.has_calendar and not ov.frozen
            present = mv.literal if mv.literal is not None else True
            if mv.pausable and not ov.fixed:
                mv.interval = m.new_optional_interval_var(ov.start, ov.span, ov.end, present, f"i{o}_{mv.machine}")
                self._pausable_windows(o, ov, mv)
            elif ov.fixed:
                s, e = ov.start_bounds[0], ov.end_bounds[0]
                mv.interval = m.new_fixed_size_interval_var(s, e - s, f"i{o}")
            else:
                mv.interval = m.new_optional_interval_var(ov.start, mv.duration, ov.end, present, f"i{o}_{mv.machine}")
                if md.has_calendar and not self.explain:
                    self._calendar_domain(ov, mv)
            mv.occupation = mv.interval
            if md.needs_setups:
                max_setup = md.setups.max_time()
                mv.setup = m.new_int_var(0, max_setup, f"su{o}_{mv.machine}")
                low = min(p.now, ov.start_bounds[0]) - max_setup
                mv.setup_start = m.new_int_var(low, ov.start_bounds[1], f"es{o}_{mv.machine}")
                size = m.new_int_var(0, ov.end_bounds[1] - low, f"occ{o}_{mv.machine}")
                mv.occupation_size = size
                mv.occupation = m.new_optional_interval_var(mv.setup_start, size, ov.end, present, f"o{o}_{mv.machine}")
                _enforce(m.add(mv.setup_start + mv.setup == ov.start), mv.literal)
                if mv.literal is not None:
                    m.add(mv.setup == 0).only_enforce_if(mv.literal.Not())
                if not ov.frozen:
                    m.add(mv.setup_start >= p.now)
                if mv.pausable:
                    mv.setup_interval = m.new_optional_interval_var(
                        mv.setup_start, mv.setup, ov.start, present, f"sui{o}_{mv.machine}"
                    )
            self.items.setdefault(mv.machine, []).append((o, ov.modes.index(mv)))

    def _calendar_domain(self, ov: OpVars, mv: ModeVars) -> None:
        """Fit-in-one-interval: the start must leave room for the duration inside one working window."""
        cp = self.cp_model
        low, high = ov.start_bounds
        spans = [[max(a, low), min(b - mv.duration, high)] for a, b in self.problem.machines[mv.machine].windows]
        spans = [s for s in spans if s[0] <= s[1]]
        constraint = self.model.add_linear_expression_in_domain(
            ov.start, cp.Domain.from_intervals(spans) if spans else cp.Domain.from_values([])
        )
        _enforce(constraint, mv.literal)

    def _pausable_windows(self, o: int, ov: OpVars, mv: ModeVars) -> None:
        """Choose (start window k, end window l): elapsed = duration + the non-working gaps between them."""
        m = self.model
        md = self.problem.machines[mv.machine]
        windows = md.windows
        low, high = ov.start_bounds
        choices = []
        for k, (a, b) in enumerate(windows):
            first, last = max(a, low), min(b - 1, high)
            if first > last:
                continue
            end_first, end_last = md.walk(first, mv.duration), md.walk(last, mv.duration)
            if end_first is None:
                continue
            l_first = md.window_at(end_first - 1) if mv.duration > 0 else k
            l_last = md.window_at(end_last - 1) if end_last is not None and mv.duration > 0 else len(windows) - 1
            for lw in range(l_first, min(l_last, len(windows) - 1) + 1):
                gaps = sum(windows[i + 1][0] - windows[i][1] for i in range(k, lw))
                literal = m.new_bool_var(f"w{o}_{mv.machine}_{k}_{lw}")
                m.add(ov.start >= first).only_enforce_if(literal)
                m.add(ov.start <= last).only_enforce_if(literal)
                if lw > k:
                    m.add(ov.end >= windows[lw][0] + 1).only_enforce_if(literal)
                m.add(ov.end <= windows[lw][1]).only_enforce_if(literal)
                m.add(ov.end - ov.start == mv.duration + gaps).only_enforce_if(literal)
                choices.append(literal)
                mv.pairs.append((k, lw, literal))
        if mv.literal is None:
            m.add_exactly_one(choices) if choices else m.add_bool_or([])
        else:
            m.add(sum(choices) == mv.literal) if choices else m.add(mv.literal == 0)

    def _find_passive(self) -> None:
        """With fixed operations (LNS), keep on each machine only the fixed ones near the free operations'
        time windows, plus the nearest one on each side; the others become constants."""
        p = self.problem
        placed: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for o, (machine, start, end) in {**self.fixed, **p.frozen}.items():
            placed[machine].append((start, end, o))
        reach: dict[int, list[int]] = {}
        for o in range(len(p.ops)):
            if o in self.fixed or o in p.frozen:
                continue
            low, _, _, high_end = self._op_bounds(o)
            for machine, _ in p.ops[o].modes:
                span = reach.setdefault(machine, [low, high_end])
                span[0], span[1] = min(span[0], low), max(span[1], high_end)
        for machine, items in placed.items():
            items.sort()
            if machine not in reach:
                self.passive.update(o for _, _, o in items)
                continue
            max_setup = p.machines[machine].setups.max_time()
            low, high = reach[machine][0] - max_setup, reach[machine][1] + max_setup
            before = [i for i, (_, e, _) in enumerate(items) if e <= low]
            after = [i for i, (s, _, _) in enumerate(items) if s >= high]
            keep_first = before[-1] if before else None
            keep_last = after[0] if after else None
            for i, (_, _, o) in enumerate(items):
                if (i in before and i != keep_first) or (i in after and i != keep_last):
                    self.passive.add(o)
            if keep_first is not None:
                o = items[keep_first][2]
                self.boundary_setup[o] = self.incumbent[o][3] if o in self.incumbent else 0

    def variables(self) -> None:
        """Phase 1: one start/end per operation, one literal and interval(s) per eligible machine."""
        if self.fixed and self.incumbent:
            self._find_passive()
        self.ops = [self._create_operation(o) for o in range(len(self.problem.ops))]

    # --------------------------------------------------------------------------------------------- constraints
    def _first_batch_expr(self, o: int, fraction: float):
        return sum(
            first_batch(fraction, mv.duration) * (mv.literal if mv.literal is not None else 1)
            for mv in self.ops[o].modes
        )

    def routing(self) -> None:
        """Phase 2a: routing precedence with minimum and maximum lags, transfer batches and release dates."""
        p, m = self.problem, self.model
        for j, chain in enumerate(p.jobs):
            job = p.instance.jobs[j]
            if self.explain and job.release > p.now:
                literal = self.guard(f"the release date of {job.label} (minute {job.release})")
                for o in chain:
                    if not self.ops[o].frozen:
                        m.add(self.ops[o].start >= job.release).only_enforce_if(literal)
            for a, b in itertools.pairwise(chain):
                va, vb = self.ops[a], self.ops[b]
                if va.fixed and vb.fixed:
                    continue
                op = p.ops[b].op
                lag_guard = (
                    self.guard(f"the minimum wait of {op.min_lag} min before {p.ops[b].describe()}")
                    if op.min_lag > 0
                    else None
                )
                lag = op.min_lag
                if op.transfer_fraction is None:
                    if lag_guard is not None:
                        m.add(vb.start >= va.end)
                    _enforce(m.add(vb.start >= va.end + lag), lag_guard)
                else:
                    f = op.transfer_fraction
                    _enforce(m.add(vb.start >= va.start + self._first_batch_expr(a, f) + lag), lag_guard)
                    _enforce(m.add(vb.end >= va.end + self._first_batch_expr(b, f) + lag), lag_guard)
                if op.max_lag is not None:
                    literal = self.guard(
                        f"the maximum wait of {op.max_lag} min between {p.ops[a].describe()} and {p.ops[b].describe()}"
                    )
                    _enforce(m.add(vb.start <= va.end + op.max_lag), literal)
        if self.explain:
            literal = self.guard(f"the planning horizon (minute {p.horizon})")
            for ov in self.ops:
                if not ov.frozen:
                    m.add(ov.end <= p.horizon).only_enforce_if(literal)

    def machines(self) -> None:
        """Phase 2b: no overlap (with setups, unavailability and non-working time) and setup circuits."""
        p, m = self.problem, self.model
        for machine, items in self.items.items():
            md = p.machines[machine]
            mode_vars = [self.ops[o].modes[k] for o, k in items]
            blocked = []
            for a, b in md.unavailable:
                if b <= p.now - md.setups.max_time() or a >= self.time_cap:
                    continue
                literal = self.guard(f"the unavailability of machine {md.id} from minute {a} to {b}")
                if literal is None:
                    blocked.append(m.new_fixed_size_interval_var(a, b - a, f"u{machine}_{a}"))
                else:
                    blocked.append(m.new_optional_fixed_size_interval_var(a, b - a, literal, f"u{machine}_{a}"))
            occupation = [mv.occupation for mv in mode_vars]
            if md.has_calendar:
                literal = self.guard(f"the working calendar of machine {md.id}")
                low = p.now - md.setups.max_time()
                off = []
                for a, b in md.nonworking(low, self.time_cap):
                    off.append(
                        m.new_fixed_size_interval_var(a, b - a, f"off{machine}_{a}")
                        if literal is None
                        else m.new_optional_fixed_size_interval_var(a, b - a, literal, f"off{machine}_{a}")
                    )
                calendar_bound, exempt = [], False
                for (o, _), mv in zip(items, mode_vars, strict=False):
                    if self.ops[o].frozen or mv.pausable:
                        exempt = True
                        if mv.setup_interval is not None and not self.ops[o].frozen:
                            calendar_bound.append(mv.setup_interval)
                    else:
                        calendar_bound.append(mv.occupation)
                if not exempt:
                    m.add_no_overlap(occupation + blocked + off)
                else:
                    m.add_no_overlap(occupation + blocked)
                    if calendar_bound:
                        m.add_no_overlap(calendar_bound + off)
            elif len(occupation) + len(blocked) > 1:
                m.add_no_overlap(occupation + blocked)
            if md.needs_setups:
                self._setup_circuit(machine, items)

    def _setup_circuit(self, machine: int, items: list[tuple[int, int]]) -> None:
        p, m = self.problem, self.model
        md = p.machines[machine]
        nodes = [(o, self.ops[o], self.ops[o].modes[k]) for o, k in items]
        fixed = sorted(
            (ov.start_bounds[0], ov.end_bounds[0], i)
            for i, (_, ov, mv) in enumerate(nodes)
            if ov.fixed and mv.literal is None
        )

        def barrier(i: int) -> tuple[int, int] | None:
            """First fixed node other than i that cannot precede node i: (its start, its node)."""
            ub_start = nodes[i][1].start_bounds[1]
            for s, e, k in fixed:
                if k != i and e > ub_start:
                    return s, k
            return None

        barriers = [barrier(i) for i in range(len(nodes))]
        arcs = []
        initial = md.machine.initial_family
        has_mandatory = False
        for i, (o, ov, mv) in enumerate(nodes):
            family = p.ops[o].family
            lit_first = m.new_bool_var(f"first{machine}_{i}")
            lit_last = m.new_bool_var(f"last{machine}_{i}")
            others_before = [s for s, _, k in fixed if k != i]
            if others_before and min(others_before) < ov.end_bounds[0]:
                m.add(lit_first == 0)
            others_end = [e for _, e, k in fixed if k != i]
            if others_end and max(others_end) > ov.start_bounds[1]:
                m.add(lit_last == 0)
            arcs.append((0, i + 1, lit_first))
            arcs.append((i + 1, 0, lit_last))
            setup0 = 0 if ov.frozen else md.setup(initial, family)
            setup0 = self.boundary_setup.get(o, setup0)
            m.add(mv.setup == setup0).only_enforce_if(lit_first)
            if mv.literal is not None:
                arcs.append((i + 1, i + 1, mv.literal.Not()))
            else:
                has_mandatory = True
        for i, (oi, vi, _mi) in enumerate(nodes):
            for j, (oj, vj, mj) in enumerate(nodes):
                if i == j:
                    continue
                both_frozen = vi.frozen and vj.frozen
                setup = 0 if both_frozen else md.setup(p.ops[oi].family, p.ops[oj].family)
                if vi.end_bounds[0] + setup > vj.start_bounds[1]:
                    continue
                wall = barriers[i]
                if wall is not None and wall[1] != j and vj.end_bounds[0] > wall[0]:
                    continue
                literal = m.new_bool_var(f"arc{machine}_{i}_{j}")
                arcs.append((i + 1, j + 1, literal))
                m.add(mj.setup_start >= vi.end).only_enforce_if(literal)
                m.add(mj.setup == setup).only_enforce_if(literal)
        if not has_mandatory:
            arcs.append((0, 0, m.new_bool_var(f"empty{machine}")))
        m.add_circuit(arcs)
        self.arcs[machine] = [(a, b, lit) for a, b, lit in arcs]

    def redundant_cumulatives(self, max_groups: int = 8) -> None:
        """Phase 2c: capacity cuts over machine sets shared by many flexible operations."""
        m = self.model
        sets: dict[frozenset[int], list[int]] = defaultdict(list)
        for o, ov in enumerate(self.ops):
            if ov.fixed or len(ov.modes) < 2 or any(mv.pausable for mv in ov.modes):
                continue
            sets[frozenset(mv.machine for mv in ov.modes)].append(o)
        ranked = sorted(sets.items(), key=lambda kv: -len(kv[1]))[:max_groups]
        for machine_set, _ in ranked:
            members = [
                o
                for o, ov in enumerate(self.ops)
                if not ov.fixed
                and len(ov.modes) >= 1
                and not any(mv.pausable for mv in ov.modes)
                and {mv.machine for mv in ov.modes} <= machine_set
            ]
            if len(members) <= 2 * len(machine_set):
                continue
            intervals = []
            for o in members:
                ov = self.ops[o]
                durations = [mv.duration for mv in ov.modes]
                size = m.new_int_var(min(durations), max(durations), f"size{o}")
                if len(ov.modes) > 1:
                    m.add(size == sum(mv.duration * mv.literal for mv in ov.modes))
                intervals.append(m.new_interval_var(ov.start, size, ov.end, f"main{o}"))
            m.add_cumulative(intervals, [1] * len(intervals), len(machine_set))

    def symmetry(self) -> None:
        """Phase 2d: on interchangeable machines the k-th operation (by index) may use only the first k+1."""
        p = self.problem
        if any(t.kind == Objective.STABILITY for t in self.config.objectives) or p.frozen:
            return
        locked = {p.machine_index.get(d.op.lock.machine) for d in p.ops if d.op.lock is not None}
        signature: dict[tuple, list[int]] = defaultdict(list)
        for md in p.machines:
            if md.index in locked or not md.candidates:
                continue
            durations = tuple(sorted(md.candidates))
            setups = (tuple(sorted(md.setups.times.items())), md.setups.default)
            signature[(durations, tuple(md.windows), tuple(md.unavailable), md.machine.initial_family, setups)].append(
                md.index
            )
        for group in signature.values():
            if len(group) < 2:
                continue
            self.relabel[group[0]] = group
            ops_on_group = sorted({o for o, _ in p.machines[group[0]].candidates})
            for rank, o in enumerate(ops_on_group[: len(group) - 1]):
                for mv in self.ops[o].modes:
                    if mv.machine in group[rank + 1 :] and mv.literal is not None:
                        self.model.add(mv.literal == 0)

    # ---------------------------------------------------------------------------------------------- objective
    def objective_terms(self) -> None:
        """Phase 3: one expression per objective kind in use."""
        p, m = self.problem, self.model
        kinds = {t.kind for t in self.config.objectives}
        self.completion = [self.ops[chain[-1]].end if chain else 0 for chain in p.jobs]
        jobs = p.instance.jobs
        if Objective.MAKESPAN in kinds:
            low = max((ov.end_bounds[0] for ov in self.ops), default=0)
            makespan = m.new_int_var(low, max(low, self.time_cap), "makespan")
            for ov in self.ops:
                m.add(makespan >= ov.end)
            self.terms[Objective.MAKESPAN] = makespan
            self.helpers.append((makespan, lambda sch: max(v[2] for v in sch.values())))
        if kinds & {Objective.TARDINESS, Objective.WEIGHTED_TARDINESS}:
            tardy = []
            for j, job in enumerate(jobs):
                if job.due is None or not p.jobs[j]:
                    tardy.append(0)
                    continue
                t = m.new_int_var(0, max(0, self.time_cap - job.due), f"tardy{j}")
                m.add(t >= self.completion[j] - job.due)
                tardy.append(t)
                self.helpers.append((t, lambda sch, j=j, due=job.due: max(0, self._completion_of(sch, j) - due)))
            self.terms[Objective.TARDINESS] = sum(tardy)
            self.terms[Objective.WEIGHTED_TARDINESS] = sum(job.weight * t for job, t in zip(jobs, tardy, strict=False))
        if kinds & {Objective.LATE_JOBS, Objective.WEIGHTED_LATE_JOBS}:
            late = []
            for j, job in enumerate(jobs):
                if job.due is None or not p.jobs[j]:
                    late.append(0)
                    continue
                u = m.new_bool_var(f"late{j}")
                m.add(self.completion[j] <= job.due).only_enforce_if(u.Not())
                late.append(u)
                self.helpers.append((u, lambda sch, j=j, due=job.due: int(self._completion_of(sch, j) > due)))
            self.terms[Objective.LATE_JOBS] = sum(late)
            self.terms[Objective.WEIGHTED_LATE_JOBS] = sum(job.weight * u for job, u in zip(jobs, late, strict=False))
        if Objective.SETUP in kinds:
            self.terms[Objective.SETUP] = sum(
                mv.setup for ov in self.ops for mv in ov.modes if mv.setup is not None
            ) + sum(self.incumbent[o][3] for o in self.passive if o in self.incumbent)
        if Objective.FLOW_TIME in kinds:
            self.terms[Objective.FLOW_TIME] = sum(
                c - job.release for c, job, chain in zip(self.completion, jobs, p.jobs, strict=False) if chain
            )
        if Objective.STABILITY in kinds:
            parts = []
            for o, (ref_m, ref_s, _) in p.reference.items():
                ov = self.ops[o]
                if ov.frozen:
                    continue
                deviation = m.new_int_var(0, self.time_cap + abs(ref_s), f"dev{o}")
                m.add(deviation >= ov.start - ref_s)
                m.add(deviation >= ref_s - ov.start)
                parts.append(deviation)
                self.helpers.append((deviation, lambda sch, o=o, ref_s=ref_s: abs(sch[o][1] - ref_s)))
                on_ref = [mv for mv in ov.modes if mv.machine == ref_m]
                if not on_ref:
                    parts.append(self.config.machine_change_cost)
                elif on_ref[0].literal is not None:
                    parts.append(self.config.machine_change_cost * (1 - on_ref[0].literal))
            self.terms[Objective.STABILITY] = sum(parts)

    def _completion_of(self, schedule: Schedule, j: int) -> int:
        return schedule[self.problem.jobs[j][-1]][2]

    def set_objective(self, terms: tuple[ObjectiveTerm, ...]) -> None:
        """Minimise the weighted sum of ``terms``."""
        self.model.minimize(sum(t.weight * self.terms[t.kind] for t in terms))

    def build(self) -> ModelBuilder:
        """Run the modelling phases."""
        self.variables()
        self.routing()
        self.machines()
        if self.redundant:
            self.redundant_cumulatives()
        if self.break_symmetry:
            self.symmetry()
        self.objective_terms()
        return self

    # ------------------------------------------------------------------------------------------------ hinting
    def relabel_schedule(self, schedule: Schedule) -> Schedule:
        """Rename machines inside symmetric groups so the schedule obeys the symmetry-breaking rule."""
        if not self.relabel:
            return schedule
        out = dict(schedule)
        for group in self.relabel.values():
            members = set(group)
            order: list[int] = []
            for o in sorted(o for o, v in schedule.items() if v[0] in members):
                if schedule[o][0] not in order:
                    order.append(schedule[o][0])
            order += [g for g in group if g not in order]
            rename = dict(zip(order, group, strict=False))
            for o, (mm, s, e, su) in schedule.items():
                if mm in members:
                    out[o] = (rename[mm], s, e, su)
        return out

    def add_hint(self, schedule: Schedule) -> None:
        """Hint every decision variable from a complete schedule."""
        m = self.model
        schedule = self.relabel_schedule(schedule)
        for o, ov in enumerate(self.ops):
            if ov.fixed or o not in schedule:
                continue
            machine, start, end, setup = schedule[o]
            m.add_hint(ov.start, start)
            m.add_hint(ov.end, end)
            if ov.span is not None:
                m.add_hint(ov.span, end - start)
            for mv in ov.modes:
                chosen = mv.machine == machine
                if mv.literal is not None:
                    m.add_hint(mv.literal, chosen)
                if mv.setup is not None:
                    m.add_hint(mv.setup, setup if chosen else 0)
                    if chosen:
                        m.add_hint(mv.setup_start, start - setup)
                        m.add_hint(mv.occupation_size, end - start + setup)
                if mv.pairs:
                    md = self.problem.machines[mv.machine]
                    k = md.window_at(start)
                    last = md.window_at(end - 1) if end > start else k
                    for a, b, literal in mv.pairs:
                        m.add_hint(literal, chosen and (a, b) == (k, last))
        if len(schedule) == len(self.ops):
            for variable, value in self.helpers:
                m.add_hint(variable, value(schedule))
        for machine, arcs in self.arcs.items():
            order = sorted(
                (schedule[o][1], k)
                for k, (o, _) in enumerate(self.items[machine])
                if o in schedule and schedule[o][0] == machine
            )
            sequence = [0] + [k + 1 for _, k in order] + [0]
            used = set(itertools.pairwise(sequence)) if len(sequence) > 2 else {(0, 0)}
            for a, b, literal in arcs:
                if a != b or a == 0:  # self-loops of optional nodes are negated mode literals, hinted above
                    m.add_hint(literal, (a, b) in used)

    # ------------------------------------------------------------------------------------------- solve/extract
    def solve(
        self,
        time_limit: float,
        progress: ProgressCallback | None = None,
        clock_start: float | None = None,
        workers: int | None = None,
        log: bool | None = None,
        light_presolve: bool = False,
    ) -> RunResult:
        """Phase 4: run CP-SAT, forwarding improving solutions to ``progress``."""
        cp = self.cp_model
        solver = cp.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = max(0.05, time_limit)
        params.num_workers = max(1, workers or self.config.workers)
        params.random_seed = self.config.random_seed
        params.relative_gap_limit = self.config.relative_gap
        params.log_search_progress = self.config.log if log is None else log
        if self.plain_job_shop:
            params.linearization_level = 0
        if light_presolve:  # small LNS sub-models: presolve probing costs more than it saves
            params.cp_model_probing_level = 0
            params.symmetry_level = 0
        clock_start = time.monotonic() if clock_start is None else clock_start
        record = {"first": None, "count": 0, "stopped": False}

        class Listener(cp.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                elapsed = time.monotonic() - clock_start
                record["count"] += 1
                if record["first"] is None:
                    record["first"] = elapsed
                if progress is not None and progress(
                    Progress(self.objective_value, self.best_objective_bound, elapsed)
                ):
                    record["stopped"] = True
                    self.stop_search()

        status = solver.solve(self.model, Listener())
        name = solver.status_name(status)
        result = RunResult(
            name,
            None,
            None,
            None,
            solver.num_conflicts,
            solver.num_branches,
            record["first"],
            record["count"],
            record["stopped"],
        )
        if status in (cp.OPTIMAL, cp.FEASIBLE):
            result.schedule = self.extract(solver)
            result.objective = solver.objective_value
            result.bound = solver.best_objective_bound
            result.term_values = {kind: round(solver.value(expr)) for kind, expr in self.terms.items()}
        self.last_solver = solver
        return result

    def extract(self, solver) -> Schedule:
        """Phase 5: read machine, start, end and setup of every operation."""
        schedule: Schedule = {}
        for o, ov in enumerate(self.ops):
            if o in self.passive:
                schedule[o] = self.incumbent[o]
                continue
            chosen = next(mv for mv in ov.modes if mv.literal is None or solver.boolean_value(mv.literal))
            setup = solver.value(chosen.setup) if chosen.setup is not None else 0
            schedule[o] = (chosen.machine, solver.value(ov.start), solver.value(ov.end), setup)
        return schedule


def solve_staged(
    builder: ModelBuilder,
    config: SolverConfig,
    deadline: float,
    clock_start: float,
    progress: ProgressCallback | None,
    hint: Schedule | None,
) -> RunResult:
    """Solve with the configured objective: one run for a weighted sum, or one stage per term in lexicographic
    mode, each stage keeping the earlier terms at their best value found."""
    lexicographic = config.combine == Combine.LEXICOGRAPHIC and len(config.objectives) > 1
    stages = [(ObjectiveTerm(t.kind, 1),) for t in config.objectives] if lexicographic else [config.objectives]
    result: RunResult | None = None
    for position, stage in enumerate(stages):
        remaining = deadline - time.monotonic()
        if result is not None and remaining <= 0.05:
            break
        share = remaining / (len(stages) - position) if lexicographic and position == 0 else remaining
        if lexicographic and position < len(stages) - 1 and position > 0:
            share = remaining / (len(stages) - position)
        builder.model.clear_objective()
        builder.set_objective(stage)
        builder.model.clear_hints()
        if hint is not None:
            builder.add_hint(hint)
        run = builder.solve(share, progress if position == 0 else None, clock_start)
        if run.schedule is None:
            if result is None:
                result = run
            break
        hint = run.schedule
        if result is None:
            result = run
        else:
            run.status = "OPTIMAL" if result.status == "OPTIMAL" and run.status == "OPTIMAL" else "FEASIBLE"
            run.improvements += result.improvements
            run.first_solution = result.first_solution
            run.bound = result.bound
            result = run
        if lexicographic:
            builder.model.add(builder.terms[stage[0].kind] <= round(run.objective))
        if run.stopped:
            break
    return result
