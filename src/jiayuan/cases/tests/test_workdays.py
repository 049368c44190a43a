"""Deadlines in Chinese working time, checked against real holiday schedules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.cases.holidays import LAST_YEAR
from jiayuan.cases.workdays import (
    DEFAULT_SCHEDULE,
    SHANGHAI,
    CalendarDay,
    CalendarOutOfRange,
    DayKind,
    DaySource,
    NaiveDatetime,
    TimeLimit,
    TimeUnit,
    WorkCalendar,
    WorkSchedule,
    add_calendar_minutes,
    add_working_days,
    add_working_hours,
    deadline_for,
    next_working_moment,
    warning_point,
    working_time_between,
)
from jiayuan.core.errors import ValidationFailed

H = dt.timedelta(hours=1)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


# --- the calendar itself ------------------------------------------------------------------


def test_national_day_2025_make_up_days_are_working_and_golden_week_is_not():
    cal = WorkCalendar()
    assert cal.is_working_day(dt.date(2025, 9, 28))  # Sunday, make-up day
    assert cal.is_working_day(dt.date(2025, 10, 11))  # Saturday, make-up day
    assert not any(cal.is_working_day(dt.date(2025, 10, d)) for d in range(1, 9))


def test_a_year_beyond_the_package_is_refused_when_the_deployment_asks_for_refusal():
    with pytest.raises(CalendarOutOfRange) as info:
        WorkCalendar(beyond_range="refuse").is_working_day(dt.date(2027, 1, 4))
    assert info.value.code == "calendar_out_of_range"
    assert "2027-01-04" in info.value.message and "2026" in info.value.message


def test_a_year_beyond_the_package_counts_its_statutory_holidays_and_monday_to_friday():
    cal = WorkCalendar()
    assert not cal.is_working_day(dt.date(2027, 1, 1))  # a Friday: New Year's Day
    assert not cal.is_working_day(dt.date(2027, 2, 5))  # a Friday: Spring Festival eve
    assert not cal.is_working_day(dt.date(2027, 2, 8))  # a Monday: third day of the year
    assert cal.is_working_day(dt.date(2027, 2, 9))
    assert cal.is_working_day(dt.date(2027, 1, 4))  # a Monday
    assert not cal.is_working_day(dt.date(2027, 1, 9))  # a Saturday
    assert not cal.schedule_known(2027)


def test_a_loaded_schedule_and_local_days_win_and_local_wins_over_the_schedule():
    cal = WorkCalendar(days=(
        CalendarDay(dt.date(2027, 2, 4), DayKind.HOLIDAY, "春节", DaySource.SCHEDULE),
        CalendarDay(dt.date(2027, 2, 20), DayKind.WORKDAY, "春节调休上班", DaySource.SCHEDULE),
        CalendarDay(dt.date(2027, 2, 4), DayKind.WORKDAY, "区值班日", DaySource.LOCAL),
        CalendarDay(dt.date(2027, 3, 12), DayKind.HOLIDAY, "区植树日", DaySource.LOCAL),
    ), scheduled_years=frozenset({2027}))
    assert cal.schedule_known(2027)
    assert cal.is_working_day(dt.date(2027, 2, 20))  # a Saturday, a make-up day
    assert cal.is_working_day(dt.date(2027, 2, 4))  # the district's own day wins
    assert not cal.is_working_day(dt.date(2027, 3, 12))
    assert cal.explain(dt.date(2027, 2, 4)).source is DaySource.LOCAL


def test_an_entry_twice_for_one_source_or_a_loaded_statutory_entry_is_refused():
    day = dt.date(2027, 3, 1)
    with pytest.raises(ValidationFailed):
        WorkCalendar(days=(CalendarDay(day, DayKind.HOLIDAY, "a", DaySource.LOCAL),
                           CalendarDay(day, DayKind.WORKDAY, "b", DaySource.LOCAL)))
    with pytest.raises(ValidationFailed):
        WorkCalendar(days=(CalendarDay(day, DayKind.HOLIDAY, "a", DaySource.STATUTORY),))


def test_years_before_the_package_and_after_the_statutory_range_are_refused():
    with pytest.raises(CalendarOutOfRange):
        WorkCalendar().is_working_day(dt.date(2003, 6, 2))
    with pytest.raises(CalendarOutOfRange):
        WorkCalendar().is_working_day(dt.date(LAST_YEAR + 1, 6, 2))


def test_working_days_that_run_past_the_data_are_refused_when_refusal_is_chosen():
    with pytest.raises(CalendarOutOfRange):
        add_working_days(sh(2026, 12, 28, 10), 13, calendar=WorkCalendar(beyond_range="refuse"))


# --- working days -------------------------------------------------------------------------


def test_three_working_days_from_an_ordinary_monday_end_thursday_at_close_of_business():
    assert add_working_days(sh(2025, 11, 10, 10), 3) == sh(2025, 11, 13, 17, 30)


def test_friday_evening_report_counts_from_monday_and_ends_wednesday_close():
    assert add_working_days(sh(2025, 11, 14, 20, 15), 3) == sh(2025, 11, 19, 17, 30)


def test_hour_of_day_does_not_change_a_working_day_deadline():
    morning = add_working_days(sh(2025, 11, 14, 8, 31), 3)
    assert morning == add_working_days(sh(2025, 11, 14, 23, 59), 3)


def test_national_day_2025_working_days_skip_golden_week_and_use_make_up_saturday():
    # given: a report on Tuesday 30 Sep 2025, the last working day before the holiday
    start = sh(2025, 9, 30, 15)
    # then: the 1st working day is Thu 9 Oct, the 3rd is Sat 11 Oct (make-up day)
    assert add_working_days(start, 1) == sh(2025, 10, 9, 17, 30)
    assert add_working_days(start, 3) == sh(2025, 10, 11, 17, 30)
    assert add_working_days(start, 4) == sh(2025, 10, 13, 17, 30)


def test_report_on_make_up_sunday_before_national_day_2025():
    # Sun 28 Sep 2025 is a working day; 3 working days: 29, 30 Sep, then 9 Oct
    assert add_working_days(sh(2025, 9, 28, 10), 3) == sh(2025, 10, 9, 17, 30)


def test_report_on_make_up_saturday_counts_working_hours_that_same_saturday():
    # Sat 11 Oct 2025 is a make-up working day: 2 working hours from 09:00 end 11:00
    assert add_working_hours(sh(2025, 10, 11, 9), 2) == sh(2025, 10, 11, 11)


def test_spring_festival_2026_is_skipped_by_working_days():
    # Off 15–23 Feb 2026; Sat 14 Feb and Sat 28 Feb are make-up working days
    start = sh(2026, 2, 13, 11)  # Friday
    assert add_working_days(start, 1) == sh(2026, 2, 14, 17, 30)
    assert add_working_days(start, 2) == sh(2026, 2, 24, 17, 30)


def test_national_day_2026_working_hours_jump_the_holiday():
    # 30 Sep 2026 (Wed) 16:30 plus 2 working hours: one hour that day, one on Thu 8 Oct
    assert add_working_hours(sh(2026, 9, 30, 16, 30), 2) == sh(2026, 10, 8, 9, 30)


def test_zero_working_days_is_the_start_itself():
    start = sh(2025, 11, 15, 3)
    assert add_working_days(start, 0) == start


def test_negative_or_fractional_days_are_refused():
    with pytest.raises(ValidationFailed):
        add_working_days(sh(2025, 11, 10, 10), -1)
    with pytest.raises(ValidationFailed):
        add_working_days(sh(2025, 11, 10, 10), 1.5)  # type: ignore[arg-type]


# --- working hours ------------------------------------------------------------------------


def test_working_hours_skip_the_lunch_break():
    assert add_working_hours(sh(2025, 11, 10, 8, 30), 4) == sh(2025, 11, 10, 13, 30)


def test_working_hours_that_use_up_the_morning_end_at_noon_not_at_one():
    assert add_working_hours(sh(2025, 11, 10, 8, 30), 3.5) == sh(2025, 11, 10, 12)


def test_report_after_hours_starts_at_next_working_period():
    # Friday 19:00 report, 4 working hours: from Monday 08:30 to 13:30
    assert add_working_hours(sh(2025, 11, 14, 19), 4) == sh(2025, 11, 17, 13, 30)


def test_report_during_lunch_starts_at_afternoon_period():
    assert next_working_moment(sh(2025, 11, 10, 12, 20)) == sh(2025, 11, 10, 13)
    assert add_working_hours(sh(2025, 11, 10, 12, 20), 1) == sh(2025, 11, 10, 14)


def test_custom_schedule_without_lunch_break():
    nine_to_five = WorkSchedule(((dt.time(9), dt.time(17)),))
    got = add_working_hours(sh(2025, 11, 10, 16), 2, schedule=nine_to_five)
    assert got == sh(2025, 11, 11, 10)


def test_invalid_schedule_is_refused():
    with pytest.raises(ValidationFailed):
        WorkSchedule(((dt.time(13), dt.time(12)),))
    with pytest.raises(ValidationFailed):
        WorkSchedule(((dt.time(8), dt.time(12)), (dt.time(11), dt.time(17))))
    with pytest.raises(ValidationFailed):
        WorkSchedule(())


def test_default_schedule_is_eight_hours_with_lunch():
    assert DEFAULT_SCHEDULE.hours_per_day == 8 * H
    assert DEFAULT_SCHEDULE.day_end == dt.time(17, 30)


# --- time zones ---------------------------------------------------------------------------


def test_naive_datetimes_are_refused_everywhere():
    naive = dt.datetime(2025, 11, 10, 10)
    for call in (
        lambda: add_working_days(naive, 1),
        lambda: add_working_hours(naive, 1),
        lambda: add_calendar_minutes(naive, 5),
        lambda: working_time_between(naive, naive),
        lambda: deadline_for(naive, TimeLimit(1, TimeUnit.WORKING_DAYS)),
    ):
        with pytest.raises(NaiveDatetime) as info:
            call()
        assert info.value.code == "naive_datetime"


def test_other_time_zones_are_converted_and_answers_are_in_shanghai():
    # 01:00 UTC is 09:00 in Shanghai
    start = dt.datetime(2025, 11, 10, 1, tzinfo=dt.UTC)
    got = add_working_hours(start, 1)
    assert got == sh(2025, 11, 10, 10)
    assert got.tzinfo == ZoneInfo("Asia/Shanghai")


# --- minutes, limits, measuring -----------------------------------------------------------


def test_calendar_minutes_run_through_nights_and_holidays():
    assert add_calendar_minutes(sh(2025, 10, 1, 23, 50), 30) == sh(2025, 10, 2, 0, 20)


def test_deadline_for_dispatches_on_unit():
    start = sh(2025, 11, 14, 16)  # Friday
    assert deadline_for(start, TimeLimit(5, TimeUnit.MINUTES)) == sh(2025, 11, 14, 16, 5)
    assert deadline_for(start, TimeLimit(2, TimeUnit.WORKING_HOURS)) == sh(2025, 11, 17, 9)
    assert deadline_for(start, TimeLimit(1, TimeUnit.WORKING_DAYS)) == sh(2025, 11, 17, 17, 30)
    assert deadline_for(start, TimeLimit(7, TimeUnit.CALENDAR_DAYS)) == sh(2025, 11, 21, 16)


def test_time_limit_refuses_bad_values_and_parses_csv_cells():
    with pytest.raises(ValidationFailed):
        TimeLimit(-1, TimeUnit.MINUTES)
    with pytest.raises(ValidationFailed):
        TimeLimit.parse("3", "fortnights")
    assert TimeLimit.parse(" 13", "working_days") == TimeLimit(13, TimeUnit.WORKING_DAYS)
    assert str(TimeLimit(13, TimeUnit.WORKING_DAYS)) == "13个工作日"


def test_working_time_between_counts_only_working_periods():
    # Friday 16:00 → Monday 10:00 = 1.5 h Friday + 1.5 h Monday
    assert working_time_between(sh(2025, 11, 14, 16), sh(2025, 11, 17, 10)) == 3 * H


def test_working_time_between_is_negative_when_overdue():
    assert working_time_between(sh(2025, 11, 17, 10), sh(2025, 11, 14, 16)) == -3 * H


def test_no_working_time_passes_during_golden_week():
    assert working_time_between(sh(2025, 10, 1), sh(2025, 10, 8, 23)) == dt.timedelta(0)


def test_warning_point_at_eighty_percent_of_working_time():
    start = sh(2025, 11, 10, 8, 30)
    deadline = add_working_hours(start, 5)  # 14:30
    assert warning_point(start, deadline) == sh(2025, 11, 10, 13, 30)  # after 4 h


def test_warning_point_around_the_clock_for_minute_limits():
    start = sh(2025, 11, 10, 23)
    assert warning_point(start, start + 100 * dt.timedelta(minutes=1), around_the_clock=True) == (
        start + dt.timedelta(minutes=80))


def test_warning_point_refuses_bad_fraction_and_reversed_deadline():
    start = sh(2025, 11, 10, 9)
    with pytest.raises(ValidationFailed):
        warning_point(start, start + H, fraction=1.5)
    with pytest.raises(ValidationFailed):
        warning_point(start, start - H)


# --- properties ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(2005, 1, 1), max_value=dt.datetime(2025, 12, 31),
    timezones=st.just(SHANGHAI),
)
counts = st.integers(min_value=0, max_value=40)


@given(moments, counts)
def test_working_day_deadline_is_never_before_start(start, n):
    assert add_working_days(start, n) >= start


@given(moments, counts)
def test_working_day_deadline_is_monotone_in_n(start, n):
    assert add_working_days(start, n) <= add_working_days(start, n + 1)


@given(moments, counts, counts)
def test_working_days_compose_from_any_moment(start, a, b):
    once = add_working_days(start, a + b)
    twice = add_working_days(add_working_days(start, a), b)
    assert once == twice


@given(moments, counts, counts)
def test_working_days_compose_from_a_working_period_start(start, a, b):
    # the first working period start on or after the generated date
    t = next_working_moment(start.replace(hour=0, minute=0, second=0, microsecond=0))
    assert t.time() == dt.time(8, 30)
    assert add_working_days(add_working_days(t, a), b) == add_working_days(t, a + b)


@given(moments, st.integers(min_value=0, max_value=200))
def test_working_time_to_an_hour_deadline_equals_the_hours(start, h):
    deadline = deadline_for(start, TimeLimit(h, TimeUnit.WORKING_HOURS))
    assert deadline >= start
    assert working_time_between(start, deadline) == h * H


@given(moments, st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100))
def test_working_hours_are_monotone_and_compose(start, a, b):
    first = add_working_hours(start, a)
    assert first <= add_working_hours(start, a + b)
    if a > 0:
        assert add_working_hours(first, b) == add_working_hours(start, a + b)


@settings(max_examples=50)
@given(moments, st.integers(min_value=1, max_value=200),
       st.floats(min_value=0, max_value=1, allow_nan=False))
def test_warning_point_lies_between_start_and_deadline(start, h, fraction):
    deadline = add_working_hours(start, h)
    point = warning_point(start, deadline, fraction)
    assert start <= point <= deadline


@given(moments, moments)
def test_working_time_between_is_antisymmetric_and_bounded(a, b):
    forward = working_time_between(a, b)
    assert forward == -working_time_between(b, a)
    assert abs(forward) <= abs(b - a)
