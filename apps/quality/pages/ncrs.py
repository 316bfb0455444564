"""NCR pages: the list, raising one (from a failed inspection or by hand), and the NCR's page with its workflow,
8D-lite actions, lot holds, photos and history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from apps.quality import attachments, holds, labels, ncrs, production
from apps.quality.common import acting_account
from apps.quality.models import (
    ActionStep,
    Disposition,
    Inspection,
    NcrAction,
    Nonconformance,
)
from apps.quality.pages.common import DISPOSITION, INSPECT, VIEW, acting_name, bp, flat_errors, load, number, text
from platform_core.audit import AuditEntry
from platform_core.db import db
from platform_core.errors import DomainError, ValidationFailed
from platform_core.identity import services as identity
from platform_core.identity.auth import permission_required
from platform_core.masterdata.models import Product, ReasonCode, ReasonKind


def _defect_reasons() -> list[ReasonCode]:
    statement = sa.select(ReasonCode).where(ReasonCode.kind == ReasonKind.SCRAP, ReasonCode.active)
    return list(db.session.scalars(statement.order_by(ReasonCode.sort_order, ReasonCode.code)))


@bp.get("/ncrs")
@permission_required(VIEW)
def ncr_list():
    show = request.args.get("show", "active")
    statement = sa.select(Nonconformance).order_by(Nonconformance.raised_at.desc(), Nonconformance.id.desc()).limit(200)
    if show == "active":
        statement = statement.where(Nonconformance.status.not_in(ncrs.FINISHED))
    return render_template("quality/ncrs.html", ncrs=db.session.scalars(statement).all(), show=show)


@bp.route("/ncrs/new", methods=["GET", "POST"])
@permission_required(INSPECT)
def new_ncr():
    inspection = db.session.get(Inspection, request.values.get("inspection", type=int) or 0)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        quantity = number("quantity", errors, integer=True)
        due = _date(text("due_date", 10), errors, "due_date")
        if not errors:
            try:
                ncr = ncrs.raise_ncr(
                    db.session,
                    by=acting_name(),
                    title=text("title", 200),
                    description=text("description", 5000),
                    product=db.session.get(Product, request.form.get("product", type=int) or 0),
                    quantity=quantity,
                    defect_codes=request.form.getlist("defect_codes") or None,
                    lot_code=None if inspection else text("lot", 64),
                    inspection=inspection,
                    due_date=due,
                    hold_lot=request.form.get("hold_lot") == "1",
                    actor=acting_account(),
                )
            except ValidationFailed as exc:
                errors = flat_errors(exc)
            else:
                flash(_("NCR %(number)s raised.", number=ncr.number), "success")
                return redirect(url_for("quality.ncr_page", ncr_id=ncr.id))
    products = db.session.scalars(sa.select(Product).where(Product.active).order_by(Product.code)).all()
    return (
        render_template(
            "quality/ncr_form.html",
            inspection=inspection,
            products=products,
            reasons=_defect_reasons(),
            errors=errors,
            form=request.form,
        ),
        422 if errors else 200,
    )


def _date(value: str | None, errors: dict, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.setdefault(field, []).append(_("Not a date."))
        return None


@bp.get("/ncrs/<int:ncr_id>")
@permission_required(VIEW)
def ncr_page(ncr_id: int):
    return _render_ncr(load(Nonconformance, ncr_id))


def _render_ncr(ncr: Nonconformance, *, hold_errors: dict[str, list[str]] | None = None, status: int = 200):
    history = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.entity == "quality_ncrs", AuditEntry.entity_id == str(ncr.id))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return render_template(
        "quality/ncr.html",
        ncr=ncr,
        history=history,
        photos=attachments.list_for(db.session, ncr=ncr),
        reasons={r.code: r for r in _defect_reasons()},
        members=db.session.scalars(identity.tenant_users(db.session)).all(),
        dispositions=list(Disposition),
        steps=list(ActionStep),
        missing_steps=", ".join(labels.label(labels.ACTION_STEP, step) for step in ncrs.missing_steps(ncr)),
        hold_errors=hold_errors or {},
        form=request.form,
    ), status


def _back(ncr: Nonconformance):
    return redirect(url_for("quality.ncr_page", ncr_id=ncr.id))


def _apply(ncr: Nonconformance, action, success: str):
    """Run a workflow step; refusals (wrong state, missing fields) come back as a message on the NCR's page."""
    try:
        action()
    except DomainError as exc:
        details = flat_errors(exc) if isinstance(exc, ValidationFailed) else {}
        flash(" ".join([exc.message, *(m for ms in details.values() for m in ms)]), "error")
        db.session.rollback()
        return _back(ncr)
    flash(success, "success")
    return _back(ncr)


@bp.post("/ncrs/<int:ncr_id>/propose")
@permission_required(INSPECT)
def ncr_propose(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    choice = request.form.get("disposition")
    if choice not in {d.value for d in Disposition}:
        flash(_("Choose a disposition."), "error")
        return _back(ncr)
    return _apply(
        ncr,
        lambda: ncrs.propose(
            db.session,
            ncr,
            disposition=Disposition(choice),
            note=text("note"),
            by=acting_name(),
            actor=acting_account(),
        ),
        _("Disposition proposed."),
    )


@bp.post("/ncrs/<int:ncr_id>/approve")
@permission_required(DISPOSITION)
def ncr_approve(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    return _apply(
        ncr,
        lambda: ncrs.approve(db.session, ncr, by=acting_name(), actor=acting_account(), note=text("note")),
        _("Disposition approved."),
    )


@bp.post("/ncrs/<int:ncr_id>/reject")
@permission_required(DISPOSITION)
def ncr_reject(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    return _apply(
        ncr, lambda: ncrs.reject(db.session, ncr, by=acting_name(), note=text("note")), _("Proposal sent back.")
    )


@bp.post("/ncrs/<int:ncr_id>/close")
@permission_required(DISPOSITION)
def ncr_close(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    return _apply(ncr, lambda: ncrs.close(db.session, ncr, by=acting_name(), actor=acting_account()), _("NCR closed."))


@bp.post("/ncrs/<int:ncr_id>/cancel")
@permission_required(DISPOSITION)
def ncr_cancel(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    return _apply(
        ncr,
        lambda: ncrs.cancel(db.session, ncr, by=acting_name(), actor=acting_account(), note=text("note")),
        _("NCR cancelled."),
    )


@bp.post("/ncrs/<int:ncr_id>/hold")
@permission_required(INSPECT)
def ncr_hold(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    code = production.clean_lot(text("lot", 64)) or (ncr.lot.code if ncr.lot else None)
    if code is None:
        flash(_("Name the lot to hold."), "error")
        return _back(ncr)

    try:
        lot = ncrs.lot_to_hold(db.session, code)
    except ValidationFailed as exc:  # a mistyped code: shown at the field, with what was typed kept
        return _render_ncr(ncr, hold_errors=flat_errors(exc), status=422)
    return _apply(
        ncr,
        lambda: ncrs.hold_lot(
            db.session, ncr, lot, by=acting_name(), actor=acting_account(), reason=text("reason", 300)
        ),
        _("Lot %(lot)s is on hold.", lot=code),
    )


@bp.post("/ncrs/<int:ncr_id>/release")
@permission_required(DISPOSITION)
def ncr_release(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    code = text("lot", 64)
    active = [h for h in ncr.holds if h.active and (code is None or h.lot.code == code)]
    if not active:
        flash(_("This NCR holds no such lot."), "error")
        return _back(ncr)

    def release():
        for hold in active:
            holds.release(db.session, hold, by=acting_name(), actor=acting_account(), note=text("note", 500))

    return _apply(ncr, release, _("Lot %(lot)s released.", lot=", ".join(h.lot.code for h in active)))


@bp.post("/ncrs/<int:ncr_id>/actions")
@permission_required(INSPECT)
def ncr_add_action(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    errors: dict[str, list[str]] = {}
    step = request.form.get("step")
    description = text("description", 1000)
    due = _date(text("due_date", 10), errors, "due_date")
    owner = None
    if request.form.get("owner", type=int):
        owner = next(
            (
                u
                for u in db.session.scalars(identity.tenant_users(db.session))
                if u.id == request.form.get("owner", type=int)
            ),
            None,
        )
    if step not in {s.value for s in ActionStep} or not description or errors:
        flash(_("Choose the step and describe the action."), "error")
        return _back(ncr)
    return _apply(
        ncr,
        lambda: ncrs.add_action(
            db.session, ncr, step=ActionStep(step), description=description, owner=owner, due_date=due
        ),
        _("Action added."),
    )


@bp.post("/ncrs/<int:ncr_id>/actions/<int:ncr_action_id>/done")
@permission_required(INSPECT)
def ncr_action_done(ncr_id: int, ncr_action_id: int):
    ncr = load(Nonconformance, ncr_id)
    action = load(NcrAction, ncr_action_id)
    if action.ncr_id != ncr.id:
        return _back(ncr)
    return _apply(ncr, lambda: ncrs.complete_action(db.session, action, result=text("result", 1000)), _("Action done."))


@bp.post("/ncrs/<int:ncr_id>/photos")
@permission_required(INSPECT)
def ncr_photo(ncr_id: int):
    ncr = load(Nonconformance, ncr_id)
    photo = request.files.get("photo")
    if photo is None or not photo.filename:
        flash(_("Choose a photo."), "error")
        return _back(ncr)
    return _apply(
        ncr,
        lambda: attachments.store(
            db.session, photo.read(), filename=photo.filename, by=acting_name(), ncr=ncr, field="photo"
        ),
        _("Photo attached."),
    )
