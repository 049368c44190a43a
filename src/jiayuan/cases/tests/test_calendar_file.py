"""The calendar file: .csv or .xlsx, Chinese or English headers, every bad row reported."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from jiayuan.cases.calendar import parse_calendar_file
from jiayuan.cases.holidays import DayKind, DaySource
from jiayuan.core.errors import ImportRejected


def xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_xlsx_with_chinese_headers_and_date_cells_is_read():
    data = xlsx([["日期", "类型", "名称", "来源"],
                 [dt.datetime(2027, 2, 4), "放假", "春节", ""],
                 [dt.date(2027, 2, 20), "上班", "春节调休上班", "放假安排"],
                 ["2027-03-12", "holiday", "区植树日", "本地"]])
    days = parse_calendar_file("2027.xlsx", data)
    assert [(d.day, d.kind, d.source) for d in days] == [
        (dt.date(2027, 2, 4), DayKind.HOLIDAY, DaySource.SCHEDULE),
        (dt.date(2027, 2, 20), DayKind.WORKDAY, DaySource.SCHEDULE),
        (dt.date(2027, 3, 12), DayKind.HOLIDAY, DaySource.LOCAL),
    ]


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("a.csv", b"", "文件是空的"),
    ("a.csv", b"day,kind\n2027-02-04,holiday\n", "缺少列"),
    ("a.csv", b"date,kind,name\n", "没有日期行"),
    ("a.txt", b"date,kind,name\n", "不支持的文件类型"),
    ("a.csv", b"date,kind,name,source\n2027-02-04,holiday,x,elsewhere\n", "来源"),
    ("a.csv", b"date,kind,name\n2103-02-04,holiday,x\n", "2103"),
    ("a.csv", ("date,kind,name\n2027-02-04,holiday," + "长" * 61 + "\n").encode(), "不能超过"),
])
def test_a_bad_file_is_refused_with_a_chinese_reason(name, data, expected):
    with pytest.raises(ImportRejected) as info:
        parse_calendar_file(name, data)
    assert expected in str(info.value.problems) + info.value.message


def test_a_local_day_and_a_schedule_day_may_share_a_date_but_not_one_source_twice():
    ok = b"date,kind,name,source\n2027-02-20,workday,a,schedule\n2027-02-20,holiday,b,local\n"
    assert len(parse_calendar_file("a.csv", ok)) == 2
    with pytest.raises(ImportRejected) as info:
        parse_calendar_file("a.csv", ok + b"2027-02-20,holiday,c,local\n")
    assert [p["row"] for p in info.value.problems] == [4]
