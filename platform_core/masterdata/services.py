"""Master-data services: the rules every way in (API, pages, spreadsheet import) shares.

``create(session, Model, data)``, ``update(session, record, data)`` and ``delete(session, record)`` work for every
kind; ``data`` is keyed by model attribute (references as records: ``{"work_center": <WorkCenter>}``). They check
the whole change first and raise one :class:`~platform_core.errors.ValidationFailed` (422) naming every bad field
by its API name (``work_center_id``), or :class:`~platform_core.errors.Conflict` (409) when the only problem is a
code already taken. They flush, never commit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_core.errors import Conflict, ValidationFailed
from platform_core.identity import services as identity
from platform_core.identity.models import Employee, User
from platform_core.masterdata import calendar as cal
from platform_core.masterdata.models import (
    CalendarException,
    CalendarShift,
    Machine,
    Named,
    Product,
    ProductFamily,
    ReasonCode,
    ReasonKind,
    ShiftCalendar,
    Unit,
    WorkCenter,
    Workshop,
)
from platform_core.rbac import Role

# The path parameter naming one record of each kind, in the API and on the pages alike.
PATH_IDS = {
    "workshops": "workshop_id",
    "work-centers": "work_center_id",
    "machines": "machine_id",
    "units": "unit_id",
    "product-families": "product_family_id",
    "products": "product_id",
    "calendars": "calendar_id",
    "reasons": "reason_id",
    "employees": "employee_id",
}

NO_SPACE = re.compile(r"^\S+$")
EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_SKILLS = 30


def weekday_label(weekday: int) -> str:
    labels = {
        1: _("Monday"),
        2: _("Tuesday"),
        3: _("Wednesday"),
        4: _("Thursday"),
        5: _("Friday"),
        6: _("Saturday"),
        7: _("Sunday"),
    }
    return labels[weekday]


class Problems(dict):
    """Field → messages, nested for list items (``{"shifts": {1: {"breaks": [...]}}}``), like marshmallow's."""

    duplicate = False  # set when a code is taken: alone, that is a 409 instead of a 422

    def add(self, field: str, message: str, *, index: int | None = None, subfield: str | None = None) -> None:
        if index is None:
            self.setdefault(field, []).append(message)
        else:
            self.setdefault(field, {}).setdefault(index, {}).setdefault(subfield or "_schema", []).append(message)

    def raise_if_any(self) -> None:
        if not self:
            return
        if self.duplicate and len(self) == 1:
            raise Conflict(next(iter(self.values()))[0], errors=dict(self))
        raise ValidationFailed(_("Some values are not valid."), errors=dict(self))


# --- kinds ------------------------------------------------------------------------------------------------------


def kind_label(model: type) -> str:
    """A kind's name for people, in the current language."""
    labels = {
        Workshop: _("Workshop"),
        WorkCenter: _("Work center"),
        Machine: _("Machine"),
        Unit: _("Unit"),
        ProductFamily: _("Product family"),
        Product: _("Product"),
        ShiftCalendar: _("Shift calendar"),
        CalendarException: _("Calendar exception"),
        ReasonCode: _("Reason code"),
        Employee: _("Employee"),
    }
    return labels[model]


def reason_kind_label(kind: ReasonKind) -> str:
    labels = {
        ReasonKind.DOWNTIME: _("Downtime reasons"),
        ReasonKind.PAUSE: _("Pause reasons"),
        ReasonKind.SCRAP: _("Scrap / defect reasons"),
        ReasonKind.REWORK: _("Rework reasons"),
    }
    return labels[kind]


# --- generic create / update / delete ----------------------------------------------------------------------------


def create(session: Session, model: type, data: dict[str, Any]):
    """Create a record of ``model`` from ``data`` after checking all of it."""
    record = model()
    _save(session, record, data, new=True)
    return record


def update(session: Session, record, data: dict[str, Any]) -> set[str]:
    """Apply ``data`` to ``record`` after checking all of it; returns the attributes whose value changed."""
    return _save(session, record, data, new=False)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Trim strings; an empty optional text is no text."""
    cleaned = {}
    for key, value in data.items():
        if type(value) is str:  # not the str-based enums
            value = value.strip()
            if value == "" and key in ("name_en", "model", "drawing_no", "icon"):
                value = None
        cleaned[key] = value
    return cleaned


def _save(session: Session, record, data: dict[str, Any], *, new: bool) -> set[str]:
    data = _clean(data)
    problems = Problems()
    if isinstance(record, (Named, Employee)):
        _check_code_and_name(session, record, data, problems, new=new)
    CHECKS[type(record)](session, record, data, problems, new)
    problems.raise_if_any()
    changed = APPLY.get(type(record), _apply_plain)(session, record, data)
    if new:
        session.add(record)
    session.flush()
    return changed


def _apply_plain(session: Session, record, data: dict[str, Any]) -> set[str]:
    changed = set()
    for key, value in data.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed.add(key)
    return changed


def _value(record, data: dict[str, Any], key: str):
    """The value ``key`` will have after the change."""
    return data[key] if key in data else getattr(record, key)


def _check_code_and_name(session: Session, record, data: dict[str, Any], problems: Problems, *, new: bool) -> None:
    model = type(record)
    code_key = "employee_no" if model is Employee else "code"
    code = data.get(code_key)
    if new and not code:
        problems.add(code_key, _("Required."))
    elif code is not None:
        limit = model.__table__.c[code_key].type.length
        if model is Employee and not EMPLOYEE_NO.match(code):
            problems.add(code_key, _("1 to 32 letters, digits, '-' or '_'."))
        elif not NO_SPACE.match(code) or len(code) > limit:
            problems.add(code_key, _("1 to %(n)d characters without spaces.", n=limit))
        elif code != getattr(record, code_key):
            scope = [getattr(model, code_key) == code]
            if model is ReasonCode:
                scope.append(ReasonCode.kind == _value(record, data, "kind"))
            if session.scalar(sa.select(model.id).where(*scope).limit(1)) is not None:
                problems.add(code_key, _("%(kind)s %(code)s already exists.", kind=kind_label(model), code=code))
                problems.duplicate = True
    name = data.get("name")
    if (new and not name) or ("name" in data and not name):
        problems.add("name", _("Required."))
    elif name is not None and len(name) > 200:
        problems.add("name", _("At most %(n)d characters.", n=200))
    if data.get("name_en") is not None and len(data["name_en"]) > 200:
        problems.add("name_en", _("At most %(n)d characters.", n=200))


def _check_nothing(session, record, data, problems, new) -> None:
    return None


def _check_machine(session: Session, record: Machine, data: dict[str, Any], problems: Problems, new: bool) -> None:
    if _value(record, data, "work_center") is None:
        problems.add("work_center_id", _("Required."))
    cycle = data.get("ideal_cycle_time_s")
    if cycle is not None and not (0 < cycle <= 86400):
        problems.add("ideal_cycle_time_s", _("A number of seconds above 0 and at most 86400."))
    if data.get("model") is not None and len(data["model"]) > 100:
        problems.add("model", _("At most %(n)d characters.", n=100))


def _check_unit(session: Session, record: Unit, data: dict[str, Any], problems: Problems, new: bool) -> None:
    decimals = data.get("decimals")
    if decimals is not None and not (0 <= decimals <= 6):
        problems.add("decimals", _("A whole number from 0 to 6."))


def _check_product(session: Session, record: Product, data: dict[str, Any], problems: Problems, new: bool) -> None:
    if _value(record, data, "unit") is None:
        problems.add("unit_id", _("Required."))
    if data.get("drawing_no") is not None and len(data["drawing_no"]) > 64:
        problems.add("drawing_no", _("At most %(n)d characters.", n=64))


# --- reasons ----------------------------------------------------------------------------------------------------


def _check_reason(session: Session, record: ReasonCode, data: dict[str, Any], problems: Problems, new: bool) -> None:
    kind = _value(record, data, "kind")
    if kind is None:
        problems.add("kind", _("Required."))
        return
    if not new and "kind" in data and data["kind"] != record.kind:
        problems.add("kind", _("The kind of a reason cannot change; create a new reason instead."))
        return
    icon = data.get("icon")
    if icon is not None and len(icon) > 16:
        problems.add("icon", _("At most %(n)d characters.", n=16))
    parent = data.get("parent")
    if parent is None:
        return
    if parent.kind != kind:
        problems.add("parent_id", _("The parent %(code)s is a reason of another kind.", code=parent.code))
        return
    if record.id is not None:
        chain = [parent]
        while chain[-1] is not None and chain[-1].id != record.id and len(chain) <= 100:
            chain.append(chain[-1].parent)
        if chain[-1] is not None:
            path = " → ".join([record.code, *(r.code for r in chain)])
            problems.add("parent_id", _("This parent would make a cycle: %(path)s.", path=path))


def reason_tree(session: Session, kind: ReasonKind, *, active_only: bool = False) -> list[tuple[ReasonCode, int]]:
    """The reasons of one kind in tree order, each with its depth (0 for a category)."""
    statement = sa.select(ReasonCode).where(ReasonCode.kind == kind)
    if active_only:
        statement = statement.where(ReasonCode.active)
    rows = session.scalars(statement.order_by(ReasonCode.sort_order, ReasonCode.code)).all()
    children: dict[int | None, list[ReasonCode]] = {}
    ids = {r.id for r in rows}
    for row in rows:
        children.setdefault(row.parent_id if row.parent_id in ids else None, []).append(row)
    ordered: list[tuple[ReasonCode, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for row in children.get(parent_id, []):
            ordered.append((row, depth))
            walk(row.id, depth + 1)

    walk(None, 0)
    return ordered


# --- calendars --------------------------------------------------------------------------------------------------


def _check_calendar(
    session: Session, record: ShiftCalendar, data: dict[str, Any], problems: Problems, new: bool
) -> None:
    shifts = data.get("shifts")
    if shifts is None:
        return
    rules: list[cal.ShiftRule | None] = []
    seen: dict[str, int] = {}
    for index, shift in enumerate(shifts):
        code = (shift.get("code") or "").strip()
        if not code:
            problems.add("shifts", _("Required."), index=index, subfield="code")
        elif not NO_SPACE.match(code) or len(code) > 16:
            problems.add("shifts", _("1 to %(n)d characters without spaces.", n=16), index=index, subfield="code")
        elif code in seen:
            problems.add(
                "shifts",
                _("Shift %(code)s appears twice in this calendar.", code=code),
                index=index,
                subfield="code",
            )
        seen.setdefault(code, index)
        if not (shift.get("name") or "").strip():
            problems.add("shifts", _("Required."), index=index, subfield="name")
        weekdays = shift.get("weekdays") or []
        if not weekdays:
            problems.add("shifts", _("Choose at least one weekday."), index=index, subfield="weekdays")
        elif any(not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays):
            problems.add("shifts", _("Weekdays are 1 (Monday) to 7 (Sunday)."), index=index, subfield="weekdays")
        start, end = shift.get("start_time"), shift.get("end_time")
        for key, value in (("start_time", start), ("end_time", end)):
            if value is None:
                problems.add("shifts", _("Required."), index=index, subfield=key)
        if start is None or end is None or not weekdays:
            rules.append(None)
            continue
        rule = cal.ShiftRule(
            code=code or f"#{index + 1}",
            weekdays=frozenset(d for d in weekdays if isinstance(d, int) and 1 <= d <= 7),
            start=start,
            end=end,
            breaks=tuple(shift.get("breaks") or ()),
        )
        for b, (break_start, break_end) in enumerate(rule.breaks):
            if rule.break_outside(b):
                problems.add(
                    "shifts",
                    _(
                        "The break %(start)s-%(end)s is not inside shift %(code)s (%(shift_start)s-%(shift_end)s).",
                        start=cal.format_time(break_start),
                        end=cal.format_time(break_end),
                        code=rule.code,
                        shift_start=cal.format_time(start),
                        shift_end=cal.format_time(end),
                    ),
                    index=index,
                    subfield="breaks",
                )
        if len(rule.breaks) > 1:
            spans = sorted(rule.break_offsets(b) for b in range(len(rule.breaks)))
            if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
                problems.add("shifts", _("Breaks overlap each other."), index=index, subfield="breaks")
        rules.append(rule)
    known = [(i, r) for i, r in enumerate(rules) if r is not None]
    for _first, j, overlap in cal.find_overlaps([r for _i, r in known]):
        problems.add(
            "shifts",
            _(
                "Shift %(second)s overlaps shift %(first)s on %(day)s from %(start)s to %(end)s.",
                second=overlap.second,
                first=overlap.first,
                day=weekday_label(overlap.weekday),
                start=cal.format_time(overlap.start),
                end=cal.format_time(overlap.end),
            ),
            index=known[j][0],
            subfield="start_time",
        )


def _apply_calendar(session: Session, record: ShiftCalendar, data: dict[str, Any]) -> set[str]:
    data = dict(data)
    shifts = data.pop("shifts", None)
    changed = _apply_plain(session, record, data)
    if shifts is not None and _shift_rows(shifts) != _shift_rows(shift_values(s) for s in record.shifts):
        record.shifts.clear()
        session.flush()  # the old rows go before new ones may reuse their codes
        for position, shift in enumerate(shifts):
            record.shifts.append(
                CalendarShift(
                    position=position,
                    code=shift["code"].strip(),
                    name=shift["name"].strip(),
                    name_en=(shift.get("name_en") or "").strip() or None,
                    weekdays=sorted(set(shift["weekdays"])),
                    start_time=shift["start_time"],
                    end_time=shift["end_time"],
                    breaks=[[cal.format_time(a), cal.format_time(b)] for a, b in shift.get("breaks") or ()],
                )
            )
        changed.add("shifts")
    if record.is_default and "is_default" in changed:  # one default calendar per factory
        for other in session.scalars(sa.select(ShiftCalendar).where(ShiftCalendar.is_default)):
            if other is not record:
                other.is_default = False
    return changed


def shift_values(shift: CalendarShift) -> dict[str, Any]:
    """A stored shift in the shape the services take."""
    return {
        "code": shift.code,
        "name": shift.name,
        "name_en": shift.name_en,
        "weekdays": list(shift.weekdays),
        "start_time": shift.start_time,
        "end_time": shift.end_time,
        "breaks": [(cal.parse_time(a), cal.parse_time(b)) for a, b in shift.breaks],
    }


def _shift_rows(shifts) -> list[tuple]:
    return [
        (
            (s.get("code") or "").strip(),
            (s.get("name") or "").strip(),
            (s.get("name_en") or "").strip() or None,
            tuple(sorted(set(s.get("weekdays") or []))),
            s.get("start_time"),
            s.get("end_time"),
            tuple(tuple(b) for b in s.get("breaks") or ()),
        )
        for s in shifts
    ]


def _check_exception(
    session: Session, record: CalendarException, data: dict[str, Any], problems: Problems, new: bool
) -> None:
    if _value(record, data, "calendar") is None:
        problems.add("calendar_id", _("Required."))
    for key in ("kind", "start_date", "end_date"):
        if _value(record, data, key) is None:
            problems.add(key, _("Required."))
    name = data.get("name")
    if (new and not name) or ("name" in data and not name):
        problems.add("name", _("Required."))
    start_date, end_date = _value(record, data, "start_date"), _value(record, data, "end_date")
    if start_date is None or end_date is None:
        return
    if end_date < start_date:
        problems.add("end_date", _("The end date is before the start date."))
        return
    if (end_date - start_date).days > 366:
        problems.add("end_date", _("An exception spans at most a year."))
        return
    span = cal.DatedException.from_dates(
        False, start_date, end_date, _value(record, data, "start_time"), _value(record, data, "end_time")
    )
    if span.end <= span.start:
        problems.add("end_time", _("The end is not after the start."))


# --- employees --------------------------------------------------------------------------------------------------


def _check_employee(session: Session, record: Employee, data: dict[str, Any], problems: Problems, new: bool) -> None:
    if "skills" in data:
        skills = data["skills"] or []
        if len(skills) > MAX_SKILLS:
            problems.add("skills", _("At most %(n)d skills.", n=MAX_SKILLS))
        elif any(not isinstance(s, str) or not s.strip() or len(s.strip()) > 50 for s in skills):
            problems.add("skills", _("Each skill is 1 to 50 characters."))
        else:
            data["skills"] = list(dict.fromkeys(s.strip() for s in skills))
    user = data.get("user")
    if user is not None and user != record.user:
        taken = session.scalar(sa.select(Employee).where(Employee.user_id == user.id))
        if taken is not None and taken is not record:
            problems.add(
                "user_id",
                _("The user %(u)s is already employee %(no)s.", u=user.username, no=taken.employee_no),
            )


def split_skills(text: str) -> list[str]:
    """Skills typed or imported as one text: separated by commas, semicolons or 、 (full-width too)."""
    return [s.strip() for s in re.split(r"[,;，；、\n]", text or "") if s.strip()]


def create_employee_login(
    session: Session, employee: Employee, *, username: str, pin: str, roles: set[Role] | None = None
) -> User:
    """Give an employee a shop-floor sign-in: a user without password, with roles (operator) and a tablet PIN."""
    if employee.user is not None:
        raise Conflict(
            _("Employee %(no)s already signs in as %(u)s.", no=employee.employee_no, u=employee.user.username),
            errors={"username": [_("Already linked.")]},
        )
    if problems := identity.pin_problems(pin):
        raise ValidationFailed(_("The PIN is not acceptable."), errors={"pin": problems})
    user = identity.create_user(session, username=username, display_name=employee.name, password=None)
    identity.set_roles(session, user, roles or {Role.OPERATOR})
    employee.user = user
    identity.set_pin(session, employee, pin)
    return user


# --- delete -----------------------------------------------------------------------------------------------------


def _users(session: Session, model: type, column, record) -> list[str]:
    label = model.employee_no if model is Employee else model.code
    return list(session.scalars(sa.select(label).where(column == record.id).order_by(label).limit(11)))


def usages(session: Session, record) -> list[tuple[str, list[str]]]:
    """What still refers to ``record``: (kind label, up to 11 codes) per kind."""
    checks: dict[type, list[tuple[type, Any]]] = {
        Workshop: [(WorkCenter, WorkCenter.workshop_id)],
        WorkCenter: [(Machine, Machine.work_center_id)],
        Unit: [(Product, Product.unit_id)],
        ProductFamily: [(Product, Product.family_id)],
        ShiftCalendar: [(WorkCenter, WorkCenter.calendar_id), (Machine, Machine.calendar_id)],
        ReasonCode: [(ReasonCode, ReasonCode.parent_id)],
    }
    found = []
    for model, column in checks.get(type(record), []):
        codes = _users(session, model, column, record)
        if codes:
            found.append((kind_label(model), codes))
    return found


def delete(session: Session, record) -> None:
    """Delete a record nothing uses; otherwise a 409 naming the users (deactivate such records instead)."""
    used = usages(session, record)
    if used:
        listing = "; ".join(
            f"{label}: {', '.join(codes[:10])}{' …' if len(codes) > 10 else ''}" for label, codes in used
        )
        raise Conflict(
            _(
                "%(record)s is still used (%(listing)s); change those first or deactivate it.",
                record=_name(record),
                listing=listing,
            ),
            errors={"used_by": [listing]},
        )
    try:
        with session.begin_nested():
            session.delete(record)
            session.flush()
    except IntegrityError as error:
        raise Conflict(
            _("%(record)s is still used by other records; deactivate it instead.", record=_name(record)),
            errors={"used_by": [_("records of the apps")]},
        ) from error


def _name(record) -> str:
    if isinstance(record, Employee):
        return f"{record.employee_no} {record.name}"
    if isinstance(record, CalendarException):
        return f"{record.name} {record.start_date.isoformat()}"
    return f"{record.code} {record.name}"


# --- lookups ----------------------------------------------------------------------------------------------------


def by_code(session: Session, model: type, code: str, **scope):
    """The current tenant's record of ``model`` with ``code`` (and e.g. ``kind``), or None."""
    column = model.employee_no if model is Employee else model.code
    conditions = [column == code, *(getattr(model, key) == value for key, value in scope.items())]
    return session.scalar(sa.select(model).where(*conditions))


def search(model: type, *, q: str | None = None, active: bool | None = None) -> sa.Select:
    """A select over one kind, filtered by text (code or names) and active flag, in code order."""
    statement = sa.select(model)
    code = model.employee_no if model is Employee else model.code
    if q:
        pattern = f"%{q.strip().lower()}%"
        names = [sa.func.lower(code).like(pattern), sa.func.lower(model.name).like(pattern)]
        if hasattr(model, "name_en"):
            names.append(sa.func.lower(model.name_en).like(pattern))
        statement = statement.where(sa.or_(*names))
    if active is not None:
        statement = statement.where(model.active == active)
    return statement.order_by(code, model.id)


CHECKS: dict[type, Callable[..., None]] = {
    Workshop: _check_nothing,
    WorkCenter: _check_nothing,
    Machine: _check_machine,
    Unit: _check_unit,
    ProductFamily: _check_nothing,
    Product: _check_product,
    ShiftCalendar: _check_calendar,
    CalendarException: _check_exception,
    ReasonCode: _check_reason,
    Employee: _check_employee,
}
APPLY: dict[type, Callable[..., set[str]]] = {ShiftCalendar: _apply_calendar}
