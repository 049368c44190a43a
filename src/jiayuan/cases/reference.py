"""Reference data of the case loop: the category dictionary and default time limits. Pure.

Both live as CSV under ``cases/data/`` (the published values as defaults, each row with its
source and firmness: [C] confirmed, [R] read from one implementation, [U] unconfirmed). The
Django app seeds its editable tables from them; nothing here touches a database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources

from jiayuan.core.errors import ImportRejected, ValidationFailed

from .workdays import TimeLimit

FIRMNESS = frozenset({"[C]", "[R]", "[U]"})
KINDS = frozenset({"component", "event"})
LEVELS = frozenset({"major", "minor"})
STEPS = frozenset({"dispatch", "handle", "feedback", "stop_work", "penalty", "demolition"})
REQUEST_TYPES = frozenset(
    {"", "consultation", "help", "suggestion", "complaint", "emergency", "utilities", "general",
     "complex"}
)
_CATEGORY_COLUMNS = ("scheme", "kind", "level", "code", "name", "major_code", "major_name",
                     "firmness", "source")
_LIMIT_COLUMNS = ("category_code", "category_name", "request_type", "step", "amount", "unit",
                  "is_default", "firmness", "source", "note")


@dataclass(frozen=True, slots=True)
class Category:
    scheme: str
    kind: str
    level: str
    code: str
    name: str
    major_code: str
    major_name: str
    firmness: str
    source: str


@dataclass(frozen=True, slots=True)
class TimeLimitRow:
    category_code: str
    category_name: str
    request_type: str
    step: str
    limit: TimeLimit
    is_default: bool
    firmness: str
    source: str
    note: str

    @property
    def key(self) -> tuple[str, str, str]:
        """What a default is chosen for: the category (code, else name), request type, step."""
        return (self.category_code or self.category_name, self.request_type, self.step)


def _rows(text: str, columns: tuple[str, ...], problems: list[dict[str, object]]) -> list[
        tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        problems.append({"row": 1, "column": "", "message": f"表头应为 {','.join(columns)}"})
        return []
    return [(n, {k: (v or "").strip() for k, v in row.items()})
            for n, row in enumerate(reader, start=2)]


def parse_categories(text: str) -> list[Category]:
    """Parse the category dictionary; refuses the whole file with every problem listed."""
    problems: list[dict[str, object]] = []
    result: list[Category] = []
    seen: set[tuple[str, str, str]] = set()
    for n, row in _rows(text, _CATEGORY_COLUMNS, problems):
        def bad(column: str, message: str, n: int = n) -> None:
            problems.append({"row": n, "column": column, "message": message})

        if row["kind"] not in KINDS:
            bad("kind", f"类型必须是 component 或 event，收到 {row['kind']!r}")
        if row["level"] not in LEVELS:
            bad("level", f"层级必须是 major 或 minor，收到 {row['level']!r}")
        width = 2 if row["level"] == "major" else 5
        if not re.fullmatch(rf"\d{{{width}}}", row["code"]):
            bad("code", f"编码应为 {width} 位数字，收到 {row['code']!r}")
        elif not row["code"].startswith(row["major_code"]):
            bad("major_code", "小类编码必须以大类编码开头")
        if not row["name"]:
            bad("name", "名称不能为空")
        if row["firmness"] not in FIRMNESS:
            bad("firmness", f"可信度必须是 [C]/[R]/[U]，收到 {row['firmness']!r}")
        key = (row["scheme"], row["kind"], row["code"])
        if key in seen:
            bad("code", f"编码重复：{row['code']}")
        seen.add(key)
        result.append(Category(**row))
    if problems:
        raise ImportRejected(problems)
    return result


def parse_time_limits(text: str, categories: list[Category]) -> list[TimeLimitRow]:
    """Parse default time limits; refuses unknown categories, units, steps, request types,
    firmness marks, and two defaults for the same (category, request type, step)."""
    problems: list[dict[str, object]] = []
    result: list[TimeLimitRow] = []
    known = {c.code: c for c in categories if c.kind == "event" and c.level == "minor"}
    defaults: set[tuple[str, str, str]] = set()
    for n, row in _rows(text, _LIMIT_COLUMNS, problems):
        def bad(column: str, message: str, n: int = n) -> None:
            problems.append({"row": n, "column": column, "message": message})

        code = row["category_code"]
        if code and code not in known:
            bad("category_code", f"未知的事件小类编码：{code}")
        elif code and row["category_name"] != known[code].name:
            bad("category_name", f"名称与分类字典不符：应为 {known[code].name}")
        if row["request_type"] not in REQUEST_TYPES:
            bad("request_type", f"未知的诉求类型：{row['request_type']!r}")
        if row["step"] not in STEPS:
            bad("step", f"未知的环节：{row['step']!r}")
        if row["is_default"] not in ("yes", "no"):
            bad("is_default", "is_default 必须是 yes 或 no")
        if row["firmness"] not in FIRMNESS:
            bad("firmness", f"可信度必须是 [C]/[R]/[U]，收到 {row['firmness']!r}")
        if not row["source"]:
            bad("source", "必须注明来源")
        try:
            limit = TimeLimit.parse(row["amount"], row["unit"])
        except ValidationFailed as exc:
            bad("amount", exc.message)
            continue
        item = TimeLimitRow(
            category_code=code, category_name=row["category_name"],
            request_type=row["request_type"], step=row["step"], limit=limit,
            is_default=row["is_default"] == "yes", firmness=row["firmness"],
            source=row["source"], note=row["note"],
        )
        if item.is_default:
            if item.key in defaults:
                bad("is_default", f"同一类别、诉求类型和环节只能有一个默认时限：{item.key}")
            defaults.add(item.key)
        result.append(item)
    if problems:
        raise ImportRejected(problems)
    return result


def _data(name: str) -> str:
    return resources.files("jiayuan.cases").joinpath("data", name).read_text(encoding="utf-8")


def load_categories() -> list[Category]:
    """The shipped category dictionary (``data/categories.csv``)."""
    return parse_categories(_data("categories.csv"))


def load_time_limits() -> list[TimeLimitRow]:
    """The shipped default time limits (``data/time_limits.csv``), checked against the dictionary."""
    return parse_time_limits(_data("time_limits.csv"), load_categories())


def default_limit(
    rows: list[TimeLimitRow], *, category: str = "", request_type: str = "", step: str = "handle"
) -> TimeLimit | None:
    """The default limit for a category code (or name), request type and step, if any.

    Falls back from (category, request type) to the category alone, then to the request
    type alone, then to the step alone; ``None`` when nothing applies.
    """
    index = {r.key: r.limit for r in rows if r.is_default}
    for key in ((category, request_type, step), (category, "", step), ("", request_type, step),
                ("", "", step)):
        if key in index:
            return index[key]
    return None
