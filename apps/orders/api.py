"""Orders API under ``/api/v1/orders``: routings, work orders, shop-floor actions, dispatch lists, supervision.

Shop-floor submissions (start, pause, resume, report, complete, leave) need an ``Idempotency-Key``: a tablet
retrying after a lost answer gets the first answer back and nothing is counted twice. Desk actions accept one.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from apps.orders import csv_io, dispatch, execution, lots, routings, supervision, work_orders
from apps.orders import schemas as s
from apps.orders.models import Operation, OperationEvent, Routing, WorkOrder, WorkReport
from apps.orders.settings import get_settings, update_settings
from platform_core.api import ApiBlueprint, AppInfoSchema, SelectPage, app_info, record_loader
from platform_core.db import db, utcnow
from platform_core.errors import NotFound, PermissionDenied, ValidationFailed
from platform_core.idempotency import idempotent
from platform_core.identity.auth import current_principal
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine, Product, WorkCenter

VIEW, MANAGE, REPORT, SUPERVISE = "orders.view", "orders.manage", "orders.report_work", "orders.supervise"


blp = ApiBlueprint(
    "orders_api",
    __name__,
    description="Routings, work orders and shop-floor reporting on tablets.",
    loaders={
        "routing_id": record_loader(Routing, lambda: _("No such routing.")),
        "order_id": record_loader(WorkOrder, lambda: _("No such work order.")),
        "operation_id": record_loader(Operation, lambda: _("No such operation.")),
        "report_id": record_loader(WorkReport, lambda: _("No such report.")),
    },
)


def acting_employee(named: Employee | None) -> Employee | None:
    """Who acts on the shop floor: the signed-in employee, or the one named by a supervisor or an integration."""
    principal = current_principal()
    own = principal.employee
    if own is None and principal.user is not None:
        own = db.session.scalar(sa.select(Employee).where(Employee.user_id == principal.user.id))
    if named is None or (own is not None and named.id == own.id):
        return own
    if own is not None and not principal.can(SUPERVISE):
        raise PermissionDenied(_("You can only report for yourself."))
    return named


@blp.route("/")
class Info(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("orders")


@blp.route("/settings")
class Settings(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.SettingsSchema)
    def get(self):
        """The factory's orders settings (over-delivery tolerance)."""
        return get_settings(db.session)

    @blp.requires(MANAGE)
    @blp.arguments(s.SettingsSchema)
    @blp.etag
    @blp.response(200, s.SettingsSchema)
    def patch(self, data):
        """Change the settings (If-Match required)."""
        blp.check_etag(get_settings(db.session), s.SettingsSchema)
        return update_settings(db.session, **data)


# --- routings -----------------------------------------------------------------------------------------------------


@blp.route("/routings")
class Routings(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.RoutingListArgsSchema, location="query")
    @blp.response(200, s.RoutingSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List routing versions, newest first per product."""
        statement = sa.select(Routing).order_by(Routing.product_id, Routing.version.desc())
        if "product_id" in args:
            statement = statement.where(Routing.product_id == args["product_id"])
        if "status" in args:
            statement = statement.where(Routing.status == args["status"])
        return statement

    @blp.requires(MANAGE)
    @blp.arguments(s.RoutingCreateSchema)
    @blp.response(201, s.RoutingSchema)
    def post(self, data):
        """Create a draft routing version for a product (the next version number)."""
        return routings.create_routing(db.session, **data)


@blp.route("/routings/<int:routing_id>")
class RoutingItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.RoutingSchema)
    def get(self, routing):
        """Show a routing version with its operations."""
        return routing

    @blp.requires(MANAGE)
    @blp.arguments(s.RoutingUpdateSchema)
    @blp.etag
    @blp.response(200, s.RoutingSchema)
    def patch(self, data, routing):
        """Change a draft routing; ``steps`` replaces all its operations (If-Match required)."""
        blp.check_etag(routing, s.RoutingSchema)
        return routings.update_routing(db.session, routing, **data)

    @blp.requires(MANAGE)
    @blp.response(204)
    def delete(self, routing):
        """Delete a draft routing no work order names."""
        routings.delete_routing(db.session, routing)


@blp.route("/routings/<int:routing_id>/activate")
class RoutingActivate(MethodView):
    @blp.requires(MANAGE)
    @blp.response(200, s.RoutingSchema)
    def post(self, routing):
        """Make a draft the version new releases use; the previous active version is archived."""
        return routings.activate_routing(db.session, routing)


@blp.route("/routings/<int:routing_id>/new-version")
class RoutingNewVersion(MethodView):
    @blp.requires(MANAGE)
    @blp.response(201, s.RoutingSchema)
    def post(self, routing):
        """Copy a routing version into a new draft to edit."""
        return routings.new_version(db.session, routing)


# --- work orders --------------------------------------------------------------------------------------------------


def order_search(args: dict) -> sa.Select:
    statement = sa.select(WorkOrder).options(selectinload(WorkOrder.product), selectinload(WorkOrder.routing))
    if args.get("status"):
        statement = statement.where(WorkOrder.status.in_(args["status"]))
    if "product_id" in args:
        statement = statement.where(WorkOrder.product_id == args["product_id"])
    if text := (args.get("q") or "").strip():
        pattern = f"%{text}%"
        products = sa.select(Product.id).where(Product.code.ilike(pattern) | Product.name.ilike(pattern))
        statement = statement.where(
            WorkOrder.number.ilike(pattern)
            | WorkOrder.customer.ilike(pattern)
            | WorkOrder.sales_order.ilike(pattern)
            | WorkOrder.product_id.in_(products)
        )
    if args.get("late"):
        zone = supervision.factory_zone(db.session)
        today = utcnow().astimezone(zone).date()
        statement = statement.where(WorkOrder.status.in_(work_orders.OPEN_STATUSES), WorkOrder.due_date < today)
    return statement.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())


@blp.route("/work-orders")
class WorkOrders(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.WorkOrderListArgsSchema, location="query")
    @blp.response(200, s.WorkOrderSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List work orders, newest first; filter by status, text, product or lateness."""
        return order_search(args)

    @blp.requires(MANAGE)
    @blp.arguments(s.WorkOrderCreateSchema)
    @blp.response(201, s.WorkOrderSchema)
    def post(self, data):
        """Create a draft work order (the number defaults to the next of the day)."""
        return work_orders.create_order(db.session, **data)


@blp.route("/work-orders/export")
class WorkOrdersExport(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.WorkOrderListArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "CSV, UTF-8 with BOM", "content": {"text/csv": {}}}})
    def get(self, args):
        """Export the listed work orders as CSV (the import's columns plus status and progress)."""
        content = csv_io.export_orders(db.session, order_search(args))
        return Response(
            content,
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="work-orders.csv"'},
        )


@blp.route("/work-orders/import")
class WorkOrdersImport(MethodView):
    @blp.requires(MANAGE)
    @blp.arguments(s.WorkOrderImportArgsSchema, location="multipart")
    @blp.response(200, s.WorkOrderImportResultSchema)
    def post(self, args):
        """Import work orders from an ERP's CSV, all or nothing (422 lists the errors by row and column).

        Columns: number, product, quantity, due_date, priority, customer, sales_order, notes, routing_version
        (or their Chinese names).
        """
        upload = args["file"]
        if not isinstance(upload, FileStorage):
            raise ValidationFailed(_("Upload a file."), errors={"multipart": {"file": [_("Not a file.")]}})
        result = csv_io.import_orders(db.session, upload.read(), release=args["release"], dry_run=args["dry_run"])
        if not result.ok:
            count = len(result.errors) + result.more_errors
            raise ValidationFailed(
                _("%(n)d problems found; nothing was imported.", n=count),
                errors=result.errors,
                more_errors=result.more_errors,
            )
        return result.summary()


@blp.route("/work-orders/<int:order_id>")
class WorkOrderItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.WorkOrderDetailSchema)
    def get(self, order):
        """Show a work order with its operations."""
        blp.set_etag(order, s.RecordVersionSchema)
        return order

    @blp.requires(MANAGE)
    @blp.arguments(s.WorkOrderUpdateSchema)
    @blp.etag
    @blp.response(200, s.WorkOrderDetailSchema)
    def patch(self, data, order):
        """Change a work order: anything while a draft, then only dates, priority and references (If-Match)."""
        blp.check_etag(order, s.RecordVersionSchema)
        order = work_orders.update_order(db.session, order, data)
        blp.set_etag(order, s.RecordVersionSchema)
        return order


def _order_action(action: str, summary: str):
    def post(self, order):
        return work_orders.ACTIONS[action](db.session, order)

    post.__doc__ = summary
    view = type(
        f"WorkOrder{action.title()}",
        (MethodView,),
        {"post": blp.requires(MANAGE)(idempotent(required=False)(blp.response(200, s.WorkOrderDetailSchema)(post)))},
    )
    blp.route(f"/work-orders/<int:order_id>/{action}", endpoint=f"work_order_{action}")(view)


for _action, _summary in (
    ("release", "Release a draft: its routing becomes the order's operations (409 naming the status otherwise)."),
    ("hold", "Put a released or running order on hold; running operations are paused."),
    ("resume", "Lift a hold; the order returns to its status before the hold."),
    ("cancel", "Cancel a draft, released or held order."),
    ("close", "Close a completed order."),
):
    _order_action(_action, _summary)


@blp.route("/work-orders/<int:order_id>/reports")
class WorkOrderReports(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.WorkReportSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, order):
        """The order's work reports, newest first."""
        return sa.select(WorkReport).where(WorkReport.order_id == order.id).order_by(WorkReport.reported_at.desc())


# --- shop floor ---------------------------------------------------------------------------------------------------


@blp.route("/operations/<int:operation_id>")
class OperationItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.OperationSchema)
    def get(self, operation):
        """Show an operation: status, timers from server time, quantities, crew, version."""
        return operation


@blp.route("/operations/<int:operation_id>/start")
class OperationStart(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.StartSchema)
    @blp.response(200, s.OperationSchema)
    def post(self, data, operation):
        """Start an operation on a machine, or join it while it runs (several operators on one operation).

        409 ``waiting_for_previous`` while the previous operation has not delivered; 409 ``lot_held`` when every lot
        the previous operation delivered is on hold.
        """
        employee = acting_employee(data.get("employee"))
        return execution.start(
            db.session, operation, machine=data.get("machine"), employee=employee, version=data.get("version")
        )


@blp.route("/operations/<int:operation_id>/pause")
class OperationPause(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.PauseSchema)
    @blp.response(200, s.OperationSchema)
    def post(self, data, operation):
        """Pause a running operation with a pause reason."""
        employee = acting_employee(data.get("employee"))
        return execution.pause(
            db.session, operation, reason=data["reason"], employee=employee, version=data.get("version")
        )


@blp.route("/operations/<int:operation_id>/resume")
class OperationResume(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.ResumeSchema)
    @blp.response(200, s.OperationSchema)
    def post(self, data, operation):
        """Resume a paused operation."""
        employee = acting_employee(data.get("employee"))
        return execution.resume(db.session, operation, employee=employee, version=data.get("version"))


@blp.route("/operations/<int:operation_id>/report")
class OperationReport(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.ReportInSchema)
    @blp.response(201, s.ReportResultSchema)
    def post(self, data, operation):
        """Report good, scrap (with its defect) and rework quantities, output lot and consumed lots.

        422 ``exceeds_previous_operation`` beyond what the previous operation delivered; 422 ``over_tolerance``
        beyond the planned quantity plus the factory's tolerance, unless ``request_approval`` keeps the report for
        a supervisor (status ``pending_approval``); 409 ``lot_held`` when a named lot is on hold, or when a lot the
        previous operation delivered is on hold and the report names none of its free lots as consumed.
        """
        employee = acting_employee(data.pop("employee", None))
        version = data.pop("version", None)
        record = execution.report(
            db.session, operation, execution.ReportInput(**data), employee=employee, version=version
        )
        return record


@blp.route("/operations/<int:operation_id>/complete")
class OperationComplete(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.CompleteSchema)
    @blp.response(200, s.OperationSchema)
    def post(self, data, operation):
        """Complete a started operation; completing the last one completes the order."""
        employee = acting_employee(data.get("employee"))
        return execution.complete(db.session, operation, employee=employee, version=data.get("version"))


@blp.route("/operations/<int:operation_id>/leave")
class OperationLeave(MethodView):
    @blp.requires(REPORT)
    @idempotent()
    @blp.arguments(s.LeaveSchema)
    @blp.response(200, s.OperationSchema)
    def post(self, data, operation):
        """Stop working on an operation that goes on with others (or unattended)."""
        employee = acting_employee(data.get("employee"))
        if employee is None:
            raise ValidationFailed(_("Name the operator who leaves."), errors={"employee_id": [_("Required.")]})
        return execution.leave(db.session, operation, employee=employee)


@blp.route("/operations/<int:operation_id>/reports")
class OperationReports(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.WorkReportSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, operation):
        """The operation's work reports, newest first."""
        return (
            sa.select(WorkReport)
            .where(WorkReport.operation_id == operation.id)
            .order_by(WorkReport.reported_at.desc(), WorkReport.id.desc())
        )


@blp.route("/operations/<int:operation_id>/events")
class OperationEvents(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.OperationEventSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, operation):
        """The operation's timeline (start, join, pause, resume, leave, complete) in server time."""
        return (
            sa.select(OperationEvent)
            .where(OperationEvent.operation_id == operation.id)
            .order_by(OperationEvent.at, OperationEvent.id)
        )


@blp.route("/dispatch")
class Dispatch(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.DispatchArgsSchema, location="query")
    @blp.response(200, s.DispatchItemSchema(many=True))
    def get(self, args):
        """The dispatch list of a machine or a work center: the published schedule's sequence, else priority and
        due date."""
        if "machine_id" in args:
            machine = db.session.get(Machine, args["machine_id"])
            if machine is None:
                raise NotFound(_("No such machine."))
            return dispatch.for_machine(db.session, machine)
        work_center = db.session.get(WorkCenter, args["work_center_id"])
        if work_center is None:
            raise NotFound(_("No such work center."))
        return dispatch.for_work_center(db.session, work_center)


# --- supervision --------------------------------------------------------------------------------------------------


@blp.route("/reports")
class Reports(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.ReportListArgsSchema, location="query")
    @blp.response(200, s.WorkReportSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List work reports, newest first (e.g. ``status=pending_approval``)."""
        statement = sa.select(WorkReport).order_by(WorkReport.reported_at.desc(), WorkReport.id.desc())
        for name in ("status", "order_id", "operation_id"):
            if name in args:
                statement = statement.where(getattr(WorkReport, name) == args[name])
        return statement


@blp.route("/reports/<int:report_id>")
class ReportItem(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.WorkReportSchema)
    def get(self, report):
        """Show a work report."""
        return report


@blp.route("/reports/<int:report_id>/approve")
class ReportApprove(MethodView):
    @blp.requires(SUPERVISE)
    @idempotent(required=False)
    @blp.arguments(s.DecisionSchema)
    @blp.response(200, s.ReportResultSchema)
    def post(self, data, report):
        """Approve a report beyond the tolerance: it counts from now (never beyond the previous operation)."""
        return execution.approve_report(db.session, report, note=data.get("note"))


@blp.route("/reports/<int:report_id>/reject")
class ReportReject(MethodView):
    @blp.requires(SUPERVISE)
    @idempotent(required=False)
    @blp.arguments(s.DecisionSchema)
    @blp.response(200, s.ReportResultSchema)
    def post(self, data, report):
        """Reject a report beyond the tolerance: it never counts."""
        return execution.reject_report(db.session, report, note=data.get("note"))


@blp.route("/held-lots")
class HeldLots(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.HeldLotSchema(many=True))
    def get(self):
        """Lots quality holds now: reports naming them are refused."""
        return lots.held_lots(db.session)


@blp.route("/board")
class Board(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.BoardSchema)
    def get(self):
        """The live board: load per work center, running and paused operations, order progress, approvals."""
        return supervision.live_board(db.session)


@blp.route("/kpis")
class Kpis(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.KpiArgsSchema, location="query")
    @blp.response(200, s.KpiSchema)
    def get(self, args):
        """On-time delivery, lead time, throughput and scrap rate over the last days, per local day."""
        return supervision.kpis(db.session, days=args["days"])


@blp.route("/kpis/export")
class KpisExport(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.KpiArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "CSV, UTF-8 with BOM", "content": {"text/csv": {}}}})
    def get(self, args):
        """The KPIs per day as CSV."""
        result = supervision.kpis(db.session, days=args["days"])
        return Response(
            supervision.kpi_csv(result),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="orders-kpis.csv"'},
        )
