"""The planner's day in a real browser against the demo factory, with a worker solving the queued runs.

李工 (in Chinese): new run "on-time delivery first" → watches its progress → opens the Gantt (zoom, tap a bar)
→ publishes; an operator's tablet then lists the machine's work in the published sequence.

A breakdown and the repair the planner publishes are in test_closed_loop_pages.py, on a factory of their own.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from playwright.sync_api import Browser, Page, expect

from platform_core.demo import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_orders_tablet import pin_sign_in, use_language
from tests.e2e.test_platform_pages import assert_no_horizontal_overflow, assert_touch_targets, sign_in_with_password

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

API = "/api/v1/scheduling"
SOLVED = 90_000  # ms: a run of the demo's orders is solved within seconds; the rest is slack for a busy machine


class Session:
    """API calls with a browser page's session (cookie and CSRF token)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")

    def get(self, path: str, **kwargs):
        response = self.page.request.get(path, **kwargs)
        assert response.ok, f"GET {path}: {response.status} {response.text()[:200]}"
        return response

    def send(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        response = self.page.request.fetch(
            path, method=method, data=body or {}, headers={"X-CSRFToken": self.csrf, **(headers or {})}
        )
        assert response.ok, f"{method} {path}: {response.status} {response.text()[:300]}"
        return response.json()


def _busiest_machine(api: Session, run_id: int) -> int:
    slots = api.get(f"{API}/runs/{run_id}/slots").json()
    return Counter(s["machine_id"] for s in slots if not s["frozen"]).most_common(1)[0][0]


def _wait_for(api: Session, run_id: int, states: set[str]) -> dict:
    deadline = time.monotonic() + SOLVED / 1000
    while time.monotonic() < deadline:
        run = api.get(f"{API}/runs/{run_id}").json()
        if run["state"] in states:
            return run
        time.sleep(0.5)
    pytest.fail(f"run {run_id} never reached {states}")


def test_planner_runs_watches_opens_the_gantt_and_publishes_and_the_tablet_follows(
    page: Page, browser: Browser, browser_context_args, scheduling_worker
) -> None:
    sign_in_with_password(page, "planner", DEMO_PASSWORD)
    use_language(page, "zh_CN")
    page.locator("nav.nav [data-app=scheduling]").click()
    expect(page.locator("h1")).to_contain_text("排产")
    page.locator("#tab-new-run").click()
    expect(page.locator("h1")).to_have_text("新建排产")
    expect(page.locator("#check [data-check-orders]")).to_be_visible()  # the data check, before anything is solved
    page.locator("label.sch-preset", has_text="准时交付优先").click()
    page.locator("#time_limit_s").fill("5")
    assert_touch_targets(page, ".sch-preset, #run-form .button, .sch-tab")
    assert_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scheduling-new-run.png"), full_page=True)
    page.locator("#start-run").click()

    expect(page).to_have_url(re.compile(r"/scheduling/runs/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#run-progress")).to_have_attribute("data-state", "draft", timeout=SOLVED)
    expect(page.locator("[data-progress=improvements]")).not_to_have_text("0")
    expect(page.locator("#objective-chart")).to_be_visible()
    expect(page.locator("#figures [data-kpi=late_orders]")).to_be_visible()
    assert_no_horizontal_overflow(page)

    page.locator("#open-gantt").click()
    expect(page.locator("#gantt-app")).to_have_attribute("data-ready", "true")
    for zoom in ("week", "day", "shift", "hours"):
        page.locator(f"[data-zoom={zoom}]").click()
    page.locator("[data-zoom=day]").click()
    page.locator("[data-pan='1']").click()
    page.locator("[data-pan='0']").click()
    assert_touch_targets(page, ".sch-toolbar .button")
    assert_no_horizontal_overflow(page)
    # tap the first operation bar where the chart drew it: its details open with the move form (a draft)
    point = page.evaluate(
        """() => {
            const chart = Chart.getChart("gantt-canvas");
            chart.options.scales.x.min = chart.data.datasets[3].data[0].x[0] - 3600000;
            chart.options.scales.x.max = chart.options.scales.x.min + 8 * 3600000;
            chart.update();
            const bar = chart.getDatasetMeta(3).data[0], area = chart.chartArea;
            return {x: (Math.max(bar.base, area.left) + Math.min(bar.x, area.right)) / 2, y: bar.y};
        }"""
    )
    page.locator("#gantt-canvas").click(position=point)
    expect(page.locator("#gantt-detail")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "scheduling-gantt-by-machine.png"), full_page=True)
    expect(page.locator("#move-form select[name=machine_id] option").first).to_be_attached()
    page.locator("#gantt-table summary").click()
    expect(page.locator("#gantt-rows tr[data-order]").first).to_be_visible()
    page.locator("#view-order").click()
    expect(page.locator("#gantt-app")).to_have_attribute("data-ready", "true")
    page.screenshot(path=str(ARTIFACTS / "scheduling-gantt-by-order.png"), full_page=True)

    page.goto(f"/scheduling/runs/{run_id}")
    page.locator("#publish").click()
    expect(page.locator(".flash.success")).to_contain_text("已发布")
    expect(page.locator("h1 .sch-state")).to_have_attribute("data-state", "published")

    api = Session(page)
    machine_id = _busiest_machine(api, run_id)
    slots = sorted(
        (s for s in api.get(f"{API}/runs/{run_id}/slots").json() if s["machine_id"] == machine_id),
        key=lambda s: s["start"],
    )
    planned = [str(s["operation_id"]) for s in slots]

    tablet = browser.new_context(**browser_context_args)
    try:
        operator = tablet.new_page()
        pin_sign_in(operator, "1001", "2580")
        operator.goto(f"/orders/terminal/machines/{machine_id}")
        cards = operator.locator(".ord-card")
        expect(cards.first).to_be_visible()
        shown = [cards.nth(i).get_attribute("data-operation") for i in range(len(planned))]
        assert shown == planned, "the tablet lists the machine's work in the published sequence"
        expect(operator.locator(".ord-card .ord-planned").first).to_be_visible()
    finally:
        tablet.close()
