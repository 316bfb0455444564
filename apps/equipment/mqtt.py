"""The MQTT subscriber: a leader service of ``mes worker`` (see the manifest's ``leader_services``).

It subscribes to every factory's telemetry topics (:mod:`apps.equipment.signing` documents topics and
messages) with QoS 1 and a persistent session, so the broker keeps messages while the subscriber is away.
paho's network thread only queues messages; this thread drains the queue in batches, checks each message's
gateway signature and factory, stores the batch (one transaction per factory) and only then acknowledges the
messages (manual PUBACK): a message is acknowledged once its points are committed, or once it was found
unreadable. Unreadable and unauthorised messages are counted and logged with the reason, never retried, and
never stop the subscriber; gateways are told about rejected points and unknown codes on their feedback topic.
A refused message whose signature proves its gateway is also recorded on that gateway (last error, rejected
count), where its factory's administrators see it; an unsigned or forged one names no gateway it can be
trusted to come from, so it is only logged.

With ``EQUIPMENT_MQTT_ACCOUNTS`` on, the broker has accounts and the subscriber keeps the gateways' ones in step
(:mod:`.broker`): at every connect it does so before it subscribes, then every
``EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS``.

Connection losses are handled by paho's reconnect loop with exponential back-off (1 s doubling up to
``EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS``); subscriptions are renewed on every connect. A database outage keeps
the batch unacknowledged and retries it with back-off.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
import sqlalchemy as sa
from flask import Flask

from apps.equipment import broker, ingest, signing
from apps.equipment.models import Gateway
from apps.equipment.settings import setting
from apps.equipment.store import store
from platform_core.db import SKIP_TENANT_FILTER, Actor, db, utcnow
from platform_core.identity.models import ApiToken
from platform_core.tenants.models import Tenant, TenantApp, TenantStatus

log = logging.getLogger(__name__)

GATEWAY_CACHE_SECONDS = 30  # a revoked token stops working within this time
STATS_EVERY_SECONDS = 60


def mqtt_subscriber(app: Flask, stop: threading.Event) -> None:
    """Leader service: run the subscriber until leadership ends (idle when MQTT is switched off)."""
    with app.app_context():
        enabled = setting("EQUIPMENT_MQTT_ENABLED")
    if not enabled:
        stop.wait()
        return
    Subscriber(app).run(stop)


@dataclass(frozen=True)
class GatewayInfo:
    id: int
    prefix: str  # the gateway's public id, named in its messages and feedback topic
    name: str
    tenant_id: int
    factory: str
    key: str


@dataclass
class Pending:
    """A received message on its way to the database."""

    message: paho.MQTTMessage
    topic: signing.Topic | None = None
    gateway: GatewayInfo | None = None
    points: list = field(default_factory=list)


class Subscriber:
    def __init__(self, app: Flask) -> None:
        self.app = app
        with app.app_context():
            self.config = {name: setting(name) for name in _CONFIG}
        self.root = self.config["EQUIPMENT_MQTT_TOPIC_PREFIX"]
        self.inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.stats: collections.Counter[str] = collections.Counter()
        self.connected = threading.Event()
        self._gateways: dict[str, tuple[float, GatewayInfo | None]] = {}
        self.client = self._client()
        self.accounts = broker.DynamicSecurity(self.client) if self.config["EQUIPMENT_MQTT_ACCOUNTS"] else None
        self._subscribed = threading.Event()  # the telemetry subscriptions of the current connection are made
        self._accounts_synced_at = float("-inf")

    def _client(self) -> paho.Client:
        config = self.config
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=config["EQUIPMENT_MQTT_CLIENT_ID"],
            clean_session=False,  # the broker keeps our subscription and queues QoS 1 messages while we are away
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        if config["EQUIPMENT_MQTT_USERNAME"]:
            client.username_pw_set(config["EQUIPMENT_MQTT_USERNAME"], config["EQUIPMENT_MQTT_PASSWORD"])
        if config["EQUIPMENT_MQTT_TLS"]:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=int(config["EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS"]))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = lambda _client, _userdata, message: self.inbox.put(message)
        return client

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        self._subscribed.clear()
        if self.accounts is None:
            self._subscribe()
        else:  # the accounts first (our own role included), from the loop: answers arrive on this thread
            self.accounts.listen()
            self._accounts_synced_at = float("-inf")
        self.connected.set()
        log.warning(
            "MQTT subscriber connected to %s:%s", self.config["EQUIPMENT_MQTT_HOST"], self.config["EQUIPMENT_MQTT_PORT"]
        )

    def _subscribe(self) -> None:
        self.client.subscribe([(topic, 1) for topic in signing.subscriptions(self.root)])
        self._subscribed.set()

    def _keep_accounts(self) -> None:
        """Sync the broker's gateway accounts when due; the first sync of a connection opens the telemetry."""
        due = self._accounts_synced_at + float(self.config["EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS"])
        if self.accounts is None or not self.connected.is_set() or time.monotonic() < due:
            return
        self._accounts_synced_at = time.monotonic()
        try:
            with self.app.app_context():
                created, deleted = broker.sync(self.accounts, self.root, self.config["EQUIPMENT_MQTT_USERNAME"])
        except (broker.BrokerRefused, sa.exc.OperationalError) as problem:
            log.warning("MQTT broker accounts not synced (retrying later): %s", problem)
            return
        if created or deleted:
            log.warning("MQTT broker accounts: %d gateway accounts created, %d deleted", created, deleted)
        if not self._subscribed.is_set():
            self._subscribe()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected.clear()
        if self.accounts is not None:
            self.accounts.abandon()
        log.warning("MQTT subscriber disconnected (%s); reconnecting with back-off", reason_code)

    # --- the loop -----------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.client.connect_async(self.config["EQUIPMENT_MQTT_HOST"], int(self.config["EQUIPMENT_MQTT_PORT"]), 30)
        self.client.loop_start()  # paho's thread: network I/O and reconnection with back-off
        last_stats = time.monotonic()
        try:
            while not stop.is_set():
                self._keep_accounts()
                batch = self._next_batch(timeout=0.2)
                if batch:
                    self._process_with_retry(batch, stop)
                if time.monotonic() - last_stats > STATS_EVERY_SECONDS:
                    log.info("MQTT ingest: %s", dict(self.stats))
                    last_stats = time.monotonic()
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def _next_batch(self, timeout: float) -> list[paho.MQTTMessage]:
        try:
            batch = [self.inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        limit = self.config["EQUIPMENT_MQTT_BATCH_POINTS"]
        size = len(batch[0].payload) // 60  # rough points per message, to size the batch
        deadline = time.monotonic() + float(self.config["EQUIPMENT_MQTT_BATCH_SECONDS"])
        while size < limit:
            wait = deadline - time.monotonic()
            try:
                message = self.inbox.get_nowait() if wait <= 0 else self.inbox.get(timeout=min(wait, 0.01))
            except queue.Empty:
                if wait <= 0 or self.inbox.empty():
                    break
                continue
            batch.append(message)
            size += len(message.payload) // 60
        return batch

    def _process_with_retry(self, batch: list[paho.MQTTMessage], stop: threading.Event) -> None:
        delay = 1.0
        while True:
            try:
                self.process(batch)
                return
            except sa.exc.OperationalError:
                log.warning("database unavailable; retrying %d MQTT messages in %.0f s", len(batch), delay)
                if stop.wait(delay):
                    return  # shutting down: the broker redelivers the unacknowledged messages later
                delay = min(delay * 2, 60.0)

    # --- one batch ----------------------------------------------------------------------------------------------

    def process(self, batch: list[paho.MQTTMessage]) -> None:
        """Check, store and acknowledge a batch of messages."""
        with self.app.app_context():
            by_tenant: dict[int, list[Pending]] = collections.defaultdict(list)
            done: list[Pending] = []
            for message in batch:
                pending = self._admit(message)
                (by_tenant[pending.gateway.tenant_id] if pending.gateway else done).append(pending)
            for tenant_id, items in by_tenant.items():
                try:
                    self._store_tenant(tenant_id, items)
                except sa.exc.OperationalError:
                    raise  # the database is away: retry the whole batch later, nothing acknowledged
                except Exception:  # a message that breaks the ingest must not block every later one
                    self.stats["failed"] += len(items)
                    log.exception(
                        "MQTT batch of factory %s could not be stored; its %d messages are dropped",
                        tenant_id,
                        len(items),
                    )
                done.extend(items)
            for pending in done:
                self.client.ack(pending.message.mid, pending.message.qos)

    def _admit(self, message: paho.MQTTMessage) -> Pending:
        """Parse and authenticate a message; problems are counted, logged and leave ``gateway`` empty."""
        pending = Pending(message)
        self.stats["messages"] += 1
        try:
            pending.topic = signing.parse_topic(self.root, message.topic)
            envelope = signing.open_envelope(message.payload)
        except signing.Malformed as problem:
            self._refuse("malformed", message, str(problem))
            return pending
        gateway = self._gateway(envelope.gateway)
        if gateway is None or not envelope.verify(gateway.key, message.topic):
            self._refuse("unauthorised", message, f"unknown gateway or bad signature (gateway {envelope.gateway!r})")
            return pending
        if gateway.factory != pending.topic.factory:
            self._refuse("unauthorised", message, f"gateway {gateway.name!r} may not write to {pending.topic.factory}")
            self._tell_gateway(gateway, f"topic {message.topic}: this gateway belongs to another factory")
            return pending
        try:
            pending.points = envelope.points()
        except signing.Malformed as problem:
            self._refuse("malformed", message, str(problem))
            self._tell_gateway(gateway, str(problem))
            return pending
        pending.gateway = gateway
        return pending

    def _tell_gateway(self, gateway: GatewayInfo, error: str) -> None:
        """A signed message of this gateway was refused: say why on its feedback topic and on its record."""
        self._feedback(gateway, {"error": error})
        with db.unit_of_work(gateway.tenant_id, actor=Actor(f"gateway:{gateway.name}")) as session:
            ingest.record_gateway_error(session, gateway.id, error)

    def _refuse(self, kind: str, message: paho.MQTTMessage, reason: str) -> None:
        self.stats[kind] += 1
        log.warning("MQTT message on %s refused (%s): %s", message.topic, kind, reason)

    def _store_tenant(self, tenant_id: int, items: list[Pending]) -> None:
        """One transaction per factory: check every message's points, store them per gateway, react once."""
        results: list[tuple[Pending, ingest.IngestResult]] = []
        with db.unit_of_work(tenant_id, actor=Actor(f"gateway:{items[0].gateway.name}")) as session:
            catalog = ingest.Catalog.load(session)
            rows_by_gateway: dict[int, list] = collections.defaultdict(list)
            for pending in items:
                try:
                    rows, result = ingest.prepare(catalog, pending.points, pending.topic.machine)
                except ValueError as problem:  # too many points
                    self._refuse("malformed", pending.message, str(problem))
                    self._feedback(pending.gateway, {"error": str(problem)})
                    ingest.record_gateway_error(session, pending.gateway.id, str(problem))
                    continue
                rows_by_gateway[pending.gateway.id].extend(rows)
                results.append((pending, result))
            all_rows = []
            for gateway_id, rows in rows_by_gateway.items():
                stored = store(session, tenant_id, rows)
                mine = [r for p, r in results if p.gateway.id == gateway_id]
                summary = ingest.IngestResult(
                    accepted=stored,
                    duplicates=len(rows) - stored,
                    rejected_count=sum(r.rejected_count for r in mine),
                    rejected=[e for r in mine for e in r.rejected][: ingest.MAX_REPORTED],
                )
                ingest.record_gateway(session, gateway_id, summary)
                self.stats["points_stored"] += stored
                self.stats["points_duplicate"] += len(rows) - stored
                all_rows.extend(rows)
            ingest.react(session, all_rows, catalog.by_id)
        for pending, result in results:
            self.stats["points_rejected"] += result.rejected_count
            if result.rejected_count or result.unknown_machines or result.unknown_metrics:
                self._feedback(pending.gateway, {"topic": pending.message.topic, **result.as_dict()})

    def _feedback(self, gateway: GatewayInfo, body: dict[str, Any]) -> None:
        topic = signing.feedback_topic(self.root, gateway.factory, gateway.prefix)
        self.client.publish(topic, json.dumps({"at": utcnow().isoformat(), **body}), qos=1)

    # --- gateways -----------------------------------------------------------------------------------------------

    def _gateway(self, prefix: str) -> GatewayInfo | None:
        cached = self._gateways.get(prefix)
        if cached is not None and time.monotonic() - cached[0] < GATEWAY_CACHE_SECONDS:
            return cached[1]
        info = find_gateway(prefix)
        self._gateways[prefix] = (time.monotonic(), info)
        return info


def find_gateway(prefix: str) -> GatewayInfo | None:
    """The live gateway with this token id: token valid, factory active with the equipment app enabled."""
    with db.unit_of_work() as session:
        row = session.execute(
            sa.select(Gateway, ApiToken, Tenant)
            .join(ApiToken, ApiToken.id == Gateway.token_id)
            .join(Tenant, Tenant.id == Gateway.tenant_id)
            .where(Gateway.prefix == prefix)
            .execution_options(**{SKIP_TENANT_FILTER: True})  # the message names its gateway before any tenant
        ).first()
        if row is None:
            return None
        gateway, token, tenant = row
        expired = token.expires_at is not None and token.expires_at <= utcnow()
        if token.revoked_at is not None or expired or tenant.status is not TenantStatus.ACTIVE:
            return None
        enabled = session.scalar(
            sa.select(TenantApp.app).where(TenantApp.tenant_id == tenant.id, TenantApp.app == "equipment")
        )
        if enabled is None:
            return None
        return GatewayInfo(gateway.id, gateway.prefix, gateway.name, tenant.id, tenant.code, gateway.signing_key)


_CONFIG = (
    "EQUIPMENT_MQTT_HOST",
    "EQUIPMENT_MQTT_PORT",
    "EQUIPMENT_MQTT_USERNAME",
    "EQUIPMENT_MQTT_PASSWORD",
    "EQUIPMENT_MQTT_TLS",
    "EQUIPMENT_MQTT_ACCOUNTS",
    "EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS",
    "EQUIPMENT_MQTT_CLIENT_ID",
    "EQUIPMENT_MQTT_TOPIC_PREFIX",
    "EQUIPMENT_MQTT_BATCH_POINTS",
    "EQUIPMENT_MQTT_BATCH_SECONDS",
    "EQUIPMENT_MQTT_RECONNECT_MAX_SECONDS",
)
