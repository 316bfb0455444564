"""Platform-operator API: tenants (factories), their apps, status and administrators."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView

from platform_core.api import ApiBlueprint, ListPage, Schema, SelectPage
from platform_core.db import db
from platform_core.identity.auth import platform_operator_required
from platform_core.tenants import services
from platform_core.tenants.models import Tenant, TenantStatus

blp = ApiBlueprint("platform", __name__, url_prefix="/api/v1/platform", description="Platform operator console")


class AdminInSchema(Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=64))
    display_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(validate=ma.validate.Length(max=256), load_only=True)
    email = ma.fields.Email(validate=ma.validate.Length(max=254))


class TenantCreateSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=32))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    timezone = ma.fields.String(load_default="Asia/Shanghai", validate=ma.validate.Length(max=64))
    default_locale = ma.fields.String(load_default="zh_CN", validate=ma.validate.Length(max=16))
    apps = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=32)), load_default=list)
    admin = ma.fields.Nested(AdminInSchema, required=True)


class TenantUpdateSchema(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    timezone = ma.fields.String(validate=ma.validate.Length(max=64))
    default_locale = ma.fields.String(validate=ma.validate.Length(max=16))


class TenantSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    timezone = ma.fields.String()
    default_locale = ma.fields.String()
    status = ma.fields.Enum(TenantStatus, by_value=True)
    apps = ma.fields.Method("_apps")
    created_at = ma.fields.AwareDateTime()

    def _apps(self, tenant: Tenant) -> list[str]:
        return sorted(tenant.enabled_apps)


class UserBriefSchema(Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    email = ma.fields.String()


@blp.route("/tenants")
class Tenants(MethodView):
    decorators = [platform_operator_required]

    @blp.response(200, TenantSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List factories."""
        return sa.select(Tenant).order_by(Tenant.code)

    @blp.arguments(TenantCreateSchema)
    @blp.response(201, TenantSchema)
    def post(self, data):
        """Onboard a factory with its apps and first administrator."""
        return services.create_tenant(db.session, **data)


@blp.route("/tenants/<int:tenant_id>")
class TenantItem(MethodView):
    decorators = [platform_operator_required]

    @blp.etag
    @blp.response(200, TenantSchema)
    def get(self, tenant_id):
        """Show a factory."""
        return services.get_tenant(db.session, tenant_id)

    @blp.etag
    @blp.arguments(TenantUpdateSchema)
    @blp.response(200, TenantSchema)
    def patch(self, data, tenant_id):
        """Change a factory's name, time zone or default language (If-Match required)."""
        tenant = services.get_tenant(db.session, tenant_id)
        blp.check_etag(tenant, TenantSchema)
        return services.update_tenant(db.session, tenant, **data)


@blp.route("/tenants/<int:tenant_id>/apps/<string(maxlength=32):app_name>")
class TenantAppItem(MethodView):
    decorators = [platform_operator_required]

    @blp.response(200, TenantSchema)
    def put(self, tenant_id, app_name):
        """Enable an app for a factory."""
        tenant = services.get_tenant(db.session, tenant_id)
        services.set_app_enabled(db.session, tenant, app_name, True)
        return tenant

    @blp.response(200, TenantSchema)
    def delete(self, tenant_id, app_name):
        """Disable an app for a factory (its data is kept)."""
        tenant = services.get_tenant(db.session, tenant_id)
        services.set_app_enabled(db.session, tenant, app_name, False)
        return tenant


@blp.route("/tenants/<int:tenant_id>/suspend")
class TenantSuspend(MethodView):
    decorators = [platform_operator_required]

    @blp.response(200, TenantSchema)
    def post(self, tenant_id):
        """Suspend a factory: its sessions and tokens stop working; nothing is deleted."""
        tenant = services.get_tenant(db.session, tenant_id)
        services.set_status(db.session, tenant, TenantStatus.SUSPENDED)
        return tenant


@blp.route("/tenants/<int:tenant_id>/reactivate")
class TenantReactivate(MethodView):
    decorators = [platform_operator_required]

    @blp.response(200, TenantSchema)
    def post(self, tenant_id):
        """Reactivate a suspended factory."""
        tenant = services.get_tenant(db.session, tenant_id)
        services.set_status(db.session, tenant, TenantStatus.ACTIVE)
        return tenant


@blp.route("/tenants/<int:tenant_id>/admins")
class TenantAdmins(MethodView):
    decorators = [platform_operator_required]

    @blp.response(200, UserBriefSchema(many=True))
    @blp.paginate(ListPage)
    def get(self, tenant_id):
        """List a factory's administrators."""
        return services.tenant_admins(db.session, services.get_tenant(db.session, tenant_id))

    @blp.arguments(AdminInSchema)
    @blp.response(201, UserBriefSchema)
    def post(self, data, tenant_id):
        """Make a user (new or existing) an administrator of a factory."""
        return services.add_admin(db.session, services.get_tenant(db.session, tenant_id), **data)
