"""Visit schedule: when the next visit of a person is due, and whether it is overdue.

Pure (no Django). The interval comes from the risk level (``risk.visit_interval_days``: by
default high weekly, medium fortnightly, low monthly). A person never visited is due from the
day they were registered.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from jiayuan.care.risk import Level, Weights, visit_interval_days


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} 必须带时区")
    return value


def next_due(level: Level | str, *, last_visit_at: datetime | None, registered_at: datetime,
             weights: Weights | None = None) -> datetime:
    """When the next visit is due: the last visit plus the level's interval, or registration."""
    _aware(registered_at, "登记时间")
    if last_visit_at is None:
        return registered_at
    return _aware(last_visit_at, "走访时间") + timedelta(days=visit_interval_days(level, weights))


def overdue_days(due: datetime, now: datetime) -> int:
    """Whole days past ``due`` at ``now`` (0 when not yet due)."""
    delta = _aware(now, "当前时间") - _aware(due, "到期时间")
    return max(0, delta.days)


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
