"""Telemetry over MQTT through a real Mosquitto broker and the real subscriber (committed data):
signed messages stored once, factory isolation, forged and malformed messages refused without stopping the
subscriber, feedback to the gateway, and reconnection after the broker restarts."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import shutil
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import sqlalchemy as sa

from apps.equipment import configuration, signing
from apps.equipment.models import Gateway, TelemetryPoint
from apps.equipment.mqtt import mqtt_subscriber
from platform_core.db import Actor, db, set_actor, tenant_context, utcnow
from platform_core.masterdata import models as md
from tests.services import MosquittoBroker

pytestmark = pytest.mark.slow


def committed_factory(make_committed, machines=("GW-1",)):
    """A factory with machines, a temperature metric and a gateway; returns (tenant id, code, gateway secret)."""

    def recipe(make):
        tenant = make.tenant(code=f"MQ{secrets.token_hex(3).upper()}")
        with tenant_context(make.session, tenant.id):
            set_actor(make.session, Actor("test"))
            center = md.WorkCenter(code="WC", name="工作中心")
            make.session.add(center)
            for code in machines:
                make.session.add(md.Machine(code=code, name=code, work_center=center))
            make.session.flush()
            configuration.create_metric(make.session, code="temperature", name="温度", unit="°C")
            _gateway, secret = configuration.create_gateway(make.session, "edge", None)
        return tenant.id, tenant.code, secret

    return make_committed(recipe)


def stored_points(app, tenant_id: int) -> list[tuple[str, float]]:
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return [
            (row[0], row[1])
            for row in session.execute(
                sa.select(md.Machine.code, TelemetryPoint.value)
                .join(md.Machine, md.Machine.id == TelemetryPoint.machine_id)
                .order_by(TelemetryPoint.ts)
            )
        ]


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    return condition()


class GatewayBox:
    """A gateway box: signs its messages and listens to its feedback topic."""

    def __init__(self, port: int, factory: str, secret: str) -> None:
        self.factory, self.secret = factory, secret
        self.feedback: list[dict] = []
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"gw-{secrets.token_hex(4)}")
        self.client.on_message = lambda _c, _u, message: self.feedback.append(json.loads(message.payload))
        gateway, key = signing.token_id(secret), signing.signing_key(secret)
        self.client.username_pw_set(signing.broker_username(gateway), signing.broker_password(key))  # if asked
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(signing.feedback_topic("mes", factory, signing.token_id(secret)), qos=1)
        self.client.loop_start()

    def publish(self, topic: str, points: list[dict], *, secret: str | None = None) -> None:
        secret = secret or self.secret
        payload = signing.envelope(signing.token_id(secret), signing.signing_key(secret), topic, points)
        self.raw(topic, payload)

    def raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@contextlib.contextmanager
def subscriber(app, monkeypatch, port: int):
    monkeypatch.setitem(app.config, "EQUIPMENT_MQTT_ENABLED", True)
    monkeypatch.setitem(app.config, "EQUIPMENT_MQTT_PORT", port)
    monkeypatch.setitem(app.config, "EQUIPMENT_MQTT_CLIENT_ID", f"ingest-{secrets.token_hex(4)}")
    monkeypatch.setitem(app.config, "EQUIPMENT_MQTT_BATCH_SECONDS", 0.05)
    stop = threading.Event()
    thread = threading.Thread(target=mqtt_subscriber, args=(app, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # connected and subscribed
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the subscriber did not stop"


def points(*values: float, machine: str | None = None) -> list[dict]:
    now = utcnow()
    found = []
    for i, value in enumerate(values):
        point = {
            "metric": "temperature",
            "ts": (now - dt.timedelta(seconds=len(values) - i)).isoformat(),
            "value": value,
        }
        if machine:
            point["machine"] = machine
        found.append(point)
    return found


def test_signed_messages_are_stored_once_and_problems_reported_back(live_app, make_committed, mqtt_port, monkeypatch):
    tenant_id, factory, secret = committed_factory(make_committed, machines=("GW-1", "GW-2"))
    gateway = GatewayBox(mqtt_port, factory, secret)
    try:
        with subscriber(live_app, monkeypatch, mqtt_port) as thread:
            machine_topic = signing.machine_topic("mes", factory, "GW-1")
            first = points(20.5, 21.0, 21.5)
            gateway.publish(machine_topic, first)
            gateway.publish(machine_topic, first)  # a repeat after a lost acknowledgement
            gateway.publish(signing.factory_topic("mes", factory), points(30.0, machine="GW-2"))
            assert wait_for(lambda: len(stored_points(live_app, tenant_id)) == 4)
            gateway.raw(machine_topic, b"{not json")  # malformed: counted and dropped
            gateway.publish(machine_topic, [{"metric": "pressure", "ts": utcnow().isoformat(), "value": 1}])
            gateway.publish(signing.factory_topic("mes", factory), points(1.0, machine="NOPE"))
            assert wait_for(lambda: len(gateway.feedback) >= 2)
            gateway.publish(machine_topic, points(22.0))  # the subscriber is still alive
            assert wait_for(lambda: len(stored_points(live_app, tenant_id)) == 5)
            assert thread.is_alive()
    finally:
        gateway.close()
    assert sorted(stored_points(live_app, tenant_id)) == sorted(
        [("GW-1", 20.5), ("GW-1", 21.0), ("GW-1", 21.5), ("GW-2", 30.0), ("GW-1", 22.0)]
    )
    unknown = {tuple(f.get("unknown_metrics", [])) + tuple(f.get("unknown_machines", [])) for f in gateway.feedback}
    assert ("pressure",) in unknown and ("NOPE",) in unknown
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        counters = session.execute(sa.select(Gateway.points_accepted, Gateway.points_duplicate)).one()
    assert tuple(counters) == (5, 3)


def test_a_gateway_cannot_write_to_another_factory_nor_forge_a_signature(
    live_app, make_committed, mqtt_port, monkeypatch
):
    a_id, a_code, a_secret = committed_factory(make_committed, machines=("SAME-1",))
    b_id, b_code, b_secret = committed_factory(make_committed, machines=("SAME-1",))
    gateway_a = GatewayBox(mqtt_port, a_code, a_secret)
    try:
        with subscriber(live_app, monkeypatch, mqtt_port):
            b_topic = signing.machine_topic("mes", b_code, "SAME-1")
            gateway_a.publish(b_topic, points(99.0))  # A's valid signature on B's topic
            forged = signing.envelope(signing.token_id(b_secret), "0" * 64, b_topic, points(98.0))
            gateway_a.raw(b_topic, forged)  # claims to be B's gateway without B's key
            gateway_a.publish(signing.machine_topic("mes", a_code, "SAME-1"), points(10.0))
            assert wait_for(lambda: len(stored_points(live_app, a_id)) == 1)
            time.sleep(0.3)
    finally:
        gateway_a.close()
    assert stored_points(live_app, b_id) == []
    assert any("another factory" in f.get("error", "") for f in gateway_a.feedback)


def test_a_revoked_gateway_is_refused(live_app, make_committed, mqtt_port, monkeypatch):
    import apps.equipment.mqtt as mqtt_module

    monkeypatch.setattr(mqtt_module, "GATEWAY_CACHE_SECONDS", 0)
    tenant_id, factory, secret = committed_factory(make_committed, machines=("RV-1",))
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        configuration.revoke_gateway(session, session.scalars(sa.select(Gateway)).one())
    gateway = GatewayBox(mqtt_port, factory, secret)
    try:
        with subscriber(live_app, monkeypatch, mqtt_port):
            gateway.publish(signing.machine_topic("mes", factory, "RV-1"), points(1.0))
            time.sleep(0.5)
    finally:
        gateway.close()
    assert stored_points(live_app, tenant_id) == []


def test_the_subscriber_reconnects_after_the_broker_restarts(live_app, make_committed, monkeypatch):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto binary not found")
    tenant_id, factory, secret = committed_factory(make_committed, machines=("RC-1",))
    broker = MosquittoBroker()
    port = broker.start()
    monkeypatch.setitem(live_app.config, "EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS", 2)
    try:
        with subscriber(live_app, monkeypatch, port):
            gateway = GatewayBox(port, factory, secret)
            gateway.publish(signing.machine_topic("mes", factory, "RC-1"), points(1.0))
            assert wait_for(lambda: len(stored_points(live_app, tenant_id)) == 1)
            gateway.close()
            broker.stop(keep=True)  # the same port and settings when it comes back
            time.sleep(1.0)
            broker.start()
            gateway = GatewayBox(port, factory, secret)
            topic = signing.machine_topic("mes", factory, "RC-1")
            # until the subscriber is back, the broker (no persistence, new start) drops what nobody subscribed to
            assert wait_for(
                lambda: gateway.publish(topic, points(2.0)) or len(stored_points(live_app, tenant_id)) >= 2, 15
            )
            gateway.close()
    finally:
        broker.stop()
    assert [v for _m, v in stored_points(live_app, tenant_id)][:1] == [1.0]


def test_the_simulated_gateway_feeds_the_machines_through_the_broker(live_app, make_committed, mqtt_port, monkeypatch):
    from apps.equipment.models import MetricKind, State
    from apps.equipment.simulator import run

    def recipe(make):
        tenant = make.tenant(code=f"SIM{secrets.token_hex(2).upper()}")
        with tenant_context(make.session, tenant.id):
            set_actor(make.session, Actor("test"))
            center = md.WorkCenter(code="WC", name="工作中心")
            machine = md.Machine(code="CNC-03", name="车床", work_center=center, ideal_cycle_time_s=2)
            make.session.add(machine)
            make.session.flush()
            made = {
                code: configuration.create_metric(make.session, code=code, name=code, kind=kind)
                for code, kind in (
                    ("spindle_speed", MetricKind.GAUGE),
                    ("part_count", MetricKind.COUNTER),
                    ("vibration", MetricKind.GAUGE),
                    ("spindle_temp", MetricKind.GAUGE),
                )
            }
            configuration.set_machine_config(make.session, machine, run_metric=made["spindle_speed"], run_above=50)
            configuration.create_gateway(make.session, "edge", None)
        return tenant.id, tenant.code

    tenant_id, factory = make_committed(recipe)
    with subscriber(live_app, monkeypatch, mqtt_port), live_app.app_context():
        run(
            factory=factory,
            token=None,
            host="127.0.0.1",
            port=mqtt_port,
            interval=0.5,
            degrading="CNC-03",
            duration=2.5,
        )
        assert wait_for(lambda: len(stored_points(live_app, tenant_id)) >= 4 * 2)
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        from apps.equipment.models import MachineStatus, Metric

        metrics = set(
            session.scalars(sa.select(Metric.code).join(TelemetryPoint, TelemetryPoint.metric_id == Metric.id))
        )
        status = session.scalars(sa.select(MachineStatus)).one()
    assert metrics == {"spindle_speed", "part_count", "vibration", "spindle_temp"}
    assert status.state in (State.RUNNING, State.IDLE)  # the run signal drives the machine's state


def test_a_batch_that_breaks_the_ingest_is_dropped_and_the_subscriber_goes_on(
    live_app, make_committed, mqtt_port, monkeypatch
):
    from apps.equipment import ingest

    tenant_id, factory, secret = committed_factory(make_committed, machines=("PX-1",))
    real_react, calls = ingest.react, []

    def react_failing_once(session, rows, machines):
        calls.append(len(rows))
        if len(calls) == 1:
            raise RuntimeError("a bug met by one batch")
        return real_react(session, rows, machines)

    monkeypatch.setattr(ingest, "react", react_failing_once)
    gateway = GatewayBox(mqtt_port, factory, secret)
    try:
        with subscriber(live_app, monkeypatch, mqtt_port) as thread:
            topic = signing.machine_topic("mes", factory, "PX-1")
            gateway.publish(topic, points(1.0))
            assert wait_for(lambda: len(calls) == 1)
            time.sleep(0.2)
            gateway.publish(topic, points(2.0))
            assert wait_for(lambda: len(stored_points(live_app, tenant_id)) == 1)
            assert thread.is_alive()
    finally:
        gateway.close()
    assert [v for _m, v in stored_points(live_app, tenant_id)] == [2.0]  # the broken batch left nothing behind


def gateway_record(app, tenant_id: int) -> tuple[str | None, int]:
    """(last error, rejected count) of the factory's gateway."""
    with app.app_context(), db.unit_of_work(tenant_id) as session:
        return tuple(session.execute(sa.select(Gateway.last_error, Gateway.points_rejected)).one())


def test_refused_messages_of_a_known_gateway_are_recorded_on_it(live_app, make_committed, mqtt_port, monkeypatch):
    a_id, a_code, a_secret = committed_factory(make_committed, machines=("ER-1",))
    b_id, b_code, b_secret = committed_factory(make_committed, machines=("ER-1",))
    gateway_a, gateway_b = GatewayBox(mqtt_port, a_code, a_secret), GatewayBox(mqtt_port, b_code, b_secret)
    a_topic, b_topic = signing.machine_topic("mes", a_code, "ER-1"), signing.machine_topic("mes", b_code, "ER-1")
    try:
        with subscriber(live_app, monkeypatch, mqtt_port):
            body = json.dumps({"metric": "temperature", "value": 1})  # signed, but not an array of points
            key = signing.signing_key(a_secret)
            signed = {"gateway": signing.token_id(a_secret), "body": body, "sig": signing.signature(key, a_topic, body)}
            gateway_a.raw(a_topic, json.dumps(signed).encode())
            assert wait_for(lambda: gateway_record(live_app, a_id)[0] is not None)
            assert "not a JSON array" in gateway_record(live_app, a_id)[0]
            gateway_a.publish(b_topic, points(99.0))  # A's valid signature on B's topic
            assert wait_for(lambda: "another factory" in (gateway_record(live_app, a_id)[0] or ""))
            gateway_a.raw(b_topic, signing.envelope(signing.token_id(b_secret), "0" * 64, b_topic, points(98.0)))
            gateway_b.publish(b_topic, points(20.0))  # after the forgery in the queue: once stored, it was judged
            assert wait_for(lambda: len(stored_points(live_app, b_id)) == 1)
    finally:
        gateway_a.close()
        gateway_b.close()
    last_error, rejected = gateway_record(live_app, a_id)
    assert rejected == 2 and b_topic in last_error
    assert gateway_record(live_app, b_id) == (None, 0)  # a forged message names B but proves nothing: B is untouched
    assert stored_points(live_app, b_id) == [("ER-1", 20.0)]
