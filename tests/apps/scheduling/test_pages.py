"""The planner's pages in both languages, their forms, and the settings (pages and API)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from apps.scheduling import repair
from apps.scheduling.models import Cause, Run, RunStatus, SetupTime, Slot
from tests.apps.scheduling.conftest import SHANGHAI, api, local, tomorrow
from tests.factories import csrf_token, web_login


def _signed_in(client, member, language: str | None = None):
    assert web_login(client, member.user.username).status_code == 302
    if language:
        page = client.get("/scheduling/")
        client.post("/language", data={"csrf_token": csrf_token(page.text), "locale": language, "next": "/"})
    return client


def _post(client, url: str, data: dict | None = None, page: str = "/scheduling/", **kw):
    token = csrf_token(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kw)


def test_every_planner_page_renders_in_chinese_and_english(client, plant):
    plant.order(due_date=tomorrow())
    run = plant.run()
    draft = plant.run(preset="setups")
    plant.create()  # a queued run, without figures yet, in the lists
    for language, words in (("zh_CN", ["排产", "甘特图"]), ("en", ["Scheduling", "Gantt chart"])):
        _signed_in(client, plant.planner, language)
        for url in (
            "/scheduling/",
            "/scheduling/runs/new",
            "/scheduling/check",
            f"/scheduling/runs/{run.id}",
            f"/scheduling/runs/{run.id}/progress",
            f"/scheduling/runs/{run.id}/gantt",
            f"/scheduling/runs/{run.id}/gantt?view=order",
            f"/scheduling/compare?run_ids={run.id},{draft.id}",
            "/scheduling/compare",
            "/scheduling/settings",
            "/scheduling/proposals",
        ):
            page = client.get(url)
            assert page.status_code == 200, (language, url, page.status_code)
        home = client.get("/scheduling/").text
        assert all(word in home + client.get(f"/scheduling/runs/{run.id}").text for word in words), language
        compare = client.get(f"/scheduling/compare?run_ids={run.id},{draft.id}").text
        assert f'data-run="{run.id}"' in compare and 'data-kpi="late_orders"' in compare
        assert 'data-machine="CNC-01"' in compare
        client.get("/logout")


def test_a_run_started_from_the_page_is_queued_with_the_chosen_orders(client, plant):
    first, second = plant.order(), plant.order(product=plant.pb)
    _signed_in(client, plant.planner)
    page = client.get("/scheduling/runs/new")
    assert first.number in page.text and 'name="preset"' in page.text
    start = local(tomorrow(), 9)
    response = client.post(
        "/scheduling/runs/new",
        data={
            "csrf_token": csrf_token(page.text),
            "preset": "setups",
            "time_limit_s": "3",
            "horizon_start": f"{tomorrow().isoformat()}T09:00",  # the factory's clock
            "scope": "chosen",
            "order_ids": [str(second.id)],
        },
    )
    assert response.status_code == 302, response.text[:500]
    with plant.scope():
        run = plant.session.scalar(sa.select(Run))
    assert response.headers["Location"].endswith(f"/scheduling/runs/{run.id}")
    assert (run.preset.value, run.time_limit_s, run.order_ids, run.horizon_start) == ("setups", 3, [second.id], start)
    live = client.get(f"/scheduling/runs/{run.id}")
    assert 'data-state="queued"' in live.text and "every 1s" in live.text
    bad = client.post(
        "/scheduling/runs/new",
        data={"csrf_token": csrf_token(page.text), "preset": "setups", "time_limit_s": "0", "scope": "all"},
    )
    assert bad.status_code == 200 and "field-error" in bad.text


def test_page_actions_publish_or_explain_why_not(client, plant):
    plant.order()
    queued = plant.create()
    run = plant.run()
    _signed_in(client, plant.planner)
    refused = _post(client, f"/scheduling/runs/{queued.id}/publish")
    assert refused.status_code == 302
    assert "flash error" in client.get(f"/scheduling/runs/{queued.id}").text
    done = _post(client, f"/scheduling/runs/{run.id}/publish")
    assert done.status_code == 302
    with plant.scope():
        assert plant.session.get(Run, run.id).status is RunStatus.PUBLISHED
        assert plant.session.get(Run, queued.id).status is RunStatus.QUEUED
    copy = _post(client, f"/scheduling/runs/{run.id}/copy")
    assert copy.status_code == 302 and "/gantt" in copy.headers["Location"]


def test_a_move_from_the_gantt_page_uses_the_factory_time(client, plant):
    order = plant.order(product=plant.pb, quantity=30)
    run = plant.run()
    with plant.scope():
        slot = plant.session.scalar(sa.select(Slot).where(Slot.run_id == run.id))
    _signed_in(client, plant.planner)
    gantt = f"/scheduling/runs/{run.id}/gantt"
    day = tomorrow().isoformat()
    response = _post(
        client,
        f"/scheduling/runs/{run.id}/slots/{slot.id}/move",
        {"machine_id": str(plant.m2.id), "start": f"{day}T15:00"},
        page=gantt,
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(gantt)
    with plant.scope():
        moved = plant.session.get(Slot, slot.id)
        assert (moved.machine_id, moved.start, moved.locked) == (plant.m2.id, local(tomorrow(), 15), True)
    refused = _post(
        client,
        f"/scheduling/runs/{run.id}/slots/{slot.id}/move",
        {"machine_id": str(plant.m2.id), "start": f"{day}T22:00"},
        page=gantt,
    )
    assert refused.status_code == 302 and "flash error" in client.get(gantt).text
    with plant.scope():
        assert plant.session.get(Slot, slot.id).start == local(tomorrow(), 15)
    assert order.id == moved.order_id


def test_settings_page_and_api(client, plant):
    _signed_in(client, plant.planner)
    page = client.get("/scheduling/settings")
    assert page.status_code == 200 and 'name="frozen_minutes"' in page.text
    values = {
        "preset": "balanced",
        "time_limit_s": "20",
        "repair_time_limit_s": "10",
        "horizon_days": "14",
        "frozen_minutes": "60",
        "changeover_minutes": "25",
        "transfer_batch": "10",
        "unknown_down_minutes": "120",
        "slippage_minutes": "45",
        "rush_priority": "2",
        "auto_repair": "y",
        "auto_publish_repairs": "y",
    }
    bad = _post(client, "/scheduling/settings/save", {**values, "horizon_days": "400"}, page="/scheduling/settings")
    assert bad.status_code == 422 and "field-error" in bad.text
    saved = _post(client, "/scheduling/settings/save", values, page="/scheduling/settings")
    assert saved.status_code == 302
    shown = api(client, plant.viewer, "GET", "/settings")
    assert (
        shown.json["frozen_minutes"] == 60 and shown.json["allow_pause"] is False and shown.json["preset"] == "balanced"
    )
    etag = shown.headers["ETag"]
    no_match = api(client, plant.planner, "PATCH", "/settings", json={"frozen_minutes": 10})
    assert no_match.status_code == 428
    refused = api(
        client,
        plant.planner,
        "PATCH",
        "/settings",
        json={"frozen_minutes": -1, "preset": "x"},
        headers={"If-Match": etag},
    )
    assert refused.status_code == 422 and {"frozen_minutes", "preset"} <= set(refused.json["errors"]["json"])
    changed = api(client, plant.planner, "PATCH", "/settings", json={"frozen_minutes": 10}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.json["frozen_minutes"] == 10
    assert api(client, plant.viewer, "PATCH", "/settings", json={}, headers={"If-Match": etag}).status_code == 403


def test_changeover_times_page_and_api(client, plant):
    _signed_in(client, plant.planner)
    added = _post(
        client,
        "/scheduling/settings/setup-times",
        {"setup-from_family_id": str(plant.fa.id), "setup-to_family_id": str(plant.fb.id), "setup-minutes": "35"},
        page="/scheduling/settings",
    )
    assert added.status_code == 302
    listed = api(client, plant.viewer, "GET", "/setup-times").json
    assert [(r["from_family_code"], r["to_family_code"], r["minutes"]) for r in listed] == [("FA", "FB", 35)]
    changed = api(
        client,
        plant.planner,
        "POST",
        "/setup-times",
        json={"from_family_id": plant.fa.id, "to_family_id": plant.fb.id, "minutes": 50},
    )
    assert changed.status_code == 201 and changed.json["id"] == listed[0]["id"] and changed.json["minutes"] == 50
    bad = api(
        client,
        plant.planner,
        "POST",
        "/setup-times",
        json={"from_family_id": plant.fa.id, "to_family_id": plant.fb.id, "minutes": -5},
    )
    assert bad.status_code == 422 and "minutes" in bad.json["errors"]["json"]
    gone = _post(client, f"/scheduling/settings/setup-times/{listed[0]['id']}/delete", page="/scheduling/settings")
    assert gone.status_code == 302
    with plant.scope():
        assert plant.session.scalar(sa.select(sa.func.count()).select_from(SetupTime)) == 0


def test_the_compare_api_needs_known_runs(client, plant):
    plant.order()
    first, second = plant.run(), plant.run(preset="makespan")
    body = api(client, plant.viewer, "GET", "/compare", query_string={"run_ids": f"{first.id},{second.id}"}).json
    assert [r["id"] for r in body["runs"]] == [first.id, second.id] and body["published_id"] is None
    assert all(r["makespan_minutes"] > 0 and r["moved"] is None for r in body["runs"])
    api(client, plant.planner, "POST", f"/runs/{first.id}/publish")
    body = api(client, plant.viewer, "GET", "/compare", query_string={"run_ids": f"{first.id},{second.id}"}).json
    assert body["published_id"] == first.id and body["runs"][0]["moved"] is None and body["runs"][1]["moved"] >= 0
    unknown = api(client, plant.viewer, "GET", "/compare", query_string={"run_ids": "999999"})
    assert unknown.status_code == 422 and "run_ids" in unknown.json["errors"]


def _proposal(client, plant) -> Run:
    """A published plan and a repair proposal for it."""
    plant.order(quantity=60)
    published = plant.run()
    assert api(client, plant.planner, "POST", f"/runs/{published.id}/publish").status_code == 200
    with plant.scope():
        queued = repair.propose(plant.session, Cause.SLIPPAGE, {"operations": 1, "minutes": 90})
    proposal = plant.solve(queued)
    assert proposal.status is RunStatus.PROPOSED
    return proposal


def _banner_actions(html: str, proposal: Run) -> set[str]:
    assert f'class="flash sch-proposal" role="status" data-run="{proposal.id}"' in html
    return {action for action in ("publish", "discard") if f'data-proposal-action="{action}"' in html}


def test_the_repair_banner_is_on_every_planning_page_with_its_actions(client, plant):
    proposal = _proposal(client, plant)
    pages = [
        "/scheduling/",
        "/scheduling/runs/new",
        f"/scheduling/runs/{proposal.id}",
        f"/scheduling/runs/{proposal.id}/gantt",
        "/scheduling/compare",
        "/scheduling/settings",
    ]
    _signed_in(client, plant.planner)
    for url in pages:
        assert _banner_actions(client.get(url).text, proposal) == {"publish", "discard"}, url
    client.get("/logout")
    _signed_in(client, plant.supervisor)
    for url in [u for u in pages if u != "/scheduling/runs/new"]:
        assert _banner_actions(client.get(url).text, proposal) == set(), url  # supervisors look, planners decide
    fragment = client.get("/scheduling/proposals?next=/scheduling/settings").text
    assert _banner_actions(fragment, proposal) == set() and "next=/scheduling/settings" in fragment


def test_a_proposal_is_published_from_the_banner_in_one_action(client, plant):
    proposal = _proposal(client, plant)
    _signed_in(client, plant.planner)
    gantt = f"/scheduling/runs/{proposal.id}/gantt?view=order"
    done = _post(client, f"/scheduling/runs/{proposal.id}/publish", {"next": gantt}, page=gantt)
    assert done.status_code == 302 and done.headers["Location"] == gantt  # back where the planner was
    with plant.scope():
        assert plant.session.get(Run, proposal.id).status is RunStatus.PUBLISHED
    assert f'data-run="{proposal.id}"' not in client.get("/scheduling/settings").text


def test_a_proposal_is_discarded_from_the_banner_and_foreign_returns_are_ignored(client, plant):
    proposal = _proposal(client, plant)
    _signed_in(client, plant.planner)
    done = _post(client, f"/scheduling/runs/{proposal.id}/discard", {"next": "https://example.com/scheduling/"})
    assert done.status_code == 302 and done.headers["Location"] == f"/scheduling/runs/{proposal.id}"
    with plant.scope():
        assert plant.session.get(Run, proposal.id).status is RunStatus.DISCARDED
    refused = _post(client, f"/scheduling/runs/{proposal.id}/publish", {"csrf_token": ""})
    assert refused.status_code == 400  # the banner's forms carry the CSRF token; a post without it is refused


def _slots_of(plant, run) -> list[Slot]:
    with plant.scope():
        return list(plant.session.scalars(sa.select(Slot).where(Slot.run_id == run.id)))


def _planned_completion_shown(html: str) -> str:
    found = re.search(r'<dd id="planned-completion">(.*?)</dd>', html)
    assert found is not None
    return found.group(1)


def test_the_order_pages_show_the_planned_completion_once_published(client, plant):
    order = plant.order(quantity=60)
    run = plant.run()
    _signed_in(client, plant.planner, "zh_CN")
    end = max(s.end for s in _slots_of(plant, run) if s.order_id == order.id).astimezone(SHANGHAI)
    clock = end.strftime("%H:%M")
    assert clock not in _planned_completion_shown(client.get(f"/orders/work-orders/{order.id}").text)
    assert _post(client, f"/scheduling/runs/{run.id}/publish").status_code == 302
    assert clock in _planned_completion_shown(client.get(f"/orders/work-orders/{order.id}").text)
    listed = client.get("/orders/work-orders").text
    row = re.search(rf'<tr data-order="{order.number}">(.*?)</tr>', listed, re.S).group(1)
    assert clock in re.search(r"<td data-planned-completion>(.*?)</td>", row).group(1)
