"""SPC alarms over HTTP and on the chart's data: a violation that continues after someone acknowledged its alarm
warns again; the spread chart says which of its limits was crossed; capability says when no specification exists."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from apps.quality import alarms, control, inspections
from apps.quality.models import Characteristic, ControlChart
from platform_core.db import utcnow
from platform_core.events import OutboxEvent
from tests.apps.quality.conftest import API, LENGTH, OD, get, post

SHIFT_RULE = 6  # four of five points beyond 1σ on one side: what a sustained shift of 1.5σ keeps breaking


@pytest.fixture
def length_chart(client, plant):
    """An active plan measuring the flange's length on an individuals chart, with limits fixed from 25 points."""
    body = {
        "code": "QP-LEN",
        "name": "长度检验",
        "product_id": plant.product.id,
        "characteristics": [LENGTH],
        "rules": [{"kind": "every_n", "every_n": 50, "sample_size": 1}],
    }
    plan = post(client, plant.inspector, "/plans", body).json
    plan = post(client, plant.inspector, f"/plans/{plan['id']}/activate").json
    rng = random.Random(5)
    start = utcnow() - dt.timedelta(days=3)
    for i in range(25):
        measured = _measure(client, plant, plan, round(rng.gauss(25.0, 0.02), 4), start + dt.timedelta(hours=i))
        assert measured.status_code == 201, measured.text
    chart_id = plan["characteristics"][0]["chart_id"]
    limits = post(client, plant.inspector, f"/charts/{chart_id}/limits", {"note": "基线"})
    assert limits.status_code == 201, limits.text
    for alarm in get(client, plant.viewer, f"/alarms?chart_id={chart_id}").json:  # the baseline's, if any
        post(client, plant.inspector, f"/alarms/{alarm['id']}/acknowledge", {"note": "基线"})
    return plan, chart_id, limits.json


def _measure(client, plant, plan, value, at=None):
    body = {
        "plan_id": plan["id"],
        "results": [{"characteristic_id": plan["characteristics"][0]["id"], "values": [value]}],
    }
    if at is not None:
        body["inspected_at"] = at.isoformat()
    return post(client, plant.inspector, "/inspections", body)


def _shift_alarms(alarms: list[dict]) -> list[dict]:
    return [a for a in alarms if a["rule"] == SHIFT_RULE]


def _violation_events(db_session, chart_id: int) -> list[dict]:
    rows = db_session.scalars(sa.select(OutboxEvent).where(OutboxEvent.name == "quality.spc_violation"))
    return [e.payload for e in rows if e.payload["chart_id"] == chart_id and e.payload["rule"] == SHIFT_RULE]


def test_a_shift_that_continues_after_the_acknowledgement_warns_the_inspector_again(
    client, plant, length_chart, db_session
):
    plan, chart_id, limits = length_chart
    shifted = round(limits["center"] + 1.5 * limits["sigma"], 4)
    start = utcnow() - dt.timedelta(hours=12)

    def measure(hour: int) -> list[dict]:
        response = _measure(client, plant, plan, shifted, start + dt.timedelta(hours=hour))
        assert response.status_code == 201, response.text
        return _shift_alarms(response.json["alarms"])

    warned = [alarm for hour in range(6) for alarm in measure(hour)]
    assert len(warned) == 1 and warned[0]["status"] == "open"  # one alarm for the shift, extended point by point
    first = warned[0]
    acknowledged = post(client, plant.inspector, f"/alarms/{first['id']}/acknowledge", {"note": "已修正刀补"})
    assert acknowledged.status_code == 200 and acknowledged.json["status"] == "acknowledged"
    points_when_acknowledged = acknowledged.json["points"]

    again = measure(6)  # the correction did not cure it: the same rule breaks at the next point
    assert len(again) == 1 and again[0]["id"] != first["id"] and again[0]["status"] == "open"
    assert measure(7) == []  # and the new alarm is extended, not repeated
    open_alarms = _shift_alarms(get(client, plant.viewer, f"/alarms?chart_id={chart_id}").json)
    assert [(a["id"], a["points"]) for a in open_alarms] == [(again[0]["id"], 2)]
    everything = {a["id"]: a for a in get(client, plant.viewer, f"/alarms?chart_id={chart_id}&status=all").json}
    assert everything[first["id"]]["points"] == points_when_acknowledged  # the acknowledged alarm stays as it was
    assert [e["alarm_id"] for e in _violation_events(db_session, chart_id)] == [first["id"], again[0]["id"]]


def test_a_spread_below_its_lower_limit_is_reported_as_below(plant):
    """An X̄-R chart of ten pieces has a lower range limit (D3 = 0.223): ten identical readings fall under it."""
    plan = plant.plan(characteristics=({**OD, "subgroup_size": 10},))
    characteristic = plan.characteristics[0].id
    rng = random.Random(9)
    start = utcnow() - dt.timedelta(days=2)

    def record(values, at):
        with plant.scoped() as session:
            results = [{"characteristic_id": characteristic, "values": values}]
            return inspections.record(
                session, results=results, inspector=None, inspector_name="周敏", plan=plan, inspected_at=at
            )

    for i in range(25):
        record([round(rng.gauss(80.0, 0.008), 4) for _ in range(10)], start + dt.timedelta(hours=i))
    with plant.scoped() as session:
        chart = session.scalar(sa.select(ControlChart))
        limits = control.fix_limits(session, chart, by="周敏")
        assert limits.second_lcl > 0
    recorded = record([80.0] * 10, start + dt.timedelta(days=1))
    spread = [a for a in recorded.alarms if a.series == "secondary"]
    assert [(a.rule, a.side) for a in spread] == [(1, "below")]
    with plant.scoped():
        assert alarms.describe_alarm(spread[0]) != alarms.describe(1, "above", alarms.SECONDARY)


def test_capability_names_a_missing_specification(client, plant, length_chart, db_session):
    _plan, chart_id, _limits = length_chart
    answered = get(client, plant.viewer, f"/charts/{chart_id}/capability").json
    assert answered["warnings"] and "no_specification" not in answered["warnings"] and answered["cpk"] is not None
    # A characteristic kept from before plans required a specification (or imported without one).
    characteristic = db_session.scalar(sa.select(Characteristic).where(Characteristic.chart_id == chart_id))
    characteristic.lsl = characteristic.usl = None
    db_session.flush()
    missing = client.get(f"{API}/charts/{chart_id}/capability", headers=plant.viewer.headers)
    assert missing.status_code == 200
    assert missing.json["warnings"] == ["no_specification"] and len(missing.json["notes"]) == 1
    assert "cpk" not in missing.json
