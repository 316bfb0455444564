"""MQTT topics and signed messages: how a gateway proves which factory it writes for.

Topics (``<root>`` is ``mes`` unless ``EQUIPMENT_MQTT_TOPIC_PREFIX`` says otherwise; codes as in master data)::

    <root>/<factory code>/machines/<machine code>/telemetry    points of one machine
    <root>/<factory code>/telemetry                            points naming their machines
    <root>/<factory code>/gateways/<gateway id>/feedback       the product's answers (rejected, unknown codes)

Every message is a JSON envelope, published with QoS 1::

    {"gateway": "<gateway id>", "body": "<points as JSON text>", "sig": "<hex HMAC-SHA256>"}

``body`` is the JSON array of points ``[{"metric", "ts", "value"}]`` (plus ``"machine"`` on the factory topic)
as *text*, so that the signature covers exact bytes and no JSON canonicalisation is needed on either side.
``sig = HMAC-SHA256(key, topic + "\\n" + body)`` where the key is derived from the gateway's API token:
``key = HMAC-SHA256(token, "mes-mqtt-v1")`` (hex). ``gateway`` is the token's public id (``mes_<id>_...``).

Where the broker has accounts (:mod:`.broker`), a gateway signs in as ``gw-<gateway id>`` with the password
``HMAC-SHA256(key, "mes-mqtt-broker-v1")`` (hex): a password seen on the wire does not give the key away.

The product stores only the derived key (the token itself is kept as a hash, like every API token). A message
is accepted when its gateway exists, its token is neither revoked nor expired, the signature matches, and the
factory in the topic is the gateway's own: a gateway can write its own factory's machines and nothing else,
whoever else shares the broker. A captured message replayed later changes nothing (points are deduplicated).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

KEY_CONTEXT = b"mes-mqtt-v1"
BROKER_CONTEXT = b"mes-mqtt-broker-v1"
BROKER_ACCOUNT_PREFIX = "gw-"


class Malformed(ValueError):
    """A message that cannot be read: counted, logged with this reason, acknowledged and dropped."""


def signing_key(token_secret: str) -> str:
    """The MQTT signing key of a gateway, derived from its API token."""
    return hmac.new(token_secret.encode(), KEY_CONTEXT, hashlib.sha256).hexdigest()


def broker_password(key: str) -> str:
    """A gateway's password on the broker, derived from its signing key."""
    return hmac.new(key.encode(), BROKER_CONTEXT, hashlib.sha256).hexdigest()


def broker_username(gateway: str) -> str:
    """A gateway's account on the broker."""
    return f"{BROKER_ACCOUNT_PREFIX}{gateway}"


def token_id(token_secret: str) -> str:
    """The public id of an API token (``mes_<id>_<secret>``)."""
    parts = token_secret.split("_", 2)
    if len(parts) != 3:
        raise ValueError("not an API token")
    return parts[1]


def signature(key: str, topic: str, body: str) -> str:
    return hmac.new(key.encode(), f"{topic}\n{body}".encode(), hashlib.sha256).hexdigest()


def envelope(gateway: str, key: str, topic: str, points: list[dict]) -> bytes:
    """The message a gateway publishes (what ``mes simulate-gateway`` does; any language can do the same)."""
    body = json.dumps(points, separators=(",", ":"), ensure_ascii=False)
    return json.dumps({"gateway": gateway, "body": body, "sig": signature(key, topic, body)}).encode()


@dataclass(frozen=True)
class Envelope:
    gateway: str
    body: str
    sig: str

    def verify(self, key: str, topic: str) -> bool:
        return hmac.compare_digest(signature(key, topic, self.body), self.sig)

    def points(self) -> list:
        try:
            points = json.loads(self.body)
        except ValueError as error:
            raise Malformed(f"body is not JSON: {error}") from error
        if not isinstance(points, list):
            raise Malformed("body is not a JSON array of points")
        return points


def open_envelope(payload: bytes) -> Envelope:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise Malformed(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise Malformed("not a JSON object")
    fields = [data.get(name) for name in ("gateway", "body", "sig")]
    if not all(isinstance(f, str) and f for f in fields):
        raise Malformed("needs the text fields gateway, body and sig")
    return Envelope(*fields)


@dataclass(frozen=True)
class Topic:
    factory: str
    machine: str | None  # None on the factory-wide topic


def parse_topic(root: str, topic: str) -> Topic:
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == root and parts[2] == "machines" and parts[4] == "telemetry":
        return Topic(parts[1], parts[3])
    if len(parts) == 3 and parts[0] == root and parts[2] == "telemetry":
        return Topic(parts[1], None)
    raise Malformed(f"unexpected topic {topic!r}")


def subscriptions(root: str) -> list[str]:
    return [f"{root}/+/machines/+/telemetry", f"{root}/+/telemetry"]


def machine_topic(root: str, factory: str, machine: str) -> str:
    return f"{root}/{factory}/machines/{machine}/telemetry"


def factory_topic(root: str, factory: str) -> str:
    return f"{root}/{factory}/telemetry"


def feedback_topic(root: str, factory: str, gateway: str) -> str:
    return f"{root}/{factory}/gateways/{gateway}/feedback"
