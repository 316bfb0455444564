"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.quality import events
from apps.quality.api import blp as api_blueprint
from apps.quality.blueprint import bp as web_blueprint
from apps.quality.demo import seed_quality
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, NavEntry

manifest = AppManifest(
    name="quality",
    label=_l("Quality"),
    description=_l("Inspections on tablets, SPC, nonconformance and genealogy."),
    icon="✔",
    web=web_blueprint,
    api=api_blueprint,
    permissions=(
        Permission("quality.view", _l("View quality data")),
        Permission("quality.inspect", _l("Record inspections")),
        Permission("quality.disposition", _l("Decide on nonconformance")),
        Permission("quality.configure", _l("Configure inspection plans")),
    ),
    nav=(NavEntry("quality.index", _l("Quality"), "quality.view", "✔"),),
    subscriptions={
        "orders.order_released": events.on_order_released,
        "orders.operation_started": events.on_operation_started,
        "orders.operation_reported": events.on_operation_reported,
    },
    demo=seed_quality,
    models="apps.quality.models",
    depends_on=("orders",),
)
