"""Spreadsheet files in and out: .xlsx (openpyxl), a single .csv, a folder or .zip of .csv.

Pure: no Django. Reading gives ``RawSheet`` tables for ``parse.parse_tables`` plus the SHA-256
of what was read; writing takes records and lays them out under the Chinese headers of
``spec``. CSV is written as UTF-8 with a byte-order mark, so Excel opens the Chinese
correctly; on reading, CSV that is not UTF-8 is taken as GB18030 (what Excel saves in China).
Reading is bounded by ``core.uploads.Limits``; every cell written goes through
``core.exports`` (formula-like text neutralised) and is restored on reading, so an export
imports again unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from jiayuan.core import exports, uploads
from jiayuan.core.errors import UnreadableFile
from jiayuan.core.exports import restore
from jiayuan.core.uploads import Limits
from jiayuan.registry.io.parse import RawSheet
from jiayuan.registry.io.spec import SHEETS_BY_KIND, ColumnType, SheetSpec, label_of, sheet_for

XLSX_CELL_LIMIT = 32767
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class SourceError(ValueError):
    """A file that cannot be read or written as a registry spreadsheet; the message is Chinese."""


# --- reading ---------------------------------------------------------------------------------
# Every file goes through ``core.uploads`` (size, decompressed size, members, rows) with the
# limits the caller gives: the web's for an upload, the command's (higher) for ``registry
# import``. CSV cells are ``core.exports.restore``-d, so our own exports import unchanged
# (an .xlsx export keeps the exact text: nothing to undo).

def read_path(path: Path, *, sheet: str | None = None,
              limits: Limits | None = None) -> tuple[list[RawSheet], str]:
    """Tables and SHA-256 of an .xlsx, a .csv, a .zip of .csv, or a folder of .csv files.

    ``sheet`` names the kind of a single CSV whose file name does not; for a workbook or a
    folder it keeps only that sheet. Refuses missing files and other formats (``SourceError``)
    and files over ``limits`` (``FileTooLarge``, ``TooManyRows``; the folder counts as one file).
    """
    limits = limits or Limits()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not files:
            raise SourceError(f"文件夹“{path.name}”里没有 .csv 文件")
        if len(files) > limits.max_members:
            raise SourceError(f"文件夹“{path.name}”里的 .csv 文件超过 {limits.max_members} 个")
        digest = hashlib.sha256()
        budget = uploads.Budget(limits, path.name)
        sheets: list[RawSheet] = []
        for f in files:
            data = _guard(partial(uploads.read_file, f, limits))
            budget.add_bytes(len(data))
            digest.update(f.name.encode() + b"\0" + data + b"\0")
            sheets.append(_read_csv(f.name, data, None, budget))
        return _only(sheets, sheet), digest.hexdigest()
    if not path.is_file():
        raise SourceError(f"找不到文件“{path}”")
    return read_bytes(path.name, _guard(lambda: uploads.read_file(path, limits)), sheet=sheet,
                      limits=limits)


def read_bytes(name: str, data: bytes, *, sheet: str | None = None,
               limits: Limits | None = None) -> tuple[list[RawSheet], str]:
    """Tables and SHA-256 of an uploaded file, recognised by its name's suffix."""
    limits = limits or Limits()
    uploads.check_size(name, len(data), limits)
    digest = hashlib.sha256(data).hexdigest()
    suffix = PurePosixPath(name).suffix.lower()
    budget = uploads.Budget(limits, name)
    if suffix in XLSX_SUFFIXES:
        return _only(_read_xlsx(data, budget), sheet), digest
    if suffix == ".csv":
        budget.add_bytes(len(data))
        return [_read_csv(name, data, sheet, budget)], digest
    if suffix == ".zip":
        return _only(_read_zip(data, budget), sheet), digest
    raise SourceError(f"不支持的文件类型“{suffix or name}”，请使用 .xlsx、.csv 或 .zip")


def _guard(read: Callable[[], Any]) -> Any:
    """Run a ``core.uploads`` read; a file it cannot read becomes a ``SourceError`` (the
    importers list it as a problem of the file), while size and row limits pass through."""
    try:
        return read()
    except UnreadableFile as exc:
        raise SourceError(exc.message) from None


def _only(sheets: list[RawSheet], sheet: str | None) -> list[RawSheet]:
    if sheet is None:
        return sheets
    wanted = sheet_for(sheet)
    if wanted is None:
        raise SourceError(f"未知工作表类型“{sheet}”")
    kept = [s for s in sheets if sheet_for(s.kind_hint or s.name) is wanted]
    if not kept:
        raise SourceError(f"文件里没有「{wanted.title}」工作表")
    return kept


def _read_xlsx(data: bytes, budget: uploads.Budget) -> list[RawSheet]:
    sheets = _guard(lambda: uploads.read_xlsx(data, budget))
    return [RawSheet(s.title, s.rows) for s in sheets]


def _read_csv(name: str, data: bytes, sheet: str | None, budget: uploads.Budget) -> RawSheet:
    table = _guard(lambda: uploads.read_csv(data, budget, name=name, cell=restore))
    return RawSheet(name, table.rows, kind_hint=sheet or PurePosixPath(name).stem)


def _read_zip(data: bytes, budget: uploads.Budget) -> list[RawSheet]:
    members = _guard(lambda: uploads.zip_members(
        data, budget, keep=lambda n: n.lower().endswith(".csv") and not n.startswith("__MACOSX/")))
    if not members:
        raise SourceError(".zip 文件里没有 .csv 文件")
    return [_read_csv(PurePosixPath(n).name, member, None, budget) for n, member in members]


# --- writing ---------------------------------------------------------------------------------

def export_columns(spec: SheetSpec) -> list[str]:
    return [c.field for c in spec.columns if c.exported]


def headers(spec: SheetSpec) -> list[str]:
    return [spec.column(f).header for f in export_columns(spec)]


def cell_value(spec: SheetSpec, field: str, value: Any) -> Any:
    """A record value as a cell: Chinese labels, 是/否, tags joined by 、, GeoJSON as text."""
    col = spec.column(field)
    if value is None:
        return None
    if col.type is ColumnType.ENUM:
        return label_of(col.choices, value)
    if col.type is ColumnType.BOOL:
        return "是" if value else "否"
    if col.type is ColumnType.TAGS:
        return "、".join(value)
    if col.type is ColumnType.BOUNDARY:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def table(spec: SheetSpec, records: Iterable[Mapping[str, Any]]) -> Iterable[list[Any]]:
    fields = export_columns(spec)
    for record in records:
        yield [cell_value(spec, f, record.get(f)) for f in fields]


def write_xlsx(target: Path | io.BytesIO,
               sheets: Sequence[tuple[str, Iterable[Mapping[str, Any]]]]) -> None:
    """One worksheet per kind (Chinese title, Chinese headers). Refuses cells Excel cannot hold."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for kind, records in sheets:
        spec = SHEETS_BY_KIND[kind]
        ws = wb.create_sheet(spec.title)
        exports.append_row(ws, headers(spec))
        for row_number, cells in enumerate(table(spec, records), start=2):
            for value in cells:
                if isinstance(value, str) and len(value) > XLSX_CELL_LIMIT:
                    raise SourceError(
                        f"「{spec.title}」第 {row_number} 行有超过 {XLSX_CELL_LIMIT} 个字符的"
                        "单元格（多为边界），Excel 放不下；请导出为 CSV 文件夹")
            exports.append_row(ws, cells)
    wb.save(target)


def csv_bytes(kind: str, records: Iterable[Mapping[str, Any]]) -> bytes:
    spec = SHEETS_BY_KIND[kind]
    return exports.csv_bytes(headers(spec), table(spec, records))


def csv_file_name(kind: str) -> str:
    return f"{SHEETS_BY_KIND[kind].title}.csv"


def write_csv_dir(folder: Path, sheets: Sequence[tuple[str, Iterable[Mapping[str, Any]]]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, records in sheets:
        (folder / csv_file_name(kind)).write_bytes(csv_bytes(kind, records))


def write_csv_zip(target: Path | io.BytesIO,
                  sheets: Sequence[tuple[str, Iterable[Mapping[str, Any]]]]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind, records in sheets:
            archive.writestr(csv_file_name(kind), csv_bytes(kind, records))
