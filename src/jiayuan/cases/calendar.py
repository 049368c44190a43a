"""The platform's working calendar: the engine (``workdays.WorkCalendar``) over what the
database holds, and the calendar file's format.

Deadlines, warnings, escalations and the SLA sweep all count with :func:`platform_calendar`.
It joins the built-in sources (the ``chinesecalendar`` package up to its data year, the
statutory holidays computed from the law, see ``holidays.py``) with the days an operator
loaded: a State Council schedule (``jiayuan calendar import FILE`` or the calendar page) and
the district's local days. It is kept per process and rebuilt when ``CalendarEntry`` or
``CalendarYear`` changes (count and newest ``updated_at``, one query), so the web processes
and the worker see an import at their next deadline or sweep.

A year with no loaded schedule past the package's data counts its statutory holidays and
Monday–Friday: only the days its notice moves (调休) are missing. Set
``JIAYUAN_CALENDAR_BEYOND=refuse`` to refuse such years instead (``CalendarOutOfRange``).

The file (.csv or .xlsx, first sheet) has a header row and the columns ``date`` (日期,
YYYY-MM-DD or a date cell), ``kind`` (类型: ``holiday``/放假 or ``workday``/上班), ``name``
(名称) and optionally ``source`` (来源: ``schedule``/放假安排, the default, or ``local``/本地).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, cast

from jiayuan.cases.holidays import (
    LAST_YEAR,
    PACKAGE_YEARS,
    CalendarDay,
    DayKind,
    DaySource,
    statutory_days,
)
from jiayuan.cases.workdays import WorkCalendar
from jiayuan.core.errors import ImportRejected

_lock = threading.Lock()
_cached: dict[str, Any] = {"key": None, "value": None}

# The month from which the operations screen warns while next year's schedule is missing
# (the State Council has published the next year's notice between late October and
# mid-December in recent years).
WARN_FROM_MONTH = 11


def calendar_version() -> tuple[Any, ...]:
    """Changes whenever a calendar entry or a loaded year is added, removed or saved."""
    from jiayuan.cases.models import CalendarEntry, CalendarYear
    from jiayuan.registry.selectors import tables_version

    return tables_version(CalendarEntry, CalendarYear)


def _beyond() -> Literal["refuse", "statutory"]:
    value = os.environ.get("JIAYUAN_CALENDAR_BEYOND", "statutory").strip() or "statutory"
    return cast(Literal["refuse", "statutory"], value)


def load_calendar() -> WorkCalendar:
    """A fresh calendar from the database (no cache)."""
    from jiayuan.cases.models import CalendarEntry, CalendarYear

    days = tuple(
        CalendarDay(date, DayKind(kind), name, DaySource(source))
        for date, kind, name, source in CalendarEntry.objects.values_list(
            "date", "kind", "name", "source")
    )
    years = frozenset(int(y) for y in CalendarYear.objects.values_list("year", flat=True))
    return WorkCalendar(days=days, scheduled_years=years, beyond_range=_beyond())


_pinned: ContextVar[WorkCalendar | None] = ContextVar("calendar_batch", default=None)


@contextmanager
def calendar_batch() -> Iterator[WorkCalendar]:
    """Inside the block :func:`platform_calendar` answers one calendar, checked once (a batch
    intake opening thousands of cases makes one version query, not one per case)."""
    token = _pinned.set(platform_calendar())
    try:
        yield platform_calendar()
    finally:
        _pinned.reset(token)


def platform_calendar() -> WorkCalendar:
    """The process's calendar, rebuilt when the loaded days change."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    version = (calendar_version(), _beyond())
    with _lock:
        if _cached["key"] != version or _cached["value"] is None:
            _cached.update(key=version, value=load_calendar())
        calendar: WorkCalendar = _cached["value"]
        return calendar


def clear_calendar_cache() -> None:
    with _lock:
        _cached.update(key=None, value=None)


# --- reads for the page, the command and the operations screen ---------------------------------

def loaded_years() -> list[dict[str, Any]]:
    """Years whose schedule is known: the package's, then the loaded ones (with who and when)."""
    from jiayuan.cases.models import CalendarEntry, CalendarYear

    local = {d.year for d in CalendarEntry.objects.filter(
        source=DaySource.LOCAL).values_list("date", flat=True)}
    out: dict[int, dict[str, Any]] = {
        y: {"year": y, "origin": "package", "loaded_at": None, "loaded_by": "", "file_name": "",
            "local": y in local}
        for y in range(PACKAGE_YEARS[0], PACKAGE_YEARS[1] + 1)
    }
    for row in CalendarYear.objects.select_related("loaded_by"):
        out[row.year] = {"year": row.year, "origin": "loaded", "loaded_at": row.updated_at,
                         "loaded_by": row.loaded_by.username if row.loaded_by else "",
                         "file_name": row.file_name, "local": row.year in local}
    return [out[y] for y in sorted(out, reverse=True)]


def missing_schedule_year(today: dt.date) -> int | None:
    """Next year, from 1 November on, while its State Council schedule is not known."""
    if today.month < WARN_FROM_MONTH:
        return None
    year = today.year + 1
    if platform_calendar().schedule_known(year):
        return None
    return year


# --- the calendar file ------------------------------------------------------------------------

_HEADERS = {
    "date": "date", "日期": "date",
    "kind": "kind", "类型": "kind",
    "name": "name", "名称": "name",
    "source": "source", "来源": "source",
}
_KINDS = {"holiday": DayKind.HOLIDAY, "放假": DayKind.HOLIDAY, "休": DayKind.HOLIDAY,
          "workday": DayKind.WORKDAY, "上班": DayKind.WORKDAY, "班": DayKind.WORKDAY}
_SOURCES = {"": DaySource.SCHEDULE, "schedule": DaySource.SCHEDULE,
            "放假安排": DaySource.SCHEDULE, "local": DaySource.LOCAL, "本地": DaySource.LOCAL}
NAME_MAX = 60


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _add(sink: list[dict[str, Any]], row: int, column: str, message: str) -> None:
    sink.append({"row": row, "column": column, "message": message})


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(_cell(value))


def parse_calendar_file(name: str, data: bytes) -> list[CalendarDay]:
    """The days of a calendar file (.csv or .xlsx), in file order.

    Refuses with :class:`ImportRejected`, listing every problem (row, column, message): an
    unreadable file, missing columns, no rows, a bad date, kind or source, an empty or long
    name, a year outside 2004–``LAST_YEAR``, a date twice for one source, and a working day on
    a statutory holiday (the law does not let a schedule move those).
    """
    from jiayuan.registry.io.files import SourceError, read_bytes

    try:
        sheets, _digest = read_bytes(name, data)
    except SourceError as exc:
        raise ImportRejected([{"row": None, "column": None, "message": str(exc)}],
                             message=str(exc)) from None
    rows = sheets[0].rows if sheets else []
    body = [(n, cells) for n, cells in rows if any(_cell(c) for c in cells)]
    if not body:
        raise ImportRejected([{"row": None, "column": None, "message": "文件是空的"}])
    header_row, header = body[0]
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = _HEADERS.get(_cell(cell).lower())
        if key is not None and key not in columns:
            columns[key] = i
    missing = [c for c in ("date", "kind", "name") if c not in columns]
    if missing:
        raise ImportRejected([{"row": header_row, "column": c,
                               "message": f"缺少列“{c}”（表头应为 date, kind, name[, source]）"}
                              for c in missing])
    problems: list[dict[str, Any]] = []
    out: list[CalendarDay] = []
    seen: dict[tuple[dt.date, DaySource], int] = {}

    def get(cells: list[Any], key: str) -> Any:
        i = columns.get(key)
        return cells[i] if i is not None and i < len(cells) else None

    for n, cells in body[1:]:
        row_problems: list[dict[str, Any]] = []

        day: dt.date | None = None
        raw_date = get(cells, "date")
        try:
            day = _date(raw_date)
        except (TypeError, ValueError):
            _add(row_problems, n, "date", f"日期“{_cell(raw_date)}”无效，应为 YYYY-MM-DD")
        if day is not None and not PACKAGE_YEARS[0] <= day.year <= LAST_YEAR:
            _add(row_problems, n, "date", f"年份 {day.year} 超出 {PACKAGE_YEARS[0]}–{LAST_YEAR}")
            day = None
        kind = _KINDS.get(_cell(get(cells, "kind")).lower())
        if kind is None:
            _add(row_problems, n, "kind", f"类型“{_cell(get(cells, 'kind'))}”无效，应为 holiday 或 workday")
        source = _SOURCES.get(_cell(get(cells, "source")).lower())
        if source is None:
            _add(row_problems, n, "source", f"来源“{_cell(get(cells, 'source'))}”无效，应为 schedule 或 local")
        label = _cell(get(cells, "name"))
        if not label:
            _add(row_problems, n, "name", "名称不能为空")
        elif len(label) > NAME_MAX:
            _add(row_problems, n, "name", f"名称不能超过 {NAME_MAX} 个字")
        if day is not None and source is not None:
            first = seen.get((day, source))
            if first is not None:
                _add(row_problems, n, "date", f"日期 {day.isoformat()} 已在第 {first} 行出现")
            else:
                seen[(day, source)] = n
        if day is not None and kind is DayKind.WORKDAY and day in statutory_days(day.year):
            _add(row_problems, n, "kind", f"{day.isoformat()} 是法定节假日（{statutory_days(day.year)[day].name}），"
                        "不能调为工作日")
        if row_problems:
            problems.extend(row_problems)
        elif day is not None and kind is not None and source is not None:
            out.append(CalendarDay(day, kind, label, source))
    if problems:
        raise ImportRejected(problems)
    if not out:
        raise ImportRejected([{"row": None, "column": None, "message": "文件里没有日期行"}])
    return out
