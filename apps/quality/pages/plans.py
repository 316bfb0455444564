"""Inspection-plan pages: versions of each plan, a draft's characteristics and sampling rules, activation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from apps.quality import plans
from apps.quality.models import CharacteristicKind, InspectionPlan, SamplingKind
from apps.quality.pages.common import CONFIGURE, VIEW, bp, flat_errors, load, number, text
from apps.quality.plans import CHARACTERISTIC_FIELDS, RULE_FIELDS
from apps.quality.spc.charts import ChartType
from platform_core.db import db
from platform_core.errors import DomainError, ValidationFailed
from platform_core.identity.auth import permission_required
from platform_core.masterdata.models import Product, ReasonCode, ReasonKind


@bp.get("/plans")
@permission_required(VIEW)
def plan_list():
    found = db.session.scalars(
        sa.select(InspectionPlan)
        .options(selectinload(InspectionPlan.product), selectinload(InspectionPlan.characteristics))
        .order_by(InspectionPlan.code, InspectionPlan.version.desc())
    ).all()
    return render_template("quality/plans.html", plans=found)


def _products() -> list[Product]:
    return list(db.session.scalars(sa.select(Product).where(Product.active).order_by(Product.code)))


@bp.route("/plans/new", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def new_plan():
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        product = db.session.get(Product, request.form.get("product", type=int) or 0)
        if product is None:
            errors["product"] = [_("Choose from the list.")]
        sequence = number("operation_sequence", errors, integer=True)
        code, name = text("code", 32), text("name", 200)
        for field, value in (("code", code), ("name", name)):
            if not value:
                errors.setdefault(field, []).append(_("Required."))
        if code and " " in code:
            errors.setdefault("code", []).append(_("Use 1 to 32 characters without spaces."))
        if not errors:
            try:
                plan = plans.create_plan(
                    db.session, code=code, name=name, product=product, operation_sequence=sequence, notes=text("notes")
                )
            except DomainError as exc:
                errors = flat_errors(exc) or {"code": [exc.message]}
            else:
                return redirect(url_for("quality.plan_page", inspection_plan_id=plan.id))
    return (
        render_template("quality/plan_form.html", products=_products(), errors=errors, form=request.form),
        422 if errors else 200,
    )


@bp.get("/plans/<int:inspection_plan_id>")
@permission_required(VIEW)
def plan_page(inspection_plan_id: int):
    plan = load(InspectionPlan, inspection_plan_id)
    versions = db.session.scalars(
        sa.select(InspectionPlan).where(InspectionPlan.code == plan.code).order_by(InspectionPlan.version.desc())
    ).all()
    reasons = db.session.scalars(
        sa.select(ReasonCode).where(ReasonCode.kind == ReasonKind.SCRAP, ReasonCode.active).order_by(ReasonCode.code)
    ).all()
    return render_template(
        "quality/plan.html",
        plan=plan,
        versions=versions,
        reasons=reasons,
        kinds=list(CharacteristicKind),
        charts=list(ChartType),
        samplings=list(SamplingKind),
    )


def _back(plan: InspectionPlan):
    return redirect(url_for("quality.plan_page", inspection_plan_id=plan.id))


def _change(plan: InspectionPlan, characteristics: list[dict] | None = None, rules: list[dict] | None = None):
    data = {}
    if characteristics is not None:
        data["characteristics"] = characteristics
    if rules is not None:
        data["rules"] = rules
    try:
        plans.update_plan(db.session, plan, data)
    except DomainError as exc:
        details = flat_errors(exc) if isinstance(exc, ValidationFailed) else {}
        flash(" ".join([exc.message, *(m for ms in details.values() for m in ms)]), "error")
        db.session.rollback()
    else:
        flash(_("Plan saved."), "success")
    return _back(plan)


def _current(plan: InspectionPlan) -> tuple[list[dict], list[dict]]:
    return (
        [{f: getattr(c, f) for f in CHARACTERISTIC_FIELDS} for c in plan.characteristics],
        [{f: getattr(r, f) for f in RULE_FIELDS} for r in plan.rules],
    )


@bp.post("/plans/<int:inspection_plan_id>/characteristics")
@permission_required(CONFIGURE)
def add_characteristic(inspection_plan_id: int):
    plan = load(InspectionPlan, inspection_plan_id)
    errors: dict[str, list[str]] = {}
    kind = request.form.get("kind")
    chart = request.form.get("chart_type") or None
    new = {
        "code": text("code", 32),
        "name": text("name", 200),
        "kind": kind if kind in {k.value for k in CharacteristicKind} else "variable",
        "nominal": number("nominal", errors),
        "lsl": number("lsl", errors),
        "usl": number("usl", errors),
        "unit": text("unit", 16),
        "gauge": text("gauge", 100),
        "decimals": number("decimals", errors, integer=True),
        "defect_codes": request.form.getlist("defect_codes"),
        "accept_number": number("accept_number", errors, integer=True),
        "chart_type": chart if chart in {c.value for c in ChartType} else None,
        "subgroup_size": number("subgroup_size", errors, integer=True),
    }
    if not new["code"] or not new["name"]:
        errors.setdefault("code", []).append(_("A characteristic needs a code and a name."))
    if errors:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
        return _back(plan)
    characteristics, _rules = _current(plan)
    return _change(plan, characteristics=[*characteristics, new])


@bp.post("/plans/<int:inspection_plan_id>/characteristics/remove")
@permission_required(CONFIGURE)
def remove_characteristic(inspection_plan_id: int):
    plan = load(InspectionPlan, inspection_plan_id)
    code = request.form.get("code")
    characteristics, _rules = _current(plan)
    return _change(plan, characteristics=[c for c in characteristics if c["code"] != code])


@bp.post("/plans/<int:inspection_plan_id>/rules")
@permission_required(CONFIGURE)
def add_rule(inspection_plan_id: int):
    plan = load(InspectionPlan, inspection_plan_id)
    errors: dict[str, list[str]] = {}
    kind = request.form.get("kind")
    new = {
        "kind": kind if kind in {k.value for k in SamplingKind} else "every_n",
        "every_n": number("every_n", errors, integer=True),
        "percent": number("percent", errors),
        "sample_size": number("sample_size", errors, integer=True) or 1,
        "due_minutes": number("due_minutes", errors, integer=True) or 30,
    }
    if errors:
        flash(" ".join(m for ms in errors.values() for m in ms), "error")
        return _back(plan)
    _characteristics, rules = _current(plan)
    return _change(plan, rules=[*rules, new])


@bp.post("/plans/<int:inspection_plan_id>/rules/remove")
@permission_required(CONFIGURE)
def remove_rule(inspection_plan_id: int):
    plan = load(InspectionPlan, inspection_plan_id)
    index = request.form.get("index", type=int)
    _characteristics, rules = _current(plan)
    return _change(plan, rules=[r for i, r in enumerate(rules) if i != index])


def _step(plan: InspectionPlan, action, success: str):
    try:
        result = action(db.session, plan)
    except DomainError as exc:
        details = flat_errors(exc) if isinstance(exc, ValidationFailed) else {}
        flash(" ".join([exc.message, *(m for ms in details.values() for m in ms)]), "error")
        db.session.rollback()
        return _back(plan)
    flash(success, "success")
    return redirect(url_for("quality.plan_page", inspection_plan_id=result.id))


@bp.post("/plans/<int:inspection_plan_id>/activate")
@permission_required(CONFIGURE)
def activate_plan(inspection_plan_id: int):
    return _step(load(InspectionPlan, inspection_plan_id), plans.activate_plan, _("This version is now in force."))


@bp.post("/plans/<int:inspection_plan_id>/revise")
@permission_required(CONFIGURE)
def revise_plan(inspection_plan_id: int):
    return _step(load(InspectionPlan, inspection_plan_id), plans.revise_plan, _("A new draft version was started."))


@bp.post("/plans/<int:inspection_plan_id>/retire")
@permission_required(CONFIGURE)
def retire_plan(inspection_plan_id: int):
    return _step(load(InspectionPlan, inspection_plan_id), plans.retire_plan, _("The plan was retired."))
