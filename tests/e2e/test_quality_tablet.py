"""The quality app on a 1024x768 touch tablet in Chinese, against the demo factory, with the orders tablet beside it.

* 周质检's flow: a first-piece task raised by 张师傅's start on CNC-03 → values typed on the keypad, fail shown
  while typing → NCR from the failed inspection holding the lot → 张师傅's next report naming the lot is refused by
  the orders app → she may not release the lot she held on her own: she proposes a disposition, 王芳 approves it →
  she releases the lot → his report goes through;
* the supervisor's view of the drift the demo's flange diameter shows: the alarm in plain words on the quality
  overview, the chart with its zones and marked points, capability.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from platform_core.demo import DEMO_CODE, DEMO_PASSWORD
from tests.e2e.test_platform_pages import assert_no_horizontal_overflow, assert_touch_targets

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

PRODUCT = "HD-FL-080"  # the demo's flange: plan QP-FL080-10 on its turning (operation 10)
MACHINE = "CNC-03"
_numbers = itertools.count(1)


def pin_sign_in(page: Page, employee_no: str, pin: str) -> None:
    page.goto("/login?mode=pin")
    page.locator("#pin-factory").fill(DEMO_CODE)
    page.locator("#pin-employee_no").fill(employee_no)
    page.locator("#pin-pin").fill(pin)
    page.locator("#pin-login button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/$"))
    if page.locator("html").get_attribute("lang") != "zh-CN":
        page.locator(".lang-switch button[value=zh_CN]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


class Desk:
    """A desk user's session (password sign-in), used through the API: the planner releases the order the operator
    works on, the factory's administrator approves a disposition."""

    def __init__(self, page: Page, username: str) -> None:
        self.page = page
        page.goto("/login?mode=password")
        page.locator("#pw-username").fill(username)
        page.locator("#pw-password").fill(DEMO_PASSWORD)
        page.locator("#password-login button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/$"))
        self.csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")

    def get(self, path: str):
        response = self.page.request.get(path)
        assert response.ok, f"GET {path}: {response.status} {response.text()[:200]}"
        return response.json()

    def post(self, path: str, body: dict):
        response = self.page.request.post(path, data=body, headers={"X-CSRFToken": self.csrf})
        assert response.ok, f"POST {path}: {response.status} {response.text()[:200]}"
        return response.json()

    def released_flange_order(self) -> dict:
        product = next(p for p in self.get(f"/api/v1/masterdata/products?q={PRODUCT}") if p["code"] == PRODUCT)
        number = f"E2E-Q{int(time.time()) % 100000:05d}-{next(_numbers)}"
        order = self.post(
            "/api/v1/orders/work-orders", {"product_id": product["id"], "quantity": 40, "priority": 1, "number": number}
        )
        return self.post(f"/api/v1/orders/work-orders/{order['id']}/release", {})

    def machine_id(self, code: str) -> int:
        return next(m["id"] for m in self.get(f"/api/v1/masterdata/machines?q={code}") if m["code"] == code)


@pytest.fixture
def planner(browser: Browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    try:
        yield Desk(context.new_page(), "planner")
    finally:
        context.close()


@pytest.fixture
def manager(browser: Browser, browser_context_args):
    """王芳, the factory's administrator, who approves dispositions."""
    context = browser.new_context(**browser_context_args)
    try:
        yield Desk(context.new_page(), "admin")
    finally:
        context.close()


@pytest.fixture
def operator(browser: Browser, browser_context_args):
    """张师傅's tablet at the machine, signed in with his PIN, in Chinese."""
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        pin_sign_in(page, "1001", "2580")
        yield page
    finally:
        context.close()


def report(page: Page, good: int, lot: str) -> None:
    page.locator("button[data-action=report]").tap()
    dialog = page.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#report-good").fill(str(good))
    dialog.locator("#report-lot").fill(lot)
    dialog.locator("#report-submit").tap()


def test_a_failed_first_piece_holds_the_lot_until_quality_releases_it(
    page: Page, operator: Page, planner: Desk, manager: Desk
):
    order = planner.released_flange_order()
    op10 = order["operations"][0]
    lot = f"{order['number']}-L1"
    operator.goto(f"/orders/terminal/operations/{op10['id']}?machine_id={planner.machine_id(MACHINE)}")
    operator.locator("button[data-action=start]").tap()
    expect(operator.locator("#op-panel")).to_have_attribute("data-status", "running")
    report(operator, 10, lot)
    expect(operator.locator("#floor-message")).to_have_class(re.compile("ord-message-success"))

    # 周质检 picks the first-piece task that 张师傅's start raised; it knows the lot from his report.
    pin_sign_in(page, "1004", "8024")
    page.goto("/quality/tasks")
    task = page.locator(".q-task", has_text=lot)
    expect(task).to_contain_text(MACHINE)
    expect(task).to_contain_text("首件")
    assert_touch_targets(page, ".q-task .button, .q-subnav .md-tab")
    assert_no_horizontal_overflow(page)
    task.locator(".q-inspect-button").tap()

    form = page.locator("#inspect-form")
    expect(form).to_be_visible()
    assert_touch_targets(page, ".q-key, .q-value, .q-submit")
    assert_no_horizontal_overflow(page)
    od = page.locator("fieldset.q-char", has_text="外径")
    first = od.locator("input.q-value").first
    first.tap()
    for key in ("8", "0", ".", "0", "1"):
        page.locator(f".q-key[data-key='{key}']").tap()
    expect(first).to_have_value("80.01")
    expect(first).to_have_class(re.compile("q-ok"))
    page.locator(".q-key[data-key=next]").tap()
    for key in ("8", "0", ".", "0", "9", "9", "back", "8"):  # a slip corrected with ⌫
        page.locator(f".q-key[data-key='{key}']").tap()
    second = od.locator("input.q-value").nth(1)
    expect(second).to_have_value("80.098")
    expect(second).to_have_class(re.compile("q-bad"))
    expect(od.locator("[data-verdict]")).to_have_text("不合格")
    for index, value in ((2, "80.0"), (3, "79.99"), (4, "80.02")):
        od.locator("input.q-value").nth(index).fill(value)
    thickness = page.locator("fieldset.q-char", has_text="厚度")
    for index in range(5):
        thickness.locator("input.q-value").nth(index).fill("20.01")
    expect(page.locator("#q-overall")).to_have_text("不合格")
    page.locator(".q-submit").tap()

    expect(page.locator("#q-result")).to_have_attribute("data-status", "failed")
    page.locator("#raise-ncr").tap()
    expect(page.locator("input[name=hold_lot]")).to_be_checked()  # the inspected lot is held by default
    page.locator("#ncr-form button[type=submit]").tap()
    holds = page.locator("#ncr-holds")
    expect(holds).to_contain_text(lot)
    expect(holds.locator(".q-badge-alarm")).to_be_visible()
    expect(page.locator("#ncr-status")).to_have_attribute("data-status", "open")
    assert_no_horizontal_overflow(page)

    # The orders app heard quality.lot_held: 张师傅 cannot report on the lot any more.
    report(operator, 5, lot)
    message = operator.locator("#floor-message")
    expect(message).to_have_class(re.compile("ord-message-error"))
    expect(message).to_contain_text(lot)
    held = planner.get("/api/v1/orders/held-lots")
    assert lot in [h["lot"] for h in held]

    # She checks the pieces again. Releasing the lot she held needs a second person until a disposition is
    # approved: she proposes to use the pieces as they are, 王芳 approves, then she releases the lot.
    page.locator("#ncr-holds input[name=note]").fill("复检合格，放行")
    page.locator("#release-lot").tap()
    expect(page.locator(".flash.error")).to_contain_text(lot)
    expect(page.locator("#ncr-holds .q-badge-alarm")).to_be_visible()
    page.locator("#ncr-disposition input[name=disposition][value=use_as_is]").check()
    page.locator("#propose-note").fill("复检合格")
    page.locator("#ncr-disposition button[type=submit]").tap()
    expect(page.locator("#ncr-status")).to_have_attribute("data-status", "proposed")
    expect(page.locator("#four-eyes")).to_be_visible()  # not her own approval
    ncr_id = re.search(r"/quality/ncrs/(\d+)", page.url).group(1)
    manager.post(f"/api/v1/quality/ncrs/{ncr_id}/approve", {"note": "同意让步接收"})
    page.reload()
    expect(page.locator("#ncr-status")).to_have_attribute("data-status", "dispositioned")
    page.locator("#ncr-holds input[name=note]").fill("复检合格，放行")
    page.locator("#release-lot").tap()
    expect(page.locator("#ncr-holds .q-badge-alarm")).to_have_count(0)
    expect(page.locator("#ncr-holds")).to_contain_text("复检合格，放行")
    report(operator, 5, lot)
    expect(operator.locator("#floor-message")).to_have_class(re.compile("ord-message-success"))
    assert lot not in [h["lot"] for h in planner.get("/api/v1/orders/held-lots")]


def test_the_supervisor_sees_the_drift_in_plain_words_and_on_the_chart(page: Page) -> None:
    pin_sign_in(page, "1003", "3691")  # 陈班长 reads quality, he does not record it
    page.goto("/quality/")
    alarms = page.locator(".q-board-alarms .q-alarm")
    expect(alarms.first).to_be_visible()
    expect(page.locator(".q-board-alarms")).to_contain_text("外径")
    drift = page.locator(".q-board-alarms .q-alarm-text", has_text="中心线 1σ 以上")  # the drift's pattern rule
    expect(drift.first).to_be_visible()
    expect(page.locator(".q-board-alarms form")).to_have_count(0)  # acknowledging is the inspector's
    assert_no_horizontal_overflow(page)

    page.goto("/quality/charts")
    page.locator("a", has_text="外径 Φ80").tap()
    canvas = page.locator("#q-chart-primary")
    expect(canvas).to_have_class(re.compile("q-chart-ready"))
    assert int(canvas.get_attribute("data-violations")) > 0
    expect(page.locator("#q-chart-secondary")).to_have_class(re.compile("q-chart-ready"))
    expect(page.locator("#q-capability")).to_contain_text("Cpk")
    expect(page.locator("#q-baseline")).to_have_count(0)  # fixing limits is configuration
    assert_no_horizontal_overflow(page)
