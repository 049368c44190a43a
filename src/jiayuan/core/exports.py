"""Writing spreadsheets people open in Excel or WPS: the one writer every export uses.

Text that a spreadsheet would take for a formula is neutralised, as OWASP's "CSV Injection"
guidance describes: a string starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (``=HYPERLINK(…)`` set as a compound's name) is shown as the text it is, never run.

- In .csv such a cell gets a leading apostrophe (:func:`neutralise`).
- In .xlsx it is written as a string cell (never a formula) with Excel's own "quote prefix"
  style, which is what Excel stores when someone types ``'=…``: the text stays exact, shows
  without an apostrophe, and stays text when the cell is edited (:func:`append_row`).

Only strings are touched: numbers, dates and empty cells are written as they are (a negative
number stays a number). A string that already starts with apostrophes followed by one of those
characters gets one more in .csv, so :func:`restore` undoes :func:`neutralise` exactly: an
importer reading our own CSV exports back (the registry's round trip) calls it on every cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"


def _looks_like_formula(text: str) -> bool:
    rest = text.lstrip(QUOTE)
    return bool(rest) and rest[0] in FORMULA_STARTS


def neutralise(value: Any) -> Any:
    """A cell value safe to open: a formula-like string gets a leading apostrophe."""
    if isinstance(value, str) and _looks_like_formula(value):
        return QUOTE + value
    return value


def restore(value: Any) -> Any:
    """Undo :func:`neutralise` (and only what it does) on a cell read back from a file."""
    if isinstance(value, str) and value.startswith(QUOTE) and _looks_like_formula(value[1:]):
        return value[1:]
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row of CSV cells, each :func:`neutralise`-d."""
    return [neutralise(v) for v in values]


def csv_text(header: Sequence[Any] | None, rows: Iterable[Iterable[Any]]) -> str:
    """CSV text (CRLF line ends) of neutralised cells; ``None`` is written as an empty cell."""
    out = io.StringIO(newline="")
    write_csv(out, header, rows)
    return out.getvalue()


def csv_bytes(header: Sequence[Any] | None, rows: Iterable[Iterable[Any]]) -> bytes:
    """:func:`csv_text` as UTF-8 with a byte-order mark, so Excel opens the Chinese right."""
    return csv_text(header, rows).encode("utf-8-sig")


def write_csv(fh: Any, header: Sequence[Any] | None, rows: Iterable[Iterable[Any]]) -> None:
    """Write neutralised CSV rows to an open text file."""
    writer = csv.writer(fh, lineterminator="\r\n")
    if header is not None:
        writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(["" if v is None else v for v in safe_row(row)])


def xlsx_cell(ws: Any, value: Any) -> Any:
    """A value for an openpyxl worksheet: formula-like text becomes a string cell with the
    quote-prefix style (see the module's docstring); anything else is left as it is."""
    if isinstance(value, str) and _looks_like_formula(value):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"  # openpyxl would have taken a leading "=" for a formula
        cell.quotePrefix = True
        return cell
    return value


def append_row(ws: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet (normal or write-only), every text cell written
    as text."""
    ws.append([xlsx_cell(ws, v) for v in values])


def write_table_file(path: Any, header: Sequence[Any], rows: Iterable[Iterable[Any]], *,
                     sheet: str = "sheet") -> None:
    """Write one table to a .csv (UTF-8 with BOM, for Excel) or .xlsx file, chosen by the
    path's suffix, atomically: a temporary file in the same folder is renamed over the target
    only when complete, so a failure never leaves a half-written or clobbered result. The
    caller has checked the suffix (anything but .csv is written as .xlsx)."""
    import os
    import tempfile
    from pathlib import Path

    p = Path(path)
    suffix = p.suffix.lower()
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=p.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                write_csv(fh, header, rows)
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet(sheet)
            append_row(ws, header)
            for row in rows:
                append_row(ws, row)
            wb.save(tmp)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
