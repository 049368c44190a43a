"""Service attributes (GeoReport v2 service definitions) as data, and their validation. Pure.

The table lives in ``data/attributes.json``: category code → list of attributes, each with
``code``, ``datatype`` (string / number / datetime / text / singlevaluelist /
multivaluelist), ``required``, ``order``, ``description``, optional ``variable`` (false for a
notice shown to the user that takes no input), ``datatype_description`` and, for the list
types, ``values`` (``[{"key": …, "name": …}]``). Staff may edit the file; it is checked when
loaded, so a bad table refuses to load rather than serving a broken definition.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jiayuan.open311.params import ParamError, parse_w3c

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
MAX_STRING = 200
MAX_TEXT = 2000


class AttributeTableError(ValueError):
    """The attribute table is malformed; ``problems`` lists every fault found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("；".join(problems))


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    description: str
    required: bool
    order: int
    variable: bool = True
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The attribute in the spec's shape (``values`` only for the list types)."""
        out: dict[str, Any] = {
            "variable": self.variable, "code": self.code, "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": self.order, "description": self.description,
        }
        if self.datatype in LIST_TYPES:
            out["values"] = [{"key": k, "name": n} for k, n in self.values]
        return out


AttributeTable = Mapping[str, tuple[Attribute, ...]]


def _one(service: str, i: int, raw: Any, problems: list[str]) -> Attribute | None:
    where = f"{service} 第 {i} 个属性"
    if not isinstance(raw, dict):
        problems.append(f"{where}：须为对象")
        return None
    code, datatype = raw.get("code"), raw.get("datatype")
    if not isinstance(code, str) or not code or any(c in code for c in "[]"):
        problems.append(f"{where}：code 须为不含方括号的非空字符串")
        return None
    if datatype not in DATATYPES:
        problems.append(f"{where}（{code}）：datatype 须为 {'/'.join(DATATYPES)} 之一")
        return None
    description = raw.get("description")
    if not isinstance(description, str) or not description:
        problems.append(f"{where}（{code}）：缺少 description")
        return None
    order = raw.get("order", i)
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        problems.append(f"{where}（{code}）：order 须为正整数")
        return None
    values: list[tuple[str, str]] = []
    for v in raw.get("values", []) or []:
        if not (isinstance(v, dict) and isinstance(v.get("key"), str) and v["key"]
                and isinstance(v.get("name"), str) and v["name"]):
            problems.append(f"{where}（{code}）：values 的每项须有 key 与 name")
            return None
        values.append((v["key"], v["name"]))
    if datatype in LIST_TYPES and not values:
        problems.append(f"{where}（{code}）：列表类型须列出 values")
        return None
    if len({k for k, _ in values}) != len(values):
        problems.append(f"{where}（{code}）：values 的 key 重复")
        return None
    return Attribute(
        code=code, datatype=datatype, description=description,
        required=bool(raw.get("required", False)), order=order,
        variable=bool(raw.get("variable", True)),
        datatype_description=str(raw.get("datatype_description") or ""),
        values=tuple(values),
    )


def parse_attribute_table(data: Any) -> dict[str, tuple[Attribute, ...]]:
    """Check and read a table (category code → attribute list); sorted by ``order``.

    Refuses (``AttributeTableError``) unknown datatypes, list types without values, repeated
    attribute codes within a service, and a required attribute that takes no input.
    """
    if not isinstance(data, dict):
        raise AttributeTableError(["属性表须为对象：类别代码 → 属性列表"])
    problems: list[str] = []
    table: dict[str, tuple[Attribute, ...]] = {}
    for service, items in data.items():
        if service.startswith("_"):
            continue  # comments such as "_source"
        if not isinstance(items, list):
            problems.append(f"{service}：须为属性列表")
            continue
        attrs = [a for i, raw in enumerate(items, start=1)
                 if (a := _one(service, i, raw, problems)) is not None]
        codes = [a.code for a in attrs]
        for dupe in sorted({c for c in codes if codes.count(c) > 1}):
            problems.append(f"{service}：属性代码 {dupe} 重复")
        for a in attrs:
            if a.required and not a.variable:
                problems.append(f"{service}（{a.code}）：说明性属性不能为必填")
        table[service] = tuple(sorted(attrs, key=lambda a: (a.order, a.code)))
    if problems:
        raise AttributeTableError(problems)
    return table


def load_attribute_table(path: str | Path | None = None) -> dict[str, tuple[Attribute, ...]]:
    """The table at ``path``, or the one shipped in ``open311/data/attributes.json``."""
    if path is None:
        text = (resources.files("jiayuan.open311") / "data" / "attributes.json").read_text(
            encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_attribute_table(json.loads(text))


def _number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value


def validate_attributes(
    attributes: tuple[Attribute, ...], submitted: Mapping[str, list[str]], *, tz: dt.tzinfo,
) -> tuple[dict[str, Any], list[str]]:
    """Check submitted values against a service's attributes.

    Returns ``(clean values by code, problems)``; every fault is reported, not just the first:
    an unknown code, a value for a notice (``variable`` false), a missing required value, a
    number that is not finite, a datetime without offset, a key not in the list, several
    values for a single-value attribute, text over its length.
    """
    by_code = {a.code: a for a in attributes}
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for code in submitted:
        if code not in by_code:
            problems.append(f"attribute[{code}]：该服务没有此属性")
    for a in attributes:
        name = f"attribute[{a.code}]"
        values = [v.strip() for v in submitted.get(a.code, []) if v.strip()]
        if not a.variable:
            if values:
                problems.append(f"{name}：此项仅为说明，不接受取值")
            continue
        if not values:
            if a.required:
                problems.append(f"{name}：必填（{a.description}）")
            continue
        if a.datatype != "multivaluelist" and len(values) > 1:
            problems.append(f"{name}：只能填一个值")
            continue
        value = values[0]
        if a.datatype == "number":
            try:
                clean[a.code] = _number(value)
            except ValueError:
                problems.append(f"{name}：须为数字")
        elif a.datatype == "datetime":
            try:
                clean[a.code] = parse_w3c(value, name=name, tz=tz).isoformat()
            except ParamError as exc:
                problems.append(str(exc))
        elif a.datatype in ("string", "text"):
            limit = MAX_STRING if a.datatype == "string" else MAX_TEXT
            if len(value) > limit:
                problems.append(f"{name}：不能超过 {limit} 字")
            elif a.datatype == "string" and ("\n" in value or "\r" in value):
                problems.append(f"{name}：须为单行文字")
            else:
                clean[a.code] = value
        else:
            keys = {k for k, _ in a.values}
            bad = [v for v in values if v not in keys]
            if bad:
                problems.append(f"{name}：取值 {'、'.join(bad)} 不在可选项 "
                                f"{'、'.join(k for k, _ in a.values)} 之中")
            elif a.datatype == "singlevaluelist":
                clean[a.code] = value
            else:
                clean[a.code] = list(dict.fromkeys(values))
    return clean, problems
