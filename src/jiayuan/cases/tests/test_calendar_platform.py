"""The platform calendar over the database: kept per process, rebuilt when the loaded days
change, pinned for a batch."""

from __future__ import annotations

import datetime as dt

from jiayuan.cases.calendar import calendar_batch, missing_schedule_year, platform_calendar
from jiayuan.cases.services.calendar import import_calendar

SCHEDULE = b"date,kind,name\n2027-02-04,holiday,x\n2027-02-20,workday,y\n"


def test_the_calendar_is_kept_until_the_loaded_days_change(db, django_assert_num_queries):
    first = platform_calendar()
    with django_assert_num_queries(1):  # the version check only
        assert platform_calendar() is first
    assert first.is_working_day(dt.date(2027, 2, 4))
    import_calendar(file_name="2027.csv", data=SCHEDULE)
    fresh = platform_calendar()
    assert fresh is not first
    assert not fresh.is_working_day(dt.date(2027, 2, 4))
    assert fresh.is_working_day(dt.date(2027, 2, 20))
    import_calendar(file_name="2027.csv", data=b"date,kind,name\n2027-02-20,workday,y\n")
    assert platform_calendar().is_working_day(dt.date(2027, 2, 4))  # removed again


def test_a_batch_checks_the_calendar_once(db, django_assert_num_queries):
    with calendar_batch() as pinned, django_assert_num_queries(0):
        assert platform_calendar() is pinned
        assert platform_calendar() is pinned


def test_next_years_schedule_is_missed_from_november_until_it_is_loaded(db):
    assert missing_schedule_year(dt.date(2026, 10, 31)) is None
    assert missing_schedule_year(dt.date(2026, 11, 1)) == 2027
    assert missing_schedule_year(dt.date(2025, 12, 31)) is None  # 2026 is built in
    import_calendar(file_name="2027.csv", data=SCHEDULE)
    assert missing_schedule_year(dt.date(2026, 12, 31)) is None
