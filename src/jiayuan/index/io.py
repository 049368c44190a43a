"""Spreadsheets in and out of the index engine: read, validate every row, write atomically.

VALUES: one row per compound, period and indicator — compound_code, compound_type, period,
indicator_code, value. THR: compound_type, indicator_code, x_min, x_max. CAT: see
``engine.catalogue``. Reading collects every problem (Chinese message, file, row number)
before refusing with :class:`ImportRejected`; nothing is computed or written from a bad file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jiayuan.core import exports, uploads
from jiayuan.core.errors import ImportRejected, UnreadableFile
from jiayuan.core.uploads import Limits

from .engine.catalogue import COMPOUND_TYPES, DIMENSIONS, Catalogue, catalogue_from_rows
from .engine.compute import IndexResult
from .engine.errors import CatalogueInvalid

Problem = dict[str, Any]
Row = dict[str, Any]

VALUE_COLUMNS = ("compound_code", "compound_type", "period", "indicator_code", "value")
THRESHOLD_COLUMNS = ("compound_type", "indicator_code", "x_min", "x_max")
SUFFIXES = (".csv", ".xlsx")


def _problem(sheet: str, row: int | None, column: str | None, message: str) -> Problem:
    prefix = f"第 {row} 行：" if row is not None else ""
    return {"sheet": sheet, "row": row, "column": column, "message": f"{sheet} {prefix}{message}"}


def read_table(path: str | Path, *, limits: Limits | None = None,
               ) -> tuple[str, list[str], list[tuple[int, Row]]]:
    """Rows of a .csv (UTF-8, BOM tolerated, or GB18030) or the first sheet of an .xlsx, with
    row numbers, read through ``core.uploads`` within ``limits`` (default: the web's).

    Row numbers are the spreadsheet's own: the header is row 1. Blank rows are skipped.
    Refuses another suffix or an unreadable file (``ImportRejected``), a file over the limits
    (``FileTooLarge``, ``TooManyRows``: HTTP 413).
    """
    p = Path(path)
    name = p.name
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRejected([_problem(name, None, None, "只支持 .csv 或 .xlsx 文件")])
    limits = limits or Limits()
    budget = uploads.Budget(limits, name)
    try:
        data = uploads.read_file(p, limits)
        if suffix == ".csv":
            budget.add_bytes(len(data))
            raw = uploads.read_csv(data, budget).rows
        else:
            raw = uploads.read_xlsx(data, budget, first_only=True)[0].rows
    except UnreadableFile as exc:
        raise ImportRejected([_problem(name, None, None, exc.message)]) from None
    if not raw:
        raise ImportRejected([_problem(name, None, None, "文件为空")])
    header = [str(h).strip() if h is not None else "" for h in raw[0][1]]
    rows: list[tuple[int, Row]] = []
    for n, r in raw[1:]:
        rows.append((n, {h: (r[i] if i < len(r) else None) for i, h in enumerate(header) if h}))
    return name, header, rows


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        f = float(v)
    else:
        try:
            f = float(_text(v))
        except ValueError:
            return None
    return f if math.isfinite(f) else None


def _missing_columns(name: str, header: Sequence[str], needed: Sequence[str]) -> list[Problem]:
    gone = [c for c in needed if c not in header]
    return [_problem(name, 1, None, f"缺少列：{'、'.join(gone)}")] if gone else []


def read_values(
    path: str | Path, catalogue: Catalogue, *, limits: Limits | None = None
) -> tuple[list[tuple[str, str, str, str, float]], list[Problem]]:
    """Records (compound, type, period, code, value) and every problem found.

    Problems: a missing column, an empty compound code or period, an unknown compound type, an
    unknown indicator, a value for a derived (self-growth) indicator, a non-numeric or empty
    value, a repeated (compound, period, indicator), a compound given two types.
    """
    name, header, rows = read_table(path, limits=limits)
    problems = _missing_columns(name, header, VALUE_COLUMNS)
    if problems:
        return [], problems
    codes = set(catalogue.codes)
    derived = {i.code for i in catalogue.indicators if i.growth_of}
    records: list[tuple[str, str, str, str, float]] = []
    first_seen: dict[tuple[str, str, str], int] = {}
    comp_type: dict[str, tuple[str, int]] = {}
    for n, r in rows:
        comp = _text(r.get("compound_code"))
        typ = _text(r.get("compound_type"))
        per = _text(r.get("period"))
        code = _text(r.get("indicator_code"))
        value = _number(r.get("value"))
        ok = True
        if not comp:
            problems.append(_problem(name, n, "compound_code", "小区代码为空"))
            ok = False
        if not per:
            problems.append(_problem(name, n, "period", "期数为空"))
            ok = False
        if typ not in COMPOUND_TYPES:
            problems.append(
                _problem(name, n, "compound_type",
                         f"未知小区类型 {typ!r}（应为 {'、'.join(COMPOUND_TYPES)} 之一）")
            )
            ok = False
        if code not in codes:
            problems.append(_problem(name, n, "indicator_code", f"未知指标 {code!r}"))
            ok = False
        elif code in derived:
            problems.append(
                _problem(name, n, "indicator_code", f"指标 {code} 由引擎按本小区往期推算，不应填写")
            )
            ok = False
        if value is None:
            shown = _text(r.get("value"))
            problems.append(
                _problem(name, n, "value", f"数值 {shown!r} 不是数字" if shown else "数值为空")
            )
            ok = False
        if comp and per and code:
            key = (comp, per, code)
            if key in first_seen:
                problems.append(
                    _problem(name, n, None, f"与第 {first_seen[key]} 行重复（{comp} {per} {code}）")
                )
                ok = False
            else:
                first_seen[key] = n
        if comp and typ in COMPOUND_TYPES:
            prev = comp_type.setdefault(comp, (typ, n))
            if prev[0] != typ:
                problems.append(
                    _problem(name, n, "compound_type",
                             f"小区 {comp} 的类型 {typ} 与第 {prev[1]} 行的 {prev[0]} 不一致")
                )
                ok = False
        if ok and value is not None:
            records.append((comp, typ, per, code, value))
    if not rows:
        problems.append(_problem(name, None, None, "没有数据行"))
    return records, problems


def read_thresholds(
    path: str | Path, catalogue: Catalogue, *, limits: Limits | None = None
) -> tuple[dict[tuple[str, str], tuple[float, float]], list[Problem]]:
    """Fixed goalposts (type, code) → (x_min, x_max) and every problem found.

    Problems: a missing column, an unknown type or indicator, a non-numeric bound,
    x_min > x_max, a repeated (type, indicator).
    """
    name, header, rows = read_table(path, limits=limits)
    problems = _missing_columns(name, header, THRESHOLD_COLUMNS)
    if problems:
        return {}, problems
    out: dict[tuple[str, str], tuple[float, float]] = {}
    seen: dict[tuple[str, str], int] = {}
    for n, r in rows:
        typ = _text(r.get("compound_type"))
        code = _text(r.get("indicator_code"))
        lo, hi = _number(r.get("x_min")), _number(r.get("x_max"))
        ok = True
        if typ not in COMPOUND_TYPES:
            problems.append(_problem(name, n, "compound_type", f"未知小区类型 {typ!r}"))
            ok = False
        if code not in catalogue.codes:
            problems.append(_problem(name, n, "indicator_code", f"未知指标 {code!r}"))
            ok = False
        for col, v in (("x_min", lo), ("x_max", hi)):
            if v is None:
                problems.append(_problem(name, n, col, f"{col} {_text(r.get(col))!r} 不是数字"))
                ok = False
        if lo is not None and hi is not None and lo > hi:
            problems.append(_problem(name, n, None, f"下限 {lo} 大于上限 {hi}"))
            ok = False
        key = (typ, code)
        if key in seen:
            problems.append(_problem(name, n, None, f"与第 {seen[key]} 行重复（{typ} {code}）"))
            ok = False
        seen.setdefault(key, n)
        if ok and lo is not None and hi is not None:
            out[key] = (lo, hi)
    return out, problems


def read_catalogue_file(path: str | Path, *, limits: Limits | None = None) -> tuple[Catalogue | None, list[Problem]]:
    """A catalogue from CSV/XLSX (dimensions must be the four glossary names), or its problems."""
    name, header, rows = read_table(path, limits=limits)
    problems = _missing_columns(name, header, ("code", "dimension", "subindex", "polarity"))
    if problems:
        return None, problems
    try:
        cat = catalogue_from_rows(
            [{k: _text(v) for k, v in r.items()} for _n, r in rows],
            allowed_dimensions=DIMENSIONS,
            row_numbers=[n for n, _r in rows],
        )
    except CatalogueInvalid as exc:
        return None, [
            {"sheet": name, "row": p.get("row"), "column": None, "message": f"{name} {p['message']}"}
            for p in exc.problems
        ]
    return cat, []


def result_table(result: IndexResult) -> tuple[list[str], list[list[Any]]]:
    """RESULT: one row per compound and period — total (0–100), dimensions (0–25 each),
    sub-indices (points), each leaf's Z (0–1), coverage and status. Unscored rows keep their
    Z and leave the points blank."""
    cat = result.catalogue
    header = [
        "compound_code", "compound_type", "period", "status", "coverage", "total",
        *cat.dimensions, *cat.subindices, *(f"z_{c}" for c in cat.codes),
    ]
    status = {0.0: "scored", 1.0: "coverage_below_threshold", 2.0: "dimension_without_data"}
    s = result.scores
    rows: list[list[Any]] = []

    def val(v: float) -> float | None:
        return None if math.isnan(v) else float(v)

    for c, comp in enumerate(result.panel.compounds):
        for p, per in enumerate(result.panel.periods):
            if _isnan_row(result, c, p):
                continue
            rows.append(
                [
                    comp, result.panel.types[c], per, status[float(s.reason[c, p])],
                    val(float(s.coverage[c, p])), val(float(s.total[c, p])),
                    *(val(float(v)) for v in s.dimension_points[c, p]),
                    *(val(float(v)) for v in s.subindex_points[c, p]),
                    *(val(float(v)) for v in result.z[c, p]),
                ]
            )
    return header, rows


def _isnan_row(result: IndexResult, c: int, p: int) -> bool:
    """True when the compound has no input value at all in that period (no row is written)."""
    return bool(all(math.isnan(float(v)) for v in result.panel.values[c, p]))


def write_table(path: str | Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a .csv (UTF-8 with BOM, for Excel) or .xlsx atomically: a temporary file in the
    same folder, renamed over the target only when complete. Cells go through
    ``core.exports`` (formula-like text neutralised)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRejected([_problem(p.name, None, None, "结果文件只能是 .csv 或 .xlsx")])
    exports.write_table_file(p, header, rows, sheet="index")
