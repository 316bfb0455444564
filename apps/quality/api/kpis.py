"""KPIs, settings and the unit costs behind the scrap-cost KPI."""

from __future__ import annotations

from flask.views import MethodView

from apps.quality import kpis, settings
from apps.quality import schemas as s
from apps.quality.api import CONFIGURE, VIEW, blp
from platform_core.db import db
from platform_core.web import current_language


def _kpi(name: str, path: str, summary: str):
    def get(self, args):
        period = kpis.Period.last_days(args["days"])
        summary_data: dict = {}
        if name == "fpy":
            rows = kpis.first_pass_yield(db.session, period)
            summary_data = {"rolled_throughput_yield": kpis.rolled_throughput_yield(rows)}
        elif name == "pareto":
            rows = kpis.defect_pareto(db.session, period, current_language())
        elif name == "ppm":
            rows = kpis.ppm(db.session, period)
        elif name == "scrap_cost":
            rows = kpis.scrap_cost(db.session, period)
            summary_data = {"total": round(sum(r["cost"] or 0.0 for r in rows), 2)}
        else:
            ageing = kpis.ncr_ageing(db.session)
            rows = ageing["open"]
            summary_data = {"buckets": ageing["buckets"], "mean_days_to_close": ageing["mean_days_to_close"]}
        return {"since": period.start, "until": period.end, "rows": rows, "summary": summary_data}

    get.__doc__ = summary
    view = type(
        f"Kpi{name.title().replace('_', '')}",
        (MethodView,),
        {
            "get": blp.requires(VIEW)(
                blp.arguments(s.QualityKpiArgsSchema, location="query")(blp.response(200, s.QualityKpiSchema)(get))
            )
        },
    )
    blp.route(f"/kpis/{path}", endpoint=f"kpi_{name}")(view)


_kpi("fpy", "first-pass-yield", "First-pass yield per product and operation, with rolled throughput yield.")
_kpi("pareto", "defect-pareto", "Defects by code, largest first, with the cumulative share.")
_kpi("ppm", "ppm", "Nonconforming pieces per million reported, per product and in all.")
_kpi("scrap_cost", "scrap-cost", "Scrapped pieces times each product's unit cost.")
_kpi("ncr_ageing", "ncr-ageing", "Open NCRs by age.")


@blp.route("/settings")
class Settings(MethodView):
    @blp.requires(VIEW)
    @blp.etag
    @blp.response(200, s.QualitySettingsSchema)
    def get(self):
        """The factory's quality settings."""
        return settings.get_settings(db.session)

    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualitySettingsUpdateSchema)
    @blp.etag
    @blp.response(200, s.QualitySettingsSchema)
    def patch(self, data):
        """Change the quality settings (If-Match)."""
        blp.check_etag(settings.get_settings(db.session), s.QualitySettingsSchema)
        return settings.update_settings(db.session, data)


@blp.route("/product-costs")
class ProductCosts(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, s.QualityProductCostSchema(many=True))
    def get(self):
        """Unit costs of products, for the scrap-cost KPI."""
        return db.session.scalars(settings.unit_costs()).all()


@blp.route("/product-costs/<int:product_id>")
class ProductCost(MethodView):
    @blp.requires(CONFIGURE)
    @blp.arguments(s.QualityProductCostInSchema)
    @blp.response(200, s.QualityProductCostSchema)
    def put(self, data, product):
        """Set what one scrapped piece of a product costs."""
        return settings.set_unit_cost(db.session, product, data["unit_cost"], data["currency"])
