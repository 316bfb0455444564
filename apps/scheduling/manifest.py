"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.scheduling import actuals, repair, solving
from apps.scheduling.api import blp as api_blueprint
from apps.scheduling.blueprint import bp as web_blueprint
from apps.scheduling.scenarios import SCENARIOS
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, JobSpec, NavEntry

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
    subscriptions={
        "equipment.machine_down": repair.on_machine_down,
        "equipment.machine_up": repair.on_machine_up,
        "equipment.maintenance_planned": repair.on_maintenance_planned,
        "orders.order_released": repair.on_order_released,
        "orders.operation_started": actuals.on_operation_started,
        "orders.operation_paused": actuals.on_operation_paused,
        "orders.operation_completed": actuals.on_operation_completed,
    },
    queue_handlers={"scheduling.solve": solving.solve_run},
    jobs=(JobSpec("scheduling.slippage", repair.scan_slippage, seconds=300),),
    scenarios=SCENARIOS,
    models="apps.scheduling.models",
    depends_on=("orders",),
)
