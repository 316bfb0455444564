"""The orders app on a shop-floor tablet (1024x768, touch) in Chromium, against the demo factory.

* 张师傅's whole flow in Chinese: PIN sign-in → pick the machine → start → pause with a reason → resume → report
  good and scrap with its defect → complete, with the server's timers and quantities checked through the API;
* 刘洋 in English while the network drops: his actions wait on the tablet, are replayed once it is back, and a
  report whose answer got lost is sent again with its original Idempotency-Key and counted once.

Each test creates its own work order through the API as the planner, on the demo's free machine CNC-05.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from platform_core.demo import DEMO_CODE, DEMO_PASSWORD
from tests.e2e.test_platform_pages import assert_no_horizontal_overflow, assert_touch_targets

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

API = "/api/v1/orders"
MACHINE = "CNC-05"  # left free by the demo
PRODUCT = "HD-BK-200"  # milling on CNC-04/05/06, then assembly
_numbers = itertools.count(1)


class Planner:
    """The planner's own browser session, used to set up orders and to read what the server recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.goto("/login?mode=password")
        page.locator("#pw-username").fill("planner")
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

    def machine_id(self, code: str) -> int:
        found = self.get(f"/api/v1/masterdata/machines?q={code}")
        return next(m["id"] for m in found if m["code"] == code)

    def released_order(self, quantity: int) -> dict:
        product = next(p for p in self.get(f"/api/v1/masterdata/products?q={PRODUCT}") if p["code"] == PRODUCT)
        number = f"E2E-{int(time.time()) % 100000:05d}-{next(_numbers)}"
        order = self.post(f"{API}/work-orders", {"product_id": product["id"], "quantity": quantity, "priority": 1,
                                                 "number": number})  # fmt: skip
        return self.post(f"{API}/work-orders/{order['id']}/release", {})

    def operation(self, operation_id: int) -> dict:
        return self.get(f"{API}/operations/{operation_id}")


@pytest.fixture
def planner(browser: Browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    try:
        yield Planner(context.new_page())
    finally:
        context.close()


def pin_sign_in(page: Page, employee_no: str, pin: str) -> None:
    page.goto("/login?mode=pin")
    page.locator("#pin-factory").fill(DEMO_CODE)
    page.locator("#pin-employee_no").fill(employee_no)
    page.locator("#pin-pin").fill(pin)
    page.locator("#pin-login button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/$"))


def use_language(page: Page, code: str) -> None:
    lang = "zh-CN" if code == "zh_CN" else "en"
    if page.locator("html").get_attribute("lang") != lang:
        page.locator(f".lang-switch button[value={code}]").tap()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def panel(page: Page):
    return page.locator("#op-panel")


def test_zhang_runs_an_operation_on_the_tablet_in_chinese(page: Page, planner: Planner) -> None:
    order = planner.released_order(quantity=20)
    op10 = order["operations"][0]

    pin_sign_in(page, "1001", "2580")
    use_language(page, "zh_CN")
    page.locator(".tiles [data-app=orders]").tap()
    expect(page).to_have_url(re.compile(r"/orders/terminal$"))
    expect(page.locator("h1")).to_have_text("选择你的设备")
    assert_touch_targets(page, ".ord-place")
    assert_no_horizontal_overflow(page)

    page.locator(f".ord-place[data-machine={MACHINE}]").tap()
    expect(page.locator("h1")).to_contain_text("派工单")
    card = page.locator(f'.ord-card[data-order="{order["number"]}"]')
    expect(card).to_contain_text("10 铣削")
    assert_touch_targets(page, ".ord-card")
    assert_no_horizontal_overflow(page)
    card.tap()

    expect(panel(page)).to_have_attribute("data-status", "pending")
    expect(page.locator("#op-status")).to_have_text("未开工")
    start = page.locator("button[data-action=start]")
    expect(start).to_have_text(re.compile("开工"))
    expect(page.locator("button[data-action=pause]")).to_be_hidden()
    assert_no_horizontal_overflow(page)
    start.tap()
    expect(panel(page)).to_have_attribute("data-status", "running")
    expect(page.locator("#op-status")).to_have_text("运行中")
    expect(page.locator("#clock-running")).not_to_have_text("0:00:00", timeout=5000)  # the timer runs
    assert_touch_targets(page, ".ord-actions button:visible")

    page.locator("button[data-action=pause]").tap()
    expect(page.locator("#pause-dialog")).to_be_visible()
    assert_touch_targets(page, "#pause-dialog .ord-reason")
    page.locator("#pause-dialog .ord-reason[data-code=BREAK]").tap()
    expect(panel(page)).to_have_attribute("data-status", "paused")
    expect(page.locator("#op-status")).to_have_text("已暂停")
    expect(panel(page)).to_contain_text("休息")
    expect(page.locator("#clock-paused")).not_to_have_text("0:00:00", timeout=5000)

    page.locator("button[data-action=resume]").tap()
    expect(panel(page)).to_have_attribute("data-status", "running")

    page.locator("button[data-action=report]").tap()
    dialog = page.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#report-good").fill("12")
    dialog.locator("#report-scrap").fill("2")
    dialog.locator("#report-submit").tap()
    expect(dialog.locator("#report-problem")).to_have_text("请选择造成报废的缺陷。")  # scrap needs its defect
    dialog.locator("#scrap-reasons label", has_text="毛刺").tap()
    dialog.locator("#report-lot").fill("L-E2E-1")
    assert_touch_targets(page, "#report-dialog .ord-reason, #report-dialog input[type=number], #report-dialog .button")
    dialog.locator("#report-submit").tap()
    expect(dialog).to_be_hidden()
    expect(page.locator("#floor-message")).to_have_text("已发送。")
    expect(page.locator("#qty-good")).to_have_text("12")
    expect(page.locator("#qty-scrap")).to_have_text("2")
    expect(page.locator("#recent")).to_contain_text("合格 12")

    page.locator("button[data-action=complete]").tap()
    expect(page.locator("#complete-dialog")).to_be_visible()
    page.locator("#complete-confirm").tap()
    expect(panel(page)).to_have_attribute("data-status", "completed")
    expect(page.locator("#op-status")).to_have_text("已完工")
    expect(page.locator(".ord-actions button:visible")).to_have_count(0)
    assert_no_horizontal_overflow(page)

    recorded = planner.operation(op10["id"])
    assert (recorded["status"], recorded["good_qty"], recorded["scrap_qty"]) == ("completed", 12, 2)
    assert recorded["running_s"] >= 1 and recorded["paused_s"] >= 1
    timeline = planner.get(f"{API}/operations/{op10['id']}/events")
    assert [e["kind"] for e in timeline] == ["start", "pause", "resume", "complete"]
    report = planner.get(f"{API}/operations/{op10['id']}/reports")[0]
    assert report["scrap_reason_code"] == "BURR" and report["output_lot"] == "L-E2E-1"


def test_actions_taken_offline_are_sent_once_when_the_network_returns(page: Page, planner: Planner) -> None:
    order = planner.released_order(quantity=50)
    op10 = order["operations"][0]
    machine_id = planner.machine_id(MACHINE)

    pin_sign_in(page, "1002", "1470")
    use_language(page, "en")
    page.goto(f"/orders/terminal/operations/{op10['id']}?machine_id={machine_id}")
    page.locator("button[data-action=start]").tap()
    expect(panel(page)).to_have_attribute("data-status", "running")
    expect(page.locator("#pending")).to_be_hidden()

    def report(good: int) -> None:
        page.locator("button[data-action=report]").tap()
        page.locator("#report-good").fill(str(good))
        page.locator("#report-submit").tap()
        expect(page.locator("#report-dialog")).to_be_hidden()

    page.context.set_offline(True)
    report(5)
    expect(page.locator("#pending-count")).to_have_text("1")
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#floor-message")).to_contain_text("Kept on this tablet")
    expect(page.locator("#qty-good")).to_have_text("5")  # shown at once, marked as not sent yet
    expect(page.locator("#qty-good")).to_have_class(re.compile("ord-unsent"))
    report(7)
    page.locator("button[data-action=pause]").tap()
    page.locator("#pause-dialog .ord-reason[data-code=MEET]").tap()
    expect(page.locator("#pending-count")).to_have_text("3")
    expect(panel(page)).to_have_attribute("data-status", "paused")
    nothing_yet = planner.operation(op10["id"])
    assert (nothing_yet["good_qty"], nothing_yet["status"]) == (0, "running")

    page.context.set_offline(False)
    expect(page.locator("#pending")).to_be_hidden(timeout=15000)
    expect(page.locator("#offline")).to_be_hidden()
    expect(panel(page)).to_have_attribute("data-status", "paused")
    expect(page.locator("#qty-good")).to_have_text("12")
    arrived = planner.operation(op10["id"])
    assert (arrived["good_qty"], arrived["status"]) == (12, "paused")
    assert len(planner.get(f"{API}/operations/{op10['id']}/reports")) == 2

    # The answer to the next report is lost on the way back: the server counted it, the tablet did not hear it.
    keys: list[str] = []
    replayed: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # reaches the server
            route.abort()  # the answer does not reach the tablet
        else:
            route.continue_()

    page.on(
        "response", lambda r: replayed.append(r.headers.get("idempotent-replayed", "")) if "/report" in r.url else None
    )
    page.route(f"**{API}/operations/{op10['id']}/report", lose_the_first_answer)
    page.locator("button[data-action=resume]").tap()
    expect(panel(page)).to_have_attribute("data-status", "running")
    report(3)
    expect(page.locator("#pending")).to_be_hidden(timeout=15000)
    expect(page.locator("#qty-good")).to_have_text("15")
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry carried the original key
    assert replayed[-1] == "true"  # ... and the server answered it from the first request
    final = planner.operation(op10["id"])
    assert final["good_qty"] == 15
    assert len(planner.get(f"{API}/operations/{op10['id']}/reports")) == 3


def report_on_tablet(page: Page, good: int) -> None:
    page.locator("button[data-action=report]").tap()
    page.locator("#report-good").fill(str(good))
    page.locator("#report-submit").tap()
    expect(page.locator("#report-dialog")).to_be_hidden()


def test_double_taps_refusals_and_a_stale_session_on_the_tablet(page: Page, planner: Planner) -> None:
    order = planner.released_order(quantity=10)
    op10 = order["operations"][0]
    machine_id = planner.machine_id(MACHINE)
    pin_sign_in(page, "1002", "1470")
    use_language(page, "en")
    page.goto(f"/orders/terminal/operations/{op10['id']}?machine_id={machine_id}")

    # A double tap starts the operation once, and no refusal of the second tap is shown.
    starts: list[str] = []
    page.on("request", lambda r: starts.append(r.url) if r.url.endswith("/start") else None)
    page.locator("button[data-action=start]").evaluate("button => { button.click(); button.click(); }")
    expect(panel(page)).to_have_attribute("data-status", "running")
    expect(page.locator("#pending")).to_be_hidden()
    expect(page.locator("#floor-message")).to_have_text("Sent.")
    assert len(starts) == 1
    assert [e["kind"] for e in planner.get(f"{API}/operations/{op10['id']}/events")] == ["start"]

    # Offline, one report too many and one good one: the refusal stays on screen after the good one is sent.
    page.context.set_offline(True)
    report_on_tablet(page, 50)
    report_on_tablet(page, 3)
    expect(page.locator("#pending-count")).to_have_text("2")
    page.context.set_offline(False)
    expect(page.locator("#pending")).to_be_hidden(timeout=15000)
    expect(page.locator("#floor-message")).to_contain_text("50 of 10 planned")
    expect(page.locator("#ask-approval")).to_be_visible()
    expect(page.locator("#qty-good")).to_have_text("3")

    # A token the server no longer accepts: the report stays on the tablet until the operator signs in again.
    def stale_token(route: Route) -> None:
        route.continue_(headers={**route.request.headers, "x-csrftoken": "stale"})

    page.route(f"**{API}/operations/{op10['id']}/report", stale_token)
    report_on_tablet(page, 2)
    expect(page.locator("#floor-message")).to_have_text("Sign in again to send what is waiting.")
    expect(page.locator("#pending-count")).to_have_text("1")
    assert planner.operation(op10["id"])["good_qty"] == 3
    page.unroute(f"**{API}/operations/{op10['id']}/report")
    page.reload()  # a new page carries a valid token, as after signing in again
    expect(page.locator("#pending")).to_be_hidden(timeout=15000)
    expect(page.locator("#qty-good")).to_have_text("5")
    assert planner.operation(op10["id"])["good_qty"] == 5
    assert len(planner.get(f"{API}/operations/{op10['id']}/reports")) == 2
