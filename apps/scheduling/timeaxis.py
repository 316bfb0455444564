"""The engine's time axis: whole minutes after an origin (an aware UTC datetime), and working-time arithmetic.

Pure functions. Conversions round in the safe direction for what is converted: a working interval shrinks to the
whole minutes inside it, an unavailability window grows to the whole minutes it touches.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

MINUTE = dt.timedelta(minutes=1)


def floor_minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


def minutes_after(origin: dt.datetime, moment: dt.datetime, *, up: bool = False) -> int:
    """Whole minutes from ``origin`` to ``moment``, rounded down (or up)."""
    value = (moment - origin).total_seconds() / 60
    return math.ceil(value - 1e-9) if up else math.floor(value + 1e-9)


def at_minute(origin: dt.datetime, minute: int) -> dt.datetime:
    return origin + minute * MINUTE


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching spans joined, empty ones dropped."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(spans: Iterable[tuple[int, int]], removed: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` minus ``removed``."""
    result = []
    cuts = merge(removed)
    for start, end in merge(spans):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def advance(working: list[tuple[int, int]] | None, blocked: Iterable[tuple[int, int]], start: int, minutes: int) -> int:
    """The minute at which ``minutes`` of working time starting at ``start`` are done, skipping non-working time
    and blocked windows; ``working=None`` means the machine always works. Past the last working minute, the
    remainder is added as if the machine worked on (an estimate, never an endless loop)."""
    if minutes <= 0:
        return start
    spans = [(start, 10**12)] if working is None else [(max(a, start), b) for a, b in working if b > start]
    left = minutes
    cursor = start
    for a, b in subtract(spans, blocked):
        take = min(left, b - a)
        cursor = a + take
        left -= take
        if left == 0:
            return cursor
    return max(cursor, start) + left


def complement(working: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """Non-working spans between ``start`` and ``end``."""
    return subtract([(start, end)], working)
