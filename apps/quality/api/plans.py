"""Inspection plans: drafts, versions, activation."""

from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from apps.quality import plans
from apps.quality import schemas as s
from apps.quality.api import CONFIGURE, VIEW, blp
from apps.quality.models import InspectionPlan
from platform_core.api import SelectPage
from platform_core.db import db


@blp.route("/plans")
class Plans(MethodView):
    @blp.requires(VIEW)
    @blp.arguments(s.QualityPlanListArgsSchema, location="query")
    @blp.response(200, s.QualityPlanSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """List inspection plans (every version), newest versions first."""
        statement = sa.select(InspectionPlan).options(
            selectinload(InspectionPlan.characteristics),
            selectinload(InspectionPlan.rules),
            selectinload(InspectionPlan.product),
        )
        if "product_id" in args:
            statement = statement.where(InspectionPlan.product_id == args["product_id"])
        if "status" in args:
            statement = statement.where(InspectionPlan.status == args["status"])
        if "code" in args:
            statement = statement.where(InspectionPlan.code == args["code"])
        return statement.order_by(InspectionPlan.code, InspectionPlan.version.desc())

    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualityPlanCreateSchema)
    @blp.response(201, s.QualityPlanSchema)
    def post(self, data):
        """Create a plan as a draft (version 1) with its characteristics and sampling rules."""
        return plans.create_plan(db.session, **data)


@blp.route("/plans/<int:inspection_plan_id>")
class Plan(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.QualityPlanSchema)
    def get(self, inspection_plan):
        """Show a plan version."""
        return inspection_plan

    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualityPlanUpdateSchema)
    @blp.etag
    @blp.response(200, s.QualityPlanSchema)
    def patch(self, data, inspection_plan):
        """Change a draft (If-Match); characteristics and rules, when given, replace the lists."""
        blp.check_etag(inspection_plan, s.QualityPlanSchema)
        return plans.update_plan(db.session, inspection_plan, data)


@blp.route("/plans/<int:inspection_plan_id>/activate")
class ActivatePlan(MethodView):
    @blp.requires(CONFIGURE)
    @blp.response(200, s.QualityPlanSchema)
    def post(self, inspection_plan):
        """Put a draft in force; the active version of the same code is superseded, its open tasks move over."""
        return plans.activate_plan(db.session, inspection_plan)


@blp.route("/plans/<int:inspection_plan_id>/revise")
class RevisePlan(MethodView):
    @blp.requires(CONFIGURE)
    @blp.response(201, s.QualityPlanSchema)
    def post(self, inspection_plan):
        """Start the next version as a draft copy of this one."""
        return plans.revise_plan(db.session, inspection_plan)


@blp.route("/plans/<int:inspection_plan_id>/retire")
class RetirePlan(MethodView):
    @blp.requires(CONFIGURE)
    @blp.response(200, s.QualityPlanSchema)
    def post(self, inspection_plan):
        """Stop inspecting to this plan; its open tasks are cancelled."""
        return plans.retire_plan(db.session, inspection_plan)
