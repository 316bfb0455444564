"""``mes simulate-gateway``: a gateway publishing realistic telemetry over MQTT (see :mod:`.simulator`)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("simulate-gateway")
@click.option("--factory", default="DEMO", show_default=True, help="Factory code.")
@click.option("--token", default=None, help="A gateway API token; default: the factory's simulator gateway.")
@click.option("--host", default=None, help="MQTT broker (default: EQUIPMENT_MQTT_HOST).")
@click.option("--port", type=int, default=None, help="MQTT port (default: EQUIPMENT_MQTT_PORT).")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between messages.")
@click.option("--degrading", default=None, help="Machine code that wears out (default: the demo's choice).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: run until Ctrl+C).")
@with_appcontext
def simulate_gateway(factory, token, host, port, interval, degrading, duration) -> None:
    """Publish spindle speed, part counts, vibration and temperature of the monitored machines over MQTT."""
    from apps.equipment.simulator import run

    run(factory=factory, token=token, host=host, port=port, interval=interval, degrading=degrading, duration=duration)
