"""A simulated gateway for the demo: publishes telemetry of the monitored machines over MQTT, signed like a real
gateway's messages (see :mod:`apps.equipment.signing`).

Each machine runs jobs of 20-90 minutes with the spindle at 1,800-3,000 rpm, stops for a few minutes between
parts batches, sometimes stands idle for longer; its part counter counts at 80-95 % of the ideal cycle time; its
spindle temperature follows the load; its vibration is steady around 1.8 mm/s, except on the degrading machine
(CNC-03 in the demo), whose vibration keeps rising from where its history left it, a little faster every hour,
towards the 7.1 mm/s limit. One point per metric and machine every second, published every ``interval``
seconds as one message per machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import signal
import threading
import zlib
from dataclasses import dataclass, field

import click
import paho.mqtt.client as paho
import sqlalchemy as sa

from apps.equipment import configuration, signing
from apps.equipment.models import Gateway, MachineConfig, Metric, RollupHour
from apps.equipment.settings import setting
from platform_core.db import Actor, db, utcnow
from platform_core.masterdata.models import Machine
from platform_core.tenants.models import Tenant

log = logging.getLogger(__name__)
DEFAULT_DEGRADING = "CNC-03"
WEAR_PER_HOUR = 0.03  # mm/s per hour at first, growing 2 % an hour: the limit is days away, not weeks


@dataclass
class SimulatedMachine:
    code: str
    cycle_s: float
    rng: random.Random
    degrading: bool = False
    vibration: float = 1.8
    temperature: float = 36.0
    counter: int = field(default=0)
    running: bool = True
    phase_left_s: float = 0.0
    part_progress: float = 0.0

    def step(self, ts: dt.datetime, hours_elapsed: float) -> list[dict]:
        """One second of the machine: its points at ``ts``."""
        if self.phase_left_s <= 0:
            self.running = not self.running if self.rng.random() < 0.85 else self.running
            self.phase_left_s = self.rng.uniform(1200, 5400) if self.running else self.rng.uniform(120, 900)
        self.phase_left_s -= 1
        speed = 0.0
        if self.running:
            speed = 2400 + 600 * math.sin(ts.timestamp() / 600) + self.rng.gauss(0, 40)
            self.part_progress += 1 / (self.cycle_s * self.rng.uniform(1.05, 1.25))
            if self.part_progress >= 1:
                self.part_progress -= 1
                self.counter += 1
        load = speed / 3000
        self.temperature += (32 + 18 * load - self.temperature) / 600 + self.rng.gauss(0, 0.02)
        if self.degrading:
            self.vibration += WEAR_PER_HOUR * math.exp(0.02 * hours_elapsed) / 3600
        vibration = (self.vibration if self.degrading else 1.8) * (0.6 + 0.4 * load) + self.rng.gauss(0, 0.08)
        stamp = ts.isoformat().replace("+00:00", "Z")
        return [
            {"metric": "spindle_speed", "ts": stamp, "value": round(max(speed, 0.0), 1)},
            {"metric": "part_count", "ts": stamp, "value": self.counter},
            {"metric": "vibration", "ts": stamp, "value": round(max(vibration, 0.0), 3)},
            {"metric": "spindle_temp", "ts": stamp, "value": round(self.temperature, 2)},
        ]


def _credentials(factory: str, token: str | None) -> tuple[str, str]:
    """(gateway id, signing key): from a token given, else the factory's first gateway (created if none)."""
    if token:
        return signing.token_id(token), signing.signing_key(token)
    with db.unit_of_work() as session:
        tenant = session.scalar(sa.select(Tenant).where(Tenant.code == factory))
        if tenant is None:
            raise click.ClickException(f"no factory with code {factory}")
        tenant_id = tenant.id
    with db.unit_of_work(tenant_id, actor=Actor("simulate-gateway")) as session:
        gateway = session.scalar(sa.select(Gateway).order_by(Gateway.id))
        if gateway is None:
            gateway, _secret = configuration.create_gateway(session, "simulated gateway", None)
        return gateway.prefix, gateway.signing_key


def _machines(factory: str, degrading: str) -> tuple[str, list[SimulatedMachine]]:
    with db.unit_of_work() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.code == factory))
    with db.unit_of_work(tenant_id) as session:
        machines = session.scalars(
            sa.select(Machine)
            .join(MachineConfig, MachineConfig.machine_id == Machine.id)
            .where(MachineConfig.run_metric_id.is_not(None), Machine.active)
            .order_by(Machine.code)
        ).all()
        vibration_id = session.scalar(sa.select(Metric.id).where(Metric.code == "vibration"))
        simulated = []
        for index, machine in enumerate(machines):
            rng = random.Random(zlib.crc32(f"{factory}/{machine.code}".encode()))  # noqa: S311 - a simulation
            sim = SimulatedMachine(machine.code, machine.ideal_cycle_time_s or 60, rng, machine.code == degrading)
            sim.counter = rng.randint(10000, 90000)
            sim.running = index % 3 != 2
            if sim.degrading and vibration_id:  # continue the wear from where the history left it
                last = session.scalar(
                    sa.select(RollupHour.sum / RollupHour.count)
                    .where(RollupHour.machine_id == machine.id, RollupHour.metric_id == vibration_id)
                    .order_by(RollupHour.bucket.desc())
                    .limit(1)
                )
                sim.vibration = float(last) if last else 3.0
            simulated.append(sim)
    return factory, simulated


def run(
    *,
    factory: str,
    token: str | None,
    host: str | None,
    port: int | None,
    interval: float,
    degrading: str | None,
    duration: float | None,
) -> None:
    """Publish until stopped (Ctrl+C, SIGTERM) or ``duration`` seconds passed."""
    gateway_id, key = _credentials(factory, token)
    _factory, machines = _machines(factory, degrading or DEFAULT_DEGRADING)
    if not machines:
        raise click.ClickException(f"factory {factory} has no monitored machine (set a run metric on one first)")
    root = setting("EQUIPMENT_MQTT_TOPIC_PREFIX")
    host, port = host or setting("EQUIPMENT_MQTT_HOST"), port or int(setting("EQUIPMENT_MQTT_PORT"))
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"mes-simulated-gateway-{gateway_id}")
    client.reconnect_delay_set(1, 30)
    client.connect_async(host, port, 30)
    client.loop_start()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # signals can only be caught there
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    started, last = utcnow(), utcnow().replace(microsecond=0)
    click.echo(f"publishing {len(machines)} machines of {factory} to {host}:{port} every {interval:g} s (Ctrl+C stops)")
    try:
        while not stop.is_set():
            now = utcnow().replace(microsecond=0)
            hours = (now - started).total_seconds() / 3600
            for machine in machines:
                points = []
                second = last
                while second < now:
                    second += dt.timedelta(seconds=1)
                    points.extend(machine.step(second, hours))
                if points:
                    topic = signing.machine_topic(root, factory, machine.code)
                    client.publish(topic, signing.envelope(gateway_id, key, topic, points), qos=1)
            last = now
            if duration is not None and (now - started).total_seconds() >= duration:
                break
            stop.wait(interval)
    finally:
        client.loop_stop()
        client.disconnect()
