"""Pure parameter parsing: W3C datetimes, the 90-day window, points, attribute fields."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.open311.params import (
    MAX_WINDOW,
    ParamError,
    attribute_fields,
    comma_list,
    parse_point,
    parse_w3c,
    search_window,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=SH)
aware = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1),
                     timezones=st.just(dt.UTC))


def test_w3c_datetime_with_offset_or_z_is_read_as_the_same_instant():
    a = parse_w3c("1994-11-05T08:15:30-05:00", name="start_date", tz=SH)
    b = parse_w3c("1994-11-05T13:15:30Z", name="start_date", tz=SH)
    assert a == b and a.tzinfo is not None


def test_bare_date_is_midnight_in_the_platform_zone():
    assert parse_w3c("2026-11-16", name="start_date", tz=SH) == dt.datetime(2026, 11, 16,
                                                                            tzinfo=SH)


@pytest.mark.parametrize("text", ["2026-11-16T10:00:00", "yesterday", "2026-02-30",
                                  "2026-11-16T25:00:00Z", ""])
def test_datetime_without_offset_or_not_a_date_is_refused_naming_the_parameter(text):
    with pytest.raises(ParamError, match="start_date"):
        parse_w3c(text, name="start_date", tz=SH)


@given(aware)
def test_w3c_round_trips_any_aware_datetime(value):
    assert parse_w3c(value.isoformat(), name="x", tz=SH) == value


def test_default_window_is_the_last_90_days():
    w = search_window(None, None, now=NOW)
    assert (w.start, w.end) == (NOW - MAX_WINDOW, NOW)


@given(aware, aware)
def test_window_never_spans_more_than_90_days_nor_runs_backwards(a, b):
    for start, end in ((a, b), (a, None), (None, b)):
        try:
            w = search_window(start, end, now=NOW)
        except ParamError:
            assert start is not None and end is not None
            assert start > end or end - start > MAX_WINDOW
            continue
        assert w.start <= w.end and w.end - w.start <= MAX_WINDOW


def test_window_over_90_days_is_refused():
    with pytest.raises(ParamError, match="90"):
        search_window(NOW - dt.timedelta(days=91), NOW, now=NOW)


@pytest.mark.parametrize(("lat", "lng", "message"), [
    ("31.2", "", "同时"), ("", "121.5", "同时"), ("north", "121.5", "数字"),
    ("nan", "121.5", "有限"), ("91", "121.5", "lat"), ("31.2", "181", "long"),
])
def test_bad_points_are_refused(lat, lng, message):
    with pytest.raises(ParamError, match=message):
        parse_point(lat, lng)


def test_point_is_lat_then_long_and_absent_when_both_empty():
    assert parse_point(" 31.2 ", "121.5") == (31.2, 121.5)
    assert parse_point("", " ") is None


def test_attribute_fields_collect_single_and_list_forms_and_drop_empties():
    form = [("attribute[size]", ["small"]), ("attribute[src][]", ["a", "b", ""]),
            ("attribute[empty]", [""]), ("description", ["x"]), ("attribute[]", ["z"])]
    assert attribute_fields(form) == {"size": ["small"], "src": ["a", "b"]}


def test_comma_list_strips_and_drops_repeats_keeping_order():
    assert comma_list(" b, a,,b ,c") == ["b", "a", "c"]
