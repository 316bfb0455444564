"""Equipment API under ``/api/v1/equipment``.

Reading needs ``equipment.view``; reporting a machine down or up and classifying downtime
``equipment.report_downtime``; maintenance work ``equipment.maintain``; configuration ``equipment.configure``;
gateways sending telemetry ``equipment.ingest``. Tablet submissions (down, up, maintenance steps) take an
``Idempotency-Key``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_babel import get_locale
from flask_babel import gettext as _

from apps.equipment import (
    alarms,
    availability,
    board,
    configuration,
    downtime,
    ingest,
    maintenance,
    oee,
    states,
    store,
)
from apps.equipment import schemas as s
from apps.equipment.models import (
    Alarm,
    AlarmRule,
    AlarmStatus,
    Gateway,
    MaintenanceOrder,
    MaintenancePlan,
    Metric,
)
from apps.equipment.settings import setting
from apps.equipment.signing import factory_topic
from platform_core.api import ApiBlueprint, AppInfoSchema, SelectPage, app_info, record_loader
from platform_core.db import db
from platform_core.errors import DomainError, ValidationFailed
from platform_core.idempotency import idempotent
from platform_core.identity.auth import current_principal
from platform_core.masterdata.models import Machine

VIEW = "equipment.view"
REPORT = "equipment.report_downtime"
MAINTAIN = "equipment.maintain"
CONFIGURE = "equipment.configure"
INGEST = "equipment.ingest"

blp = ApiBlueprint(
    "equipment_api",
    __name__,
    description="Machine states, telemetry, alarms, downtime, OEE and maintenance.",
    loaders={
        "machine_id": record_loader(Machine, lambda: _("No such machine.")),
        "machine_state_id": lambda interval_id: states.get_interval(db.session, interval_id),
        "metric_id": record_loader(Metric, lambda: _("No such metric.")),
        "gateway_id": record_loader(Gateway, lambda: _("No such gateway.")),
        "alarm_rule_id": record_loader(AlarmRule, lambda: _("No such alarm rule.")),
        "alarm_id": record_loader(Alarm, lambda: _("No such alarm.")),
        "maintenance_plan_id": record_loader(MaintenancePlan, lambda: _("No such maintenance plan.")),
        "maintenance_order_id": record_loader(MaintenanceOrder, lambda: _("No such maintenance order.")),
    },
)


class TooManyPoints(DomainError):
    status = 413
    code = "too_many_points"


def _locale() -> str:
    return str(get_locale() or "zh_CN")


@blp.route("/")
class Info(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("equipment")


# --- machines and their states --------------------------------------------------------------------------------


@blp.route("/machines")
class Machines(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentMachineStatusSchema(many=True))
    def get(self):
        """Every active machine with its state, how long it has been in it, its order and its open alarms."""
        return board.board(db.session, board.machines_of(db.session))


@blp.route("/machines/<int:machine_id>")
class MachineItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentMachineStatusSchema)
    def get(self, machine):
        """One machine's state, order and open alarms."""
        return board.board(db.session, [machine])[0]


@blp.route("/machines/<int:machine_id>/down")
class MachineDown(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.EquipmentDownSchema)
    @blp.response(201, s.EquipmentStateIntervalSchema)
    def post(self, data, machine):
        """Report the machine down, with a reason from the downtime tree (or none yet: flagged to classify)."""
        reason = data.get("reason")
        return states.report_down(
            db.session,
            machine,
            reason_id=reason.id if reason else None,
            at=data.get("at"),
            note=data.get("note"),
            expected_up_at=data.get("expected_up_at"),
        )


@blp.route("/machines/<int:machine_id>/up")
class MachineUp(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.EquipmentUpSchema)
    @blp.response(201, s.EquipmentStateIntervalSchema)
    def post(self, data, machine):
        """Report the machine running again."""
        return states.report_up(db.session, machine, at=data.get("at"))


@blp.route("/machines/<int:machine_id>/states")
class MachineStates(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentStatesArgs, location="query")
    @blp.response(200, s.EquipmentStateIntervalSchema(many=True))
    def get(self, args, machine):
        """The machine's state intervals overlapping a window, oldest first."""
        return states.intervals_between(db.session, machine.id, args["start"], args["end"])


@blp.route("/machine-states/<int:machine_state_id>/classify")
class ClassifyState(MethodView):
    @blp.requires(REPORT)
    @blp.arguments(s.EquipmentClassifySchema)
    @blp.response(200, s.EquipmentStateIntervalSchema)
    def post(self, data, machine_state):
        """Give a downtime its reason."""
        return states.classify(db.session, machine_state, data["reason"].id, data.get("note"))


@blp.route("/downtime/unclassified")
class Unclassified(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentStateIntervalSchema(many=True))
    def get(self):
        """Downtime without a reason, newest first (at most 200)."""
        return downtime.unclassified(db.session)


@blp.route("/machines/<int:machine_id>/telemetry")
class MachineTelemetry(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentTelemetryArgs, location="query")
    @blp.response(200, s.EquipmentRollupSchema(many=True))
    def get(self, args, machine):
        """A metric's 1-minute or 1-hour rollups (min, max, average, count, first, last) in a window."""
        metric = db.session.scalar(sa.select(Metric).where(Metric.code == args["metric"]))
        if metric is None:
            raise ValidationFailed(_("No such metric."), errors={"metric": [_("Unknown.")]})
        return store.series(db.session, machine.id, metric.id, args["start"], args["end"], args["resolution"])


@blp.route("/machines/<int:machine_id>/config")
class MachineConfigItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentMachineConfigSchema)
    def get(self, machine):
        """How the machine's signals are read (an unmonitored machine has no run metric)."""
        config = configuration.machine_config(db.session, machine)
        return config or {"machine_id": machine.id, "run_above": 0.0}

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentMachineConfigSchema)
    @blp.response(200, s.EquipmentMachineConfigSchema)
    def put(self, data, machine):
        """Set the run metric (and threshold), the part counter and the offline timeout of a machine."""
        return configuration.set_machine_config(
            db.session,
            machine,
            run_metric=data.get("run_metric"),
            run_above=data.get("run_above", 0.0),
            count_metric=data.get("count_metric"),
            offline_after_s=data.get("offline_after_s"),
        )


# --- telemetry ------------------------------------------------------------------------------------------------


@blp.route("/telemetry")
class Telemetry(MethodView):
    @blp.requires(INGEST)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": s.EquipmentPointSchema}}},
        }
    )
    @blp.response(200, s.EquipmentIngestResultSchema)
    def post(self):
        """Bulk telemetry from a gateway: ``[{machine, metric, ts, value}]``; each point is judged on its own."""
        points = request.get_json(silent=True)
        if points is None:
            raise ValidationFailed(_("Send a JSON array of points."), errors={"json": [_("Not JSON.")]})
        if isinstance(points, dict) and isinstance(points.get("points"), list):
            points = points["points"]
        gateway = configuration.gateway_of_token(db.session, current_principal().token)
        try:
            result = ingest.ingest(db.session, points, gateway=gateway)
        except ingest.BatchTooLarge as error:
            raise TooManyPoints(str(error), errors={"json": [str(error)]}) from None
        except ValueError as error:
            raise ValidationFailed(str(error), errors={"json": [str(error)]}) from None
        return result.as_dict()


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentMetricSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """The factory's metrics."""
        return sa.select(Metric).order_by(Metric.code)

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentMetricCreateSchema)
    @blp.response(201, s.EquipmentMetricSchema)
    def post(self, data):
        """Declare a metric gateways may send (code, name, unit, gauge or counter)."""
        return configuration.create_metric(db.session, **data)


@blp.route("/metrics/<int:metric_id>")
class MetricItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.EquipmentMetricSchema)
    def get(self, metric):
        """One metric."""
        return metric

    @blp.requires(CONFIGURE)
    @blp.arguments(s.patch_schema(s.EquipmentMetricCreateSchema, "EquipmentMetricUpdateSchema"))
    @blp.etag
    @blp.response(200, s.EquipmentMetricSchema)
    def patch(self, data, metric):
        """Rename, change the unit or deactivate a metric (If-Match)."""
        blp.check_etag(metric, s.EquipmentMetricSchema)
        data.pop("code", None)  # points refer to metrics by code: it stays
        return configuration.update_metric(db.session, metric, **data)


def _gateway_view(gateway: Gateway) -> dict:
    token = configuration.gateway_token(db.session, gateway)
    return {
        **{c: getattr(gateway, c) for c in s.EquipmentGatewaySchema._declared_fields if hasattr(gateway, c)},
        "revoked": token.revoked_at is not None,
    }


@blp.route("/gateways")
class Gateways(MethodView):
    @blp.requires(CONFIGURE)
    @blp.response(200, s.EquipmentGatewaySchema(many=True))
    def get(self):
        """The factory's gateways with their counters and last error."""
        return [_gateway_view(g) for g in db.session.scalars(sa.select(Gateway).order_by(Gateway.name))]

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentGatewayCreateSchema)
    @blp.response(201, s.EquipmentGatewayCreatedSchema)
    def post(self, data):
        """Register a gateway; its token is in the answer, once (HTTP bearer token and MQTT signing key)."""
        principal = current_principal()
        gateway, secret = configuration.create_gateway(db.session, data["name"], principal.user)
        root = setting("EQUIPMENT_MQTT_TOPIC_PREFIX")
        return {**_gateway_view(gateway), "token": secret, "mqtt_topic": factory_topic(root, principal.tenant.code)}


@blp.route("/gateways/<int:gateway_id>/revoke")
class GatewayRevoke(MethodView):
    @blp.requires(CONFIGURE)
    @blp.response(200, s.EquipmentGatewaySchema)
    def post(self, gateway):
        """Switch a gateway off for good (its token stops working)."""
        configuration.revoke_gateway(db.session, gateway)
        return _gateway_view(gateway)


@blp.route("/settings")
class Settings(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentSettingsSchema)
    def get(self):
        """The factory's raw telemetry retention (days)."""
        return {"raw_retention_days": ingest.raw_retention_days(db.session)}

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentSettingsSchema)
    @blp.response(200, s.EquipmentSettingsSchema)
    def put(self, data):
        """Set how long raw points are kept (rollups are kept longer)."""
        return configuration.set_raw_retention(db.session, data["raw_retention_days"])


# --- alarms ---------------------------------------------------------------------------------------------------


@blp.route("/alarm-rules")
class AlarmRules(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentAlarmRuleSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """The factory's alarm rules."""
        return sa.select(AlarmRule).order_by(AlarmRule.code)

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentAlarmRuleCreateSchema)
    @blp.response(201, s.EquipmentAlarmRuleSchema)
    def post(self, data):
        """Create an alarm rule for one machine or a machine model."""
        return configuration.create_rule(db.session, **data)


@blp.route("/alarm-rules/<int:alarm_rule_id>")
class AlarmRuleItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.EquipmentAlarmRuleSchema)
    def get(self, alarm_rule):
        """One alarm rule."""
        return alarm_rule

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentAlarmRuleUpdateSchema)
    @blp.etag
    @blp.response(200, s.EquipmentAlarmRuleSchema)
    def patch(self, data, alarm_rule):
        """Change an alarm rule's limits, severity or activity (If-Match)."""
        blp.check_etag(alarm_rule, s.EquipmentAlarmRuleSchema)
        return configuration.update_rule(db.session, alarm_rule, **data)


@blp.route("/alarms")
class Alarms(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentAlarmArgs, location="query")
    @blp.response(200, s.EquipmentAlarmSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Alarms, newest first: open ones by default (active and acknowledged)."""
        statement = sa.select(Alarm).order_by(Alarm.raised_at.desc(), Alarm.id.desc())
        status = args["status"]
        if status == "open":
            statement = statement.where(Alarm.cleared_at.is_(None))
        elif status != "all":
            statement = statement.where(Alarm.status == AlarmStatus(status))
        if args.get("machine_id"):
            statement = statement.where(Alarm.machine_id == args["machine_id"])
        return statement


@blp.route("/alarms/<int:alarm_id>/acknowledge")
class AlarmAcknowledge(MethodView):
    @blp.requires(REPORT)
    @blp.response(200, s.EquipmentAlarmSchema)
    def post(self, alarm):
        """Acknowledge an active alarm (someone has seen it)."""
        return alarms.acknowledge(db.session, alarm)


@blp.route("/alarms/<int:alarm_id>/clear")
class AlarmClear(MethodView):
    @blp.requires(MAINTAIN)
    @blp.response(200, s.EquipmentAlarmSchema)
    def post(self, alarm):
        """Clear an alarm by hand; it comes back if its condition persists."""
        return alarms.clear(db.session, alarm)


# --- analysis -------------------------------------------------------------------------------------------------


@blp.route("/downtime/pareto")
class Pareto(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentParetoArgs, location="query")
    @blp.response(200, s.EquipmentParetoBarSchema(many=True))
    def get(self, args):
        """Down minutes by reason, machine, work center or shift, largest first, with cumulative shares."""
        machines = board.machines_of(db.session)
        return downtime.pareto(db.session, machines, args["start"], args["end"], args["by"], _locale())


@blp.route("/downtime/reliability")
class Reliability(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.WindowArgs, location="query")
    @blp.response(200, s.EquipmentReliabilitySchema(many=True))
    def get(self, args):
        """MTBF and MTTR per machine over a window."""
        return downtime.reliability(db.session, board.machines_of(db.session), args["start"], args["end"])


@blp.route("/oee")
class Oee(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentOeeArgs, location="query")
    @blp.response(200, s.EquipmentOeeReportSchema)
    def get(self, args):
        """OEE (availability × performance × quality) and the six big losses, by machine, work center, shift,
        day or week, for the shifts starting in the window."""
        machines = board.machines_of(db.session, args.get("work_center_id"))
        if args.get("machine_id"):
            machines = [m for m in machines if m.id == args["machine_id"]]
        rows, overall = oee.rows(db.session, machines, args["start"], args["end"], args["by"], _locale())
        return {"by": args["by"], "rows": rows, "overall": overall.summary()}


# --- maintenance ----------------------------------------------------------------------------------------------


@blp.route("/maintenance-plans")
class Plans(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentPlanSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """Preventive maintenance plans."""
        return sa.select(MaintenancePlan).order_by(MaintenancePlan.code)

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentPlanCreateSchema)
    @blp.response(201, s.EquipmentPlanSchema)
    def post(self, data):
        """Create a plan for a machine or a machine model: by calendar days, running hours or parts produced."""
        return configuration.create_plan(db.session, **data)


@blp.route("/maintenance-plans/<int:maintenance_plan_id>")
class PlanItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.EquipmentPlanSchema)
    def get(self, maintenance_plan):
        """One plan."""
        return maintenance_plan

    @blp.requires(CONFIGURE)
    @blp.arguments(s.EquipmentPlanUpdateSchema)
    @blp.etag
    @blp.response(200, s.EquipmentPlanSchema)
    def patch(self, data, maintenance_plan):
        """Change a plan (If-Match)."""
        blp.check_etag(maintenance_plan, s.EquipmentPlanSchema)
        return configuration.update_plan(db.session, maintenance_plan, **data)


def _order_view(order: MaintenanceOrder) -> MaintenanceOrder:
    order.overdue = maintenance.is_overdue(db.session, order)
    return order


@blp.route("/maintenance-orders")
class Orders(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentMaintenanceOrderArgs, location="query")
    @blp.response(200, s.EquipmentMaintenanceOrderSchema(many=True))
    def get(self, args):
        """Maintenance work orders: open ones by default, by planned start."""
        statement = sa.select(MaintenanceOrder).order_by(
            MaintenanceOrder.planned_start.is_(None), MaintenanceOrder.planned_start, MaintenanceOrder.id
        )
        if args["status"] == "open":
            statement = statement.where(MaintenanceOrder.status.in_(maintenance.OPEN_STATUSES))
        elif args["status"] == "closed":
            statement = statement.where(MaintenanceOrder.status.not_in(maintenance.OPEN_STATUSES))
        if args.get("machine_id"):
            statement = statement.where(MaintenanceOrder.machine_id == args["machine_id"])
        return [_order_view(o) for o in db.session.scalars(statement.limit(500))]

    @blp.requires(MAINTAIN)
    @blp.arguments(s.EquipmentMaintenanceOrderCreateSchema)
    @blp.response(201, s.EquipmentMaintenanceOrderSchema)
    def post(self, data):
        """Open a maintenance work order by hand (a repair, or planned work outside any plan)."""
        machine = data.pop("machine")
        return _order_view(maintenance.create_order(db.session, machine, **data))


@blp.route("/maintenance-orders/<int:maintenance_order_id>")
class OrderItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def get(self, maintenance_order):
        """One work order with its checklist, findings, parts and time."""
        return _order_view(maintenance_order)


@blp.route("/maintenance-orders/<int:maintenance_order_id>/schedule")
class OrderSchedule(MethodView):
    @blp.requires(MAINTAIN)
    @blp.arguments(s.EquipmentScheduleSchema)
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def post(self, data, maintenance_order):
        """Move the maintenance window (announced to scheduling)."""
        return _order_view(
            maintenance.schedule(db.session, maintenance_order, data["planned_start"], data["planned_end"])
        )


@blp.route("/maintenance-orders/<int:maintenance_order_id>/start")
class OrderStart(MethodView):
    @blp.requires(MAINTAIN)
    @idempotent()
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def post(self, maintenance_order):
        """Start the work (planned work puts the machine in planned maintenance)."""
        return _order_view(maintenance.start(db.session, maintenance_order))


@blp.route("/maintenance-orders/<int:maintenance_order_id>/record")
class OrderRecord(MethodView):
    @blp.requires(MAINTAIN)
    @idempotent()
    @blp.arguments(s.EquipmentRecordSchema)
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def post(self, data, maintenance_order):
        """Record checklist items, findings, parts used and time spent."""
        return _order_view(maintenance.record(db.session, maintenance_order, **data))


@blp.route("/maintenance-orders/<int:maintenance_order_id>/complete")
class OrderComplete(MethodView):
    @blp.requires(MAINTAIN)
    @idempotent()
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def post(self, maintenance_order):
        """Complete the work (every checklist item done); the machine is given back."""
        return _order_view(maintenance.complete(db.session, maintenance_order))


@blp.route("/maintenance-orders/<int:maintenance_order_id>/cancel")
class OrderCancel(MethodView):
    @blp.requires(MAINTAIN)
    @blp.response(200, s.EquipmentMaintenanceOrderSchema)
    def post(self, maintenance_order):
        """Cancel the order (a plan then counts again from now)."""
        return _order_view(maintenance.cancel(db.session, maintenance_order))


@blp.route("/availability")
class Availability(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.EquipmentAvailabilityArgs, location="query")
    @blp.response(200, s.EquipmentUnavailabilitySchema(many=True))
    def get(self, args):
        """When machines are unavailable in a window: planned maintenance windows and ongoing downtime."""
        machine_ids = [args["machine_id"]] if args.get("machine_id") else None
        return availability.unavailability(db.session, args["start"], args["end"], machine_ids)
