"""Council-based derivers, switched on when the council app offers
``jiayuan.council.selectors.activity_by_compound(start, end)``.

The selector is imported lazily at each derivation (a deployment without the council app
reports every leaf here as having no data source, never zero). Its shape, per compound id:
``meetings`` ({"hearing": n, "coordination": n, "evaluation": n}, meetings held),
``funds_spent`` (yuan spent from self-governance grants) and ``consultation_participants``;
other keys are ignored. Periods are dates; the selector takes Asia/Shanghai midnights.

Leaves without any platform module yet (party members' participation and volunteer points,
volunteer attendances, overcrowded subletting) are registered here too, as "no data source",
so a run names them; a future module replaces them with ``register``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from .base import Derived, NoDataSource, bounds, cached, register
from .registry import households

THREE_MEETINGS = ("hearing", "coordination", "evaluation")


def _activity(start: dt.date, end: dt.date) -> Mapping[int, Any]:
    try:
        from jiayuan.council.selectors import activity_by_compound
    except ImportError as exc:
        raise NoDataSource("议事会模块尚未提供 activity_by_compound（无数据来源）") from exc
    return cached(("council", start, end),  # type: ignore[no-any-return]
                  lambda: activity_by_compound(*bounds(start, end)))


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def three_meetings_held(start: dt.date, end: dt.date) -> Derived:
    act = _activity(start, end)
    out = Derived()
    for cid in households():
        kinds = _get(act.get(cid), "meetings") or {}
        out.values[cid] = float(sum(int(kinds.get(k, 0) or 0) for k in THREE_MEETINGS))
    return out


def _per_household(key: str, scale: float) -> Callable[[dt.date, dt.date], Derived]:
    def fn(start: dt.date, end: dt.date) -> Derived:
        act = _activity(start, end)
        out = Derived()
        for cid, hh in households().items():
            if hh <= 0:
                out.missing(cid, "登记册中没有该小区的户数")
                continue
            out.values[cid] = float(_get(act.get(cid), key, 0) or 0) / hh * scale
        return out
    return fn


def _absent(what: str) -> Callable[[dt.date, dt.date], Derived]:
    def fn(start: dt.date, end: dt.date) -> Derived:
        raise NoDataSource(f"平台尚无{what}数据（无数据来源）")
    return fn


register("three_meetings_held", three_meetings_held, description="三会召开次数", unit="次")
register("grant_spending", _per_household("funds_spent", 1.0),
         description="自治金使用金额/户", unit="元/户")
register("consultation_participation", _per_household("consultation_participants", 100.0),
         description="协商参与人次/百户", unit="人次/百户")
register("registered_member_participation_rate", _absent("在职党员双报到"))
register("party_volunteer_points", _absent("党员志愿者积分"))
register("volunteer_activity", _absent("志愿者活动"))
register("overcrowded_subletting", _absent("群租（租赁模块）"))
