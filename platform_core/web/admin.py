"""Tenant-administrator pages: users and roles, tablet PINs, API tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from platform_core.db import db
from platform_core.errors import DomainError, abort
from platform_core.identity import services
from platform_core.identity.auth import permission_required
from platform_core.identity.models import ApiToken, Employee, TokenKind
from platform_core.rbac import ROLE_LABELS, Role
from platform_core.registry import get_registry
from platform_core.web.console import _apply_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, str(ROLE_LABELS[role])) for role in Role]


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Regexp(r"^[A-Za-z0-9._-]{2,64}$")])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    employee_no = StringField(_l("Employee number"), validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{1,32}$")])
    pin = PasswordField(_l("Tablet PIN"), validators=[Optional(), Regexp(r"^\d{1,16}$")])
    roles = RolesField(_l("Roles"), validators=[DataRequired()])


class RolesForm(FlaskForm):
    roles = RolesField(_l("Roles"))


class PinForm(FlaskForm):
    pin = PasswordField(_l("New PIN"), validators=[DataRequired(), Regexp(r"^\d{1,16}$")])


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("machine", _l("Machine / gateway")), SelectChoice("personal", _l("Personal"))],
    )
    scopes = RolesField(_l("Permissions"), validators=[DataRequired()])


@bp.route("/users", methods=["GET", "POST"])
@permission_required("admin.manage_users")
def users():
    form = UserForm()
    form.roles.choices = _role_choices()
    status = 200
    if form.validate_on_submit() and not form.password.data and not (form.employee_no.data and form.pin.data):
        form.password.errors = [_("Give a password or an employee number with a PIN.")]
        status = 422
    elif form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                username=form.username.data,
                display_name=form.display_name.data,
                password=form.password.data or None,
                email=form.email.data or None,
            )
            services.set_roles(db.session, user, [Role(r) for r in form.roles.data])
            if form.employee_no.data:
                services.create_employee(
                    db.session,
                    employee_no=form.employee_no.data,
                    name=user.display_name,
                    user=user,
                    pin=form.pin.data or None,
                )
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error, {})
            flash(error.message, "error")
            status = 422
        else:
            flash(_("User %(u)s created.", u=user.username), "success")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(services.tenant_users(db.session)).all()
    roles = {user.id: sorted(services.roles_of(db.session, user.id)) for user in rows}
    employees = {e.user_id: e for e in db.session.scalars(sa.select(Employee))}
    html = render_template("admin/users.html", users=rows, roles=roles, employees=employees, form=form)
    return html, status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.manage_users")
def user(user_id: int):
    user = services.get_tenant_user(db.session, user_id)
    roles_form = RolesForm(prefix="roles")
    roles_form.roles.choices = _role_choices()
    pin_form = PinForm(prefix="pin")
    employee = db.session.scalar(sa.select(Employee).where(Employee.user_id == user.id))
    status = 200
    if request.method == "GET":
        roles_form.roles.data = sorted(services.roles_of(db.session, user.id))
    elif "roles-submit" in request.form and roles_form.validate_on_submit():
        services.set_roles(db.session, user, [Role(r) for r in roles_form.roles.data])
        flash(_("Roles saved."), "success")
        return redirect(url_for("admin.users"))
    elif "pin-submit" in request.form and pin_form.validate_on_submit() and employee is not None:
        try:
            services.set_pin(db.session, employee, pin_form.pin.data)
        except DomainError as error:
            db.session.rollback()
            _apply_errors(pin_form, error, {})
            status = 422
        else:
            flash(_("PIN reset."), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    else:
        status = 422
    html = render_template("admin/user.html", user=user, employee=employee, roles_form=roles_form, pin_form=pin_form)
    return html, status


@bp.route("/tokens", methods=["GET", "POST"])
@permission_required("admin.manage_tokens")
def tokens():
    form = TokenForm()
    permissions = sorted(get_registry().permissions.items())
    form.scopes.choices = [SelectChoice(name, f"{name} — {p.label}") for name, p in permissions]
    created_secret, status = None, 200
    if form.validate_on_submit():
        kind = TokenKind(form.kind.data)
        user = g.principal.user if kind is TokenKind.PERSONAL else None
        held = g.principal.permissions
        if kind is TokenKind.PERSONAL and (beyond := set(form.scopes.data) - held):
            form.scopes.errors = [_("You do not hold: %(p)s", p=", ".join(sorted(beyond)))]
            status = 422
        else:
            _token, created_secret = services.create_token(
                db.session,
                name=form.name.data,
                kind=kind,
                scopes=form.scopes.data,
                user=user,
                created_by=g.principal.user,
            )
            flash(_("Token created. Copy the secret now: it is shown only once."), "success")
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.created_at.desc())).all()
    return render_template("admin/tokens.html", tokens=rows, form=form, created_secret=created_secret), status


@bp.post("/tokens/<int:token_id>/revoke")
@permission_required("admin.manage_tokens")
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    services.revoke_token(db.session, token)
    flash(_("Token revoked."), "success")
    return redirect(url_for("admin.tokens"))
