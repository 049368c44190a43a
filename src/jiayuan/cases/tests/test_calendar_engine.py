"""The working calendar's engine: statutory holidays from the law, the package's years kept as
they were, loaded and local days on top, and the properties deadlines rely on."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.cases.holidays import (
    LAST_YEAR,
    PACKAGE_YEARS,
    STATUTORY_FROM,
    CalendarDay,
    DayKind,
    DaySource,
    statutory_days,
)
from jiayuan.cases.workdays import (
    SHANGHAI,
    WorkCalendar,
    add_working_days,
    add_working_time,
    working_time_between,
)

YEARS_AHEAD = st.integers(min_value=PACKAGE_YEARS[1] + 1, max_value=LAST_YEAR)


def test_every_day_of_the_packages_years_keeps_the_packages_answer():
    cal = WorkCalendar()
    day, end = dt.date(PACKAGE_YEARS[0], 1, 1), dt.date(PACKAGE_YEARS[1], 12, 31)
    while day <= end:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("year", range(STATUTORY_FROM, PACKAGE_YEARS[1] + 1))
def test_the_computed_statutory_holidays_agree_with_the_published_schedules(year):
    for day in statutory_days(year):
        assert not chinese_calendar.is_workday(day), day


def test_statutory_holidays_2027_by_the_law_as_amended_in_2024():
    names = {d.isoformat(): e.name for d, e in statutory_days(2027).items()}
    assert names == {
        "2027-01-01": "元旦", "2027-02-05": "春节", "2027-02-06": "春节", "2027-02-07": "春节",
        "2027-02-08": "春节", "2027-04-05": "清明节", "2027-05-01": "劳动节",
        "2027-05-02": "劳动节", "2027-06-09": "端午节", "2027-09-15": "中秋节",
        "2027-10-01": "国庆节", "2027-10-02": "国庆节", "2027-10-03": "国庆节",
    }


def test_mid_autumn_on_national_day_is_one_day_with_both_names():
    assert statutory_days(2028)[dt.date(2028, 10, 3)].name == "国庆节、中秋节"
    assert len(statutory_days(2028)) == 12


@settings(max_examples=60)
@given(YEARS_AHEAD)
def test_every_years_statutory_holidays_fall_where_the_law_puts_them(year):
    days = statutory_days(year)
    by_name: dict[str, list[dt.date]] = {}
    for d, entry in days.items():
        assert d.year == year and entry.kind is DayKind.HOLIDAY
        for name in entry.name.split("、"):
            by_name.setdefault(name, []).append(d)
    assert by_name["元旦"] == [dt.date(year, 1, 1)]
    spring = by_name["春节"]
    assert len(spring) == 4 and spring[-1] - spring[0] == dt.timedelta(days=3)
    assert dt.date(year, 1, 20) <= spring[0] <= dt.date(year, 2, 19)  # the eve
    assert by_name["清明节"][0] in {dt.date(year, 4, d) for d in (4, 5, 6)}
    assert by_name["劳动节"] == [dt.date(year, 5, 1), dt.date(year, 5, 2)]
    assert dt.date(year, 5, 25) <= by_name["端午节"][0] <= dt.date(year, 6, 25)
    assert dt.date(year, 9, 7) <= by_name["中秋节"][0] <= dt.date(year, 10, 8)
    assert by_name["国庆节"] == [dt.date(year, 10, d) for d in (1, 2, 3)]


# --- properties of counting over any loaded calendar ---------------------------------------------

def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


@st.composite
def calendars(draw):
    """A calendar for 2027–2028 with drawn schedule and local days: holidays anywhere off the
    statutory ones, make-up days on weekends (what an import allows)."""
    offsets = draw(st.lists(st.integers(0, 730), max_size=25, unique=True))
    days = []
    for i, offset in enumerate(offsets):
        day = dt.date(2027, 1, 1) + dt.timedelta(days=offset)
        if day in statutory_days(day.year):
            continue
        kind = DayKind.WORKDAY if _weekend(day) and draw(st.booleans()) else DayKind.HOLIDAY
        source = DaySource.LOCAL if i % 3 == 0 else DaySource.SCHEDULE
        days.append(CalendarDay(day, kind, "测试", source))
    return WorkCalendar(days=tuple(days), scheduled_years=frozenset({2027, 2028}))


starts = st.datetimes(min_value=dt.datetime(2027, 1, 1), max_value=dt.datetime(2028, 10, 31),
                      timezones=st.just(SHANGHAI))


@settings(max_examples=150)
@given(calendars(), starts, st.integers(1, 40))
def test_adding_working_days_never_lands_on_a_holiday_or_an_ordinary_weekend(cal, start, n):
    due = add_working_days(start, n, calendar=cal)
    assert cal.is_working_day(due.date())
    assert due.date() not in statutory_days(due.date().year)
    entry = cal.explain(due.date())
    assert (entry is not None and entry.kind is DayKind.WORKDAY) or not _weekend(due.date())
    # exactly n working days lie strictly after the start day, up to and including the due day
    day, counted = start.date(), 0
    while day < due.date():
        day += dt.timedelta(days=1)
        counted += cal.is_working_day(day)
    assert counted == n


@settings(max_examples=150)
@given(calendars(), starts, starts, st.integers(0, 30), st.integers(0, 30))
def test_counting_is_monotone_in_the_start_and_the_amount(cal, a, b, m, n):
    a, b = min(a, b), max(a, b)
    m, n = min(m, n), max(m, n)
    assert add_working_days(a, n, calendar=cal) <= add_working_days(b, n, calendar=cal)
    assert add_working_days(a, m, calendar=cal) <= add_working_days(a, n, calendar=cal)
    hm, hn = dt.timedelta(hours=m), dt.timedelta(hours=n)
    assert add_working_time(a, hn, calendar=cal) <= add_working_time(b, hn, calendar=cal)
    assert add_working_time(a, hm, calendar=cal) <= add_working_time(a, hn, calendar=cal)


@settings(max_examples=100)
@given(calendars(), starts, st.integers(0, 60 * 8 * 15))
def test_the_working_time_measured_to_a_deadline_is_the_time_added(cal, start, minutes):
    amount = dt.timedelta(minutes=minutes)
    due = add_working_time(start, amount, calendar=cal)
    assert working_time_between(start, due, calendar=cal) == amount
    # and no statutory holiday contributes any of it
    day = start.date()
    while day <= due.date():
        if day in statutory_days(day.year) and cal.explain(day).source is DaySource.STATUTORY:
            assert not cal.is_working_day(day)
        day += dt.timedelta(days=1)


@settings(max_examples=60)
@given(YEARS_AHEAD)
def test_without_a_loaded_schedule_a_year_differs_from_monday_to_friday_only_by_the_law(year):
    lines = WorkCalendar().differing_days(year)
    assert [d.day for d in lines] == sorted(statutory_days(year))
    assert all(d.source is DaySource.STATUTORY for d in lines)
