"""Platform-operator console pages: factories, their apps, status and administrators."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from platform_core.db import db
from platform_core.errors import DomainError
from platform_core.identity.auth import platform_operator_required
from platform_core.registry import get_registry
from platform_core.tenants import services
from platform_core.tenants.models import Tenant, TenantStatus

bp = Blueprint("console", __name__, url_prefix="/platform")

TIMEZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "UTC"]


class AdminForm(FlaskForm):
    admin_username = StringField(_l("Administrator username"), validators=[DataRequired(), Length(min=2, max=64)])
    admin_name = StringField(_l("Administrator name"), validators=[Optional(), Length(max=200)])
    admin_password = PasswordField(_l("Administrator password"), validators=[Optional(), Length(max=256)])
    admin_email = EmailField(_l("Administrator e-mail"), validators=[Optional(), Length(max=254)])


class TenantForm(AdminForm):
    code = StringField(_l("Factory code"), validators=[DataRequired(), Length(min=2, max=32)])
    name = StringField(_l("Factory name"), validators=[DataRequired(), Length(max=200)])
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(tz) for tz in TIMEZONES])
    default_locale = SelectField(_l("Default language"))
    apps = SelectMultipleField(_l("Apps"), option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


def _app_choices() -> list[SelectChoice]:
    return [SelectChoice(m.name, str(m.label)) for m in get_registry()]


def _apply_errors(form: FlaskForm, error: DomainError, mapping: dict[str, str]) -> None:
    """Show a service's field errors next to the form's fields."""
    for field, messages in (error.errors or {}).items():
        target = getattr(form, mapping.get(field, field), None)
        if target is not None and isinstance(messages, list):
            target.errors = [*target.errors, *map(str, messages)]


@bp.route("/tenants", methods=["GET", "POST"])
@platform_operator_required
def tenants():
    form = TenantForm()
    form.default_locale.choices = [SelectChoice(code, label) for code, label in current_app.config["LANGUAGES"].items()]
    form.apps.choices = _app_choices()
    status = 200
    if form.validate_on_submit():
        try:
            tenant = services.create_tenant(
                db.session,
                code=form.code.data,
                name=form.name.data,
                timezone=form.timezone.data,
                default_locale=form.default_locale.data,
                apps=form.apps.data,
                admin={
                    "username": form.admin_username.data,
                    "display_name": form.admin_name.data or None,
                    "password": form.admin_password.data or None,
                    "email": form.admin_email.data or None,
                },
            )
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error, {"username": "admin_username", "password": "admin_password"})
            flash(error.message, "error")
            status = 422
        else:
            flash(_("Factory %(code)s created.", code=tenant.code), "success")
            return redirect(url_for("console.tenant", tenant_id=tenant.id))
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(sa.select(Tenant).order_by(Tenant.code)).all()
    return render_template("console/tenants.html", tenants=rows, form=form), status


@bp.route("/tenants/<int:tenant_id>", methods=["GET", "POST"])
@platform_operator_required
def tenant(tenant_id: int):
    tenant = services.get_tenant(db.session, tenant_id)
    form = AdminForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.add_admin(
                db.session,
                tenant,
                username=form.admin_username.data,
                display_name=form.admin_name.data or None,
                password=form.admin_password.data or None,
                email=form.admin_email.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error, {"username": "admin_username", "password": "admin_password"})
            flash(error.message, "error")
            status = 422
        else:
            flash(_("Administrator added."), "success")
            return redirect(url_for("console.tenant", tenant_id=tenant.id))
    elif request.method == "POST":
        status = 422
    admins = services.tenant_admins(db.session, tenant)
    html = render_template("console/tenant.html", tenant=tenant, admins=admins, form=form, apps=list(get_registry()))
    return html, status


@bp.post("/tenants/<int:tenant_id>/apps/<string(maxlength=32):app_name>")
@platform_operator_required
def toggle_app(tenant_id: int, app_name: str):
    tenant = services.get_tenant(db.session, tenant_id)
    enable = request.form.get("enabled") == "1"
    try:
        services.set_app_enabled(db.session, tenant, app_name, enable)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("App enabled.") if enable else _("App disabled."), "success")
    return redirect(url_for("console.tenant", tenant_id=tenant_id))


@bp.post("/tenants/<int:tenant_id>/status")
@platform_operator_required
def set_status(tenant_id: int):
    tenant = services.get_tenant(db.session, tenant_id)
    suspend = request.form.get("status") == TenantStatus.SUSPENDED.value
    services.set_status(db.session, tenant, TenantStatus.SUSPENDED if suspend else TenantStatus.ACTIVE)
    flash(_("Factory suspended.") if suspend else _("Factory reactivated."), "success")
    return redirect(url_for("console.tenant", tenant_id=tenant_id))
