"""Control charts (data, limits, capability) and quality alarms."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from apps.quality import alarms, control, labels
from apps.quality import schemas as s
from apps.quality.api import CONFIGURE, INSPECT, VIEW, blp
from apps.quality.common import acting_name
from apps.quality.models import AlarmStatus, ControlChart, ControlLimits, QualityAlarm
from platform_core.api import SelectPage
from platform_core.db import db


@blp.route("/charts")
class Charts(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityChartSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List control charts."""
        return (
            sa.select(ControlChart)
            .options(selectinload(ControlChart.product))
            .order_by(ControlChart.plan_code, ControlChart.characteristic_code)
        )


@blp.route("/charts/<int:control_chart_id>")
class Chart(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityChartDetailSchema)
    def get(self, control_chart):
        """Show a chart: its type, phase (collecting, trial, fixed) and the fixed limits in force."""
        state = control.state(db.session, control_chart)
        control_chart.phase, control_chart.current_limits = state.phase, state.record
        return control_chart

    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualityChartRulesSchema)
    @blp.response(200, s.QualityChartSchema)
    def patch(self, data, control_chart):
        """Choose the Nelson rules checked on this chart (rule 1 always stays)."""
        return control.set_rules(db.session, control_chart, data["rules"])


@blp.route("/charts/<int:control_chart_id>/data")
class ChartData(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityChartDataArgsSchema, location="query")
    @blp.response(200, s.QualityChartDataSchema)
    def get(self, args, control_chart):
        """The newest points with their limits, zones and the Nelson rules each breaks (what the chart page draws)."""
        return control.payload(db.session, control_chart, limit=args["limit"])


@blp.route("/charts/<int:control_chart_id>/limits")
class ChartLimits(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityLimitsSchema(many=True))
    def get(self, control_chart):
        """Every version of the chart's fixed limits, newest first."""
        statement = (
            sa.select(ControlLimits)
            .where(ControlLimits.chart_id == control_chart.id)
            .order_by(ControlLimits.version.desc())
        )
        return db.session.scalars(statement).all()

    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualityFixLimitsSchema)
    @blp.response(201, s.QualityLimitsSchema)
    def post(self, data, control_chart):
        """Fix limits from a baseline (phase I), leaving out points with assignable causes; a new version."""
        return control.fix_limits(
            db.session,
            control_chart,
            by=acting_name(),
            since=data["since"],
            until=data["until"],
            exclude=data["exclude"],
            note=data["note"],
        )


@blp.route("/charts/<int:control_chart_id>/capability")
class Capability(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityPeriodArgsSchema, location="query")
    @blp.response(200, s.QualityCapabilitySchema)
    def get(self, args, control_chart):
        """Cp, Cpk, Pp, Ppk with a normality check and warnings in plain words."""
        result, extra = control.capability(db.session, control_chart, since=args.get("since"), until=args.get("until"))
        warnings = list(result.warnings if result else ()) + extra
        body = dataclasses.asdict(result) if result else {}
        if result is not None and result.normality is not None:
            body["normality"] = {**dataclasses.asdict(result.normality), "normal": result.normality.normal}
        body["warnings"] = warnings
        body["notes"] = [labels.label(labels.CAPABILITY_WARNINGS, w) for w in warnings]
        return body


@blp.route("/alarms")
class Alarms(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityAlarmListArgsSchema, location="query")
    @blp.response(200, s.QualityAlarmSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Quality alarms, newest first (open ones by default)."""
        statement = sa.select(QualityAlarm).options(
            selectinload(QualityAlarm.chart), selectinload(QualityAlarm.machine), selectinload(QualityAlarm.lot)
        )
        if args["status"] != "all":
            statement = statement.where(QualityAlarm.status == AlarmStatus(args["status"]))
        if "chart_id" in args:
            statement = statement.where(QualityAlarm.chart_id == args["chart_id"])
        return statement.order_by(QualityAlarm.raised_at.desc(), QualityAlarm.id.desc())


@blp.route("/alarms/<int:spc_alarm_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.requires(INSPECT)
    @blp.arguments(s.QualityAcknowledgeSchema)
    @blp.response(200, s.QualityAlarmSchema)
    def post(self, data, spc_alarm):
        """Acknowledge an alarm, saying what was done about it."""
        return alarms.acknowledge(db.session, spc_alarm, by=acting_name(), note=data["note"])
