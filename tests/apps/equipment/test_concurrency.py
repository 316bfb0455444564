"""Never two open alarms for one rule and machine, with points arriving at once over HTTP (several gateway
requests in parallel) and MQTT (the real subscriber), on PostgreSQL with real commits."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from apps.equipment import configuration, signing
from apps.equipment.models import Alarm, RuleKind, TelemetryPoint
from platform_core.db import db, utcnow
from tests.apps.equipment.test_mqtt import GatewayBox, committed_factory, subscriber, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.backends("postgresql")]


def _rule(live_app, tenant_id: int, machine_code: str) -> int:
    from platform_core.masterdata.models import Machine

    with live_app.test_request_context(), db.unit_of_work(tenant_id) as session:
        machine = session.scalars(sa.select(Machine).where(Machine.code == machine_code)).one()
        metric = session.scalars(sa.select(configuration.Metric)).one()
        rule = configuration.create_rule(
            session,
            code="HOT",
            name="过热",
            kind=RuleKind.HIGH,
            machine=machine,
            metric=metric,
            threshold=50,
            hysteresis=5,
        )
        return rule.id


def test_concurrent_http_and_mqtt_batches_never_open_two_alarms(live_app, make_committed, mqtt_port, monkeypatch):
    tenant_id, factory, secret = committed_factory(make_committed, machines=("HOT-1",))
    rule_id = _rule(live_app, tenant_id, "HOT-1")
    start = utcnow() - dt.timedelta(hours=1)
    clock = itertools.count()
    lock = threading.Lock()

    def batch(size: int = 20) -> list[dict]:
        """Points of the machine, each at a new second, mostly hot with cool spells (alarms raise and clear)."""
        with lock:
            seconds = [next(clock) for _ in range(size)]
        rng = random.Random(seconds[0])
        return [
            {
                "machine": "HOT-1",
                "metric": "temperature",
                "ts": (start + dt.timedelta(seconds=s)).isoformat(),
                "value": 80.0 if (s // 15) % 3 else rng.choice([20.0, 80.0]),
            }
            for s in seconds
        ]

    failures: list[str] = []
    barrier = threading.Barrier(5)

    def http_sender() -> None:
        client = live_app.test_client()
        barrier.wait()
        for _ in range(8):
            response = client.post(
                "/api/v1/equipment/telemetry", json=batch(), headers={"Authorization": f"Bearer {secret}"}
            )
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")

    gateway = GatewayBox(mqtt_port, factory, secret)
    try:
        with subscriber(live_app, monkeypatch, mqtt_port):
            threads = [threading.Thread(target=http_sender) for _ in range(4)]
            for thread in threads:
                thread.start()
            barrier.wait()
            topic = signing.factory_topic("mes", factory)
            for _ in range(8):
                gateway.publish(topic, batch())
            for thread in threads:
                thread.join(timeout=60)
            expected = 20 * 8 * 5

            def all_stored():
                with live_app.app_context(), db.unit_of_work(tenant_id) as session:
                    return session.scalar(sa.select(sa.func.count()).select_from(TelemetryPoint)) == expected

            assert wait_for(all_stored, 20)
    finally:
        gateway.close()
    assert failures == []
    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        alarms = session.execute(
            sa.select(Alarm.raised_at, Alarm.cleared_at).where(Alarm.rule_id == rule_id).order_by(Alarm.raised_at)
        ).all()
    assert alarms, "the hot points raised no alarm at all"
    assert sum(1 for _raised, cleared in alarms if cleared is None) <= 1
    for (_raised, cleared), (next_raised, _next_cleared) in itertools.pairwise(alarms):
        assert cleared is not None and cleared <= next_raised, "two alarms of one rule and machine were open at once"


def test_the_database_itself_refuses_a_second_open_alarm(live_app, make_committed):
    tenant_id, _factory, _secret = committed_factory(make_committed, machines=("DUP-1",))
    rule_id = _rule(live_app, tenant_id, "DUP-1")
    from platform_core.masterdata.models import Machine

    with live_app.app_context(), db.unit_of_work(tenant_id) as session:
        machine_id = session.scalar(sa.select(Machine.id).where(Machine.code == "DUP-1"))
        row = {
            "rule_id": rule_id,
            "machine_id": machine_id,
            "severity": "warning",
            "message": "x",
            "raised_at": utcnow(),
        }
        session.add(Alarm(**row))
        session.flush()
        session.add(Alarm(**row))
        with pytest.raises(IntegrityError):
            session.flush()
