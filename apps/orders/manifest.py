"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.orders.api import blp as api_blueprint
from apps.orders.blueprint import bp as web_blueprint
from apps.orders.demo import seed_orders
from apps.orders.events import on_lot_held, on_lot_released
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, NavEntry

manifest = AppManifest(
    name="orders",
    label=_l("Orders"),
    description=_l("Routings, work orders and shop-floor reporting on tablets."),
    icon="📋",
    web=web_blueprint,
    api=api_blueprint,
    permissions=(
        Permission("orders.view", _l("View work orders")),
        Permission("orders.manage", _l("Manage routings and work orders")),
        Permission("orders.report_work", _l("Report work on the shop floor")),
        Permission("orders.supervise", _l("Approve over-quantity reports")),
    ),
    nav=(NavEntry("orders.index", _l("Orders"), "orders.view", "📋"),),
    subscriptions={"quality.lot_held": on_lot_held, "quality.lot_released": on_lot_released},
    demo=seed_orders,
    models="apps.orders.models",
    depends_on=(),
)
