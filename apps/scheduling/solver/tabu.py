"""Tabu search on machine sequences for makespan, used as a warm start.

It keeps the machine chosen for every operation by the start schedule (for a classic job shop there is only one)
and improves the sequences.

The schedule is a sequence per machine; its makespan is the longest path of the disjunctive graph. A move swaps
the first two or the last two operations of a block of consecutive critical operations on one machine (the N5
neighbourhood of Nowicki and Smutnicki), which never creates a cycle. Moves are ranked by the classic estimate
built from heads and tails, the reverse of a recent swap is tabu unless it beats the best makespan, and the
search restarts from the best schedule with random critical swaps when it stalls.
"""

from __future__ import annotations

import itertools
import random
import time

from .heuristics import Schedule
from .prepare import Problem


def is_plain_job_shop(problem: Problem) -> bool:
    """True when the instance has none of the factory features this search does not model (alternative machines
    are fine: the search keeps each operation on its machine)."""
    if problem.frozen or any(md.has_calendar or md.unavailable or md.needs_setups for md in problem.machines):
        return False
    for data in problem.ops:
        op = data.op
        if len(data.modes) != 1 or op.min_lag or op.max_lag is not None or op.transfer_fraction is not None:
            return False
        if op.lock is not None:
            return False
    return True


CYCLE = 1 << 60  # makespan reported for sequences that contradict the routing


class _Graph:
    """Machine sequences plus fixed job arcs; heads and tails by topological passes."""

    def __init__(self, problem: Problem, schedule: Schedule) -> None:
        n = len(problem.ops)
        self.n = n
        self.machine = [schedule[o][0] for o in range(n)]
        self.p = [next(d for m, d in problem.ops[o].modes if m == self.machine[o]) for o in range(n)]
        self.release = [
            max(problem.ops[o].job.release, problem.now) if problem.ops[o].pred is None else 0 for o in range(n)
        ]
        self.job_prev = [-1 if problem.ops[o].pred is None else problem.ops[o].pred for o in range(n)]
        self.job_next = [-1 if problem.ops[o].succ is None else problem.ops[o].succ for o in range(n)]
        sequences: dict[int, list[int]] = {}
        for o in sorted(range(n), key=lambda o: (schedule[o][1], schedule[o][2])):
            sequences.setdefault(self.machine[o], []).append(o)
        self.sequences = list(sequences.values())
        self.machine_prev = [-1] * n
        self.machine_next = [-1] * n
        for sequence in self.sequences:
            self._link(sequence)
        self.heads = [0] * n
        self.tails = [0] * n

    def _link(self, sequence: list[int]) -> None:
        for k, o in enumerate(sequence):
            self.machine_prev[o] = sequence[k - 1] if k > 0 else -1
            self.machine_next[o] = sequence[k + 1] if k + 1 < len(sequence) else -1

    def evaluate(self) -> int:
        """Recompute heads and tails; return the makespan (loops unrolled: this is the hot spot)."""
        n, p = self.n, self.p
        job_next, machine_next = self.job_next, self.machine_next
        indegree = [0] * n
        for o in range(n):
            if job_next[o] >= 0:
                indegree[job_next[o]] += 1
            if machine_next[o] >= 0:
                indegree[machine_next[o]] += 1
        heads = list(self.release)
        stack = [o for o in range(n) if indegree[o] == 0]
        order = []
        push, pop, record = stack.append, stack.pop, order.append
        while stack:
            o = pop()
            record(o)
            end = heads[o] + p[o]
            s = job_next[o]
            if s >= 0:
                if end > heads[s]:
                    heads[s] = end
                indegree[s] -= 1
                if not indegree[s]:
                    push(s)
            s = machine_next[o]
            if s >= 0:
                if end > heads[s]:
                    heads[s] = end
                indegree[s] -= 1
                if not indegree[s]:
                    push(s)
        if len(order) < n:
            return CYCLE
        tails = [0] * n
        makespan = 0
        for o in reversed(order):
            best = 0
            s = job_next[o]
            if s >= 0:
                best = tails[s] + p[s]
            s = machine_next[o]
            if s >= 0 and tails[s] + p[s] > best:
                best = tails[s] + p[s]
            tails[o] = best
            total = heads[o] + p[o] + best
            if total > makespan:
                makespan = total
        self.heads, self.tails = heads, tails
        return makespan

    def critical_blocks(self, makespan: int, rng: random.Random) -> list[list[int]]:
        """Blocks of consecutive operations on one machine along one critical path."""
        p, heads, tails = self.p, self.heads, self.tails
        o = rng.choice(
            [o for o in range(self.n) if heads[o] == self.release[o] and heads[o] + p[o] + tails[o] == makespan]
        )
        path = [o]
        while True:
            nxt = [
                s
                for s in (self.machine_next[o], self.job_next[o])
                if s >= 0 and heads[s] == heads[o] + p[o] and heads[s] + p[s] + tails[s] == makespan
            ]
            if not nxt:
                break
            o = nxt[0] if len(nxt) == 1 else rng.choice(nxt)
            path.append(o)
        blocks, current = [], [path[0]]
        for a, b in itertools.pairwise(path):
            if self.machine_next[a] == b:
                current.append(b)
            else:
                blocks.append(current)
                current = [b]
        blocks.append(current)
        return blocks

    def estimate(self, u: int, v: int) -> int:
        """Makespan estimate after swapping adjacent u (before) and v on their machine."""
        p, heads, tails = self.p, self.heads, self.tails
        before, after = self.machine_prev[u], self.machine_next[v]
        jp_v, jp_u, js_u, js_v = self.job_prev[v], self.job_prev[u], self.job_next[u], self.job_next[v]
        head_v = max(
            self.release[v], heads[jp_v] + p[jp_v] if jp_v >= 0 else 0, heads[before] + p[before] if before >= 0 else 0
        )
        head_u = max(self.release[u], heads[jp_u] + p[jp_u] if jp_u >= 0 else 0, head_v + p[v])
        tail_u = max(tails[js_u] + p[js_u] if js_u >= 0 else 0, tails[after] + p[after] if after >= 0 else 0)
        tail_v = max(tails[js_v] + p[js_v] if js_v >= 0 else 0, tail_u + p[u])
        return max(head_v + p[v] + tail_v, head_u + p[u] + tail_u)

    def swap(self, u: int, v: int) -> None:
        """Swap adjacent u (before) and v in their machine sequence."""
        sequence = self.sequences[self._sequence_of(u)]
        k = sequence.index(u)
        sequence[k], sequence[k + 1] = v, u
        self._link(sequence)

    def _sequence_of(self, o: int) -> int:
        if not hasattr(self, "_index"):
            self._index = {}
            for k, sequence in enumerate(self.sequences):
                self._index[self.machine[sequence[0]]] = k
        return self._index[self.machine[o]]

    def copy_sequences(self) -> list[list[int]]:
        return [list(s) for s in self.sequences]

    def load(self, sequences: list[list[int]]) -> None:
        self.sequences = [list(s) for s in sequences]
        for sequence in self.sequences:
            self._link(sequence)


def _moves(blocks: list[list[int]]) -> list[tuple[int, int]]:
    moves = []
    last = len(blocks) - 1
    for index, block in enumerate(blocks):
        if len(block) < 2:
            continue
        if index > 0:
            moves.append((block[0], block[1]))
        if index < last:
            moves.append((block[-2], block[-1]))
    return list(dict.fromkeys(moves))


def tabu_search(problem: Problem, start: Schedule, deadline: float, seed: int = 0) -> Schedule:
    """Improve a job-shop schedule's makespan until ``deadline`` (time.monotonic())."""
    rng = random.Random(seed)  # noqa: S311 - search diversification, not security
    graph = _Graph(problem, start)
    current = graph.evaluate()
    if current >= CYCLE:
        return start
    best_value, best_sequences = current, graph.copy_sequences()
    tabu: dict[tuple[int, int], int] = {}
    tenure_base = 8 + len(problem.ops) // max(1, len(problem.machines))
    iteration = stall = 0
    while time.monotonic() < deadline:
        iteration += 1
        blocks = graph.critical_blocks(current, rng)
        moves = _moves(blocks)
        if not moves:
            break  # one block: the critical path is a single machine, the schedule is optimal
        scored = sorted((graph.estimate(u, v), rng.random(), u, v) for u, v in moves)
        chosen = next(
            ((value, u, v) for value, _, u, v in scored if tabu.get((u, v), 0) < iteration or value < best_value), None
        )
        if chosen is None:
            _, _, u, v = scored[0]
        else:
            _, u, v = chosen
        graph.swap(u, v)
        tabu[(v, u)] = iteration + tenure_base + rng.randrange(tenure_base)
        value = graph.evaluate()
        if value >= CYCLE:  # only possible with zero durations; undo the move
            graph.swap(v, u)
            graph.evaluate()
            continue
        current = value
        if current < best_value:
            best_value, best_sequences, stall = current, graph.copy_sequences(), 0
        else:
            stall += 1
        if stall > 2500:
            graph.load(best_sequences)
            current = graph.evaluate()
            for _ in range(3):
                moves = _moves(graph.critical_blocks(current, rng))
                if moves:
                    u, v = rng.choice(moves)
                    graph.swap(u, v)
                    current = graph.evaluate()
                    if current >= CYCLE:
                        graph.swap(v, u)
                        current = graph.evaluate()
            tabu.clear()
            stall = 0
    graph.load(best_sequences)
    graph.evaluate()
    return {o: (graph.machine[o], graph.heads[o], graph.heads[o] + graph.p[o], 0) for o in range(graph.n)}
