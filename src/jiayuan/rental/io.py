"""Inspectors' spreadsheets in and out of the rental rules engine.

ROOMS (.csv in UTF-8 with or without BOM, or the first sheet of an .xlsx): one row per room —
``unit_id, room_id, kind, usable_area_m2, occupants, partitioned, support_relation,
x_plus_1_permit, marks``. :func:`read_rooms` checks every cell and returns every problem (row
number as the spreadsheet shows it, the header being row 1; column name; Chinese message);
a file with any problem gives no units. RESULT (:func:`write_result`): one row per unit, in the
order units first appear in ROOMS — ``unit_id, compliant, rules, reasons``; .csv in UTF-8 with
BOM (Excel opens the Chinese) or .xlsx, written atomically through ``core.exports``
(formula-looking text neutralised: an apostrophe in .csv, a quote-prefixed text cell in .xlsx).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jiayuan.core import exports, uploads
from jiayuan.core.errors import DomainError
from jiayuan.core.uploads import CLI_DEFAULTS, Limits

from .engine import KIND_LABELS, Mark, Room, RoomKind, Unit, UnitResult

COLUMNS = ("unit_id", "room_id", "kind", "usable_area_m2", "occupants", "partitioned",
           "support_relation", "x_plus_1_permit", "marks")
RESULT_COLUMNS = ("unit_id", "compliant", "rules", "reasons")
SUFFIXES = (".csv", ".xlsx")

_YES = {"yes", "y", "是"}
_NO = {"no", "n", "否"}
_KINDS: dict[str, RoomKind] = {k.value: k for k in RoomKind} | {v: k for k, v in KIND_LABELS.items()}
_MARKS: dict[str, Mark] = {m.value: m for m in Mark}
_MARK_SPLIT = re.compile(r"[;；]")


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad cell (or file): ``row`` None for the file, 1 for the header."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "".join([f"第 {self.row} 行" if self.row is not None else "",
                         f"「{self.column}」列" if self.column else ""])
        return f"{where}：{self.message}" if where else self.message


class RoomsRejected(Exception):
    """The ROOMS file (or the RESULT path) is bad; ``problems`` lists every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"文件有 {len(self.problems)} 处错误，未写入任何结果")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _raw_rows(path: Path, limits: Limits) -> list[tuple[int, list[Any]]]:
    """The non-blank rows of ROOMS with their spreadsheet row numbers, read through
    ``core.uploads`` within ``limits`` (size, decompressed size, rows)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RoomsRejected([Problem(None, None, f"{path.name}：只支持 .csv 或 .xlsx 文件")])
    budget = uploads.Budget(limits, path.name)
    try:
        data = uploads.read_file(path, limits)
        if suffix == ".csv":
            budget.add_bytes(len(data))
            return uploads.read_csv(data, budget, encodings=("utf-8-sig",)).rows
        return uploads.read_xlsx(data, budget, first_only=True)[0].rows
    except DomainError as exc:  # unreadable, or over a limit: a problem of the file
        raise RoomsRejected([Problem(None, None, f"{path.name}：{exc.message}")]) from None


_YES_NO: dict[str, bool] = {"yes": True, "y": True, "是": True, "true": True,
                            "no": False, "n": False, "否": False, "false": False}


def _yes_no(text: str, row: int, column: str, problems: list[Problem]) -> bool:
    value = _YES_NO.get(text.lower())
    if value is None:
        problems.append(Problem(row, column, f"应为 yes 或 no（是/否），而不是「{text}」"))
        return False
    return value


def _area(text: str, row: int, problems: list[Problem]) -> float:
    try:
        f = float(text)
    except ValueError:
        problems.append(Problem(row, "usable_area_m2", f"使用面积应为数值（平方米），而不是「{text}」"))
        return 0.0
    if not math.isfinite(f) or f < 0:
        problems.append(Problem(row, "usable_area_m2", f"使用面积不能为负数或无穷，而是「{text}」"))
        return 0.0
    return f


def _occupants(text: str, row: int, problems: list[Problem]) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        f = float(text)
    except ValueError:
        f = math.nan
    if not math.isfinite(f) or not f.is_integer() or f < 0:
        problems.append(Problem(row, "occupants", f"居住人数应为不小于 0 的整数，而不是「{text}」"))
        return 0
    return int(f)


def read_rooms(path: str | Path, *,
               limits: Limits = CLI_DEFAULTS) -> tuple[list[Unit], list[Problem]]:
    """The units of a ROOMS file, in the order they first appear, and every problem found.

    If any problem is returned, the units list is empty: nothing is checked from a bad file.
    The file is read within ``limits`` (``core.uploads``; the command passes its settings).
    """
    p = Path(path)
    try:
        raw = _raw_rows(p, limits)
    except RoomsRejected as exc:
        return [], exc.problems
    if not raw:
        return [], [Problem(None, None, f"{p.name}：文件为空，缺少表头")]
    header = [_cell(h).lstrip("\ufeff").strip().lower() for h in raw[0][1]]
    problems: list[Problem] = []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        problems.append(Problem(1, "、".join(missing), f"缺少列：{'、'.join(missing)}"))
    dup_cols = sorted({h for h in header if h and header.count(h) > 1})
    if dup_cols:
        problems.append(Problem(1, "、".join(dup_cols), f"列重复：{'、'.join(dup_cols)}"))
    if problems:
        return [], problems
    width = len(header)
    i_unit, i_room, i_kind, i_area, i_occ, i_part, i_supp, i_permit, i_marks = (
        header.index(c) for c in COLUMNS)

    order: list[str] = []
    rooms: dict[str, list[Room]] = {}
    permits: dict[str, tuple[bool, int]] = {}
    marks: dict[str, set[Mark]] = {}
    seen: dict[tuple[str, str], int] = {}
    yes_no = _YES_NO.get
    kinds = _KINDS.get
    for n, r in raw[1:]:
        # every cell as stripped text; numbers from a workbook as Python writes them
        cells = [v.strip() if v.__class__ is str else _cell(v) for v in r]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        if not any(cells):
            continue
        before = len(problems)
        unit_id, room_id = cells[i_unit], cells[i_room]
        if not unit_id:
            problems.append(Problem(n, "unit_id", "套房编号不能为空"))
        if not room_id:
            problems.append(Problem(n, "room_id", "房间编号不能为空"))
        if unit_id and room_id:
            first = seen.setdefault((unit_id, room_id), n)
            if first != n:
                problems.append(Problem(n, "room_id", f"套房 {unit_id} 的房间 {room_id} 与第 {first} 行重复"))
        kind_text = cells[i_kind]
        kind = kinds(kind_text) or kinds(kind_text.lower())
        if kind is None:
            problems.append(Problem(n, "kind", f"未知的房间类型「{kind_text}」，应为 "
                                               f"{'、'.join(k.value for k in RoomKind)} 之一"))
        area = _area(cells[i_area], n, problems)
        text = cells[i_occ]
        occupants = int(text) if text.isdigit() and text.isascii() else _occupants(text, n, problems)
        partitioned = yes_no(cells[i_part].lower())
        if partitioned is None:
            partitioned = _yes_no(cells[i_part], n, "partitioned", problems)
        support = yes_no(cells[i_supp].lower())
        if support is None:
            support = _yes_no(cells[i_supp], n, "support_relation", problems)
        permit = yes_no(cells[i_permit].lower())
        permit_ok = permit is not None
        if permit is None:
            permit = _yes_no(cells[i_permit], n, "x_plus_1_permit", problems)
        row_marks: set[Mark] | None = None
        if cells[i_marks]:
            row_marks = set()
            for token in _MARK_SPLIT.split(cells[i_marks]):
                token = token.strip()
                if not token:
                    continue
                mark = _MARKS.get(token.lower())
                if mark is None:
                    problems.append(Problem(n, "marks", f"未知的注记「{token}」，应为空或 "
                                                        f"{'、'.join(m.value for m in Mark)}，用 ; 分隔"))
                else:
                    row_marks.add(mark)
        if unit_id and permit_ok:
            known = permits.get(unit_id)
            if known is None:  # the unit's first row with a permit value
                order.append(unit_id)
                permits[unit_id] = (permit, n)
                rooms[unit_id] = []
                marks[unit_id] = set()
            elif known[0] != permit:
                problems.append(Problem(n, "x_plus_1_permit",
                                        f"同一套房 {unit_id} 的 X+1 许可前后不一致"
                                        f"（第 {known[1]} 行为 {'yes' if known[0] else 'no'}）"))
        if len(problems) > before or kind is None:
            continue
        rooms[unit_id].append(Room(room_id, kind, area, occupants, partitioned, support))
        if row_marks:
            marks[unit_id] |= row_marks
    if not problems and not order:
        problems.append(Problem(None, None, f"{p.name}：没有任何房间行"))
    if problems:
        return [], problems
    units = [Unit(u, tuple(rooms[u]), permits[u][0], frozenset(marks[u])) for u in order]
    return units, []


def result_rows(results: Sequence[UnitResult]) -> list[list[str]]:
    """RESULT rows: ``unit_id, compliant (yes/no), rules (;-joined codes), reasons (；-joined)``.
    Written through ``core.exports``, which neutralises formula-looking text."""
    return [[r.unit_id, "yes" if r.compliant else "no",
             ";".join(rule.value for rule in r.rules), "；".join(r.reasons)]
            for r in results]


def check_out_path(path: str | Path) -> list[Problem]:
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        return [Problem(None, "--out", f"结果文件 {p.name} 只能是 .csv 或 .xlsx")]
    if not p.parent.is_dir():
        return [Problem(None, "--out", f"结果文件所在文件夹 {p.parent} 不存在")]
    return []


def write_result(path: str | Path, results: Sequence[UnitResult]) -> int:
    """Write RESULT atomically (a temporary file renamed over the target when complete);
    returns the number of rows written."""
    p = Path(path)
    bad = check_out_path(p)
    if bad:
        raise RoomsRejected(bad)
    rows = result_rows(results)
    exports.write_table_file(p, RESULT_COLUMNS, rows, sheet="result")
    return len(rows)
