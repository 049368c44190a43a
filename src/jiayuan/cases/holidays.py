"""Where days off come from: the law, the State Council's yearly schedule, the district. Pure.

Three sources, each a :class:`CalendarDay` (date, kind, name, source):

* **statutory** (法定): the public holidays fixed by 《全国年节及纪念日放假办法》 as amended by
  the State Council on 2024-11-10 (in force from 2025-01-01): New Year's Day 1 day (1 Jan);
  Spring Festival 4 days (the eve, 除夕, and the first three days of the first lunar month);
  Qingming 1 day (the solar term 清明); Labour Day 2 days (1–2 May); Dragon Boat 1 day (5th
  of the fifth lunar month); Mid-Autumn 1 day (15th of the eighth lunar month); National Day
  3 days (1–3 October). They are computed here from the lunar calendar (``lunar-python``,
  import ``lunar_python``), so they are known for every year up to :data:`LAST_YEAR` before
  any schedule is published.
* **schedule** (放假安排): the State Council's notice for one year, which moves days around the
  statutory ones (bridging days off, and the make-up working days, 调休上班, often a weekend).
  The pinned ``chinesecalendar`` package carries it for :data:`PACKAGE_YEARS`; for later years
  an operator loads the notice (``jiayuan calendar import``). Only this source knows the days it
  moves (调休: bridging days off, make-up working days), so a year without it counts statutory
  holidays and Monday–Friday.
* **local** (本地): days a district adds itself (a local day off, a local make-up day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import lru_cache
from types import MappingProxyType

from chinese_calendar import constants as _cc_data
from lunar_python import Lunar, Solar

from jiayuan.core.errors import DomainError, ValidationFailed

__all__ = [
    "LAST_YEAR",
    "PACKAGE_YEARS",
    "STATUTORY_FROM",
    "CalendarDay",
    "CalendarOutOfRange",
    "DayKind",
    "DaySource",
    "package_day",
    "statutory_days",
]

# The 2024 amendment of 全国年节及纪念日放假办法 (State Council decree 795) applies from 2025 on;
# earlier years come from the package, whose data already holds their statutory days.
STATUTORY_FROM = 2025
# The last year the statutory rule is computed for (the lunar tables are reliable far beyond;
# a bound keeps a typo such as 20277 from being counted).
LAST_YEAR = 2100
PACKAGE_YEARS: tuple[int, int] = (min(_cc_data.holidays).year, max(_cc_data.holidays).year)

# chinesecalendar names its holidays in English.
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarOutOfRange(DomainError):
    """A date lies in a year the calendar cannot answer for."""

    code = "calendar_out_of_range"
    status = 422
    default_message = "节假日数据未覆盖该日期，无法计算工作日"


class DayKind(StrEnum):
    HOLIDAY = "holiday"
    WORKDAY = "workday"


class DaySource(StrEnum):
    STATUTORY = "statutory"
    SCHEDULE = "schedule"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day that differs from the Monday–Friday rule, and why."""

    day: dt.date
    kind: DayKind
    name: str
    source: DaySource

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DayKind(self.kind))
        object.__setattr__(self, "source", DaySource(self.source))
        if not self.name.strip():
            raise ValidationFailed("日历条目必须有名称")

    @property
    def is_working(self) -> bool:
        return self.kind is DayKind.WORKDAY

    def line(self) -> str:
        """``YYYY-MM-DD holiday|workday <name> (statutory|schedule|local)``."""
        return f"{self.day.isoformat()} {self.kind.value} {self.name} ({self.source.value})"


def _solar(value: Solar) -> dt.date:
    return dt.date(int(value.getYear()), int(value.getMonth()), int(value.getDay()))


@lru_cache(maxsize=128)
def statutory_days(year: int) -> Mapping[dt.date, CalendarDay]:
    """The statutory holidays of ``year`` by the law as amended in 2024, keyed by date.

    Empty before :data:`STATUTORY_FROM` (the package holds those years). Refuses years after
    :data:`LAST_YEAR` (:class:`CalendarOutOfRange`). Two festivals on one date (Mid-Autumn on
    1–3 October, as in 2028) make one day with both names.
    """
    if year > LAST_YEAR:
        raise CalendarOutOfRange(f"法定节假日只计算到 {LAST_YEAR} 年，无法判断 {year} 年",
                                 details={"year": year, "last": LAST_YEAR})
    if year < STATUTORY_FROM:
        return MappingProxyType({})
    new_year = _solar(Lunar.fromYmd(year, 1, 1).getSolar())
    qingming = _solar(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])
    named: list[tuple[dt.date, str]] = [
        (dt.date(year, 1, 1), "元旦"),
        (new_year - dt.timedelta(days=1), "春节"),
        (new_year, "春节"),
        (new_year + dt.timedelta(days=1), "春节"),
        (new_year + dt.timedelta(days=2), "春节"),
        (qingming, "清明节"),
        (dt.date(year, 5, 1), "劳动节"),
        (dt.date(year, 5, 2), "劳动节"),
        (_solar(Lunar.fromYmd(year, 5, 5).getSolar()), "端午节"),
        (dt.date(year, 10, 1), "国庆节"),
        (dt.date(year, 10, 2), "国庆节"),
        (dt.date(year, 10, 3), "国庆节"),
        (_solar(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋节"),
    ]
    names: dict[dt.date, list[str]] = {}
    for day, name in named:
        names.setdefault(day, [])
        if name not in names[day]:
            names[day].append(name)
    return MappingProxyType({
        day: CalendarDay(day, DayKind.HOLIDAY, "、".join(ns), DaySource.STATUTORY)
        for day, ns in sorted(names.items())
    })


def package_day(day: dt.date) -> CalendarDay | None:
    """What the built-in schedule (``chinesecalendar``) says of ``day`` in its years: a
    holiday (statutory ones labelled so), a make-up working day, or nothing (the
    Monday–Friday rule). ``None`` outside :data:`PACKAGE_YEARS` too."""
    if not PACKAGE_YEARS[0] <= day.year <= PACKAGE_YEARS[1]:
        return None
    statutory = statutory_days(day.year).get(day)
    if statutory is not None:
        return statutory
    holiday = _cc_data.holidays.get(day)
    if holiday is not None:
        return CalendarDay(day, DayKind.HOLIDAY, _package_name(holiday), DaySource.SCHEDULE)
    workday = _cc_data.workdays.get(day)
    if workday is not None:
        return CalendarDay(day, DayKind.WORKDAY, f"{_package_name(workday)}调休上班",
                           DaySource.SCHEDULE)
    return None


def _package_name(value: object) -> str:
    text = str(value.value if isinstance(value, Enum) else value)
    return _PACKAGE_NAMES.get(text, text)
