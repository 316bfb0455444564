"""Broker accounts: who may read and write what on the MQTT broker, kept in step with the gateways.

Signatures already stop a client from writing for a factory that is not its own (:mod:`.signing`); accounts
also stop it from *reading* another factory's telemetry and feedback, and strangers from using the broker at
all. With ``EQUIPMENT_MQTT_ACCOUNTS`` on, the broker runs Mosquitto's dynamic security plugin with anonymous
clients refused, and the subscriber signs in as the plugin's administrator (``EQUIPMENT_MQTT_USERNAME`` /
``EQUIPMENT_MQTT_PASSWORD``, the account ``mosquitto_ctrl dynsec init`` created). Whenever it connects, and
every ``EQUIPMENT_MQTT_ACCOUNTS_SYNC_SECONDS`` after, it makes the broker's accounts match the live gateways:

* every live gateway (token valid, factory active with the app enabled) has the account ``gw-<gateway id>``
  with the password :func:`apps.equipment.signing.broker_password` of its key, which the gateway derives from
  its token; its role lets it publish to its own factory's telemetry topics and subscribe to its own feedback
  topic, nothing else;
* an account ``gw-…`` whose gateway was revoked, expired, deleted or whose factory was suspended is deleted,
  and the broker disconnects it at once;
* the subscriber's own account gets the role ``mes-ingest``: read every factory's telemetry topics, publish
  the gateways' feedback.

Commands go to ``$CONTROL/dynamic-security/v1`` and are answered on its ``/response`` topic, matched by
correlation data.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
import sqlalchemy as sa

from apps.equipment import signing
from apps.equipment.models import Gateway
from platform_core.db import SKIP_TENANT_FILTER, db, utcnow
from platform_core.identity.models import ApiToken
from platform_core.tenants.models import Tenant, TenantApp, TenantStatus

log = logging.getLogger(__name__)

CONTROL = "$CONTROL/dynamic-security/v1"
RESPONSES = f"{CONTROL}/response"
INGEST_ROLE = "mes-ingest"
ANSWER_SECONDS = 10.0


class BrokerRefused(RuntimeError):
    """The broker answered a command with an error, or not at all."""


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    acls: tuple[tuple[str, str], ...]  # (ACL type, topic), all allowed

    @property
    def role(self) -> str:
        return self.username  # one role per gateway account, named like it


def gateway_account(root: str, factory: str, gateway_id: str, key: str) -> Account:
    return Account(
        username=signing.broker_username(gateway_id),
        password=signing.broker_password(key),
        acls=(
            ("publishClientSend", signing.factory_topic(root, factory)),
            ("publishClientSend", signing.machine_topic(root, factory, "+")),
            ("subscribeLiteral", signing.feedback_topic(root, factory, gateway_id)),
        ),
    )


def ingest_acls(root: str) -> tuple[tuple[str, str], ...]:
    reads = tuple(("subscribeLiteral", topic) for topic in signing.subscriptions(root))
    return (*reads, ("publishClientSend", signing.feedback_topic(root, "+", "+")))


def live_gateway_accounts(root: str) -> dict[str, Account]:
    """The account every live gateway of every factory should have, by username."""
    now = utcnow()
    with db.unit_of_work() as session:
        rows = session.execute(
            sa.select(Gateway.prefix, Gateway.signing_key, Tenant.code)
            .join(ApiToken, ApiToken.id == Gateway.token_id)
            .join(Tenant, Tenant.id == Gateway.tenant_id)
            .join(TenantApp, sa.and_(TenantApp.tenant_id == Tenant.id, TenantApp.app == "equipment"))
            .where(
                Tenant.status == TenantStatus.ACTIVE,
                ApiToken.revoked_at.is_(None),
                sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
            .execution_options(**{SKIP_TENANT_FILTER: True})  # the broker is shared by every factory
        ).all()
    accounts = (gateway_account(root, factory, prefix, key) for prefix, key, factory in rows)
    return {account.username: account for account in accounts}


class DynamicSecurity:
    """Commands to Mosquitto's dynamic security plugin over a connected client (not from its network thread)."""

    def __init__(self, client: paho.Client) -> None:
        self.client = client
        self._waiting: dict[str, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        client.message_callback_add(RESPONSES, self._on_response)

    def listen(self) -> None:
        """Subscribe to the answers (again after every reconnect)."""
        self.client.subscribe(RESPONSES, qos=0)  # QoS 0: the subscriber acknowledges its messages by hand

    def _on_response(self, _client, _userdata, message: paho.MQTTMessage) -> None:
        try:
            responses = json.loads(message.payload).get("responses", [])
        except (ValueError, AttributeError):
            log.warning("unreadable dynamic security response: %r", message.payload[:200])
            return
        for response in responses:
            with self._lock:
                waiting = self._waiting.get(response.get("correlationData"))
            if waiting is not None:
                waiting[1].append(response)
                waiting[0].set()

    def abandon(self) -> None:
        """The connection is gone: every command still waiting fails now (the next sync sends it again)."""
        with self._lock:
            waiting = list(self._waiting.values())
        for answered, answer in waiting:
            answer.append({"error": "disconnected before the broker answered"})
            answered.set()

    def call(self, command: str, *, tolerate: tuple[str, ...] = (), **arguments: Any) -> dict:
        """Run one command and return its ``data``; an error is raised unless it contains one of ``tolerate``."""
        correlation = secrets.token_hex(8)
        answered, answer = threading.Event(), []
        with self._lock:
            self._waiting[correlation] = (answered, answer)
        try:
            body = {"commands": [{"command": command, "correlationData": correlation, **arguments}]}
            # QoS 0: a command cut off by a disconnect is not replayed later; the next sync sends what is missing
            self.client.publish(CONTROL, json.dumps(body), qos=0)
            if not answered.wait(ANSWER_SECONDS):
                raise BrokerRefused(f"the broker did not answer {command} (is the dynamic security plugin loaded?)")
        finally:
            with self._lock:
                self._waiting.pop(correlation, None)
        error = answer[0].get("error")
        if error and not any(part in error for part in tolerate):
            raise BrokerRefused(f"{command}: {error}")
        return answer[0].get("data") or {}

    def usernames(self) -> set[str]:
        data = self.call("listClients", verbose=False, count=-1, offset=0)
        return set(data.get("clients", []))

    def ensure_role(self, name: str, acls: tuple[tuple[str, str], ...]) -> None:
        listed = [{"acltype": kind, "topic": topic, "allow": True} for kind, topic in acls]
        self.call("createRole", tolerate=("already exists",), rolename=name, acls=listed)

    def create(self, account: Account) -> None:
        self.ensure_role(account.role, account.acls)
        self.call(
            "createClient",
            tolerate=("already exists",),
            username=account.username,
            password=account.password,
            roles=[{"rolename": account.role}],
        )

    def delete(self, username: str) -> None:
        self.call("deleteClient", tolerate=("not found",), username=username)  # disconnects it too
        self.call("deleteRole", tolerate=("not found",), rolename=username)


def sync(dynsec: DynamicSecurity, root: str, own_username: str) -> tuple[int, int]:
    """Make the broker's gateway accounts match the live gateways; returns (created, deleted)."""
    dynsec.ensure_role(INGEST_ROLE, ingest_acls(root))
    own = dynsec.call("getClient", username=own_username).get("client", {})
    if INGEST_ROLE not in {role.get("rolename") for role in own.get("roles", [])}:
        # the broker disconnects a client whose roles change: the subscriber reconnects and syncs again
        dynsec.call("addClientRole", username=own_username, rolename=INGEST_ROLE)
    wanted = live_gateway_accounts(root)
    # only gateway accounts are managed here: any other account on the broker is left alone
    present = {name for name in dynsec.usernames() if name.startswith(signing.BROKER_ACCOUNT_PREFIX)}
    for username in sorted(wanted.keys() - present):
        dynsec.create(wanted[username])
    for username in sorted(present - wanted.keys()):
        dynsec.delete(username)
    return len(wanted.keys() - present), len(present - wanted.keys())
