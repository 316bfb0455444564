"""The app's manifest: how it plugs into the platform."""

from flask_babel import lazy_gettext as _l

from apps.equipment import jobs
from apps.equipment.api import blp as api_blueprint
from apps.equipment.blueprint import bp as web_blueprint
from apps.equipment.cli import simulate_gateway
from apps.equipment.demo import seed_equipment
from apps.equipment.events import SUBSCRIPTIONS
from apps.equipment.mqtt import mqtt_subscriber
from apps.equipment.settings import DEFAULTS
from platform_core.rbac import Permission
from platform_core.registry import AppManifest, JobSpec, NavEntry

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
        Permission("equipment.ingest", _l("Send machine telemetry (gateways)")),
    ),
    nav=(NavEntry("equipment.index", _l("Equipment"), "equipment.view", "⚙"),),
    subscriptions=SUBSCRIPTIONS,
    jobs=(
        JobSpec("equipment.watch", jobs.watch_machines, seconds=15),
        JobSpec("equipment.maintenance_plans", jobs.scan_maintenance_plans, seconds=300),
        JobSpec("equipment.predict", jobs.predict, seconds=600),
        JobSpec("equipment.shift_stats", jobs.store_shift_stats, seconds=300),
        JobSpec("equipment.retention", jobs.purge_old_telemetry, seconds=3600),
    ),
    leader_services=(mqtt_subscriber,),
    commands=(simulate_gateway,),
    settings=DEFAULTS,
    demo=seed_equipment,
    models="apps.equipment.models",
    depends_on=(),
)
