"""The inspector's tablet flow: a task (or an active plan), values on a keypad, pass/fail at once, a photo."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from apps.quality import attachments, inspections
from apps.quality.alarms import describe_alarm
from apps.quality.models import (
    Attachment,
    CharacteristicKind,
    Inspection,
    InspectionPlan,
    InspectionTask,
    Lot,
    Nonconformance,
    PlanStatus,
    QualityAlarm,
    TaskStatus,
)
from apps.quality.pages.common import INSPECT, VIEW, acting_name, bp, flat_errors, load, text
from platform_core.db import db
from platform_core.errors import ValidationFailed
from platform_core.identity.auth import current_principal, permission_required
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine

MAX_SAMPLE = 10  # pieces per screen on an ad-hoc inspection


def _number(raw: str | None):
    raw = (raw or "").strip().replace("，", ".").replace(",", ".").replace("−", "-")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw  # kept as text: the service names it as not a number


def _results_from_form(plan: InspectionPlan, sample: int, errors: dict) -> list[dict]:
    """The form's entries as the service's results, in the plan's order (result i is characteristic i)."""
    results = []
    for index, characteristic in enumerate(plan.characteristics):
        if characteristic.kind is CharacteristicKind.VARIABLE:
            raw = [_number(request.form.get(f"v-{characteristic.id}-{i}")) for i in range(sample)]
            values = [v for v in raw if v is not None]
            if any(isinstance(v, str) for v in values):
                errors.setdefault(f"results.{index}.values", []).append(_("Values must be numbers."))
                values = [v for v in values if not isinstance(v, str)]
            results.append({"characteristic_id": characteristic.id, "values": values})
        else:
            counts = {}
            for code in characteristic.defect_codes or []:
                count = request.form.get(f"d-{characteristic.id}-{code}", type=int) or 0
                if count > 0:
                    counts[code] = count
            results.append(
                {
                    "characteristic_id": characteristic.id,
                    "inspected": request.form.get(f"inspected-{characteristic.id}", type=int) or sample,
                    "defectives": request.form.get(f"defectives-{characteristic.id}", type=int),
                    "defect_counts": counts,
                }
            )
    return results


def _record(plan: InspectionPlan, task: InspectionTask | None, sample: int):
    """Record the submitted form; a redirect to the result, or the field errors."""
    errors: dict[str, list[str]] = {}
    results = _results_from_form(plan, sample, errors)
    if errors:
        return None, errors
    context = None
    if task is None:
        context = inspections.Context(
            lot_code=text("lot", 64),
            machine=db.session.get(Machine, request.form.get("machine", type=int) or 0),
            operator=db.session.get(Employee, request.form.get("operator", type=int) or 0),
        )
    try:
        recorded = inspections.record(
            db.session,
            results=results,
            inspector=current_principal().user,
            inspector_name=acting_name(),
            task=task,
            plan=None if task else plan,
            context=context,
            note=text("note"),
            submission=text("submission", 64),
        )
        photo = request.files.get("photo")
        if photo is not None and photo.filename and not recorded.replayed:
            attachments.store(
                db.session,
                photo.read(),
                filename=photo.filename,
                by=acting_name(),
                inspection=recorded.inspection,
                field="photo",
            )
    except ValidationFailed as exc:
        return None, flat_errors(exc)
    return redirect(url_for("quality.inspection_page", inspection_id=recorded.inspection.id)), None


def _form(plan, task, sample, errors, status=200):
    return (
        render_template(
            "quality/inspect.html",
            plan=plan,
            task=task,
            sample=sample,
            errors=errors,
            form=request.form,
            submission=request.form.get("submission") or uuid.uuid4().hex,
            machines=db.session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.code)).all()
            if task is None
            else [],
            employees=db.session.scalars(
                sa.select(Employee).where(Employee.active).order_by(Employee.employee_no)
            ).all()
            if task is None
            else [],
        ),
        status,
    )


@bp.route("/tasks/<int:inspection_task_id>/inspect", methods=["GET", "POST"])
@permission_required(INSPECT)
def inspect_task(inspection_task_id: int):
    task = load(InspectionTask, inspection_task_id)
    if task.status is not TaskStatus.OPEN:
        done = db.session.scalar(sa.select(Inspection.id).where(Inspection.task_id == task.id))
        flash(_("Task %(number)s is no longer open.", number=task.number), "error")
        return redirect(
            url_for("quality.inspection_page", inspection_id=done) if done else url_for("quality.task_list")
        )
    if request.method == "POST":
        response, errors = _record(task.plan, task, task.sample_size)
        if response is not None:
            return response
        return _form(task.plan, task, task.sample_size, errors, 422)
    return _form(task.plan, task, task.sample_size, {})


@bp.route("/plans/<int:inspection_plan_id>/inspect", methods=["GET", "POST"])
@permission_required(INSPECT)
def inspect_plan(inspection_plan_id: int):
    """An inspection without a task (a patrol check, a re-inspection), against the plan's active version."""
    plan = load(InspectionPlan, inspection_plan_id)
    if plan.status is not PlanStatus.ACTIVE:
        flash(_("Inspections are made against the active version of a plan."), "error")
        return redirect(url_for("quality.plan_page", inspection_plan_id=plan.id))
    sample = min(max(request.values.get("n", type=int) or _default_sample(plan), 1), MAX_SAMPLE)
    if request.method == "POST":
        response, errors = _record(plan, None, sample)
        if response is not None:
            return response
        return _form(plan, None, sample, errors, 422)
    return _form(plan, None, sample, {})


def _default_sample(plan: InspectionPlan) -> int:
    sizes = [c.subgroup_size for c in plan.characteristics if c.subgroup_size]
    return sizes[0] if sizes else (plan.rules[0].sample_size if plan.rules else 1)


@bp.get("/inspections")
@permission_required(VIEW)
def inspection_list():
    lot = (request.args.get("lot") or "").strip()
    statement = sa.select(Inspection).order_by(Inspection.inspected_at.desc(), Inspection.id.desc()).limit(100)
    if lot:
        statement = statement.join(Lot, Lot.id == Inspection.lot_id).where(Lot.code == lot)
    return render_template("quality/inspections.html", inspections=db.session.scalars(statement).all(), lot=lot)


@bp.get("/inspections/<int:inspection_id>")
@permission_required(VIEW)
def inspection_page(inspection_id: int):
    inspection = load(Inspection, inspection_id)
    result_ids = [r.id for r in inspection.results]
    alarms = db.session.scalars(
        sa.select(QualityAlarm)
        .where(sa.or_(QualityAlarm.first_result_id.in_(result_ids), QualityAlarm.last_result_id.in_(result_ids)))
        .order_by(QualityAlarm.id)
    ).all()
    ncrs = inspection_ncrs(inspection)
    return render_template(
        "quality/inspection.html",
        inspection=inspection,
        alarms=alarms,
        ncrs=ncrs,
        photos=attachments.list_for(db.session, inspection=inspection),
        describe_alarm=describe_alarm,
    )


def inspection_ncrs(inspection: Inspection):
    return db.session.scalars(sa.select(Nonconformance).where(Nonconformance.inspection_id == inspection.id)).all()


@bp.post("/inspections/<int:inspection_id>/photos")
@permission_required(INSPECT)
def inspection_photo(inspection_id: int):
    inspection = load(Inspection, inspection_id)
    photo = request.files.get("photo")
    try:
        if photo is None or not photo.filename:
            raise ValidationFailed(_("Choose a photo."), errors={"multipart": {"photo": [_("Choose a photo.")]}})
        attachments.store(
            db.session, photo.read(), filename=photo.filename, by=acting_name(), inspection=inspection, field="photo"
        )
    except ValidationFailed as exc:
        flash(" ".join(m for messages in flat_errors(exc).values() for m in messages), "error")
        return redirect(url_for("quality.inspection_page", inspection_id=inspection.id))
    flash(_("Photo attached."), "success")
    return redirect(url_for("quality.inspection_page", inspection_id=inspection.id))


@bp.get("/photos/<int:quality_photo_id>")
@permission_required(VIEW)
def photo(quality_photo_id: int):
    record = load(Attachment, quality_photo_id)
    download = request.args.get("download") == "1"
    return Response(record.data, headers=attachments.response_headers(record, download=download))
