"""Read labelled work-order histories from .xlsx or .csv for training and evaluation.

Several text columns are joined (e.g. 留言主题 + 留言详情) with "。"; the label column is kept
as text (keep category codes stored as text in Excel, or 06028 arrives as 6028). Row numbers
in messages are spreadsheet rows: the header is row 1. CSV files may be UTF-8 (with or
without BOM) or GB18030, as Excel on Chinese Windows writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jiayuan.core import uploads
from jiayuan.core.errors import ImportRejected, UnreadableFile
from jiayuan.core.uploads import CLI_DEFAULTS, Limits

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


def _table(rows: list[tuple[int, list[Any]]]) -> Table:
    if not rows:
        return Table([], [])
    header = [_cell(h) for h in rows[0][1]]
    body: list[tuple[int, dict[str, str]]] = []
    for i, values in rows[1:]:
        cells = [_cell(v) for v in values]
        if any(cells):
            body.append((i, dict(zip(header, cells, strict=False))))
    return Table(header, body)


def _rejected(message: str) -> ImportRejected:
    return ImportRejected([{"row": None, "column": None, "message": message}])


def read_table(path: str | Path, *, sheet: str | None = None,
               limits: Limits | None = None) -> Table:
    """Read the first sheet of an .xlsx (or ``sheet``), or a .csv, through ``core.uploads``
    within ``limits`` (default: the web's). Refuses other formats and unreadable files
    (``ImportRejected``), and files over the limits (``FileTooLarge``, ``TooManyRows``)."""
    p = Path(path)
    if not p.is_file():
        raise _rejected(f"找不到文件：{p}")
    suffix = p.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise _rejected(f"不支持的文件格式“{suffix}”，请使用 .xlsx 或 .csv")
    limits = limits or Limits()
    budget = uploads.Budget(limits, p.name)
    try:
        data = uploads.read_file(p, limits)
        if suffix == ".xlsx":
            return _table(uploads.read_xlsx(data, budget, sheet=sheet, first_only=True)[0].rows)
        budget.add_bytes(len(data))
        return _table(uploads.read_csv(data, budget).rows)
    except UnreadableFile as exc:
        raise _rejected(exc.message) from None


def load_labelled(path: str | Path, text_columns: Sequence[str], label_column: str, *,
                  sheet: str | None = None, skip_invalid: bool = False,
                  limits: Limits = CLI_DEFAULTS) -> LabelledData:
    """Texts (the ``text_columns`` joined) and labels from a history file.

    Refuses (``ImportRejected``, every problem with its row number, in Chinese) missing columns,
    and rows with no text or no label, unless ``skip_invalid``, which drops such rows and
    returns them in ``skipped``. Refuses a file with no usable rows either way.
    """
    if not text_columns:
        raise ImportRejected([{"row": None, "column": None, "message": "至少需要一个文本列（--text）"}])
    table = read_table(path, sheet=sheet, limits=limits)
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
