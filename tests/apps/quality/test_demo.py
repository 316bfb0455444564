"""The demo factory's quality: plans in force, a drift caught by a pattern rule before parts go out of tolerance, an
NCR holding the lot CNC-01 is turning now, and a genealogy to trace."""

from __future__ import annotations

import sqlalchemy as sa

from apps.quality import genealogy
from apps.quality.models import (
    AlarmStatus,
    ControlChart,
    ControlLimits,
    Inspection,
    InspectionPlan,
    InspectionResult,
    InspectionStatus,
    InspectionTask,
    Lot,
    LotHold,
    NcrStatus,
    PlanStatus,
    QualityAlarm,
)
from platform_core.db import tenant_context
from platform_core.demo import seed_demo
from platform_core.events import OutboxEvent


def test_the_demo_factory_has_a_drift_an_alarm_a_held_lot_and_a_genealogy(app, db_session):
    with app.app_context():
        tenant = seed_demo(db_session)
    with app.test_request_context(), tenant_context(db_session, tenant.id):
        session = db_session
        active = session.scalars(sa.select(InspectionPlan.code).where(InspectionPlan.status == PlanStatus.ACTIVE))
        assert sorted(active) == ["QP-FL080-10", "QP-RM-Q235", "QP-SH032-20"]
        od = session.scalar(sa.select(ControlChart).where(ControlChart.name.like("%外径 Φ80")))
        assert session.scalar(sa.select(ControlLimits).where(ControlLimits.chart_id == od.id)).points == 25

        open_alarms = session.scalars(
            sa.select(QualityAlarm).where(QualityAlarm.chart_id == od.id, QualityAlarm.status == AlarmStatus.OPEN)
        ).all()
        first = min(open_alarms, key=lambda a: a.point_at)
        assert first.rule != 1  # a pattern (the drift), not a point beyond the limits, raised the first alarm
        failed_before = session.scalar(
            sa.select(sa.func.count())
            .select_from(InspectionResult)
            .where(
                InspectionResult.chart_id == od.id,
                InspectionResult.passed.is_(False),
                InspectionResult.inspected_at <= first.point_at,
            )
        )
        assert failed_before == 0  # ... while every part was still within tolerance

        hold = session.scalar(sa.select(LotHold).where(LotHold.released_at.is_(None)))
        assert hold.ncr.status is NcrStatus.PROPOSED and hold.ncr.inspection.status is InspectionStatus.FAILED
        held_events = [
            e.payload for e in session.scalars(sa.select(OutboxEvent).where(OutboxEvent.name == "quality.lot_held"))
        ]
        assert {"lot": hold.lot.code, "ncr_id": hold.ncr_id} in [
            {k: p[k] for k in ("lot", "ncr_id")} for p in held_events
        ]
        assert session.scalar(sa.select(sa.func.count()).select_from(InspectionTask)) > 0  # from the orders demo

        bar = session.scalar(sa.select(Lot).where(Lot.code.like("Q235-%")))
        forward = genealogy.trace(session, bar, genealogy.Direction.FORWARD)
        assert len(forward) == 5 and len(genealogy.orders_reached(forward)) == 2
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(Inspection.lot_id == bar.id)) == 1
        )
