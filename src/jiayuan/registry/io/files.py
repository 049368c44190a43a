"""Spreadsheet files in and out: .xlsx (openpyxl), a single .csv, a folder or .zip of .csv.

Pure: no Django. Reading gives ``RawSheet`` tables for ``parse.parse_tables`` plus the SHA-256
of what was read; writing takes records and lays them out under the Chinese headers of
``spec``. CSV is written as UTF-8 with a byte-order mark, so Excel opens the Chinese
correctly; on reading, CSV that is not UTF-8 is taken as GB18030 (what Excel saves in China).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from jiayuan.registry.io.parse import RawSheet
from jiayuan.registry.io.spec import SHEETS_BY_KIND, ColumnType, SheetSpec, label_of, sheet_for

XLSX_CELL_LIMIT = 32767
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class SourceError(ValueError):
    """A file that cannot be read or written as a registry spreadsheet; the message is Chinese."""


# --- reading ---------------------------------------------------------------------------------

def read_path(path: Path, *, sheet: str | None = None) -> tuple[list[RawSheet], str]:
    """Tables and SHA-256 of an .xlsx, a .csv, a .zip of .csv, or a folder of .csv files.

    ``sheet`` names the kind of a single CSV whose file name does not; for a workbook or a
    folder it keeps only that sheet. Refuses missing files and other formats.
    """
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not files:
            raise SourceError(f"文件夹“{path.name}”里没有 .csv 文件")
        digest = hashlib.sha256()
        sheets: list[RawSheet] = []
        for f in files:
            data = f.read_bytes()
            digest.update(f.name.encode() + b"\0" + data + b"\0")
            sheets.append(_read_csv(f.name, data, None))
        return _only(sheets, sheet), digest.hexdigest()
    if not path.is_file():
        raise SourceError(f"找不到文件“{path}”")
    return read_bytes(path.name, path.read_bytes(), sheet=sheet)


def read_bytes(name: str, data: bytes, *, sheet: str | None = None) -> tuple[list[RawSheet], str]:
    """Tables and SHA-256 of an uploaded file, recognised by its name's suffix."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _only(_read_xlsx(data), sheet), digest
    if suffix == ".csv":
        return [_read_csv(name, data, sheet)], digest
    if suffix == ".zip":
        return _only(_read_zip(data), sheet), digest
    raise SourceError(f"不支持的文件类型“{suffix or name}”，请使用 .xlsx、.csv 或 .zip")


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


def _read_xlsx(data: bytes) -> list[RawSheet]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors for damaged files
        raise SourceError("无法读取 Excel 文件：文件损坏或不是 .xlsx 格式") from None
    try:
        sheets = []
        for ws in wb.worksheets:
            rows = [(n, list(values)) for n, values in
                    enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)]
            sheets.append(RawSheet(ws.title, rows))
        return sheets
    finally:
        wb.close()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise SourceError("CSV 文件编码无法识别，请另存为 UTF-8") from None


def _read_csv(name: str, data: bytes, sheet: str | None) -> RawSheet:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = [(n, list(cells)) for n, cells in enumerate(reader, start=1)]
    return RawSheet(name, rows, kind_hint=sheet or PurePosixPath(name).stem)


def _read_zip(data: bytes) -> list[RawSheet]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SourceError("无法读取 .zip 文件：文件损坏") from None
    with archive:
        names = sorted(n for n in archive.namelist()
                       if n.lower().endswith(".csv") and not n.startswith("__MACOSX/"))
        if not names:
            raise SourceError(".zip 文件里没有 .csv 文件")
        return [_read_csv(PurePosixPath(n).name, archive.read(n), None) for n in names]


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
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    for kind, records in sheets:
        spec = SHEETS_BY_KIND[kind]
        ws = wb.create_sheet(spec.title)
        ws.append(headers(spec))
        for row_number, cells in enumerate(table(spec, records), start=2):
            out: list[Any] = []
            for value in cells:
                if isinstance(value, str):
                    if len(value) > XLSX_CELL_LIMIT:
                        raise SourceError(
                            f"「{spec.title}」第 {row_number} 行有超过 {XLSX_CELL_LIMIT} 个字符的"
                            "单元格（多为边界），Excel 放不下；请导出为 CSV 文件夹")
                    if value.startswith("="):
                        # openpyxl would write it as a formula; keep it the text it is.
                        cell = WriteOnlyCell(ws, value)
                        cell.data_type = "s"
                        value = cell
                out.append(value)
            ws.append(out)
    wb.save(target)


def csv_bytes(kind: str, records: Iterable[Mapping[str, Any]]) -> bytes:
    spec = SHEETS_BY_KIND[kind]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(spec))
    for cells in table(spec, records):
        writer.writerow(["" if v is None else v for v in cells])
    return out.getvalue().encode("utf-8-sig")


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
