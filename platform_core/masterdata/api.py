"""Master-data API under ``/api/v1/masterdata``: CRUD for every kind, spreadsheet import/export, working time.

Every kind has the same five routes (list, create, get, patch with If-Match, delete) plus ``/import`` and
``/export``; calendar exceptions live under their calendar. Reading needs ``admin.view_master_data``, changing
``admin.manage_master_data``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from platform_core.api import MAX_ID, ApiBlueprint, Ref, Schema, SelectPage, record_loader
from platform_core.db import db
from platform_core.errors import NotFound, ValidationFailed
from platform_core.identity import services as identity
from platform_core.identity.models import Employee, User
from platform_core.masterdata import calendar as cal
from platform_core.masterdata import imports, services
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
from platform_core.rbac import Role

VIEW = "admin.view_master_data"
MANAGE = "admin.manage_master_data"
MAX_WINDOW = dt.timedelta(days=366)


blp = ApiBlueprint(
    "masterdata_api",
    __name__,
    url_prefix="/api/v1/masterdata",
    description="Master data: workshops, work centers, machines, products, units, calendars, reasons, employees",
    loaders={
        "workshop_id": record_loader(Workshop, lambda: _("No such workshop.")),
        "work_center_id": record_loader(WorkCenter, lambda: _("No such work center.")),
        "machine_id": record_loader(Machine, lambda: _("No such machine.")),
        "unit_id": record_loader(Unit, lambda: _("No such unit.")),
        "product_family_id": record_loader(ProductFamily, lambda: _("No such product family.")),
        "product_id": record_loader(Product, lambda: _("No such product.")),
        "calendar_id": record_loader(ShiftCalendar, lambda: _("No such calendar.")),
        "exception_id": record_loader(CalendarException, lambda: _("No such calendar exception.")),
        "reason_id": record_loader(ReasonCode, lambda: _("No such reason code.")),
        "employee_id": record_loader(Employee, lambda: _("No such employee.")),
    },
)


# --- fields -----------------------------------------------------------------------------------------------------


class ClockTime(ma.fields.Field):
    """A wall-clock time as ``"HH:MM"``; ``"24:00"`` is the midnight that ends a day."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "example": "08:00"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else cal.format_time(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return cal.parse_time(value) if isinstance(value, str) else cal.parse_time("")
        except ValueError:
            raise ma.ValidationError(_("Not a time of day; write it as 08:00.")) from None


class TenantUserRef(Ref):
    """A user id in a body: a user of the current factory, else unknown (422)."""

    def __init__(self, **kwargs):
        super().__init__(User, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ma.ValidationError(_("Not a valid id."))
        try:
            return identity.get_tenant_user(db.session, value)
        except NotFound:
            raise ma.ValidationError(_("No user with id %(id)s in this factory.", id=value)) from None


def _code_of(attribute: str) -> ma.fields.Function:
    def code(obj):
        target = getattr(obj, attribute)
        return None if target is None else target.code

    return ma.fields.Function(code, dump_only=True)


def _text(limit: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=limit), **kwargs)


def _optional_text(limit: int) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limit))


def _update_schema(create: type[Schema], name: str) -> type[Schema]:
    """The PATCH schema of a kind: its create schema with nothing required."""
    fields = {}
    for field_name, field in create._declared_fields.items():
        field = copy.copy(field)
        field.required = False
        field.load_default = ma.missing  # a PATCH changes only what it names
        fields[field_name] = field
    return Schema.from_dict(fields, name=name)


# --- schemas ----------------------------------------------------------------------------------------------------


class MasterDataNamedSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(dump_only=True)


class MasterDataNamedInSchema(Schema):
    code = _text(32, required=True)
    name = _text(200, required=True)
    name_en = _optional_text(200)
    active = ma.fields.Boolean()


class MasterDataWorkshopSchema(MasterDataNamedSchema):
    pass


class MasterDataWorkshopCreateSchema(MasterDataNamedInSchema):
    pass


class MasterDataWorkCenterSchema(MasterDataNamedSchema):
    workshop_id = ma.fields.Integer(allow_none=True)
    workshop_code = _code_of("workshop")
    calendar_id = ma.fields.Integer(allow_none=True)
    calendar_code = _code_of("calendar")


class MasterDataWorkCenterCreateSchema(MasterDataNamedInSchema):
    workshop_id = Ref(Workshop, attribute="workshop", allow_none=True)
    calendar_id = Ref(ShiftCalendar, attribute="calendar", allow_none=True)


class MasterDataMachineSchema(MasterDataNamedSchema):
    work_center_id = ma.fields.Integer()
    work_center_code = _code_of("work_center")
    model = ma.fields.String(allow_none=True)
    ideal_cycle_time_s = ma.fields.Float(allow_none=True, metadata={"description": "Seconds per piece"})
    calendar_id = ma.fields.Integer(allow_none=True, metadata={"description": "Own calendar; null: the work center's"})
    calendar_code = _code_of("calendar")


class MasterDataMachineCreateSchema(MasterDataNamedInSchema):
    work_center_id = Ref(WorkCenter, attribute="work_center", required=True)
    model = _optional_text(100)
    ideal_cycle_time_s = ma.fields.Float(
        allow_none=True, validate=ma.validate.Range(min=0, max=86400, min_inclusive=False)
    )
    calendar_id = Ref(ShiftCalendar, attribute="calendar", allow_none=True)


class MasterDataUnitSchema(MasterDataNamedSchema):
    decimals = ma.fields.Integer()


class MasterDataUnitCreateSchema(MasterDataNamedInSchema):
    code = _text(32, required=True, metadata={"example": "pcs"})
    decimals = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=6))


class MasterDataProductFamilySchema(MasterDataNamedSchema):
    pass


class MasterDataProductFamilyCreateSchema(MasterDataNamedInSchema):
    pass


class MasterDataProductSchema(MasterDataNamedSchema):
    unit_id = ma.fields.Integer()
    unit_code = _code_of("unit")
    family_id = ma.fields.Integer(allow_none=True)
    family_code = _code_of("family")
    drawing_no = ma.fields.String(allow_none=True)


class MasterDataProductCreateSchema(MasterDataNamedInSchema):
    code = _text(64, required=True)
    unit_id = Ref(Unit, attribute="unit", required=True)
    family_id = Ref(ProductFamily, attribute="family", allow_none=True)
    drawing_no = _optional_text(64)


class MasterDataBreakSchema(Schema):
    start = ClockTime(required=True)
    end = ClockTime(required=True)


class MasterDataShiftSchema(Schema):
    code = _text(16, required=True)
    name = _text(200, required=True)
    name_en = _optional_text(200)
    weekdays = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=7)),
        required=True,
        validate=ma.validate.Length(min=1, max=7),
        metadata={"description": "ISO weekdays: 1 = Monday ... 7 = Sunday"},
    )
    start_time = ClockTime(required=True)
    end_time = ClockTime(required=True, metadata={"description": "At or before the start: the next day"})
    breaks = ma.fields.List(
        ma.fields.Nested(MasterDataBreakSchema), load_default=list, validate=ma.validate.Length(max=10)
    )

    @ma.post_load
    def _break_pairs(self, data, **kwargs):
        data["breaks"] = [(b["start"], b["end"]) for b in data.get("breaks", [])]
        return data

    @ma.pre_dump
    def _stored_shift(self, shift, **kwargs):
        values = services.shift_values(shift)
        values["breaks"] = [{"start": a, "end": b} for a, b in values["breaks"]]
        return values


class MasterDataCalendarSchema(MasterDataNamedSchema):
    is_default = ma.fields.Boolean(metadata={"description": "Applies to machines whose work center has none"})
    shifts = ma.fields.List(ma.fields.Nested(MasterDataShiftSchema))


class MasterDataCalendarCreateSchema(MasterDataNamedInSchema):
    is_default = ma.fields.Boolean()
    shifts = ma.fields.List(
        ma.fields.Nested(MasterDataShiftSchema), load_default=list, validate=ma.validate.Length(max=50)
    )


class MasterDataExceptionSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    calendar_id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.Enum(ExceptionKind, by_value=True)
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    start_date = ma.fields.Date()
    end_date = ma.fields.Date()
    start_time = ClockTime(allow_none=True)
    end_time = ClockTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class MasterDataExceptionCreateSchema(Schema):
    kind = ma.fields.Enum(ExceptionKind, by_value=True, required=True)
    name = _text(200, required=True)
    name_en = _optional_text(200)
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(required=True, metadata={"description": "Included"})
    start_time = ClockTime(allow_none=True, metadata={"description": "On the first day; none: 00:00"})
    end_time = ClockTime(allow_none=True, metadata={"description": "On the last day; none or 00:00: its end"})


class MasterDataReasonSchema(MasterDataNamedSchema):
    kind = ma.fields.Enum(ReasonKind, by_value=True)
    parent_id = ma.fields.Integer(allow_none=True)
    parent_code = _code_of("parent")
    icon = ma.fields.String(allow_none=True)
    sort_order = ma.fields.Integer()


class MasterDataReasonCreateSchema(MasterDataNamedInSchema):
    kind = ma.fields.Enum(ReasonKind, by_value=True, required=True)
    parent_id = Ref(ReasonCode, attribute="parent", allow_none=True, metadata={"description": "A category"})
    icon = _optional_text(16)
    sort_order = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=-9999, max=9999))


class MasterDataEmployeeSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    employee_no = ma.fields.String()
    name = ma.fields.String()
    user_id = ma.fields.Integer(allow_none=True)
    username = ma.fields.Function(lambda e: e.user.username if e.user else None, dump_only=True)
    skills = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    has_pin = ma.fields.Function(lambda e: e.pin_hash is not None, dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class MasterDataEmployeeCreateSchema(Schema):
    employee_no = _text(32, required=True)
    name = _text(200, required=True)
    user_id = TenantUserRef(attribute="user", allow_none=True, metadata={"description": "The user signing in"})
    skills = ma.fields.List(_text(50), validate=ma.validate.Length(max=services.MAX_SKILLS))
    active = ma.fields.Boolean()


class MasterDataEmployeeLoginSchema(Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9._-]{2,64}$"))
    pin = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=16))
    roles = ma.fields.List(ma.fields.Enum(Role, by_value=True), validate=ma.validate.Length(min=1))


class MasterDataListArgsSchema(Schema):
    q = ma.fields.String(validate=ma.validate.Length(max=100), metadata={"description": "Part of code or name"})
    active = ma.fields.Boolean()


def _query_id() -> ma.fields.Integer:
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


class MasterDataMachineListArgsSchema(MasterDataListArgsSchema):
    work_center_id = _query_id()


class MasterDataProductListArgsSchema(MasterDataListArgsSchema):
    family_id = _query_id()


class MasterDataReasonListArgsSchema(MasterDataListArgsSchema):
    kind = ma.fields.Enum(ReasonKind, by_value=True)
    parent_id = _query_id()


class MasterDataExportArgsSchema(Schema):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(imports.FORMATS))


class MasterDataImportArgsSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX"})
    mode = ma.fields.String(
        load_default="insert",
        validate=ma.validate.OneOf(["insert", "upsert"]),
        metadata={"description": "insert: codes must be new; upsert: existing codes are updated"},
    )
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Check only; write nothing"})


class MasterDataImportResultSchema(Schema):
    kind = ma.fields.String()
    mode = ma.fields.String()
    dry_run = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()


class MasterDataIntervalsArgsSchema(Schema):
    start = ma.fields.AwareDateTime(required=True)
    end = ma.fields.AwareDateTime(required=True)


class MasterDataIntervalSchema(Schema):
    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime()


class MasterDataWorkingIntervalsSchema(Schema):
    machine_id = ma.fields.Integer()
    calendar_id = ma.fields.Integer(allow_none=True, metadata={"description": "None: available around the clock"})
    calendar_code = ma.fields.String(allow_none=True)
    timezone = ma.fields.String()
    working_seconds = ma.fields.Integer()
    intervals = ma.fields.List(ma.fields.Nested(MasterDataIntervalSchema))


# --- the five routes of every kind --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    slug: str  # URL segment and import/export kind
    model: type
    schema: type[Schema]
    create_schema: type[Schema]
    singular: str  # for summaries
    plural: str
    list_args: type[Schema] = MasterDataListArgsSchema
    filters: Callable[[sa.Select, dict], sa.Select] | None = None

    @property
    def id_name(self) -> str:
        return services.PATH_IDS[self.slug]


def _machine_filters(statement: sa.Select, args: dict) -> sa.Select:
    if "work_center_id" in args:
        statement = statement.where(Machine.work_center_id == args["work_center_id"])
    return statement


def _product_filters(statement: sa.Select, args: dict) -> sa.Select:
    if "family_id" in args:
        statement = statement.where(Product.family_id == args["family_id"])
    return statement


def _reason_filters(statement: sa.Select, args: dict) -> sa.Select:
    if "kind" in args:
        statement = statement.where(ReasonCode.kind == args["kind"])
    if "parent_id" in args:
        statement = statement.where(ReasonCode.parent_id == args["parent_id"])
    return statement.order_by(None).order_by(ReasonCode.kind, ReasonCode.sort_order, ReasonCode.code)


KINDS = [
    Kind("workshops", Workshop, MasterDataWorkshopSchema, MasterDataWorkshopCreateSchema, "workshop", "workshops"),
    Kind(
        "work-centers",
        WorkCenter,
        MasterDataWorkCenterSchema,
        MasterDataWorkCenterCreateSchema,
        "work center",
        "work centers",
    ),
    Kind(
        "machines",
        Machine,
        MasterDataMachineSchema,
        MasterDataMachineCreateSchema,
        "machine",
        "machines",
        MasterDataMachineListArgsSchema,
        _machine_filters,
    ),
    Kind("units", Unit, MasterDataUnitSchema, MasterDataUnitCreateSchema, "unit", "units"),
    Kind(
        "product-families",
        ProductFamily,
        MasterDataProductFamilySchema,
        MasterDataProductFamilyCreateSchema,
        "product family",
        "product families",
    ),
    Kind(
        "products",
        Product,
        MasterDataProductSchema,
        MasterDataProductCreateSchema,
        "product",
        "products",
        MasterDataProductListArgsSchema,
        _product_filters,
    ),
    Kind(
        "calendars",
        ShiftCalendar,
        MasterDataCalendarSchema,
        MasterDataCalendarCreateSchema,
        "shift calendar",
        "shift calendars",
    ),
    Kind(
        "reasons",
        ReasonCode,
        MasterDataReasonSchema,
        MasterDataReasonCreateSchema,
        "reason code",
        "reason codes",
        MasterDataReasonListArgsSchema,
        _reason_filters,
    ),
    Kind("employees", Employee, MasterDataEmployeeSchema, MasterDataEmployeeCreateSchema, "employee", "employees"),
]


def _documented(func, summary: str):
    func.__doc__ = summary
    return func


def register_kind(kind: Kind) -> None:
    """List, create, get, patch and delete routes for one kind."""
    update_schema = _update_schema(kind.create_schema, kind.create_schema.__name__.replace("Create", "Update"))
    record_name = kind.id_name.removesuffix("_id")

    def list_records(self, args):
        statement = services.search(kind.model, q=args.get("q"), active=args.get("active"))
        return kind.filters(statement, args) if kind.filters else statement

    def create_record(self, data):
        return services.create(db.session, kind.model, data)

    def get_record(self, **kwargs):
        return kwargs[record_name]

    def patch_record(self, data, **kwargs):
        record = kwargs[record_name]
        blp.check_etag(record, kind.schema)
        services.update(db.session, record, data)
        return record

    def delete_record(self, **kwargs):
        services.delete(db.session, kwargs[record_name])

    collection = type(
        f"{kind.model.__name__}Collection",
        (MethodView,),
        {
            "get": blp.requires(VIEW)(
                blp.arguments(kind.list_args, location="query")(
                    blp.response(200, kind.schema(many=True))(
                        blp.paginate(SelectPage)(_documented(list_records, f"List the factory's {kind.plural}."))
                    )
                )
            ),
            "post": blp.requires(MANAGE)(
                blp.arguments(kind.create_schema)(
                    blp.response(201, kind.schema)(_documented(create_record, f"Create a {kind.singular}."))
                )
            ),
        },
    )
    item = type(
        f"{kind.model.__name__}Item",
        (MethodView,),
        {
            "get": blp.requires(VIEW)(
                blp.etag(blp.response(200, kind.schema)(_documented(get_record, f"Show a {kind.singular}.")))
            ),
            # The body is read before the If-Match check, so a body naming another factory's record is a 422.
            "patch": blp.requires(MANAGE)(
                blp.arguments(update_schema)(
                    blp.etag(
                        blp.response(200, kind.schema)(
                            _documented(patch_record, f"Change a {kind.singular} (If-Match required).")
                        )
                    )
                )
            ),
            "delete": blp.requires(MANAGE)(
                blp.response(204)(
                    _documented(delete_record, f"Delete a {kind.singular} nothing uses (else 409: deactivate it).")
                )
            ),
        },
    )
    blp.route(f"/{kind.slug}", endpoint=f"{kind.slug}_collection")(collection)
    blp.route(f"/{kind.slug}/<int:{kind.id_name}>", endpoint=f"{kind.slug}_item")(item)


def register_files(slug: str, label: str) -> None:
    """``/<slug>/export`` and ``/<slug>/import`` for one kind."""

    def export(self, args):
        content = imports.export_file(db.session, slug, args["format"])
        filename = f"{slug}.{args['format']}"
        return Response(
            content,
            mimetype=imports.CONTENT_TYPES[args["format"]],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def import_(self, args):
        upload = args["file"]
        if not isinstance(upload, FileStorage):
            raise ValidationFailed(_("Upload a file."), errors={"multipart": {"file": [_("Not a file.")]}})
        result = imports.run_import(db.session, slug, upload.read(), mode=args["mode"], dry_run=args["dry_run"])
        if not result.ok:
            raise ValidationFailed(import_failure_message(result), errors=result.errors, more_errors=result.more_errors)
        return result.summary()

    columns = ", ".join(c.key for c in imports.SHEETS[slug].columns)
    files = type(
        f"{slug.title().replace('-', '')}Export",
        (MethodView,),
        {
            "get": blp.requires(VIEW)(
                blp.arguments(MasterDataExportArgsSchema, location="query")(
                    blp.doc(
                        responses={
                            "200": {
                                "description": f"Columns: {columns}",
                                "content": {t: {} for t in imports.CONTENT_TYPES.values()},
                            }
                        }
                    )(_documented(export, f"Export the factory's {label} as CSV (UTF-8 with BOM) or XLSX."))
                )
            )
        },
    )
    upload = type(
        f"{slug.title().replace('-', '')}Import",
        (MethodView,),
        {
            "post": blp.requires(MANAGE)(
                blp.arguments(MasterDataImportArgsSchema, location="multipart")(
                    blp.response(200, MasterDataImportResultSchema)(
                        _documented(
                            import_,
                            f"Import {label} from CSV or XLSX, all or nothing (422 lists errors by row and column)."
                            f" Columns: {columns}.",
                        )
                    )
                )
            )
        },
    )
    blp.route(f"/{slug}/export", endpoint=f"{slug}_export")(files)
    blp.route(f"/{slug}/import", endpoint=f"{slug}_import")(upload)


def import_failure_message(result: imports.ImportResult) -> str:
    count = len(result.errors) + result.more_errors
    return _("%(n)d problems found; nothing was imported.", n=count)


for _kind in KINDS:
    register_kind(_kind)
for _slug, _label in (
    ("workshops", "workshops"),
    ("work-centers", "work centers"),
    ("machines", "machines"),
    ("units", "units"),
    ("product-families", "product families"),
    ("products", "products"),
    ("calendars", "shift calendars (one row per shift)"),
    ("calendar-exceptions", "holidays, shutdowns and overtime"),
    ("reasons", "reason codes"),
    ("employees", "employees"),
):
    register_files(_slug, _label)


# --- calendar exceptions ----------------------------------------------------------------------------------------


def _exception_of(calendar: ShiftCalendar, exception: CalendarException) -> CalendarException:
    if exception.calendar_id != calendar.id:
        raise NotFound(_("No such calendar exception."))
    return exception


@blp.route("/calendars/<int:calendar_id>/exceptions")
class CalendarExceptions(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, MasterDataExceptionSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, calendar):
        """List a calendar's holidays, shutdowns and overtime, by date."""
        return (
            sa.select(CalendarException)
            .where(CalendarException.calendar_id == calendar.id)
            .order_by(CalendarException.start_date, CalendarException.id)
        )

    @blp.requires(MANAGE)
    @blp.arguments(MasterDataExceptionCreateSchema)
    @blp.response(201, MasterDataExceptionSchema)
    def post(self, data, calendar):
        """Add a holiday, shutdown or overtime to a calendar."""
        return services.create(db.session, CalendarException, {**data, "calendar": calendar})


@blp.route("/calendars/<int:calendar_id>/exceptions/<int:exception_id>")
class CalendarExceptionItem(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, MasterDataExceptionSchema)
    def get(self, calendar, exception):
        """Show a calendar exception."""
        return _exception_of(calendar, exception)

    @blp.requires(MANAGE)
    @blp.arguments(_update_schema(MasterDataExceptionCreateSchema, "MasterDataExceptionUpdateSchema"))
    @blp.etag
    @blp.response(200, MasterDataExceptionSchema)
    def patch(self, data, calendar, exception):
        """Change a calendar exception (If-Match required)."""
        exception = _exception_of(calendar, exception)
        blp.check_etag(exception, MasterDataExceptionSchema)
        services.update(db.session, exception, data)
        return exception

    @blp.requires(MANAGE)
    @blp.response(204)
    def delete(self, calendar, exception):
        """Remove a calendar exception."""
        services.delete(db.session, _exception_of(calendar, exception))


# --- working time -----------------------------------------------------------------------------------------------


@blp.route("/machines/<int:machine_id>/working-intervals")
class MachineWorkingIntervals(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(MasterDataIntervalsArgsSchema, location="query")
    @blp.response(200, MasterDataWorkingIntervalsSchema)
    def get(self, args, machine):
        """A machine's working intervals (UTC) between start and end, from its calendar (at most 366 days)."""
        start, end = args["start"], args["end"]
        if end <= start:
            raise ValidationFailed(_("The end is not after the start."), errors={"end": [_("After the start.")]})
        if end - start > MAX_WINDOW:
            raise ValidationFailed(_("Ask for at most 366 days."), errors={"end": [_("At most 366 days.")]})
        calendar = cal.calendar_of(db.session, machine)
        intervals = cal.working_intervals(db.session, machine, start, end)
        return {
            "machine_id": machine.id,
            "calendar_id": calendar.id if calendar else None,
            "calendar_code": calendar.code if calendar else None,
            "timezone": str(cal.tenant_zone(db.session, machine.tenant_id)),
            "working_seconds": int(sum((b - a).total_seconds() for a, b in intervals)),
            "intervals": [{"start": a, "end": b} for a, b in intervals],
        }


# --- employees' tablet sign-in -----------------------------------------------------------------------------------


@blp.route("/employees/<int:employee_id>/login")
class EmployeeLogin(MethodView):
    @blp.requires("admin.manage_users")
    @blp.arguments(MasterDataEmployeeLoginSchema)
    @blp.response(201, MasterDataEmployeeSchema)
    def post(self, data, employee):
        """Give an employee a tablet sign-in: a new user (operator unless roles say otherwise) and a PIN."""
        services.create_employee_login(
            db.session, employee, username=data["username"], pin=data["pin"], roles=set(data.get("roles") or ())
        )
        return employee


def init_api(api) -> None:
    api.register_blueprint(blp)
