"""The case-loop measures from the database: one aggregate pass per grouping, area-scoped.

:func:`measures` groups the cases reported in a date range (Asia/Shanghai) by a grouping
(the whole area, subdistrict, neighbourhood, or lead unit) and a period (month, quarter,
year) and counts, with conditional ``COUNT(*) FILTER (WHERE …)``, everything
``formulas.Counts`` needs, in one ``GROUP BY`` query. The median time to close is
``percentile_cont(0.5) WITHIN GROUP`` in the same query on PostgreSQL; SQLite has no
percentile aggregate, so there a second query fetches the closed cases' two timestamps and
Python takes the medians (fine at SQLite's scale, see docs/case-measures.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Trunc

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases.lifecycle import Rating, State
from jiayuan.cases.measures.formulas import Counts, MeasureConfig, Rates, median, rates
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.core.errors import ValidationFailed
from jiayuan.registry.models import (
    Department,
    JointStation,
    Neighbourhood,
    OperationsCentre,
    Subdistrict,
)

SH = ZoneInfo("Asia/Shanghai")

GROUPINGS: dict[str, str] = {
    "total": "全部", "subdistrict": "街道（镇）", "neighbourhood": "居民区", "unit": "主办单位",
}
GROUP_FIELDS: dict[str, str | None] = {
    "total": None, "subdistrict": "subdistrict_id", "neighbourhood": "neighbourhood_id",
    "unit": "lead_unit",
}
PERIODS: dict[str, str] = {"month": "月", "quarter": "季度", "year": "年"}
UNPLACED = {"subdistrict": "未定位到街道", "neighbourhood": "未定位到居民区", "unit": "未派遣"}

CLOSED_STATES = (State.CLOSED.value, State.RATED.value)


@dataclass(frozen=True)
class MeasureRow:
    grouping: str
    key: str
    label: str
    period: str          # "2026-03", "2026-Q1", "2026"
    period_start: dt.date
    counts: Counts
    rates: Rates


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY …)``."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class HoursBetween(Func):
    """Calendar hours from the second expression to the first (PostgreSQL intervals)."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    arg_joiner = " - "
    output_field = FloatField()


def local_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end 00:00) in Asia/Shanghai as aware datetimes. Refuses end ≤ start."""
    if end <= start:
        raise ValidationFailed("统计区间的结束日期必须晚于开始日期")
    return (dt.datetime.combine(start, dt.time(), SH), dt.datetime.combine(end, dt.time(), SH))


def period_label(kind: str, start: dt.date) -> str:
    if kind == "month":
        return f"{start.year}-{start.month:02d}"
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _conditions(now: dt.datetime, config: MeasureConfig) -> dict[str, Q]:
    """The cohort's conditions, one per count (definitions in docs/case-measures.md)."""
    limit = dt.timedelta(hours=config.response_limit_hours)
    # The first response is accepted_at unless a reopen overwrote it (reopened_count > 0) or
    # the case was rejected (no timestamp on the row): then ask the history.
    first_response_in_time = Exists(CaseEvent.objects.filter(
        case=OuterRef("pk"), action__in=("accept", "reject"),
        at__lte=OuterRef("reported_at") + limit))
    plain = Q(reopened_count=0) & ~Q(state=State.REJECTED.value)
    responded = (plain & Q(accepted_at__isnull=False, accepted_at__lte=F("reported_at") + limit)) | (
        ~plain & first_response_in_time)
    valid = ~Q(state=State.REJECTED.value)
    closed = Q(state__in=CLOSED_STATES)
    due_closure = valid & (closed | Q(due_at__lte=now))
    dispatched = valid & Q(dispatched_at__isnull=False)
    return {
        "past_limit": Q(reported_at__lte=now - limit),
        "responded": responded,
        "responded_early": Q(reported_at__gt=now - limit) & responded,
        "rejected": Q(state=State.REJECTED.value),
        "dispatched": dispatched,
        "handled": dispatched & Q(handled_at__isnull=False),
        "handled_on_time": dispatched & Q(handled_at__isnull=False, handled_at__lte=F("due_at")),
        "due_closure": due_closure,
        "closed": valid & closed,
        "closed_on_time": valid & closed & Q(closed_at__lte=F("due_at")),
        "resolved": valid & closed & ~Q(rating=Rating.DISSATISFIED.value),
        "reworked": due_closure & Q(reopened_count__gt=0),
        "extended": dispatched & Q(extension_count__gt=0),
        "satisfied": Q(rating=Rating.SATISFIED.value),
        "basically_satisfied": Q(rating=Rating.BASICALLY_SATISFIED.value),
        "dissatisfied": Q(rating=Rating.DISSATISFIED.value),
    }


def cohort(scope: AreaScope, start: dt.date, end: dt.date) -> QuerySet[Case]:
    """Cases within ``scope`` reported in [start, end) (Asia/Shanghai), duplicates excluded."""
    lo, hi = local_range(start, end)
    return scope.filter(Case.objects.filter(reported_at__gte=lo, reported_at__lt=hi)).exclude(
        state=State.MERGED.value)


def measures(scope: AreaScope, *, grouping: str, period: str, start: dt.date, end: dt.date,
             now: dt.datetime, config: MeasureConfig | None = None) -> list[MeasureRow]:
    """The measures of every group and period of cases reported in [start, end), as seen at
    ``now``, ordered by group label then period. Refuses an unknown grouping or period."""
    if grouping not in GROUPINGS:
        raise ValidationFailed(f"未知的分组“{grouping}”", details={"allowed": list(GROUPINGS)})
    if period not in PERIODS:
        raise ValidationFailed(f"未知的统计周期“{period}”", details={"allowed": list(PERIODS)})
    if now.tzinfo is None:
        raise ValidationFailed("统计时点必须带时区")
    cfg = config or MeasureConfig()
    group_field = GROUP_FIELDS[grouping]
    keys = ["p"] + ([group_field] if group_field else [])
    cond = _conditions(now, cfg)
    aggregates: dict[str, Any] = {"reported": Count("id")}
    for name, q in cond.items():
        aggregates[name] = Count("id", filter=q)
    on_pg = connection.vendor == "postgresql"
    if on_pg:
        aggregates["median"] = Median(HoursBetween(F("closed_at"), F("reported_at")),
                                      filter=Q(state__in=CLOSED_STATES))
    qs = (cohort(scope, start, end)
          .annotate(p=Trunc("reported_at", period, output_field=DateField(), tzinfo=SH))
          .order_by().values(*keys).annotate(**aggregates))
    raw = list(qs)
    medians = {} if on_pg else _python_medians(scope, start, end, period, group_field)
    labels = _labels(grouping, {r[group_field] for r in raw} if group_field else set())
    rows = []
    for r in raw:
        key = "" if group_field is None else ("" if r[group_field] is None else str(r[group_field]))
        p_start = r["p"] if isinstance(r["p"], dt.date) else dt.date.fromisoformat(str(r["p"]))
        med = r.get("median") if on_pg else medians.get((p_start, key))
        counts = Counts(
            reported=r["reported"], due_response=r["past_limit"] + r["responded_early"],
            responded=r["responded"], rejected=r["rejected"], dispatched=r["dispatched"],
            handled=r["handled"], handled_on_time=r["handled_on_time"],
            due_closure=r["due_closure"], closed=r["closed"],
            closed_on_time=r["closed_on_time"], resolved=r["resolved"],
            reworked=r["reworked"], extended=r["extended"],
            rated=r["satisfied"] + r["basically_satisfied"] + r["dissatisfied"],
            satisfied=r["satisfied"], basically_satisfied=r["basically_satisfied"],
            dissatisfied=r["dissatisfied"],
            median_hours_to_close=None if med is None else float(med),
        )
        rows.append(MeasureRow(grouping=grouping, key=key, label=labels.get(key, key),
                               period=period_label(period, p_start), period_start=p_start,
                               counts=counts, rates=rates(counts, cfg)))
    rows.sort(key=lambda row: (row.key == "", row.label, row.key, row.period_start))
    return rows


def _python_medians(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                    group_field: str | None) -> dict[tuple[dt.date, str], float | None]:
    """SQLite fallback: the medians of (closed_at − reported_at) in hours, per group/period."""
    fields = ["p", "reported_at", "closed_at"] + ([group_field] if group_field else [])
    qs = (cohort(scope, start, end).filter(state__in=CLOSED_STATES, closed_at__isnull=False)
          .annotate(p=Trunc("reported_at", period, output_field=DateField(), tzinfo=SH))
          .order_by().values_list(*fields))
    hours: dict[tuple[dt.date, str], list[float]] = defaultdict(list)
    for row in qs.iterator(chunk_size=5000):
        p, reported_at, closed_at = row[0], row[1], row[2]
        key = "" if not group_field or row[3] is None else str(row[3])
        hours[(p, key)].append((closed_at - reported_at).total_seconds() / 3600.0)
    return {k: median(v) for k, v in hours.items()}


def _labels(grouping: str, keys: set[Any]) -> dict[str, str]:
    """Chinese names of the group keys (ids of places, unit refs); empty key → "not placed"."""
    out: dict[str, str] = {"": UNPLACED.get(grouping, GROUPINGS["total"])}
    present = {k for k in keys if k not in (None, "")}
    if grouping == "subdistrict":
        out.update({str(i): n for i, n in Subdistrict.objects.filter(
            pk__in=present).values_list("id", "name")})
    elif grouping == "neighbourhood":
        out.update({str(i): f"{s} {n}" for i, n, s in Neighbourhood.objects.filter(
            pk__in=present).values_list("id", "name", "subdistrict__name")})
    elif grouping == "unit":
        by_kind: dict[str, set[str]] = defaultdict(set)
        for unit_ref in present:
            kind, _, code = str(unit_ref).partition(":")
            by_kind[kind].add(code)
        for kind, model in (("department", Department), ("station", JointStation),
                            ("centre", OperationsCentre)):
            if by_kind.get(kind):
                out.update({f"{kind}:{c}": n for c, n in model.objects.filter(
                    code__in=by_kind[kind]).values_list("code", "name")})
    return out


def all_measures(scope: AreaScope, *, period: str, start: dt.date, end: dt.date,
                 now: dt.datetime, config: MeasureConfig | None = None,
                 ) -> dict[str, list[MeasureRow]]:
    """:func:`measures` for every grouping (one pass each)."""
    return {g: measures(scope, grouping=g, period=period, start=start, end=end, now=now,
                        config=config) for g in GROUPINGS}
