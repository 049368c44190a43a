"""Files in and out (issue #12, items 4 and 5).

Uploads: every import reads its file through ``core.uploads`` — the file's size, the bytes it
decompresses to (counted while reading, not taken from the zip's headers), the members of a
zip and the rows are capped; over a cap the answer is 413 with a Chinese message and nothing
is written; a damaged file is a clear refusal, never a 500.

Exports: every .csv and .xlsx goes through ``core.exports``: text starting with = + - @, a tab
or a CR is never a live formula (apostrophe in .csv, string cell with Excel's quote prefix in
.xlsx); numbers stay numbers; the registry's CSV export still imports again unchanged.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.core import exports, uploads
from jiayuan.core.errors import FileTooLarge, TooManyRows, UnreadableFile

KB = 1024


def limits(**web):
    """``JIAYUAN_UPLOADS`` with the web's (and the commands') limits set low for a test."""
    values = {"MAX_BYTES": 50 * 1024 * KB, "MAX_UNPACKED_BYTES": 200 * 1024 * KB,
              "MAX_MEMBERS": 200, "MAX_ROWS": 200_000, **web}
    return override_settings(JIAYUAN_UPLOADS={"WEB": values, "CLI": values})


def zip_bomb(member: str = "小区.csv", size: int = 3 * 1024 * KB) -> bytes:
    """A zip of a few KB holding one CSV of ``size`` bytes (a header and repeated rows)."""
    header = "编码,名称,所属居民区编码,类型\n".encode()
    row = b"310115001001999,x,310115001001,commodity\n"
    body = header + row * (size // len(row))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, body)
    return buf.getvalue()


@pytest.fixture
def admin(make_user):
    return make_user("files-admin", "admin")


@pytest.fixture
def officer(tiny, make_user):
    return make_user("files-duty", "duty_officer", tiny.district.code)


@pytest.fixture
def analyst(make_user):
    return make_user("files-analyst", "district_analyst")


# --- uploads ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_registry_upload_of_a_zip_bomb_answers_413_and_writes_nothing(tiny, admin, login):
    from jiayuan.registry.models import Compound

    before = Compound.objects.count()
    bomb = zip_bomb()
    assert len(bomb) < 64 * KB
    with limits(MAX_UNPACKED_BYTES=512 * KB):
        r = login(admin).post("/api/v1/registry/import",
                              {"file": SimpleUploadedFile("registry.zip", bomb)})
    assert r.status_code == 413
    error = r.json()["error"]
    assert error["code"] == "file_too_large" and "解压后超过" in error["message"]
    assert Compound.objects.count() == before


@pytest.mark.django_db
def test_registry_upload_over_the_size_limit_answers_413(tiny, admin, login):
    with limits(MAX_BYTES=4 * KB):
        r = login(admin).post("/api/v1/registry/import",
                              {"file": SimpleUploadedFile("小区.csv", b"a,b\n" * 4 * KB)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"


def test_a_zip_that_understates_its_size_is_stopped_while_reading():
    """The zip's headers claim 100 bytes; the member inflates to 3 MB. Reading stops at the
    claimed size (zipfile) or at the cap, and the file is refused: never 3 MB in memory."""
    bomb = zip_bomb()
    real = 3 * 1024 * KB // 41 * 41 + len("编码,名称,所属居民区编码,类型\n".encode())
    assert bomb.count(struct.pack("<I", real)) == 2  # local header and central directory
    lying = bomb.replace(struct.pack("<I", real), struct.pack("<I", 100))
    budget = uploads.Budget(uploads.Limits(max_unpacked_bytes=512 * KB), "lying.zip")
    with pytest.raises((UnreadableFile, FileTooLarge)):
        uploads.zip_members(lying, budget, keep=lambda n: True)
    assert budget.unpacked <= 512 * KB
    # Honest headers over the cap are refused before anything is decompressed.
    honest = uploads.Budget(uploads.Limits(max_unpacked_bytes=512 * KB), "honest.zip")
    with pytest.raises(FileTooLarge):
        uploads.zip_members(bomb, honest, keep=lambda n: True)
    assert honest.unpacked == 0


def test_a_zip_with_too_many_members_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(30):
            z.writestr(f"{i}.csv", "a\n")
    with pytest.raises(UnreadableFile, match="超过 10 个"):
        uploads.zip_members(buf.getvalue(), uploads.Budget(uploads.Limits(max_members=10), "z"),
                            keep=lambda n: True)


@pytest.mark.django_db
def test_device_import_with_too_many_rows_answers_413_and_stores_nothing(tiny, officer, login):
    from jiayuan.sensors.models import Device

    e = tiny.entrances["S1N1C1"].code
    body = "设备编码,设备类型,单元编码\n" + "".join(
        f"SMK-{i},smoke_detector,{e}\n" for i in range(20))
    with limits(MAX_ROWS=10):
        r = login(officer).post("/api/v1/sensors/devices/import",
                                {"file": SimpleUploadedFile("devices.csv", body.encode())})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_many_rows" and "上限" in r.json()["error"]["message"]
    assert not Device.objects.exists()


@pytest.mark.django_db
def test_device_import_page_refuses_a_zip_bomb_with_a_message(tiny, officer, login):
    from jiayuan.sensors.models import Device

    with limits(MAX_UNPACKED_BYTES=512 * KB):
        r = login(officer).post("/sensors/devices/import",
                                {"file": SimpleUploadedFile("devices.zip", zip_bomb("d.csv"))},
                                follow=True)
    assert r.status_code == 200 and "解压后超过" in r.content.decode()
    assert not Device.objects.exists()


@pytest.mark.django_db
def test_index_import_of_a_damaged_xlsx_is_refused_not_a_500(tiny, analyst, login):
    from jiayuan.index.models import LeafValue

    r = login(analyst).post("/index/import/", {
        "period": "2025", "file": SimpleUploadedFile("values.xlsx", b"PK\x03\x04 not a workbook")})
    assert r.status_code == 400
    assert "无法读取 Excel 文件“values.xlsx”" in r.content.decode()
    assert LeafValue.objects.count() == 0


@pytest.mark.django_db
def test_index_import_of_an_xlsx_bomb_answers_413(tiny, analyst, login):
    from jiayuan.index.models import LeafValue

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["compound_code", "compound_type", "period", "indicator_code", "value"])
    for i in range(3000):
        ws.append([tiny.compounds["S1N1C1"].code, "commodity", "2025", f"x{i}" * 40, 1])
    buf = io.BytesIO()
    wb.save(buf)
    assert len(buf.getvalue()) < 512 * KB
    with limits(MAX_UNPACKED_BYTES=512 * KB):
        r = login(analyst).post("/index/import/", {
            "period": "2025", "file": SimpleUploadedFile("values.xlsx", buf.getvalue())})
    assert r.status_code == 413 and "解压后超过" in r.content.decode()
    assert LeafValue.objects.count() == 0


@pytest.mark.django_db
def test_index_import_over_the_size_limit_answers_413(tiny, analyst, login):
    body = b"compound_code,compound_type,period,indicator_code,value\n" + b"x,y,2025,z,1\n" * 500
    with limits(MAX_BYTES=2 * KB):
        r = login(analyst).post("/index/import/", {
            "period": "2025", "file": SimpleUploadedFile("values.csv", body)})
    assert r.status_code == 413 and "上限" in r.content.decode()


@pytest.mark.django_db
def test_hotline_import_command_keeps_a_row_limit(tiny, tmp_path, settings):
    from jiayuan.cases.models import Case

    settings.JIAYUAN = {**settings.JIAYUAN, "CLASSIFIER_PATH": str(tmp_path / "none.joblib")}
    path = tmp_path / "orders.csv"
    path.write_text("工单编号,来电时间,诉求内容\n" + "".join(
        f"SH{i},2026-11-16 10:05,楼道堆物\n" for i in range(30)), encoding="utf-8")
    with limits(MAX_ROWS=10), pytest.raises(CommandError, match="上限"):
        call_command("cases_import", str(path))
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_registry_import_command_keeps_its_limits(tiny, tmp_path):
    from jiayuan.registry.io.service import import_file

    path = tmp_path / "registry.zip"
    path.write_bytes(zip_bomb())
    with limits(MAX_UNPACKED_BYTES=512 * KB), pytest.raises(FileTooLarge):
        import_file(path)


def test_a_workbook_claiming_the_whole_sheet_is_read_row_by_row_not_padded():
    """A one-cell-wide row in a sheet whose dimension says A1:XFD1048576 is read as one
    cell, not 16,384 (a million such gaps were a million padded rows)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["XFD1"], ws["A5000"] = "h", "far", "x"
    buf = io.BytesIO()
    wb.save(buf)
    budget = uploads.Budget(uploads.Limits(max_rows=10), "wide.xlsx")
    (sheet,) = uploads.read_xlsx(buf.getvalue(), budget)
    assert [(n, len(cells)) for n, cells in sheet.rows] == [(1, 16384), (5000, 1)]
    assert budget.rows == 2


def test_csv_reader_refuses_an_over_long_line_and_counts_rows():
    with pytest.raises(TooManyRows):
        uploads.read_csv(b"a\n" * 50, uploads.Budget(uploads.Limits(max_rows=10), "rows.csv"))
    with pytest.raises(UnreadableFile):
        uploads.read_csv(b"," * (uploads.MAX_LINE_CHARS + 1),
                         uploads.Budget(uploads.Limits(), "wide.csv"))


# --- exports ----------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://example.invalid\",\"点我\")", "+1+2", "-1+2", "@SUM(A1)",
            "\t=1", "\r=1"]


@given(st.text(max_size=20))
def test_neutralise_is_undone_exactly_by_restore(text):
    safe = exports.neutralise(text)
    assert exports.restore(safe) == text
    assert not safe or safe[0] not in exports.FORMULA_STARTS


def test_only_strings_are_neutralised():
    assert [exports.neutralise(v) for v in (-1.5, -3, None, 0)] == [-1.5, -3, None, 0]
    assert [exports.neutralise(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert exports.neutralise("联洋新苑") == "联洋新苑"


def _formula_like_cells_are_text(ws) -> list[str]:
    seen = []
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str) and cell.value[:1] in exports.FORMULA_STARTS:
                assert cell.quotePrefix, cell.value
                seen.append(cell.value)
    return seen


@pytest.mark.django_db
def test_index_export_keeps_a_formula_like_compound_name_as_text(tiny, analyst, login,
                                                                 tmp_path):
    from jiayuan.accounts.scope import AreaScope
    from jiayuan.index.services.imports import import_values
    from jiayuan.index.services.periods import get_or_create_period
    from jiayuan.index.services.runs import run_index
    from jiayuan.index.tests.test_import_and_run import _csv, _spreadsheet_values
    from jiayuan.registry.services import save_with_path

    compound = tiny.compounds["S1N1C1"]
    compound.name = FORMULAS[0]
    save_with_path(compound)
    import_values(_csv(tmp_path, _spreadsheet_values(tiny, ["2025", "2026"])),
                  scope=AreaScope.all())
    run = run_index(get_or_create_period("2026"), parameters={"mc_draws": 10})
    assert run.status == "done", run.error
    r = login(analyst).get("/index/export.xlsx", {"period": "2026"})
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert FORMULAS[0] in _formula_like_cells_are_text(ws)


@pytest.mark.django_db
def test_registry_csv_export_is_neutralised_and_still_imports_unchanged(tiny, tmp_path):
    from jiayuan.registry.io.service import export_file, import_file
    from jiayuan.registry.services import save_with_path

    names = {"S1N1C1": FORMULAS[0], "S1N1C2": "+86 21 1234", "S1N2C1": "-负号开头",
             "S2N1C1": "@某人", "S2N1C2": "'=本就带引号"}
    for key, name in names.items():
        c = tiny.compounds[key]
        c.name = name
        c.address = "=1+2"
        save_with_path(c)
    export_file(tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as z:
        text = z.read("小区.csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for name in names.values():
        assert exports.neutralise(name) in cells
    assert "'=1+2" in cells
    assert not [c for c in cells if c[:1] in exports.FORMULA_STARTS]
    assert import_file(tmp_path / "out.zip").changed == 0


@pytest.mark.django_db
def test_registry_xlsx_export_writes_formula_like_text_as_text(tiny, tmp_path):
    from jiayuan.registry.io.service import export_file, import_file
    from jiayuan.registry.services import save_with_path

    c = tiny.compounds["S1N1C1"]
    c.name = "@SUM(A1:A9)"
    c.address = "+86 长柳路"
    save_with_path(c)
    export_file(tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["小区"]
    assert {"@SUM(A1:A9)", "+86 长柳路"} <= set(_formula_like_cells_are_text(ws))
    assert import_file(tmp_path / "out.xlsx").changed == 0


def test_index_result_csv_neutralises_text_and_keeps_numbers(tmp_path):
    from jiayuan.index.io import write_table

    write_table(tmp_path / "r.csv", ["code", "total"], [["=cmd|' /C calc'!A0", -1.5]])
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[1] == "'=cmd|' /C calc'!A0,-1.5"


def test_case_measures_workbook_writes_unit_names_as_text():
    import datetime as dt

    from jiayuan.cases.measures.export import build_workbook
    from jiayuan.cases.measures.formulas import Counts, rates
    from jiayuan.cases.measures.queries import MeasureRow

    counts = Counts(reported=3)
    row = MeasureRow(grouping="unit", key="u1", label="=HYPERLINK(\"http://x\")", period="2026-03",
                     period_start=dt.date(2026, 3, 1), counts=counts, rates=rates(counts))
    wb = build_workbook({"unit": [row]}, period="month", start=dt.date(2026, 3, 1),
                        end=dt.date(2026, 4, 1),
                        now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    buf = io.BytesIO()
    wb.save(buf)
    ws = openpyxl.load_workbook(buf).worksheets[0]
    assert "=HYPERLINK(\"http://x\")" in _formula_like_cells_are_text(ws)


def test_rental_check_command_keeps_a_row_limit(tmp_path, capsys):
    header = "unit_id,room_id,kind,usable_area_m2,occupants,partitioned,support_relation," \
             "x_plus_1_permit,marks\n"
    rooms = tmp_path / "rooms.csv"
    rooms.write_text(header + "".join(f"U{i},B1,bedroom,12,1,no,no,no,\n" for i in range(30)),
                     encoding="utf-8")
    with limits(MAX_ROWS=10), pytest.raises(CommandError) as exc:
        call_command("rental", "check", str(rooms), "--out", str(tmp_path / "result.csv"))
    assert exc.value.returncode == 2
    assert "上限" in capsys.readouterr().err
    assert not (tmp_path / "result.csv").exists()


def test_rental_result_workbook_writes_a_formula_like_unit_as_text(tmp_path):
    from jiayuan.rental.engine import check_units
    from jiayuan.rental.io import read_rooms, write_result

    header = "unit_id,room_id,kind,usable_area_m2,occupants,partitioned,support_relation," \
             "x_plus_1_permit,marks\n"
    rooms = tmp_path / "rooms.csv"
    rooms.write_text(header + "U1,B1,bedroom,12,1,no,no,no,\n"
                     "+U2,B1,bedroom,12,1,no,no,no,\n", encoding="utf-8")
    units, problems = read_rooms(rooms)
    assert not problems
    write_result(tmp_path / "result.xlsx", check_units(units))
    ws = openpyxl.load_workbook(tmp_path / "result.xlsx").worksheets[0]
    assert _formula_like_cells_are_text(ws) == ["+U2"]  # exact text, quote-prefixed
