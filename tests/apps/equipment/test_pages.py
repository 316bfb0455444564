"""The equipment pages over HTTP with a signed-in user: every page renders with data, the tablet and maintenance
forms do what they say, and the configuration forms save or name the wrong field."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from apps.equipment import configuration, ingest, maintenance, signing, states
from apps.equipment.models import (
    AlarmRule,
    Gateway,
    MaintenanceKind,
    MaintenancePlan,
    Metric,
    RuleKind,
    State,
    StateInterval,
)
from platform_core.db import utcnow
from platform_core.rbac import Role
from tests.factories import csrf_token, web_login


@pytest.fixture
def busy(plant):
    """A machine with telemetry, a downtime to classify, an alarm, a trend forecast and an open order."""
    machine = plant.machine("PG-1", monitored=True)
    plant.machine("PG-2")
    with plant.scope() as session:
        machine = plant.get(machine)
        now = utcnow()
        points = [
            {"machine": "PG-1", "metric": metric, "ts": (now - dt.timedelta(minutes=m)).isoformat(), "value": value}
            for m in range(90, 0, -1)
            for metric, value in (("spindle_speed", 2000 if m > 30 else 0), ("temperature", 40 + m / 10))
        ]
        ingest.ingest(session, points)
        states.report_down(session, machine, at=now - dt.timedelta(minutes=20))
        configuration.create_rule(
            session,
            code="T-HI",
            name="温度高",
            kind=RuleKind.HIGH,
            machine=machine,
            metric=session.get(Metric, plant.metrics["temperature"].id),
            threshold=45,
        )
        ingest.ingest(session, [{"machine": "PG-1", "metric": "temperature", "ts": now.isoformat(), "value": 50}])
        order = maintenance.create_order(
            session,
            machine,
            kind=MaintenanceKind.PREVENTIVE,
            title="月度保养",
            checklist=["清洁", "润滑"],
            planned_start=now,
            planned_end=now + dt.timedelta(hours=1),
        )
    return plant, machine, order


def signed_in(app, plant, make, role=Role.TENANT_ADMIN):
    member = make.member(plant.tenant, role)
    browser = app.test_client()
    web_login(browser, member.user.username)
    return browser, member


def test_every_page_renders_with_data(app, make, busy):
    plant, machine, order = busy
    browser, _member = signed_in(app, plant, make)
    pages = [
        "/equipment/",
        "/equipment/wall",
        f"/equipment/machines/{machine.id}",
        f"/equipment/machines/{machine.id}/panel",
        f"/equipment/machines/{machine.id}/down",
        "/equipment/alarms",
        "/equipment/downtime?days=1&by=shift",
        "/equipment/downtime?days=30&by=work_center",
        "/equipment/oee",
        "/equipment/oee?days=30&by=week",
        "/equipment/oee?days=1&by=shift",
        "/equipment/maintenance",
        f"/equipment/maintenance/{order.id}",
        "/equipment/settings",
        f"/equipment/settings/machines/{machine.id}",
        "/equipment/settings/rules",
        "/equipment/settings/plans",
    ]
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200, f"{page}: {response.status_code}"
    wall = browser.get("/equipment/wall").text
    assert 'data-machine="PG-1"' in wall and 'data-state="down"' in wall and "⚠ 1" in wall
    machine_page = browser.get(f"/equipment/machines/{machine.id}").text
    assert "data-chart=" in machine_page and "月度保养" in machine_page and 'id="machine-up"' in machine_page


def test_the_tablet_reports_down_with_a_reason_and_back_up(app, make, plant):
    machine = plant.machine("PG-3")
    browser, _ = signed_in(app, plant, make, Role.OPERATOR)
    page = browser.get(f"/equipment/machines/{machine.id}/down")
    assert 'data-reason="TOOL"' in page.text
    assert 'name="expected_in" value="120"' in page.text
    token = csrf_token(page.text)
    refused = browser.post(
        f"/equipment/machines/{machine.id}/down",
        data={"csrf_token": token, "reason_id": plant.reasons["TOOL"].id, "expected_in": "-5"},
        follow_redirects=True,
    )
    assert "请从给出的时间中选择" in refused.text and plant.timeline(machine) == []  # refused, nothing recorded
    before = utcnow()
    browser.post(
        f"/equipment/machines/{machine.id}/down",
        data={"csrf_token": token, "reason_id": plant.reasons["TOOL"].id, "stopped_ago": "20", "expected_in": "120"},
    )
    [down] = plant.timeline(machine)
    after = utcnow()
    assert down.state is State.DOWN and down.reason_id == plant.reasons["TOOL"].id
    assert before - dt.timedelta(minutes=20) <= down.started_at <= after - dt.timedelta(minutes=20)
    assert before + dt.timedelta(minutes=120) <= down.expected_up_at <= after + dt.timedelta(minutes=120)
    assert "eq-expected-up" in browser.get(f"/equipment/machines/{machine.id}").text
    browser.post(f"/equipment/machines/{machine.id}/up", data={"csrf_token": token})
    assert [i.state for i in plant.timeline(machine)] == [State.DOWN, State.IDLE]
    again = browser.post(f"/equipment/machines/{machine.id}/up", data={"csrf_token": token}, follow_redirects=True)
    assert "设备并未停机" in again.text  # refused with a message (in the factory's language), nothing changed
    assert browser.post("/equipment/settings/rules", data={"csrf_token": token}).status_code == 403


def test_the_down_page_offers_no_time_before_the_last_breakdown_ended(app, make, plant):
    machine = plant.machine("PG-3")
    with plant.scope() as session:  # down from 40 to 25 minutes ago
        states.report_down(session, machine, at=utcnow() - dt.timedelta(minutes=40))
        states.report_up(session, machine, at=utcnow() - dt.timedelta(minutes=25))
    browser, _ = signed_in(app, plant, make, Role.OPERATOR)
    page = browser.get(f"/equipment/machines/{machine.id}/down").text
    offered = re.findall(r'name="stopped_ago" value="(\d*)"', page)
    assert offered == ["", "10", "20"]  # 30 and 60 minutes ago would reach back into that breakdown
    token = csrf_token(page)
    refused = browser.post(
        f"/equipment/machines/{machine.id}/down",
        data={"csrf_token": token, "reason_id": plant.reasons["TOOL"].id, "stopped_ago": "30"},
        follow_redirects=True,
    )
    assert "该时间设备已停机或在维护" in refused.text
    assert [i.state for i in plant.timeline(machine)][-1] is not State.DOWN


def test_classify_acknowledge_and_clear_from_the_pages(app, make, busy):
    plant, _machine, _order = busy
    browser, _ = signed_in(app, plant, make, Role.SUPERVISOR)
    page = browser.get("/equipment/downtime")
    token = csrf_token(page.text)
    [state_id] = re.findall(r'data-state-id="(\d+)"', page.text)
    browser.post(
        f"/equipment/machine-states/{state_id}/classify",
        data={"csrf_token": token, "reason_id": plant.reasons["SPINDLE"].id},
    )
    with plant.scope() as session:
        assert session.get(StateInterval, int(state_id)).reason_id == plant.reasons["SPINDLE"].id
    alarms_page = browser.get("/equipment/alarms").text
    [alarm_id] = re.findall(r'data-alarm="(\d+)"', alarms_page)
    browser.post(f"/equipment/alarms/{alarm_id}/acknowledge", data={"csrf_token": token})
    assert 'data-action="acknowledge"' not in browser.get("/equipment/alarms").text
    assert browser.post(f"/equipment/alarms/{alarm_id}/clear", data={"csrf_token": token}).status_code == 403
    technician, _ = signed_in(app, plant, make, Role.MAINTENANCE_TECHNICIAN)
    technician.post(
        f"/equipment/alarms/{alarm_id}/clear", data={"csrf_token": csrf_token(technician.get("/equipment/alarms").text)}
    )
    assert "data-alarm=" not in technician.get("/equipment/alarms").text.split("Recently cleared")[0]


def redirect_path(response) -> str:
    """Where a redirect leads, checked to stay on this site."""
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost"), f"redirected to {response.headers['Location']}"
    return location.path


@pytest.mark.parametrize("target", ["https://evil.example/login", "//evil.example", "/\\evil.example", "/\t/evil"])
def test_a_form_cannot_send_the_browser_to_another_site(app, make, busy, target):
    plant, machine, _order = busy
    browser, _ = signed_in(app, plant, make, Role.SUPERVISOR)
    alarms_page = browser.get("/equipment/alarms").text
    token = csrf_token(alarms_page)
    [alarm_id] = re.findall(r'data-alarm="(\d+)"', alarms_page)
    acknowledged = browser.post(f"/equipment/alarms/{alarm_id}/acknowledge", data={"csrf_token": token, "next": target})
    assert redirect_path(acknowledged) == "/equipment/alarms"
    up = browser.post(f"/equipment/machines/{machine.id}/up", data={"csrf_token": token, "next": target})
    assert redirect_path(up) == f"/equipment/machines/{machine.id}"
    assert plant.timeline(machine)[-1].state is not State.DOWN  # the action itself was done


def test_a_form_may_send_the_browser_back_to_a_page_of_the_site(app, make, busy):
    plant, machine, _order = busy
    browser, _ = signed_in(app, plant, make, Role.SUPERVISOR)
    token = csrf_token(browser.get("/equipment/alarms").text)
    back = browser.post(
        f"/equipment/machines/{machine.id}/up", data={"csrf_token": token, "next": "/equipment/?work_center=1"}
    )
    assert back.status_code == 302 and back.headers["Location"].endswith("/equipment/?work_center=1")


def test_the_maintenance_order_flow_on_the_page(app, make, busy):
    plant, _machine, order = busy
    browser, _ = signed_in(app, plant, make, Role.MAINTENANCE_TECHNICIAN)
    url = f"/equipment/maintenance/{order.id}"
    token = csrf_token(browser.get(url).text)
    browser.post(f"{url}/start", data={"csrf_token": token})
    browser.post(f"{url}/check", data={"csrf_token": token, "index": 0, "ok": "yes"})
    refused = browser.post(f"{url}/complete", data={"csrf_token": token}, follow_redirects=True)
    assert "润滑" in refused.text and 'data-status="in_progress"' in refused.text
    browser.post(f"{url}/check", data={"csrf_token": token, "index": 1, "ok": "no", "note": "油位低"})
    browser.post(
        f"{url}/record",
        data={"csrf_token": token, "findings": "补油", "parts": "润滑油 2\n密封圈", "time_spent_min": "40"},
    )
    done = browser.post(f"{url}/complete", data={"csrf_token": token}, follow_redirects=True)
    assert 'data-status="completed"' in done.text and "润滑油 × 2" in done.text and "密封圈 × 1" in done.text
    with plant.scope() as session:
        maintenance_order = session.get(type(order), order.id)
        assert [c["ok"] for c in maintenance_order.checklist] == [True, False]
        assert maintenance_order.time_spent_min == 40


def test_the_configuration_forms(app, make, plant):
    machine = plant.machine("PG-4")
    browser, _ = signed_in(app, plant, make)
    page = browser.get("/equipment/settings")
    token = csrf_token(page.text)
    created = browser.post(
        "/equipment/settings", data={"gw-csrf_token": token, "gw-name": "车间网关", "gw-submit": "1"}
    )
    assert created.status_code == 200
    token_shown = re.search(r"<code>(mes_[0-9a-f]+_[^<]+)</code>", created.text).group(1)
    username = re.search(r'id="broker-username">([^<]+)<', created.text).group(1)
    password = re.search(r'id="broker-password">([^<]+)<', created.text).group(1)
    assert username == signing.broker_username(signing.token_id(token_shown))  # what the gateway derives itself
    assert password == signing.broker_password(signing.signing_key(token_shown))
    browser.post(
        "/equipment/settings",
        data={
            "metric-csrf_token": token,
            "metric-code": "current",
            "metric-name": "电流",
            "metric-unit": "A",
            "metric-kind": "gauge",
            "metric-submit": "1",
        },
    )
    clash = browser.post(
        "/equipment/settings",
        data={
            "metric-csrf_token": token,
            "metric-code": "current",
            "metric-name": "电流",
            "metric-kind": "gauge",
            "metric-submit": "1",
        },
    )
    assert clash.status_code == 422
    browser.post(
        f"/equipment/settings/machines/{machine.id}",
        data={
            "csrf_token": token,
            "run_metric_id": str(plant.metrics["spindle_speed"].id),
            "run_above": "5",
            "count_metric_id": "",
            "offline_after_s": "600",
        },
    )
    bad_rule = browser.post(
        "/equipment/settings/rules",
        data={
            "csrf_token": token,
            "code": "R1",
            "name": "x",
            "kind": "high",
            "machine_id": str(machine.id),
            "metric_id": "",
            "state": "",
            "threshold": "5",
            "severity": "warning",
        },
    )
    assert bad_rule.status_code == 422 and "这类规则需要指定测点" in bad_rule.text  # on the field
    browser.post(
        "/equipment/settings/rules",
        data={
            "csrf_token": token,
            "code": "R1",
            "name": "x",
            "kind": "high",
            "machine_id": str(machine.id),
            "metric_id": str(plant.metrics["temperature"].id),
            "state": "",
            "threshold": "5",
            "severity": "critical",
        },
    )
    plan_response = browser.post(
        "/equipment/settings/plans",
        data={
            "csrf_token": token,
            "code": "P1",
            "name": "保养",
            "machine_model": "CK6150",
            "machine_id": "",
            "trigger": "count",
            "interval": "5000",
            "lead": "200",
            "checklist": "清洁\n润滑",
            "blocks_machine": "y",
        },
    )
    assert plan_response.status_code == 302, plan_response.text
    with plant.scope() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Gateway)) == 2
        assert session.scalar(sa.select(Metric.unit).where(Metric.code == "current")) == "A"
        config = configuration.machine_config(session, plant.get(machine))
        assert (config.run_metric_id, config.run_above, config.offline_after_s) == (
            plant.metrics["spindle_speed"].id,
            5,
            600,
        )
        assert session.scalar(sa.select(AlarmRule.severity).where(AlarmRule.code == "R1")).value == "critical"
        assert session.scalar(sa.select(MaintenancePlan.checklist).where(MaintenancePlan.code == "P1")) == [
            "清洁",
            "润滑",
        ]
