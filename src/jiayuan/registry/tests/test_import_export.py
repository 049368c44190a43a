"""Import and export of the registry (底数) from spreadsheets.

Every bad file is refused whole, with each problem located by sheet, row and column; a clean
file upserts by code; an export imports again unchanged.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.core.errors import Forbidden, ImportRejected
from jiayuan.registry import models as rm
from jiayuan.registry.geo import to_wgs84
from jiayuan.registry.io import spec as io_spec
from jiayuan.registry.io.files import csv_bytes, read_bytes, table
from jiayuan.registry.io.parse import (
    RawSheet,
    format_problem,
    parse_tables,
    split_tags,
)
from jiayuan.registry.io.service import (
    MODELS,
    export_file,
    export_registry,
    import_file,
    load_records,
)
from jiayuan.registry.services import compute_path, save_with_path
from jiayuan.registry.testing import square

SQUARE = json.dumps(square(121.40, 31.10, 121.60, 31.30))
C_SQUARE = json.dumps(square(121.41, 31.11, 121.42, 31.12))


def good_sheets() -> dict[str, list[list[Any]]]:
    """A small, complete registry: every kind once, Chinese headers (units in English)."""
    return {
        "区": [["编码", "名称", "边界"], ["310115", "测试区", SQUARE]],
        "街道": [["编码", "名称", "所属区编码", "类型"], ["310115001", "花木街道", "310115", "街道"]],
        "片区": [["编码", "名称", "所属街道编码"], ["P1", "第一片区", "310115001"]],
        "居民区": [["编码", "名称", "所属街道编码", "所属片区编码", "类型", "经度", "纬度"],
                ["310115001001", "联洋居民区", "310115001", "P1", "居民区", 121.45, 31.15]],
        "小区": [["编码", "名称", "所属居民区编码", "类型", "标签", "户数", "人口", "建成年份",
                "建筑面积", "地址", "经度", "纬度", "边界"],
               ["310115001001001", "联洋新苑", "310115001001", "商品房", "学区房、大型居住区;远郊",
                1200, 3100, 2003, 152000.5, "长柳路 1 号", 121.415, 31.115, C_SQUARE],
               ["310115001001002", "樱花公寓", "310115001001", "old_public", "", 300, "800",
                None, None, None, None, None, None]],
        "楼栋": [["编码", "名称", "所属小区编码", "层数", "户数", "有电梯"],
               ["310115001001001001", "1号楼", "310115001001001", 18, 72, "是"]],
        "门洞": [["编码", "名称", "所属楼栋编码", "门牌", "户数"],
               ["31011500100100100101", "1单元", "310115001001001001", "长柳路 1 弄 1 号", 36]],
        "网格": [["编码", "名称", "所属街道编码", "所属居民区编码", "边界"],
               ["G1", "联洋网格", "310115001", "310115001001", SQUARE]],
        "部门": [["编码", "名称", "类型", "所属区编码", "所属街道编码", "电话"],
               ["PS1", "花木派出所", "派出所", "310115", "310115001", "021-1"],
               ["CM0", "区城管", "city_management", "310115", None, None]],
        "城运中心": [["编码", "名称", "所属区编码", "所属街道编码"],
                 ["OC1", "花木城运中心", "310115", "310115001"]],
        "联勤联动站": [["编码", "名称", "所属居民区编码"], ["JS1", "联洋联勤联动站", "310115001001"]],
        "联络员": [["所属部门编码", "所属居民区编码", "姓名", "电话"],
                ["PS1", "310115001001", "王警官", "139"]],
        "units": [["code", "name", "kind", "subdistrict", "neighbourhood", "address"],
                  ["U1", "联洋小学", "学校", "310115001", "310115001001", "芳甸路"]],
    }


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def snapshot() -> dict[str, Any]:
    """Every stored row of every kind (and every home code), for before/after comparisons."""
    data: dict[str, Any] = {kind: load_records(kind) for kind in MODELS}
    data["home_codes"] = dict(rm.Entrance.objects.values_list("code", "home_code"))
    data["updated_at"] = dict(rm.Compound.objects.values_list("code", "updated_at"))
    return data


def rejected(path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(ImportRejected) as caught:
        import_file(path, **kwargs)
    return caught.value.problems


# --- a clean file --------------------------------------------------------------------------

@pytest.mark.django_db
def test_good_workbook_creates_every_kind_with_the_paths_save_with_path_gives(tmp_path):
    # Given an empty registry and a workbook with every kind
    path = workbook(tmp_path / "底数.xlsx", good_sheets())

    # When it is imported
    report = import_file(path)

    # Then every row exists, with the path the services compute
    assert report.sheets["compounds"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert report.changed == 15
    for model in MODELS.values():
        for obj in model.objects.all():
            if hasattr(obj, "path"):
                assert obj.path == compute_path(obj), obj
    c = rm.Compound.objects.get(code="310115001001001")
    assert c.path == "310115/310115001/310115001001/310115001001001/"
    assert c.compound_type == "commodity"
    assert c.tags == ["学区房", "大型居住区", "远郊"]
    assert (c.households, c.population, c.year_built, c.floor_area_m2) == (1200, 3100, 2003, 152000.5)
    assert c.boundary == json.loads(C_SQUARE)
    other = rm.Compound.objects.get(code="310115001001002")
    assert (other.compound_type, other.tags, other.population, other.address) == ("old_public", [], 800, "")
    assert rm.Neighbourhood.objects.get().sector.code == "P1"
    assert rm.Building.objects.get().has_elevator is True
    assert rm.Liaison.objects.get().path == "310115/310115001/310115001001/"
    assert rm.Department.objects.get(code="CM0").path == "310115/CM0/"
    assert rm.Unit.objects.get().kind == "school"
    # A row with a boundary and no point gets a point inside its boundary
    grid = rm.GridCell.objects.get()
    assert 121.40 < grid.lng < 121.60 and 31.10 < grid.lat < 31.30


@pytest.mark.django_db
def test_import_appends_one_event_with_counts_actor_file_and_hash(tmp_path, make_user):
    admin = make_user("admin1", "admin")
    path = workbook(tmp_path / "底数.xlsx", good_sheets())

    report = import_file(path, actor=admin)

    event = rm.RegistryEvent.objects.get()
    assert event.action == "import" and event.actor == admin
    assert event.summary["file"] == "底数.xlsx"
    assert len(event.summary["sha256"]) == 64 and event.summary["sha256"] == report.sha256
    assert event.summary["sheets"]["compounds"]["created"] == 2
    assert event.summary["changed"] == 15


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = workbook(tmp_path / "底数.xlsx", good_sheets())
    import_file(path)
    before = snapshot()

    report = import_file(path)

    assert report.changed == 0
    assert all(c["created"] == c["updated"] == 0 for c in report.sheets.values())
    assert snapshot() == before
    assert rm.RegistryEvent.objects.filter(action="import").count() == 2


@pytest.mark.django_db
def test_dry_run_counts_but_writes_nothing(tmp_path):
    path = workbook(tmp_path / "底数.xlsx", good_sheets())

    report = import_file(path, dry_run=True)

    assert report.sheets["compounds"]["created"] == 2
    assert rm.District.objects.count() == 0
    assert rm.RegistryEvent.objects.count() == 0


@pytest.mark.django_db
def test_title_rows_above_the_header_are_skipped_and_row_numbers_stay_excels(tiny, tmp_path):
    n = tiny.neighbourhoods["S1N1"]
    path = workbook(tmp_path / "titled.xlsx", {"小区": [
        ["浦东新区小区底数表（2026 年）"], [None], ["编码", "名称", "所属居民区编码", "类型", "户数"],
        ["T1", "有标题小区", n.code, "商品房", 10], ["T2", "坏小区", n.code, "商品房", "x"]]})

    problems = rejected(path)

    assert [(p["row"], p["column"]) for p in problems] == [(5, "户数")]


@pytest.mark.django_db
def test_parent_may_already_be_in_the_registry(tiny, tmp_path):
    n = tiny.neighbourhoods["S1N1"]
    path = workbook(tmp_path / "new.xlsx", {
        "小区": [["编码", "名称", "所属居民区编码", "类型"], ["NEW1", "新小区", n.code, "动迁房"]],
    })

    import_file(path)

    c = rm.Compound.objects.get(code="NEW1")
    assert c.path == f"{n.path}NEW1/" and c.compound_type == "resettlement"


@pytest.mark.django_db
def test_absent_columns_keep_stored_values_and_present_ones_update(tiny, tmp_path):
    c = tiny.compounds["S1N1C1"]
    path = workbook(tmp_path / "upd.xlsx", {
        "小区": [["编码", "名称", "所属居民区编码", "类型", "户数"],
               [c.code, "改名小区", c.neighbourhood.code, "商品房", 999]],
    })

    report = import_file(path)

    c.refresh_from_db()
    assert report.sheets["compounds"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert (c.name, c.households) == ("改名小区", 999)
    assert (c.population, c.year_built) == (250, 1991)  # columns not in the file: untouched
    assert c.boundary is not None


@pytest.mark.django_db
def test_moving_a_compound_rewrites_the_paths_below_it(tiny, tmp_path):
    c = tiny.compounds["S1N1C1"]
    target = tiny.neighbourhoods["S2N2"]
    path = workbook(tmp_path / "move.xlsx", {
        "小区": [["编码", "名称", "所属居民区编码", "类型"], [c.code, c.name, target.code, "商品房"]],
    })

    import_file(path)

    e = tiny.entrances["S1N1C1"]
    e.refresh_from_db()
    assert e.path == f"{target.path}{c.code}/{c.code}001/{e.code}/"
    assert e.path == compute_path(e)


@pytest.mark.django_db
def test_import_never_changes_home_codes(tiny, tmp_path):
    e = tiny.entrances["S1N1C1"]
    token = e.home_code
    path = workbook(tmp_path / "e.xlsx", {
        "门洞": [["编码", "名称", "所属楼栋编码", "家园码", "户数"],
               [e.code, "1单元", e.building.code, "forged-token", 20]],
    })

    import_file(path)

    e.refresh_from_db()
    assert e.home_code == token and e.households == 20


# --- every class of bad input ----------------------------------------------------------------

BOWTIE = json.dumps({"type": "Polygon", "coordinates": [
    [[121.41, 31.11], [121.42, 31.12], [121.42, 31.11], [121.41, 31.12], [121.41, 31.11]]]})


def _set(sheet: str, row: int, col: int, value: Any):
    def mutate(s: dict[str, list[list[Any]]]) -> None:
        s[sheet][row][col] = value
    return mutate


def _append(sheet: str, row: list[Any]):
    def mutate(s: dict[str, list[list[Any]]]) -> None:
        s[sheet].append(row)
    return mutate


def _rename_header(sheet: str, col: int, header: str):
    def mutate(s: dict[str, list[list[Any]]]) -> None:
        s[sheet][0][col] = header
    return mutate


def _drop_column(sheet: str, col: int):
    def mutate(s: dict[str, list[list[Any]]]) -> None:
        for r in s[sheet]:
            del r[col]
    return mutate


def _add_sheet(title: str):
    def mutate(s: dict[str, list[list[Any]]]) -> None:
        s[title] = [["编码"], ["X"]]
    return mutate


BAD_CASES = {
    "unknown sheet": (_add_sheet("住户"), ("住户", None, None), "未知工作表"),
    "unknown column": (_rename_header("小区", 5, "住户数"), ("小区", 1, "住户数"), "未知列"),
    "missing required column": (_drop_column("小区", 3), ("小区", 1, "类型"), "缺少必填列「类型」"),
    "missing required value": (_set("小区", 2, 1, None), ("小区", 3, "名称"), "不能为空"),
    "wrong type": (_set("小区", 1, 5, "很多"), ("小区", 2, "户数"), "应为整数"),
    "negative count": (_set("小区", 1, 5, -3), ("小区", 2, "户数"), "小于下限 0"),
    "year out of range": (_set("小区", 1, 7, 1500), ("小区", 2, "建成年份"), "小于下限 1840"),
    "bad longitude": (_set("小区", 1, 10, 200), ("小区", 2, "经度"), "经度 200.0 超出范围"),
    "half a point": (_set("小区", 1, 11, None), ("小区", 2, "纬度"), "同时填写"),
    "bad polygon": (_set("小区", 1, 12, BOWTIE), ("小区", 2, "边界"), "边界多边形无效"),
    "polygon not json": (_set("小区", 1, 12, "[[1,2"), ("小区", 2, "边界"), "不是有效的 GeoJSON"),
    "unknown parent": (_set("小区", 1, 2, "310115009009"), ("小区", 2, "所属居民区编码"),
                       "都不存在"),
    "duplicate code": (_append("楼栋", ["310115001001001001", "又一号楼", "310115001001001", 6, 1, "否"]),
                       ("楼栋", 3, "编码"), "与第 2 行重复"),
    "bad enum": (_set("小区", 1, 3, "别墅"), ("小区", 2, "类型"), "不是可用的类型"),
    "bad boolean": (_set("楼栋", 1, 5, "也许"), ("楼栋", 2, "有电梯"), "是"),
    "second joint station for a neighbourhood": (
        _append("联勤联动站", ["JS2", "又一站", "310115001001"]),
        ("联勤联动站", 3, "所属居民区编码"), "已被第 2 行使用"),
    "code that Excel turned into a number": (
        _set("楼栋", 1, 0, 310115001001001001.0), ("楼栋", 2, "编码"), "丢失精度"),
    "too long": (_set("小区", 1, 9, "路" * 201), ("小区", 2, "地址"), "超过上限 200"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_reported_where_it_is_and_nothing_is_written(case, tmp_path):
    # Given a registry that already holds a district and a workbook with one fault
    import_file(workbook(tmp_path / "seed.xlsx", {"区": good_sheets()["区"]}))
    before = snapshot()
    mutate, where, fragment = BAD_CASES[case]
    sheets = good_sheets()
    mutate(sheets)

    # When it is imported, then it is rejected with the fault located
    problems = rejected(workbook(tmp_path / "bad.xlsx", sheets))
    located = [p for p in problems if (p["sheet"], p["row"], p["column"]) == where]
    assert located, problems
    assert fragment in located[0]["message"]
    # And nothing changed, not even the rows of the other, clean sheets
    assert snapshot() == before
    assert rm.RegistryEvent.objects.count() == 1


@pytest.mark.django_db
def test_sector_must_lie_in_the_neighbourhoods_subdistrict(tiny, tmp_path):
    s1, s2 = tiny.subdistricts["S1"], tiny.subdistricts["S2"]
    before = snapshot()
    path = workbook(tmp_path / "sec.xlsx", {
        "片区": [["编码", "名称", "所属街道编码"], ["P9", "片区九", s1.code]],
        "居民区": [["编码", "名称", "所属街道编码", "所属片区编码", "类型"],
                ["NX", "新居民区", s2.code, "P9", "居民区"]],
    })

    problems = rejected(path)

    assert [(p["sheet"], p["row"], p["column"]) for p in problems] == [("居民区", 2, "所属片区编码")]
    assert s1.code in problems[0]["message"] and s2.code in problems[0]["message"]
    assert snapshot() == before


@pytest.mark.django_db
def test_joint_station_for_a_neighbourhood_that_has_one_is_refused(tiny, tmp_path):
    n = tiny.neighbourhoods["S1N1"]
    path = workbook(tmp_path / "js.xlsx", {
        "联勤联动站": [["编码", "名称", "所属居民区编码"], ["JSX", "另一个站", n.code]],
    })

    problems = rejected(path)

    assert problems[0]["row"] == 2 and f"JS{n.code}" in problems[0]["message"]


@pytest.mark.django_db
def test_every_problem_of_a_file_is_listed_not_only_the_first(tmp_path):
    sheets = good_sheets()
    sheets["小区"][1][5] = "很多"  # row 2 户数
    sheets["小区"][2][3] = "别墅"  # row 3 类型
    sheets["楼栋"][1][2] = "NOPE"  # row 2 所属小区编码
    sheets["门洞"][1][4] = 1.5  # row 2 户数

    problems = rejected(workbook(tmp_path / "bad.xlsx", sheets))

    assert {(p["sheet"], p["row"], p["column"]) for p in problems} == {
        ("小区", 2, "户数"), ("小区", 3, "类型"), ("楼栋", 2, "所属小区编码"), ("门洞", 2, "户数")}
    assert rm.District.objects.count() == 0


@pytest.mark.django_db
def test_bad_row_crs_and_bad_file_crs_are_reported(tmp_path):
    sheets = {"区": [["编码", "名称", "经度", "纬度", "坐标系"],
                    ["310115", "测试区", 121.5, 31.2, "火星"]]}

    problems = rejected(workbook(tmp_path / "crs.xlsx", sheets))
    assert (problems[0]["row"], problems[0]["column"]) == (2, "坐标系")

    sheets["区"][1][4] = None
    problems = rejected(workbook(tmp_path / "crs.xlsx", sheets), default_crs="mercator")
    assert problems[0]["column"] == "坐标系" and "未知坐标系" in problems[0]["message"]


# --- coordinates -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_gcj02_input_is_stored_as_wgs84(tmp_path):
    gcj = square(121.45, 31.15, 121.46, 31.16)
    sheets = {"区": [["编码", "名称", "经度", "纬度", "边界"],
                    ["310115", "测试区", 121.455, 31.155, json.dumps(gcj)]],
              "街道": [["编码", "名称", "所属区编码", "类型", "经度", "纬度", "坐标系"],
                     ["310115001", "一街道", "310115", "镇", 121.455, 31.155, "bd09"]]}

    import_file(workbook(tmp_path / "gcj.xlsx", sheets), default_crs="gcj02")

    d = rm.District.objects.get()
    assert (d.lng, d.lat) == pytest.approx(to_wgs84(121.455, 31.155, "gcj02"), abs=1e-9)
    assert abs(d.lng - 121.455) > 1e-3  # really shifted, by a few hundred metres
    x0, y0 = d.boundary["coordinates"][0][0]
    assert (x0, y0) == pytest.approx(to_wgs84(121.45, 31.15, "gcj02"), abs=1e-9)
    s = rm.Subdistrict.objects.get()  # the row's own 坐标系 wins over the file's
    assert (s.lng, s.lat) == pytest.approx(to_wgs84(121.455, 31.155, "bd09"), abs=1e-9)


@pytest.mark.django_db
def test_reimporting_a_gcj02_file_is_idempotent(tmp_path):
    path = workbook(tmp_path / "gcj.xlsx", {"区": [["编码", "名称", "经度", "纬度"],
                                                  ["310115", "测试区", 121.455, 31.155]]})
    import_file(path, default_crs="gcj02")

    assert import_file(path, default_crs="gcj02").changed == 0


# --- export ----------------------------------------------------------------------------------

def _enrich(tiny) -> None:
    """Add the kinds make_tiny_district leaves out, and awkward values."""
    s1 = tiny.subdistricts["S1"]
    n = tiny.neighbourhoods["S1N1"]
    sector = rm.Sector.objects.create(code="P1", name="片区一", subdistrict=s1)
    n.sector = sector
    save_with_path(n)
    c = tiny.compounds["S1N1C1"]
    c.tags = ["学区房", "远郊"]
    c.floor_area_m2 = 12345.678901234567
    c.address = "浦东大道 1 号"
    save_with_path(c)
    save_with_path(rm.OperationsCentre(code="OC1", name="一街道城运", district=tiny.district,
                                       subdistrict=s1, phone="110"))
    save_with_path(rm.Liaison(department=tiny.departments["S1"], neighbourhood=n, name="李四"))
    save_with_path(rm.Unit(code="U1", name="某公司", kind="company", subdistrict=s1,
                           lng=121.4123456789012, lat=31.1234567890123))
    b = rm.Building.objects.get(code=f"{c.code}001")
    b.has_elevator = True
    save_with_path(b)


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["底数.xlsx", "csv-folder", "底数.zip"])
def test_export_then_import_changes_nothing(tiny, tmp_path, target):
    # Given a registry with every kind, exported
    _enrich(tiny)
    before = snapshot()
    counts = export_file(tmp_path / target)
    assert counts["entrances"] == 8 and counts["liaisons"] == 1

    # When the export is imported again
    report = import_file(tmp_path / target)

    # Then every row is reported unchanged and the stored data is identical
    assert report.changed == 0
    assert sum(c["unchanged"] for c in report.sheets.values()) == sum(counts.values())
    assert snapshot() == before


def _without_pks() -> dict[str, Any]:
    def clean(v: Any) -> Any:
        return round(v, 9) if isinstance(v, float) else v
    return {kind: {key: {f: clean(v) for f, v in r.items() if f != "_pk"}
                   for key, r in load_records(kind).items()} for kind in MODELS}


@pytest.mark.django_db
def test_text_that_looks_like_a_formula_stays_text_in_the_workbook(tiny, tmp_path):
    c = tiny.compounds["S1N1C1"]
    c.name = "=HYPERLINK(\"http://example.invalid\")"
    save_with_path(c)
    export_file(tmp_path / "f.xlsx")

    ws = openpyxl.load_workbook(tmp_path / "f.xlsx")["小区"]
    assert ws["B2"].data_type == "s" and ws["B2"].value == c.name
    assert import_file(tmp_path / "f.xlsx").changed == 0


@pytest.mark.django_db
def test_export_into_an_empty_registry_rebuilds_it(tiny, tmp_path):
    _enrich(tiny)
    export_file(tmp_path / "all.xlsx")
    before = _without_pks()
    for model in reversed(list(MODELS.values())):
        model.objects.all().delete()

    import_file(tmp_path / "all.xlsx")

    # Excel keeps 15–16 significant digits of a number cell: compare floats to 1e-9 degrees
    assert _without_pks() == before


@pytest.mark.django_db
def test_area_export_holds_the_area_and_its_ancestors_only(tiny, tmp_path):
    n = tiny.neighbourhoods["S2N1"]

    sheets = dict(export_registry(area=n.code))

    assert [r["code"] for r in sheets["compounds"]] == [c.code for c in
                                                         rm.Compound.objects.filter(neighbourhood=n)]
    assert [r["code"] for r in sheets["subdistricts"]] == [n.subdistrict.code]
    assert [r["code"] for r in sheets["districts"]] == ["310115"]
    assert [r["code"] for r in sheets["neighbourhoods"]] == [n.code]
    export_file(tmp_path / "area.xlsx", area=n.code)
    assert import_file(tmp_path / "area.xlsx").changed == 0


@pytest.mark.django_db
def test_csv_export_is_utf8_with_bom_and_chinese_headers(tiny, tmp_path):
    export_file(tmp_path / "out")

    data = (tmp_path / "out" / "小区.csv").read_bytes()

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines()[0].startswith("编码,名称,所属居民区编码,类型,标签")


@pytest.mark.django_db
def test_single_csv_takes_its_kind_from_the_file_name_or_the_sheet_option(tiny, tmp_path):
    n = tiny.neighbourhoods["S1N2"]
    text = f"编码,名称,所属居民区编码,类型\r\nCSV1,表格小区,{n.code},保障性住房\r\n"
    (tmp_path / "compounds.csv").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "data.csv").write_bytes(text.replace("CSV1", "CSV2").encode("gb18030"))

    import_file(tmp_path / "compounds.csv")
    import_file(tmp_path / "data.csv", sheet="小区")

    assert set(rm.Compound.objects.filter(code__startswith="CSV").values_list(
        "code", "compound_type")) == {("CSV1", "affordable"), ("CSV2", "affordable")}
    problems = rejected(tmp_path / "data.csv")
    assert problems[0]["sheet"] == "data.csv" and "未知工作表" in problems[0]["message"]


@pytest.mark.django_db
def test_zip_of_csv_is_read_like_a_folder(tiny, tmp_path):
    n = tiny.neighbourhoods["S1N2"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("底数/小区.csv", f"编码,名称,所属居民区编码,类型\nZ1,压缩小区,{n.code},城中村\n"
                   .encode("utf-8-sig"))
    (tmp_path / "d.zip").write_bytes(buf.getvalue())

    import_file(tmp_path / "d.zip")

    assert rm.Compound.objects.get(code="Z1").compound_type == "urban_village"


# --- the commands ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_import_command_prints_each_problem_in_chinese_and_exits_2(tmp_path):
    sheets = good_sheets()
    sheets["小区"][4 - 1 - 1][5] = "很多"  # the second compound row is spreadsheet row 3
    path = workbook(tmp_path / "bad.xlsx", sheets)
    err = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("registry_import", str(path), stderr=err)

    assert caught.value.returncode == 2
    assert "工作表「小区」第 3 行「户数」列：应为整数，实际为“很多”" in err.getvalue().splitlines()
    assert rm.District.objects.count() == 0


@pytest.mark.django_db
def test_import_command_reports_counts_and_records_the_actor(tmp_path, make_user):
    make_user("boss", "admin")
    path = workbook(tmp_path / "ok.xlsx", good_sheets())
    out = io.StringIO()

    call_command("registry_import", str(path), "--actor", "boss", stdout=out)

    assert "小区：新增 2，更新 0，未变 0" in out.getvalue()
    assert rm.RegistryEvent.objects.get().actor.username == "boss"


@pytest.mark.django_db
def test_import_refuses_an_actor_who_may_not_import(tiny, tmp_path, make_user):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    path = workbook(tmp_path / "ok.xlsx", good_sheets())
    before = snapshot()

    with pytest.raises(Forbidden):
        import_file(path, actor=staff)
    with pytest.raises(CommandError):
        call_command("registry_import", str(path), "--actor", "staff")
    assert snapshot() == before


@pytest.mark.django_db
def test_export_command_writes_a_workbook_that_dry_runs_clean(tiny, tmp_path):
    out = io.StringIO()
    call_command("registry_export", str(tmp_path / "x.xlsx"), stdout=out)
    assert "小区：8 行" in out.getvalue()

    out = io.StringIO()
    call_command("registry_import", str(tmp_path / "x.xlsx"), "--dry-run", stdout=out)
    assert "共变更 0 行" in out.getvalue()


# --- pure parts --------------------------------------------------------------------------------

def test_spec_enumerations_match_the_model_choices():
    pairs = [(io_spec.SUBDISTRICT_KINDS, rm.Subdistrict.Kind),
             (io_spec.NEIGHBOURHOOD_KINDS, rm.Neighbourhood.Kind),
             (io_spec.COMPOUND_TYPES, rm.CompoundType),
             (io_spec.DEPARTMENT_KINDS, rm.Department.Kind), (io_spec.UNIT_KINDS, rm.Unit.Kind)]
    for declared, choices in pairs:
        assert [v for v, _ in declared] == list(choices.values)
        for value, label in declared:  # the Chinese label is the one the model shows
            assert label in str(choices(value).label) or value == "other"


def test_every_exported_sheet_title_and_header_is_read_back_as_itself():
    for sheet in io_spec.SHEETS:
        assert io_spec.sheet_for(sheet.title) is sheet
        assert io_spec.sheet_for(sheet.kind) is sheet
        for col in sheet.columns:
            assert io_spec.column_for(sheet, col.header) is col
            assert io_spec.column_for(sheet, col.field) is col


def test_format_problem_names_sheet_row_and_column():
    assert format_problem({"sheet": "小区", "row": 5, "column": "户数", "message": "应为整数"}) \
        == "工作表「小区」第 5 行「户数」列：应为整数"
    assert format_problem({"sheet": "住户", "row": None, "column": None, "message": "未知"}) \
        == "工作表「住户」：未知"


tag = st.text(st.characters(codec="utf-8", exclude_characters="、,，;；\n\r"), min_size=1,
              max_size=6).map(str.strip).filter(bool)
compound_records = st.fixed_dictionaries({
    "code": st.from_regex(r"[0-9A-Z]{1,20}", fullmatch=True),
    "name": st.text(min_size=1, max_size=30).map(str.strip).filter(bool),
    "neighbourhood": st.just("N1"),
    "compound_type": st.sampled_from([v for v, _ in io_spec.COMPOUND_TYPES]),
    "tags": st.lists(tag, max_size=4, unique=True),
    "households": st.integers(0, 10**6),
    "population": st.integers(0, 10**6),
    "year_built": st.none() | st.integers(1840, 2100),
    "floor_area_m2": st.none() | st.floats(0, 1e7, allow_nan=False),
    "address": st.text(max_size=40).map(str.strip),
    "lng": st.floats(73, 135), "lat": st.floats(18, 53),
    "boundary": st.none(),
})


@settings(max_examples=60, deadline=None)
@given(records=st.lists(compound_records, min_size=1, max_size=5, unique_by=lambda r: r["code"]))
def test_any_compound_record_survives_csv_out_and_in(records):
    raw, _ = read_bytes("小区.csv", csv_bytes("compounds", records))
    existing = {"neighbourhoods": {("N1",): {"code": "N1"}}}

    result = parse_tables(raw, existing=existing)

    assert result.problems == []
    assert [r.record for r in result.sheets["compounds"].rows] == records


@given(tags=st.lists(tag, max_size=6, unique=True), sep=st.sampled_from(["、", ",", "；", ";"]))
def test_tags_split_back_into_what_was_joined(tags, sep):
    assert split_tags(sep.join(tags)) == tags


def test_cells_are_written_with_chinese_labels():
    cells = next(iter(table(io_spec.SHEETS_BY_KIND["buildings"], [
        {"code": "B", "name": "楼", "compound": "C", "floors": 3, "households": 1,
         "year_built": None, "has_elevator": True, "lng": None, "lat": None, "boundary": None}])))
    assert cells[:7] == ["B", "楼", "C", 3, 1, None, "是"]
    raw = [RawSheet("小区", [(1, ["编码", "名称", "所属居民区编码", "类型"]),
                            (2, ["C", "c", "N", "商品房"])])]
    assert parse_tables(raw, existing={"neighbourhoods": {("N",): {}}}).problems == []


# --- the upload endpoint (mounted by config.api; here on a test API with the same mapping) ---

def _api_client():
    from ninja import NinjaAPI
    from ninja.testing import TestClient

    from jiayuan.config.api import on_domain_error
    from jiayuan.core.errors import DomainError
    from jiayuan.registry.api_import import router

    test_api = NinjaAPI(urls_namespace="test-registry-import")
    test_api.add_exception_handler(DomainError, on_domain_error)
    test_api.add_router("/registry", router)
    return TestClient(test_api)


def _upload(path: Path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile(path.name, path.read_bytes())}


@pytest.mark.django_db
def test_upload_endpoint_imports_for_an_admin(tmp_path, make_user):
    admin = make_user("root", "admin")
    path = workbook(tmp_path / "底数.xlsx", good_sheets())

    response = _api_client().post("/registry/import", FILES=_upload(path), user=admin)

    assert response.status_code == 200, response.content
    assert response.json()["sheets"]["compounds"]["created"] == 2
    assert rm.RegistryEvent.objects.get().actor == admin


@pytest.mark.django_db
def test_upload_endpoint_answers_422_with_every_problem(tmp_path, make_user):
    admin = make_user("root", "admin")
    sheets = good_sheets()
    sheets["小区"][1][5] = "很多"
    path = workbook(tmp_path / "bad.xlsx", sheets)

    response = _api_client().post("/registry/import", FILES=_upload(path), user=admin)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert {"sheet": "小区", "row": 2, "column": "户数",
            "message": "应为整数，实际为“很多”"} in error["details"]
    assert rm.District.objects.count() == 0


@pytest.mark.django_db
def test_upload_endpoint_refuses_non_admins(tiny, tmp_path, make_user):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    path = workbook(tmp_path / "底数.xlsx", good_sheets())
    before = snapshot()

    response = _api_client().post("/registry/import", FILES=_upload(path), user=staff)

    assert response.status_code == 403
    assert snapshot() == before
