"""The default category dictionary and time limits, installed from ``cases/data/``."""

from __future__ import annotations

from typing import Any

from jiayuan.cases.reference import default_limit, load_categories, load_time_limits

# Which line department usually handles a major class (editable per category afterwards).
DEPARTMENT_BY_MAJOR = {
    "06": "greening_sanitation", "04": "greening_sanitation", "03": "greening_sanitation",
}
REQUEST_TYPES = {
    "consultation": "咨询", "help": "求助", "complaint": "投诉", "suggestion": "建议",
    "report": "举报",
}


def default_rows() -> list[dict[str, Any]]:
    """Rows for ``Category``: the minor classes of the dictionary, then hotline request types."""
    limits = load_time_limits()
    rows: list[dict[str, Any]] = []
    for c in load_categories():
        if c.level != "minor":
            continue
        limit = default_limit(limits, category=c.code) or default_limit(limits, category=c.name)
        rows.append({
            "code": c.code, "name": c.name, "kind": c.kind, "major_code": c.major_code,
            "major_name": c.major_name,
            "time_limit_amount": limit.amount if limit else None,
            "time_limit_unit": limit.unit.value if limit else "",
            "default_department_kind": DEPARTMENT_BY_MAJOR.get(c.major_code, "city_management"),
            "source": f"{c.source} {c.firmness}"[:200],
        })
    for code, name in REQUEST_TYPES.items():
        limit = default_limit(limits, request_type=code)
        rows.append({
            "code": f"R-{code}", "name": name, "kind": "request", "major_code": "R",
            "major_name": "12345 诉求类型",
            "time_limit_amount": limit.amount if limit else None,
            "time_limit_unit": limit.unit.value if limit else "",
            "default_department_kind": "", "source": "cn-urban-management-reference §12345",
        })
    return rows


def install_default_categories(category_model: Any) -> int:
    """Create the default categories that do not exist yet; never overwrites staff edits."""
    existing = set(category_model.objects.values_list("code", flat=True))
    new = [category_model(**row) for row in default_rows() if row["code"] not in existing]
    category_model.objects.bulk_create(new)
    return len(new)
