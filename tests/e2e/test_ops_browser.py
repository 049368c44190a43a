"""The operations screen in headless Chromium: the map draws the area's devices and alarms,
and a new alarm shows up in the vital signs and on the map without reloading the page.
Set JIAYUAN_E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.test_registry_browser import _log_in, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_ops_screen_refreshes_without_reloading(browser, live_server):  # noqa: F811
    from django.utils import timezone
    from playwright.sync_api import expect

    from jiayuan.accounts.testing import make_user
    from jiayuan.registry.testing import make_tiny_district
    from jiayuan.sensors.models import Alarm, Device
    from jiayuan.sensors.services.devices import register_device

    tiny = make_tiny_district()
    make_user("zhou", "duty_officer", tiny.subdistricts["S1"])
    now = timezone.now()
    devs = []
    for i, (key, kind) in enumerate([("S1N1C1", "smoke_detector"), ("S1N1C2", "gas_detector"),
                                     ("S1N2C1", "door_sensor"), ("S2N1C1", "smoke_detector")]):
        d, _ = register_device({"code": f"D{i}", "kind": kind, "entrance": tiny.entrances[key].code})
        Device.objects.filter(pk=d.pk).update(last_heard_at=now - dt.timedelta(minutes=10))
        devs.append(d)
    Device.objects.filter(pk=devs[2].pk).update(silent=True)
    Alarm.objects.create(device=devs[0], rule_id="smoke", title="烟雾报警", severity="Extreme",
                         message="烟雾浓度超限", raised_at=now, path=devs[0].path)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    _log_in(p, base, "zhou")
    p.goto(f"{base}/ops/")
    p.wait_for_selector("#ops-map[data-alarms='1']")
    assert p.get_attribute("#ops-map", "data-ready") == "4"  # 3 devices of S1 + 1 alarm
    assert p.inner_text("[data-testid=v-active-alarms]") == "1"
    assert p.inner_text("[data-testid=v-silent-devices]") == "1"
    assert p.locator(".ops-alarm").count() == 1 and p.locator(".ops-device").count() == 3
    _shot(p, "ops-screen")
    p.evaluate("window.__same_page = 42")
    Alarm.objects.create(device=devs[1], rule_id="gas", title="燃气泄漏", severity="Extreme",
                         message="燃气浓度超限", raised_at=timezone.now(), path=devs[1].path)
    expect(p.locator("[data-testid=v-active-alarms]")).to_have_text("2", timeout=20000)
    p.wait_for_selector("#ops-map[data-alarms='2']", timeout=20000)
    assert p.evaluate("window.__same_page") == 42  # no reload happened
    assert "燃气" in p.inner_text("[data-testid=alarms-by-kind]")
    p.goto(f"{base}/ops/devices/health/")
    assert "D2" in p.inner_text("[data-testid=unhealthy]")
    _shot(p, "ops-health")
    ctx.close()
    # and on a phone: nothing wider than the screen
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True, device_scale_factor=2, locale="zh-CN")
    q = phone.new_page()
    q.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(q, base, "zhou")
    for url in ("/ops/", "/ops/devices/health/"):
        q.goto(f"{base}{url}")
        if url == "/ops/":
            q.wait_for_selector("#ops-map[data-ready]")
        widths = q.evaluate("() => [document.documentElement.scrollWidth, "
                            "document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (url, widths)
        _shot(q, "ops-phone" + url.replace("/", "-"))
    assert errors == []
    phone.close()
