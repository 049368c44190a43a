"""Case-based derivers (from ``cases.Case``), all served by one aggregate query per period.

Which cases count: those located in a compound and reported in ``[start, end)`` (Asia/Shanghai
midnights), except rejected ones (not a valid report). A merged case still counts as a
complaint (somebody called) and is the *repeat complaint*.

Leaves of the published catalogue:

- ``hotline_12345_complaints``: cases of channel ``hotline_12345`` per 100 households;
- ``repeat_complaints``: cases merged into another (``merged_into`` set) per 100 households;
- ``property_disputes``: cases of the categories mapped to property disputes per 100
  households;
- ``illegal_construction``, ``waste_sorting_violations``, ``utility_anomalies``: cases of the
  mapped categories (count).

Further leaves a staff catalogue may use: ``complaints_per_1000_households`` (all channels)
and ``complaints_per_1000_households_<channel>`` for each channel, ``average_hours_to_close``
(cases closed, reported in the period), ``closed_on_time_share`` (closed no later than due,
among closed cases with a due time), ``satisfaction_share`` (satisfied or basically
satisfied among rated cases).

The category mapping is ``settings.JIAYUAN_INDEX_CATEGORIES`` (leaf → category codes),
defaulting to :data:`DEFAULT_CATEGORIES`; a leaf mapped to no existing category is reported
as having no data source.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from jiayuan.cases.models import Case, Category, Channel

from .base import Derived, NoDataSource, bounds, cached, register
from .registry import households, per_households, plain_counts

DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "illegal_construction": ("06001", "08016"),  # 私搭乱建, 无证建设
    "waste_sorting_violations": ("06041",),  # 垃圾未分类
    # No category of the shipped dictionary (GB/T 47678 minor classes, hotline request types)
    # means a utility anomaly or a property dispute: map them in settings when there is one.
    "utility_anomalies": (),
    "property_disputes": (),
}
SATISFIED = ("satisfied", "basically_satisfied")
NO_CLOSED = "本期没有已结案的工单"
NO_DUE = "本期没有带办理时限的已结案工单"
NO_RATED = "本期没有评价过的工单"


def category_map() -> dict[str, tuple[str, ...]]:
    given = getattr(settings, "JIAYUAN_INDEX_CATEGORIES", None) or {}
    return {**DEFAULT_CATEGORIES, **{k: tuple(v) for k, v in given.items()}}


def _category_ids() -> dict[str, list[int]]:
    def compute() -> dict[str, list[int]]:
        cmap = category_map()
        codes = {c for v in cmap.values() for c in v}
        ids = dict(Category.objects.filter(code__in=codes).values_list("code", "id"))
        return {leaf: [ids[c] for c in v if c in ids] for leaf, v in cmap.items()}

    return cached("case_category_ids", compute)  # type: ignore[no-any-return]


def case_facts(start: dt.date, end: dt.date) -> dict[int, dict[str, Any]]:
    """Per compound id, the counts every case leaf needs — one grouped query."""

    def compute() -> dict[int, dict[str, Any]]:
        lo, hi = bounds(start, end)
        aggs: dict[str, Any] = {
            "total": Count("id"),
            "repeat": Count("id", filter=Q(merged_into__isnull=False)),
            "closed": Count("id", filter=Q(closed_at__isnull=False)),
            "closed_due": Count("id", filter=Q(closed_at__isnull=False, due_at__isnull=False)),
            "on_time": Count("id", filter=Q(closed_at__isnull=False, due_at__isnull=False,
                                            closed_at__lte=F("due_at"))),
            "close_time": Avg(ExpressionWrapper(F("closed_at") - F("reported_at"),
                                                output_field=DurationField()),
                              filter=Q(closed_at__isnull=False)),
            "rated": Count("id", filter=~Q(rating="")),
            "satisfied": Count("id", filter=Q(rating__in=SATISFIED)),
        }
        for ch in Channel.values:
            aggs[f"ch_{ch}"] = Count("id", filter=Q(channel=ch))
        for leaf, ids in _category_ids().items():
            if ids:
                aggs[f"cat_{leaf}"] = Count("id", filter=Q(category_id__in=ids))
        rows = (Case.objects
                .filter(compound_id__isnull=False, reported_at__gte=lo, reported_at__lt=hi)
                .exclude(state="rejected")
                .order_by().values("compound_id").annotate(**aggs))
        return {r["compound_id"]: r for r in rows}

    return cached(("case_facts", start, end), compute)  # type: ignore[no-any-return]


def _counts(start: dt.date, end: dt.date, key: str) -> dict[int, int | float]:
    return {cid: r.get(key) or 0 for cid, r in case_facts(start, end).items()}


def _per_hh(key: str, scale: float) -> Any:
    def fn(start: dt.date, end: dt.date) -> Derived:
        return per_households(_counts(start, end, key), scale)
    return fn


def _category(leaf: str, per_100_households: bool) -> Any:
    def fn(start: dt.date, end: dt.date) -> Derived:
        if not _category_ids().get(leaf):
            raise NoDataSource("没有工单类别映射到该指标（settings.JIAYUAN_INDEX_CATEGORIES）")
        counts = _counts(start, end, f"cat_{leaf}")
        return per_households(counts, 100.0) if per_100_households else plain_counts(counts)
    return fn


def _ratio(num: str, den: str, empty: str) -> Any:
    def fn(start: dt.date, end: dt.date) -> Derived:
        facts = case_facts(start, end)
        out = Derived()
        for cid in households():
            r = facts.get(cid)
            if r is None or not r[den]:
                out.missing(cid, empty)
            else:
                out.values[cid] = r[num] / r[den]
        return out
    return fn


def average_hours_to_close(start: dt.date, end: dt.date) -> Derived:
    facts = case_facts(start, end)
    out = Derived()
    for cid in households():
        r = facts.get(cid)
        t = r["close_time"] if r is not None else None
        if t is None:
            out.missing(cid, NO_CLOSED)
        else:
            secs = t.total_seconds() if isinstance(t, dt.timedelta) else float(t) / 1e6
            out.values[cid] = secs / 3600.0
    return out


register("hotline_12345_complaints", _per_hh("ch_hotline_12345", 100.0),
         description="12345 热线工单数/百户", unit="件/百户")
register("repeat_complaints", _per_hh("repeat", 100.0),
         description="被合并为重复件的工单数/百户", unit="件/百户")
register("property_disputes", _category("property_disputes", True),
         description="物业纠纷类工单数/百户", unit="件/百户")
for _leaf in ("illegal_construction", "waste_sorting_violations", "utility_anomalies"):
    register(_leaf, _category(_leaf, False), description="对应类别工单数", unit="件")
register("complaints_per_1000_households", _per_hh("total", 1000.0),
         description="全部渠道工单数/千户", unit="件/千户")
for _ch in Channel.values:
    register(f"complaints_per_1000_households_{_ch}", _per_hh(f"ch_{_ch}", 1000.0),
             description=f"{_ch} 渠道工单数/千户", unit="件/千户")
register("average_hours_to_close", average_hours_to_close,
         description="本期上报并已结案工单的平均结案时长", unit="小时")
register("closed_on_time_share", _ratio("on_time", "closed_due", NO_DUE),
         description="按时结案工单占已结案（有时限）工单的比例", unit="比例")
register("satisfaction_share", _ratio("satisfied", "rated", NO_RATED),
         description="满意与基本满意占已评价工单的比例", unit="比例")
