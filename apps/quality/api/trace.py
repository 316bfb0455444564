"""Lots and their genealogy: backward and forward traces."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from apps.quality import genealogy
from apps.quality import schemas as s
from apps.quality.api import VIEW, blp
from apps.quality.models import Lot
from platform_core.api import SelectPage
from platform_core.db import db


@blp.route("/lots")
class Lots(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityLotListArgsSchema, location="query")
    @blp.response(200, s.QualityLotSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Lots known from the reports and inspections, newest first; ``q`` finds codes starting with it."""
        statement = sa.select(Lot).options(selectinload(Lot.product))
        if args.get("q"):
            pattern = args["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(Lot.code.like(f"{pattern}%", escape="\\"))
        return statement.order_by(Lot.first_seen_at.desc(), Lot.id.desc())


@blp.route("/lots/<int:quality_lot_id>")
class LotView(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityLotSchema)
    def get(self, quality_lot):
        """Show a lot."""
        return quality_lot


@blp.route("/lots/<int:quality_lot_id>/trace")
class Trace(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityTraceArgsSchema, location="query")
    @blp.response(200, s.QualityTraceSchema)
    def get(self, args, quality_lot):
        """Trace a lot backward (what it was made from) or forward (every lot and order made from it)."""
        direction = genealogy.Direction(args["direction"])
        nodes = genealogy.trace(db.session, quality_lot, direction)
        found = genealogy.inspections_of(db.session, [n.lot_id for n in nodes])
        for node in nodes:
            node.inspections = found.get(node.lot_id, [])
        return {
            "lot": quality_lot.code,
            "direction": direction.value,
            "orders": genealogy.orders_reached(nodes),
            "nodes": nodes,
        }
