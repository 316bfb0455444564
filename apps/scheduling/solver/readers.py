"""Readers for standard benchmark formats and the native JSON format.

* JSPLIB / OR-Library job shop: optional ``#`` comment lines, ``J M``, then per job ``machine duration`` pairs
  in route order, machines 0-based.
* Taillard's original job shop format: a header whose first two numbers are ``J M`` (the line
  "Nb of jobs, Nb of Machines, ..." and the seeds/bounds after J and M are accepted), a J x M matrix of
  processing times, an optional "machines" label, and a J x M matrix of machines, 1-based.
* Flexible job shop ``.fjs`` (Brandimarte, Hurink, Kacem): ``J M [average alternatives]``, then per job the
  number of operations and, per operation, ``k`` followed by ``k`` pairs ``machine duration`` (1-based).
* Native JSON (see ``serialize.py``).

Malformed input raises ValueError naming the line number and what was expected there.
"""

from __future__ import annotations

import json
from pathlib import Path

from .model import Instance, Job, Machine, Mode, Operation
from .serialize import instance_from_dict


def _data_lines(text: str, comments: bool = True) -> list[tuple[int, str]]:
    """(line number, stripped text) of non-empty lines, skipping '#' comments."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or (comments and stripped.startswith("#")):
            continue
        out.append((number, stripped))
    return out


def _ints(number: int, line: str, what: str) -> list[int]:
    try:
        return [int(token) for token in line.split()]
    except ValueError:
        bad = next(t for t in line.split() if not t.lstrip("-").isdigit())
        raise ValueError(f"line {number}: expected {what} (integers), got {bad!r}") from None


def _header(lines: list[tuple[int, str]], source: str) -> tuple[int, int, int]:
    if not lines:
        raise ValueError(f"{source}: line 1: expected a header 'jobs machines', got an empty file")
    number, line = lines[0]
    values = _ints(number, " ".join(line.split()[:2]), "a header 'jobs machines'")
    if len(values) < 2 or values[0] <= 0 or values[1] <= 0:
        raise ValueError(f"line {number}: expected a header with two positive numbers 'jobs machines', got {line!r}")
    return number, values[0], values[1]


def _make_instance(name: str, routes: list[list[list[tuple[int, int]]]], machines: int) -> Instance:
    """Build an instance from routes[job][operation] = [(0-based machine, duration), ...]."""
    machine_list = tuple(Machine(id=f"M{k + 1}") for k in range(machines))
    jobs = []
    for j, route in enumerate(routes, start=1):
        ops = tuple(
            Operation(id=f"J{j}/{k}", name=str(k), modes=tuple(Mode(f"M{m + 1}", d) for m, d in alternatives))
            for k, alternatives in enumerate(route, start=1)
        )
        jobs.append(Job(id=f"J{j}", operations=ops))
    return Instance(jobs=tuple(jobs), machines=machine_list, name=name)


def read_jsplib(text: str, name: str = "instance") -> Instance:
    """Parse a JSPLIB / OR-Library job-shop instance (0-based machines)."""
    lines = _data_lines(text)
    number, n, m = _header(lines, name)
    if len(lines) - 1 < n:
        last = lines[-1][0] if lines else number
        raise ValueError(f"line {last + 1}: expected {n} job lines after the header, found {len(lines) - 1}")
    routes = []
    for number, line in lines[1 : n + 1]:
        values = _ints(number, line, f"{m} pairs 'machine duration'")
        if len(values) != 2 * m:
            raise ValueError(
                f"line {number}: expected {2 * m} numbers ({m} pairs 'machine duration'), got {len(values)}"
            )
        route = []
        for k in range(m):
            machine, duration = values[2 * k], values[2 * k + 1]
            if not 0 <= machine < m:
                raise ValueError(f"line {number}: expected a machine number between 0 and {m - 1}, got {machine}")
            if duration < 0:
                raise ValueError(f"line {number}: expected a non-negative duration, got {duration}")
            route.append([(machine, duration)])
        routes.append(route)
    if len(lines) > n + 1:
        raise ValueError(f"line {lines[n + 1][0]}: expected end of file after {n} jobs, got more data")
    return _make_instance(name, routes, m)


def read_taillard(text: str, name: str = "instance") -> Instance:
    """Parse Taillard's original format: header, times matrix, machines matrix (1-based)."""
    lines = [
        (number, line)
        for number, line in _data_lines(text)
        if not (line[0].isalpha() and not line.split()[0].lstrip("-").isdigit())
    ]
    number, n, m = _header(lines, name)
    body = lines[1:]
    if len(body) < 2 * n:
        last = body[-1][0] if body else number
        raise ValueError(
            f"line {last + 1}: expected {2 * n} matrix rows ({n} of times, {n} of machines), found {len(body)}"
        )
    times, machines = [], []
    for row, (number, line) in enumerate(body[: 2 * n]):
        what = "processing times" if row < n else "machine numbers"
        values = _ints(number, line, what)
        if len(values) != m:
            raise ValueError(f"line {number}: expected {m} {what}, got {len(values)}")
        if row >= n and any(not 1 <= v <= m for v in values):
            bad = next(v for v in values if not 1 <= v <= m)
            raise ValueError(f"line {number}: expected machine numbers between 1 and {m}, got {bad}")
        if row < n and any(v < 0 for v in values):
            raise ValueError(f"line {number}: expected non-negative processing times")
        (times if row < n else machines).append(values)
    if len(body) > 2 * n:
        raise ValueError(f"line {body[2 * n][0]}: expected end of file after the machines matrix, got more data")
    routes = [[[(machines[j][k] - 1, times[j][k])] for k in range(m)] for j in range(n)]
    return _make_instance(name, routes, m)


class _Cursor:
    """Reads the numbers of one line in order, naming what was expected when the line ends too early."""

    def __init__(self, number: int, values: list[int]) -> None:
        self.number, self.values, self.position = number, values, 0

    def __call__(self, what: str) -> int:
        if self.position >= len(self.values):
            raise ValueError(f"line {self.number}: expected {what} at position {self.position + 1}, the line ended")
        self.position += 1
        return self.values[self.position - 1]


def read_fjs(text: str, name: str = "instance") -> Instance:
    """Parse a flexible job-shop .fjs file (Brandimarte / Hurink / Kacem; 1-based machines)."""
    lines = _data_lines(text)
    number, n, m = _header(lines, name)
    if len(lines) - 1 < n:
        last = lines[-1][0] if lines else number
        raise ValueError(f"line {last + 1}: expected {n} job lines after the header, found {len(lines) - 1}")
    routes = []
    for number, line in lines[1 : n + 1]:
        values = _ints(number, line, "the number of operations followed by the operations")
        take = _Cursor(number, values)
        count = take("the number of operations")
        if count <= 0:
            raise ValueError(f"line {number}: expected a positive number of operations, got {count}")
        route = []
        for _ in range(count):
            k = take("the number of eligible machines")
            if k <= 0:
                raise ValueError(f"line {number}: expected a positive number of eligible machines, got {k}")
            alternatives = []
            for _ in range(k):
                machine = take("a machine number")
                duration = take("a duration")
                if not 1 <= machine <= m:
                    raise ValueError(f"line {number}: expected a machine number between 1 and {m}, got {machine}")
                if duration < 0:
                    raise ValueError(f"line {number}: expected a non-negative duration, got {duration}")
                alternatives.append((machine - 1, duration))
            route.append(alternatives)
        if take.position != len(values):
            raise ValueError(
                f"line {number}: expected {take.position} numbers for {count} operations, got {len(values)}"
            )
        routes.append(route)
    if len(lines) > n + 1:
        raise ValueError(f"line {lines[n + 1][0]}: expected end of file after {n} jobs, got more data")
    return _make_instance(name, routes, m)


def read_json(text: str, name: str = "instance") -> Instance:
    """Parse the native JSON format."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"line {error.lineno}: expected valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("line 1: expected a JSON object with 'jobs' and 'machines'")
    try:
        instance = instance_from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"line 1: expected an instance object; problem with {error}") from None
    if "name" not in data:
        instance = Instance(**{**{f: getattr(instance, f) for f in instance.__dataclass_fields__}, "name": name})
    return instance


def detect_format(text: str, path: str = "") -> str:
    """Guess the format: 'json', 'fjs', 'taillard' or 'jsplib'."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json" or text.lstrip().startswith("{"):
        return "json"
    if suffix == ".fjs":
        return "fjs"
    lines = _data_lines(text)
    if lines and lines[0][1][0].isalpha():
        return "taillard"
    if len(lines) >= 2:
        header = lines[0][1].split()
        width = len(lines[1][1].split())
        if len(header) >= 2 and header[1].isdigit() and width == int(header[1]) and width != 2 * int(header[1]):
            return "taillard"
    return "jsplib"


READERS = {"json": read_json, "fjs": read_fjs, "taillard": read_taillard, "jsplib": read_jsplib}


def read_instance(path: str | Path, fmt: str | None = None) -> Instance:
    """Read an instance file in any supported format (detected from the name and content unless given)."""
    path = Path(path)
    text = path.read_text()
    fmt = fmt or detect_format(text, str(path))
    name = path.stem if path.suffix.lower() in (".fjs", ".json", ".txt") else path.name
    try:
        return READERS[fmt](text, name)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
