"""``jiayuan index compute``: good files give one row per compound and period; bad files are
refused with every problem listed and nothing written."""

from __future__ import annotations

import csv
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from jiayuan.cli import main

from .conftest import FIXTURES


def _run(tmp_path, *extra, values=None):
    out = tmp_path / "result.csv"
    call_command(
        "index_compute",
        str(values or FIXTURES / "hand_values.csv"),
        "--catalogue", str(FIXTURES / "mini_catalogue.csv"),
        "--thresholds", str(FIXTURES / "hand_thresholds.csv"),
        "--out", str(out),
        *extra,
    )
    with open(out, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_result_has_one_row_per_compound_and_period_with_points_and_z(tmp_path):
    rows = _run(tmp_path)
    assert len(rows) == 24
    o1 = next(r for r in rows if r["compound_code"] == "O1" and r["period"] == "2024")
    assert float(o1["total"]) == pytest.approx(25 / 3 * 2.6 + 12.5 + 16.25 + 11.5625, abs=1e-9)
    assert float(o1["management_precision"]) == pytest.approx(25 / 3 * 2.6, abs=1e-9)
    assert float(o1["self_growth"]) == pytest.approx(7.8125, abs=1e-9)
    assert float(o1["z_d2"]) == pytest.approx(0.625, abs=1e-9)
    m5 = next(r for r in rows if r["compound_code"] == "M5" and r["period"] == "2024")
    assert m5["status"] == "coverage_below_threshold" and m5["total"] == ""


def test_xlsx_in_and_out_gives_the_same_numbers(tmp_path):
    src = tmp_path / "values.xlsx"
    wb = Workbook()
    ws = wb.active
    with open(FIXTURES / "hand_values.csv", encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            ws.append([row[0], row[1], int(row[2]), row[3], float(row[4])] if i else row)
    wb.save(src)
    out = tmp_path / "result.xlsx"
    call_command(
        "index_compute", str(src), "--catalogue", str(FIXTURES / "mini_catalogue.csv"),
        "--thresholds", str(FIXTURES / "hand_thresholds.csv"), "--out", str(out),
    )
    sheet = load_workbook(out).worksheets[0]
    header = [c.value for c in sheet[1]]
    got = {(r[0], str(r[2])): r[header.index("total")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    csv_rows = _run(tmp_path)
    for r in csv_rows:
        if r["total"]:
            assert got[r["compound_code"], r["period"]] == pytest.approx(float(r["total"]), abs=1e-12)


def test_bad_spreadsheet_is_refused_with_every_problem_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    shutil.copy(FIXTURES / "hand_values.csv", bad)
    with open(bad, "a", encoding="utf-8") as fh:
        fh.write("O1,old_public,2024,zz9,1\n")  # row 189: unknown indicator
        fh.write("O1,old_public,2024,b1,很多\n")  # row 190: not a number (and repeats row 13)
        fh.write("O1,old_public,2024,a1,3\n")  # row 191: repeats row 10
        fh.write("X1,villa,2024,a1,3\n")  # row 192: unknown compound type
        fh.write("O2,commodity,2024,d2,3\n")  # row 193: two types; derived leaf
    out = tmp_path / "result.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["index", "compute", str(bad), "--catalogue", str(FIXTURES / "mini_catalogue.csv"),
              "--out", str(out)])
    assert exit_.value.code != 0
    err = capsys.readouterr().err
    for expected in [
        "第 189 行：未知指标 'zz9'",
        "第 190 行：数值 '很多' 不是数字",
        "第 191 行：与第 10 行重复",
        "第 192 行：未知小区类型 'villa'",
        "第 193 行：指标 d2 由引擎按本小区往期推算",
        "第 193 行：小区 O2 的类型 commodity 与第",
    ]:
        assert expected in err, expected
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_bad_thresholds_and_catalogue_are_listed_together(tmp_path):
    thr = tmp_path / "thr.csv"
    thr.write_text("compound_type,indicator_code,x_min,x_max\nold_public,a1,5,1\nold_public,qq,0,x\n",
                   encoding="utf-8")
    with pytest.raises(CommandError) as e:
        call_command("index_compute", str(FIXTURES / "hand_values.csv"), "--catalogue",
                     str(FIXTURES / "mini_catalogue.csv"), "--thresholds", str(thr),
                     "--out", str(tmp_path / "r.csv"))
    assert "3 处" in str(e.value)
    assert not (tmp_path / "r.csv").exists()


def test_catalogue_with_a_dimension_outside_the_glossary_is_refused(tmp_path):
    cat = tmp_path / "cat.csv"
    cat.write_text("code,dimension,subindex,polarity\na1,happiness,joy,positive\nb1,community_vitality,x,sideways\n",
                   encoding="utf-8")
    with pytest.raises(CommandError) as e:
        call_command("index_compute", str(FIXTURES / "hand_values.csv"), "--catalogue", str(cat),
                     "--out", str(tmp_path / "r.csv"))
    assert "2 处" in str(e.value)
