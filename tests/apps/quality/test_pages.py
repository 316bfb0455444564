"""The quality pages through a signed-in browser session: the tablet flow with its form, NCR workflow buttons,
plan editing, charts, traces, KPIs and CSV; every page renders and refuses bad input without writing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from apps.quality import tasks
from apps.quality.models import Inspection, InspectionPlan, InspectionStatus, LotHold, NcrAction, Nonconformance
from platform_core.db import utcnow
from tests.apps.quality.conftest import OD, VISUAL
from tests.factories import csrf_token, web_login


@pytest.fixture
def signed_in(app, plant):
    client = app.test_client()
    assert web_login(client, plant.inspector.user.username).status_code == 302
    return client


def _token(signed_in) -> str:
    return csrf_token(signed_in.get("/quality/").text)


def _task(plant):
    plan = plant.plan(characteristics=(OD, VISUAL))
    with plant.scoped() as session:
        context = tasks.TaskContext(machine=plant.machine, lot=None)
        return plan, tasks.create_task(session, plan, context, sample_size=5, due_at=utcnow() + dt.timedelta(hours=1))


def _form(plan, token, values, defectives="0"):
    od, visual = plan.characteristics
    form = {"csrf_token": token, "submission": f"s-{values[1]}-{defectives}"}
    form.update({f"v-{od.id}-{i}": value for i, value in enumerate(values)})
    form.update({f"inspected-{visual.id}": "5", f"defectives-{visual.id}": defectives})
    return form


def test_every_list_page_renders(signed_in, plant):
    _task(plant)
    for url in (
        "/quality/",
        "/quality/board",
        "/quality/tasks",
        "/quality/tasks?overdue=1",
        "/quality/tasks/new",
        "/quality/inspections",
        "/quality/ncrs",
        "/quality/ncrs?show=all",
        "/quality/ncrs/new",
        "/quality/charts",
        "/quality/trace",
        "/quality/trace?lot=NOPE",
        "/quality/kpis",
        "/quality/kpis?days=7",
        "/quality/plans",
        "/quality/plans/new",
    ):
        response = signed_in.get(url)
        assert response.status_code == 200, url


def test_the_tablet_form_records_a_failure_keeps_entries_on_errors_and_leads_to_an_ncr(signed_in, plant, db_session):
    plan, task = _task(plant)
    url = f"/quality/tasks/{task.id}/inspect"
    page = signed_in.get(url)
    assert page.status_code == 200 and 'inputmode="none"' in page.text and "q-keypad" in page.text
    token = _token(signed_in)
    wrong = signed_in.post(url, data=_form(plan, token, ["80.0", "abc", "80.0", "", "80.0"]))
    assert wrong.status_code == 422 and 'value="abc"' in wrong.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0
    done = signed_in.post(url, data=_form(plan, token, ["80.0", "80.09", "80.0", "80.01", "79.99"], defectives="1"))
    assert done.status_code == 302
    inspection = db_session.scalar(sa.select(Inspection))
    assert inspection.status is InspectionStatus.FAILED and inspection.task_id == task.id
    result = signed_in.get(done.headers["Location"])
    assert 'data-status="failed"' in result.text and "raise-ncr" in result.text
    again = signed_in.post(url, data=_form(plan, token, ["80.0", "80.09", "80.0", "80.01", "79.99"], defectives="1"))
    assert again.status_code == 302  # the task is done: back to its inspection, nothing recorded twice
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 1

    raised = signed_in.post(
        f"/quality/ncrs/new?inspection={inspection.id}",
        data={"csrf_token": token, "inspection": inspection.id, "hold_lot": "", "quantity": "1"},
    )
    assert raised.status_code == 302
    ncr = db_session.scalar(sa.select(Nonconformance))
    assert ncr.inspection_id == inspection.id and ncr.quantity == 1


def test_an_ncr_page_walks_the_workflow_and_shows_its_history(app, signed_in, plant, db_session):
    plant.release_order(1, number="WO-1")
    plant.report(1, good=40, output_lot="L2405-113")
    token = _token(signed_in)
    raised = signed_in.post(
        "/quality/ncrs/new",
        data={"csrf_token": token, "title": "客户投诉", "lot": "L2405-113", "hold_lot": "1", "defect_codes": ["BURR"]},
    )
    assert raised.status_code == 302
    ncr = db_session.scalar(sa.select(Nonconformance))
    base = f"/quality/ncrs/{ncr.id}"
    assert db_session.scalar(sa.select(LotHold)).released_at is None
    signed_in.post(f"{base}/propose", data={"csrf_token": token, "disposition": "rework", "note": "返工"})
    manager = app.test_client()  # a second person approves what the inspector proposed
    assert web_login(manager, plant.admin.user.username).status_code == 302
    approved = manager.post(f"{base}/approve", data={"csrf_token": csrf_token(manager.get(base).text)})
    assert approved.status_code == 302
    for step, description, result in (("cause", "刀具磨损", "换刀"), ("verification", "复检三批", "全部合格")):
        data = {"csrf_token": token, "step": step, "description": description, "owner": plant.inspector.user.id}
        assert signed_in.post(f"{base}/actions", data=data).status_code == 302, step
        action = db_session.scalar(sa.select(NcrAction).where(NcrAction.step == step))
        signed_in.post(f"{base}/actions/{action.id}/done", data={"csrf_token": token, "result": result})
    signed_in.post(f"{base}/release", data={"csrf_token": token, "note": "复检合格"})
    closed = signed_in.post(f"{base}/close", data={"csrf_token": token})
    page = signed_in.get(closed.headers["Location"])
    assert 'data-status="closed"' in page.text
    assert page.text.count("q-history") == 1 and "→" in page.text
    assert db_session.scalar(sa.select(LotHold)).released_at is not None
    refused = signed_in.post(f"{base}/propose", data={"csrf_token": token, "disposition": "scrap"})
    db_session.refresh(ncr)
    assert refused.status_code == 302 and ncr.status.value == "closed"


def test_a_plan_is_built_and_activated_on_its_pages(signed_in, plant, db_session):
    token = _token(signed_in)
    bad = signed_in.post("/quality/plans/new", data={"csrf_token": token, "code": "", "product": plant.product.id})
    assert bad.status_code == 422
    created = signed_in.post(
        "/quality/plans/new",
        data={
            "csrf_token": token,
            "code": "QP-WEB",
            "name": "外径检验",
            "product": plant.product.id,
            "operation_sequence": "10",
        },
    )
    plan_url = created.headers["Location"]
    plan = db_session.scalar(sa.select(InspectionPlan))
    signed_in.post(
        f"/quality/plans/{plan.id}/characteristics",
        data={
            "csrf_token": token,
            "code": "OD",
            "name": "外径",
            "kind": "variable",
            "lsl": "79.95",
            "usl": "80.05",
            "chart_type": "xbar_r",
            "subgroup_size": "5",
        },
    )
    signed_in.post(f"/quality/plans/{plan.id}/rules", data={"csrf_token": token, "kind": "every_n", "every_n": "50"})
    signed_in.post(f"/quality/plans/{plan.id}/activate", data={"csrf_token": token})
    db_session.refresh(plan)
    assert plan.status.value == "active" and plan.characteristics[0].chart_id is not None
    chart_id = plan.characteristics[0].chart_id
    page = signed_in.get(plan_url)
    assert f"/quality/charts/{chart_id}" in page.text and "v1" in page.text
    assert signed_in.get(f"/quality/charts/{chart_id}").status_code == 200


def test_kpi_csv_and_trace_pages(signed_in, plant):
    plant.release_order(1, number="WO-1")
    plant.report(1, 10, good=20, scrap=2, output_lot="T1", consumed=["B1"])
    csv = signed_in.get("/quality/kpis.csv?kpi=pareto&days=7")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert "BURR" in csv.text and "attachment" in csv.headers["Content-Disposition"]
    trace = signed_in.get("/quality/trace?lot=B1&direction=forward")
    assert 'data-lot="T1"' in trace.text and "WO-1" in trace.text
