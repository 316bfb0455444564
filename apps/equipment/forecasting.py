"""The predictive job: trend and anomaly rules evaluated on hourly rollups, for every machine in their scope.

A trend rule (metric, failure threshold, lead time) raises its alarm when the forecast crossing of the threshold
comes closer than the lead time, creates one predictive maintenance work order for it (unless the machine has
one open for that metric already), and clears the alarm once the forecast is comfortably beyond the lead time
again (1.5 × the lead) or the trend has gone. An anomaly rule raises while the EWMA of the newest hours stays
outside the metric's own control limits.
The maths is in :mod:`apps.equipment.predictive`; docs/predictive-maintenance.md explains it.
"""

from __future__ import annotations

import datetime as dt
import statistics

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from apps.equipment import alarms, maintenance, predictive
from apps.equipment.models import AlarmRule, RollupHour, RuleKind
from platform_core.db import utcnow
from platform_core.masterdata.models import Machine

TREND_WINDOW_H = 48  # the forecast follows the newest two days
BASELINE_DAYS = 14  # the healthy level and the control limits come from the two weeks before
ANOMALY_RECENT_H = 12
CLEAR_FACTOR = 1.5


def hourly(session: Session, machine_id: int, metric_id: int, start: dt.datetime, end: dt.datetime):
    """(bucket, average) of the hourly rollups, oldest first."""
    rows = session.execute(
        sa.select(RollupHour.bucket, RollupHour.sum, RollupHour.count)
        .where(
            RollupHour.machine_id == machine_id,
            RollupHour.metric_id == metric_id,
            RollupHour.bucket >= start,
            RollupHour.bucket < end,
        )
        .order_by(RollupHour.bucket)
    ).all()
    return [(bucket, total / count) for bucket, total, count in rows if count]


def evaluate(session: Session, now: dt.datetime | None = None) -> None:
    """One round over every trend and anomaly rule of the session's factory."""
    now = now or utcnow()
    machines = session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.id)).all()
    rules = alarms.rules_for(session, machines, (RuleKind.TREND, RuleKind.ANOMALY))
    for machine in machines:
        for rule in rules[machine.id]:
            if rule.metric_id is None:
                continue
            series = hourly(session, machine.id, rule.metric_id, now - dt.timedelta(days=BASELINE_DAYS + 2), now)
            if rule.kind is RuleKind.TREND:
                evaluate_trend(session, rule, machine, series, now)
            else:
                evaluate_anomaly(session, rule, machine, series, now)


def _split(series, now: dt.datetime, recent_h: float):
    cut = now - dt.timedelta(hours=recent_h)
    return [v for t, v in series if t < cut], [(t, v) for t, v in series if t >= cut]


def trend_forecast(series, now: dt.datetime, threshold: float) -> tuple[predictive.Forecast, dt.datetime] | None:
    """The forecast from hourly ``(time, average)`` pairs: the newest two days, against the two weeks before.

    Returns the forecast and the time it counts from (the newest hour), or None without enough data.
    """
    history, recent = _split(series, now, TREND_WINDOW_H)
    if not recent:
        return None
    newest = recent[-1][0]
    hours = [(t - newest).total_seconds() / 3600 for t, _v in recent]
    baseline = statistics.median(history) if len(history) >= predictive.MIN_POINTS else None
    result = predictive.forecast(hours, [v for _t, v in recent], threshold, baseline=baseline)
    return (result, newest) if result is not None else None


def evaluate_trend(session: Session, rule: AlarmRule, machine: Machine, series, now: dt.datetime) -> None:
    found = trend_forecast(series, now, rule.threshold)
    if found is None:
        return
    result, newest = found
    lead = rule.lead_time_h or 0.0
    current = alarms.open_alarm(session, rule.id, machine.id)
    if current is None:
        active = result.warns(lead)
    else:  # hysteresis: stay raised until the forecast has moved well beyond the lead time
        active = result.t_stat >= predictive.MIN_T and (
            result.earliest_hours is not None and result.earliest_hours <= CLEAR_FACTOR * lead
        )
    expected = newest + dt.timedelta(hours=result.hours_to_threshold) if result.hours_to_threshold is not None else None
    message = _trend_message(session, rule, result)
    detail = {
        **result.as_dict(),
        "expected_at": expected.isoformat() if expected else None,
        "evaluated_at": now.isoformat(),
    }
    alarm = alarms.set_condition(
        session, rule, machine, active, at=now, message=message, value=result.level, detail=detail
    )
    if alarm is not None and current is None:
        maintenance.suggest_predictive(session, alarm, machine, expected, message)


def _trend_message(session: Session, rule: AlarmRule, result: predictive.Forecast) -> str:
    low, high = result.earliest_hours, result.latest_hours
    with alarms.factory_language(session):
        if low is not None and high is not None:
            return _(
                "%(rule)s: %(metric)s expected to reach %(limit)s in %(low)s–%(high)s days",
                rule=rule.name,
                metric=rule.metric.label_text,
                limit=f"{rule.threshold:g}",
                low=f"{low / 24:.1f}",
                high=f"{high / 24:.1f}",
            )
        return _(
            "%(rule)s: %(metric)s expected to reach %(limit)s in %(low)s days or more",
            rule=rule.name,
            metric=rule.metric.label_text,
            limit=f"{rule.threshold:g}",
            low=f"{(low or 0) / 24:.1f}",
        )


def anomaly_check(series, now: dt.datetime) -> predictive.Anomaly | None:
    """The newest 12 hours against the two weeks before."""
    history, recent = _split(series, now, ANOMALY_RECENT_H)
    return predictive.detect_anomaly(history, [v for _t, v in recent])


def evaluate_anomaly(session: Session, rule: AlarmRule, machine: Machine, series, now: dt.datetime) -> None:
    result = anomaly_check(series, now)
    if result is None:
        return
    with alarms.factory_language(session):
        message = _(
            "%(rule)s: %(metric)s at %(value)s, outside its usual %(low)s–%(high)s",
            rule=rule.name,
            metric=rule.metric.label_text,
            value=f"{result.ewma:.4g}",
            low=f"{result.lower:.4g}",
            high=f"{result.upper:.4g}",
        )
    detail = {**result.as_dict(), "evaluated_at": now.isoformat()}
    alarms.set_condition(
        session, rule, machine, result.anomalous, at=now, message=message, value=result.ewma, detail=detail
    )
