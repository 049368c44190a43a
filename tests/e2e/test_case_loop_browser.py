"""The case loop in a real headless Chromium: a resident files a report from a home-code page
and follows it to closure through the staff workbench.

Uses the registry browser test's launch arguments and fixtures (Debian's /usr/bin/chromium,
driven by Playwright; skipped when absent unless JIAYUAN_REQUIRE_BROWSER=1).
Set JIAYUAN_E2E_SCREENSHOTS=<dir> to keep screenshots (phone size for the resident pages).
"""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.e2e.test_registry_browser import _log_in, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


def _png(width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG (a red-to-blue gradient), so the photo really renders."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((255 - x * 10, 40, x * 10)) for x in range(width))
        for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _errors_of(p):
    p.console_errors = []
    p.on("console", lambda m: p.console_errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.console_errors.append(str(e)))
    return p


def _fits(p) -> None:
    widths = p.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


def _act(p, kind: str, **fields: str) -> None:
    """Open the action's panel on the case page, fill it, submit, wait for the reload."""
    panel = p.locator(f"details[data-action='{kind}']")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    form = panel.locator("form")
    for name, value in fields.items():
        if name == "lead_unit":
            form.locator("select[name=lead_unit]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(value)
    with p.expect_navigation():
        form.locator(f"[data-testid=do-{kind}]").click()
    assert p.locator("[data-testid=action-error]").count() == 0, \
        p.locator("[data-testid=action-error]").inner_text()


def test_a_home_code_report_is_followed_to_closure_and_rated(browser, live_server,  # noqa: F811
                                                              settings, tmp_path):
    from jiayuan.accounts.testing import make_user
    from jiayuan.cases.models import Case, Category
    from jiayuan.cases.services.units import ref
    from jiayuan.registry.models import JointStation
    from jiayuan.registry.testing import make_tiny_district

    settings.STORAGES = {**settings.STORAGES, "default": {  # photos go to a temporary folder
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    # Given a district, its staff, a category and an entrance with its home code
    tiny = make_tiny_district()
    n = tiny.neighbourhoods["S1N1"]
    make_user("wang", "neighbourhood_staff", n, display_name="王社工")
    make_user("zhou", "duty_officer", tiny.subdistricts["S1"], display_name="周值班")
    Category.objects.get_or_create(code="T01001", defaults={
        "name": "楼道灯不亮", "kind": "component", "major_code": "T01",
        "major_name": "公用设施"})
    station = ref(JointStation.objects.get(neighbourhood=n))
    entrance = tiny.entrances["S1N1C1"]
    base = live_server.url

    # When the resident scans the home code on a phone and reports with a photo and position
    resident_ctx = browser.new_context(**PHONE, geolocation={"latitude": 31.15,
                                                             "longitude": 121.425},
                                       permissions=["geolocation"])
    staff_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    duty_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        phone = _errors_of(resident_ctx.new_page())
        phone.goto(f"{base}/h/{entrance.home_code}/")
        _fits(phone)
        _shot(phone, "case-landing-phone")
        phone.click("[data-testid=report-problem]")
        phone.wait_for_url(f"{base}/h/{entrance.home_code}/report/")
        phone.select_option("#id_category", "T01001")
        phone.fill("#id_description", "3号楼1单元楼道灯不亮，晚上看不见台阶")
        phone.set_input_files("#id_photos", files=[
            {"name": "light.png", "mimeType": "image/png", "buffer": _png()}])
        phone.click("#use-location")
        phone.wait_for_selector("#use-location[data-located-ok='1']")
        phone.fill("#id_reporter_phone", "13812345678")
        _fits(phone)
        _shot(phone, "case-report-phone")
        with phone.expect_navigation():
            phone.click("#report-submit")
        phone.wait_for_selector("[data-testid=report-received]")
        tracking_url = phone.locator("#tracking-link").inner_text().strip()
        assert "/t/" in tracking_url
        _fits(phone)
        _shot(phone, "case-tracking-new-phone")
        case = Case.objects.get()
        assert case.channel == "home_code" and case.category.code == "T01001"
        assert case.attachments.count() == 1 and case.compound == tiny.compounds["S1N1C1"]
        assert phone.locator(".timeline img").count() == 1

        # Then the neighbourhood staff accepts it, dispatches it to the joint station, handles it
        staff = _errors_of(staff_ctx.new_page())
        _log_in(staff, base, "wang")
        staff.click("a[data-tile='cases.workbench']")
        staff.wait_for_url(f"{base}/cases/")
        staff.wait_for_selector(f"tr[data-number='{case.number}']")
        _shot(staff, "case-workbench")
        staff.click(f"tr[data-number='{case.number}'] a")
        staff.wait_for_url(f"{base}/cases/{case.number}/")
        staff.wait_for_selector("#case-map[data-ready='1'] path.case-point")
        assert "138****5678" in staff.locator("#reporter").inner_text()
        staff.click("[data-testid=reveal]")
        staff.wait_for_selector("#reporter[data-revealed='1']")
        assert "13812345678" in staff.locator("#reporter").inner_text()
        _act(staff, "accept")
        _act(staff, "dispatch", lead_unit=station)
        assert "联勤联动站" in staff.locator(".lead-unit").inner_text()
        _act(staff, "handle", reason="已更换楼道灯泡，恢复照明")
        _shot(staff, "case-page-handled")
        assert staff.console_errors == []

        # And a duty officer verifies and closes it
        duty = _errors_of(duty_ctx.new_page())
        _log_in(duty, base, "zhou")
        duty.goto(f"{base}/cases/{case.number}/")
        _act(duty, "verify_ok")
        _act(duty, "close")
        assert duty.locator("h1 .state-badge").get_attribute("data-state") == "closed"

        # Finally the resident rates on the tracking page, and the timeline shows every step
        phone.goto(tracking_url)
        assert phone.locator(".state-badge").get_attribute("data-state") == "closed"
        phone.check("#rate-form input[value=satisfied]")
        with phone.expect_navigation():
            phone.click("#rate-form button[type=submit]")
        assert phone.locator(".state-badge").get_attribute("data-state") == "rated"
        steps = phone.locator("[data-testid=timeline] li").evaluate_all(
            "items => items.map(li => li.dataset.action)")
        assert steps == ["report", "accept", "dispatch", "handle", "verify_ok", "close", "rate"]
        public_text = phone.locator("[data-testid=timeline]").inner_text()
        assert "已更换楼道灯泡" in public_text  # the outcome is the reporter's to read
        assert "王社工" not in public_text and "周值班" not in public_text  # staff stay anonymous
        _fits(phone)
        _shot(phone, "case-tracking-rated-phone")
        assert phone.console_errors == []
        assert Case.objects.get().state == "rated"
    finally:
        for ctx in (resident_ctx, staff_ctx, duty_ctx):
            ctx.close()


def test_live_map_draws_open_cases_and_refreshes_them_in_place(browser, live_server):  # noqa: F811
    from jiayuan.accounts.testing import make_user
    from jiayuan.cases.services import open_case
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    make_user("zhou", "duty_officer", tiny.subdistricts["S1"])
    import datetime as dt

    from django.utils import timezone

    open_case(channel="grid_patrol", description="井盖缺失", lng=121.425, lat=31.15,
              reported_at=timezone.now() - dt.timedelta(days=30))
    open_case(channel="grid_patrol", description="其他街道的问题", lng=121.55, lat=31.15)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = _errors_of(ctx.new_page())
        _log_in(page, live_server.url, "zhou")
        page.clock.install()  # the 30 s refresh is driven by a fake clock, not by waiting
        page.click("a[data-tile='cases.map']")
        # Only the case in the officer's subdistrict is drawn.
        page.wait_for_selector("#live-map[data-ready='1']")
        assert page.locator("path.case-marker").count() == 1
        assert page.locator("path.case-overdue").count() == 1  # coloured as overdue
        # A new case appears at the next refresh, without reloading the page.
        open_case(channel="grid_patrol", description="路灯不亮", lng=121.43, lat=31.16)
        page.evaluate("() => { window.__marker = 'same page'; }")
        page.clock.run_for(31_000)
        page.wait_for_selector("#live-map[data-ready='2']")
        assert page.locator("#live-map").get_attribute("data-rounds") == "2"
        assert page.locator("path.case-normal").count() == 1
        assert page.evaluate("() => window.__marker") == "same page"
        _shot(page, "case-live-map")
        assert page.console_errors == []
    finally:
        ctx.close()
