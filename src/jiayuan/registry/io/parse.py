"""Validate raw spreadsheet tables into registry records, collecting every problem.

Pure: no Django. ``parse_tables`` reads every sheet, every row and every cell and returns the
records together with *all* the problems it found, each with the sheet, the row number the
user sees in Excel (the header is row 1) and the column header as written in the file, and a
Chinese message. Nothing is written here; the caller refuses the whole file if any problem
is listed.

References to parent rows are checked against the file itself and against ``existing``: the
rows already in the registry, given as kind → key → record (only the reference fields of the
records are read).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict

from jiayuan.registry.geo import (
    CoordinateError,
    geometry_to_wgs84,
    parse_crs,
    parse_polygon,
    to_wgs84,
)
from jiayuan.registry.io.spec import (
    SHEETS,
    SHEETS_BY_KIND,
    Column,
    ColumnType,
    SheetSpec,
    column_for,
    key_of,
    sheet_for,
)

TAG_SEPARATORS = "、,，;；\n"
TRUE_WORDS = frozenset({"是", "有", "true", "yes", "y", "1", "√", "✓"})
FALSE_WORDS = frozenset({"否", "无", "没有", "false", "no", "n", "0", "×"})
EXACT_FLOAT_LIMIT = 2**53
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+\d+$")

Key = tuple[str, ...]
Existing = Mapping[str, Mapping[Key, Mapping[str, Any]]]


class Problem(TypedDict):
    sheet: str
    row: int | None
    column: str | None
    message: str


def problem(sheet: str, row: int | None, column: str | None, message: str) -> Problem:
    return {"sheet": sheet, "row": row, "column": column, "message": message}


def format_problem(p: Mapping[str, Any]) -> str:
    """One problem as a Chinese line: 工作表「小区」第 5 行「户数」列：…"""
    where = f"工作表「{p['sheet']}」"
    if p["row"] is not None:
        where += f"第 {p['row']} 行"
    if p["column"]:
        where += f"「{p['column']}」列"
    return f"{where}：{p['message']}"


@dataclass
class RawSheet:
    """A table as read from a file: its name as the user sees it, and its cells."""

    name: str
    rows: list[tuple[int, list[Any]]]  # (row number as in the file, cell values)
    kind_hint: str | None = None  # what names the kind when not ``name`` (file stem, --sheet)


@dataclass
class ParsedRow:
    row: int
    record: dict[str, Any]


@dataclass
class ParsedSheet:
    spec: SheetSpec
    name: str
    fields: frozenset[str]  # fields the file gives (absent columns leave stored values alone)
    rows: list[ParsedRow] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field → header as in the file


@dataclass
class ParseResult:
    sheets: dict[str, ParsedSheet]
    problems: list[Problem]

    def counts(self) -> dict[str, int]:
        return {kind: len(s.rows) for kind, s in self.sheets.items()}


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is Chinese."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _code_text(value: Any) -> str:
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"编码“{value}”不是有效编码")
        if abs(value) >= EXACT_FLOAT_LIMIT:
            raise CellError("编码被 Excel 存成了数字，长编码已丢失精度；请把该列设为“文本”后重新填写")
    text = _text(value)
    if SCIENTIFIC.match(text):
        raise CellError(f"编码“{text}”被改成了科学计数法；请把该列设为“文本”后重新填写")
    return text


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(f"应为整数，实际为“{_text(value)}”")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(f"应为整数，实际为“{value}”")
    text = _text(value).replace(",", "").replace("，", "")
    try:
        number = float(text)
    except ValueError:
        raise CellError(f"应为整数，实际为“{_text(value)}”") from None
    if not math.isfinite(number) or not number.is_integer():
        raise CellError(f"应为整数，实际为“{_text(value)}”")
    return int(number)


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise CellError(f"应为数字，实际为“{_text(value)}”")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(_text(value).replace(",", "").replace("，", ""))
        except ValueError:
            raise CellError(f"应为数字，实际为“{_text(value)}”") from None
    if not math.isfinite(number):
        raise CellError(f"应为有限数字，实际为“{_text(value)}”")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(f"应填“是”或“否”，实际为“{_text(value)}”")


def _enum(value: Any, choices: Sequence[tuple[str, str]]) -> str:
    text = _text(value)
    for stored, label in choices:
        if text == label or text.lower() == stored:
            return stored
    allowed = "、".join(label for _, label in choices)
    raise CellError(f"“{text}”不是可用的类型，可用：{allowed}")


def split_tags(value: Any) -> list[str]:
    """Tags from one cell: separated by 、 , ; (full- or half-width); duplicates dropped."""
    text = _text(value)
    for sep in TAG_SEPARATORS[1:]:
        text = text.replace(sep, TAG_SEPARATORS[0])
    tags: list[str] = []
    for part in text.split(TAG_SEPARATORS[0]):
        tag = part.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _boundary(value: Any, crs: str) -> dict[str, Any]:
    text = _text(value)
    try:
        geometry = json.loads(text)
    except ValueError:
        raise CellError("边界不是有效的 GeoJSON 文本") from None
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise CellError("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon")
    try:
        converted = geometry_to_wgs84(geometry, crs)
    except CoordinateError as exc:
        raise CellError(str(exc)) from None
    # Through JSON so tuples become lists: the form the database gives back.
    result: dict[str, Any] = json.loads(json.dumps(converted))
    return result


def same_value(a: Any, b: Any) -> bool:
    """Equal as stored values; floats within 1e-14 relative, since Excel keeps 15–16 digits."""
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-14)
    if isinstance(b, float) and isinstance(a, int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-14)
    return bool(a == b)


def representative_point(boundary: Mapping[str, Any]) -> tuple[float, float]:
    """A point surely inside the boundary, for rows that give a boundary but no 经度/纬度."""
    point = parse_polygon(boundary).representative_point()
    return float(point.x), float(point.y)


def _convert(col: Column, value: Any) -> Any:
    t = col.type
    if t is ColumnType.CODE:
        out: Any = _code_text(value)
    elif t in (ColumnType.TEXT, ColumnType.REF):
        out = _code_text(value) if t is ColumnType.REF else _text(value)
    elif t is ColumnType.INT:
        out = _int(value)
    elif t is ColumnType.FLOAT:
        out = _float(value)
    elif t is ColumnType.BOOL:
        out = _bool(value)
    elif t is ColumnType.ENUM:
        out = _enum(value, col.choices)
    elif t is ColumnType.TAGS:
        out = split_tags(value)
    else:  # pragma: no cover - geo columns are handled by the caller
        raise AssertionError(t)
    if isinstance(out, str) and col.max_length is not None and len(out) > col.max_length:
        raise CellError(f"长度 {len(out)} 超过上限 {col.max_length} 个字符")
    if isinstance(out, int | float) and not isinstance(out, bool):
        if col.min_value is not None and out < col.min_value:
            raise CellError(f"{_num(out)} 小于下限 {_num(col.min_value)}")
        if col.max_value is not None and out > col.max_value:
            raise CellError(f"{_num(out)} 超过上限 {_num(col.max_value)}")
    return out


def _converter(col: Column) -> Any:
    """A function reading one non-blank cell of this column; plain text takes a fast path."""
    if col.type is ColumnType.TEXT:
        limit = col.max_length

        def text(value: Any) -> str:
            out = value.strip() if type(value) is str else _text(value)
            if limit is not None and len(out) > limit:
                raise CellError(f"长度 {len(out)} 超过上限 {limit} 个字符")
            return out

        return text
    return lambda value: _convert(col, value)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _SheetReader:
    """Reads one raw sheet against its spec, appending problems to a shared list."""

    def __init__(self, raw: RawSheet, spec: SheetSpec, default_crs: str,
                 problems: list[Problem]) -> None:
        self.raw = raw
        self.spec = spec
        self.default_crs = default_crs
        self.problems = problems
        self.columns: dict[int, Column] = {}
        self.headers: dict[str, str] = {}

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(problem(self.raw.name, row, column, message))

    def read(self) -> ParsedSheet:
        header_row, header_cells = self.raw.rows[0]
        data_rows = self.raw.rows[1:]
        self._read_headers(header_row, header_cells, data_rows)
        fields = frozenset(c.field for c in self.columns.values()
                           if c.type not in (ColumnType.IGNORED, ColumnType.CRS))
        if "boundary" in fields and "lng" not in fields:
            fields = fields | {"lng", "lat"}  # a representative point is derived from it
        sheet = ParsedSheet(self.spec, self.raw.name, fields, headers=self.headers)
        seen: dict[Key, int] = {}
        for row_number, cells in data_rows:
            if all(_blank(v) for v in cells):
                continue
            record = self._read_row(row_number, cells)
            if record is None:
                continue
            key = key_of(self.spec, record)
            if all(key):
                if key in seen:
                    self._duplicate(row_number, key, seen[key])
                    continue
                seen[key] = row_number
            sheet.rows.append(ParsedRow(row_number, record))
        return sheet

    def _duplicate(self, row_number: int, key: Key, first: int) -> None:
        cols = [self.headers.get(f, self.spec.column(f).header) for f in self.spec.key]
        shown = "、".join(key)
        self.add(row_number, "+".join(cols), f"“{shown}”与第 {first} 行重复")

    def _read_headers(self, header_row: int, cells: list[Any],
                      data_rows: list[tuple[int, list[Any]]]) -> None:
        by_field: dict[str, str] = {}
        for index, cell in enumerate(cells):
            if _blank(cell):
                if any(index < len(r) and not _blank(r[index]) for _, r in data_rows):
                    self.add(header_row, f"第 {index + 1} 列", "该列有数据但没有表头")
                continue
            header = _text(cell)
            col = column_for(self.spec, header)
            if col is None:
                allowed = "、".join(c.header for c in self.spec.columns)
                self.add(header_row, header, f"未知列「{header}」，本表可用的列：{allowed}")
                continue
            if col.field in by_field:
                self.add(header_row, header, f"与「{by_field[col.field]}」是同一列，重复了")
                continue
            by_field[col.field] = header
            self.columns[index] = col
        self.headers = by_field
        for col in self.spec.required:
            if col.field not in by_field:
                self.add(header_row, col.header, f"缺少必填列「{col.header}」")
        if ("lng" in by_field) != ("lat" in by_field):
            missing = "纬度" if "lng" in by_field else "经度"
            self.add(header_row, missing, "经度和纬度两列须同时提供")

    def _plan(self) -> None:
        """Split the columns once: (index, field, header, required, default, convert) for
        plain cells, (index, field) for the coordinate cells read together per row."""
        self.plain: list[tuple[int, str, str, bool, Any, Any]] = []
        self.geo_cells: list[tuple[int, str]] = []
        geo_types = (ColumnType.LNG, ColumnType.LAT, ColumnType.BOUNDARY, ColumnType.CRS)
        for index, col in self.columns.items():
            if col.type is ColumnType.IGNORED:
                continue
            if col.type in geo_types:
                self.geo_cells.append((index, col.field))
                continue
            self.plain.append((index, col.field, self.headers[col.field], col.required,
                               col.default, _converter(col)))

    def _read_row(self, row_number: int, cells: list[Any]) -> dict[str, Any] | None:
        if not hasattr(self, "plain"):
            self._plan()
        record: dict[str, Any] = {}
        ok = True
        width = len(cells)
        for index, name, header, required, default, convert in self.plain:
            value = cells[index] if index < width else None
            if value is None or (type(value) is str and not value.strip()):
                if required:
                    self.add(row_number, header, f"「{header}」不能为空")
                    ok = False
                else:
                    record[name] = list(default) if isinstance(default, list) else default
                continue
            try:
                record[name] = convert(value)
            except CellError as exc:
                self.add(row_number, header, str(exc))
                ok = False
        if self.geo_cells:
            geo = {}
            for index, name in self.geo_cells:
                value = cells[index] if index < width else None
                geo[name] = None if _blank(value) else value
            if not self._read_geo(row_number, geo, record):
                ok = False
        return record if ok else None

    def _read_geo(self, row_number: int, geo: dict[str, Any], record: dict[str, Any]) -> bool:
        if not geo:
            return True
        crs = self.default_crs
        if geo.get("crs") is not None:
            try:
                crs = parse_crs(_text(geo["crs"])).value
            except CoordinateError as exc:
                self.add(row_number, self.headers["crs"], str(exc))
                return False
        ok = True
        if "lng" in self.headers and "lat" in self.headers:
            lng, lat = geo.get("lng"), geo.get("lat")
            if lng is None and lat is None:
                record["lng"] = record["lat"] = None
            elif lng is None or lat is None:
                empty = "lng" if lng is None else "lat"
                self.add(row_number, self.headers[empty], "经度和纬度须同时填写或同时留空")
                ok = False
            else:
                try:
                    record["lng"], record["lat"] = to_wgs84(_float_or_raw(lng),
                                                             _float_or_raw(lat), crs)
                except CoordinateError as exc:
                    column = "lat" if str(exc).startswith("纬度") else "lng"
                    self.add(row_number, self.headers[column], str(exc))
                    ok = False
        if "boundary" in self.headers:
            value = geo.get("boundary")
            if value is None:
                record["boundary"] = None
            else:
                try:
                    record["boundary"] = _boundary(value, crs)
                except CellError as exc:
                    self.add(row_number, self.headers["boundary"], str(exc))
                    ok = False
        if ok and record.get("boundary") and "lng" not in self.headers:
            record["lng"], record["lat"] = representative_point(record["boundary"])
        return ok


def _float_or_raw(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


HEADER_SEARCH_ROWS = 10


def header_index(spec: SheetSpec, rows: Sequence[tuple[int, list[Any]]]) -> int:
    """Which of the first non-blank rows is the header: the first naming two or more known
    columns (title or note rows above it are skipped); the first row if none does."""
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        known = sum(1 for c in cells if not _blank(c) and column_for(spec, _text(c)) is not None)
        if known >= 2:
            return i
    return 0


def parse_tables(
    raw_sheets: Iterable[RawSheet], *, default_crs: str | None = None,
    existing: Existing | None = None,
) -> ParseResult:
    """Validate every sheet, row and cell; check references, one-to-one parents, agreement.

    Refuses nothing by raising: every problem lands in ``ParseResult.problems``. A bad
    ``default_crs`` is reported once, for the whole file.
    """
    problems: list[Problem] = []
    existing = existing or {}
    try:
        crs = parse_crs(default_crs).value
    except CoordinateError as exc:
        problems.append(problem("（文件）", None, "坐标系", str(exc)))
        crs = "wgs84"
    sheets: dict[str, ParsedSheet] = {}
    for raw in raw_sheets:
        rows = [(n, cells) for n, cells in raw.rows if not all(_blank(v) for v in cells)]
        spec = sheet_for(raw.kind_hint or raw.name)
        if spec is None:
            if rows:
                allowed = "、".join(f"{s.title}（{s.kind}）" for s in SHEETS)
                problems.append(problem(raw.name, None, None,
                                        f"未知工作表「{raw.name}」，可用：{allowed}"))
            continue
        if not rows:
            continue
        if spec.kind in sheets:
            problems.append(problem(raw.name, None, None,
                                    f"与工作表「{sheets[spec.kind].name}」是同一类数据，重复了"))
            continue
        rows = rows[header_index(spec, rows):]
        reader = _SheetReader(RawSheet(raw.name, rows, raw.kind_hint), spec, crs, problems)
        sheets[spec.kind] = reader.read()
    indexes: Indexes = {
        kind: {key_of(s.spec, r.record): r.record for r in s.rows} for kind, s in sheets.items()
    }
    _check_references(sheets, indexes, existing, problems)
    _check_unique(sheets, existing, problems)
    _check_agreement(sheets, indexes, existing, problems)
    problems.sort(key=_problem_order(sheets))
    return ParseResult(sheets, problems)


def _problem_order(sheets: Mapping[str, ParsedSheet]) -> Any:
    order = {s.name: i for i, s in enumerate(sorted(
        sheets.values(), key=lambda s: list(SHEETS_BY_KIND).index(s.spec.kind)))}

    def key(p: Problem) -> tuple[int, int, int]:
        return (order.get(p["sheet"], -1), p["row"] or 0, 0)

    return key


Indexes = dict[str, dict[Key, dict[str, Any]]]


def _lookup(kind: str, code: str, indexes: Indexes,
            existing: Existing) -> Mapping[str, Any] | None:
    found = indexes.get(kind, {}).get((code,))
    if found is not None:
        return found
    return existing.get(kind, {}).get((code,))


def _check_references(sheets: Mapping[str, ParsedSheet], indexes: Indexes,
                      existing: Existing, problems: list[Problem]) -> None:
    for sheet in sheets.values():
        refs = [c for c in sheet.spec.refs if c.field in sheet.fields]
        if not refs:
            continue
        for col in refs:
            assert col.ref is not None
            target = SHEETS_BY_KIND[col.ref]
            in_file = indexes.get(col.ref, {})
            in_db = existing.get(col.ref, {})
            bad: list[ParsedRow] = []
            for row in sheet.rows:
                code = row.record.get(col.field)
                if code and (code,) not in in_file and (code,) not in in_db:
                    bad.append(row)
            for row in bad:
                problems.append(problem(
                    sheet.name, row.row, sheet.headers[col.field],
                    f"{target.title}编码“{row.record[col.field]}”在文件和系统中都不存在"))
            if bad:
                dropped = {id(r) for r in bad}
                sheet.rows = [r for r in sheet.rows if id(r) not in dropped]


def _check_unique(sheets: Mapping[str, ParsedSheet], existing: Existing,
                  problems: list[Problem]) -> None:
    for sheet in sheets.values():
        for col in sheet.spec.columns:
            if not col.unique or col.field not in sheet.fields:
                continue
            in_file: dict[str, tuple[Key, int]] = {}
            for row in sheet.rows:
                value = row.record.get(col.field)
                if not value:
                    continue
                key = key_of(sheet.spec, row.record)
                if value in in_file:
                    problems.append(problem(
                        sheet.name, row.row, sheet.headers[col.field],
                        f"“{value}”已被第 {in_file[value][1]} 行使用，每个只能有一个"))
                    continue
                in_file[value] = (key, row.row)
            file_keys = {key_of(sheet.spec, r.record) for r in sheet.rows}
            for key, record in existing.get(sheet.spec.kind, {}).items():
                value = record.get(col.field)
                if not value or value not in in_file or key in file_keys:
                    continue  # a stored row the file moves elsewhere frees its value
                if in_file[value][0] != key:
                    problems.append(problem(
                        sheet.name, in_file[value][1], sheet.headers[col.field],
                        f"“{value}”已属于系统中的“{'、'.join(key)}”，每个只能有一个"))


def _check_agreement(sheets: Mapping[str, ParsedSheet], indexes: Indexes,
                     existing: Existing, problems: list[Problem]) -> None:
    for sheet in sheets.values():
        for ref_field, their_field, our_field in sheet.spec.agree:
            if ref_field not in sheet.fields:
                continue
            ref_kind = sheet.spec.column(ref_field).ref
            our_kind = sheet.spec.column(our_field).ref
            assert ref_kind is not None and our_kind is not None
            for row in sheet.rows:
                code = row.record.get(ref_field)
                ours = row.record.get(our_field)
                if not code or not ours:
                    continue
                parent = _lookup(ref_kind, code, indexes, existing)
                theirs = parent.get(their_field) if parent else None
                if theirs and theirs != ours:
                    problems.append(problem(
                        sheet.name, row.row, sheet.headers[ref_field],
                        f"{SHEETS_BY_KIND[ref_kind].title}“{code}”属于"
                        f"{SHEETS_BY_KIND[our_kind].title}“{theirs}”，"
                        f"与本行的“{ours}”不一致"))
