"""Index periods: a year ("2026") or a quarter ("2026Q1")."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from jiayuan.core.errors import ValidationFailed
from jiayuan.index.models import IndexPeriod

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def parse_label(label: str) -> tuple[str, dt.date, dt.date]:
    """(kind, start, end) of "2026" or "2026Q1"; refuses anything else."""
    text = (label or "").strip().upper()
    if m := _YEAR.match(text):
        y = int(m.group(1))
        return IndexPeriod.Kind.YEAR, dt.date(y, 1, 1), dt.date(y + 1, 1, 1)
    if m := _QUARTER.match(text):
        y, q = int(m.group(1)), int(m.group(2))
        start = dt.date(y, 3 * q - 2, 1)
        end = dt.date(y + 1, 1, 1) if q == 4 else dt.date(y, 3 * q + 1, 1)
        return IndexPeriod.Kind.QUARTER, start, end
    raise ValidationFailed(f"期数“{label}”无法识别：应为年份（如 2026）或季度（如 2026Q1）",
                           details={"field": "period", "value": label})


def previous_label(label: str) -> str:
    kind, start, _end = parse_label(label)
    if kind == IndexPeriod.Kind.YEAR:
        return str(start.year - 1)
    q = (start.month - 1) // 3 + 1
    return f"{start.year - 1}Q4" if q == 1 else f"{start.year}Q{q - 1}"


@transaction.atomic
def get_or_create_period(label: str) -> IndexPeriod:
    kind, start, end = parse_label(label)
    text = label.strip().upper()
    period, _ = IndexPeriod.objects.get_or_create(
        label=text, defaults={"kind": kind, "start": start, "end": end})
    return period


def panel_periods(period: IndexPeriod, history: int) -> list[IndexPeriod]:
    """``period`` and up to ``history`` earlier periods of its kind (created if missing),
    oldest first."""
    out = [period]
    label = period.label
    for _ in range(max(0, history)):
        label = previous_label(label)
        out.insert(0, get_or_create_period(label))
    return out
