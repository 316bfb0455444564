"""Taillard's (1993) job-shop benchmark instances ta01-ta80, regenerated from the published seeds.

E. Taillard, "Benchmarks for basic scheduling problems", European Journal of Operational Research 64 (1993)
278-285. Each instance is defined by its size and two seeds of the Lehmer / Park-Miller generator
(a = 16807, m = 2^31 - 1, computed with Schrage's method so that it never overflows 32 bits):

* processing times: job after job, operation after operation, ``unif(time_seed, 1, 99)``;
* machine orders: every job starts from the order 0, 1, ..., M-1; then, job after job, for position
  ``j = 0 .. M-1`` the machine at ``j`` is swapped with the one at ``unif(machine_seed, j, M-1)``
  (one seed stream for all jobs).

The text produced is the JSPLIB / OR-Library layout of the stored files (``J M``, then per job the
``machine duration`` pairs, 0-based machines, each number right-aligned on two characters and followed by
a space).

    python bench/taillard.py ta41                       # print one instance (several names allowed)
    python bench/taillard.py taillard:ta41 --out dir    # write dir/ta41 instead of printing
    python bench/taillard.py --verify ../shared/bench/jssp   # compare with the 80 stored files
    python bench/taillard.py --size 30 20 --seeds 123456789 987654321   # a fresh, unpublished instance
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

MODULUS = 2**31 - 1
MULTIPLIER = 16807
SCHRAGE_Q = MODULUS // MULTIPLIER  # 127773
SCHRAGE_R = MODULUS % MULTIPLIER  # 2836
MIN_TIME, MAX_TIME = 1, 99

# Sizes (jobs, machines) of the eight groups of ten instances: ta01-ta10, ta11-ta20, ..., ta71-ta80.
SIZES = ((15, 15), (20, 15), (20, 20), (30, 15), (30, 20), (50, 15), (50, 20), (100, 20))

# (time seed, machine seed) of ta01 ... ta80, as published by Taillard (1993).
SEEDS = (
    (840612802, 398197754),
    (1314640371, 386720536),
    (1227221349, 316176388),
    (342269428, 1806358582),
    (1603221416, 1501949241),
    (1357584978, 1734077082),
    (44531661, 1374316395),
    (302545136, 2092186050),
    (1153780144, 1393392374),
    (73896786, 1544979948),
    (533484900, 317419073),
    (1894307698, 1474268163),
    (874340513, 509669280),
    (1124986343, 1209573668),
    (1463788335, 529048107),
    (1056908795, 25321885),
    (195672285, 1717580117),
    (961965583, 1353003786),
    (1610169733, 1734469503),
    (532794656, 998486810),
    (1035939303, 773961798),
    (5997802, 1872541150),
    (1357503601, 722225039),
    (806159563, 1166962073),
    (1902815253, 1879990068),
    (1503184031, 1850351876),
    (1032645967, 99711329),
    (229894219, 1158117804),
    (823349822, 108033225),
    (1297900341, 489486403),
    (98640593, 1981283465),
    (1839268120, 248890888),
    (573875290, 2081512253),
    (1670898570, 788294565),
    (1118914567, 1074349202),
    (178750207, 294279708),
    (1549372605, 596993084),
    (798174738, 151685779),
    (553410952, 1329272528),
    (1661531649, 1173386294),
    (1841414609, 1357882888),
    (2116959593, 1546338557),
    (796392706, 1230864158),
    (532496463, 254174057),
    (2020525633, 978943053),
    (524444252, 185526083),
    (1569394691, 487269855),
    (1460267840, 1631446539),
    (198324822, 1937476577),
    (38071822, 1541985579),
    (17271, 718939),
    (660481279, 449650254),
    (352229765, 949737911),
    (1197518780, 166840558),
    (1376020303, 483922052),
    (2106639239, 955932362),
    (1765352082, 1209982549),
    (1105092880, 1349003108),
    (907248070, 919544535),
    (2011630757, 1845447001),
    (8493988, 2738939),
    (1991925010, 709517751),
    (342093237, 786960785),
    (1634043183, 973178279),
    (341706507, 286513148),
    (320167954, 1411193018),
    (1089696753, 298068750),
    (433032965, 1589656152),
    (615974477, 331205412),
    (236150141, 592292984),
    (302034063, 1203569070),
    (1437643198, 1692025209),
    (1792475497, 1039908559),
    (1647273132, 1012841433),
    (696480901, 1689682358),
    (1785569423, 1092647459),
    (117806902, 739059626),
    (1639154709, 1319962509),
    (2007423389, 749368241),
    (682761130, 262763021),
)
NAMES = tuple(f"ta{k:02d}" for k in range(1, len(SEEDS) + 1))
PREFIX = "taillard:"


class _Stream:
    """One Lehmer / Park-Miller random stream, as in Taillard's generator."""

    def __init__(self, seed: int) -> None:
        if not 0 < seed < MODULUS:
            raise ValueError(f"expected a seed between 1 and {MODULUS - 1}, got {seed}")
        self.seed = seed

    def unif(self, low: int, high: int) -> int:
        """Advance the seed (Schrage's method) and return an integer uniformly drawn in low..high."""
        k = self.seed // SCHRAGE_Q
        self.seed = MULTIPLIER * (self.seed % SCHRAGE_Q) - k * SCHRAGE_R
        if self.seed < 0:
            self.seed += MODULUS
        return low + int(self.seed / MODULUS * (high - low + 1))


def generate(jobs: int, machines: int, time_seed: int, machine_seed: int) -> list[list[tuple[int, int]]]:
    """Routes of a Taillard job shop: routes[job] = [(0-based machine, processing time), ...] in route order."""
    if jobs <= 0 or machines <= 0:
        raise ValueError(f"expected positive numbers of jobs and machines, got {jobs} x {machines}")
    times_stream, machine_stream = _Stream(time_seed), _Stream(machine_seed)
    times = [[times_stream.unif(MIN_TIME, MAX_TIME) for _ in range(machines)] for _ in range(jobs)]
    routes = []
    for job in range(jobs):
        order = list(range(machines))
        for position in range(machines):
            other = machine_stream.unif(position, machines - 1)
            order[position], order[other] = order[other], order[position]
        routes.append(list(zip(order, times[job], strict=True)))
    return routes


def canonical(name: str) -> str:
    """'ta41', 'TA41', 'ta041' or 'taillard:ta41' -> 'ta41'; anything else raises ValueError."""
    text = name.strip()
    if text.lower().startswith(PREFIX):
        text = text[len(PREFIX) :]
    match = re.fullmatch(r"ta0*(\d{1,3})", text, flags=re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= len(SEEDS):
        return NAMES[int(match.group(1)) - 1]
    raise ValueError(f"unknown Taillard job-shop instance {name!r}: expected ta01 ... ta{len(SEEDS):02d}")


def parameters(name: str) -> tuple[int, int, int, int]:
    """(jobs, machines, time seed, machine seed) of a published instance."""
    index = NAMES.index(canonical(name))
    return (*SIZES[index // 10], *SEEDS[index])


def routes(name: str) -> list[list[tuple[int, int]]]:
    """Routes of a published instance (see generate)."""
    return generate(*parameters(name))


def to_jsplib(routes: list[list[tuple[int, int]]]) -> str:
    """JSPLIB text in the layout of the stored Taillard files."""
    machines = len(routes[0]) if routes else 0
    lines = [f"{len(routes)} {machines}"]
    lines += ["".join(f"{machine:2d} {duration:2d} " for machine, duration in route) for route in routes]
    return "\n".join(lines) + "\n"


def text(name: str) -> str:
    """JSPLIB text of a published instance."""
    return to_jsplib(routes(name))


def _numbers(content: str) -> list[int]:
    """All numbers of a JSPLIB text, '#' comment lines skipped (for the whitespace-insensitive comparison)."""
    lines = (line for line in content.splitlines() if not line.lstrip().startswith("#"))
    return [int(token) for line in lines for token in line.split()]


def verify(directory: Path) -> tuple[int, list[str]]:
    """Compare every generated instance with directory/taNN; returns (passed, messages about the others)."""
    passed, problems = 0, []
    for name in NAMES:
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing ({path})")
            continue
        stored, generated = path.read_bytes(), text(name).encode("ascii")
        if stored == generated:
            passed += 1
        elif _numbers(stored.decode("ascii", "replace")) == _numbers(generated.decode("ascii")):
            problems.append(f"{name}: same numbers, different layout (not byte-for-byte)")
        else:
            problems.append(f"{name}: numbers differ")
    return passed, problems


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="instances to generate: ta01 ... ta80 (or taillard:taNN)")
    parser.add_argument("--verify", type=Path, metavar="DIR", help="compare all 80 with the files DIR/taNN")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write DIR/<name> instead of printing")
    parser.add_argument("--size", type=int, nargs=2, metavar=("JOBS", "MACHINES"), help="fresh instance size")
    parser.add_argument("--seeds", type=int, nargs=2, metavar=("TIME", "MACHINE"), help="fresh instance seeds")
    args = parser.parse_args(argv)
    if args.verify is not None:
        passed, problems = verify(args.verify)
        for message in problems:
            print(message)
        print(f"{passed} passed, {len(problems)} failed")
        return 0 if not problems else 1
    if (args.size is None) != (args.seeds is None):
        parser.error("--size and --seeds go together")
    try:
        outputs = [(canonical(name), text(name)) for name in args.names]
        if args.size is not None:
            jobs, machines = args.size
            fresh = to_jsplib(generate(jobs, machines, *args.seeds))
            outputs.append((f"taillard_{jobs}x{machines}_{args.seeds[0]}_{args.seeds[1]}", fresh))
    except ValueError as error:
        parser.error(str(error))
    if not outputs:
        parser.error("give instance names (ta01 ... ta80), --size with --seeds, or --verify DIR")
    for name, content in outputs:
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / name).write_text(content)
        else:
            sys.stdout.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
