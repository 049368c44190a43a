"""Hand-built rows for the index's Django tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from jiayuan.cases.models import Case, Category

SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def case(compound: Any, *, channel: str = "hotline_12345", reported: dt.datetime,
         state: str = "dispatched", closed: dt.datetime | None = None,
         due: dt.datetime | None = None, rating: str = "", category: str | None = None,
         merged_into: Case | None = None) -> Case:
    n = next(_seq)
    return Case.objects.create(
        number=f"IX{n:06d}", channel=channel, description="测试", state=state,
        compound=compound, neighbourhood=compound.neighbourhood,
        subdistrict=compound.neighbourhood.subdistrict, path=compound.path,
        reported_at=reported, closed_at=closed, due_at=due, rating=rating,
        category=Category.objects.get(code=category) if category else None,
        merged_into=merged_into,
    )
