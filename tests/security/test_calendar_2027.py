"""Issue 12, item 12: deadlines from 1 January 2027, when chinesecalendar's data has ended.

On the old main the platform counted every Monday–Friday of 2027 as a working day, so New
Year's Day and the Spring Festival counted towards every deadline. These tests go through
the real intake (``open_case`` → ``deadlines``), the SLA sweep, the command and the pages.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiayuan.cases import sla
from jiayuan.cases.models import CalendarEntry, CalendarEvent, CalendarYear
from jiayuan.cases.services import open_case
from jiayuan.cases.services.deadlines import deadline_and_warning
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.registry.models import OperationsCentre
from jiayuan.registry.services import save_with_path

SH = ZoneInfo("Asia/Shanghai")

STATUTORY_2027 = [
    "2027-01-01 holiday 元旦 (statutory)",
    "2027-02-05 holiday 春节 (statutory)",  # 除夕 (the 29th of the twelfth month: no 30th)
    "2027-02-06 holiday 春节 (statutory)",
    "2027-02-07 holiday 春节 (statutory)",
    "2027-02-08 holiday 春节 (statutory)",
    "2027-04-05 holiday 清明节 (statutory)",
    "2027-05-01 holiday 劳动节 (statutory)",
    "2027-05-02 holiday 劳动节 (statutory)",
    "2027-06-09 holiday 端午节 (statutory)",
    "2027-09-15 holiday 中秋节 (statutory)",
    "2027-10-01 holiday 国庆节 (statutory)",
    "2027-10-02 holiday 国庆节 (statutory)",
    "2027-10-03 holiday 国庆节 (statutory)",
]

# A 2027 notice as an operator would type it (dates invented for the test: the State Council
# had not published 2027's when this was written).
SCHEDULE_2027 = """date,kind,name
2027-02-04,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-20,workday,春节调休上班
"""


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def show(year: int) -> list[str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("calendar", "show", str(year), stdout=out, stderr=err)
    return out.getvalue().splitlines()


def report(tiny, at: dt.datetime):
    case, _ = open_case(channel="home_code", description="路面暴露垃圾", category_code="06010",
                        entrance=tiny.entrances["S1N1C1"], reported_at=at, route=False)
    return case


def load(tmp_path, text: str, name: str = "2027.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("calendar", "import", str(path), stdout=out)
    return out.getvalue()


# --- the calendar knows 2027's statutory holidays before any schedule is loaded ---------------

@pytest.mark.django_db
def test_calendar_show_2027_lists_the_statutory_holidays_before_any_schedule_is_loaded():
    assert show(2027) == STATUTORY_2027


@pytest.mark.django_db
def test_calendar_show_2026_keeps_the_packages_schedule_with_its_make_up_days():
    lines = show(2026)
    assert "2026-10-01 holiday 国庆节 (statutory)" in lines
    assert "2026-10-07 holiday 国庆节 (schedule)" in lines  # a bridging day of the notice
    assert "2026-10-10 workday 国庆节调休上班 (schedule)" in lines  # a make-up Saturday


# --- deadlines counted across them skip them (the real intake and SLA code) ------------------

@pytest.mark.django_db
def test_working_day_deadlines_skip_new_years_day_and_the_spring_festival_2027():
    # Thu 31 Dec 2026 → 1 working day: Fri 1 Jan 2027 is New Year's Day, so Mon 4 Jan.
    due, _ = deadline_and_warning(TimeLimit(1, TimeUnit.WORKING_DAYS), sh(2026, 12, 31, 10))
    assert due == sh(2027, 1, 4, 17, 30)
    # Thu 4 Feb 2027 → 3 working days: 5–8 Feb are the Spring Festival (eve to the 3rd day).
    due, _ = deadline_and_warning(TimeLimit(3, TimeUnit.WORKING_DAYS), sh(2027, 2, 4, 10))
    assert due == sh(2027, 2, 11, 17, 30)


@pytest.mark.django_db
def test_a_case_reported_before_the_spring_festival_2027_is_due_after_it_and_not_swept_during_it(
        tiny):
    save_with_path(OperationsCentre(code="OCS1", name="城运中心", district=tiny.district,
                                    subdistrict=tiny.subdistricts["S1"]))
    # Thu 4 Feb 2027 16:00, 4 working hours: 1.5 h that day, then Tue 9 Feb 08:30 + 2.5 h.
    case = report(tiny, sh(2027, 2, 4, 16))
    assert case.due_at.astimezone(SH) == sh(2027, 2, 9, 11, 0)
    assert case.warn_at.astimezone(SH) == sh(2027, 2, 9, 10, 12)
    # Nothing is warned, escalated or overdue over the festival.
    assert sla.sweep(sh(2027, 2, 8, 23, 59)).acted == 0
    nine = sla.sweep(sh(2027, 2, 9, 9, 0))
    assert (nine.escalated, nine.warned, nine.overdue) == (1, 0, 0)


def test_the_sweeps_acceptance_cut_off_skips_new_years_day_2027(db):
    # At Mon 4 Jan 2027 09:00 two working hours are up for cases reported by Thu 31 Dec 16:00
    # (1.5 h that afternoon, 0.5 h on the 4th); New Year's Day and the weekend count nothing.
    cutoff = sla.latest_start(sh(2027, 1, 4, 9, 0), TimeLimit(2, TimeUnit.WORKING_HOURS))
    assert cutoff == sh(2026, 12, 31, 16, 0)


# --- the State Council's schedule, once published, is loaded as data ----------------------------

@pytest.mark.django_db
def test_a_loaded_schedule_adds_its_days_and_make_up_days_to_the_deadlines(tmp_path):
    load(tmp_path, SCHEDULE_2027)
    lines = show(2027)
    assert "2027-02-04 holiday 春节 (schedule)" in lines
    assert "2027-02-20 workday 春节调休上班 (schedule)" in lines
    assert "2027-02-05 holiday 春节 (statutory)" in lines
    assert CalendarYear.objects.filter(year=2027).exists()
    # Wed 3 Feb → 1 working day: 4–11 Feb are off, so Fri 12 Feb. 7 working days: 12, 15,
    # 16, 17, 18, 19, then the make-up Saturday 20 Feb.
    due, _ = deadline_and_warning(TimeLimit(1, TimeUnit.WORKING_DAYS), sh(2027, 2, 3, 10))
    assert due == sh(2027, 2, 12, 17, 30)
    due, _ = deadline_and_warning(TimeLimit(7, TimeUnit.WORKING_DAYS), sh(2027, 2, 3, 10))
    assert due == sh(2027, 2, 20, 17, 30)


@pytest.mark.django_db
def test_loading_the_same_schedule_twice_writes_one_event_and_a_local_day_is_its_own(tmp_path):
    load(tmp_path, SCHEDULE_2027)
    assert "未作更改" in load(tmp_path, SCHEDULE_2027)
    assert CalendarEvent.objects.count() == 1
    load(tmp_path, "date,kind,name,source\n2027-03-12,holiday,区植树日,local\n", "local.csv")
    assert "2027-03-12 holiday 区植树日 (local)" in show(2027)
    assert CalendarEntry.objects.filter(source="schedule").count() == 5  # schedule untouched
    assert CalendarEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_calendar_file_lists_every_bad_row_and_writes_nothing(tmp_path):
    bad = ("date,kind,name\n"
           "2027-02-04,holiday,春节\n"
           "2027-13-01,holiday,春节\n"          # row 3: no such date
           "2027-02-20,rest,春节调休上班\n"     # row 4: unknown kind
           "2027-10-01,workday,国庆节调休\n"    # row 5: a statutory holiday made a working day
           "2027-02-21,workday,\n"              # row 6: no name
           "2027-02-04,holiday,春节\n")         # row 7: repeated
    with pytest.raises(CommandError) as info:
        load(tmp_path, bad)
    text = str(info.value)
    for row in (3, 4, 5, 6, 7):
        assert f"第 {row} 行" in text
    assert "  第 2 行" not in text  # the good row is not a problem
    assert not CalendarEntry.objects.exists()
    assert not CalendarYear.objects.exists() and not CalendarEvent.objects.exists()


# --- the page and the operations screen -------------------------------------------------------

def test_only_district_duty_or_admin_may_upload_and_a_rejected_upload_shows_every_row(
        tiny, make_user, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = "/cases/calendar/"
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    sub_duty = make_user("subduty", "duty_officer", tiny.subdistricts["S1"])
    duty = make_user("duty", "duty_officer", tiny.district)

    def upload(user, text: str):
        client.force_login(user)
        return client.post(url, {"file": SimpleUploadedFile("2027.csv", text.encode())})

    assert upload(staff, SCHEDULE_2027).status_code == 403
    assert upload(sub_duty, SCHEDULE_2027).status_code == 403
    assert not CalendarEntry.objects.exists()

    rejected = upload(duty, "date,kind,name\nxx,holiday,春节\n2027-02-20,rest,班\n")
    assert rejected.status_code == 422
    body = rejected.content.decode()
    assert "第 2 行" in body and "第 3 行" in body
    assert not CalendarEntry.objects.exists()

    done = upload(duty, SCHEDULE_2027)
    assert done.status_code == 302
    assert CalendarEntry.objects.count() == 5
    page = client.get(url + "?year=2027").content.decode()
    assert "2027-02-20" in page and "春节调休上班" in page and "2027" in page


def test_the_operations_screen_warns_from_november_while_next_years_schedule_is_missing(
        tiny, make_user, client, tmp_path, monkeypatch):
    from jiayuan.sensors import views_ops

    duty = make_user("duty", "duty_officer", tiny.district)
    client.force_login(duty)
    monkeypatch.setattr(views_ops, "_today", lambda: dt.date(2026, 10, 31))
    assert "ops-calendar-warning" not in client.get("/ops/").content.decode()
    monkeypatch.setattr(views_ops, "_today", lambda: dt.date(2026, 11, 1))
    page = client.get("/ops/").content.decode()
    assert "ops-calendar-warning" in page and "2027" in page
    load(tmp_path, SCHEDULE_2027)
    assert "ops-calendar-warning" not in client.get("/ops/").content.decode()
