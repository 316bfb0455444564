"""Nonconformance reports: workflow, 8D-lite actions, lot holds and photos."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from apps.quality import attachments, holds, ncrs, production
from apps.quality import schemas as s
from apps.quality.api import DISPOSITION, INSPECT, VIEW, blp
from apps.quality.api.inspections import _upload
from apps.quality.common import acting_account, acting_name
from apps.quality.models import NcrStatus, Nonconformance
from platform_core.api import SelectPage
from platform_core.db import db
from platform_core.errors import NotFound, ValidationFailed
from platform_core.idempotency import idempotent


def _detail(ncr: Nonconformance) -> Nonconformance:
    blp.set_etag(ncr, s.QualityVersionSchema)
    return ncr


@blp.route("/ncrs")
class Ncrs(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityNcrListArgsSchema, location="query")
    @blp.response(200, s.QualityNcrSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List NCRs, newest first: the ones still being worked on by default."""
        statement = sa.select(Nonconformance).options(
            selectinload(Nonconformance.actions), selectinload(Nonconformance.holds), selectinload(Nonconformance.lot)
        )
        if args["status"] == "active":
            statement = statement.where(Nonconformance.status.not_in(ncrs.FINISHED))
        elif args["status"] != "all":
            statement = statement.where(Nonconformance.status == NcrStatus(args["status"]))
        if "source" in args:
            statement = statement.where(Nonconformance.source == args["source"])
        if "lot" in args:
            lot = production.find_lot(db.session, args["lot"])
            statement = statement.where(Nonconformance.lot_id == (lot.id if lot else None))
        return statement.order_by(Nonconformance.raised_at.desc(), Nonconformance.id.desc())

    @blp.requires(INSPECT)
    @idempotent(required=False)
    @blp.arguments(s.QualityNcrCreateSchema)
    @blp.response(201, s.QualityNcrSchema)
    def post(self, data):
        """Raise an NCR: from a failed inspection (its context is copied) or by hand; optionally hold the lot."""
        lot = data.pop("lot")
        return _detail(ncrs.raise_ncr(db.session, by=acting_name(), actor=acting_account(), lot_code=lot, **data))


@blp.route("/ncrs/<int:ncr_id>")
class Ncr(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.QualityNcrSchema)
    def get(self, ncr):
        """Show an NCR with its actions and holds."""
        return _detail(ncr)

    @blp.requires(INSPECT)
    @blp.arguments(s.QualityNcrUpdateSchema)
    @blp.etag
    @blp.response(200, s.QualityNcrSchema)
    def patch(self, data, ncr):
        """Change an NCR's title, description, quantity, defect codes or due date (If-Match)."""
        blp.check_etag(ncr, s.QualityVersionSchema)
        return _detail(ncrs.update_ncr(db.session, ncr, data))


def _transition(name: str, permission: str, schema, summary: str):
    def post(self, data, ncr):
        who = {"by": acting_name(), "actor": acting_account()}
        if name == "propose":
            ncrs.propose(db.session, ncr, disposition=data["disposition"], note=data["note"], **who)
        elif name == "close":
            ncrs.close(db.session, ncr, **who)
        elif name == "reject":
            ncrs.reject(db.session, ncr, by=who["by"], note=data["note"])
        else:
            getattr(ncrs, name)(db.session, ncr, note=data["note"], **who)
        return _detail(ncr)

    post.__doc__ = summary
    view = type(
        f"Ncr{name.title()}",
        (MethodView,),
        {"post": blp.requires(permission)(blp.arguments(schema)(blp.response(200, s.QualityNcrSchema)(post)))},
    )
    blp.route(f"/ncrs/<int:ncr_id>/{name}", endpoint=f"ncr_{name}")(view)


_transition("propose", INSPECT, s.QualityProposeSchema, "Propose a disposition (rework, scrap, use as is, return).")
_transition("approve", DISPOSITION, s.QualityNoteSchema, "Approve the proposed disposition (not its proposer).")
_transition("reject", DISPOSITION, s.QualityNoteSchema, "Send the proposed disposition back; the NCR is open again.")
_transition(
    "close", DISPOSITION, s.QualityNoteSchema, "Close the NCR once every action is done; held lots are released."
)
_transition("cancel", DISPOSITION, s.QualityNoteSchema, "Cancel an NCR raised in error; held lots are released.")


@blp.route("/ncrs/<int:ncr_id>/hold")
class HoldLot(MethodView):
    @blp.requires(INSPECT)
    @blp.arguments(s.QualityHoldCreateSchema)
    @blp.response(201, s.QualityHoldSchema)
    def post(self, data, ncr):
        """Hold a lot quality knows (the NCR's own by default): the orders app refuses reports on it until it is
        released. An unknown lot code is a 422."""
        lot = ncrs.lot_to_hold(db.session, data["lot"]) if data["lot"] else ncr.lot
        if lot is None:
            raise ValidationFailed(_("Name the lot to hold."), errors={"json": {"lot": [_("Missing.")]}})
        return ncrs.hold_lot(db.session, ncr, lot, by=acting_name(), actor=acting_account(), reason=data["reason"])


@blp.route("/ncrs/<int:ncr_id>/release")
class ReleaseLot(MethodView):
    @blp.requires(DISPOSITION)
    @blp.arguments(s.QualityReleaseSchema)
    @blp.response(200, s.QualityHoldSchema(many=True))
    def post(self, data, ncr):
        """Release the lots this NCR holds (or one of them): reporting on them is allowed again. Before the NCR's
        disposition is approved, whoever placed a hold cannot release it (403)."""
        active = [h for h in ncr.holds if h.active and (data["lot"] is None or h.lot.code == data["lot"].strip())]
        if not active:
            raise NotFound(_("This NCR holds no such lot."))
        who = {"by": acting_name(), "actor": acting_account()}
        return [holds.release(db.session, h, note=data["note"], **who) for h in active]


@blp.route("/ncrs/<int:ncr_id>/actions")
class Actions(MethodView):
    @blp.requires(INSPECT)
    @blp.arguments(s.QualityActionCreateSchema)
    @blp.response(201, s.QualityActionSchema)
    def post(self, data, ncr):
        """Add an 8D-lite step: containment, root cause, corrective or preventive action, verification."""
        return ncrs.add_action(db.session, ncr, **data)


@blp.route("/ncrs/<int:ncr_id>/actions/<int:ncr_action_id>/done")
class ActionDone(MethodView):
    @blp.requires(INSPECT)
    @blp.arguments(s.QualityActionDoneSchema)
    @blp.response(200, s.QualityActionSchema)
    def post(self, data, ncr, ncr_action):
        """Mark an action done, with its result."""
        if ncr_action.ncr_id != ncr.id:
            raise NotFound(_("No such action."))
        return ncrs.complete_action(db.session, ncr_action, result=data["result"])


@blp.route("/ncrs/<int:ncr_id>/photos")
class NcrPhotos(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityPhotoSchema(many=True))
    def get(self, ncr):
        """The photos of an NCR."""
        return attachments.list_for(db.session, ncr=ncr)

    @blp.requires(INSPECT)
    @blp.arguments(s.QualityPhotoUploadSchema, location="multipart")
    @blp.response(201, s.QualityPhotoSchema)
    def post(self, data, ncr):
        """Attach a photo (JPEG, PNG or WebP, checked by content and size)."""
        content, filename = _upload(data)
        return attachments.store(db.session, content, filename=filename, by=acting_name(), ncr=ncr)


@blp.route("/holds")
class Holds(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityHoldSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """Lots on hold now, newest hold first."""
        return holds.active_holds()
