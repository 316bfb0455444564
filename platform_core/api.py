"""REST API conventions on flask-smorest: apps import ``ApiBlueprint``, ``Schema``, fields and pagination from here.

* every error has the product's one shape (see :mod:`platform_core.errors`);
* path ids are bounded 63-bit integers, so a huge id is a 404 and never reaches the database;
* lists are paginated with :class:`SelectPage`, which pages an SQLAlchemy ``select`` in the database;
* ``Ref`` turns an id in a request body into a record *of the current tenant*, or a 422 naming the field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_smorest.pagination import PaginationMetadataSchema
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

from platform_core import errors
from platform_core.db import db
from platform_core.errors import NotFound

MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to 1..2^63-1: larger values don't match the route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ErrorSchema(ma.Schema):
    """The one error shape (documentation only). An error may add members of its own (``available``, ``limit``...)."""

    class Meta:
        unknown = ma.INCLUDE  # documented as open: additionalProperties allowed

    code = ma.fields.String(metadata={"description": "Machine-readable error code, e.g. not_found"})
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    message = ma.fields.String(metadata={"description": "What went wrong, for people"})
    errors = ma.fields.Raw(
        metadata={"description": "What is wrong where: messages by location then field, or a list of row problems"}
    )
    current_state = ma.fields.String(
        metadata={"description": "On a 409 for a state change: the record's state now (e.g. `paused`)"}
    )
    more_errors = ma.fields.Integer(metadata={"description": "On an import: problems found beyond those listed"})


class Api(flask_smorest.Api):
    """flask-smorest with the product's error shape and bounded id converter."""

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["int"] = BoundedIntConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(BoundedIntConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID})
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
        self.spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "mes_session"})
        self.spec.options["security"] = [{"bearer": []}, {"session": []}]

    def _register_error_handlers(self):
        errors.init_app(self._app)

    def _register_pagination_header(self):
        # X-Pagination carries JSON text: OpenAPI 3 describes such a header by its content, not by a schema
        # (which would claim the header value itself is an object).
        header = {
            "description": "Pagination metadata (JSON)",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)


class MultipartParser(FlaskParser):
    """webargs with a ``multipart`` location: the form fields and the files of one upload, read together."""

    __location_map__ = dict(FlaskParser.__location_map__, multipart="load_multipart")

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


def record_loader(model: type, not_found: Callable[[], str]) -> Callable[[int], Any]:
    """A path loader for ``ApiBlueprint(loaders=...)``: the current tenant's record, else ``NotFound``."""

    def load(record_id: int):
        record = db.session.get(model, record_id)
        if record is None:
            raise NotFound(not_found())
        return record

    return load


class ApiBlueprint(flask_smorest.Blueprint):
    """One per app; views are ``MethodView`` classes with one-line docstrings (the OpenAPI summary).

    ``loaders`` maps a path parameter (``user_id``) to a function loading the current tenant's record or raising
    ``NotFound``; views guarded by :meth:`requires` then receive the record (``user``) instead of the id, and an
    id of another tenant is a 404 before the body is even parsed.
    """

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 200}
    ARGUMENTS_PARSER = MultipartParser()  # uploads: @blp.arguments(Schema, location="multipart")
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def __init__(self, *args, loaders: dict[str, Callable[[int], Any]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loaders = loaders or {}

    def requires(self, permission: str):
        """Refuse callers without ``permission`` (401/403), then load path records (404), before anything else.

        Put it above the other decorators so that both happen before the body is parsed. Documented as
        ``x-permission`` in the OpenAPI document.
        """

        def decorator(func):
            from platform_core.identity.auth import require_permission

            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                require_permission(permission)
                for name, loader in self.loaders.items():
                    if name in kwargs:
                        kwargs[name.removesuffix("_id")] = loader(kwargs.pop(name))
                return func(*args, **kwargs)

            wrapper.required_permission = permission
            return self.doc(**{"x-permission": permission})(wrapper)

        return decorator


ListPage = flask_smorest.Page  # pages a list already in memory (small, bounded collections)


# Control characters (other than tab and line breaks) are never meant in typed text; stored, they break exports
# (spreadsheets refuse them) and confuse screens.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Schema(ma.Schema):
    """Base schema: unknown fields are refused, so a typo in a field name is a 422, not silently ignored; text
    with control characters is refused field by field."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _refuse_control_characters(self, data, **_kwargs):
        if isinstance(data, dict):
            bad = [key for key, value in data.items() if isinstance(value, str) and CONTROL_CHARACTERS.search(value)]
            if bad:
                raise ma.ValidationError({key: [_("Control characters are not allowed here.")] for key in bad})
        return data


class Id(ma.fields.Integer):
    """A database id: a strict, positive 63-bit integer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Ref(ma.fields.Integer):
    """An id in a request body, loaded as the current tenant's record; another tenant's id reads as unknown.

    The range is checked here, before loading (validators would see the loaded record, not the number).
    """

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("strict", True)
        kwargs.setdefault("metadata", {"description": f"id of a {model.__name__} of the caller's factory"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        record_id = super()._deserialize(value, attr, data, **kwargs)
        if not 1 <= record_id <= MAX_ID:
            raise ma.ValidationError(_("Not a valid id."))
        record = db.session.get(self.model, record_id)
        if record is None:
            raise ma.ValidationError(_("No %(kind)s with id %(id)s.", kind=self.model.__name__, id=record_id))
        return record

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else getattr(value, "id", value)


class SelectPage(flask_smorest.Page):
    """Pages an SQLAlchemy ``select`` with LIMIT/OFFSET and a COUNT, both in the database."""

    @property
    def items(self):
        params = self.page_params
        offset = min(params.first_item, MAX_ID)  # a huge page number is an empty page, not an overflow
        statement = self.collection.limit(params.page_size).offset(offset)
        return db.session.scalars(statement).all()

    @property
    def item_count(self):
        counted = self.collection.order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(counted))


class AppInfoSchema(Schema):
    name = ma.fields.String()
    label = ma.fields.String()
    description = ma.fields.String()
    permissions = ma.fields.List(ma.fields.String(), metadata={"description": "The caller's permissions in this app"})


def app_info(app_name: str) -> dict:
    """An app's identity and the caller's permissions in it (each app's ``GET /api/v1/<app>/``)."""
    from platform_core.identity.auth import current_principal
    from platform_core.registry import get_registry

    manifest = get_registry().get(app_name)
    held = current_principal().permissions
    return {
        "name": manifest.name,
        "label": str(manifest.label),
        "description": str(manifest.description),
        "permissions": sorted(p for p in held if p.startswith(f"{app_name}.")),
    }
