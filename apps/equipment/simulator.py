"""A simulated gateway for the demo: publishes telemetry of the monitored machines over MQTT, signed like a real
gateway's messages (see :mod:`apps.equipment.signing`).

Each machine runs jobs of 20-90 minutes with the spindle at 1,800-3,000 rpm, stops for a few minutes between
parts batches, sometimes stands idle for longer; its part counter counts at 80-95 % of the ideal cycle time; its
spindle temperature follows the load. Vibration is the bearing's condition, whatever the load: steady around
1.8 mm/s with an hourly wander and second-to-second noise, plus on the degrading machine (CNC-03 in the demo)
the wear of :func:`wear`, the curve the demo's history was written with. The simulator reads how far that wear
has gone from the machine's latest hourly averages (:func:`days_worn`) and follows the curve on from there, so
the live series continues the history instead of stepping away from it. One point per metric and machine every
second, published every ``interval`` seconds as one message per machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import signal
import statistics
import threading
import zlib
from dataclasses import dataclass, field

import click
import paho.mqtt.client as paho
import sqlalchemy as sa
from sqlalchemy.orm import Session

from apps.equipment import configuration, signing
from apps.equipment.models import Gateway, MachineConfig, Metric, RollupHour
from apps.equipment.settings import setting
from platform_core.db import Actor, db, utcnow
from platform_core.masterdata.models import Machine
from platform_core.tenants.models import Tenant

log = logging.getLogger(__name__)
DEFAULT_DEGRADING = "CNC-03"
HEALTHY_VIBRATION = 1.8  # mm/s, a sound spindle bearing
HOURLY_WANDER = 0.12  # mm/s, how much one hour's average strays from the level
SECOND_NOISE = 0.08  # mm/s, the scatter of single readings
WEAR_SCALE_DAYS = 10.0
WEAR_AT_SCALE = 3.0  # mm/s of extra vibration after WEAR_SCALE_DAYS of wear
WEAR_GROWTH = 1.6  # how much faster the wear goes at the end of the scale than at its start (e^1.6 ≈ 5 ×)
RECENT_HOURS = 3  # hourly averages that tell how far the wear has gone


def wear(days: float) -> float:
    """Extra vibration (mm/s) of a bearing wearing for ``days``: slow at first, faster and faster."""
    if days <= 0:
        return 0.0
    return WEAR_AT_SCALE * math.expm1(WEAR_GROWTH * days / WEAR_SCALE_DAYS) / math.expm1(WEAR_GROWTH)


def wear_days(extra: float) -> float:
    """How many days of :func:`wear` give ``extra`` mm/s of vibration (0 for a healthy level)."""
    if extra <= 0:
        return 0.0
    return WEAR_SCALE_DAYS / WEAR_GROWTH * math.log1p(extra / WEAR_AT_SCALE * math.expm1(WEAR_GROWTH))


def days_worn(session: Session, machine_id: int, metric_id: int, now: dt.datetime) -> float:
    """How far a machine's wear has gone at ``now``, from its latest hourly vibration averages.

    The level of the newest hours gives the age on the wear curve at their middle; the bearing went on wearing
    since then, data or not. A machine without history starts healthy.
    """
    rows = session.execute(
        sa.select(RollupHour.bucket, RollupHour.sum / RollupHour.count)
        .where(
            RollupHour.machine_id == machine_id,
            RollupHour.metric_id == metric_id,
            RollupHour.bucket < now,
            RollupHour.count > 0,
        )
        .order_by(RollupHour.bucket.desc())
        .limit(RECENT_HOURS)
    ).all()
    if not rows:
        return 0.0
    level = statistics.fmean(float(average) for _bucket, average in rows)
    newest, oldest = rows[0][0], rows[-1][0]
    measured_at = oldest + (newest - oldest) / 2 + dt.timedelta(minutes=30)  # the middle of those hours
    return wear_days(level - HEALTHY_VIBRATION) + max(0.0, (now - measured_at) / dt.timedelta(days=1))


@dataclass
class SimulatedMachine:
    code: str
    cycle_s: float
    rng: random.Random
    degrading: bool = False
    worn_days: float = 0.0  # the degrading machine's wear when the simulation starts
    temperature: float = 36.0
    counter: int = field(default=0)
    running: bool = True
    phase_left_s: float = 0.0
    part_progress: float = 0.0
    wander_hour: int | None = None
    wander: float = 0.0

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
        vibration = self.vibration(ts, hours_elapsed)
        stamp = ts.isoformat().replace("+00:00", "Z")
        return [
            {"metric": "spindle_speed", "ts": stamp, "value": round(max(speed, 0.0), 1)},
            {"metric": "part_count", "ts": stamp, "value": self.counter},
            {"metric": "vibration", "ts": stamp, "value": round(max(vibration, 0.0), 3)},
            {"metric": "spindle_temp", "ts": stamp, "value": round(self.temperature, 2)},
        ]

    def vibration(self, ts: dt.datetime, hours_elapsed: float) -> float:
        """The bearing's level (healthy, plus wear on the degrading machine), its hourly wander and the noise."""
        hour = int(ts.timestamp() // 3600)
        if hour != self.wander_hour:
            self.wander_hour, self.wander = hour, self.rng.gauss(0, HOURLY_WANDER)
        level = HEALTHY_VIBRATION + (wear(self.worn_days + hours_elapsed / 24) if self.degrading else 0.0)
        return level + self.wander + self.rng.gauss(0, SECOND_NOISE)


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
                sim.worn_days = days_worn(session, machine.id, vibration_id, utcnow())
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
    client.username_pw_set(signing.broker_username(gateway_id), signing.broker_password(key))  # accounts or not
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
