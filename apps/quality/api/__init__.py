"""Quality API under ``/api/v1/quality``: plans, tasks, inspections and photos, SPC charts and alarms, NCRs and
lot holds, lots and traces, KPIs.

Reading needs ``quality.view``; recording inspections, raising NCRs and proposing dispositions
``quality.inspect``; approving dispositions and releasing lots ``quality.disposition``; plans, control limits
and settings ``quality.configure``. Records named in a path are loaded through the tenant filter before
anything else (another factory's id is a 404).
"""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _

from apps.quality.models import (
    Attachment,
    ControlChart,
    Inspection,
    InspectionPlan,
    InspectionTask,
    Lot,
    NcrAction,
    Nonconformance,
    QualityAlarm,
)
from platform_core.api import ApiBlueprint, AppInfoSchema, app_info, record_loader
from platform_core.masterdata.models import Product

VIEW, INSPECT, DISPOSITION, CONFIGURE = "quality.view", "quality.inspect", "quality.disposition", "quality.configure"

blp = ApiBlueprint(
    "quality_api",
    __name__,
    description="Inspections on tablets, SPC, nonconformance and genealogy.",
    loaders={
        "inspection_plan_id": record_loader(InspectionPlan, lambda: _("No such inspection plan.")),
        "inspection_task_id": record_loader(InspectionTask, lambda: _("No such inspection task.")),
        "inspection_id": record_loader(Inspection, lambda: _("No such inspection.")),
        "quality_photo_id": record_loader(Attachment, lambda: _("No such photo.")),
        "control_chart_id": record_loader(ControlChart, lambda: _("No such control chart.")),
        "spc_alarm_id": record_loader(QualityAlarm, lambda: _("No such alarm.")),
        "ncr_id": record_loader(Nonconformance, lambda: _("No such NCR.")),
        "ncr_action_id": record_loader(NcrAction, lambda: _("No such action.")),
        "quality_lot_id": record_loader(Lot, lambda: _("No such lot.")),
        "product_id": record_loader(Product, lambda: _("No such product.")),
    },
)


@blp.route("/")
class Info(MethodView):
    @blp.requires(VIEW)
    @blp.response(200, AppInfoSchema)
    def get(self):
        """What this app offers the caller: its name, label and the caller's permissions in it."""
        return app_info("quality")


from apps.quality.api import inspections, kpis, ncrs, plans, spc, trace  # noqa: E402, F401 - routes register on blp
