"""Control-chart constants from their definitions, so that no table has to be typed in (and mistyped).

* ``d2(n)``, ``d3(n)``: mean and standard deviation of the range of ``n`` independent standard normal values,
  integrated numerically from the distribution of the range,
  ``F_R(r) = n ∫ φ(x) [Φ(x + r) − Φ(x)]^(n−1) dx``, with ``E[R] = ∫ (1 − F_R)`` and ``E[R²] = 2 ∫ r (1 − F_R)``;
* ``c4(n)``: the mean of the sample standard deviation, ``√(2/(n−1)) Γ(n/2) / Γ((n−1)/2)`` (exact);
* the chart factors follow from those three: ``A2 = 3/(d2√n)``, ``D3 = max(0, 1 − 3 d3/d2)``,
  ``D4 = 1 + 3 d3/d2``, ``A3 = 3/(c4√n)``, ``B3 = max(0, 1 − 3√(1−c4²)/c4)``, ``B4 = 1 + 3√(1−c4²)/c4``.

tests/apps/quality/test_spc_constants.py checks every factor against the published tables (ASTM, Montgomery).
"""

from __future__ import annotations

import functools
import math

MIN_SUBGROUP = 2
MAX_SUBGROUP = 25  # the published tables stop here; larger subgroups belong on X̄-S charts anyway

_STEP = 0.05  # integration grid: the integrands are smooth, so this gives five correct decimals
_X_LIMIT = 8.0
_R_LIMIT = 10.0


def normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _check(n: int) -> None:
    if not MIN_SUBGROUP <= n <= MAX_SUBGROUP:
        raise ValueError(f"subgroup size must be between {MIN_SUBGROUP} and {MAX_SUBGROUP}, not {n}")


@functools.cache
def _range_moments(n: int) -> tuple[float, float]:
    """(E[R], SD[R]) of the range of ``n`` standard normal values."""
    count = round(2 * _X_LIMIT / _STEP)
    xs = [-_X_LIMIT + i * _STEP for i in range(count + 1)]
    pdf = [normal_pdf(x) for x in xs]
    cdf = [normal_cdf(x) for x in xs]
    steps = round(_R_LIMIT / _STEP)
    steps += steps % 2  # Simpson's rule needs an even number of intervals
    first = second = 0.0
    for j in range(steps + 1):
        # Inner integral over the whole real line: the trapezoid rule is very accurate for such integrands.
        inner = 0.0
        for i in range(count + 1):
            upper = cdf[i + j] if i + j <= count else 1.0
            width = upper - cdf[i]
            if width > 0.0:
                inner += pdf[i] * width ** (n - 1)
        tail = 1.0 - n * inner * _STEP  # P(R > r)
        weight = 1 if j in (0, steps) else (4 if j % 2 else 2)
        first += weight * tail
        second += weight * 2.0 * (j * _STEP) * tail
    first *= _STEP / 3.0
    second *= _STEP / 3.0
    return first, math.sqrt(second - first * first)


def d2(n: int) -> float:
    _check(n)
    return _range_moments(n)[0]


def d3(n: int) -> float:
    _check(n)
    return _range_moments(n)[1]


def c4(n: int) -> float:
    _check(n)
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2.0) - math.lgamma((n - 1) / 2.0))


def a2(n: int) -> float:
    return 3.0 / (d2(n) * math.sqrt(n))


def a3(n: int) -> float:
    return 3.0 / (c4(n) * math.sqrt(n))


def d3_factor(n: int) -> float:
    """D3, the lower range-chart factor (capital D; ``d3`` is the standard deviation of the range)."""
    return max(0.0, 1.0 - 3.0 * d3(n) / d2(n))


def d4_factor(n: int) -> float:
    return 1.0 + 3.0 * d3(n) / d2(n)


def b3(n: int) -> float:
    c = c4(n)
    return max(0.0, 1.0 - 3.0 * math.sqrt(1.0 - c * c) / c)


def b4(n: int) -> float:
    c = c4(n)
    return 1.0 + 3.0 * math.sqrt(1.0 - c * c) / c
