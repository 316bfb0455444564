"""Quality alarms: a control-chart rule that fired, in plain words, on the screens and as an event.

Consecutive points that break the same rule extend one alarm rather than raising a new one each, so a shifted
process gives one alarm ("nine points in a row above the centre line", then 10, 11 ...) and not a flood. Only an
open alarm is extended: once someone has acknowledged it, a point that still breaks the rule means what was done
did not cure the process, so it raises a new open alarm and everyone is warned again.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from apps.quality.models import AlarmStatus, Characteristic, ControlChart, Inspection, InspectionResult, QualityAlarm
from platform_core import events
from platform_core.db import current_tenant_id, utcnow
from platform_core.errors import InvalidTransition
from platform_core.tenants.models import Tenant

PRIMARY, SECONDARY = "primary", "secondary"

RULE_NAMES = {
    1: _l("Point beyond the control limits"),
    2: _l("Nine points on one side"),
    3: _l("Six points trending"),
    4: _l("Fourteen points alternating"),
    5: _l("Two of three beyond 2σ"),
    6: _l("Four of five beyond 1σ"),
    7: _l("Fifteen points hugging the centre line"),
    8: _l("Eight points avoiding the centre"),
}


def describe(rule: int, side: str | None, series: str = PRIMARY) -> str:
    """What the rule saw and what it usually means, for the people at the machine."""
    if series == SECONDARY:
        return _describe_spread(side)
    above = side in ("above", "up")
    texts = {
        1: _("A point is above the upper control limit: something changed in the process; check it now.")
        if above
        else _("A point is below the lower control limit: something changed in the process; check it now."),
        2: _("Nine points in a row are above the centre line: the process average has shifted up.")
        if above
        else _("Nine points in a row are below the centre line: the process average has shifted down."),
        3: _("Six points in a row are rising steadily: the process is drifting (tool wear, temperature).")
        if above
        else _("Six points in a row are falling steadily: the process is drifting (tool wear, temperature)."),
        4: _(
            "Fourteen points in a row alternate up and down: two machines, gauges or operators may be mixed "
            "in the data."
        ),
        5: _("Two of three points are more than 2σ above the centre line: the process may be shifting up.")
        if above
        else _("Two of three points are more than 2σ below the centre line: the process may be shifting down."),
        6: _("Four of five points are more than 1σ above the centre line: the process average is moving up.")
        if above
        else _("Four of five points are more than 1σ below the centre line: the process average is moving down."),
        7: _(
            "Fifteen points in a row are within 1σ of the centre line: less variation than the limits expect; "
            "check the limits and how the pieces are sampled."
        ),
        8: _(
            "Eight points in a row are more than 1σ from the centre line on both sides: two different "
            "process settings may be mixed."
        ),
    }
    return texts[rule]


def _describe_spread(side: str | None) -> str:
    if side == "below":
        return _(
            "The spread between the pieces is below its lower control limit: less variation than the limits "
            "expect; check the gauge's resolution and how the pieces are sampled."
        )
    return _("The spread between the pieces is beyond its control limits: the process became less consistent.")


def describe_alarm(alarm: QualityAlarm) -> str:
    return describe(alarm.rule, alarm.side, alarm.series)


def raise_or_extend(
    session: Session,
    chart: ControlChart,
    result: InspectionResult,
    inspection: Inspection,
    *,
    rule: int,
    side: str | None,
    series: str,
    continued_from: int | None,
) -> QualityAlarm | None:
    """Extend the open alarm of the same rule ending at the previous point, else raise a new one (and publish it).

    Returns the new alarm, or None when an existing one was extended.
    """
    ongoing = _open_alarm_ending_at(session, chart, rule, series, continued_from)
    if ongoing is not None:
        ongoing.points += 1
        ongoing.last_result_id, ongoing.point_at = result.id, inspection.inspected_at
        return None
    characteristic: Characteristic = result.characteristic
    alarm = QualityAlarm(
        chart_id=chart.id,
        characteristic_id=characteristic.id,
        rule=rule,
        series=series,
        side=side,
        first_result_id=result.id,
        last_result_id=result.id,
        machine_id=inspection.machine_id,
        lot_id=inspection.lot_id,
        point_at=inspection.inspected_at,
    )
    session.add(alarm)
    session.flush()
    tenant = session.get(Tenant, current_tenant_id(session))
    with force_locale(tenant.default_locale):  # subscribers and webhooks read it in the factory's language
        message = f"{chart.name}: {describe(rule, side, series)}"
    events.publish(
        session,
        "quality.spc_violation",
        {
            "characteristic_id": characteristic.id,
            "rule": rule,
            "message": message,
            "point_at": inspection.inspected_at.isoformat(),
            "alarm_id": alarm.id,
            "chart_id": chart.id,
            "series": series,
            "side": side,
            "machine_id": inspection.machine_id,
            "lot": inspection.lot.code if inspection.lot else None,
            "inspection_id": inspection.id,
        },
    )
    return alarm


def _open_alarm_ending_at(
    session: Session, chart: ControlChart, rule: int, series: str, result_id: int | None
) -> QualityAlarm | None:
    """The open alarm of this rule whose last point is ``result_id``; acknowledged alarms are not extended."""
    if result_id is None:
        return None
    return session.scalar(
        sa.select(QualityAlarm)
        .where(
            QualityAlarm.chart_id == chart.id,
            QualityAlarm.rule == rule,
            QualityAlarm.series == series,
            QualityAlarm.status == AlarmStatus.OPEN,
            QualityAlarm.last_result_id == result_id,
        )
        .order_by(QualityAlarm.id.desc())
        .limit(1)
    )


def acknowledge(session: Session, alarm: QualityAlarm, *, by: str, note: str | None) -> QualityAlarm:
    """Someone saw the alarm and says what was done (tool changed, offset corrected ...)."""
    if alarm.status is not AlarmStatus.OPEN:
        raise InvalidTransition(_("This alarm was already acknowledged."), current_state=alarm.status)
    alarm.status, alarm.acknowledged_at, alarm.acknowledged_by, alarm.note = (
        AlarmStatus.ACKNOWLEDGED,
        utcnow(),
        by,
        note,
    )
    session.flush()
    return alarm
