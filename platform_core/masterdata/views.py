"""Master-data pages: a list and a form per kind, calendars with their shifts, exceptions and a two-week preview,
reason trees, employees' tablet sign-in, and the spreadsheet import (also offered to platform operators for a
factory they are onboarding)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from platform_core.db import db, tenant_context
from platform_core.errors import DomainError, abort
from platform_core.identity import services as identity
from platform_core.identity.auth import permission_required, platform_operator_required
from platform_core.identity.models import Employee, Membership, User
from platform_core.masterdata import calendar as cal
from platform_core.masterdata import forms, imports, services
from platform_core.masterdata.models import (
    CalendarException,
    ExceptionKind,
    Machine,
    Product,
    ProductFamily,
    ReasonCode,
    ReasonKind,
    ShiftCalendar,
    Unit,
    WorkCenter,
    Workshop,
)
from platform_core.tenants import services as tenants

bp = Blueprint("masterdata", __name__, url_prefix="/masterdata")

VIEW = "admin.view_master_data"
MANAGE = "admin.manage_master_data"
PAGE_SIZE = 50
PREVIEW_DAYS = 14


def _language() -> str:
    from platform_core.web import current_language

    return current_language()


def _label(record) -> str:
    return "" if record is None else f"{record.code} {record.label(_language())}"


def _choices(model: type, *, current=None, blank: str | None = None, **scope) -> list[SelectChoice]:
    """Active records of ``model`` (and the current one, even if inactive) as select choices."""
    statement = sa.select(model).where(model.active, *(getattr(model, k) == v for k, v in scope.items()))
    records = list(db.session.scalars(statement.order_by(model.code)))
    if current is not None and current not in records:
        records.append(current)
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(r.id, _label(r)) for r in records]


def _record(model: type, record_id: int | None, field, problems: dict) -> Any:
    """The factory's record for a chosen id, or None; an id of nothing known becomes a field error."""
    if record_id is None:
        return None
    record = db.session.get(model, record_id)
    if record is None:
        problems.setdefault(field.name, []).append(_("Choose from the list."))
    return record


@dataclass(frozen=True)
class PageKind:
    """How one kind shows on the pages."""

    slug: str
    model: type
    title: Any
    singular: Any
    icon: str
    form: type[FlaskForm]
    columns: tuple[tuple[Any, Callable[[Any], Any]], ...]
    prepare: Callable[[FlaskForm, Any], None]  # fill choices
    to_data: Callable[[FlaskForm, dict], dict]  # form → service data (problems collected in the dict)


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def _named_data(form: FlaskForm) -> dict:
    return {
        "code": form.code.data,
        "name": form.name.data,
        "name_en": form.name_en.data or None,
        "active": form.active.data,
    }


def _prepare_nothing(form, record) -> None:
    return None


def _prepare_work_center(form, record) -> None:
    form.workshop_id.choices = _choices(Workshop, current=record and record.workshop, blank=_("(none)"))
    form.calendar_id.choices = _choices(
        ShiftCalendar, current=record and record.calendar, blank=_("(the factory's default calendar)")
    )


def _work_center_data(form, problems) -> dict:
    return {
        **_named_data(form),
        "workshop": _record(Workshop, form.workshop_id.data, form.workshop_id, problems),
        "calendar": _record(ShiftCalendar, form.calendar_id.data, form.calendar_id, problems),
    }


def _prepare_machine(form, record) -> None:
    form.work_center_id.choices = _choices(WorkCenter, current=record and record.work_center, blank="")
    form.calendar_id.choices = _choices(
        ShiftCalendar, current=record and record.calendar, blank=_("(the work center's calendar)")
    )


def _machine_data(form, problems) -> dict:
    cycle = form.ideal_cycle_time_s.data
    return {
        **_named_data(form),
        "work_center": _record(WorkCenter, form.work_center_id.data, form.work_center_id, problems),
        "model": form.model.data or None,
        "ideal_cycle_time_s": float(cycle) if cycle is not None else None,
        "calendar": _record(ShiftCalendar, form.calendar_id.data, form.calendar_id, problems),
    }


def _unit_data(form, problems) -> dict:
    return {**_named_data(form), "decimals": form.decimals.data}


def _prepare_product(form, record) -> None:
    form.unit_id.choices = _choices(Unit, current=record and record.unit, blank="")
    form.family_id.choices = _choices(ProductFamily, current=record and record.family, blank=_("(none)"))


def _product_data(form, problems) -> dict:
    return {
        **_named_data(form),
        "unit": _record(Unit, form.unit_id.data, form.unit_id, problems),
        "family": _record(ProductFamily, form.family_id.data, form.family_id, problems),
        "drawing_no": form.drawing_no.data or None,
    }


def _reason_kind(value: str | None) -> ReasonKind:
    return ReasonKind(value) if value in set(ReasonKind) else ReasonKind.DOWNTIME


def _prepare_reason(form, record) -> None:
    form.kind.choices = forms.reason_kind_choices()
    if record is not None:  # the kind of a reason is fixed once created
        form.kind.render_kw = {"disabled": True}
        form.kind.validate_choice = False
        form.kind.data = record.kind.value
        kind = record.kind
    else:
        kind = _reason_kind(form.kind.data if request.method == "POST" else request.args.get("kind"))
        form.kind.data = kind.value
    choices = [SelectChoice("", _("(none: a category)"))]
    for reason, depth in services.reason_tree(db.session, kind):
        if record is None or reason.id != record.id:
            choices.append(SelectChoice(reason.id, "· " * depth + _label(reason)))
    form.parent_id.choices = choices


def _reason_data(form, problems) -> dict:
    data = {
        **_named_data(form),
        "parent": _record(ReasonCode, form.parent_id.data, form.parent_id, problems),
        "icon": form.icon.data or None,
        "sort_order": form.sort_order.data or 0,
    }
    if form.kind.render_kw is None:  # the kind is chosen on creation only
        try:
            data["kind"] = ReasonKind(form.kind.data)
        except ValueError:
            problems.setdefault("kind", []).append(_("Choose from the list."))
    return data


def _prepare_employee(form, record) -> None:
    members = sa.select(Membership.user_id)
    linked = sa.select(Employee.user_id).where(Employee.user_id.is_not(None))
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(members), User.id.not_in(linked)).order_by(User.username)
    ).all()
    current = record.user if record is not None else None
    if current is not None:
        users = [current, *users]
    form.user_id.choices = [SelectChoice("", _("(no sign-in)"))] + [
        SelectChoice(u.id, f"{u.username} — {u.display_name}") for u in users
    ]
    if isinstance(form.skills.data, list):  # loaded from the record, not typed
        form.skills.data = "; ".join(form.skills.data)


def _employee_data(form, problems) -> dict:
    user = None
    if form.user_id.data is not None:
        try:
            user = identity.get_tenant_user(db.session, form.user_id.data)
        except DomainError:
            problems.setdefault("user_id", []).append(_("Choose from the list."))
    return {
        "employee_no": form.employee_no.data,
        "name": form.name.data,
        "user": user,
        "skills": services.split_skills(form.skills.data or ""),
        "active": form.active.data,
    }


def _code_name_columns(extra=()) -> tuple:
    return (
        (_l("Code"), lambda r: r.code),
        (_l("Name (Chinese)"), lambda r: r.name),
        (_l("Name (English)"), lambda r: r.name_en or ""),
        *extra,
    )


KINDS: dict[str, PageKind] = {
    kind.slug: kind
    for kind in (
        PageKind(
            "workshops",
            Workshop,
            _l("Workshops"),
            _l("Workshop"),
            "🏭",
            forms.WorkshopForm,
            _code_name_columns(),
            _prepare_nothing,
            lambda form, problems: _named_data(form),
        ),
        PageKind(
            "work-centers",
            WorkCenter,
            _l("Work centers"),
            _l("Work center"),
            "🧩",
            forms.WorkCenterForm,
            _code_name_columns(
                (
                    (_l("Workshop"), lambda r: _label(r.workshop)),
                    (_l("Shift calendar"), lambda r: _label(r.calendar)),
                )
            ),
            _prepare_work_center,
            _work_center_data,
        ),
        PageKind(
            "machines",
            Machine,
            _l("Machines"),
            _l("Machine"),
            "⚙",
            forms.MachineForm,
            _code_name_columns(
                (
                    (_l("Work center"), lambda r: _label(r.work_center)),
                    (_l("Model"), lambda r: r.model or ""),
                    (_l("Ideal cycle time (s)"), lambda r: f"{r.ideal_cycle_time_s:g}" if r.ideal_cycle_time_s else ""),
                    (_l("Shift calendar"), lambda r: _label(cal.calendar_of(db.session, r))),
                )
            ),
            _prepare_machine,
            _machine_data,
        ),
        PageKind(
            "units",
            Unit,
            _l("Units"),
            _l("Unit"),
            "📏",
            forms.UnitForm,
            _code_name_columns(((_l("Decimal places"), lambda r: r.decimals),)),
            _prepare_nothing,
            _unit_data,
        ),
        PageKind(
            "product-families",
            ProductFamily,
            _l("Product families"),
            _l("Product family"),
            "🗂",
            forms.ProductFamilyForm,
            _code_name_columns(),
            _prepare_nothing,
            lambda form, problems: _named_data(form),
        ),
        PageKind(
            "products",
            Product,
            _l("Products"),
            _l("Product"),
            "🔩",
            forms.ProductForm,
            _code_name_columns(
                (
                    (_l("Unit"), lambda r: r.unit.label(_language())),
                    (_l("Product family"), lambda r: _label(r.family)),
                    (_l("Drawing number"), lambda r: r.drawing_no or ""),
                )
            ),
            _prepare_product,
            _product_data,
        ),
        PageKind(
            "calendars",
            ShiftCalendar,
            _l("Shift calendars"),
            _l("Shift calendar"),
            "📅",
            forms.CalendarForm,
            _code_name_columns(
                (
                    (_l("Shifts"), lambda r: ", ".join(s.label(_language()) for s in r.shifts)),
                    (_l("Default"), lambda r: _yes(r.is_default)),
                )
            ),
            _prepare_nothing,
            lambda form, problems: _named_data(form),
        ),
        PageKind(
            "reasons",
            ReasonCode,
            _l("Reason codes"),
            _l("Reason code"),
            "🏷",
            forms.ReasonForm,
            _code_name_columns(((_l("Icon"), lambda r: r.icon or ""),)),
            _prepare_reason,
            _reason_data,
        ),
        PageKind(
            "employees",
            Employee,
            _l("Employees"),
            _l("Employee"),
            "👷",
            forms.EmployeeForm,
            (
                (_l("Employee number"), lambda r: r.employee_no),
                (_l("Name"), lambda r: r.name),
                (_l("Signs in as"), lambda r: r.user.username if r.user else ""),
                (_l("Skills"), lambda r: "、".join(r.skills or [])),
            ),
            _prepare_employee,
            _employee_data,
        ),
    )
}


@bp.app_template_global("masterdata_url")
def masterdata_url(slug: str, view: str = "list", record=None, **values) -> str:
    """The URL of a kind's page: ``list``, ``new``, ``record`` or ``delete`` (the last two for ``record``)."""
    if record is not None:
        values[services.PATH_IDS[slug]] = record.id
    return url_for(f"masterdata.{slug.replace('-', '_')}_{view}", **values)


def _get(kind: PageKind, record_id: int):
    record = db.session.get(kind.model, record_id)
    if record is None:
        abort(404)
    return record


def _can_manage() -> bool:
    return g.principal.can(MANAGE)


def _require_manage() -> None:
    if not _can_manage():
        abort(403)


def _apply_errors(form: FlaskForm, errors: dict | None) -> list[str]:
    """Put service errors on the form's fields; returns the messages no field took."""
    loose = []
    for name, messages in (errors or {}).items():
        field = getattr(form, name, None)
        if field is None or not isinstance(messages, list):
            loose.extend(str(m) for m in imports.flatten(messages))
            continue
        field.errors = [*field.errors, *map(str, messages)]
    return loose


# --- overview and lists -----------------------------------------------------------------------------------------


@bp.get("/")
@permission_required(VIEW)
def index():
    counts = {}
    for slug, kind in KINDS.items():
        counts[slug] = db.session.scalar(sa.select(sa.func.count()).select_from(kind.model))
    return render_template("masterdata/index.html", kinds=KINDS, counts=counts, can_manage=_can_manage())


def records(slug: str):
    kind = KINDS[slug]
    q = request.args.get("q", "").strip()[:100]
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    depth: dict[int, int] = {}
    reason_kind = None
    if kind.model is ReasonCode:
        reason_kind = _reason_kind(request.args.get("kind"))
        tree = services.reason_tree(db.session, reason_kind)
        if q or active is not None:
            found = {r.id for r in db.session.scalars(services.search(ReasonCode, q=q, active=active))}
            tree = [(r, d) for r, d in tree if r.id in found]
        depth = {r.id: d for r, d in tree}
        total, rows = len(tree), [r for r, _d in tree][(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        statement = services.search(kind.model, q=q or None, active=active).options(
            *(selectinload(r) for r in sa.inspect(kind.model).relationships if r.direction.name == "MANYTOONE")
        )
        total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery()))
        rows = db.session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    table = [
        {
            "url": masterdata_url(slug, "record", r),
            "cells": [getter(r) for _label_text, getter in kind.columns],
            "active": r.active,
            "depth": depth.get(r.id, 0),
        }
        for r in rows
    ]
    return render_template(
        "masterdata/list.html",
        kind=kind,
        kinds=KINDS,
        table=table,
        q=q,
        active=request.args.get("active", ""),
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
        reason_kind=reason_kind,
        reason_kinds=[(k, services.reason_kind_label(k)) for k in ReasonKind],
        can_manage=_can_manage(),
    )


# --- create and edit --------------------------------------------------------------------------------------------


def _fill_shift_rows(form: forms.CalendarForm, calendar: ShiftCalendar | None) -> None:
    """The calendar's shifts as form rows, then empty rows to add new ones."""
    while form.shifts.entries:
        form.shifts.pop_entry()
    for shift in calendar.shifts if calendar is not None else []:
        form.shifts.append_entry(
            {
                "code": shift.code,
                "name": shift.name,
                "name_en": shift.name_en,
                "weekdays": list(shift.weekdays),
                "start_time": shift.start_time,
                "end_time": shift.end_time,
                "breaks": imports.format_breaks(shift.breaks),
            }
        )
    for _blank in range(2 if calendar is not None and calendar.shifts else 3):
        form.shifts.append_entry()


def _calendar_data(form: forms.CalendarForm, problems: dict) -> tuple[dict, list[int]]:
    """Service data for a calendar form and, for each shift in it, the form row it came from."""
    shifts, rows = [], []
    for index, entry in enumerate(form.shifts.entries):
        row = entry.form
        if row.is_blank():
            continue
        try:
            breaks = imports.as_breaks(row.breaks.data or "")
        except imports.CellProblem as problem:
            row.breaks.errors = [*row.breaks.errors, str(problem)]
            problems.setdefault("shifts", {})  # shown on the row itself
            breaks = []
        shifts.append(
            {
                "code": row.code.data or "",
                "name": row.name.data or "",
                "name_en": row.name_en.data or None,
                "weekdays": row.weekdays.data or [],
                "start_time": row.start_time.data,
                "end_time": row.end_time.data,
                "breaks": breaks,
            }
        )
        rows.append(index)
    data = {**_named_data(form), "is_default": form.is_default.data, "shifts": shifts}
    return data, rows


def _apply_shift_errors(form: forms.CalendarForm, errors: dict, rows: list[int]) -> None:
    for index, fields in (errors.get("shifts") or {}).items():
        entry = form.shifts.entries[rows[int(index)]].form
        for name, messages in fields.items():
            target = getattr(entry, name, entry.code)
            target.errors = [*target.errors, *map(str, messages)]


def _edit(kind: PageKind, record=None):
    form = kind.form(obj=record)
    if record is None and request.method == "GET" and hasattr(form, "active"):
        form.active.data = True
    kind.prepare(form, record)
    if kind.model is ShiftCalendar and request.method == "GET":
        _fill_shift_rows(form, record)
    status = 200
    if request.method == "POST":
        _require_manage()
        if form.validate_on_submit():
            problems: dict = {}
            rows: list[int] = []
            if kind.model is ShiftCalendar:
                data, rows = _calendar_data(form, problems)
            else:
                data = kind.to_data(form, problems)
            try:
                if problems:
                    raise DomainError(_("Some values are not valid."), errors=problems)
                if record is None:
                    record = services.create(db.session, kind.model, data)
                    flash(_("%(kind)s %(code)s created.", kind=kind.singular, code=_code(record)), "success")
                else:
                    services.update(db.session, record, data)
                    flash(_("%(kind)s %(code)s saved.", kind=kind.singular, code=_code(record)), "success")
            except DomainError as error:
                if kind.model is ShiftCalendar:
                    _apply_shift_errors(form, error.errors or {}, rows)
                for message in _apply_errors(form, {k: v for k, v in (error.errors or {}).items() if k != "shifts"}):
                    flash(message, "error")
                flash(error.message, "error")
                status = 422
            else:
                if kind.model in (ShiftCalendar, Employee):
                    return redirect(masterdata_url(kind.slug, "record", record))
                return redirect(masterdata_url(kind.slug, **_list_args(record)))
        else:
            status = 422
    return _render_record(kind, record, form), status


def _list_args(record) -> dict:
    return {"kind": record.kind.value} if isinstance(record, ReasonCode) else {}


def _code(record) -> str:
    return record.employee_no if isinstance(record, Employee) else record.code


def _render_record(kind: PageKind, record, form, **extra):
    context: dict[str, Any] = {"kind": kind, "record": record, "form": form, "can_manage": _can_manage(), **extra}
    if isinstance(record, ShiftCalendar):
        context.setdefault("exception_form", _exception_form())
        context["preview"] = _preview(record)
        context["exception_labels"] = forms.exception_kind_labels()
        context["used_by"] = services.usages(db.session, record)
    if isinstance(record, Employee):
        context.setdefault("login_form", forms.EmployeeLoginForm(prefix="login"))
    if isinstance(record, Machine):
        context["calendar"] = cal.calendar_of(db.session, record)
    return render_template(
        "masterdata/calendar.html" if kind.model is ShiftCalendar else "masterdata/record.html", **context
    )


def new(slug: str):
    return _edit(KINDS[slug])


def record(slug: str, record_id: int):
    kind = KINDS[slug]
    return _edit(kind, _get(kind, record_id))


def delete(slug: str, record_id: int):
    kind = KINDS[slug]
    record = _get(kind, record_id)
    code = _code(record)
    args = _list_args(record)
    try:
        services.delete(db.session, record)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(masterdata_url(slug, "record", record))
    flash(_("%(kind)s %(code)s deleted.", kind=kind.singular, code=code), "success")
    return redirect(masterdata_url(slug, **args))


def _register_kind_pages(slug: str) -> None:
    """List, new, record and delete pages of one kind, with the path parameter named as in the API."""
    id_name, key = services.PATH_IDS[slug], slug.replace("-", "_")

    def list_page():
        return records(slug)

    def new_page():
        return new(slug)

    def record_page(**ids):
        return record(slug, ids[id_name])

    def delete_page(**ids):
        return delete(slug, ids[id_name])

    pages = (
        ("list", "", ["GET"], VIEW, list_page),
        ("new", "/new", ["GET", "POST"], MANAGE, new_page),
        ("record", f"/<int:{id_name}>", ["GET", "POST"], VIEW, record_page),
        ("delete", f"/<int:{id_name}>/delete", ["POST"], MANAGE, delete_page),
    )
    for view, path, methods, permission, func in pages:
        func.__name__ = f"{key}_{view}"
        bp.add_url_rule(
            f"/{slug}{path}", endpoint=func.__name__, view_func=permission_required(permission)(func), methods=methods
        )


for _slug in KINDS:
    _register_kind_pages(_slug)


# --- calendars: exceptions and preview --------------------------------------------------------------------------


def _exception_form() -> forms.ExceptionForm:
    form = forms.ExceptionForm(prefix="exception")
    form.kind.choices = forms.exception_kind_choices()
    return form


def _preview(calendar: ShiftCalendar) -> list[dict]:
    """The next two weeks, day by day, in the factory's time: working periods, hours, exceptions."""
    tz = cal.tenant_zone(db.session, calendar.tenant_id)
    today = dt.datetime.now(tz).date()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=PREVIEW_DAYS)
    intervals = cal.calendar_intervals(db.session, calendar, start, end)
    exceptions = db.session.scalars(
        sa.select(CalendarException).where(
            CalendarException.calendar_id == calendar.id,
            CalendarException.start_date <= today + dt.timedelta(days=PREVIEW_DAYS),
            CalendarException.end_date >= today,
        )
    ).all()
    days = []
    for offset in range(PREVIEW_DAYS):
        day = today + dt.timedelta(days=offset)
        day_start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        periods = [(max(a, day_start), min(b, day_end)) for a, b in intervals if a < day_end and b > day_start]
        days.append(
            {
                "day": day,
                "weekday": services.weekday_label(day.isoweekday()),
                "periods": [
                    f"{a.astimezone(tz):%H:%M}–{'24:00' if b == day_end else format(b.astimezone(tz), '%H:%M')}"
                    for a, b in periods
                ],
                "hours": sum((b - a).total_seconds() for a, b in periods) / 3600,
                "notes": [e.label(_language()) for e in exceptions if e.start_date <= day <= e.end_date],
            }
        )
    return days


@bp.post("/calendars/<int:calendar_id>/exceptions")
@permission_required(MANAGE)
def add_exception(calendar_id: int):
    kind = KINDS["calendars"]
    calendar = _get(kind, calendar_id)
    exception_form = _exception_form()
    if exception_form.validate_on_submit():
        data = {
            "calendar": calendar,
            "kind": ExceptionKind(exception_form.kind.data),
            "name": exception_form.name.data,
            "name_en": exception_form.name_en.data or None,
            "start_date": exception_form.start_date.data,
            "end_date": exception_form.end_date.data or exception_form.start_date.data,
            "start_time": exception_form.start_time.data,
            "end_time": exception_form.end_time.data,
        }
        try:
            services.create(db.session, CalendarException, data)
        except DomainError as error:
            _apply_errors(exception_form, error.errors)
            flash(error.message, "error")
        else:
            flash(_("Exception %(name)s added.", name=exception_form.name.data), "success")
            return redirect(masterdata_url("calendars", "record", calendar))
    form = kind.form(formdata=None, obj=calendar)
    _fill_shift_rows(form, calendar)
    return _render_record(kind, calendar, form, exception_form=exception_form), 422


@bp.post("/calendars/<int:calendar_id>/exceptions/<int:exception_id>/delete")
@permission_required(MANAGE)
def delete_exception(calendar_id: int, exception_id: int):
    calendar = _get(KINDS["calendars"], calendar_id)
    exception = db.session.get(CalendarException, exception_id)
    if exception is None or exception.calendar_id != calendar.id:
        abort(404)
    services.delete(db.session, exception)
    flash(_("Exception %(name)s removed.", name=exception.name), "success")
    return redirect(masterdata_url("calendars", "record", calendar))


# --- employees: tablet sign-in ----------------------------------------------------------------------------------


@bp.post("/employees/<int:employee_id>/login")
@permission_required("admin.manage_users")
def employee_login(employee_id: int):
    kind = KINDS["employees"]
    employee = _get(kind, employee_id)
    login_form = forms.EmployeeLoginForm(prefix="login")
    if login_form.validate_on_submit():
        try:
            services.create_employee_login(
                db.session, employee, username=login_form.username.data, pin=login_form.pin.data
            )
        except DomainError as error:
            _apply_errors(login_form, error.errors)
            flash(error.message, "error")
        else:
            flash(_("%(name)s can now sign in on the tablets.", name=employee.name), "success")
            return redirect(masterdata_url("employees", "record", employee))
    form = kind.form(formdata=None, obj=employee)
    kind.prepare(form, employee)
    return _render_record(kind, employee, form, login_form=login_form), 422


# --- import -----------------------------------------------------------------------------------------------------


def _import_form() -> forms.ImportForm:
    form = forms.ImportForm()
    form.kind.choices = [SelectChoice(slug, str(sheet.label)) for slug, sheet in imports.SHEETS.items()]
    if request.method == "GET" and request.args.get("kind") in imports.SHEETS:
        form.kind.data = request.args["kind"]
    return form


def _run_import_form(form: forms.ImportForm):
    """Run the posted import (a dry run unless the "import" button was pressed); None when the form is invalid."""
    if not form.validate_on_submit():
        return None
    dry_run = request.form.get("action") != "import"
    content = form.file.data.read()
    return imports.run_import(db.session, form.kind.data, content, mode=form.mode.data, dry_run=dry_run)


def _import_response(template: str, form, result, **context):
    context = {"form": form, "result": result, "sheets": imports.SHEETS, **context}
    if request.headers.get("HX-Request") and request.method == "POST":
        # htmx swaps only 2xx answers; the result itself says whether anything was written.
        return render_template("masterdata/_import_result.html", **context), 200
    status = 200 if request.method == "GET" or (result is not None and result.ok) else 422
    return render_template(template, **context), status


@bp.route("/import", methods=["GET", "POST"])
@permission_required(MANAGE)
def import_page():
    form = _import_form()
    result = _run_import_form(form) if request.method == "POST" else None
    return _import_response("masterdata/import.html", form, result, target=None)


@bp.route("/onboarding/<int:tenant_id>", methods=["GET", "POST"])
@platform_operator_required
def onboarding(tenant_id: int):
    """A platform operator imports a factory's spreadsheets while onboarding it, acting inside that factory."""
    tenant = tenants.get_tenant(db.session, tenant_id)
    with tenant_context(db.session, tenant.id):
        form = _import_form()
        result = _run_import_form(form) if request.method == "POST" else None
        counts = {
            slug: db.session.scalar(sa.select(sa.func.count()).select_from(sheet.model))
            for slug, sheet in imports.SHEETS.items()
        }
        return _import_response("masterdata/import.html", form, result, target=tenant, counts=counts)
