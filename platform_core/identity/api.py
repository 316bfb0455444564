"""Tenant-administration API: users and their roles, shop-floor PINs, API tokens; and ``/me``."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _

from platform_core.api import ApiBlueprint, Id, Schema, SelectPage, record_loader
from platform_core.db import db
from platform_core.errors import NotFound, ValidationFailed
from platform_core.identity import services
from platform_core.identity.auth import current_principal
from platform_core.identity.models import ApiToken, Employee, TokenKind, User
from platform_core.rbac import Role
from platform_core.registry import get_registry

blp = ApiBlueprint(
    "identity",
    __name__,
    url_prefix="/api/v1",
    description="Users, roles, PINs and API tokens",
    loaders={
        "user_id": lambda user_id: services.get_tenant_user(db.session, user_id),
        "token_id": record_loader(ApiToken, lambda: _("No such token.")),
    },
)

_locale = ma.validate.OneOf(["en", "zh_CN"])


class UserCreateSchema(Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9._-]{2,64}$"))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(max=256))
    email = ma.fields.Email(validate=ma.validate.Length(max=254))
    preferred_locale = ma.fields.String(validate=_locale)
    roles = ma.fields.List(ma.fields.Enum(Role, by_value=True), required=True, validate=ma.validate.Length(min=1))
    employee_no = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$"))
    pin = ma.fields.String(load_only=True, validate=ma.validate.Length(max=16))


class UserUpdateSchema(Schema):
    display_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    preferred_locale = ma.fields.String(allow_none=True, validate=_locale)
    roles = ma.fields.List(ma.fields.Enum(Role, by_value=True))


class UserSchema(Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    preferred_locale = ma.fields.String(allow_none=True)
    roles = ma.fields.Method("_roles")
    employee_no = ma.fields.Method("_employee_no")

    def _roles(self, user: User) -> list[str]:
        return sorted(services.roles_of(db.session, user.id))

    def _employee_no(self, user: User) -> str | None:
        return db.session.scalar(sa.select(Employee.employee_no).where(Employee.user_id == user.id))


class PinSchema(Schema):
    pin = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=16))


class TokenCreateSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    kind = ma.fields.Enum(TokenKind, by_value=True, required=True)
    scopes = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=64)), required=True)
    user_id = Id(metadata={"description": "For personal tokens; defaults to the caller"})
    expires_at = ma.fields.AwareDateTime(allow_none=True)


class TokenSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.Enum(TokenKind, by_value=True)
    user_id = ma.fields.Integer(allow_none=True)
    prefix = ma.fields.String()
    scopes = ma.fields.List(ma.fields.String())
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    secret = ma.fields.String(metadata={"description": "Shown once; store it now"})


class MeSchema(Schema):
    user = ma.fields.Nested(UserSchema, allow_none=True)
    tenant = ma.fields.Dict(allow_none=True)
    roles = ma.fields.List(ma.fields.String())
    permissions = ma.fields.List(ma.fields.String())
    via = ma.fields.String()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """Who the caller is, in which factory, with which roles and permissions."""
        principal = current_principal()
        if principal is None:
            from platform_core.errors import abort

            abort(401)
        tenant = principal.tenant
        return {
            "user": principal.user,
            "tenant": {"id": tenant.id, "code": tenant.code, "name": tenant.name} if tenant else None,
            "roles": sorted(principal.roles),
            "permissions": sorted(principal.permissions),
            "via": principal.via,
        }


def _apply_user_changes(user: User, data: dict) -> None:
    for field in ("display_name", "email", "preferred_locale"):
        if field in data:
            setattr(user, field, data[field])
    if "roles" in data:
        services.set_roles(db.session, user, data["roles"])


@blp.route("/admin/users")
class Users(MethodView):
    @blp.requires("admin.manage_users")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List the factory's users."""
        return services.tenant_users(db.session)

    @blp.requires("admin.manage_users")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user with roles, optionally an employee number and tablet PIN."""
        if "password" not in data and "employee_no" not in data:
            raise ValidationFailed(
                _("A user signs in with a password, or with an employee number and PIN."),
                errors={"password": [_("Give a password or an employee number with a PIN.")]},
            )
        if ("employee_no" in data) != ("pin" in data):
            raise ValidationFailed(_("An employee number and a PIN go together."), errors={"pin": [_("Required.")]})
        user = services.create_user(
            db.session,
            username=data["username"],
            display_name=data["display_name"],
            password=data.get("password"),
            email=data.get("email"),
            preferred_locale=data.get("preferred_locale"),
        )
        services.set_roles(db.session, user, data["roles"])
        if "employee_no" in data:
            services.create_employee(
                db.session, employee_no=data["employee_no"], name=user.display_name, user=user, pin=data["pin"]
            )
        return user


@blp.route("/admin/users/<int:user_id>")
class UserItem(MethodView):
    @blp.requires("admin.manage_users")
    @blp.etag
    @blp.response(200, UserSchema)
    def get(self, user):
        """Show a user of the factory."""
        return user

    @blp.requires("admin.manage_users")
    @blp.etag
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user):
        """Change a user's name, e-mail, language or roles (If-Match required; no roles removes the user)."""
        blp.check_etag(user, UserSchema)
        _apply_user_changes(user, data)
        return user


@blp.route("/admin/users/<int:user_id>/pin")
class UserPin(MethodView):
    @blp.requires("admin.manage_users")
    @blp.arguments(PinSchema)
    @blp.response(204)
    def post(self, data, user):
        """Set or reset the user's tablet PIN (also lifts a lockout)."""
        employee = db.session.scalar(sa.select(Employee).where(Employee.user_id == user.id))
        if employee is None:
            raise NotFound(_("This user has no employee number; give one first."))
        services.set_pin(db.session, employee, data["pin"])


@blp.route("/admin/tokens")
class Tokens(MethodView):
    @blp.requires("admin.manage_tokens")
    @blp.response(200, TokenSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List the factory's API tokens (never their secrets)."""
        return sa.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())

    @blp.requires("admin.manage_tokens")
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data):
        """Create a token; its secret is in this response only."""
        principal = current_principal()
        unknown = sorted(set(data["scopes"]) - set(get_registry().permissions))
        if unknown:
            raise ValidationFailed(_("Unknown permissions."), errors={"scopes": unknown})
        user = None
        if data["kind"] is TokenKind.PERSONAL:
            user = services.get_tenant_user(db.session, data.get("user_id") or principal.user.id)
            held = get_registry().permissions_for(services.roles_of(db.session, user.id))
            if beyond := sorted(set(data["scopes"]) - held):
                raise ValidationFailed(_("The user does not hold these permissions."), errors={"scopes": beyond})
        token, secret = services.create_token(
            db.session,
            name=data["name"],
            kind=data["kind"],
            scopes=data["scopes"],
            user=user,
            created_by=principal.user,
            expires_at=data.get("expires_at"),
        )
        token.secret = secret
        return token


@blp.route("/admin/tokens/<int:token_id>")
class TokenItem(MethodView):
    @blp.requires("admin.manage_tokens")
    @blp.response(200, TokenSchema)
    def get(self, token):
        """Show a token (never its secret)."""
        return token

    @blp.requires("admin.manage_tokens")
    @blp.response(200, TokenSchema)
    def delete(self, token):
        """Revoke a token; it stops working at once."""
        services.revoke_token(db.session, token)
        return token
