"""Deadlines in Chinese working days and working hours. Pure: no Django.

Which days are working days is :class:`WorkCalendar`'s answer from the sources in
:mod:`jiayuan.cases.holidays`: a district's local days, a loaded State Council schedule, the
pinned ``chinesecalendar`` package (2004–2026 in 1.11.0, make-up working days, 调休上班,
included), and the statutory holidays the law fixes (computed from the lunar calendar, so a
year without a loaded schedule still skips New Year, the Spring Festival, …; only the days
its notice moves, 调休, are unknown).

Every input is a timezone-aware ``datetime`` in any zone; every output is in Asia/Shanghai.
Naive datetimes are refused (:class:`NaiveDatetime`). China keeps no daylight-saving time, so
wall-clock arithmetic in Asia/Shanghai is exact.

Rules (see docs/case-lifecycle.md for their sources):

* **Working hours** run inside the periods of a :class:`WorkSchedule`, by default
  08:30–12:00 and 13:00–17:30 (8 hours, the usual government office day). A case reported
  outside them starts counting at the start of the next working period. A deadline that
  uses up a period exactly ends at that period's end (4 h from 08:30 is 13:30, 3.5 h is 12:00).
* **Working days** follow the Civil Code's counting of periods (民法典 第201、203条), as
  12345 and city-management offices apply it: the day the case arrives is not counted,
  whatever the hour; the limit ends when business stops (the schedule's last period end) on
  the Nth working day after it. "3 working days" from Friday 20:00 (or 10:00) ends
  Wednesday 17:30 in an ordinary week.
* **Minutes and calendar days** run around the clock (sensor alarms, emergency call-backs):
  ``start + amount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from jiayuan.cases.holidays import (
    LAST_YEAR,
    PACKAGE_YEARS,
    CalendarDay,
    CalendarOutOfRange,
    DayKind,
    DaySource,
    package_day,
    statutory_days,
)
from jiayuan.core.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")

__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_SCHEDULE",
    "SHANGHAI",
    "CalendarDay",
    "CalendarOutOfRange",
    "DayKind",
    "DaySource",
    "NaiveDatetime",
    "TimeLimit",
    "TimeUnit",
    "WorkCalendar",
    "WorkSchedule",
    "add_calendar_minutes",
    "add_working_days",
    "add_working_hours",
    "add_working_time",
    "deadline_for",
    "next_working_moment",
    "warning_point",
    "working_time_between",
]


class NaiveDatetime(ValidationFailed):
    """A datetime without a time zone: its instant is unknown, so we refuse to guess."""

    code = "naive_datetime"
    default_message = "时间必须带时区"


class TimeUnit(StrEnum):
    MINUTES = "minutes"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


UNIT_LABELS: dict[TimeUnit, str] = {
    TimeUnit.MINUTES: "分钟",
    TimeUnit.WORKING_HOURS: "工作小时",
    TimeUnit.WORKING_DAYS: "个工作日",
    TimeUnit.CALENDAR_DAYS: "个自然日",
}


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A time limit such as "4 working hours" or "13 working days".

    ``amount`` is a non-negative whole number (minutes, hours or days); fractions are refused
    because no published limit uses them and they make deadlines ambiguous.
    """

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValidationFailed(f"时限必须是非负整数，收到 {self.amount!r}")
        object.__setattr__(self, "unit", TimeUnit(self.unit))

    @classmethod
    def parse(cls, amount: str | int, unit: str) -> TimeLimit:
        """Build a limit from text (a CSV cell); refuses unknown units and non-integers."""
        try:
            value = int(amount)
            kind = TimeUnit(unit.strip())
        except ValueError as exc:
            raise ValidationFailed(f"无法识别的时限：{amount!r} {unit!r}") from exc
        return cls(value, kind)

    def __str__(self) -> str:
        return f"{self.amount}{UNIT_LABELS[self.unit]}"


@dataclass(frozen=True, slots=True)
class WorkSchedule:
    """The working periods of one working day, in local (Asia/Shanghai) wall-clock time.

    Periods must be non-empty, ordered and non-overlapping; the default is 08:30–12:00 and
    13:00–17:30, eight hours with a lunch break.
    """

    periods: tuple[tuple[dt.time, dt.time], ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValidationFailed("工作时段不能为空")
        previous_end: dt.time | None = None
        for begin, end in self.periods:
            if begin.tzinfo is not None or end.tzinfo is not None:
                raise ValidationFailed("工作时段使用当地钟点，不能带时区")
            if not begin < end:
                raise ValidationFailed(f"工作时段 {begin}–{end} 无效：开始必须早于结束")
            if previous_end is not None and begin < previous_end:
                raise ValidationFailed("工作时段必须按时间顺序排列且互不重叠")
            previous_end = end

    @property
    def day_end(self) -> dt.time:
        return self.periods[-1][1]

    @property
    def hours_per_day(self) -> dt.timedelta:
        return sum(
            (_on(dt.date(2000, 1, 3), e) - _on(dt.date(2000, 1, 3), b) for b, e in self.periods),
            dt.timedelta(0),
        )


DEFAULT_SCHEDULE = WorkSchedule(
    ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 0), dt.time(17, 30)))
)

@dataclass(frozen=True)
class WorkCalendar:
    """Which dates are working days, from the sources of :mod:`jiayuan.cases.holidays`.

    For a date, the first that speaks wins:

    1. ``days`` of source ``local`` (the district's own), then of source ``schedule`` (a
       State Council notice an operator loaded: the platform passes what its database holds);
    2. in :data:`~jiayuan.cases.holidays.PACKAGE_YEARS`, the built-in schedule
       (``chinesecalendar``, which includes that year's make-up days);
    3. the statutory holidays computed from the law (from 2025 to ``LAST_YEAR``);
    4. Monday–Friday.

    * ``scheduled_years``: years whose State Council schedule is loaded into ``days``.
    * ``beyond_range``: a year neither the package nor a loaded schedule covers.
      ``"statutory"`` (the default) counts its statutory holidays and Monday–Friday: only the
      days its notice moves (调休) are unknown. ``"refuse"`` raises :class:`CalendarOutOfRange` instead.
      Years before the package's data and after ``LAST_YEAR`` are always refused unless
      scheduled.

    Refuses two entries of one source on one date and entries of source ``statutory`` (the
    law is computed, not loaded).
    """

    days: tuple[CalendarDay, ...] = ()
    scheduled_years: frozenset[int] = frozenset()
    beyond_range: Literal["refuse", "statutory"] = "statutory"
    _index: dict[dt.date, CalendarDay] = field(default_factory=dict, compare=False, repr=False)
    _cache: dict[dt.date, bool] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.beyond_range not in ("refuse", "statutory"):
            raise ValidationFailed(f"未知的超范围策略：{self.beyond_range!r}")
        seen: set[tuple[dt.date, DaySource]] = set()
        for entry in self.days:
            if entry.source is DaySource.STATUTORY:
                raise ValidationFailed("法定节假日由法律计算，不能作为日历条目载入")
            if (entry.day, entry.source) in seen:
                raise ValidationFailed(f"同一来源的日历条目重复：{entry.day.isoformat()}")
            seen.add((entry.day, entry.source))
            current = self._index.get(entry.day)
            if current is None or entry.source is DaySource.LOCAL:
                self._index[entry.day] = entry

    @property
    def covered_years(self) -> tuple[int, int]:
        """First and last year of the built-in schedule (loaded years come on top)."""
        return PACKAGE_YEARS

    def schedule_known(self, year: int) -> bool:
        """True when ``year``'s full schedule, make-up days included, is known."""
        return PACKAGE_YEARS[0] <= year <= PACKAGE_YEARS[1] or year in self.scheduled_years

    def covers(self, day: dt.date) -> bool:
        """True when :meth:`is_working_day` answers for ``day`` (it may still lack make-up days)."""
        if self.schedule_known(day.year):
            return True
        return (self.beyond_range == "statutory"
                and PACKAGE_YEARS[1] < day.year <= LAST_YEAR)

    def explain(self, day: dt.date) -> CalendarDay | None:
        """The entry that decides ``day``, or ``None`` when the Monday–Friday rule does.

        Refuses a day in a year not covered (:class:`CalendarOutOfRange`)."""
        entry = self._index.get(day)
        if entry is not None:
            return entry
        if PACKAGE_YEARS[0] <= day.year <= PACKAGE_YEARS[1]:
            return package_day(day)
        if not self.covers(day):
            low, high = PACKAGE_YEARS
            raise CalendarOutOfRange(
                f"节假日数据只覆盖 {low}–{high} 年及已载入放假安排的年份，无法判断 "
                f"{day.isoformat()} 是否为工作日；请用 jiayuan calendar import 载入该年的放假安排",
                details={"date": day.isoformat(), "covered": [low, high],
                         "scheduled": sorted(self.scheduled_years)},
            )
        if day.year > LAST_YEAR:
            return None  # a loaded year past the statutory rule's range: the schedule says all
        return statutory_days(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day (including a make-up working day); refuses uncovered years."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        entry = self.explain(day)
        result = entry.is_working if entry is not None else day.weekday() < 5
        self._cache[day] = result
        return result

    def differing_days(self, year: int) -> list[CalendarDay]:
        """Every day of ``year`` not decided by the Monday–Friday rule, in date order."""
        out: list[CalendarDay] = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            entry = self.explain(day)
            if entry is not None:
                out.append(entry)
            day += dt.timedelta(days=1)
        return out

    def working_days_after(self, day: dt.date) -> Iterator[dt.date]:
        """The working days strictly after ``day``, in order (refuses when data runs out)."""
        current = day
        while True:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                yield current


DEFAULT_CALENDAR = WorkCalendar()


# ---------------------------------------------------------------------------------------------
# helpers


def _local(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise ValidationFailed(f"需要时间（datetime），收到 {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetime(f"时间 {moment.isoformat()} 没有时区，拒绝计算")
    return moment.astimezone(SHANGHAI)


def _on(day: dt.date, clock: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, clock, tzinfo=SHANGHAI)


def _periods_from(
    moment: dt.datetime, schedule: WorkSchedule, calendar: WorkCalendar
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working periods (clipped to begin at ``moment``) from ``moment`` onwards, forever."""
    day = moment.date()
    while True:
        if calendar.is_working_day(day):
            for begin, end in schedule.periods:
                b, e = _on(day, begin), _on(day, end)
                if e <= moment:
                    continue
                yield max(b, moment), e
        day += dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# public functions


def next_working_moment(
    start: dt.datetime,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """``start`` itself if it falls inside a working period, else the next period's start.

    A period's end belongs to the period (17:30 stays 17:30). Refuses naive datetimes.
    """
    local = _local(start)
    if calendar.is_working_day(local.date()):
        for begin, end in schedule.periods:
            if _on(local.date(), begin) <= local <= _on(local.date(), end):
                return local
    return next(_periods_from(local, schedule, calendar))[0]


def add_working_time(
    start: dt.datetime,
    amount: dt.timedelta,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """The moment when ``amount`` of working time has elapsed after ``start``.

    Counting starts at :func:`next_working_moment`; zero returns ``start`` unchanged (in
    Asia/Shanghai). Refuses negative amounts and naive datetimes.
    """
    local = _local(start)
    if amount < dt.timedelta(0):
        raise ValidationFailed("工作时长不能为负数")
    if amount == dt.timedelta(0):
        return local
    remaining = amount
    for begin, end in _periods_from(local, schedule, calendar):
        span = end - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    raise AssertionError("unreachable: working periods never run out")  # pragma: no cover


def add_working_hours(
    start: dt.datetime,
    hours: int | float,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """``start`` plus ``hours`` working hours (see :func:`add_working_time`).

    Refuses negative, non-finite or non-numeric hours and naive datetimes.
    """
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours >= 0:
        raise ValidationFailed(f"工作小时数必须是非负数，收到 {hours!r}")
    if hours == float("inf"):
        raise ValidationFailed("工作小时数必须是有限数")
    return add_working_time(start, dt.timedelta(hours=hours), schedule=schedule, calendar=calendar)


def add_working_days(
    start: dt.datetime,
    n: int,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """End of business (the schedule's last period end) on the Nth working day after ``start``'s date.

    The start day is never counted (民法典 第201条), so the hour of ``start`` does not matter;
    ``n == 0`` returns ``start`` unchanged. Refuses negative ``n``, naive datetimes, and dates
    beyond the calendar's data (:class:`CalendarOutOfRange`).
    """
    local = _local(start)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationFailed(f"工作日数必须是非负整数，收到 {n!r}")
    if n == 0:
        return local
    day = local.date()
    for count, day in enumerate(calendar.working_days_after(local.date()), start=1):  # noqa: B007
        if count == n:
            break
    return _on(day, schedule.day_end)


def add_calendar_minutes(start: dt.datetime, minutes: int) -> dt.datetime:
    """``start`` plus ``minutes`` of clock time, day and night (sensor and emergency limits)."""
    local = _local(start)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValidationFailed(f"分钟数必须是非负整数，收到 {minutes!r}")
    return local + dt.timedelta(minutes=minutes)


def deadline_for(
    start: dt.datetime,
    limit: TimeLimit,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """The deadline of ``limit`` counted from ``start``, by the rules of its unit."""
    if limit.unit is TimeUnit.MINUTES:
        return add_calendar_minutes(start, limit.amount)
    if limit.unit is TimeUnit.CALENDAR_DAYS:
        return add_calendar_minutes(start, limit.amount * 24 * 60)
    if limit.unit is TimeUnit.WORKING_HOURS:
        return add_working_hours(start, limit.amount, schedule=schedule, calendar=calendar)
    return add_working_days(start, limit.amount, schedule=schedule, calendar=calendar)


def working_time_between(
    a: dt.datetime,
    b: dt.datetime,
    *,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.timedelta:
    """Working time that lies between ``a`` and ``b``; negative when ``b`` is before ``a``.

    Used for "was it on time" and "how much time is left" (negative = overdue by that much).
    Refuses naive datetimes and uncovered years.
    """
    start, stop = _local(a), _local(b)
    if stop < start:
        return -working_time_between(stop, start, schedule=schedule, calendar=calendar)
    total = dt.timedelta(0)
    for begin, end in _periods_from(start, schedule, calendar):
        if begin >= stop:
            break
        total += min(end, stop) - begin
    return total


def warning_point(
    start: dt.datetime,
    deadline: dt.datetime,
    fraction: float = 0.8,
    *,
    around_the_clock: bool = False,
    schedule: WorkSchedule = DEFAULT_SCHEDULE,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """The moment ``fraction`` of the allowed time has been used (yellow light, 预警).

    The fraction is of *working* time between ``start`` and ``deadline``; pass
    ``around_the_clock=True`` for minute and calendar-day limits. Refuses a fraction outside
    [0, 1] and a deadline before the start.
    """
    local_start, local_deadline = _local(start), _local(deadline)
    if not 0.0 <= fraction <= 1.0:
        raise ValidationFailed(f"预警比例必须在 0 到 1 之间，收到 {fraction!r}")
    if local_deadline < local_start:
        raise ValidationFailed("期限不能早于开始时间")
    if around_the_clock:
        return local_start + (local_deadline - local_start) * fraction
    allowed = working_time_between(local_start, local_deadline, schedule=schedule, calendar=calendar)
    if allowed == dt.timedelta(0):
        return local_deadline
    used = allowed * fraction
    return min(
        add_working_time(local_start, used, schedule=schedule, calendar=calendar), local_deadline
    )

