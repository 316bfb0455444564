"""Predictive maintenance maths, pure (no database, no Flask): a trend model and an anomaly detector.

See docs/predictive-maintenance.md for the method in plain words. In short:

* :func:`forecast` fits two curves by least squares to a metric's recent hourly averages: a straight line, and
  an exponential (a straight line through the logarithms, for wear that accelerates). Isolated spikes are set
  aside first. For each curve whose trend towards the failure threshold is statistically clear (t ≥ MIN_T), it
  computes when the curve, and the edges of its 95 % confidence band, reach the threshold; the earlier forecast
  counts. The warning is due when the band's earliest crossing is closer than the lead time.
* :func:`detect_anomaly` compares an EWMA of the newest values with control limits from the metric's own
  history, robustly estimated (median and MAD, so old spikes do not widen the limits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z = 1.96  # two-sided 95 % confidence band of the fitted curve
MIN_T = 3.0  # a trend counts when its slope is this many standard errors away from zero
MIN_POINTS = 24  # hours of data before any forecast
OUTLIER = 4.0  # points this many robust standard deviations off the line are set aside as spikes
HORIZON_H = 24 * 90  # forecasts further out than this are "not within sight"


@dataclass(frozen=True)
class Forecast:
    """Hours from now until the threshold: point estimate and 95 % band edges (None: beyond the horizon)."""

    model: str  # "linear" or "exponential"
    slope_per_h: float  # of the metric, now
    t_stat: float
    hours_to_threshold: float | None
    earliest_hours: float | None
    latest_hours: float | None
    level: float  # fitted value now

    def warns(self, lead_time_h: float) -> bool:
        return self.t_stat >= MIN_T and self.earliest_hours is not None and self.earliest_hours <= lead_time_h

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Line:
    """y = mean_y + slope * (x - mean_x), with what its confidence band needs."""

    mean_x: float
    mean_y: float
    slope: float
    sigma: float
    n: int
    sxx: float

    def value(self, x: float) -> float:
        return self.mean_y + self.slope * (x - self.mean_x)

    def se(self, x: float) -> float:
        return self.sigma * math.sqrt(1 / self.n + (x - self.mean_x) ** 2 / self.sxx)

    @property
    def t_stat(self) -> float:
        se = self.sigma / math.sqrt(self.sxx)
        return self.slope / se if se > 0 else math.copysign(math.inf, self.slope)


def _line(xs: Sequence[float], ys: Sequence[float]) -> _Line:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs) or 1e-12
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    residuals = [y - mean_y - slope * (x - mean_x) for x, y in zip(xs, ys, strict=True)]
    sigma = math.sqrt(sum(r * r for r in residuals) / max(n - 2, 1))
    return _Line(mean_x, mean_y, slope, sigma, n, sxx)


def _without_spikes(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    line = _line(xs, ys)
    residuals = [y - line.value(x) for x, y in zip(xs, ys, strict=True)]
    spread = 1.4826 * _median([abs(r) for r in residuals]) or line.sigma
    kept = [(x, y) for x, y, r in zip(xs, ys, residuals, strict=True) if abs(r) <= OUTLIER * spread]
    if len(kept) < MIN_POINTS:
        return list(xs), list(ys)
    return [x for x, _ in kept], [y for _, y in kept]


def _crossing(line: _Line, threshold: float, rising: bool, edge: float) -> float | None:
    """First hour from now (x = 0) when the line plus ``edge`` band widths reaches the threshold."""

    def reached(h: float) -> bool:
        value = line.value(h) + edge * Z * line.se(h)
        return value >= threshold if rising else value <= threshold

    if reached(0.0):
        return 0.0
    previous, steps = 0.0, 80
    for i in range(1, steps + 1):
        h = HORIZON_H * (i / steps) ** 3  # finer steps near now, where precision matters
        if reached(h):
            low, high = previous, h
            while high - low > 0.05:
                middle = (low + high) / 2
                low, high = (low, middle) if reached(middle) else (middle, high)
            return high
        previous = h
    return None


def _forecast_line(model: str, line: _Line, threshold: float, rising: bool, slope_now: float, level: float):
    toward = 1.0 if rising else -1.0
    return Forecast(
        model=model,
        slope_per_h=slope_now,
        t_stat=toward * line.t_stat,
        hours_to_threshold=_crossing(line, threshold, rising, 0.0),
        earliest_hours=_crossing(line, threshold, rising, toward),
        latest_hours=_crossing(line, threshold, rising, -toward),
        level=level,
    )


def forecast(
    hours: Sequence[float], values: Sequence[float], threshold: float, baseline: float | None = None
) -> Forecast | None:
    """Forecast when the series (``hours`` ascending; the newest is "now") reaches ``threshold``.

    Rising metrics (vibration, temperature, current) and falling ones (pressure) alike: the side of the threshold
    the fitted level is on decides the direction. ``baseline`` is the metric's healthy level (e.g. the median of
    the weeks before): the exponential is then fitted to the distance from it, which is what grows when wear
    accelerates. None with too few points.
    """
    if len(hours) < MIN_POINTS:
        return None
    now = hours[-1]
    xs, ys = _without_spikes([h - now for h in hours], values)
    line = _line(xs, ys)
    rising = line.value(0.0) < threshold
    candidates = [_forecast_line("linear", line, threshold, rising, line.slope, line.value(0.0))]
    errors = [sum((y - line.value(x)) ** 2 for x, y in zip(xs, ys, strict=True))]
    origin = 0.0 if baseline is None else baseline
    sign = 1.0 if rising else -1.0
    distances = [sign * (y - origin) for y in ys]
    if all(d > 0 for d in distances) and sign * (threshold - origin) > 0:
        # ln(distance) grows in a straight line when the distance to the healthy level grows exponentially
        log_line = _line(xs, [math.log(d) for d in distances])
        level = origin + sign * math.exp(log_line.value(0.0))
        slope_now = sign * math.exp(log_line.value(0.0)) * log_line.slope
        target = math.log(sign * (threshold - origin))
        candidates.append(_forecast_line("exponential", log_line, target, True, slope_now, level))
        fitted = [origin + sign * math.exp(log_line.value(x)) for x in xs]
        errors.append(sum((y - f) ** 2 for y, f in zip(ys, fitted, strict=True)))
    # The curve that follows the data more closely (in the metric's own units) makes the forecast.
    ranked = sorted(zip(errors, range(len(candidates)), candidates, strict=True))
    clear = [f for _error, _index, f in ranked if f.t_stat >= MIN_T]
    return clear[0] if clear else candidates[0]


# --- anomaly detection ----------------------------------------------------------------------------------------

LAMBDA = 0.2  # EWMA weight of the newest value
LIMIT = 3.5  # control limits at this many EWMA standard deviations
RUN = 3  # consecutive EWMA values outside the limits before flagging
MIN_BASELINE = 48


@dataclass(frozen=True)
class Anomaly:
    anomalous: bool
    ewma: float
    centre: float
    lower: float
    upper: float
    robust_z: float  # of the newest value against the baseline

    def as_dict(self) -> dict:
        return asdict(self)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def detect_anomaly(baseline: Sequence[float], recent: Sequence[float]) -> Anomaly | None:
    """EWMA of ``recent`` (oldest first) against limits from ``baseline`` (the history before it)."""
    if len(baseline) < MIN_BASELINE or not recent:
        return None
    centre = _median(baseline)
    mad = _median([abs(v - centre) for v in baseline])
    sigma = max(1.4826 * mad, 1e-6 * abs(centre), 1e-9)
    width = LIMIT * sigma * math.sqrt(LAMBDA / (2 - LAMBDA))
    lower, upper = centre - width, centre + width
    ewma, outside = centre, 0
    for value in recent:
        ewma = LAMBDA * value + (1 - LAMBDA) * ewma
        outside = outside + 1 if not lower <= ewma <= upper else 0
    return Anomaly(outside >= RUN, ewma, centre, lower, upper, (recent[-1] - centre) / sigma)
