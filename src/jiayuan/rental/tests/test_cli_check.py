"""``jiayuan rental check``: one RESULT row per unit in ROOMS order, CSV and XLSX both ways; a bad
file is refused with its rows and columns named, exit code 2, nothing written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from jiayuan.cli import main

HEADER = ["unit_id", "room_id", "kind", "usable_area_m2", "occupants", "partitioned",
          "support_relation", "x_plus_1_permit", "marks"]

GOOD = [
    # U2 first: RESULT keeps the order in which units first appear, rows need not be contiguous.
    ["U2", "B1", "bedroom", "6", "2", "yes", "no", "no", "fire;seizure"],
    ["U1", "B1", "bedroom", "12", "2", "no", "no", "yes", ""],
    ["U1", "B2", "bedroom", "12", "3", "no", "是", "yes", ""],
    ["U2", "L", "living_room", "10", "1", "no", "no", "no", ""],
    ["U1", "L", "living_room", "14", "1", "yes", "no", "yes", ""],
    ["U2", "K", "kitchen", "4", "1", "no", "no", "no", ""],
    ["U3", "B1", "bedroom", "9", "2", "否", "no", "no", ""],
    ["U4", "B1", "bedroom", "20", "3", "no", "no", "no", ""],
    ["=HYPERLINK(\"x\")", "B1", "卧室", "20", "1", "NO", "no", "no", ""],
]

EXPECTED = [
    ("U2", "no", "area_per_person;non_living_space;not_registrable;partitioned;x_plus_1"),
    ("U1", "yes", ""),
    ("U3", "no", "area_per_person"),
    ("U4", "no", "people_per_room"),
    ("'=HYPERLINK(\"x\")", "yes", ""),
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, *, bom: bool = False) -> Path:
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def run(*args: str) -> None:
    call_command("rental", "check", *args)


@pytest.mark.parametrize("bom", [False, True])
def test_csv_gives_one_row_per_unit_in_rooms_order_with_sorted_codes_and_reasons(tmp_path, bom):
    out = tmp_path / "result.csv"
    run(str(write_csv(tmp_path / "rooms.csv", GOOD, bom=bom)), "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens the Chinese
    rows = read_csv(out)
    assert list(rows[0]) == ["unit_id", "compliant", "rules", "reasons"]
    assert [(r["unit_id"], r["compliant"], r["rules"]) for r in rows] == EXPECTED
    u2 = rows[0]["reasons"].split("；")
    assert len(u2) == 5
    assert u2[2] == "房屋有查封、消防不达标注记，不得登记备案出租"
    assert u2[3].startswith("卧室 B1 被隔断")
    assert rows[3]["reasons"] == "卧室 B1 住 3 人，超过每间 2 人上限，且无法定赡养扶养关系"
    assert rows[1]["reasons"] == ""


def test_xlsx_in_and_xlsx_out_give_the_same_result(tmp_path):
    src = tmp_path / "rooms.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in GOOD:  # numbers as numbers, as Excel stores them
        ws.append([r[0], r[1], r[2], float(r[3]), int(r[4]), *r[5:]])
    ws.cell(row=len(GOOD) + 1, column=1).data_type = "s"  # the formula-looking id as text
    wb.save(src)
    out = tmp_path / "result.xlsx"
    run(str(src), "--out", str(out))
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["unit_id", "compliant", "rules", "reasons"]
    # In .xlsx the formula-looking id is kept exact, as a quote-prefixed text cell
    # (core.exports); in .csv it carries the apostrophe.
    assert [(r[0], r[1], r[2] or "") for r in rows[1:]] == [
        (u.lstrip("'"), c, rules) for u, c, rules in EXPECTED]
    (cell,) = [c for c in next(sheet.iter_cols(min_col=1, max_col=1)) if c.value == GOOD[-1][0]]
    assert cell.data_type == "s" and cell.quotePrefix
    csv_out = tmp_path / "result.csv"
    run(str(src), "--out", str(csv_out))
    assert [r["reasons"] for r in read_csv(csv_out)] == [r[3] or "" for r in rows[1:]]


def test_settings_can_be_overridden(tmp_path):
    out = tmp_path / "result.csv"
    run(str(write_csv(tmp_path / "rooms.csv", GOOD)), "--out", str(out), "--max-per-room", "3",
        "--min-area-per-person", "4")
    got = {r["unit_id"]: r["rules"] for r in read_csv(out)}
    assert got["U4"] == "" and got["U3"] == ""


def test_the_jiayuan_command_line_runs_it(tmp_path, capsys):
    out = tmp_path / "result.csv"
    main(["rental", "check", str(write_csv(tmp_path / "rooms.csv", GOOD)), "--out", str(out)])
    assert len(read_csv(out)) == 5
    assert "已检查 5 套房：2 套合规，3 套不合规" in capsys.readouterr().out


def refused(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, out_name: str = "result.csv") -> None:
    """Run on a bad file through the real command line: exit code 2, nothing written."""
    out = tmp_path / out_name
    with pytest.raises(SystemExit) as exc:
        main(["rental", "check", str(write_csv(tmp_path / "rooms.csv", rows, header)), "--out", str(out)])
    assert exc.value.code == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["rooms.csv"]  # not even a temporary file


def test_a_bad_file_names_every_bad_row_and_column_and_writes_nothing(tmp_path, capsys):
    bad = [
        ["U1", "B1", "attic", "12", "2", "no", "no", "no", ""],          # row 2: kind
        ["U1", "B2", "bedroom", "-3", "1", "no", "no", "no", ""],        # row 3: area
        ["U1", "B3", "bedroom", "ten", "1.5", "maybe", "no", "no", ""],  # row 4: area, occupants, partitioned
        ["U1", "B1", "bedroom", "12", "1", "no", "no", "no", "flood"],   # row 5: duplicate room, marks
        ["U2", "B1", "bedroom", "12", "1", "no", "no", "yes", ""],
        ["U2", "B2", "bedroom", "12", "1", "no", "", "no", ""],          # row 7: support, permit
        ["", "B1", "bedroom", "12", "1", "no", "no", "no", ""],          # row 8: unit_id
    ]
    refused(tmp_path, bad)
    err = capsys.readouterr().err
    for where in ["第 2 行「kind」列", "第 3 行「usable_area_m2」列", "第 4 行「usable_area_m2」列",
                  "第 4 行「occupants」列", "第 4 行「partitioned」列", "第 5 行「room_id」列",
                  "第 5 行「marks」列", "第 7 行「support_relation」列", "第 8 行「unit_id」列"]:
        assert where in err, where
    assert "attic" in err and "与第 2 行重复" in err and "flood" in err


def test_an_inconsistent_permit_within_a_unit_is_refused(tmp_path, capsys):
    bad = [["U2", "B1", "bedroom", "12", "1", "no", "no", "yes", ""],
           ["U2", "B2", "bedroom", "12", "1", "no", "no", "no", ""]]
    refused(tmp_path, bad)
    err = capsys.readouterr().err
    assert "第 3 行「x_plus_1_permit」列" in err and "第 2 行为 yes" in err


def test_missing_columns_are_named(tmp_path, capsys):
    header = [c for c in HEADER if c not in {"occupants", "marks"}]
    refused(tmp_path, [["U1", "B1", "bedroom", "12", "no", "no", "no"]], header)
    assert "缺少列：occupants、marks" in capsys.readouterr().err


def test_a_bad_out_suffix_and_an_empty_file_are_refused(tmp_path, capsys):
    refused(tmp_path, [GOOD[1]], out_name="result.txt")
    assert "只能是 .csv 或 .xlsx" in capsys.readouterr().err
    refused(tmp_path, [])
    assert "没有任何房间行" in capsys.readouterr().err


def test_an_unreadable_workbook_is_refused(tmp_path):
    src = tmp_path / "rooms.xlsx"
    src.write_bytes(b"not a workbook")
    with pytest.raises(CommandError) as exc:
        run(str(src), "--out", str(tmp_path / "result.csv"))
    assert exc.value.returncode == 2
    assert not (tmp_path / "result.csv").exists()


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(CommandError) as exc:
        run(str(write_csv(tmp_path / "rooms.csv", GOOD)), "--out", str(tmp_path / "r.csv"),
            "--max-per-room", "0")
    assert exc.value.returncode == 2 and "每间房居住人数上限" in str(exc.value)
    assert not (tmp_path / "r.csv").exists()


def test_an_existing_result_is_left_alone_when_the_input_is_bad(tmp_path):
    out = tmp_path / "result.csv"
    out.write_text("previous", encoding="utf-8")
    with pytest.raises(CommandError):
        run(str(write_csv(tmp_path / "rooms.csv", [["U1", "B1", "attic", "1", "0", "no", "no", "no", ""]])),
            "--out", str(out))
    assert out.read_text(encoding="utf-8") == "previous"


def test_a_row_with_several_problems_has_each_one_named(tmp_path, capsys):
    bad = [["U1", "B1", "bedroom", "12", "1", "no", "no", "yes", ""],
           ["U1", "B2", "attic", "12", "1", "no", "no", "no", ""]]
    refused(tmp_path, bad)
    err = capsys.readouterr().err
    assert "第 3 行「kind」列" in err and "第 3 行「x_plus_1_permit」列" in err


def test_a_csv_not_in_utf8_is_refused_with_advice(tmp_path, capsys):
    src = tmp_path / "rooms.csv"
    src.write_bytes((",".join(HEADER) + "\nU1,B1,卧室,12,1,否,否,否,\n").encode("gbk"))
    with pytest.raises(CommandError) as exc:
        run(str(src), "--out", str(tmp_path / "result.csv"))
    assert exc.value.returncode == 2
    assert not (tmp_path / "result.csv").exists()
    assert "CSV UTF-8" in capsys.readouterr().err


def test_chinese_kind_names_and_yes_no_are_read(tmp_path):
    out = tmp_path / "result.csv"
    rows = [["U1", "B1", "卧室", "12", "1", "否", "否", "是", ""],
            ["U1", "L", "客厅", "13", "1", "是", "否", "是", ""],
            ["U1", "K", "厨房", "5", "1", "否", "否", "是", "Fire；seizure"]]
    run(str(write_csv(tmp_path / "rooms.csv", rows)), "--out", str(out))
    assert [(r["compliant"], r["rules"]) for r in read_csv(out)] == \
        [("no", "non_living_space;not_registrable")]


def test_xlsx_true_false_cells_and_empty_marks_are_read(tmp_path):
    src = tmp_path / "rooms.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["U1", "B1", "bedroom", 15, 3, False, True, False, None])
    ws.append(["U1", "B2", "bedroom", 12.5, 2.0, True, False, False, None])
    wb.save(src)
    out = tmp_path / "result.csv"
    run(str(src), "--out", str(out))
    assert [(r["unit_id"], r["rules"]) for r in read_csv(out)] == [("U1", "partitioned")]


def test_without_a_sub_command_the_usage_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rental"])
    assert exc.value.code == 2
