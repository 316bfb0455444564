"""Sign-in (password or employee number + PIN), sign-out, language switch, home, API docs page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from platform_core.db import db
from platform_core.identity import services
from platform_core.identity.models import Membership
from platform_core.tenants.models import Tenant, TenantStatus
from platform_core.web.redirects import local_path

bp = Blueprint("web", __name__)

DEVICE_TENANT_COOKIE = "mes_device_factory"


class PasswordLoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PinLoginForm(FlaskForm):
    factory = StringField(_l("Factory code"), validators=[DataRequired(), Length(max=32)])
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Regexp(r"^\d{1,16}$", message=_l("Digits only."))])


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    return local_path(target) or url_for("web.home")


def _start_session(user, tenant_id: int | None, employee_id: int | None = None) -> None:
    locale = session.get("locale")  # a language picked on the sign-in page carries over
    session.clear()
    session.regenerate()  # a new session id at sign-in: an id known before it is worthless after it
    login_user(user)
    session["tenant_id"] = tenant_id
    session["employee_id"] = employee_id
    if locale:
        session["locale"] = locale
        if not user.preferred_locale:
            user.preferred_locale = locale


def _first_tenant_id(user) -> int | None:
    statement = (
        sa.select(Membership.tenant_id)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user.id, Tenant.status == TenantStatus.ACTIVE)
        .order_by(Membership.tenant_id)
        .limit(1)
        .execution_options(skip_tenant_filter=True)  # sign-in looks across the user's factories
    )
    return db.session.scalar(statement)


@bp.route("/login", methods=["GET", "POST"])
def login():
    mode = request.values.get("mode", "pin" if request.cookies.get(DEVICE_TENANT_COOKIE) else "password")
    password_form = PasswordLoginForm(prefix="pw")
    pin_form = PinLoginForm(prefix="pin", factory=request.cookies.get(DEVICE_TENANT_COOKIE, ""))
    error, status = None, 200
    address = request.remote_addr or "unknown"
    if mode == "password" and password_form.validate_on_submit():
        try:
            user = services.authenticate_password(
                db.session, password_form.username.data, password_form.password.data, address
            )
        except services.SignInRefused as refused:
            error, status = refused.message, 429 if refused.throttled else 200
        else:
            tenant_id = _first_tenant_id(user)
            if tenant_id is None and not user.is_platform_operator:
                error = _("This account has no access to an active factory.")
            else:
                _start_session(user, tenant_id)
                target = "console.tenants" if user.is_platform_operator and tenant_id is None else "web.home"
                return redirect(_safe_next(request.args.get("next")) if target == "web.home" else url_for(target))
    elif mode == "pin" and pin_form.validate_on_submit():
        try:
            employee = services.authenticate_pin(
                db.session, pin_form.factory.data, pin_form.employee_no.data, pin_form.pin.data, address
            )
        except services.SignInRefused as refused:
            error, status = refused.message, 429 if refused.throttled else 200
        else:
            _start_session(employee.user, employee.tenant_id, employee.id)
            response = redirect(_safe_next(request.args.get("next")))
            response.set_cookie(
                DEVICE_TENANT_COOKIE,
                pin_form.factory.data.strip().upper(),
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
            return response
    html = render_template("login.html", mode=mode, password_form=password_form, pin_form=pin_form, error=error)
    return html, status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    session.regenerate()
    return redirect(url_for("web.login"))


@bp.post("/language")
def set_language():
    """Switch the interface language; remembered on the user when signed in."""
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        principal = g.get("principal")
        if principal is not None and principal.user is not None:
            principal.user.preferred_locale = locale
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/factory")
@login_required
def switch_factory():
    """Switch to another factory the user belongs to."""
    tenant_id = request.form.get("tenant_id", type=int)
    user = g.principal.user
    statement = (
        sa.select(Membership.tenant_id)
        .where(Membership.user_id == user.id, Membership.tenant_id == tenant_id)
        .execution_options(skip_tenant_filter=True)  # checks membership across the user's factories
    )
    if tenant_id is not None and db.session.scalar(statement.limit(1)) is not None:
        session["tenant_id"] = tenant_id
        session["employee_id"] = None
    return redirect(url_for("web.home"))


@bp.get("/")
def home():
    principal = g.get("principal")
    if principal is None:
        return redirect(url_for("web.login"))
    if principal.tenant is None and principal.is_platform_operator:
        return redirect(url_for("console.tenants"))
    return render_template("home.html")


@bp.get("/api/v1/docs")
def api_docs():
    """Interactive API documentation, with its assets served locally."""
    return render_template("api_docs.html")
