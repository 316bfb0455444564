"""The equipment app in Chromium on a 1024x768 touch screen, against the demo factory:

* 陈班长's machine wall: a tile per machine coloured by state, live (a machine another person reports down turns
  red on the wall without a reload);
* 张师傅 on the tablet: "machine down", a reason from the icon grid, then "back up";
* 王工's maintenance order: start, check every item (one not OK with a note), findings and parts, complete.

These tests use the grinders GR-02 and GR-03 (no gateway) and the monthly service the demo opens on CNC-01.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from platform_core.demo import DEMO_CODE, DEMO_PASSWORD
from tests.e2e.test_platform_pages import assert_no_horizontal_overflow, assert_touch_targets

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")


def sign_in_with_pin(page: Page, employee_no: str, pin: str) -> None:
    page.goto("/login?mode=pin")
    page.locator("#pin-factory").fill(DEMO_CODE)
    page.locator("#pin-employee_no").fill(employee_no)
    page.locator("#pin-pin").fill(pin)
    page.locator("#pin-login button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/$"))


def sign_in(page: Page, username: str) -> None:
    page.goto("/login?mode=password")
    page.locator("#pw-username").fill(username)
    page.locator("#pw-password").fill(DEMO_PASSWORD)
    page.locator("#password-login button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def open_machine(page: Page, code: str) -> None:
    page.goto("/equipment/")
    page.locator(f".eq-tile[data-machine='{code}']").tap()
    expect(page.locator("h1")).to_contain_text(code)


def test_the_machine_wall_shows_every_machine_and_follows_changes_live(page: Page, browser: Browser) -> None:
    sign_in(page, "supervisor")
    page.goto("/equipment/")
    tiles = page.locator(".eq-wall .eq-tile")
    expect(tiles).to_have_count(12)
    expect(page.locator(".eq-tile[data-machine='CNC-07']")).to_have_attribute("data-state", "down")
    expect(page.locator(".eq-tile[data-machine='CNC-05'] .eq-alarm-count")).to_be_visible()  # ran hot this morning
    assert_touch_targets(page, ".eq-tile, .md-tab")
    assert_no_horizontal_overflow(page)
    page.evaluate("window.__wall_loaded_once = true")  # gone if the page were reloaded
    expect(page.locator(".eq-tile[data-machine='GR-03']")).not_to_have_attribute("data-state", "down")

    other = browser.new_context(
        base_url=page.url.split("/equipment")[0], viewport={"width": 1024, "height": 768}, has_touch=True
    )
    try:
        operator = other.new_page()
        sign_in_with_pin(operator, "1002", "1470")  # 刘洋 at the grinders
        open_machine(operator, "GR-03")
        operator.locator("#machine-down").tap()
        operator.locator(".eq-reason[data-reason='HYD']").tap()
        expect(operator.locator("#panel [data-state]")).to_have_attribute("data-state", "down")
    finally:
        other.close()
    expect(page.locator(".eq-tile[data-machine='GR-03']")).to_have_attribute("data-state", "down", timeout=12000)
    assert page.evaluate("window.__wall_loaded_once") is True
    expect(page.locator(".eq-summary [data-count='down']")).to_contain_text("2")


def test_an_operator_reports_a_machine_down_with_a_reason_and_back_up_on_the_tablet(page: Page) -> None:
    sign_in_with_pin(page, "1001", "2580")  # 张伟, who reads Chinese
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    open_machine(page, "GR-02")
    down = page.locator("#machine-down")
    assert_touch_targets(page, "#machine-down")
    down.tap()
    reasons = page.locator(".eq-reason")
    expect(reasons.first).to_be_visible()
    assert_touch_targets(page, ".eq-reason")
    assert_no_horizontal_overflow(page)
    expect(page.locator(".eq-reason[data-reason='TOOL']")).to_contain_text("刀具破损")
    page.locator(".eq-reason[data-reason='TOOL']").tap()
    panel = page.locator("#panel [data-state]")
    expect(panel).to_have_attribute("data-state", "down")
    expect(page.locator("#panel")).to_contain_text("刀具破损")
    page.locator("#machine-up").tap()
    expect(panel).not_to_have_attribute("data-state", "down")
    expect(page.locator("#machine-down")).to_be_visible()
    states = page.request.get("/api/v1/equipment/machines").json()
    grinder = next(m for m in states if m["code"] == "GR-02")
    assert grinder["state"] in ("idle", "running")


def test_a_technician_carries_out_a_maintenance_order(page: Page) -> None:
    sign_in_with_pin(page, "1005", "5173")  # 王磊, maintenance
    page.goto("/equipment/maintenance")
    row = page.locator("#open-orders tr", has_text="CNC-01").first
    expect(row).to_be_visible()
    row.locator("a").tap()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "open")
    page.locator("#start-order").tap()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "in_progress")
    items = page.locator(".eq-checklist li")
    count = items.count()
    assert count == 5
    assert_touch_targets(page, ".eq-checklist button, #complete-order")
    for index in range(count):
        item = page.locator(f".eq-checklist li[data-item='{index}']")
        if index == 1:
            item.locator("input[name=note]").fill("油位偏低，已补加")
            item.locator("[data-check='not-ok']").tap()
        else:
            item.locator("[data-check='ok']").tap()
        expect(page.locator(f".eq-checklist li[data-item='{index}']")).to_have_class(re.compile("done"))
    page.locator("#findings").fill("主轴润滑油位偏低，补加 0.5 L；导轨清洁")
    page.locator("#parts").fill("导轨油 0.5")
    page.locator("#time_spent_min").fill("95")
    page.locator("#record-form button[type=submit]").tap()
    page.locator("#complete-order").tap()
    expect(page.locator("#order-status")).to_have_attribute("data-status", "completed")
    expect(page.locator("main")).to_contain_text("导轨油 × 0.5")
    assert_no_horizontal_overflow(page)
