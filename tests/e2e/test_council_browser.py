"""The council in a real headless Chromium: a resident raises a topic from the home-code page on a
phone, staff mention the department's liaison who claims it, a hearing is held with QR check-in
and minutes, a written-consent campaign reaches unanimity, and a project shows its weighted
progress on its public page.

Uses the registry browser test's launch arguments and fixtures (Debian's /usr/bin/chromium,
driven by Playwright; skipped when absent unless JIAYUAN_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_case_loop_browser import PHONE, _errors_of, _fits
from tests.e2e.test_registry_browser import _log_in, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open(p, action_suffix: str) -> None:
    """Open the <details> panel holding the form posting to ``…action_suffix``."""
    p.click(f"details:has(form[action$='{action_suffix}']) > summary")


def test_topic_mention_claim_hearing_consent_and_project(browser, live_server):  # noqa: F811
    from jiayuan.accounts.testing import make_user
    from jiayuan.council.models import Attendance, Consultation, Meeting, Project, Topic
    from jiayuan.council.services.topics import add_member, create_council
    from jiayuan.registry.models import Liaison
    from jiayuan.registry.testing import make_tiny_district

    tiny = make_tiny_district()
    n = tiny.neighbourhoods["S1N1"]
    dept = tiny.departments["S1"]
    wang = make_user("wang", "neighbourhood_staff", n, display_name="王社工")
    li = make_user("li", "liaison", n, department=dept, display_name="李联络员")
    Liaison.objects.create(department=dept, neighbourhood=n, name="李联络员", user=li,
                           path=n.path)
    council = create_council(n)
    add_member(council, actor=wang, role="party_secretary", name="王社工", user=wang)
    add_member(council, actor=wang, role="department_liaison", name="李联络员", user=li,
               department=dept)
    entrance = tiny.entrances["S1N1C1"]
    base = live_server.url

    phone_ctx = browser.new_context(**PHONE)
    staff_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    li_ctx = browser.new_context(**PHONE)
    try:
        # A resident scans the home code and raises a topic for the council (no account).
        phone = _errors_of(phone_ctx.new_page())
        phone.goto(f"{base}/h/{entrance.home_code}/")
        phone.click("[data-testid=raise-topic]")
        phone.wait_for_url(f"{base}/h/{entrance.home_code}/topic/")
        phone.fill("#id_title", "单元门口台阶需加装无障碍坡道")
        phone.fill("#id_body", "楼里有老人坐轮椅去透析，进出很困难")
        phone.fill("#id_raiser_name", "陈阿姨")
        with phone.expect_navigation():
            phone.click("[data-testid=submit-topic]")
        phone.wait_for_selector("[data-testid=topic-raised]")
        _fits(phone)
        _shot(phone, "council-topic-raised-phone")
        topic = Topic.objects.get()
        assert topic.origin == "home_code" and topic.raiser_name == "陈阿姨"

        # Staff find it on the council page and mention the police station's liaison.
        staff = _errors_of(staff_ctx.new_page())
        _log_in(staff, base, "wang")
        staff.click("a[data-tile='council.home']")
        staff.wait_for_url(f"{base}/councils/{council.pk}/")
        staff.click(f"[data-testid=topics] a[href='/councils/topics/{topic.pk}/']")
        staff.wait_for_url(f"{base}/councils/topics/{topic.pk}/")
        staff.fill("#id_body", "@李联络员 坡道占用人行道，请派出所一起看看")
        with staff.expect_navigation():
            staff.click("[data-testid=send-comment]")
        assert "坡道占用人行道" in staff.locator("[data-testid=thread]").inner_text()

        # The liaison is notified and claims the topic from a phone.
        from jiayuan.cases.models import Notification
        assert Notification.objects.filter(user=li, kind="council").exists()
        lp = _errors_of(li_ctx.new_page())
        _log_in(lp, base, "li")
        lp.goto(f"{base}/councils/topics/{topic.pk}/")
        with lp.expect_navigation():
            lp.click("[data-testid=claim]")
        assert "李联络员" in lp.locator("[data-testid=responsible]").inner_text()
        assert lp.locator("[data-testid=topic-status]").get_attribute("data-status") == "claimed"
        _fits(lp)
        _shot(lp, "council-topic-claimed-phone")

        # Staff schedule a hearing with the topic on the agenda; the liaison checks in by QR.
        staff.goto(f"{base}/councils/{council.pk}/")
        _open(staff, "/meetings/new/")
        form = staff.locator("form[action$='/meetings/new/']")
        form.locator("[name=kind]").select_option("hearing")
        form.locator("[name=title]").fill("无障碍坡道听证会")
        form.locator("[name=starts_at]").fill("2030-12-01T19:00")
        form.locator("[name=place]").fill("居委会议室")
        form.locator("[name=agenda]").fill("1. 方案介绍\n2. 居民意见")
        form.locator("[name=topics]").select_option(str(topic.pk))
        with staff.expect_navigation():
            form.locator("button[type=submit]").click()
        meeting = Meeting.objects.get()
        staff.wait_for_url(f"{base}/councils/meetings/{meeting.pk}/")
        staff.wait_for_function(
            "() => { const i = document.querySelector('.qr img'); "
            "return i && i.complete && i.naturalWidth > 0; }")
        checkin_url = staff.locator("[data-testid=checkin-link]").get_attribute("href")
        lp.goto(checkin_url)
        lp.click("[data-testid=checkin]")
        lp.wait_for_selector("[data-testid=checked-in]")
        assert Attendance.objects.filter(meeting=meeting, user=li, method="qr").exists()
        staff.reload()
        assert "李联络员" in staff.locator("[data-testid=attendance]").inner_text()
        staff.fill("#id_minutes", "到会居民12人，一致支持加装坡道，需征得全体承租人书面同意。")
        staff.fill(f"[name=decision_{topic.pk}]", "启动全体承租人书面征询")
        with staff.expect_navigation():
            staff.click("[data-testid=hold]")
        assert staff.locator("[data-testid=meeting-status]").get_attribute("data-status") == "held"
        assert "一致支持加装坡道" in staff.locator("[data-testid=minutes]").inner_text()
        _shot(staff, "council-meeting-held")

        # A written-consent campaign of the three tenant households reaches unanimity.
        staff.goto(f"{base}/councils/{council.pk}/")
        _open(staff, "/consultations/new/")
        form = staff.locator("form[action$='/consultations/new/']")
        form.locator("[name=kind]").select_option("consent")
        form.locator("[name=title]").fill("加装坡道全体承租人书面征询")
        form.locator("[name=topic]").select_option(str(topic.pk))
        form.locator("[name=members]").fill("T1 101室承租户\nT2 102室承租户\nT3 103室承租户")
        with staff.expect_navigation():
            form.locator("button[type=submit]").click()
        assert staff.locator("[data-testid=result-status]").get_attribute("data-status") == "pending"
        for key in ("T1", "T2", "T3"):
            with staff.expect_navigation():
                staff.click(f"[data-testid=consent-{key}]")
        assert staff.locator("[data-testid=result-status]").get_attribute("data-status") == "reached"
        assert "已取得同意" in staff.locator("[data-testid=result-reason]").inner_text()
        assert Consultation.objects.get().result_status == "reached"
        _shot(staff, "council-consent-reached")

        # A project with weighted milestones shows its progress, also on its public page.
        staff.goto(f"{base}/councils/{council.pk}/")
        _open(staff, "/projects/new/")
        form = staff.locator("form[action$='/projects/new/']")
        form.locator("[name=title]").fill("无障碍坡道建设")
        form.locator("[name=budget]").fill("8000")
        form.locator("[name=topic]").select_option(str(topic.pk))
        form.locator("[name=milestones]").fill("设计 | 1 | 100\n施工 | 3 | 50")
        with staff.expect_navigation():
            form.locator("button[type=submit]").click()
        assert staff.locator("[data-testid=progress]").inner_text() == "62.50%"
        project = Project.objects.get()
        phone.goto(f"{base}/p/projects/{project.pk}/")
        assert phone.locator("[data-testid=public-progress]").inner_text() == "62.50%"
        _fits(phone)
        _shot(phone, "council-project-public-phone")
        for p in (phone, staff, lp):
            assert p.console_errors == [], p.console_errors
    finally:
        phone_ctx.close()
        staff_ctx.close()
        li_ctx.close()
