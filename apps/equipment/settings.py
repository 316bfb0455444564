"""The equipment app's settings, with their defaults.

The manifest hands these defaults to the platform, which merges them into the Flask configuration; so
``MES_EQUIPMENT_OFFLINE_AFTER_SECONDS=600`` in the environment changes one. docs/operations.md lists them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

DEFAULTS: dict[str, Any] = {
    # Machine states
    "EQUIPMENT_OFFLINE_AFTER_SECONDS": 300,  # a monitored machine without data this long is offline
    "EQUIPMENT_IDLE_AFTER_SECONDS": 120,  # a run signal must stay off this long before the machine counts as idle
    "EQUIPMENT_BACKDATE_LIMIT_HOURS": 12,  # how far back an operator's down/up report may be dated
    # Telemetry
    "EQUIPMENT_INGEST_MAX_POINTS": 20000,  # points per HTTP request or MQTT message
    "EQUIPMENT_MAX_CLOCK_SKEW_SECONDS": 300,  # points further in the future are refused
    "EQUIPMENT_RAW_RETENTION_DAYS": 30,  # default raw-point retention; each factory may choose its own
    "EQUIPMENT_MINUTE_ROLLUP_RETENTION_DAYS": 400,  # 1-minute rollups; hourly rollups are kept
    # MQTT subscriber (runs on the leader worker)
    "EQUIPMENT_MQTT_ENABLED": False,
    "EQUIPMENT_MQTT_HOST": "127.0.0.1",
    "EQUIPMENT_MQTT_PORT": 1883,
    "EQUIPMENT_MQTT_USERNAME": None,
    "EQUIPMENT_MQTT_PASSWORD": None,
    "EQUIPMENT_MQTT_TLS": False,
    # the broker has accounts (Mosquitto's dynamic security plugin, USERNAME/PASSWORD its administrator): the
    # subscriber keeps one per live gateway, limited to its own factory's topics (apps/equipment/broker.py)
    "EQUIPMENT_MQTT_ACCOUNTS": False,
    "EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS": 30,  # a revoked gateway is locked out within this time
    "EQUIPMENT_MQTT_CLIENT_ID": "mes-equipment-ingest",
    "EQUIPMENT_MQTT_TOPIC_PREFIX": "mes",
    "EQUIPMENT_MQTT_BATCH_POINTS": 5000,  # write to the database once this many points are waiting...
    "EQUIPMENT_MQTT_BATCH_SECONDS": 0.5,  # ...or this long after the first one arrived
    "EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS": 60,  # back-off ceiling between reconnection attempts
    # OEE figures of finished shifts are stored by a periodic job
    "EQUIPMENT_SHIFT_STATS_RECOMPUTE_HOURS": 48,  # finished shifts this recent are recomputed (late reports)
}


def setting(name: str) -> Any:
    """The configured value of one of the app's settings."""
    return current_app.config[name]
