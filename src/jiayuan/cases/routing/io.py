"""Read labelled work-order histories from .xlsx or .csv for training and evaluation.

Several text columns are joined (e.g. 留言主题 + 留言详情) with "。"; the label column is kept
as text (keep category codes stored as text in Excel, or 06028 arrives as 6028). Row numbers
in messages are spreadsheet rows: the header is row 1. CSV files may be UTF-8 (with or
without BOM) or GB18030, as Excel on Chinese Windows writes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jiayuan.core.errors import ImportRejected

TEXT_JOINER = "。"


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, column → value)


@dataclass(frozen=True, slots=True)
class LabelledData:
    texts: list[str]
    labels: list[str]
    row_numbers: list[int]
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> Table:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ImportRejected([{"row": None, "column": None, "message": "无法识别文件编码"}])
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    rows = [(i, {h: _cell(v) for h, v in zip(header, line, strict=False)})
            for i, line in enumerate(reader, start=2) if any(v.strip() for v in line)]
    return Table(header, rows)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip or XML errors of a damaged file
        raise ImportRejected([{"row": None, "column": None,
                               "message": f"无法打开 Excel 文件：{exc}"}]) from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportRejected([{"row": None, "column": None,
                                   "message": f"找不到工作表“{sheet}”（有：{'、'.join(wb.sheetnames)}）"}])
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [_cell(h) for h in next(it, ())]
        rows: list[tuple[int, dict[str, str]]] = []
        for i, values in enumerate(it, start=2):
            cells = [_cell(v) for v in values]
            if any(cells):
                rows.append((i, dict(zip(header, cells, strict=False))))
        return Table(header, rows)
    finally:
        wb.close()


def read_table(path: str | Path, *, sheet: str | None = None) -> Table:
    """Read the first sheet of an .xlsx (or ``sheet``), or a .csv; refuses other formats."""
    p = Path(path)
    if not p.is_file():
        raise ImportRejected([{"row": None, "column": None, "message": f"找不到文件：{p}"}])
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(p, sheet)
    if suffix == ".csv":
        return _read_csv(p)
    raise ImportRejected([{"row": None, "column": None,
                           "message": f"不支持的文件格式“{suffix}”，请使用 .xlsx 或 .csv"}])


def load_labelled(path: str | Path, text_columns: Sequence[str], label_column: str, *,
                  sheet: str | None = None, skip_invalid: bool = False) -> LabelledData:
    """Texts (the ``text_columns`` joined) and labels from a history file.

    Refuses (``ImportRejected``, every problem with its row number, in Chinese) missing columns,
    and rows with no text or no label, unless ``skip_invalid``, which drops such rows and
    returns them in ``skipped``. Refuses a file with no usable rows either way.
    """
    if not text_columns:
        raise ImportRejected([{"row": None, "column": None, "message": "至少需要一个文本列（--text）"}])
    table = read_table(path, sheet=sheet)
    missing = [c for c in [*text_columns, label_column] if c not in table.header]
    if missing:
        raise ImportRejected([{"row": 1, "column": c,
                               "message": f"缺少列“{c}”（文件中的列：{'、'.join(table.header)}）"}
                              for c in missing])
    texts: list[str] = []
    labels: list[str] = []
    numbers: list[int] = []
    problems: list[dict[str, Any]] = []
    for i, row in table.rows:
        text = TEXT_JOINER.join(v for c in text_columns if (v := row.get(c, "")))
        label = row.get(label_column, "")
        if not text:
            problems.append({"row": i, "column": "、".join(text_columns),
                             "message": f"第 {i} 行：文本为空"})
            continue
        if not label:
            problems.append({"row": i, "column": label_column,
                             "message": f"第 {i} 行：标签“{label_column}”为空"})
            continue
        texts.append(text)
        labels.append(label)
        numbers.append(i)
    if problems and not skip_invalid:
        raise ImportRejected(problems)
    if not texts:
        raise ImportRejected([*problems, {"row": None, "column": None,
                                          "message": "文件中没有可用的数据行"}])
    return LabelledData(texts, labels, numbers, problems)
