"""The working calendar the platform counts deadlines with.

``chinesecalendar`` carries the State Council's holiday schedule up to its data year. Intake
must not stop when a deadline runs past that year, so the platform calendar treats uncovered
years as Monday–Friday (``JIAYUAN_CALENDAR_BEYOND=weekdays``, the default) until the year's
schedule is added: dates in ``JIAYUAN_CALENDAR_EXTRA`` (a CSV file ``date,kind`` with kind
``holiday`` or ``workday``) win over the package, and a deployment lists the years it has
completed in ``JIAYUAN_CALENDAR_YEARS`` (comma-separated). Set ``…BEYOND=refuse`` to refuse
instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

from jiayuan.cases.workdays import WorkCalendar


@lru_cache(maxsize=1)
def platform_calendar() -> WorkCalendar:
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    extra = os.environ.get("JIAYUAN_CALENDAR_EXTRA")
    if extra:
        with Path(extra).open(encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                day = dt.date.fromisoformat(row["date"].strip())
                (holidays if row["kind"].strip() == "holiday" else workdays).add(day)
    years = {int(y) for y in os.environ.get("JIAYUAN_CALENDAR_YEARS", "").split(",") if y.strip()}
    beyond = os.environ.get("JIAYUAN_CALENDAR_BEYOND", "weekdays")
    return WorkCalendar(
        extra_holidays=frozenset(holidays), extra_workdays=frozenset(workdays),
        extra_years=frozenset(years),
        beyond_range=cast(Literal["refuse", "weekdays"], beyond),
    )
