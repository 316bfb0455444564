"""The platform's pages in a real browser on a 1024x768 touch screen: sign-in, home, language, factory console."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from platform_core.demo import DEMO_CODE, DEMO_PASSWORD

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

MIN_TOUCH_TARGET = 44  # px, the usual minimum for a finger on a tablet
HOME = re.compile(r"^http://127\.0\.0\.1:\d+/$")


def assert_no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url}: the page is {width}px wide, wider than the {viewport}px screen"


def assert_touch_targets(page: Page, selector: str) -> None:
    """Every visible element matching ``selector`` is at least MIN_TOUCH_TARGET px high."""
    targets = page.locator(selector).filter(visible=True)
    expect(targets.first).to_be_visible()
    small = []
    for target in targets.all():
        box = target.bounding_box()
        if box is not None and box["height"] < MIN_TOUCH_TARGET:
            small.append(f"{target.evaluate('e => e.outerHTML.slice(0, 120)')} is {box['height']:.0f}px high")
    assert not small, f"touch targets under {MIN_TOUCH_TARGET}px on {page.url}:\n" + "\n".join(small)


def expect_apps(page: Page, scope: str, shown: list[str], hidden: list[str]) -> None:
    for app in shown:
        expect(page.locator(f"{scope} [data-app={app}]")).to_be_visible()
    for app in hidden:
        expect(page.locator(f"{scope} [data-app={app}]")).to_have_count(0)


def sign_in_with_password(page: Page, username: str, password: str) -> None:
    page.goto("/login?mode=password")
    page.locator("#pw-username").fill(username)
    page.locator("#pw-password").fill(password)
    page.locator("#password-login button[type=submit]").click()


def sign_out(page: Page) -> None:
    page.locator("form[action$='/logout'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_operator_signs_in_with_pin_on_a_tablet_and_switches_to_chinese(page: Page) -> None:
    page.goto("/login?mode=pin")
    expect(page.locator(".tab.selected")).to_have_attribute("href", re.compile(r"mode=pin"))
    for selector, value in (("#pin-factory", DEMO_CODE), ("#pin-employee_no", "1001"), ("#pin-pin", "2580")):
        page.locator(selector).tap()
        expect(page.locator(selector)).to_be_focused()
        page.locator(selector).fill(value)
    assert_touch_targets(page, ".tab, #pin-login input, #pin-login button")
    assert_no_horizontal_overflow(page)
    page.locator("#pin-login button[type=submit]").tap()

    expect(page).to_have_url(HOME)
    expect(page.locator("h1")).to_contain_text("张伟")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # the factory's default language
    expect_apps(page, ".tiles", shown=["orders", "equipment"], hidden=["scheduling", "quality"])
    expect_apps(page, "nav.nav", shown=["orders", "equipment"], hidden=["scheduling", "quality"])
    assert_touch_targets(page, ".topbar .nav-item, .topbar button, .tile")
    assert_no_horizontal_overflow(page)

    # The demo factory defaults to Chinese; go through English first so that the switch back is visible.
    page.locator(".lang-switch button[value=en]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav.nav [data-app=orders]")).to_contain_text("Orders")

    page.locator(".lang-switch button[value=zh_CN]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".lang-switch button[value=zh_CN]")).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("nav.nav [data-app=orders]")).to_contain_text("订单")
    expect(page.locator("nav.nav [data-app=equipment]")).to_contain_text("设备")
    expect(page.locator(".tiles [data-app=orders]")).to_contain_text("订单")
    expect(page).to_have_url(HOME)
    assert_touch_targets(page, ".topbar .nav-item, .topbar button, .tile")
    assert_no_horizontal_overflow(page)

    # The choice is kept on the user: it survives a reload.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_platform_operator_onboards_a_factory_whose_admin_sees_its_apps(page: Page) -> None:
    sign_in_with_password(page, "platform", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/platform/tenants$"))
    expect(page.locator("table.table")).to_contain_text(DEMO_CODE)
    assert_no_horizontal_overflow(page)

    form = page.locator("#tenant-form")
    form.locator("#code").fill("E2E1")
    form.locator("#name").fill("E2E Precision Parts")
    form.locator("#timezone").select_option("Europe/Berlin")
    form.locator("#default_locale").select_option("en")
    form.locator("input[name=apps][value=orders]").check()
    form.locator("#admin_username").fill("e2eadmin")
    form.locator("#admin_name").fill("E2E Admin")
    form.locator("#admin_password").fill("e2e-admin-password")
    assert_touch_targets(page, "#tenant-form input:not([type=checkbox]), #tenant-form select, #tenant-form button")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/platform/tenants/\d+$"))
    expect(page.locator("h1")).to_contain_text("E2E Precision Parts")
    expect(page.locator("h1")).to_contain_text("E2E1")
    expect(page.locator(".flash.success")).to_be_visible()
    expect(page.locator("button[data-app=orders]")).to_have_text("Disable")
    expect(page.locator("button[data-app=equipment]")).to_have_text("Enable")
    expect(page.locator("main")).to_contain_text("e2eadmin")

    page.locator("button[data-app=equipment]").click()
    expect(page.locator("button[data-app=equipment]")).to_have_text("Disable")
    expect(page.locator(".flash.success")).to_be_visible()
    expect(page.locator("button[data-app=scheduling]")).to_have_text("Enable")
    expect(page.locator("button[data-app=quality]")).to_have_text("Enable")
    assert_touch_targets(page, ".toggle-row button")
    assert_no_horizontal_overflow(page)

    sign_out(page)
    sign_in_with_password(page, "e2eadmin", "e2e-admin-password")
    expect(page).to_have_url(HOME)
    expect(page.locator(".brand")).to_have_text("E2E Precision Parts")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect_apps(page, ".tiles", shown=["orders", "equipment"], hidden=["scheduling", "quality"])
    expect_apps(page, "nav.nav", shown=["orders", "equipment"], hidden=["scheduling", "quality"])
    expect(page.locator(".tiles [data-app=orders]")).to_contain_text("Orders")
    expect(page.locator(".tiles [data-app=equipment]")).to_contain_text("Equipment")
    assert_no_horizontal_overflow(page)


def test_a_bad_sign_in_shows_an_error_on_the_login_page(page: Page) -> None:
    page.goto("/login?mode=password")
    page.locator("#pw-username").fill("platform")
    page.locator("#pw-password").fill("not-the-password")
    with page.expect_response(lambda r: r.request.method == "POST" and "/login" in r.url) as posted:
        page.locator("#password-login button[type=submit]").click()
    assert posted.value.status == 200
    expect(page.locator("[role=alert]")).to_have_text("Wrong username or password.")
    expect(page).to_have_url(re.compile(r"/login\?mode=password"))
    expect(page.locator("#pw-username")).to_have_value("platform")
    expect(page.locator("#pw-password")).to_have_value("")
    expect(page.locator("form[action$='/logout']")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Traceback")

    page.locator(".tab[href*='mode=pin']").tap()
    page.locator("#pin-factory").fill(DEMO_CODE)
    page.locator("#pin-employee_no").fill("1002")
    page.locator("#pin-pin").fill("0000")
    page.locator("#pin-login button[type=submit]").tap()
    expect(page.locator("[role=alert]")).to_have_text("Wrong employee number or PIN.")
    expect(page).to_have_url(re.compile(r"/login\?mode=pin"))
    expect(page.locator("body")).not_to_contain_text("Traceback")
    assert_no_horizontal_overflow(page)

    # An unknown page is a readable status page with a way back, not a bare server error.
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator("main h1")).to_have_text("404")
    expect(page.locator("main")).to_contain_text("Not found.")
    expect(page.locator("main a.button")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    page.locator("main a.button").tap()
    expect(page).to_have_url(re.compile(r"/login"))
