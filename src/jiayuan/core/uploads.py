"""Reading uploaded and imported spreadsheets within limits: the one reader every import uses.

A file a user hands us (.xlsx, .csv, a .zip of .csv) is read under :class:`Limits`: its own
size, the bytes it decompresses to (an .xlsx is a zip too), the number of members of a zip,
and the number of rows. Decompressed sizes are counted while reading, in chunks, and reading
stops at the cap: the sizes a zip declares in its headers are checked first (cheap) but not
trusted. Workbooks are opened by openpyxl in read-only mode only after their parts have been
measured that way. Every refusal is a domain error with a Chinese message:
``FileTooLarge`` and ``TooManyRows`` (HTTP 413), ``UnreadableFile`` (422).

Limits are settings (``JIAYUAN_UPLOADS["WEB"]`` for uploads through the pages and the API,
``JIAYUAN_UPLOADS["CLI"]`` for the import commands, higher); :func:`web_limits` and
:func:`cli_limits` read them. The readers themselves import no Django.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from jiayuan.core.errors import DomainError, FileTooLarge, TooManyRows, UnreadableFile

MB = 1024 * 1024
CHUNK = 64 * 1024
# Excel's own sheet size: no genuine spreadsheet has more rows or columns than this.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# A physical CSV line longer than this is refused before the csv module splits it (a line of
# millions of commas would otherwise become a list of millions of cells).
MAX_LINE_CHARS = 4 * MB


@dataclass(frozen=True)
class Limits:
    """What one file may be. The defaults are those of a web upload (``JIAYUAN_UPLOADS``)."""

    max_bytes: int = 100 * MB           # the file as uploaded (compressed)
    max_unpacked_bytes: int = 200 * MB  # every part of a zip / .xlsx, decompressed, together
    max_members: int = 200              # entries of a zip (an .xlsx has about ten)
    max_rows: int = 250_000             # non-blank rows, all sheets together

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None, base: Limits | None = None) -> Limits:
        out = base or cls()
        names = {"MAX_BYTES": "max_bytes", "MAX_UNPACKED_BYTES": "max_unpacked_bytes",
                 "MAX_MEMBERS": "max_members", "MAX_ROWS": "max_rows"}
        given = {attr: int(values[key]) for key, attr in names.items() if values and key in values}
        return replace(out, **given)


CLI_DEFAULTS = Limits(max_bytes=1024 * MB, max_unpacked_bytes=4096 * MB, max_members=10_000,
                      max_rows=10_000_000)


def web_limits() -> Limits:
    """The limits of uploads through the pages and the API (``JIAYUAN_UPLOADS["WEB"]``)."""
    from django.conf import settings

    return Limits.from_mapping(getattr(settings, "JIAYUAN_UPLOADS", {}).get("WEB"))


def cli_limits() -> Limits:
    """The limits of the import commands (``JIAYUAN_UPLOADS["CLI"]``), higher than the web's."""
    from django.conf import settings

    return Limits.from_mapping(getattr(settings, "JIAYUAN_UPLOADS", {}).get("CLI"),
                               CLI_DEFAULTS)


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / 1024:.0f} KB"


def _too_large(name: str, limit: int) -> FileTooLarge:
    return FileTooLarge(f"文件“{name}”超过 {_mb(limit)} 的上限，请拆分后再导入",
                        details={"file": name, "limit_bytes": limit})


def _too_large_unpacked(name: str, limit: int) -> FileTooLarge:
    return FileTooLarge(f"文件“{name}”解压后超过 {_mb(limit)} 的上限，请拆分后再导入",
                        details={"file": name, "limit_unpacked_bytes": limit})


# --- the file itself -------------------------------------------------------------------------

def check_size(name: str, size: int | None, limits: Limits) -> None:
    """Refuses (``FileTooLarge``) a file whose known size is over ``limits.max_bytes``."""
    if size is not None and size > limits.max_bytes:
        raise _too_large(name, limits.max_bytes)


def read_upload(upload: Any, limits: Limits) -> bytes:
    """The bytes of an uploaded file (Django ``UploadedFile`` or any object with ``read``),
    read in chunks; refuses (``FileTooLarge``) as soon as more than ``max_bytes`` arrive,
    whatever size the upload claimed."""
    name = getattr(upload, "name", None) or "upload"
    check_size(name, getattr(upload, "size", None), limits)
    return _read_capped(upload, name, limits.max_bytes)


def read_file(path: Path, limits: Limits) -> bytes:
    """The bytes of a file on disk, refused (``FileTooLarge``) over ``max_bytes``."""
    try:
        check_size(path.name, path.stat().st_size, limits)
        with path.open("rb") as fh:
            return _read_capped(fh, path.name, limits.max_bytes)
    except OSError as exc:
        raise UnreadableFile(f"无法读取文件“{path.name}”：{exc.strerror or exc}") from None


def _read_capped(stream: BinaryIO | Any, name: str, cap: int) -> bytes:
    out = bytearray()
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > cap:
            raise _too_large(name, cap)


# --- zip archives (a .zip of .csv, and every .xlsx) ------------------------------------------

@dataclass
class Budget:
    """What is left of one file's limits while it is read (decompressed bytes, rows)."""

    limits: Limits
    name: str
    unpacked: int = 0
    rows: int = 0
    scanned: int = 0
    seen: set[str] = field(default_factory=set)

    def add_bytes(self, n: int) -> None:
        self.unpacked += n
        if self.unpacked > self.limits.max_unpacked_bytes:
            raise _too_large_unpacked(self.name, self.limits.max_unpacked_bytes)

    def add_row(self, blank: bool) -> None:
        """Count a row; blank rows count against Excel's sheet size only."""
        self.scanned += 1
        if self.scanned > self.limits.max_rows + EXCEL_MAX_ROWS:
            raise TooManyRows(f"文件“{self.name}”的行数超过上限（含空行）",
                              details={"file": self.name, "limit_rows": self.limits.max_rows})
        if not blank:
            self.rows += 1
            if self.rows > self.limits.max_rows:
                raise TooManyRows(
                    f"文件“{self.name}”超过 {self.limits.max_rows} 行的上限，请拆分后再导入",
                    details={"file": self.name, "limit_rows": self.limits.max_rows})


def _open_zip(data: bytes, budget: Budget, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise UnreadableFile(f"无法读取 {what}“{budget.name}”：文件损坏或格式不符") from None
    infos = archive.infolist()
    if len(infos) > budget.limits.max_members:
        archive.close()
        raise UnreadableFile(
            f"{what}“{budget.name}”里有 {len(infos)} 个文件，超过 {budget.limits.max_members} 个的上限",
            details={"file": budget.name, "limit_members": budget.limits.max_members})
    declared = sum(max(i.file_size, 0) for i in infos)
    if budget.unpacked + declared > budget.limits.max_unpacked_bytes:
        archive.close()
        raise _too_large_unpacked(budget.name, budget.limits.max_unpacked_bytes)
    return archive


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget,
                   what: str) -> Iterator[bytes]:
    """A member's decompressed bytes in chunks, each counted against the budget first."""
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(CHUNK)
                if not chunk:
                    return
                budget.add_bytes(len(chunk))
                yield chunk
    except DomainError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError):
        # A CRC or size that does not match the header, an unknown compression method, a
        # password-protected member.
        raise UnreadableFile(f"无法读取 {what}“{budget.name}”：文件损坏、加密或压缩方式不受支持",
                             details={"file": budget.name, "member": info.filename}) from None


def zip_members(data: bytes, budget: Budget, *,
                keep: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of the members ``keep`` accepts, in name order, decompressed within
    the budget. Refuses a damaged zip or too many members (``UnreadableFile``) and more
    decompressed bytes than allowed (``FileTooLarge``), declared or actual."""
    with _open_zip(data, budget, ".zip 文件") as archive:
        out = []
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not keep(info.filename):
                continue
            out.append((info.filename,
                        b"".join(_member_chunks(archive, info, budget, ".zip 文件"))))
        return out


def measure_zip(data: bytes, budget: Budget, what: str = "Excel 文件") -> None:
    """Decompress every member of ``data`` in chunks (discarding them) to check the real sizes
    before another library opens it: an .xlsx before openpyxl."""
    with _open_zip(data, budget, what) as archive:
        for info in archive.infolist():
            for _ in _member_chunks(archive, info, budget, what):
                pass


# --- workbooks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sheet:
    """A sheet as read: its title and its non-blank rows with their spreadsheet row numbers."""

    title: str
    rows: list[tuple[int, list[Any]]]


def _blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_xlsx(data: bytes, budget: Budget, *, sheet: str | None = None,
              first_only: bool = False,
              cell: Callable[[Any], Any] | None = None) -> list[Sheet]:
    """The sheets of an .xlsx (values, not formulas), blank rows left out, within the budget.

    ``sheet`` keeps the sheet of that title (``UnreadableFile`` if there is none);
    ``first_only`` keeps the first. ``cell`` maps every value read. Refuses a damaged file,
    a file that is not .xlsx, and one over the limits."""
    import openpyxl

    measure_zip(data, budget)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors
        raise UnreadableFile(f"无法读取 Excel 文件“{budget.name}”：文件损坏或不是 .xlsx 格式",
                             details={"file": budget.name}) from None
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise UnreadableFile(
                    f"找不到工作表“{sheet}”（有：{'、'.join(wb.sheetnames)}）",
                    details={"file": budget.name, "sheet": sheet})
            worksheets = [wb[sheet]]
        else:
            worksheets = list(wb.worksheets)[:1] if first_only else list(wb.worksheets)
        out = []
        for ws in worksheets:
            # The sheet's declared size ("A1:XFD1048576") would pad every row, and every gap
            # between rows, to 16,384 cells: read each row as wide as its own cells instead.
            ws.reset_dimensions()
            rows: list[tuple[int, list[Any]]] = []
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                blank = _blank(values)
                budget.add_row(blank)
                if not blank:
                    if len(values) > EXCEL_MAX_COLUMNS:
                        raise UnreadableFile(f"“{budget.name}”第 {n} 行的列数超过 Excel 的上限")
                    rows.append((n, [cell(v) for v in values] if cell else list(values)))
            out.append(Sheet(ws.title, rows))
        return out
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - damaged sheet XML surfaces while iterating
        raise UnreadableFile(f"无法读取 Excel 文件“{budget.name}”：文件损坏",
                             details={"file": budget.name}) from None
    finally:
        wb.close()


# --- CSV -------------------------------------------------------------------------------------

def decode_text(data: bytes, name: str,
                encodings: Sequence[str] = ("utf-8-sig", "gb18030")) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), else GB18030 (what Excel saves in
    China), or only the ``encodings`` given."""
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"CSV 文件“{name}”的编码无法识别，请在 Excel 中另存为“CSV UTF-8”",
                         details={"file": name})


def _lines(text: str, name: str) -> Iterator[str]:
    for n, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise UnreadableFile(f"CSV 文件“{name}”第 {n} 行过长", details={"file": name})
        yield line


def read_csv(data: bytes, budget: Budget, *, name: str | None = None,
             cell: Callable[[str], Any] | None = None,
             encodings: Sequence[str] = ("utf-8-sig", "gb18030")) -> Sheet:
    """The non-blank rows of a CSV with their line-based row numbers, within the budget.
    Refuses an unknown encoding, an over-long line or a malformed row (``UnreadableFile``)."""
    label = name or budget.name
    text = decode_text(data, label, encodings)
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(_lines(text, label))
    try:
        for n, cells in enumerate(reader, start=1):
            blank = _blank(cells)
            budget.add_row(blank)
            if blank:
                continue
            if len(cells) > EXCEL_MAX_COLUMNS:
                raise UnreadableFile(f"CSV 文件“{label}”第 {n} 行的列数超过上限",
                                     details={"file": label, "row": n})
            rows.append((n, [cell(v) for v in cells] if cell else cells))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 文件“{label}”第 {reader.line_num} 行格式有误：{exc}",
                             details={"file": label, "row": reader.line_num}) from None
    return Sheet(label, rows)
