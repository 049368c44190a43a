"""Parsing of GeoReport v2 request parameters. Pure: no Django.

W3C datetimes (``2026-11-16T10:00:00+08:00``, ``…Z``, or a bare date ``2026-11-16`` read in
the platform's time zone), the 90-day search window, WGS-84 points and the form encoding of
attributes (``attribute[code]=v`` and, for lists, ``attribute[code][]=v``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_WINDOW = dt.timedelta(days=90)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


class ParamError(ValueError):
    """A parameter could not be read; the message is Chinese and names the parameter."""


def parse_w3c(text: str, *, name: str, tz: dt.tzinfo) -> dt.datetime:
    """A timezone-aware datetime from W3C-DTF text; a bare date is midnight in ``tz``.

    Refuses a date-time without its offset (the spec requires ``Z`` or ``±HH:MM``) and
    anything that is not a real calendar date or time.
    """
    value = text.strip()
    try:
        if _DATE.match(value):
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=tz)
        if _DATETIME.match(value):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    raise ParamError(f"{name}：须为带时区的 W3C 日期时间，例如 2026-11-16T10:00:00+08:00")


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime


def search_window(start: dt.datetime | None, end: dt.datetime | None, *,
                  now: dt.datetime) -> Window:
    """The requested-datetime window of a search: at most 90 days, by default the last 90.

    With only ``start`` the window runs 90 days on (not past now); with only ``end`` it runs
    90 days back. Refuses ``start`` after ``end`` and windows longer than 90 days.
    """
    if start is None and end is None:
        return Window(now - MAX_WINDOW, now)
    if start is None:
        assert end is not None
        return Window(end - MAX_WINDOW, end)
    if end is None:
        return Window(start, max(start, min(start + MAX_WINDOW, now)))
    if start > end:
        raise ParamError("start_date 不能晚于 end_date")
    if end - start > MAX_WINDOW:
        raise ParamError("start_date 与 end_date 相距不能超过 90 天")
    return Window(start, end)


def parse_point(lat: str, lng: str) -> tuple[float, float] | None:
    """``(lat, long)`` as WGS-84 floats, or None when both are empty.

    Refuses one without the other, text that is not a finite number, and values outside
    ±90 / ±180.
    """
    lat_s, lng_s = lat.strip(), lng.strip()
    if not lat_s and not lng_s:
        return None
    if not lat_s or not lng_s:
        raise ParamError("lat 与 long 须同时提供")
    try:
        y, x = float(lat_s), float(lng_s)
    except ValueError:
        raise ParamError("lat 与 long 须为数字（WGS-84 经纬度）") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ParamError("lat 与 long 须为有限数字")
    if not (-90.0 <= y <= 90.0):
        raise ParamError("lat 须在 -90 到 90 之间")
    if not (-180.0 <= x <= 180.0):
        raise ParamError("long 须在 -180 到 180 之间")
    return y, x


def attribute_fields(items: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """Collect ``attribute[code]`` and ``attribute[code][]`` form fields by code.

    Other fields are ignored. Empty values are dropped, so an empty field counts as absent
    (the spec's rule for optional arguments).
    """
    out: dict[str, list[str]] = {}
    for key, values in items:
        m = _ATTRIBUTE.match(key)
        if not m:
            continue
        kept = [v for v in values if v.strip()]
        if kept:
            out.setdefault(m.group(1), []).extend(kept)
    return out


def comma_list(text: str) -> list[str]:
    """Non-empty, stripped items of a comma-separated parameter, in order, without repeats."""
    seen: dict[str, None] = {}
    for item in text.split(","):
        if item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)
