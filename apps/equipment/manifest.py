"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.equipment.api import blp as api_blueprint
from apps.equipment.blueprint import bp as web_blueprint
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, NavEntry

manifest = AppManifest(
    name="equipment",
    label=_l("Equipment"),
    description=_l("Machine states, telemetry, alarms, downtime, OEE and maintenance."),
    icon="⚙",
    web=web_blueprint,
    api=api_blueprint,
    permissions=(
        Permission("equipment.view", _l("View machines and OEE")),
        Permission("equipment.report_downtime", _l("Report machine down and up")),
        Permission("equipment.maintain", _l("Carry out maintenance")),
        Permission("equipment.configure", _l("Configure machines, alarms and plans")),
    ),
    nav=(NavEntry("equipment.index", _l("Equipment"), "equipment.view", "⚙"),),
    depends_on=(),
)
