"""Control charts: the plotted points of each chart type and their phase-I control limits.

Variables charts plot subgroup means (X̄-R, X̄-S) or individual values (I-MR) and carry a second chart of the
spread (range, standard deviation, moving range). Attributes charts plot the fraction defective (p), the number
defective (np), the number of defects (c) or defects per unit (u). Limits are the centre line ± 3 standard
deviations of the plotted statistic; for p and u charts that standard deviation depends on each sample's size,
so their limits vary from point to point.
"""

from __future__ import annotations

import enum
import itertools
import math
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from apps.quality.spc import constants as k


class ChartType(enum.StrEnum):
    XBAR_R = "xbar_r"
    XBAR_S = "xbar_s"
    IMR = "imr"
    P = "p"
    NP = "np"
    C = "c"
    U = "u"

    @property
    def for_variables(self) -> bool:
        return self in (ChartType.XBAR_R, ChartType.XBAR_S, ChartType.IMR)

    @property
    def needs_subgroup_size(self) -> bool:
        """X̄ charts need a fixed subgroup size; np a fixed sample size."""
        return self in (ChartType.XBAR_R, ChartType.XBAR_S, ChartType.NP)


class NotEnoughData(ValueError):
    """Limits cannot be computed from so few points."""


MIN_POINTS = 2  # the arithmetic minimum; docs/spc.md recommends 20 to 25 subgroups for a baseline


@dataclass(frozen=True)
class Sample:
    """One inspection's data for one chart: measured values, or counts out of a number inspected."""

    key: int
    values: tuple[float, ...] = ()
    inspected: int | None = None  # units inspected (p, np, u)
    count: int | None = None  # defective units (p, np) or defects (c, u)


@dataclass(frozen=True)
class Point:
    """A plotted point: the statistic, the size it stands for, and the spread for the second chart."""

    key: int
    value: float
    n: int
    secondary: float | None = None


@dataclass(frozen=True)
class Limits:
    """Centre line and 3-sigma limits of a chart; ``sigma`` is the plotted statistic's at size ``n``."""

    chart: ChartType
    center: float
    sigma: float
    n: int
    second_center: float | None = None
    second_ucl: float | None = None
    second_lcl: float | None = None
    process_sigma: float | None = None  # within-subgroup sigma of the process (variables charts)

    def sigma_at(self, n: int) -> float:
        """The plotted statistic's standard deviation for a sample of ``n`` (differs only on p and u charts)."""
        if self.chart is ChartType.P:
            return math.sqrt(max(self.center * (1.0 - self.center), 0.0) / n)
        if self.chart is ChartType.U:
            return math.sqrt(max(self.center, 0.0) / n)
        return self.sigma

    def ucl_at(self, n: int) -> float:
        return self.center + 3.0 * self.sigma_at(n)

    def lcl_at(self, n: int) -> float:
        lcl = self.center - 3.0 * self.sigma_at(n)
        return lcl if self.chart.for_variables else max(0.0, lcl)  # counts cannot go below zero

    @property
    def ucl(self) -> float:
        return self.ucl_at(self.n)

    @property
    def lcl(self) -> float:
        return self.lcl_at(self.n)


# --- points -----------------------------------------------------------------------------------------------------


def points(chart: ChartType, samples: Sequence[Sample], n: int | None = None) -> list[Point]:
    """The plotted points of ``samples``; samples that do not fit the chart (wrong size, no data) are left out."""
    if chart is ChartType.IMR:
        return _individuals(samples)
    found = []
    for sample in samples:
        point = _point(chart, sample, n)
        if point is not None:
            found.append(point)
    return found


def _point(chart: ChartType, sample: Sample, n: int | None) -> Point | None:
    if chart in (ChartType.XBAR_R, ChartType.XBAR_S):
        if len(sample.values) != n:
            return None  # a subgroup of another size would need other constants
        mean = statistics.fmean(sample.values)
        if chart is ChartType.XBAR_R:
            spread = max(sample.values) - min(sample.values)
        else:
            spread = statistics.stdev(sample.values)
        return Point(sample.key, mean, len(sample.values), spread)
    if sample.count is None:
        return None
    if chart is ChartType.C:
        return Point(sample.key, float(sample.count), 1)
    if not sample.inspected:
        return None
    if chart is ChartType.NP:
        return Point(sample.key, float(sample.count), sample.inspected) if sample.inspected == n else None
    return Point(sample.key, sample.count / sample.inspected, sample.inspected)  # p and u


def _individuals(samples: Sequence[Sample]) -> list[Point]:
    found: list[Point] = []
    for sample in samples:
        for value in sample.values:
            moving_range = abs(value - found[-1].value) if found else None
            found.append(Point(sample.key, value, 1, moving_range))
    return found


# --- limits from summary statistics (the textbook formulas) -----------------------------------------------------


def xbar_r_limits(grand_mean: float, mean_range: float, n: int) -> Limits:
    return Limits(
        ChartType.XBAR_R,
        center=grand_mean,
        sigma=k.a2(n) * mean_range / 3.0,
        n=n,
        second_center=mean_range,
        second_ucl=k.d4_factor(n) * mean_range,
        second_lcl=k.d3_factor(n) * mean_range,
        process_sigma=mean_range / k.d2(n),
    )


def xbar_s_limits(grand_mean: float, mean_stdev: float, n: int) -> Limits:
    return Limits(
        ChartType.XBAR_S,
        center=grand_mean,
        sigma=k.a3(n) * mean_stdev / 3.0,
        n=n,
        second_center=mean_stdev,
        second_ucl=k.b4(n) * mean_stdev,
        second_lcl=k.b3(n) * mean_stdev,
        process_sigma=mean_stdev / k.c4(n),
    )


def imr_limits(mean: float, mean_moving_range: float) -> Limits:
    process_sigma = mean_moving_range / k.d2(2)
    return Limits(
        ChartType.IMR,
        center=mean,
        sigma=process_sigma,
        n=1,
        second_center=mean_moving_range,
        second_ucl=k.d4_factor(2) * mean_moving_range,
        second_lcl=0.0,
        process_sigma=process_sigma,
    )


def p_limits(p_bar: float, n: int) -> Limits:
    return Limits(ChartType.P, center=p_bar, sigma=math.sqrt(p_bar * (1.0 - p_bar) / n), n=n)


def np_limits(p_bar: float, n: int) -> Limits:
    return Limits(ChartType.NP, center=n * p_bar, sigma=math.sqrt(n * p_bar * (1.0 - p_bar)), n=n)


def c_limits(c_bar: float) -> Limits:
    return Limits(ChartType.C, center=c_bar, sigma=math.sqrt(c_bar), n=1)


def u_limits(u_bar: float, n: int) -> Limits:
    return Limits(ChartType.U, center=u_bar, sigma=math.sqrt(u_bar / n), n=n)


# --- phase I: limits from a baseline of points ------------------------------------------------------------------


def compute_limits(
    chart: ChartType, baseline: Sequence[Point], n: int | None = None, exclude: Collection[int] = ()
) -> Limits:
    """Trial limits from ``baseline`` without the points whose key is in ``exclude`` (assignable causes).

    ``n`` is the subgroup size of X̄ and np charts; p and u charts report their limits at the average sample size.
    """
    used = [p for p in baseline if p.key not in exclude]
    if len(used) < MIN_POINTS:
        raise NotEnoughData(f"{len(used)} point(s) left in the baseline; at least {MIN_POINTS} are needed")
    if chart is ChartType.XBAR_R:
        return xbar_r_limits(_mean(used), statistics.fmean(p.secondary for p in used), n)
    if chart is ChartType.XBAR_S:
        return xbar_s_limits(_mean(used), statistics.fmean(p.secondary for p in used), n)
    if chart is ChartType.IMR:
        return imr_limits(_mean(used), _mean_moving_range(baseline, set(exclude)))
    if chart is ChartType.C:
        return c_limits(_mean(used))
    total = sum(p.n for p in used)
    average_n = max(1, round(total / len(used)))
    if chart is ChartType.NP:
        return np_limits(sum(p.value for p in used) / (len(used) * n), n)
    counts = sum(p.value * p.n for p in used)  # back from fractions to counts: pooled, not averaged
    if chart is ChartType.P:
        return p_limits(counts / total, average_n)
    return u_limits(counts / total, average_n)


def _mean(used: Sequence[Point]) -> float:
    return statistics.fmean(p.value for p in used)


def _mean_moving_range(baseline: Sequence[Point], exclude: set[int]) -> float:
    """Average moving range of neighbours that are both in the baseline (an excluded point breaks the chain)."""
    ranges = [
        abs(current.value - previous.value)
        for previous, current in itertools.pairwise(baseline)
        if previous.key not in exclude and current.key not in exclude
    ]
    if not ranges:
        raise NotEnoughData("no two neighbouring individual values are left in the baseline")
    return statistics.fmean(ranges)


def standardise(limits: Limits, plotted: Sequence[Point]) -> list[float]:
    """Each point's distance from the centre line in its own standard deviations (what the rules read)."""
    scores = []
    for point in plotted:
        sigma = limits.sigma_at(point.n)
        delta = point.value - limits.center
        if sigma > 0.0:
            scores.append(delta / sigma)
        else:  # no variation in the baseline: any departure is infinitely unusual
            scores.append(0.0 if delta == 0.0 else math.copysign(math.inf, delta))
    return scores


def secondary_side(limits: Limits, point: Point) -> str | None:
    """Which limit of its own the spread (range, standard deviation, moving range) is beyond: "above" the upper,
    "below" the lower, or None when it is inside them (a lower limit of zero is never crossed)."""
    if point.secondary is None or limits.second_ucl is None:
        return None
    if point.secondary > limits.second_ucl:
        return "above"
    if limits.second_lcl and point.secondary < limits.second_lcl:
        return "below"
    return None


def secondary_out_of_limits(limits: Limits, point: Point) -> bool:
    """Whether the spread (range, standard deviation, moving range) is beyond its own limits."""
    return secondary_side(limits, point) is not None
