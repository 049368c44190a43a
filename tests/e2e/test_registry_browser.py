"""The registry in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Skipped when the browser is absent, unless JIAYUAN_REQUIRE_BROWSER=1 (then it fails).
Set JIAYUAN_E2E_SCREENSHOTS=<dir> to keep screenshots of the map and the compound page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# itself (making users and places) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("JIAYUAN_REQUIRE_BROWSER") == "1":
            pytest.fail("JIAYUAN_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing "
                        "(apt-get install -y chromium)")
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    p = context.new_page()
    p.console_errors = []
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.console_errors.append(str(e)))
    yield p
    context.close()


def _shot(page, name):
    folder = os.environ.get("JIAYUAN_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _log_in(page, base, username):
    from jiayuan.accounts.testing import TEST_PASSWORD

    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")


def test_staff_log_in_open_map_click_compound_and_see_its_page(page, live_server):
    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    target = tiny.compounds["S1N1C2"]
    base = live_server.url

    _log_in(page, base, "wang")
    assert page.locator("h1.role-heading").inner_text() == "居委会工作人员"

    page.click("a[data-tile='registry.map']")
    page.wait_for_selector("#compound-map[data-ready='2']")
    # Only the staff's own two compounds are drawn; the other neighbourhoods' are not.
    assert page.locator("path.compound").count() == 2
    assert page.locator(f"path.compound-{tiny.compounds['S1N2C1'].code}").count() == 0
    _shot(page, "map")

    page.locator(f"path.compound-{target.code}").click()
    page.wait_for_url(f"{base}/registry/compounds/{target.code}/")
    assert page.locator("h1.compound-name").inner_text() == target.name
    assert page.locator(".compound-code").inner_text() == target.code
    page.wait_for_selector("#compound-shape[data-ready='1']")
    page.wait_for_selector("#households-chart[data-ready='1'] svg")
    _shot(page, "compound")
    assert page.console_errors == []  # no CSP violation, no script error


def test_switching_to_english_changes_the_interface(page, live_server):
    base = live_server.url
    page.goto(f"{base}/login/")
    assert page.locator("h1").inner_text() == "登录家园"
    page.click("form.lang-switch button[value='en']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Log in to Jiayuan"
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("form.lang-switch button[value='zh-hans']")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "登录家园"


def test_home_page_fits_a_phone_without_horizontal_scrolling(browser, live_server):
    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  locale="zh-CN",
                                  device_scale_factor=2, has_touch=True)
    phone = context.new_page()
    try:
        _log_in(phone, live_server.url, "wang")
        widths = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], widths
        assert phone.locator("a[data-tile='registry.tree']").is_visible()
        _shot(phone, "home-phone")
        # The compound page and the map fit the phone too.
        phone.goto(f"{live_server.url}/registry/compounds/{tiny.compounds['S1N1C1'].code}/")
        phone.wait_for_selector("#households-chart[data-ready='1']")
        widths = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], widths
        _shot(phone, "compound-phone")
    finally:
        context.close()


def test_tree_expands_level_by_level_with_htmx(page, live_server):
    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    base = live_server.url
    _log_in(page, base, "wang")
    page.click("a[data-tile='registry.tree']")
    page.wait_for_url(f"{base}/registry/tree/")  # waits for "load": htmx has processed the page
    for level, code in [("district", tiny.district.code),
                        ("subdistrict", tiny.subdistricts["S1"].code),
                        ("neighbourhood", tiny.neighbourhoods["S1N1"].code)]:
        page.click(f"li[data-level='{level}'][data-code='{code}'] > details > summary")
        page.wait_for_selector(f"li[data-level='{level}'][data-code='{code}'] li[data-code]")
    # Only the staff's own branch was loaded: one subdistrict, one neighbourhood, two compounds.
    assert page.locator("li[data-level='subdistrict']").count() == 1
    assert page.locator("li[data-level='compound']").count() == 2
    _shot(page, "tree")
    page.click(f"li[data-code='{tiny.compounds['S1N1C1'].code}'] summary a")
    page.wait_for_url(f"{base}/registry/compounds/{tiny.compounds['S1N1C1'].code}/")
    assert page.console_errors == []
