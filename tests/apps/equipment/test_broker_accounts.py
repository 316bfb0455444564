"""Broker accounts through a real Mosquitto with its dynamic security plugin, as in production: strangers are
refused, a gateway reads and writes only its own factory's topics, a revoked gateway is locked out, and the
subscriber (the plugin's administrator) keeps the accounts in step with the gateways by itself."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
import sqlalchemy as sa

from apps.equipment import configuration, signing
from apps.equipment.models import Gateway
from platform_core.db import db
from tests.apps.equipment.test_mqtt import committed_factory, points, stored_points, subscriber, wait_for
from tests.services import MosquittoBroker
from tests.support import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.backends("postgresql")]  # the broker is the same on either database

SYNC_SECONDS = 0.5


@pytest.fixture(scope="module")
def broker() -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker(accounts=True)
    if not broker.available:
        unavailable("mosquitto, mosquitto_ctrl or the dynamic security plugin not found")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def accounts(live_app, monkeypatch, broker):
    """The subscriber of ``live_app`` signs in as the plugin's administrator and keeps the accounts."""
    username, password = broker.ADMIN
    for name, value in (
        ("EQUIPMENT_MQTT_ACCOUNTS", True),
        ("EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS", SYNC_SECONDS),
        ("EQUIPMENT_MQTT_USERNAME", username),
        ("EQUIPMENT_MQTT_PASSWORD", password),
    ):
        monkeypatch.setitem(live_app.config, name, value)
    return broker.port


class Client:
    """A plain MQTT client that records what the broker answers: the CONNACK, each SUBACK, every message."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None) -> None:
        self.connack: paho.ReasonCode | None = None
        self.granted: dict[int, bool] = {}  # by message id: the SUBACK may come before subscribe() returns
        self.received: list[str] = []
        self.disconnected = threading.Event()
        self._answered = threading.Event()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"probe-{secrets.token_hex(4)}")
        if username is not None:
            client.username_pw_set(username, password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = lambda *_args: self.disconnected.set()
        client.on_message = lambda _c, _u, message: self.received.append(message.topic)
        client.reconnect_delay_set(60, 60)  # a refused client does not keep knocking during the test
        self.client = client
        client.connect("127.0.0.1", port)
        client.loop_start()
        self._answered.wait(5)

    def _on_connect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connack = reason_code
        self._answered.set()

    def _on_subscribe(self, _client, _userdata, mid, reason_codes, _properties) -> None:
        self.granted[mid] = not reason_codes[0].is_failure

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def subscribe(self, topic: str) -> bool:
        _result, mid = self.client.subscribe(topic, qos=1)
        assert wait_for(lambda: mid in self.granted, 5), f"no SUBACK for {topic}"
        return self.granted[mid]

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def gateway_client(port: int, secret: str) -> Client:
    gateway = signing.token_id(secret)
    return Client(port, signing.broker_username(gateway), signing.broker_password(signing.signing_key(secret)))


def signed_in(port: int, secret: str, timeout: float = 10.0) -> Client:
    """The gateway's client once the subscriber has created its account (it syncs every SYNC_SECONDS)."""
    found: list[Client] = []

    def attempt() -> bool:
        client = gateway_client(port, secret)
        if client.accepted:
            found.append(client)
            return True
        client.close()
        return False

    assert wait_for(attempt, timeout), "the gateway's account was never created"
    return found[0]


def test_strangers_are_refused_and_a_gateway_reads_and_writes_only_its_own_factory(
    live_app, make_committed, monkeypatch, accounts
):
    a_id, a_code, a_secret = committed_factory(make_committed, machines=("ACL-1",))
    b_id, b_code, _b_secret = committed_factory(make_committed, machines=("ACL-1",))
    a_gateway = signing.token_id(a_secret)
    stranger = Client(accounts)
    assert not stranger.accepted  # anonymous clients are refused
    stranger.close()
    with subscriber(live_app, monkeypatch, accounts):
        gateway = signed_in(accounts, a_secret)
        try:
            wrong = Client(accounts, signing.broker_username(a_gateway), "not-the-password")
            assert not wrong.accepted
            wrong.close()
            # reads: only its own feedback topic
            assert gateway.subscribe(signing.feedback_topic("mes", a_code, a_gateway))
            assert not gateway.subscribe("mes/#")
            assert not gateway.subscribe(signing.machine_topic("mes", b_code, "ACL-1"))
            assert not gateway.subscribe(signing.feedback_topic("mes", b_code, "+"))
            # writes: B's topic is dropped by the broker, its own topic is stored and answered on its feedback
            b_topic = signing.machine_topic("mes", b_code, "ACL-1")
            gateway.publish(b_topic, signing.envelope(a_gateway, signing.signing_key(a_secret), b_topic, points(9.0)))
            a_topic = signing.machine_topic("mes", a_code, "ACL-1")
            batch = [*points(1.0), {"metric": "pressure", "ts": points(0.0)[0]["ts"], "value": 2}]
            gateway.publish(a_topic, signing.envelope(a_gateway, signing.signing_key(a_secret), a_topic, batch))
            assert wait_for(lambda: len(stored_points(live_app, a_id)) == 1)
            feedback = signing.feedback_topic("mes", a_code, a_gateway)
            assert wait_for(lambda: feedback in gateway.received)  # the subscriber may publish feedback
        finally:
            gateway.close()
    assert stored_points(live_app, b_id) == []


def test_a_revoked_gateway_is_locked_out_of_the_broker(live_app, make_committed, monkeypatch, accounts):
    tenant_id, _code, secret = committed_factory(make_committed, machines=("RV-2",))
    with subscriber(live_app, monkeypatch, accounts):
        gateway = signed_in(accounts, secret)
        try:
            with live_app.app_context(), db.unit_of_work(tenant_id) as session:
                configuration.revoke_gateway(session, session.scalars(sa.select(Gateway)).one())
            assert gateway.disconnected.wait(10), "the revoked gateway stayed connected"
        finally:
            gateway.close()
        again = gateway_client(accounts, secret)
        assert not again.accepted
        again.close()
