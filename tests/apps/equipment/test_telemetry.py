"""Telemetry over HTTP: a gateway's bulk batches, deduplication, late points, unknown codes, bad points reported
back, rollups maintained exactly, factory isolation, and what the run signal does to the machine's state."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from apps.equipment import production, watch
from apps.equipment.models import Gateway, RollupHour, RollupMinute, State, TelemetryPoint
from apps.equipment.store import counter_increase
from platform_core.db import tenant_context, utcnow
from tests.apps.equipment.conftest import assert_timeline_invariants, build_plant, gateway_headers

URL = "/api/v1/equipment/telemetry"


def hour_start(hours_ago: int) -> dt.datetime:
    return (utcnow() - dt.timedelta(hours=hours_ago)).replace(minute=0, second=0, microsecond=0)


def point(machine: str, metric: str, ts: dt.datetime, value) -> dict:
    return {"machine": machine, "metric": metric, "ts": ts.isoformat().replace("+00:00", "Z"), "value": value}


def test_a_batch_is_stored_once_with_exact_rollups_whatever_the_order_and_repeats(plant, client):
    plant.machine("CNC-01")
    base = hour_start(3)
    values = [(base + dt.timedelta(seconds=20 * i), float(v)) for i, v in enumerate([5, 9, 1, 7, 3, 8])]
    # minute 0: 5, 9, 1 (first 5, last 1); minute 1: 7, 3, 8 (first 7, last 8) - sent in shuffled order
    shuffled = [values[i] for i in (4, 0, 5, 2, 1, 3)]
    batch = [point("CNC-01", "temperature", ts, v) for ts, v in shuffled]
    first = client.post(URL, json=batch, headers=gateway_headers(plant))
    assert first.status_code == 200, first.text
    assert first.json | {"errors": None} == {
        "received": 6,
        "accepted": 6,
        "duplicates": 0,
        "rejected": 0,
        "errors": None,
        "unknown_machines": [],
        "unknown_metrics": [],
    }
    again = client.post(
        URL,
        json=[*batch[:3], point("CNC-01", "temperature", base + dt.timedelta(seconds=130), 4)],
        headers=gateway_headers(plant),
    )
    assert again.json["accepted"] == 1 and again.json["duplicates"] == 3
    with plant.scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TelemetryPoint)) == 7
        minutes = session.scalars(sa.select(RollupMinute).order_by(RollupMinute.bucket)).all()
        assert [(m.count, m.min, m.max, m.first, m.last, m.sum) for m in minutes] == [
            (3, 1.0, 9.0, 5.0, 1.0, 15.0),
            (3, 3.0, 8.0, 7.0, 8.0, 18.0),
            (1, 4.0, 4.0, 4.0, 4.0, 4.0),
        ]
        hour = session.scalars(sa.select(RollupHour)).one()
        assert (hour.count, hour.min, hour.max, hour.first, hour.last, hour.avg) == (7, 1.0, 9.0, 5.0, 4.0, 37 / 7)
        assert hour.first_ts == base and hour.last_ts == base + dt.timedelta(seconds=130)
        gateway = session.get(Gateway, plant.gateway.id)
        session.refresh(gateway)
        assert (gateway.points_accepted, gateway.points_duplicate) == (7, 3)
        assert gateway.last_seen_at is not None


def test_bad_points_and_unknown_codes_are_reported_back_and_the_rest_is_stored(plant, client):
    plant.machine("CNC-02")
    now = utcnow().replace(microsecond=0)
    batch = [
        point("CNC-02", "temperature", now - dt.timedelta(minutes=1), 40.5),  # ok
        point("CNC-99", "temperature", now, 1),  # unknown machine
        point("CNC-02", "pressure", now, 1),  # unknown metric
        {"machine": "CNC-02", "metric": "temperature", "ts": "2026-11-23T08:00:00", "value": 1},  # no offset
        point("CNC-02", "temperature", now, "hot"),  # not a number
        point("CNC-02", "temperature", now + dt.timedelta(hours=2), 1),  # the gateway's clock is ahead
        point("CNC-02", "temperature", now - dt.timedelta(days=400), 1),  # older than the retention
        "garbage",
        {
            "machine": "CNC-02",
            "metric": "temperature",
            "ts": int((now - dt.timedelta(minutes=2)).timestamp()),
            "value": 41,
        },
        {
            "machine": "CNC-02",
            "metric": "temperature",
            "ts": int((now - dt.timedelta(minutes=3)).timestamp() * 1000),
            "value": True,
        },
        {"machine": "CNC-02", "metric": {"code": "temperature"}, "ts": now.isoformat(), "value": 1},  # not a code
        {"machine": ["CNC-02"], "metric": "temperature", "ts": now.isoformat(), "value": 1},
    ]
    response = client.post(URL, json=batch, headers=gateway_headers(plant))
    body = response.json
    assert response.status_code == 200
    assert (body["received"], body["accepted"], body["rejected"]) == (12, 3, 9)
    assert body["unknown_machines"] == ["CNC-99"] and body["unknown_metrics"] == ["pressure"]
    assert [e["index"] for e in body["errors"]] == [1, 2, 3, 4, 5, 6, 7, 10, 11]
    assert "UTC offset" in body["errors"][2]["reason"]
    with plant.scope() as session:
        stored = session.execute(sa.select(TelemetryPoint.ts, TelemetryPoint.value).order_by(TelemetryPoint.ts)).all()
    assert [v for _ts, v in stored] == [1.0, 41.0, 40.5]  # epoch milliseconds, epoch seconds, ISO


def test_malformed_bodies_and_oversized_batches_are_refused_whole(plant, client, app, monkeypatch):
    assert client.post(
        URL, data="not json", headers={**gateway_headers(plant), "Content-Type": "application/json"}
    ).status_code in (400, 422)
    assert client.post(URL, json={"machine": "x"}, headers=gateway_headers(plant)).status_code == 422
    monkeypatch.setitem(app.config, "EQUIPMENT_INGEST_MAX_POINTS", 3)
    too_many = [point("X", "temperature", utcnow(), 1)] * 4
    response = client.post(URL, json={"points": too_many}, headers=gateway_headers(plant))
    assert response.status_code == 413 and response.json["code"] == "too_many_points"


def test_a_gateway_can_only_write_its_own_factorys_machines(plant, client, app, db_session, make):
    other = build_plant(app, db_session, make)
    other.machine("ONLY-B")
    response = client.post(URL, json=[point("ONLY-B", "temperature", utcnow(), 1)], headers=gateway_headers(plant))
    assert response.json["accepted"] == 0 and response.json["unknown_machines"] == ["ONLY-B"]
    with app.app_context(), tenant_context(db_session, other.tenant.id):
        assert db_session.scalar(sa.select(sa.func.count()).select_from(TelemetryPoint)) == 0


def test_only_callers_with_the_ingest_permission_may_send(plant, client, make):
    from platform_core.rbac import Role

    operator = make.member(plant.tenant, Role.OPERATOR)
    assert client.post(URL, json=[], headers=operator.headers).status_code == 403
    assert client.post(URL, json=[]).status_code == 401
    assert client.post(URL, json=[], headers=plant.admin.headers).status_code == 200  # the factory's administrator


def test_the_run_signal_makes_the_machine_run_idle_and_go_offline(plant, client, app):
    machine = plant.machine("CNC-03", monitored=True)
    start = utcnow().replace(microsecond=0) - dt.timedelta(minutes=30)
    speeds = [1500] * 10 + [0] * 1 + [1500] * 4 + [0] * 6  # one point a minute: a 1-minute pause, then 6 off
    batch = [point("CNC-03", "spindle_speed", start + dt.timedelta(minutes=i), v) for i, v in enumerate(speeds)]
    client.post(URL, json=batch, headers=gateway_headers(plant))
    timeline = plant.timeline(machine)
    assert_timeline_invariants(timeline)
    # the 1-minute pause is shorter than the idle debounce (2 min): still running; the long stop is idle since
    # its first silent point
    assert [(i.state, round((i.started_at - start).total_seconds() / 60)) for i in timeline] == [
        (State.RUNNING, 0),
        (State.IDLE, 15),
    ]
    with plant.scope() as session:
        watch.watch(session, now=start + dt.timedelta(minutes=20 + 6))  # five minutes after the last point
    timeline = plant.timeline(machine)
    assert timeline[-1].state is State.OFFLINE
    assert timeline[-1].started_at == start + dt.timedelta(minutes=20)  # offline since its last data
    client.post(URL, json=[point("CNC-03", "spindle_speed", utcnow(), 900)], headers=gateway_headers(plant))
    assert plant.timeline(machine)[-1].state is State.RUNNING
    assert_timeline_invariants(plant.timeline(machine))


def test_a_part_counter_counts_across_resets_and_window_edges(plant, client):
    plant.machine("CNC-04", monitored="counter")
    base = hour_start(5)
    # 100 -> 160 over two hours, a reset to 0 (power cycle), then 0 -> 25
    counts = [(0, 100), (30, 130), (60, 150), (119, 160), (125, 0), (130, 10), (150, 25)]
    batch = [point("CNC-04", "part_count", base + dt.timedelta(minutes=m), v) for m, v in counts]
    assert client.post(URL, json=batch, headers=gateway_headers(plant)).json["accepted"] == 7
    with plant.scope() as session:
        machine = plant.machines["CNC-04"]
        metric = plant.metrics["part_count"].id
        assert production.counted(session, machine.id, metric, base, base + dt.timedelta(hours=3)) == 60 + 25
        # a window starting mid-way counts from the value just before it
        assert (
            production.counted(
                session, machine.id, metric, base + dt.timedelta(minutes=45), base + dt.timedelta(hours=2)
            )
            == 30
        )
        assert production.produced(session, machine.id, base, base + dt.timedelta(hours=3)).good == 85


def test_counter_increase_treats_a_drop_as_a_reset():
    assert counter_increase([(5, 9), (9, 12), (2, 4)]) == 4 + 3 + 2 + 2
    assert counter_increase([]) == 0


def test_each_factory_chooses_its_raw_retention_and_the_rollups_outlive_it(plant, client):
    from apps.equipment import ingest as ingest_module
    from apps.equipment import store

    plant.machine("CNC-06")
    old = utcnow() - dt.timedelta(days=3)
    batch = [point("CNC-06", "temperature", old + dt.timedelta(minutes=m), 30 + m) for m in range(3)]
    batch.append(point("CNC-06", "temperature", utcnow() - dt.timedelta(minutes=5), 40))
    assert client.post(URL, json=batch, headers=gateway_headers(plant)).json["accepted"] == 4
    response = client.put("/api/v1/equipment/settings", json={"raw_retention_days": 2}, headers=plant.admin.headers)
    assert response.status_code == 200 and response.json == {"raw_retention_days": 2}
    assert (
        client.put(
            "/api/v1/equipment/settings", json={"raw_retention_days": 0}, headers=plant.admin.headers
        ).status_code
        == 422
    )
    with plant.scope() as session:
        days = ingest_module.raw_retention_days(session)
        raw, minutes = store.purge(session, days, 400, utcnow())
        assert (days, raw, minutes) == (2, 3, 0)
        assert session.scalar(sa.select(sa.func.count()).select_from(TelemetryPoint)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(RollupHour)) >= 2  # the old hour is kept
    late = client.post(URL, json=[point("CNC-06", "temperature", old, 1)], headers=gateway_headers(plant))
    assert late.json["errors"][0]["reason"] == "timestamp older than the raw-data retention"
