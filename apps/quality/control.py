"""SPC on the factory's data: chart points from inspection results, limits (trial, then fixed), rule checks on
every new point, capability, and the data the chart pages draw.

Phase I: until a chart has fixed limits, trial limits are computed from its newest points once there are
``TRIAL_MINIMUM`` of them (fewer give limits too uncertain to act on). A quality engineer then fixes limits
from a baseline, leaving out points with assignable causes; those limits stay until someone recomputes them,
and every version is kept (``quality_chart_limits``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from apps.quality import alarms
from apps.quality.models import (
    AlarmStatus,
    Characteristic,
    ControlChart,
    ControlLimits,
    Inspection,
    InspectionPlan,
    InspectionResult,
    QualityAlarm,
)
from apps.quality.spc import capability as cap
from apps.quality.spc.charts import (
    ChartType,
    Limits,
    NotEnoughData,
    Point,
    Sample,
    compute_limits,
    points,
    secondary_out_of_limits,
    secondary_side,
    standardise,
)
from apps.quality.spc.rules import RULES, all_violations, violations_at
from platform_core.errors import ValidationFailed

TRIAL_MINIMUM = 20  # points before trial limits are drawn and rules are checked
RULE_WINDOW = 40  # results read to check the rules at a new point (rule 7 looks 15 points back)
MAX_POINTS = 500  # points read for trial limits and drawn charts
MAX_BASELINE = 2000


@dataclass(frozen=True)
class ChartState:
    """The limits in force: fixed (a stored version), trial (phase I, computed), or none yet (collecting)."""

    phase: str
    limits: Limits | None
    record: ControlLimits | None = None


def results(
    session: Session,
    chart: ControlChart,
    *,
    limit: int = MAX_POINTS,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[InspectionResult]:
    """The chart's newest results in time order."""
    statement = sa.select(InspectionResult).where(InspectionResult.chart_id == chart.id)
    if since is not None:
        statement = statement.where(InspectionResult.inspected_at >= since)
    if until is not None:
        statement = statement.where(InspectionResult.inspected_at <= until)
    statement = statement.order_by(InspectionResult.inspected_at.desc(), InspectionResult.id.desc()).limit(limit)
    return list(reversed(session.scalars(statement).all()))


def sample_of(chart_type: ChartType, result: InspectionResult) -> Sample:
    count = result.defectives if chart_type in (ChartType.P, ChartType.NP) else result.defects
    return Sample(result.id, tuple(result.values or ()), inspected=result.inspected, count=count)


def plotted(chart: ControlChart, rows: list[InspectionResult]) -> list[Point]:
    return points(chart.chart_type, [sample_of(chart.chart_type, r) for r in rows], chart.subgroup_size)


def fixed_limits(session: Session, chart: ControlChart) -> ControlLimits | None:
    """The newest stored limits, if they still fit the chart (same type and subgroup size)."""
    record = session.scalar(
        sa.select(ControlLimits)
        .where(ControlLimits.chart_id == chart.id)
        .order_by(ControlLimits.version.desc())
        .limit(1)
    )
    if record is None or record.chart_type is not chart.chart_type:
        return None
    if chart.chart_type.needs_subgroup_size and record.n != chart.subgroup_size:
        return None
    return record


def as_limits(record: ControlLimits) -> Limits:
    return Limits(
        record.chart_type,
        center=record.center,
        sigma=record.sigma,
        n=record.n,
        second_center=record.second_center,
        second_ucl=record.second_ucl,
        second_lcl=record.second_lcl,
        process_sigma=record.process_sigma,
    )


def state(session: Session, chart: ControlChart, plotted_points: list[Point] | None = None) -> ChartState:
    record = fixed_limits(session, chart)
    if record is not None:
        return ChartState("fixed", as_limits(record), record)
    if plotted_points is None:
        plotted_points = plotted(chart, results(session, chart))
    if len(plotted_points) >= TRIAL_MINIMUM:
        return ChartState("trial", compute_limits(chart.chart_type, plotted_points, chart.subgroup_size))
    return ChartState("collecting", None)


# --- every new point ----------------------------------------------------------------------------------------------


def evaluate(session: Session, inspection: Inspection) -> list[QualityAlarm]:
    """Check the Nelson rules at the points an inspection added; return the alarms it raised."""
    raised = []
    for result in inspection.results:
        if result.chart_id is None:
            continue
        chart = session.get(ControlChart, result.chart_id)
        current = state(session, chart)
        if current.limits is None:
            continue
        window = plotted(chart, results(session, chart, limit=RULE_WINDOW, until=inspection.inspected_at))
        z = standardise(current.limits, window)
        for i, point in enumerate(window):
            if point.key == result.id:
                raised.extend(_alarms_at(session, chart, result, inspection, current.limits, window, z, i))
    return raised


def _alarms_at(session, chart, result, inspection, limits, window, z, i) -> list[QualityAlarm]:
    raised = []
    previous_key = window[i - 1].key if i > 0 else None
    rules = tuple(chart.rules or RULES)
    before = {(v.rule, v.side) for v in violations_at(z, i - 1, rules)} if i > 0 else set()
    for violation in violations_at(z, i, rules):
        continued = previous_key if (violation.rule, violation.side) in before else None
        alarm = alarms.raise_or_extend(
            session,
            chart,
            result,
            inspection,
            rule=violation.rule,
            side=violation.side,
            series=alarms.PRIMARY,
            continued_from=continued,
        )
        if alarm is not None:
            raised.append(alarm)
    side = secondary_side(limits, window[i])
    if side is not None:
        continued = previous_key if i > 0 and secondary_side(limits, window[i - 1]) == side else None
        alarm = alarms.raise_or_extend(
            session,
            chart,
            result,
            inspection,
            rule=1,
            side=side,
            series=alarms.SECONDARY,
            continued_from=continued,
        )
        if alarm is not None:
            raised.append(alarm)
    return raised


# --- fixing limits (phase I) -------------------------------------------------------------------------------------


def fix_limits(
    session: Session,
    chart: ControlChart,
    *,
    by: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    exclude: Collection[int] = (),
    note: str | None = None,
) -> ControlLimits:
    """Compute limits from a baseline (without the excluded points) and put them in force as a new version."""
    rows = results(session, chart, limit=MAX_BASELINE, since=since, until=until)
    baseline = plotted(chart, rows)
    keys = {p.key for p in baseline}
    unknown = sorted(set(exclude) - keys)
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["exclude"] = [_("Not points of this baseline: %(ids)s.", ids=", ".join(map(str, unknown)))]
    remaining = [p for p in baseline if p.key not in set(exclude)]
    if len(remaining) < TRIAL_MINIMUM:
        errors.setdefault("since", []).append(
            _(
                "The baseline has %(count)s points; at least %(minimum)s are needed for trustworthy limits.",
                count=len(remaining),
                minimum=TRIAL_MINIMUM,
            )
        )
    if errors:
        raise ValidationFailed(_("These limits cannot be computed."), errors={"json": errors})
    try:
        limits = compute_limits(chart.chart_type, baseline, chart.subgroup_size, exclude=set(exclude))
    except NotEnoughData as exc:
        raise ValidationFailed(str(exc), errors={"json": {"exclude": [str(exc)]}}) from None
    newest = session.scalar(sa.select(sa.func.max(ControlLimits.version)).where(ControlLimits.chart_id == chart.id))
    record = ControlLimits(
        chart_id=chart.id,
        version=(newest or 0) + 1,
        chart_type=chart.chart_type,
        n=limits.n,
        center=limits.center,
        sigma=limits.sigma,
        ucl=limits.ucl,
        lcl=limits.lcl,
        second_center=limits.second_center,
        second_ucl=limits.second_ucl,
        second_lcl=limits.second_lcl,
        process_sigma=limits.process_sigma,
        points=len(remaining),
        baseline_from=rows[0].inspected_at,
        baseline_to=rows[-1].inspected_at,
        excluded=sorted(set(exclude)),
        note=note,
        computed_by=by,
    )
    session.add(record)
    session.flush()
    return record


# --- specification and capability -------------------------------------------------------------------------------


def characteristic_of(session: Session, chart: ControlChart) -> Characteristic | None:
    """The chart's characteristic in the newest plan version that has it (its specification applies)."""
    return session.scalar(
        sa.select(Characteristic)
        .join(InspectionPlan, Characteristic.plan_id == InspectionPlan.id)
        .where(Characteristic.chart_id == chart.id)
        .order_by(InspectionPlan.version.desc())
        .limit(1)
    )


def capability(
    session: Session, chart: ControlChart, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> tuple[cap.Capability | None, list[str]]:
    """Capability of a variables chart's data against its specification, with warnings (codes)."""
    if not chart.chart_type.for_variables:
        return None, ["attribute_chart"]
    spec = characteristic_of(session, chart)
    if spec is None or (spec.lsl is None and spec.usl is None):
        return None, ["no_specification"]
    rows = results(session, chart, limit=MAX_BASELINE, since=since, until=until)
    values = [v for r in rows for v in (r.values or ())]
    if len(values) < cap.MIN_VALUES:
        return None, ["few_values"]
    plotted_points = plotted(chart, rows)
    current = state(session, chart, plotted_points)
    limits = current.limits
    if limits is None and len(plotted_points) >= 2:
        try:
            limits = compute_limits(chart.chart_type, plotted_points, chart.subgroup_size)
        except NotEnoughData:
            limits = None
    result = cap.capability(values, lsl=spec.lsl, usl=spec.usl, sigma_within=limits.process_sigma if limits else None)
    extra = []
    rules = tuple(chart.rules or RULES)
    if current.limits is not None and all_violations(standardise(current.limits, plotted_points), rules):
        extra.append("not_in_control")  # indices describe a stable process only
    if current.phase != "fixed":
        extra.append("no_fixed_limits")
    return result, extra


# --- what the chart pages draw ----------------------------------------------------------------------------------


def payload(session: Session, chart: ControlChart, *, limit: int = 100) -> dict[str, Any]:
    """Points, limits, zones and violations of a chart, for quality-chart.js (JSON)."""
    rows = results(session, chart, limit=limit)
    inspections = {
        i.id: i
        for i in session.scalars(
            sa.select(Inspection)
            .where(Inspection.id.in_({r.inspection_id for r in rows}))
            .options(selectinload(Inspection.lot))
        )
    }
    by_id = {r.id: r for r in rows}
    plotted_points = plotted(chart, rows)
    current = state(session, chart, plotted_points if limit >= MAX_POINTS else None)
    spec = characteristic_of(session, chart)
    limits = current.limits
    excluded = set(current.record.excluded) if current.record else set()
    flagged: dict[int, list[int]] = {}
    if limits is not None:
        for violation in all_violations(standardise(limits, plotted_points), tuple(chart.rules or RULES)):
            flagged.setdefault(violation.index, []).append(violation.rule)
    points_out = []
    for index, point in enumerate(plotted_points):
        inspection = inspections.get(by_id[point.key].inspection_id)
        points_out.append(
            {
                "key": point.key,
                "at": by_id[point.key].inspected_at.isoformat(),
                "inspection": inspection.number if inspection else None,
                "lot": inspection.lot.code if inspection and inspection.lot else None,
                "value": point.value,
                "n": point.n,
                "secondary": point.secondary,
                "center": limits.center if limits else None,
                "sigma": limits.sigma_at(point.n) if limits else None,
                "ucl": limits.ucl_at(point.n) if limits else None,
                "lcl": limits.lcl_at(point.n) if limits else None,
                "rules": sorted(set(flagged.get(index, []))),
                "secondary_out": bool(limits and secondary_out_of_limits(limits, point)),
                "excluded": point.key in excluded,
            }
        )
    return {
        "chart": {
            "id": chart.id,
            "name": chart.name,
            "type": chart.chart_type.value,
            "n": chart.subgroup_size,
            "unit": spec.unit if spec else None,
            "decimals": spec.decimals if spec else 3,
            "lsl": spec.lsl if spec else None,
            "usl": spec.usl if spec else None,
            "rules": list(chart.rules or RULES),
        },
        "phase": current.phase,
        "limits": None
        if limits is None
        else {
            "version": current.record.version if current.record else None,
            "center": limits.center,
            "ucl": limits.ucl,
            "lcl": limits.lcl,
            "sigma": limits.sigma,
            "second_center": limits.second_center,
            "second_ucl": limits.second_ucl,
            "second_lcl": limits.second_lcl,
        },
        "points": points_out,
    }


def set_rules(session: Session, chart: ControlChart, rules: Collection[int]) -> ControlChart:
    """Choose the Nelson rules checked on a chart (rule 1, a point beyond the limits, always stays)."""
    chosen = sorted({int(r) for r in rules} | {1})
    unknown = [r for r in chosen if r not in RULES]
    if unknown:
        raise ValidationFailed(_("Nelson rules are numbered 1 to 8."), errors={"json": {"rules": [str(unknown)]}})
    chart.rules = chosen
    session.flush()
    return chart


def open_alarms(chart: ControlChart | None = None) -> sa.Select:
    statement = (
        sa.select(QualityAlarm)
        .where(QualityAlarm.status == AlarmStatus.OPEN)
        .options(selectinload(QualityAlarm.chart), selectinload(QualityAlarm.machine), selectinload(QualityAlarm.lot))
        .order_by(QualityAlarm.raised_at.desc(), QualityAlarm.id.desc())
    )
    if chart is not None:
        statement = statement.where(QualityAlarm.chart_id == chart.id)
    return statement
