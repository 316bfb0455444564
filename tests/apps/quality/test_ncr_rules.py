"""The rules an NCR's workflow enforces, over HTTP: four eyes on the disposition and on releasing a held lot, the
8D-lite steps needed to close, and lot codes that must name a lot quality knows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from apps.quality.models import Lot, LotHold
from tests.apps.quality.conftest import get, post
from tests.factories import csrf_token, web_login

LOT = "L2405-113"


@pytest.fixture
def known_lot(plant):
    """A lot the orders app reported, so quality knows it."""
    plant.release_order(1, number="WO-1")
    plant.report(1, good=40, output_lot=LOT)
    return LOT


def _ncr(client, member, **body) -> dict:
    created = post(client, member, "/ncrs", {"title": "外径超差", "quantity": 2, **body})
    assert created.status_code == 201, created.text
    return created.json


def _dispositioned(client, plant, **body) -> dict:
    ncr = _ncr(client, plant.inspector, **body)
    post(client, plant.inspector, f"/ncrs/{ncr['id']}/propose", {"disposition": "rework"})
    approved = post(client, plant.admin, f"/ncrs/{ncr['id']}/approve")
    assert approved.status_code == 200, approved.text
    return approved.json


def _step(client, member, ncr: dict, step: str, result: str | None = "已完成"):
    action = post(client, member, f"/ncrs/{ncr['id']}/actions", {"step": step, "description": step}).json
    return post(client, member, f"/ncrs/{ncr['id']}/actions/{action['id']}/done", {"result": result})


def test_whoever_proposed_a_disposition_cannot_approve_it(client, plant, db_session):
    plant.admin.user.display_name = plant.inspector.user.display_name  # two people of the same name
    db_session.flush()
    ncr = _ncr(client, plant.inspector)
    base = f"/ncrs/{ncr['id']}"
    assert post(client, plant.inspector, f"{base}/propose", {"disposition": "use_as_is"}).status_code == 200
    refused = post(client, plant.inspector, f"{base}/approve", {"note": "同意"})
    assert refused.status_code == 403
    assert refused.json["code"] == "four_eyes" and refused.json["message"]
    assert get(client, plant.viewer, base).json["status"] == "proposed"
    approved = post(client, plant.admin, f"{base}/approve", {"note": "同意"})
    assert approved.status_code == 200 and approved.json["status"] == "dispositioned"
    assert approved.json["proposed_by"] == approved.json["approved_by"]  # the accounts differ, the names do not


def test_the_proposer_is_refused_on_the_page_too(app, client, plant):
    ncr = _ncr(client, plant.inspector)
    post(client, plant.inspector, f"/ncrs/{ncr['id']}/propose", {"disposition": "scrap"})
    browser = app.test_client()
    assert web_login(browser, plant.inspector.user.username).status_code == 302
    page = browser.get(f"/quality/ncrs/{ncr['id']}")
    assert 'id="four-eyes"' in page.text and "/approve" not in page.text  # no button to approve one's own proposal
    refused = browser.post(f"/quality/ncrs/{ncr['id']}/approve", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 302
    assert get(client, plant.viewer, f"/ncrs/{ncr['id']}").json["status"] == "proposed"


def test_a_lot_is_released_by_a_second_person_until_a_disposition_is_approved(client, plant, known_lot):
    ncr = _ncr(client, plant.inspector, lot=known_lot, hold_lot=True)
    base = f"/ncrs/{ncr['id']}"
    refused = post(client, plant.inspector, f"{base}/release", {"note": "复检合格"})
    assert refused.status_code == 403
    assert refused.json["code"] == "four_eyes" and known_lot in refused.json["message"]
    assert [h["lot"] for h in get(client, plant.viewer, "/holds").json] == [known_lot]
    cancelling = post(client, plant.inspector, f"{base}/cancel", {"note": "误报"})  # no way round it
    assert cancelling.status_code == 403
    assert get(client, plant.viewer, base).json["status"] == "open"
    released = post(client, plant.admin, f"{base}/release", {"note": "复检合格"})
    assert released.status_code == 200 and released.json[0]["released_at"]
    assert get(client, plant.viewer, "/holds").json == []


def test_after_an_approved_disposition_whoever_held_the_lot_may_release_it(client, plant, known_lot):
    ncr = _dispositioned(client, plant, lot=known_lot, hold_lot=True)
    released = post(client, plant.inspector, f"/ncrs/{ncr['id']}/release", {"note": "返工完成"})
    assert released.status_code == 200 and [h["lot"] for h in released.json] == [known_lot]
    assert get(client, plant.viewer, "/holds").json == []


def test_an_ncr_closes_only_once_its_cause_and_verification_are_recorded(client, plant):
    ncr = _dispositioned(client, plant)
    close = f"/ncrs/{ncr['id']}/close"
    refused = post(client, plant.inspector, close)
    assert refused.status_code == 409 and refused.json["code"] == "steps_missing"
    assert _step(client, plant.inspector, ncr, "corrective").status_code == 200
    assert post(client, plant.inspector, close).json["code"] == "steps_missing"
    without_result = _step(client, plant.inspector, ncr, "cause", result=None)
    assert without_result.status_code == 422 and "result" in without_result.json["errors"]["json"]
    cause = get(client, plant.viewer, f"/ncrs/{ncr['id']}").json["actions"][-1]
    done = post(client, plant.inspector, f"/ncrs/{ncr['id']}/actions/{cause['id']}/done", {"result": "刀具磨损"})
    assert done.status_code == 200
    still = post(client, plant.inspector, close)
    assert still.status_code == 409 and still.json["code"] == "steps_missing"  # the verification is missing
    assert _step(client, plant.inspector, ncr, "verification", result="连续三批合格").status_code == 200
    closed = post(client, plant.inspector, close)
    assert closed.status_code == 200 and closed.json["status"] == "closed"


def test_holding_a_mistyped_lot_is_a_422_and_creates_no_lot(client, plant, known_lot, db_session):
    ncr = _ncr(client, plant.inspector)
    hold = f"/ncrs/{ncr['id']}/hold"
    refused = post(client, plant.inspector, hold, {"lot": "L2405-13"})
    assert refused.status_code == 422 and "lot" in refused.json["errors"]["json"]
    raised = post(client, plant.inspector, "/ncrs", {"title": "客户投诉", "lot": "L2405-13", "hold_lot": True})
    assert raised.status_code == 422 and set(raised.json["errors"]["json"]) == {"lot"}
    assert db_session.scalars(sa.select(Lot.code)).all() == [known_lot]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(LotHold)) == 0
    held = post(client, plant.inspector, hold, {"lot": f" {known_lot} "})
    assert held.status_code == 201 and held.json["lot"] == known_lot
    assert get(client, plant.viewer, f"/ncrs/{ncr['id']}").json["lot"] == known_lot  # the NCR learnt its lot


def test_the_ncr_page_refuses_a_mistyped_lot_at_the_field(app, client, plant, known_lot, db_session):
    ncr = _ncr(client, plant.inspector)
    browser = app.test_client()
    assert web_login(browser, plant.inspector.user.username).status_code == 302
    token = csrf_token(browser.get(f"/quality/ncrs/{ncr['id']}").text)
    refused = browser.post(f"/quality/ncrs/{ncr['id']}/hold", data={"csrf_token": token, "lot": "L2405-13"})
    assert refused.status_code == 422
    assert 'class="field-error"' in refused.text and 'value="L2405-13"' in refused.text  # what was typed stays
    assert db_session.scalars(sa.select(Lot.code)).all() == [known_lot]
    held = browser.post(f"/quality/ncrs/{ncr['id']}/hold", data={"csrf_token": token, "lot": known_lot})
    assert held.status_code == 302
    assert [h["lot"] for h in get(client, plant.viewer, "/holds").json] == [known_lot]
