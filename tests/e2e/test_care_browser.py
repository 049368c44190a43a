"""Care pages on a phone in headless Chromium: the staff member opens the register from the
home tile, reveals a person's data (logged), logs a visit from "my visits", and finishes the
care task a panic signal opened. Set JIAYUAN_E2E_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

import pytest

from tests.e2e.test_registry_browser import _log_in, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


def _fits(p) -> None:
    widths = p.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


def test_staff_visit_and_task_loop_on_a_phone(browser, live_server):  # noqa: F811
    from django.utils import timezone

    from jiayuan.accounts.models import PersonalDataAccess
    from jiayuan.accounts.testing import make_user
    from jiayuan.care.models import CareTask, VisitLog
    from jiayuan.care.services import record_signal, register_elder
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    staff = make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    elder = register_elder(by=staff, entrance=tiny.entrances["S1N1C1"], visitor=staff, data={
        "name": "张桂英", "birth_year": 1938, "phone": "13812345678", "health": "poor",
        "carer": "none", "emergency_contacts": [{"name": "李明", "phone": "13900001111"}]})
    ctx = browser.new_context(**PHONE)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    _log_in(p, base, "wang")
    p.click("a[href='/care/']")
    assert "张**" in p.inner_text("[data-testid=care-rows]")
    assert "张桂英" not in p.content()
    _fits(p)
    _shot(p, "care-register-phone")
    p.click("text=张**")
    p.click("[data-testid=reveal]")
    p.wait_for_selector("text=13900001111")
    assert PersonalDataAccess.objects.filter(object_type="care.elder").count() == 1
    _fits(p)
    _shot(p, "care-person-phone")
    p.goto(f"{base}/care/visits/")
    p.click("details.quick summary")
    p.select_option("details.quick select[name=outcome]", "well")
    p.fill("details.quick textarea[name=notes]", "精神很好")
    with p.expect_navigation():
        p.click("details.quick button[type=submit]")
    assert VisitLog.objects.filter(elder=elder, outcome="well").count() == 1
    _fits(p)
    record_signal(person=elder, kind="panic", at=timezone.now(), source_ref="sensors.alarm:1")
    p.goto(f"{base}/care/tasks/")
    assert "紧急呼叫按钮" in p.inner_text("[data-testid=tasks]")
    with p.expect_navigation():
        p.click("[data-testid=take]")
    p.click("details.quick summary")
    p.select_option("details.quick select[name=outcome]", "help_given")
    with p.expect_navigation():
        p.click("details.quick button[type=submit]")
    _shot(p, "care-tasks-phone")
    assert CareTask.objects.get().status == "done"
    assert errors == []
    ctx.close()
