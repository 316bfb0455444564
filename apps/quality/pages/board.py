"""The quality dashboard (alarms, tasks per work center, NCRs, held lots) and the task lists."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from apps.quality import alarms, control, holds, production, tasks
from apps.quality.models import InspectionPlan, InspectionTask, Nonconformance, PlanStatus, TaskStatus
from apps.quality.ncrs import FINISHED
from apps.quality.pages.common import INSPECT, VIEW, bp, flat_errors, load, number, text
from platform_core.db import db, utcnow
from platform_core.errors import ValidationFailed
from platform_core.identity.auth import permission_required
from platform_core.identity.models import Employee
from platform_core.masterdata.models import Machine

BOARD_ALARMS = 20


def _board() -> dict:
    return {
        "alarms": db.session.scalars(control.open_alarms().limit(BOARD_ALARMS)).all(),
        "loads": tasks.load_by_work_center(db.session),
        "overdue": db.session.scalars(tasks.open_tasks(overdue_only=True).limit(10)).all(),
        "held": db.session.scalars(holds.active_holds().limit(20)).all(),
        "open_ncrs": db.session.scalar(
            sa.select(sa.func.count()).select_from(Nonconformance).where(Nonconformance.status.not_in(FINISHED))
        ),
        "now": utcnow(),
        "describe_alarm": alarms.describe_alarm,
        "rule_names": alarms.RULE_NAMES,
    }


@bp.get("/")
@permission_required(VIEW)
def index():
    return render_template("quality/index.html", **_board())


@bp.get("/board")
@permission_required(VIEW)
def board():
    """The live part of the dashboard, refreshed by htmx."""
    return render_template("quality/_board.html", **_board())


@bp.get("/tasks")
@permission_required(VIEW)
def task_list():
    work_center_id = request.args.get("work_center", type=int)
    overdue_only = request.args.get("overdue") == "1"
    found = db.session.scalars(tasks.open_tasks(work_center_id, overdue_only=overdue_only).limit(200)).all()
    return render_template(
        "quality/tasks.html",
        tasks=found,
        loads=tasks.load_by_work_center(db.session),
        work_center_id=work_center_id,
        overdue_only=overdue_only,
        now=utcnow(),
        plans=_active_plans(),
    )


def _active_plans() -> list[InspectionPlan]:
    statement = sa.select(InspectionPlan).where(InspectionPlan.status == PlanStatus.ACTIVE)
    return list(
        db.session.scalars(statement.options(selectinload(InspectionPlan.product)).order_by(InspectionPlan.code))
    )


@bp.route("/tasks/new", methods=["GET", "POST"])
@permission_required(INSPECT)
def new_task():
    """A task made by hand: an incoming lot, a customer complaint, a re-inspection."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        plan = db.session.get(InspectionPlan, request.form.get("plan", type=int) or 0)
        if plan is None:
            errors["plan"] = [_("Choose from the list.")]
        machine = db.session.get(Machine, request.form.get("machine", type=int) or 0)
        operator = db.session.get(Employee, request.form.get("operator", type=int) or 0)
        sample = number("sample_size", errors, integer=True)
        minutes = min(max(number("due_minutes", errors, integer=True) or 60, 1), 7 * 24 * 60)
        code = production.clean_lot(text("lot", 64))
        if not errors:
            try:
                task = tasks.create_task(
                    db.session,
                    plan,
                    tasks.TaskContext(
                        lot=production.get_lot(db.session, code, plan.product_id) if code else None,
                        machine=machine,
                        operator=operator,
                        work_center=machine.work_center if machine else None,
                    ),
                    sample_size=sample,
                    due_at=utcnow() + dt.timedelta(minutes=minutes),
                    note=text("note", 500),
                )
            except ValidationFailed as exc:
                errors = flat_errors(exc)
            else:
                flash(_("Task %(number)s created.", number=task.number), "success")
                return redirect(url_for("quality.task_list"))
    return (
        render_template(
            "quality/task_form.html",
            plans=_active_plans(),
            machines=db.session.scalars(sa.select(Machine).where(Machine.active).order_by(Machine.code)).all(),
            employees=db.session.scalars(
                sa.select(Employee).where(Employee.active).order_by(Employee.employee_no)
            ).all(),
            errors=errors,
        ),
        422 if errors else 200,
    )


@bp.post("/tasks/<int:inspection_task_id>/cancel")
@permission_required(INSPECT)
def cancel_task(inspection_task_id: int):
    task = load(InspectionTask, inspection_task_id)
    if task.status is TaskStatus.OPEN:
        tasks.cancel_task(db.session, task, text("note", 500))
        flash(_("Task %(number)s cancelled.", number=task.number), "success")
    return redirect(url_for("quality.task_list"))
