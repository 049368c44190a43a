"""12345 work-order import: good files, every class of bad row, idempotent re-import."""

from __future__ import annotations

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jiayuan.cases.importing import import_work_orders, imported_case, parse_time
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services.routing import clear_caches
from jiayuan.core.errors import ImportRejected

SH = ZoneInfo("Asia/Shanghai")
HEADER = ["工单编号", "来电时间", "诉求类型", "问题分类", "诉求内容", "地址", "经度", "纬度",
          "联系人", "联系电话", "承办单位"]
GOOD = [
    ["SH001", "2026-11-16 10:05", "投诉", "06028", "楼下酒吧每天晚上很吵", "", "121.425", "31.15",
     "张三", "13812345678", "第1派出所"],
    ["SH002", "2026/11/16 11:30:00", "求助", "", "楼道里堆满了杂物，麻烦派人来看看",
     "S1N2C1小区3号楼", "", "", "李四", "021-12345678", ""],
    ["SH003", "2026年11月17日 09:00", "咨询", "噪声扰民", "晚上广场舞音响声音太大", "", "121.525",
     "31.25", "", "", ""],
]


@pytest.fixture(autouse=True)
def no_model(settings, tmp_path):
    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(tmp_path / "none.joblib")}
    clear_caches()


def write_csv(path, rows, header=HEADER):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path, rows, header=HEADER):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_a_good_file_opens_one_case_per_work_order(tiny, tmp_path):
    result = import_work_orders(write_csv(tmp_path / "orders.csv", GOOD))
    assert (result.rows, result.created, result.existing) == (3, 3, 0)
    first = imported_case("SH001")
    assert first.channel == "hotline_12345"
    assert first.reported_at == dt.datetime(2026, 11, 16, 10, 5, tzinfo=SH)
    assert first.category.code == "06028"
    assert first.compound == tiny.compounds["S1N1C1"]
    assert (first.reporter_name, first.reporter_phone) == ("张三", "13812345678")
    report = CaseEvent.objects.get(case=first, seq=1)
    assert report.payload["request_type"] == "complaint"
    assert report.payload["handling_unit"] == "第1派出所" and report.payload["row"] == 2
    # The address-only order is placed by its address; the category name is resolved.
    assert imported_case("SH002").compound == tiny.compounds["S1N2C1"]
    assert imported_case("SH003").category.code == "06028"
    assert CaseEvent.objects.filter(action="route").count() == 3


def test_an_xlsx_with_english_headers_and_real_datetimes_imports(tiny, tmp_path):
    header = ["external_id", "reported_at", "request_type", "category", "description",
              "address", "lng", "lat", "contact_name", "contact_phone", "handling_unit"]
    rows = [["E1", dt.datetime(2026, 11, 16, 8, 0), "complaint", "06036", "楼道堆物", "",
             121.425, 31.15, "", "", ""]]
    result = import_work_orders(write_xlsx(tmp_path / "orders.xlsx", rows, header),
                                mapping="english")
    assert result.created == 1
    assert imported_case("E1").reported_at == dt.datetime(2026, 11, 16, 8, 0, tzinfo=SH)


def test_reimporting_the_same_file_creates_nothing(tiny, tmp_path):
    path = write_csv(tmp_path / "orders.csv", GOOD)
    import_work_orders(path)
    events = CaseEvent.objects.count()
    again = import_work_orders(path)
    assert (again.created, again.existing) == (0, 3)
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == events


def bad_row(**changes):
    row = dict(zip(HEADER, GOOD[0], strict=True))
    row.update(changes)
    return [row[h] for h in HEADER]


def test_a_work_order_already_sent_through_the_api_counts_as_existing(tiny, tmp_path):
    from jiayuan.cases.services import open_case

    # SH001 came in earlier through the staff API (another caller: a user's own case)
    sent, _ = open_case(channel="hotline_12345", description="楼下酒吧每天晚上很吵",
                        external_id="SH001", caller="user:1", lng=121.425, lat=31.15)
    result = import_work_orders(write_csv(tmp_path / "orders.csv", GOOD))
    assert (result.created, result.existing) == (2, 1)
    assert sent.number not in result.numbers
    assert Case.objects.filter(external_id="SH001").count() == 1


@pytest.mark.parametrize("changes,column,fragment", [
    ({"工单编号": ""}, "工单编号", "不能为空"),
    ({"工单编号": "X" * 65}, "工单编号", "64"),
    ({"来电时间": ""}, "来电时间", "不能为空"),
    ({"来电时间": "上周二"}, "来电时间", "无法识别"),
    ({"来电时间": "2999-01-01 10:00"}, "来电时间", "晚于当前时间"),
    ({"诉求内容": ""}, "诉求内容", "不能为空"),
    ({"诉求内容": "吵" * 2001}, "诉求内容", "2000"),
    ({"诉求类型": "抱怨"}, "诉求类型", "无效"),
    ({"问题分类": "外星人"}, "问题分类", "未知"),
    ({"纬度": ""}, "纬度", "同时填写"),
    ({"经度": "东经121"}, "经度", "坐标无效"),
    ({"纬度": "95"}, "经度", "坐标无效"),
    ({"联系电话": "call me"}, "联系电话", "格式不对"),
    ({"地址": "路" * 201}, "地址", "200"),
    ({"承办单位": "单" * 61}, "承办单位", "60"),
])
def test_one_bad_row_refuses_the_whole_file(tiny, tmp_path, changes, column, fragment):
    path = write_csv(tmp_path / "orders.csv", [GOOD[1], bad_row(**changes)])
    with pytest.raises(ImportRejected) as info:
        import_work_orders(path)
    problems = info.value.problems
    assert len(problems) == 1
    assert problems[0]["row"] == 3 and problems[0]["column"] == column
    assert fragment in problems[0]["message"]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_repeated_work_order_numbers_and_missing_columns_are_refused(tiny, tmp_path):
    with pytest.raises(ImportRejected) as info:
        import_work_orders(write_csv(tmp_path / "dup.csv", [GOOD[0], GOOD[0]]))
    assert info.value.problems[0]["message"] == "工单编号“SH001”与第 2 行重复"
    with pytest.raises(ImportRejected) as info:
        import_work_orders(write_csv(tmp_path / "cols.csv", [["x"]], header=["诉求内容"]))
    assert {p["column"] for p in info.value.problems} == {"工单编号", "来电时间"}
    assert not Case.objects.exists()


def test_every_problem_of_every_row_is_listed(tiny, tmp_path):
    path = write_csv(tmp_path / "orders.csv",
                     [bad_row(工单编号="", 诉求内容=""), bad_row(工单编号="B", 联系电话="??")])
    with pytest.raises(ImportRejected) as info:
        import_work_orders(path)
    assert [(p["row"], p["column"]) for p in info.value.problems] == [
        (2, "工单编号"), (2, "诉求内容"), (3, "联系电话")]


def test_parse_time_reads_local_formats_as_shanghai_and_keeps_explicit_offsets():
    assert parse_time("2026-11-16 10:05") == dt.datetime(2026, 11, 16, 10, 5, tzinfo=SH)
    assert parse_time("2026-11-16T02:05:00+00:00") == dt.datetime(2026, 11, 16, 10, 5,
                                                                  tzinfo=SH)
    assert parse_time("20261116100500") == dt.datetime(2026, 11, 16, 10, 5, tzinfo=SH)
    assert parse_time("明天") is None


def test_the_command_imports_and_reports_problems_in_chinese(tiny, tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", GOOD)
    call_command("cases_import", str(good))
    assert "新建 3 件" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", [bad_row(工单编号="N9", 来电时间="昨天")])
    with pytest.raises(CommandError, match="第 2 行「来电时间」"):
        call_command("cases_import", str(bad))
    call_command("cases_import", str(good), "--dry-run")
    assert "校验通过：3 行" in capsys.readouterr().out
    assert Case.objects.count() == 3
