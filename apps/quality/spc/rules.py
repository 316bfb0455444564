"""The eight Nelson rules (Nelson, "The Shewhart control chart — tests for special causes", JQT 1984).

The rules read standardised points: each point's distance from the centre line in standard deviations of the
plotted statistic (``charts.standardise``), so that the zones are the same for every chart, including p and u
charts whose limits vary with the sample size. A rule *fires at* a point when that point completes the pattern:

1. one point more than 3 standard deviations from the centre line;
2. nine points in a row on the same side of the centre line;
3. six points in a row steadily increasing, or steadily decreasing;
4. fourteen points in a row alternating up and down;
5. two out of three points in a row more than 2 standard deviations from the centre line, on the same side
   (the point itself being one of them);
6. four out of five points in a row more than 1 standard deviation from the centre line, on the same side
   (the point itself being one of them);
7. fifteen points in a row within 1 standard deviation of the centre line, on either side;
8. eight points in a row more than 1 standard deviation from the centre line, on both sides.

A point exactly on the centre line breaks a run of rule 2; equal neighbours break rules 3 and 4.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

RULES = (1, 2, 3, 4, 5, 6, 7, 8)
RUN_LENGTH = {2: 9, 3: 6, 4: 14, 7: 15, 8: 8}  # points a run must have before the rule fires


@dataclass(frozen=True)
class Violation:
    """Rule ``rule`` fires at point ``index``; ``side`` is "above"/"below" or "up"/"down" where it applies."""

    rule: int
    index: int
    side: str | None = None


def _side(z: float) -> str:
    return "above" if z > 0 else "below"


def _rule_1(z: Sequence[float], i: int) -> str | None:
    return _side(z[i]) if abs(z[i]) > 3.0 else None


def _rule_2(z: Sequence[float], i: int) -> str | None:
    window = z[i - 8 : i + 1] if i >= 8 else ()
    if window and (all(v > 0 for v in window) or all(v < 0 for v in window)):
        return _side(z[i])
    return None


def _rule_3(z: Sequence[float], i: int) -> str | None:
    if i < 5:
        return None
    steps = [z[j] - z[j - 1] for j in range(i - 4, i + 1)]
    if all(s > 0 for s in steps):
        return "up"
    if all(s < 0 for s in steps):
        return "down"
    return None


def _rule_4(z: Sequence[float], i: int) -> str | None:
    if i < 13:
        return None
    steps = [z[j] - z[j - 1] for j in range(i - 12, i + 1)]
    if any(s == 0 for s in steps):
        return None
    alternating = all((a > 0) != (b > 0) for a, b in itertools.pairwise(steps))
    return "alternating" if alternating else None


def _k_of_m(z: Sequence[float], i: int, k: int, m: int, beyond: float) -> str | None:
    if i < k - 1 or abs(z[i]) <= beyond:
        return None
    sign = 1.0 if z[i] > 0 else -1.0
    window = z[max(0, i - m + 1) : i + 1]
    hits = sum(1 for v in window if sign * v > beyond)
    return _side(z[i]) if hits >= k else None


def _rule_5(z: Sequence[float], i: int) -> str | None:
    return _k_of_m(z, i, 2, 3, 2.0)


def _rule_6(z: Sequence[float], i: int) -> str | None:
    return _k_of_m(z, i, 4, 5, 1.0)


def _rule_7(z: Sequence[float], i: int) -> str | None:
    window = z[i - 14 : i + 1] if i >= 14 else ()
    return "within" if window and all(abs(v) < 1.0 for v in window) else None


def _rule_8(z: Sequence[float], i: int) -> str | None:
    window = z[i - 7 : i + 1] if i >= 7 else ()
    if window and all(abs(v) > 1.0 for v in window) and any(v > 0 for v in window) and any(v < 0 for v in window):
        return "both"
    return None


_CHECKS = {1: _rule_1, 2: _rule_2, 3: _rule_3, 4: _rule_4, 5: _rule_5, 6: _rule_6, 7: _rule_7, 8: _rule_8}


def violations_at(z: Sequence[float], index: int, rules: Sequence[int] = RULES) -> list[Violation]:
    """The rules that fire at point ``index`` (what is checked when a new point arrives)."""
    found = []
    for rule in rules:
        side = _CHECKS[rule](z, index)
        if side is not None:
            found.append(Violation(rule, index, side))
    return found


def all_violations(z: Sequence[float], rules: Sequence[int] = RULES) -> list[Violation]:
    """Every (rule, point) that fires along a whole chart (for marking points on a drawn chart)."""
    return [v for i in range(len(z)) for v in violations_at(z, i, rules)]
