"""A case's time limit, deadline and warning point, from its category (or an override)."""

from __future__ import annotations

import datetime as dt

from jiayuan.cases.calendar import platform_calendar
from jiayuan.cases.models import Category
from jiayuan.cases.workdays import TimeLimit, TimeUnit, deadline_for, warning_point

# No category, or a category without a limit of its own: five working days. (12345 practice:
# consultation and help 3 working days, suggestion and complaint 13, see
# cn-urban-management-reference.md, 12345 examples [C]; a category's own limit wins.)
DEFAULT_LIMIT = TimeLimit(5, TimeUnit.WORKING_DAYS)


def limit_of(category: Category | None) -> TimeLimit:
    if category is not None and category.time_limit_amount and category.time_limit_unit:
        return TimeLimit.parse(category.time_limit_amount, category.time_limit_unit)
    return DEFAULT_LIMIT


def deadline_and_warning(limit: TimeLimit, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The deadline and the warning point of a time limit running from ``start``."""
    calendar = platform_calendar()
    due = deadline_for(start, limit, calendar=calendar)
    around_the_clock = limit.unit.value in ("minutes", "calendar_days")
    return due, warning_point(start, due, around_the_clock=around_the_clock, calendar=calendar)
