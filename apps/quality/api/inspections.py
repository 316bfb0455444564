"""Inspection tasks, inspections and their photos."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from apps.quality import attachments, inspections, production, tasks
from apps.quality import schemas as s
from apps.quality.api import INSPECT, VIEW, blp
from apps.quality.common import acting_name
from apps.quality.models import Inspection, InspectionTask, Lot
from platform_core.api import SelectPage
from platform_core.db import db
from platform_core.errors import ValidationFailed
from platform_core.idempotency import idempotent
from platform_core.identity.auth import current_principal

PHOTO_CONTENT = {"image/jpeg": {}, "image/png": {}, "image/webp": {}}


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityTaskListArgsSchema, location="query")
    @blp.response(200, s.QualityTaskSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List tasks, the most urgent first: open ones by default, of one work center or only overdue ones."""
        if args["status"].value == "open":
            return tasks.open_tasks(args.get("work_center_id"), overdue_only=args["overdue"])
        statement = sa.select(InspectionTask).where(InspectionTask.status == args["status"])
        if "work_center_id" in args:
            statement = statement.where(InspectionTask.work_center_id == args["work_center_id"])
        return statement.order_by(InspectionTask.due_at.desc(), InspectionTask.id.desc())

    @blp.requires(INSPECT)
    @idempotent(required=False)
    @blp.arguments(s.QualityTaskCreateSchema)
    @blp.response(201, s.QualityTaskSchema)
    def post(self, data):
        """Create a task by hand (an incoming lot, a customer complaint, a re-inspection)."""
        order = production.order_of(db.session, data["order_id"])
        if data["order_id"] is not None and order is None:
            raise ValidationFailed(
                _("Some fields are not valid."),
                errors={"json": {"order_id": [_("No released order with this id is known to quality.")]}},
            )
        plan = data["plan"]
        code = production.clean_lot(data["lot"])
        context = tasks.TaskContext(
            lot=production.get_lot(db.session, code, plan.product_id) if code else None,
            order_id=data["order_id"],
            order_number=order.number if order else None,
            work_center=data["work_center"],
            machine=data["machine"],
            operator=data["operator"],
        )
        return tasks.create_task(
            db.session, plan, context, sample_size=data["sample_size"], due_at=data["due_at"], note=data["note"]
        )


@blp.route("/tasks/by-work-center")
class TaskLoad(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityWorkCenterLoadSchema(many=True))
    def get(self):
        """Open and overdue tasks per work center."""
        return tasks.load_by_work_center(db.session)


@blp.route("/tasks/<int:inspection_task_id>")
class Task(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityTaskSchema)
    def get(self, inspection_task):
        """Show a task."""
        return inspection_task


@blp.route("/tasks/<int:inspection_task_id>/cancel")
class CancelTask(MethodView):
    @blp.requires(INSPECT)
    @blp.arguments(s.QualityCancelSchema)
    @blp.response(200, s.QualityTaskSchema)
    def post(self, data, inspection_task):
        """Cancel an open task, saying why."""
        return tasks.cancel_task(db.session, inspection_task, data["note"])


@blp.route("/inspections")
class Inspections(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityInspectionListArgsSchema, location="query")
    @blp.response(200, s.QualityInspectionSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List inspections, newest first, by lot, result, product, order or time."""
        statement = sa.select(Inspection).options(
            selectinload(Inspection.results), selectinload(Inspection.plan), selectinload(Inspection.lot)
        )
        if "lot" in args:
            statement = statement.join(Lot, Lot.id == Inspection.lot_id).where(Lot.code == args["lot"].strip())
        for key, column in (("status", Inspection.status), ("product_id", Inspection.product_id)):
            if key in args:
                statement = statement.where(column == args[key])
        if "order_id" in args:
            statement = statement.where(Inspection.order_id == args["order_id"])
        if "since" in args:
            statement = statement.where(Inspection.inspected_at >= args["since"])
        if "until" in args:
            statement = statement.where(Inspection.inspected_at <= args["until"])
        return statement.order_by(Inspection.inspected_at.desc(), Inspection.id.desc())

    @blp.requires(INSPECT)
    @idempotent()
    @blp.arguments(s.QualityInspectionCreateSchema)
    @blp.response(201, s.QualityInspectionRecordedSchema)
    def post(self, data):
        """Record an inspection (of a task, or against an active plan); pass/fail and SPC alarms come back."""
        principal = current_principal()
        recorded = inspections.record(
            db.session,
            results=data["results"],
            inspector=principal.user,
            inspector_name=acting_name(),
            task=data["task"],
            plan=data["plan"],
            context=inspections.Context(
                lot_code=data["lot"],
                machine=data["machine"],
                operator=data["operator"],
                order_id=data["order_id"],
                operation_id=data["operation_id"],
            ),
            note=data["note"],
            inspected_at=data["inspected_at"],
        )
        recorded.inspection.alarms = recorded.alarms
        return recorded.inspection


@blp.route("/inspections/<int:inspection_id>")
class InspectionView(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityInspectionSchema)
    def get(self, inspection):
        """Show an inspection with its results."""
        return inspection


def _upload(data) -> tuple[bytes, str | None]:
    upload = data["file"]
    if not isinstance(upload, FileStorage):
        raise ValidationFailed(_("Upload a photo."), errors={"multipart": {"file": [_("Not a file.")]}})
    return upload.read(), upload.filename


@blp.route("/inspections/<int:inspection_id>/photos")
class InspectionPhotos(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityPhotoSchema(many=True))
    def get(self, inspection):
        """The photos of an inspection."""
        return attachments.list_for(db.session, inspection=inspection)

    @blp.requires(INSPECT)
    @blp.arguments(s.QualityPhotoUploadSchema, location="multipart")
    @blp.response(201, s.QualityPhotoSchema)
    def post(self, data, inspection):
        """Attach a photo (JPEG, PNG or WebP, checked by content and size)."""
        content, filename = _upload(data)
        return attachments.store(db.session, content, filename=filename, by=acting_name(), inspection=inspection)


@blp.route("/photos/<int:quality_photo_id>")
class Photo(MethodView):
    @blp.requires(VIEW)
    @blp.doc(responses={"200": {"description": "The image", "content": PHOTO_CONTENT}})
    def get(self, quality_photo):
        """The photo itself, served as the image type found in its bytes."""
        return Response(quality_photo.data, headers=attachments.response_headers(quality_photo, download=False))
