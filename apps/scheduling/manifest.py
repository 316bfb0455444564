"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.scheduling.api import blp as api_blueprint
from apps.scheduling.blueprint import bp as web_blueprint
from apps.scheduling.solver.cli import solve as solve_command
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, NavEntry

manifest = AppManifest(
    name="scheduling",
    label=_l("Scheduling"),
    description=_l("Optimised schedules, Gantt chart and publishing to the shop floor."),
    icon="📅",
    web=web_blueprint,
    api=api_blueprint,
    permissions=(
        Permission("scheduling.view", _l("View schedules")),
        Permission("scheduling.plan", _l("Build and compare schedules")),
        Permission("scheduling.publish", _l("Publish schedules")),
    ),
    nav=(NavEntry("scheduling.index", _l("Scheduling"), "scheduling.view", "📅"),),
    depends_on=("orders",),
    commands=(solve_command,),  # mes solve FILE: the engine on benchmark or native JSON files
)
