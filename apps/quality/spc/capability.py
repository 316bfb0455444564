"""Process capability: Cp and Cpk from the within-subgroup sigma, Pp and Ppk from the overall sigma.

* ``Cp = (USL − LSL) / 6σ_within``, ``Cpk = min(USL − μ, μ − LSL) / 3σ_within`` (one side when only one
  specification limit exists; Cp needs both);
* ``Pp`` and ``Ppk`` the same with the overall sample standard deviation;
* a 95 % confidence interval for Cpk (Bissell's normal approximation), because a Cpk from 30 parts can be far
  from the process's true value;
* an Anderson-Darling test of normality (with the small-sample correction and the p-value approximation of
  D'Agostino and Stephens, 1986): the indices and the predicted out-of-specification rate assume a normal
  distribution;
* warnings as codes (the pages word them): too few values, a small sample, not normal, one-sided specification.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.quality.spc.constants import normal_cdf

MIN_VALUES = 2
FEW_VALUES = 30  # below this the indices are rough guesses
SMALL_SAMPLE = 100  # below this the confidence interval is still wide
MIN_NORMALITY = 8  # the Anderson-Darling approximation is not meant for fewer values
NORMALITY_ALPHA = 0.05
Z_975 = 1.959964


@dataclass(frozen=True)
class Normality:
    statistic: float  # A*², the corrected Anderson-Darling statistic
    p_value: float

    @property
    def normal(self) -> bool:
        return self.p_value >= NORMALITY_ALPHA


@dataclass(frozen=True)
class Capability:
    n: int
    mean: float
    sigma_within: float | None
    sigma_overall: float
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    cpk_low: float | None  # 95 % confidence interval of Cpk
    cpk_high: float | None
    ppm_within: float | None  # expected parts per million outside the specification, normal model
    ppm_overall: float | None
    normality: Normality | None
    warnings: tuple[str, ...] = field(default=())


def anderson_darling(values: Sequence[float]) -> Normality | None:
    """Anderson-Darling test for normality with mean and variance estimated from the data."""
    n = len(values)
    if n < MIN_NORMALITY:
        return None
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    if sd == 0.0:
        return Normality(math.inf, 0.0)
    ordered = sorted(values)
    eps = 1e-15
    cdf = [min(max(normal_cdf((x - mean) / sd), eps), 1.0 - eps) for x in ordered]
    total = sum((2 * i + 1) * (math.log(cdf[i]) + math.log(1.0 - cdf[n - 1 - i])) for i in range(n))
    a2 = -n - total / n
    corrected = a2 * (1.0 + 0.75 / n + 2.25 / (n * n))
    return Normality(corrected, anderson_darling_p(corrected))


def anderson_darling_p(a: float) -> float:
    """p-value of a corrected A*² (D'Agostino and Stephens, Goodness-of-Fit Techniques, table 4.9)."""
    if a >= 0.6:
        p = math.exp(1.2937 - 5.709 * a + 0.0186 * a * a)
    elif a >= 0.34:
        p = math.exp(0.9177 - 4.279 * a - 1.38 * a * a)
    elif a >= 0.2:
        p = 1.0 - math.exp(-8.318 + 42.796 * a - 59.938 * a * a)
    else:
        p = 1.0 - math.exp(-13.436 + 101.14 * a - 223.73 * a * a)
    return min(max(p, 0.0), 1.0)


def indices(mean: float, sigma: float | None, lsl: float | None, usl: float | None) -> tuple[float | None, ...]:
    """(Cp, Cpk) for a sigma — or (Pp, Ppk) when given the overall sigma."""
    if sigma is None or sigma <= 0.0 or (lsl is None and usl is None):
        return None, None
    spread = (usl - lsl) / (6.0 * sigma) if lsl is not None and usl is not None else None
    sides = []
    if usl is not None:
        sides.append((usl - mean) / (3.0 * sigma))
    if lsl is not None:
        sides.append((mean - lsl) / (3.0 * sigma))
    return spread, min(sides)


def expected_ppm(mean: float, sigma: float | None, lsl: float | None, usl: float | None) -> float | None:
    if sigma is None or sigma <= 0.0 or (lsl is None and usl is None):
        return None
    below = normal_cdf((lsl - mean) / sigma) if lsl is not None else 0.0
    above = 1.0 - normal_cdf((usl - mean) / sigma) if usl is not None else 0.0
    return (below + above) * 1e6


def cpk_interval(cpk: float | None, n: int) -> tuple[float | None, float | None]:
    """Bissell's (1990) approximate 95 % interval: Cpk ± z √(1/(9n) + Cpk²/(2(n−1)))."""
    if cpk is None or n < MIN_VALUES:
        return None, None
    half = Z_975 * math.sqrt(1.0 / (9.0 * n) + cpk * cpk / (2.0 * (n - 1)))
    return cpk - half, cpk + half


def capability(
    values: Sequence[float], *, lsl: float | None, usl: float | None, sigma_within: float | None
) -> Capability:
    """Capability of ``values`` against the specification; ``sigma_within`` comes from the control chart."""
    n = len(values)
    if n < MIN_VALUES:
        raise ValueError(f"capability needs at least {MIN_VALUES} values, got {n}")
    mean, sigma_overall = statistics.fmean(values), statistics.stdev(values)
    cp, cpk = indices(mean, sigma_within, lsl, usl)
    pp, ppk = indices(mean, sigma_overall, lsl, usl)
    low, high = cpk_interval(cpk, n)
    normality = anderson_darling(values)
    warnings = []
    if n < FEW_VALUES:
        warnings.append("few_values")
    elif n < SMALL_SAMPLE:
        warnings.append("small_sample")
    if normality is None:
        warnings.append("normality_unknown")
    elif not normality.normal:
        warnings.append("not_normal")
    if (lsl is None) != (usl is None):
        warnings.append("one_sided")
    return Capability(
        n=n,
        mean=mean,
        sigma_within=sigma_within,
        sigma_overall=sigma_overall,
        cp=cp,
        cpk=cpk,
        pp=pp,
        ppk=ppk,
        cpk_low=low,
        cpk_high=high,
        ppm_within=expected_ppm(mean, sigma_within, lsl, usl),
        ppm_overall=expected_ppm(mean, sigma_overall, lsl, usl),
        normality=normality,
        warnings=tuple(warnings),
    )
