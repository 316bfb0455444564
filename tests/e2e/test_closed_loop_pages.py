"""The closed loop in the browser, on a demo factory of its own (a published plan changes what other browser tests
see) whose calendars run round the clock, so that whenever the suite runs the breakdown falls in planned time.

李工 publishes a plan; 陈班长 sees the predictive warning the gateway's vibration trend raised on CNC-03 and its
maintenance suggestion; 张师傅 reports the machine with the next planned work down on its tablet (stopped an hour
ago, a spindle failure, expected back in four hours); the worker's watch raises one "down too long" alarm and one
corrective order; the repair proposal appears on the planner's page, he reviews and publishes it; the tablet of a
machine that took over work lists it in the new sequence; the machine comes back up; the OEE page shows the
stop under its reason. A screenshot of every step goes to test-artifacts/e2e/closed-loop-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from platform_core.demo import DEMO_PASSWORD
from platform_core.masterdata.models import CalendarException, CalendarShift, ShiftCalendar
from tests.e2e.conftest import ARTIFACTS, VIEWPORT, DemoServer, _demo_app, serve_demo, solving
from tests.e2e.test_orders_tablet import pin_sign_in, use_language
from tests.e2e.test_platform_pages import assert_no_horizontal_overflow, assert_touch_targets, sign_in_with_password
from tests.e2e.test_scheduling_pages import API, SOLVED, Session

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")]

EQUIPMENT = "/api/v1/equipment"
STOPPED_MINUTES_AGO = 60
BACK_IN_HOURS = 4
ROUND_THE_CLOCK = [("A", "00:00", "08:00"), ("B", "08:00", "16:00"), ("C", "16:00", "00:00")]


def _round_the_clock(session) -> None:
    """Every calendar of the demo works three shifts a day, every day, without holidays."""
    session.execute(sa.delete(CalendarException))
    session.execute(sa.delete(CalendarShift))
    for calendar in session.scalars(sa.select(ShiftCalendar)):
        for position, (code, start, end) in enumerate(ROUND_THE_CLOCK):
            session.add(
                CalendarShift(
                    calendar=calendar,
                    position=position,
                    code=code,
                    name=f"{code} 班",
                    weekdays=list(range(1, 8)),
                    start_time=dt.time.fromisoformat(start),
                    end_time=dt.time.fromisoformat(end),
                    breaks=[],
                )
            )


@pytest.fixture(scope="module")
def factory(_chromium, tmp_path_factory) -> Iterator[DemoServer]:
    with (
        serve_demo(tmp_path_factory.mktemp("closed-loop"), prepare=_round_the_clock) as server,
        solving(server.database),
    ):
        yield server


def _run_periodic(server: DemoServer, job) -> None:
    """One round of a periodic job, as the leader worker runs it (every factory, on the server's database)."""
    app = _demo_app(server.database)
    try:
        with app.app_context():
            job()
    finally:
        app.extensions["mes.engine"].dispose()


class Screens:
    """Browser contexts on the factory's server, each a tablet or a desk, watched for server and script errors."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def open(self) -> Page:
        context = self.browser.new_context(base_url=self.url, viewport=VIEWPORT, has_touch=True, locale="en-US")
        self.contexts.append(context)
        page = context.new_page()
        page.on("response", lambda r: r.status >= 500 and self.problems.append(f"{r.status} for {r.url}"))
        page.on("pageerror", lambda error: self.problems.append(f"script error on {page.url}: {error}"))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def shot(page: Page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"closed-loop-{step}.png"), full_page=True)


def _free_for_the_last(plan: Session, machine_id: int, minutes: int, now: dt.datetime) -> bool:
    """Whether the machine was neither down nor in maintenance during the last ``minutes``."""
    since = now - dt.timedelta(minutes=minutes)
    window = {"start": since.isoformat(), "end": now.isoformat()}
    intervals = plan.get(f"{EQUIPMENT}/machines/{machine_id}/states", params=window).json()
    return not any(i["state"] in ("down", "maintenance") for i in intervals)


def _oee_breakdowns(api: Session, machine_id: int, since: dt.datetime) -> dict[str | None, float]:
    window = {"by": "machine", "machine_id": machine_id, "start": since.isoformat()}
    window["end"] = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    [row] = api.get(f"{EQUIPMENT}/oee", params=window).json()["rows"]
    return {b["reason_code"]: b["minutes"] for b in row["breakdowns"]}


def test_predictive_warning_breakdown_repair_dispatch_and_oee_in_the_browser(browser: Browser, factory) -> None:
    from apps.equipment import jobs as equipment_jobs

    screens = Screens(browser, factory.url)
    try:
        # --- 1. the planner publishes a plan of the open orders ------------------------------------------------
        planner = screens.open()
        sign_in_with_password(planner, "planner", DEMO_PASSWORD)
        use_language(planner, "en")
        plan = Session(planner)
        etag = plan.get(f"{API}/settings").headers["etag"]
        plan.send("PATCH", f"{API}/settings", {"repair_time_limit_s": 5}, headers={"If-Match": etag})
        run = plan.send("POST", f"{API}/runs", {"time_limit_s": 5})
        planner.goto(f"/scheduling/runs/{run['id']}")
        expect(planner.locator("#run-progress")).to_have_attribute("data-state", "draft", timeout=SOLVED)
        planner.locator("#publish").click()
        expect(planner.locator("h1 .sch-state")).to_have_attribute("data-state", "published")
        shot(planner, "1-plan-published")
        slots = plan.get(f"{API}/runs/{run['id']}/slots").json()
        now = dt.datetime.now(dt.UTC)
        # the machine with the next planned work that has a "down too long" rule (every machine with a model)
        machines = {m["id"]: m for m in plan.get("/api/v1/masterdata/machines?page_size=200").json()}
        rules = plan.get(f"{EQUIPMENT}/alarm-rules?page_size=200").json()
        rules = {r["machine_model"] for r in rules if r["kind"] == "state"}
        upcoming = sorted(
            (s for s in slots if not s["frozen"] and machines[s["machine_id"]].get("model") in rules),
            key=lambda s: s["start"],
        )
        # the first whose demo history leaves the hour before free to report the stop into (the down page does
        # not offer times inside an earlier down or maintenance)
        upcoming = [s for s in upcoming if _free_for_the_last(plan, s["machine_id"], STOPPED_MINUTES_AGO + 1, now)]
        assert upcoming, "the plan puts no work on a watched machine"
        machine_id = upcoming[0]["machine_id"]
        code = machines[machine_id]["code"]
        assert dt.datetime.fromisoformat(upcoming[0]["start"]) < now + dt.timedelta(hours=BACK_IN_HOURS)
        before = _oee_breakdowns(plan, machine_id, now - dt.timedelta(days=1))

        # --- 2. the supervisor sees the vibration trend's warning on CNC-03 and its maintenance suggestion ---------
        supervisor = screens.open()
        sign_in_with_password(supervisor, "supervisor", DEMO_PASSWORD)
        use_language(supervisor, "zh_CN")
        supervisor.goto("/equipment/alarms")
        expect(supervisor.locator(".eq-alarm[data-machine='CNC-03'][data-rule^='VIBT-']")).to_have_count(1)
        supervisor.goto("/equipment/maintenance")
        expect(supervisor.locator("#open-orders tr[data-machine='CNC-03'][data-kind='predictive']")).to_have_count(1)
        shot(supervisor, "2-predictive-warning")

        # --- 3. the operator reports the machine down on its tablet -----------------------------------------------
        operator = screens.open()
        pin_sign_in(operator, "1001", "2580")  # 张伟, in Chinese
        operator.goto(f"/equipment/machines/{machine_id}")
        assert_touch_targets(operator, "a, button")  # everything a finger may need on a tablet page
        operator.locator("#machine-down").tap()
        assert_touch_targets(operator, "a, button, .eq-when-choice")
        assert_no_horizontal_overflow(operator)
        operator.locator(f"[data-choice=stopped_ago] [data-minutes='{STOPPED_MINUTES_AGO}']").tap()
        operator.locator(f"[data-choice=expected_in] [data-minutes='{BACK_IN_HOURS * 60}']").tap()
        shot(operator, "3-down-reason")
        operator.locator(".eq-reason[data-reason='SPINDLE']").tap()
        panel = operator.locator("#panel")
        expect(panel.locator("[data-state]")).to_have_attribute("data-state", "down")
        expect(panel).to_contain_text("主轴故障")
        expect(panel.locator(".eq-expected-up")).to_be_visible()
        shot(operator, "3-machine-down")

        # --- 4. the worker's watch, twice: one "down too long" alarm, one corrective order -------------------------
        _run_periodic(factory, equipment_jobs.watch_machines)
        _run_periodic(factory, equipment_jobs.watch_machines)
        supervisor.goto("/equipment/alarms")
        expect(supervisor.locator(f".eq-alarm[data-machine='{code}'][data-rule^='DOWN-']")).to_have_count(1)
        supervisor.goto("/equipment/maintenance")
        expect(supervisor.locator(f"#open-orders tr[data-machine='{code}'][data-kind='corrective']")).to_have_count(1)
        assert_touch_targets(supervisor, "main a, main button")
        shot(supervisor, "4-alarm-and-repair-order")

        # --- 5. the repair proposal on the planner's page: reviewed and published ----------------------------------
        planner.goto("/scheduling/")
        proposal = planner.locator(".sch-proposal").first
        expect(proposal).to_be_visible(timeout=SOLVED)  # the banner polls for proposals
        expect(proposal).to_contain_text("machine down")
        expect(proposal).to_contain_text(code)
        assert_touch_targets(planner, ".sch-proposal .button")
        proposal.locator("a.button").click()
        expect(planner.locator("h1 .sch-state")).to_have_attribute("data-state", "proposed")
        expect(planner.locator("#affected")).to_be_visible()
        assert_no_horizontal_overflow(planner)
        shot(planner, "5-repair-proposed")
        repair_id = int(re.search(r"/runs/(\d+)", planner.url).group(1))
        planner.locator("#publish").click()
        expect(planner.locator(".flash.success")).to_contain_text("published")
        expect(planner.locator("h1 .sch-state")).to_have_attribute("data-state", "published")
        assert plan.get(f"{API}/runs/{run['id']}").json()["status"] == "superseded"
        repaired = plan.get(f"{API}/runs/{repair_id}/slots").json()
        down_from = now - dt.timedelta(minutes=STOPPED_MINUTES_AGO + 1)
        back_at = now + dt.timedelta(hours=BACK_IN_HOURS)
        for slot in repaired:
            if slot["machine_id"] == machine_id and not slot["frozen"]:
                start, end = dt.datetime.fromisoformat(slot["start"]), dt.datetime.fromisoformat(slot["end"])
                assert end <= down_from or start >= back_at, f"{slot['order_number']} planned on {code} while down"

        # --- 6. the tablet of a machine that took over work (or of the broken one) lists the new sequence -----------
        moved = {s["operation_id"] for s in slots if s["machine_id"] == machine_id and not s["frozen"]}
        takers = [s["machine_id"] for s in repaired if s["operation_id"] in moved and s["machine_id"] != machine_id]
        taker = takers[0] if takers else machine_id
        planned = [
            str(s["operation_id"])
            for s in sorted((s for s in repaired if s["machine_id"] == taker), key=lambda s: s["start"])
        ]
        operator.goto(f"/orders/terminal/machines/{taker}")
        cards = operator.locator(".ord-card")
        expect(cards.first).to_be_visible()
        shown = [cards.nth(i).get_attribute("data-operation") for i in range(len(planned))]
        assert shown == planned, "the tablet lists the machine's work in the published sequence"
        assert_touch_targets(operator, "a, button")
        assert_no_horizontal_overflow(operator)
        shot(operator, "6-dispatch-list")

        # --- 7. back up; the OEE page shows the stop as a breakdown under its reason -------------------------------
        operator.goto(f"/equipment/machines/{machine_id}")
        operator.locator("#machine-up").tap()
        expect(operator.locator("#panel [data-state]")).not_to_have_attribute("data-state", "down")
        up_at = dt.datetime.now(dt.UTC)
        manager = screens.open()
        sign_in_with_password(manager, "manager", DEMO_PASSWORD)
        use_language(manager, "zh_CN")
        manager.goto("/equipment/oee?days=1&by=machine")  # today: the stop stands out from the demo history
        row = manager.locator(f"#oee-table tr[data-key='{code}']")
        expect(row.locator(".eq-breakdowns [data-reason='SPINDLE']")).to_contain_text("主轴故障")
        assert_no_horizontal_overflow(manager)
        shot(manager, "7-oee-by-reason")
        after = _oee_breakdowns(plan, machine_id, now - dt.timedelta(days=1))
        stop_minutes = (up_at - now).total_seconds() / 60 + STOPPED_MINUTES_AGO
        assert after["SPINDLE"] - before.get("SPINDLE", 0) == pytest.approx(stop_minutes, abs=1.5)
        assert not screens.problems, "\n".join(screens.problems)
    finally:
        screens.close()
