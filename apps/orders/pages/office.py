"""Pages for planners and managers: work orders, routings, the ERP import and the settings."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from apps.orders import csv_io, execution, routings, work_orders
from apps.orders.api import order_search
from apps.orders.models import OrderStatus, ReportStatus, Routing, RoutingStatus, WorkOrder, WorkReport
from apps.orders.pages import forms
from apps.orders.settings import get_settings, update_settings
from platform_core.db import db
from platform_core.errors import DomainError
from platform_core.masterdata.models import Machine, Product, WorkCenter
from platform_core.web.redirects import local_path

PAGE_SIZE = 50


def language() -> str:
    from platform_core.web import current_language

    return current_language()


def _choices(model, *, current=None, blank: str | None = None) -> list[SelectChoice]:
    records = list(db.session.scalars(sa.select(model).where(model.active).order_by(model.code)))
    if current is not None and current not in records:
        records.append(current)
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(r.id, f"{r.code} {r.label(language())}") for r in records]


def _field_errors(form, error: DomainError) -> None:
    """Show a service's field errors next to the form's fields, else as a flash message."""
    placed = False
    for name, messages in (error.errors or {}).items():
        target = getattr(form, name, None) or getattr(form, f"{name}_id", None)
        if target is not None:
            target.errors = [*target.errors, *([messages] if isinstance(messages, str) else list(messages))]
            placed = True
    if not placed:
        flash(error.message, "error")


# --- work orders --------------------------------------------------------------------------------------------------


def index():
    """The app's landing page: a tablet's operator goes to the shop floor, everyone else to the order list."""
    principal = g.principal
    if principal.employee is not None and principal.can("orders.report_work"):
        return redirect(url_for("orders.terminal"))
    return order_list()


def order_list():
    statuses = [OrderStatus(s) for s in request.args.getlist("status") if s in set(OrderStatus)]
    args = {"status": statuses, "q": request.args.get("q", ""), "late": request.args.get("late") == "1"}
    page = max(1, request.args.get("page", 1, type=int))
    statement = order_search(args)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
    orders = db.session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    export_args = [("status", s.value) for s in statuses] + [("q", args["q"])] * bool(args["q"])
    return render_template(
        "orders/list.html",
        orders=orders,
        statuses=list(OrderStatus),
        chosen=statuses,
        q=args["q"],
        late=args["late"],
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        export_query="&".join(f"{k}={v}" for k, v in export_args),
        status_label=work_orders.status_label,
    )


def _order_form(order: WorkOrder | None) -> forms.WorkOrderForm:
    form = forms.WorkOrderForm(obj=order)
    if order is not None and request.method == "GET":
        form.product_id.data = order.product_id
    form.product_id.choices = _choices(Product, current=order.product if order else None, blank="")
    if order is not None and order.status is not OrderStatus.DRAFT:
        for name in ("number", "product_id", "quantity"):
            getattr(form, name).render_kw = {"disabled": True}
    return form


def _order_data(form: forms.WorkOrderForm, order: WorkOrder | None) -> dict:
    data = {
        "due_date": form.due_date.data,
        "priority": form.priority.data,
        "customer": form.customer.data or None,
        "sales_order": form.sales_order.data or None,
        "notes": form.notes.data or None,
    }
    if order is None or order.status is OrderStatus.DRAFT:
        product = db.session.get(Product, form.product_id.data) if form.product_id.data else None
        if product is None:
            form.product_id.errors = [_("Choose from the list.")]
            return {}
        data.update(product=product, quantity=form.quantity.data)
        if form.number.data:
            data["number"] = form.number.data.strip()
    return data


def order_new():
    form = _order_form(None)
    if form.validate_on_submit() and (data := _order_data(form, None)):
        try:
            order = work_orders.create_order(db.session, **data)
        except DomainError as error:
            db.session.rollback()
            _field_errors(form, error)
        else:
            flash(_("Work order %(number)s created as a draft.", number=order.number), "success")
            return redirect(url_for("orders.order", order_id=order.id))
    return render_template("orders/order_form.html", form=form, order=None)


def _load_order(order_id: int) -> WorkOrder:
    order = db.session.get(WorkOrder, order_id)
    if order is None:
        abort(404)
    return order


def order_edit(order_id: int):
    order = _load_order(order_id)
    form = _order_form(order)
    if form.validate_on_submit() and (data := _order_data(form, order)):
        try:
            work_orders.update_order(db.session, order, data)
        except DomainError as error:
            db.session.rollback()
            _field_errors(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("orders.order", order_id=order.id))
    return render_template("orders/order_form.html", form=form, order=order)


def order(order_id: int):
    order = _load_order(order_id)
    reports = db.session.scalars(
        sa.select(WorkReport)
        .where(WorkReport.order_id == order.id)
        .options(selectinload(WorkReport.employee), selectinload(WorkReport.operation))
        .order_by(WorkReport.reported_at.desc())
        .limit(100)
    ).all()
    return render_template(
        "orders/order.html",
        order=order,
        reports=reports,
        actions=_available_actions(order),
        status_label=work_orders.status_label,
        op_status_label=execution.status_label,
        report_status_labels=execution.REPORT_STATUS_LABELS,
        pending=ReportStatus.PENDING_APPROVAL,
    )


def _available_actions(order: WorkOrder) -> list[tuple[str, str, str]]:
    """(action, label, button style) the order's status allows."""
    allowed = {
        OrderStatus.DRAFT: ["release", "cancel"],
        OrderStatus.RELEASED: ["hold", "cancel"],
        OrderStatus.IN_PROGRESS: ["hold"],
        OrderStatus.ON_HOLD: ["resume", "cancel"],
        OrderStatus.COMPLETED: ["close"],
    }.get(order.status, [])
    labels = {
        "release": (_("Release to the shop floor"), "primary"),
        "hold": (_("Put on hold"), "secondary"),
        "resume": (_("Resume"), "primary"),
        "cancel": (_("Cancel the order"), "danger"),
        "close": (_("Close"), "primary"),
    }
    return [(action, *labels[action]) for action in allowed]


def order_action(action: str):
    """The view of one workflow action on an order (release, hold, resume, cancel, close)."""

    def view(order_id: int):
        order = _load_order(order_id)
        try:
            work_orders.ACTIONS[action](db.session, order)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            status = work_orders.status_label(order.status)
            flash(_("Work order %(number)s is now %(status)s.", number=order.number, status=status), "success")
        return redirect(url_for("orders.order", order_id=order_id))

    view.__name__ = f"order_{action}"
    return view


def report_decision(decision: str):
    """The view of a supervisor's decision on a report waiting for approval."""

    def view(report_id: int):
        record = db.session.get(WorkReport, report_id)
        if record is None:
            abort(404)
        note = request.form.get("note") or None
        try:
            if decision == "approve":
                execution.approve_report(db.session, record, note=note)
                flash(_("Report approved: it counts now."), "success")
            else:
                execution.reject_report(db.session, record, note=note)
                flash(_("Report rejected."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        return redirect(local_path(request.form.get("next")) or url_for("orders.order", order_id=record.order_id))

    view.__name__ = f"report_{decision}"
    return view


# --- routings -----------------------------------------------------------------------------------------------------


def routing_list():
    products = db.session.scalars(sa.select(Product).order_by(Product.code)).all()
    versions: dict[int, list[Routing]] = {}
    for routing in db.session.scalars(sa.select(Routing).order_by(Routing.version.desc())):
        versions.setdefault(routing.product_id, []).append(routing)
    form = forms.RoutingForm()
    form.product_id.choices = _choices(Product, blank="")
    return render_template(
        "orders/routings.html", products=products, versions=versions, form=form, status_label=routings.status_label
    )


def routing_new():
    form = forms.RoutingForm()
    form.product_id.choices = _choices(Product, blank="")
    product = (
        db.session.get(Product, form.product_id.data) if form.validate_on_submit() and form.product_id.data else None
    )
    if product is None:
        flash(_("Choose a product."), "error")
        return redirect(url_for("orders.routings"))
    current = routings.active_routing(db.session, product)
    routing = (
        routings.new_version(db.session, current)
        if current is not None
        else routings.empty_draft(db.session, product=product)
    )
    flash(_("Draft version %(version)d created.", version=routing.version), "success")
    return redirect(url_for("orders.routing", routing_id=routing.id))


def _load_routing(routing_id: int) -> Routing:
    routing = db.session.get(Routing, routing_id)
    if routing is None:
        abort(404)
    return routing


def _step_form(routing: Routing) -> forms.StepForm:
    form = forms.StepForm()
    form.work_center_id.choices = _choices(WorkCenter, blank="")
    machines = db.session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.code)).all()
    form.machine_ids.choices = [SelectChoice(m.id, f"{m.code} {m.label(language())}") for m in machines]
    if request.method == "GET":
        form.sequence.data = (max((s.sequence for s in routing.steps), default=0) // 10 + 1) * 10
    return form


def _steps_data(routing: Routing) -> list[dict]:
    return [
        {
            "sequence": s.sequence,
            "name": s.name,
            "work_center": s.work_center,
            "setup_minutes": s.setup_minutes,
            "seconds_per_unit": s.seconds_per_unit,
            "allow_partial": s.allow_partial,
            "machines": [{"machine": m.machine, "seconds_per_unit": m.seconds_per_unit} for m in s.machines],
        }
        for s in routing.steps
    ]


def routing(routing_id: int):
    routing = _load_routing(routing_id)
    form = _step_form(routing)
    if form.validate_on_submit():
        work_center = db.session.get(WorkCenter, form.work_center_id.data) if form.work_center_id.data else None
        machines = [db.session.get(Machine, i) for i in form.machine_ids.data or []]
        if work_center is None:
            form.work_center_id.errors = [_("Choose from the list.")]
        else:
            step = {
                "sequence": form.sequence.data,
                "name": form.name.data,
                "work_center": work_center,
                "setup_minutes": float(form.setup_minutes.data or Decimal(0)),
                "seconds_per_unit": float(form.seconds_per_unit.data or Decimal(0)),
                "allow_partial": form.allow_partial.data,
                "machines": [{"machine": m} for m in machines if m is not None],
            }
            try:
                routings.update_routing(db.session, routing, steps=[*_steps_data(routing), step])
            except DomainError as error:
                db.session.rollback()
                flash(_describe(error), "error")
            else:
                flash(_("Operation %(n)d added.", n=step["sequence"]), "success")
                return redirect(url_for("orders.routing", routing_id=routing.id))
    return render_template(
        "orders/routing.html",
        routing=routing,
        form=form,
        editable=routing.status is RoutingStatus.DRAFT and g.principal.can("orders.manage"),
        status_label=routings.status_label,
    )


def _describe(error: DomainError) -> str:
    """A service error with its field messages, for a flash message."""
    details = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        else:
            details.append(str(value))

    walk(error.errors or {})
    return " ".join([error.message, *details])


def routing_step_delete(routing_id: int):
    routing = _load_routing(routing_id)
    sequence = request.form.get("sequence", type=int)
    steps = [s for s in _steps_data(routing) if s["sequence"] != sequence]
    try:
        if not steps:
            raise DomainError(_("A routing needs at least one operation."))
        routings.update_routing(db.session, routing, steps=steps)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("orders.routing", routing_id=routing_id))


def routing_action(action: str):
    """The view of one action on a routing version (activate, new-version, delete)."""

    def view(routing_id: int):
        routing = _load_routing(routing_id)
        try:
            if action == "activate":
                routings.activate_routing(db.session, routing)
                flash(_("Version %(version)d is now active for new releases.", version=routing.version), "success")
            elif action == "new-version":
                routing = routings.new_version(db.session, routing)
                flash(_("Draft version %(version)d created.", version=routing.version), "success")
            else:
                routings.delete_routing(db.session, routing)
                flash(_("Draft deleted."), "success")
                return redirect(url_for("orders.routings"))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        return redirect(url_for("orders.routing", routing_id=routing.id))

    view.__name__ = f"routing_{action.replace('-', '_')}"
    return view


# --- import and settings -----------------------------------------------------------------------------------------


def import_page():
    form = forms.ImportForm()
    result = None
    if form.validate_on_submit():
        result = csv_io.import_orders(
            db.session, form.file.data.read(), release=form.release.data, dry_run=form.dry_run.data
        )
        if result.ok and not result.dry_run:
            flash(
                _(
                    "%(created)d work orders created, %(updated)d updated, %(unchanged)d unchanged, "
                    "%(released)d released.",
                    created=result.created,
                    updated=result.updated,
                    unchanged=result.unchanged,
                    released=result.released,
                ),
                "success",
            )
    return render_template("orders/import.html", form=form, result=result, columns=csv_io.COLUMNS)


def settings_page():
    current = get_settings(db.session)
    form = forms.SettingsForm(over_tolerance_pct=Decimal(str(current.over_tolerance_pct)))
    if form.validate_on_submit():
        try:
            update_settings(db.session, over_tolerance_pct=float(form.over_tolerance_pct.data))
        except DomainError as error:
            db.session.rollback()
            _field_errors(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("orders.settings"))
    return render_template("orders/settings.html", form=form)
