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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BinaryField,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Collate, Trunc

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases.lifecycle import Rating, State
from jiayuan.cases.measures.formulas import Counts, MeasureConfig, Rates, rates
from jiayuan.cases.models import Case, CaseEvent, CaseMonthRollup, CaseRollupState
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
# The counts of a group and period, as ``formulas.Counts`` takes them (``rated`` aside).
FINAL = ("reported", "due_response", "responded", "rejected", "dispatched", "handled",
         "handled_on_time", "due_closure", "closed", "closed_on_time", "resolved", "reworked",
         "extended", "satisfied", "basically_satisfied", "dissatisfied")
COUNT_NAMES = ("reported", "past_limit", "responded", "responded_early", "rejected",
               "dispatched", "handled", "handled_on_time", "due_closure", "closed",
               "closed_on_time", "resolved", "reworked", "extended", "satisfied",
               "basically_satisfied", "dissatisfied")
# Sort and hash the year's cases in memory (PostgreSQL's default is 4 MB).
ANALYTIC_WORK_MEM = "256MB"


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

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)::double precision"
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


def static_conditions(config: MeasureConfig) -> dict[str, Q]:
    """The conditions that do not depend on the moment the measures are read at (what the
    roll-up stores), one per count; ``closed_reworked`` is the closed part of ``reworked``."""
    limit = dt.timedelta(hours=config.response_limit_hours)
    # The first response is first_response_at (written once by the services, backfilled from
    # the history). A row written without it (a bulk load, an old import) is read as before:
    # accepted_at unless a reopen overwrote it (reopened_count > 0) or the case was rejected
    # (no timestamp on the row); then the history, by an index probe for those few rows.
    first_response_in_time = Exists(CaseEvent.objects.filter(
        case=OuterRef("pk"), action__in=("accept", "reject"),
        at__lte=OuterRef("reported_at") + limit))
    plain = Q(reopened_count=0) & ~Q(state=State.REJECTED.value)
    legacy = (plain & Q(accepted_at__isnull=False, accepted_at__lte=F("reported_at") + limit)) | (
        ~plain & first_response_in_time)
    responded = Q(first_response_at__isnull=False,
                  first_response_at__lte=F("reported_at") + limit) | (
        Q(first_response_at__isnull=True) & legacy)
    valid = ~Q(state=State.REJECTED.value)
    closed = Q(state__in=CLOSED_STATES)
    dispatched = valid & Q(dispatched_at__isnull=False)
    return {
        "responded": responded,
        "rejected": Q(state=State.REJECTED.value),
        "dispatched": dispatched,
        "handled": dispatched & Q(handled_at__isnull=False),
        "handled_on_time": dispatched & Q(handled_at__isnull=False, handled_at__lte=F("due_at")),
        "closed": valid & closed,
        "closed_on_time": valid & closed & Q(closed_at__lte=F("due_at")),
        "closed_reworked": valid & closed & Q(reopened_count__gt=0),
        "resolved": valid & closed & ~Q(rating=Rating.DISSATISFIED.value),
        "extended": dispatched & Q(extension_count__gt=0),
        "satisfied": Q(rating=Rating.SATISFIED.value),
        "basically_satisfied": Q(rating=Rating.BASICALLY_SATISFIED.value),
        "dissatisfied": Q(rating=Rating.DISSATISFIED.value),
    }


def _conditions(now: dt.datetime, config: MeasureConfig) -> dict[str, Q]:
    """The cohort's conditions, one per count (definitions in docs/case-measures.md)."""
    limit = dt.timedelta(hours=config.response_limit_hours)
    static = static_conditions(config)
    static.pop("closed_reworked")
    valid = ~Q(state=State.REJECTED.value)
    due_closure = valid & (Q(state__in=CLOSED_STATES) | Q(due_at__lte=now))
    return {
        **static,
        "past_limit": Q(reported_at__lte=now - limit),
        "responded_early": Q(reported_at__gt=now - limit) & static["responded"],
        "due_closure": due_closure,
        "reworked": due_closure & Q(reopened_count__gt=0),
    }


def cohort(scope: AreaScope, start: dt.date, end: dt.date) -> QuerySet[Case]:
    """Cases within ``scope`` reported in [start, end) (Asia/Shanghai), duplicates excluded."""
    lo, hi = local_range(start, end)
    return scope.filter(Case.objects.filter(reported_at__gte=lo, reported_at__lt=hi)).exclude(
        state=State.MERGED.value)


@contextmanager
def _analytic_session() -> Iterator[None]:
    """On PostgreSQL, run the aggregate in a transaction with JIT off (compiling these wide
    FILTER expressions costs seconds and saves less) and room to sort and hash in memory."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute(f"SET LOCAL work_mem = '{ANALYTIC_WORK_MEM}'")
        # The planner cannot estimate how many periods a date_trunc yields and guesses one
        # group per row, so it sorts (or walks an index) where hashing a few thousand
        # groups is cheaper; percentile_cont still sorts, having no other way.
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("SET LOCAL enable_incremental_sort = off")
        yield


def _check(grouping: str | None, period: str, now: dt.datetime) -> None:
    if grouping is not None and grouping not in GROUPINGS:
        raise ValidationFailed(f"未知的分组“{grouping}”", details={"allowed": list(GROUPINGS)})
    if period not in PERIODS:
        raise ValidationFailed(f"未知的统计周期“{period}”", details={"allowed": list(PERIODS)})
    if now.tzinfo is None:
        raise ValidationFailed("统计时点必须带时区")


def _count_rows(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                group_fields: list[str], now: dt.datetime,
                cfg: MeasureConfig) -> list[dict[str, Any]]:
    """One GROUP BY pass: the raw counts per period and ``group_fields``."""
    aggregates: dict[str, Any] = {"reported": Count("id")}
    for name, q in _conditions(now, cfg).items():
        aggregates[name] = Count("id", filter=q)
    qs = (cohort(scope, start, end)
          .annotate(p=Trunc("reported_at", period, output_field=DateField(), tzinfo=SH))
          .order_by().values("p", *group_fields).annotate(**aggregates))
    return list(qs)


def _medians(scope: AreaScope, start: dt.date, end: dt.date, period: str,
             group_field: str | None) -> dict[tuple[dt.date, str], float | None]:
    """Median calendar hours from report to closure of the closed cases, per period and key:
    ``percentile_cont(0.5)`` on PostgreSQL (its own narrow query, so the counts can hash),
    :func:`_medians_by_sorting` on SQLite."""
    if connection.vendor != "postgresql":
        return _medians_by_sorting(scope, start, end, period, [group_field])[group_field]
    closed = _closed(scope, start, end, period)
    keys = ["p"] + ([group_field] if group_field else [])
    if group_field == "lead_unit":
        # Sort unit refs bytewise: the database collation's rules cost seconds here.
        closed = closed.annotate(g=Collate("lead_unit", "C"))
        keys, group_field = ["p", "g"], "g"
    rows = closed.values(*keys).annotate(
        median=Median(HoursBetween(F("closed_at"), F("reported_at"))))
    return {(_date(r["p"]), _key(r, group_field)): r["median"] for r in rows}


def _closed(scope: AreaScope, start: dt.date, end: dt.date, period: str) -> QuerySet[Case]:
    return (cohort(scope, start, end).filter(state__in=CLOSED_STATES, closed_at__isnull=False)
            .annotate(p=Trunc("reported_at", period, output_field=DateField(), tzinfo=SH))
            .order_by())


def _medians_by_sorting(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                        group_fields: list[str | None],
                        ) -> dict[str | None, dict[tuple[dt.date, str], float | None]]:
    """The medians for several groupings from ONE read of the closed cases (SQLite, and
    PostgreSQL when asked): per grouping, sort by (group, hours) with numpy."""
    closed = _closed(scope, start, end, period)
    wanted = [f for f in dict.fromkeys(group_fields) if f]
    on_pg = connection.vendor == "postgresql"
    if on_pg:
        closed = closed.annotate(h=HoursBetween(F("closed_at"), F("reported_at")))
        cols = ["p", "h", *wanted]
    else:
        cols = ["p", "reported_at", "closed_at", *wanted]
    periods: list[dt.date] = []
    hours: list[float] = []
    keys: dict[str, list[Any]] = {f: [] for f in wanted}
    for row in closed.values_list(*cols).iterator(chunk_size=20000):
        periods.append(_date(row[0]))
        if on_pg:
            hours.append(row[1])
            rest = row[2:]
        else:
            hours.append((row[2] - row[1]).total_seconds() / 3600.0)
            rest = row[3:]
        for f, v in zip(wanted, rest, strict=True):
            keys[f].append(v)
    h = np.asarray(hours, dtype=np.float64)
    p_values = sorted(set(periods))
    p_index = {p: i for i, p in enumerate(p_values)}
    p_code = np.fromiter((p_index[p] for p in periods), dtype=np.int64, count=len(periods))
    codes: dict[str, tuple[list[str], np.ndarray]] = {}
    for f in wanted:
        index: dict[str, int] = {}
        for k in keys[f]:
            index.setdefault("" if k is None else str(k), len(index))
        codes[f] = (list(index), np.fromiter((index["" if k is None else str(k)] for k in keys[f]),
                                             dtype=np.int64, count=len(h)))
    return {field: _group_medians(p_values, p_code, h, *(codes[field] if field else ([""], None)))
            for field in dict.fromkeys(group_fields)}


def _group_medians(p_values: list[dt.date], p_code: np.ndarray, h: np.ndarray,
                   labels: list[str], code: np.ndarray | None,
                   ) -> dict[tuple[dt.date, str], float | None]:
    """Median of ``h`` per (period, label): sort by (group, hours), take the middle (the mean
    of the two middle values for an even count, exactly as ``percentile_cont(0.5)``)."""
    width = max(len(labels), 1)
    combined = p_code * width + (code if code is not None else 0)
    order = np.lexsort((h, combined))
    c_sorted, h_sorted = combined[order], h[order]
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]]) if len(h) else \
        np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(c_sorted)]
    n = ends - starts
    mids = (h_sorted[starts + (n - 1) // 2] + h_sorted[starts + n // 2]) / 2.0
    return {(p_values[c // width], labels[c % width]): m
            for c, m in zip(c_sorted[starts].tolist(), mids.tolist(), strict=True)}


# One row of a binary COPY of five non-null fixed-width columns (field count, then each
# field's length and value, big-endian): period (yyyymm), hours, subdistrict, neighbourhood,
# unit index.
_COPY_ROW = np.dtype([("n", ">i2"), ("l0", ">i4"), ("p", ">i4"), ("l1", ">i4"), ("h", ">f8"),
                      ("l2", ">i4"), ("sd", ">i4"), ("l3", ">i4"), ("nb", ">i4"),
                      ("l4", ">i4"), ("u", ">i4")])
_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4)


def _medians_by_copy(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                     units: list[str],
                     ) -> dict[str | None, dict[tuple[dt.date, str], float | None]]:
    """PostgreSQL: the medians of every grouping from ONE binary ``COPY`` of the closed
    cases' (period, hours, subdistrict, neighbourhood, unit index), read straight into numpy
    (no Python object per row) and sorted per grouping. Four ``percentile_cont`` queries
    would scan and sort the year four times. ``units`` are the lead-unit refs the counting
    pass met; the copy numbers them through a temporary table."""
    closed = _closed(scope, start, end, period).annotate(
        h=HoursBetween(F("closed_at"), F("reported_at")))
    sql, params = closed.values_list(
        "p", "h", "subdistrict_id", "neighbourhood_id", "lead_unit").query.sql_with_params()
    raw = connection.connection  # the psycopg connection, inside _analytic_session's atomic
    with raw.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE measure_unit (ref text PRIMARY KEY, i int4) "
                    "ON COMMIT DROP")
        with cur.copy("COPY measure_unit (ref, i) FROM STDIN") as cp:
            for i, ref in enumerate(units):
                cp.write_row((ref, i))
        # ``sql`` is Django-compiled; its params are bound by psycopg.
        statement = (
            "COPY (SELECT (EXTRACT(YEAR FROM t.p) * 100 + EXTRACT(MONTH FROM t.p))::int4, "  # noqa: S608
            "t.h::float8, COALESCE(t.sd, -1)::int4, COALESCE(t.nb, -1)::int4, "
            "COALESCE(u.i, -1)::int4 "
            f"FROM ({sql}) AS t (p, h, sd, nb, lu) "
            "LEFT JOIN measure_unit u ON u.ref = t.lu COLLATE \"C\") TO STDOUT (FORMAT BINARY)")
        buf = bytearray()
        with cur.copy(statement, params) as cp:
            for chunk in cp:
                buf += chunk
        cur.execute("DROP TABLE measure_unit")
    body = memoryview(buf)[_COPY_HEADER:len(buf) - 2]  # trailer: int16 -1
    rows = np.frombuffer(body, dtype=_COPY_ROW)
    yyyymm = rows["p"].astype(np.int64)
    p_list = np.unique(yyyymm)
    p_values = [dt.date(int(v) // 100, int(v) % 100, 1) for v in p_list.tolist()]
    p_code = np.searchsorted(p_list, yyyymm)
    h = rows["h"].astype(np.float64)
    out: dict[str | None, dict[tuple[dt.date, str], float | None]] = {
        None: _group_medians(p_values, p_code, h, [""], None)}
    for field, column in (("subdistrict_id", "sd"), ("neighbourhood_id", "nb")):
        ids = rows[column].astype(np.int64)
        uniq = np.unique(ids)
        labels = ["" if v < 0 else str(v) for v in uniq.tolist()]
        out[field] = _group_medians(p_values, p_code, h, labels, np.searchsorted(uniq, ids))
    unit_index = rows["u"].astype(np.int64)
    out["lead_unit"] = _group_medians(p_values, p_code, h, [""] + list(units), unit_index + 1)
    return out


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _key(row: Mapping[str, Any], group_field: str | None) -> str:
    if group_field is None or row.get(group_field) is None:
        return ""
    return str(row[group_field])


def _final(r: Mapping[str, Any]) -> dict[str, int]:
    """A direct pass's raw counts under the names of :data:`FINAL`."""
    out = {name: r[name] for name in FINAL if name != "due_response"}
    out["due_response"] = r["past_limit"] + r["responded_early"]
    return out


def _counts(r: Mapping[str, int], med: float | None) -> Counts:
    return Counts(
        reported=r["reported"], due_response=r["due_response"],
        responded=r["responded"], rejected=r["rejected"], dispatched=r["dispatched"],
        handled=r["handled"], handled_on_time=r["handled_on_time"],
        due_closure=r["due_closure"], closed=r["closed"], closed_on_time=r["closed_on_time"],
        resolved=r["resolved"], reworked=r["reworked"], extended=r["extended"],
        rated=r["satisfied"] + r["basically_satisfied"] + r["dissatisfied"],
        satisfied=r["satisfied"], basically_satisfied=r["basically_satisfied"],
        dissatisfied=r["dissatisfied"],
        median_hours_to_close=None if med is None else float(med),
    )


def _rows(grouping: str, period: str, sums: Mapping[tuple[dt.date, str], Mapping[str, int]],
          medians: Mapping[tuple[dt.date, str], float | None],
          cfg: MeasureConfig) -> list[MeasureRow]:
    labels = _labels(grouping, {k for _p, k in sums})
    rows = []
    for (p_start, key), raw in sums.items():
        counts = _counts(raw, medians.get((p_start, key)))
        rows.append(MeasureRow(grouping=grouping, key=key, label=labels.get(key, key),
                               period=period_label(period, p_start), period_start=p_start,
                               counts=counts, rates=rates(counts, cfg)))
    rows.sort(key=lambda row: (row.key == "", row.label, row.key, row.period_start))
    return rows


def measures(scope: AreaScope, *, grouping: str, period: str, start: dt.date, end: dt.date,
             now: dt.datetime, config: MeasureConfig | None = None,
             source: str = "auto") -> list[MeasureRow]:
    """The measures of every group and period of cases reported in [start, end), as seen at
    ``now``, ordered by group label then period. Refuses an unknown grouping or period, a
    naive ``now``.

    ``source="auto"`` reads the monthly roll-up for the whole months of the range when it
    can (:func:`rollup_as_of`) and the cases directly for the rest; ``"direct"`` always reads
    the cases: one counting pass grouped by period and the grouping's key, plus the medians.
    """
    _check(grouping, period, now)
    cfg = config or MeasureConfig()
    if source != "direct" and rollup_as_of(scope, start, end, cfg) is not None:
        return _via_rollup(scope, start, end, period, [grouping], now, cfg)[grouping]
    group_field = GROUP_FIELDS[grouping]
    with _analytic_session():
        raw = _count_rows(scope, start, end, period, [group_field] if group_field else [],
                          now, cfg)
        medians = _medians(scope, start, end, period, group_field)
    sums = {(_date(r["p"]), _key(r, group_field)): _final(r) for r in raw}
    return _rows(grouping, period, sums, medians, cfg)


def all_measures(scope: AreaScope, *, period: str, start: dt.date, end: dt.date,
                 now: dt.datetime, config: MeasureConfig | None = None,
                 source: str = "auto") -> dict[str, list[MeasureRow]]:
    """:func:`measures` for every grouping. From the roll-up when it can (as
    :func:`measures`); else ONE counting pass over the cases at the finest grain
    (period × subdistrict × neighbourhood × lead unit), summed up per grouping in Python —
    the counts add up, so this equals four passes at a quarter of the scanning. The medians
    do not add up: one read of the closed cases' hours (a binary ``COPY`` on PostgreSQL),
    sorted per grouping with numpy."""
    _check(None, period, now)
    cfg = config or MeasureConfig()
    if source != "direct" and rollup_as_of(scope, start, end, cfg) is not None:
        return _via_rollup(scope, start, end, period, list(GROUPINGS), now, cfg)
    fine = [f for f in GROUP_FIELDS.values() if f]
    with _analytic_session():
        raw = _count_rows(scope, start, end, period, fine, now, cfg)
        if connection.vendor == "postgresql":
            units = sorted({r["lead_unit"] for r in raw if r["lead_unit"]})
            by_field = _medians_by_copy(scope, start, end, period, units)
            medians = {g: by_field[f] for g, f in GROUP_FIELDS.items()}
        else:
            by_field = _medians_by_sorting(scope, start, end, period,
                                           list(GROUP_FIELDS.values()))
            medians = {g: by_field[f] for g, f in GROUP_FIELDS.items()}
    out = {}
    for grouping, field in GROUP_FIELDS.items():
        sums: dict[tuple[dt.date, str], dict[str, int]] = {}
        for r in raw:
            k = (_date(r["p"]), _key(r, field))
            acc = sums.setdefault(k, dict.fromkeys(FINAL, 0))
            for name, value in _final(r).items():
                acc[name] += value
        out[grouping] = _rows(grouping, period, sums, medians[grouping], cfg)
    return out


# ---------------------------------------------------------------- the roll-up path

def _whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and the end (exclusive) of the whole calendar months within [start, end)."""
    first = start if start.day == 1 else _next_month(start)
    last = dt.date(end.year, end.month, 1)
    return (first, last) if first < last else None


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _period_start(kind: str, month: dt.date) -> dt.date:
    if kind == "month":
        return month
    if kind == "quarter":
        return dt.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return dt.date(month.year, 1, 1)


def rollup_as_of(scope: AreaScope, start: dt.date, end: dt.date,
                 config: MeasureConfig | None = None) -> dt.datetime | None:
    """When the measures of [start, end) in ``scope`` would read the roll-up: the moment up to
    which it includes the cases' changes. None when they read the cases directly: no roll-up
    built, a response limit other than the one it was built with, no whole month in the
    range, or a scope finer than a neighbourhood (a compound's grant: few cases anyway)."""
    cfg = config or MeasureConfig()
    if _whole_months(start, end) is None:
        return None
    if not scope.everywhere and any(not p.endswith("/") or p.count("/") > 3
                                    for p in scope.paths):
        return None
    st = CaseRollupState.objects.filter(pk=1).first()
    if st is None or st.response_limit_hours != cfg.response_limit_hours:
        return None
    return st.as_of


class BytesAgg(Aggregate):
    """PostgreSQL: the concatenation of ``bytea`` values (the roll-up's microsecond lists)."""

    function = "string_agg"
    name = "BytesAgg"
    template = "%(function)s(%(expressions)s, ''::bytea)"
    output_field = BinaryField()


def _via_rollup(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                groupings: list[str], now: dt.datetime,
                cfg: MeasureConfig) -> dict[str, list[MeasureRow]]:
    """The measures from the roll-up for the whole months of [start, end) plus a direct pass
    over the cases of the partial months at either end, if any. On PostgreSQL the database
    sums the cells per month and group (concatenating their lists), so Python sees one row
    per month and group; elsewhere it reads the cells."""
    from jiayuan.cases.measures import rollup

    months = _whole_months(start, end)
    assert months is not None
    m0, m1 = months
    qs = scope.filter(CaseMonthRollup.objects.filter(month__gte=m0, month__lt=m1),
                      "area_path").order_by()
    if connection.vendor != "postgresql":
        cells = list(qs.values_list("month", "subdistrict_id", "neighbourhood_id",
                                    "lead_unit", *rollup.STORED, *rollup.LISTS))
        return _from_cells(scope, start, end, period, groupings, now, cfg, cells)
    out: dict[str, list[MeasureRow]] = {}
    for grouping in groupings:
        field = GROUP_FIELDS[grouping]
        keys = ["month", *([field] if field else [])]
        sums: dict[str, Any] = {f"s_{n}": Sum(n) for n in rollup.STORED}
        sums.update({f"l_{n}": BytesAgg(n) for n in rollup.LISTS})
        grouped = [
            (r["month"], r.get("subdistrict_id"), r.get("neighbourhood_id"),
             r.get("lead_unit"), *(r[f"s_{n}"] for n in rollup.STORED),
             *(r[f"l_{n}"] or b"" for n in rollup.LISTS))
            for r in qs.values(*keys).annotate(**sums)]
        out.update(_from_cells(scope, start, end, period, [grouping], now, cfg, grouped))
    return out


def _from_cells(scope: AreaScope, start: dt.date, end: dt.date, period: str,
                groupings: list[str], now: dt.datetime, cfg: MeasureConfig,
                cells: list[tuple[Any, ...]]) -> dict[str, list[MeasureRow]]:
    """The measures of ``groupings`` from roll-up rows (month, subdistrict, neighbourhood,
    unit, the stored counts, the four lists), cells or their sums per month and group, plus
    the partial months at either end of [start, end) from the cases."""
    from jiayuan.cases.measures import rollup

    months = _whole_months(start, end)
    assert months is not None
    m0, m1 = months
    limit_us = dt.timedelta(hours=cfg.response_limit_hours) // rollup.US
    now_us = rollup.epoch_us(now)
    n = len(cells)
    stored = {name: np.fromiter((c[4 + i] for c in cells), dtype=np.int64, count=n)
              for i, name in enumerate(rollup.STORED)}
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    base = 4 + len(rollup.STORED)
    for i, name in enumerate(rollup.LISTS):
        blobs = [bytes(c[base + i]) for c in cells]
        values = np.frombuffer(b"".join(blobs), dtype="<i8")
        owner = np.repeat(np.arange(n), [len(b) // 8 for b in blobs])
        lists[name] = (values, owner)

    def per_cell(name: str, keep: np.ndarray) -> np.ndarray:
        return np.bincount(lists[name][1][keep], minlength=n).astype(np.int64)

    pending, _ = lists["pending_times"]
    opened, _ = lists["open_due_times"]
    reopened, _ = lists["open_reworked_due_times"]
    counts = {name: stored[name] for name in FINAL if name in stored}
    counts["due_response"] = stored["reported"] - per_cell("pending_times",
                                                           pending > now_us - limit_us)
    counts["due_closure"] = stored["closed"] + per_cell("open_due_times", opened <= now_us)
    counts["reworked"] = stored["closed_reworked"] + per_cell("open_reworked_due_times",
                                                              reopened <= now_us)
    p_of_cell = [_period_start(period, c[0]) for c in cells]
    matrix = np.stack([counts[name] for name in FINAL], axis=1) if n else \
        np.zeros((0, len(FINAL)), dtype=np.int64)
    rows_p, rows_sd = list(p_of_cell), [c[1] for c in cells]
    rows_nb, rows_unit = [c[2] for c in cells], [c[3] or "" for c in cells]
    close_values, close_owner = lists["close_times"]
    # The medians' rows: the cells, then (below) one per closed case of the partial months;
    # ``h_owner`` says which row each closing time belongs to.
    med_p, med_sd, med_nb, med_unit = list(rows_p), list(rows_sd), list(rows_nb), list(rows_unit)
    h_parts = [close_values / 3.6e9]
    owner_parts = [close_owner]
    # The partial months at either end: the cases directly, at the same grain.
    fine = [f for f in GROUP_FIELDS.values() if f]
    edges = [(a, b) for a, b in ((start, m0), (m1, end)) if a < b]
    extra_rows: list[np.ndarray] = []
    for a, b in edges:
        with _analytic_session():
            raw = _count_rows(scope, a, b, period, fine, now, cfg)
            closed = list(_closed(scope, a, b, period).values_list(
                "p", *fine, "reported_at", "closed_at"))
        for r in raw:
            rows_p.append(_date(r["p"]))
            rows_sd.append(r["subdistrict_id"])
            rows_nb.append(r["neighbourhood_id"])
            rows_unit.append(r["lead_unit"] or "")
            final = _final(r)
            extra_rows.append(np.array([final[name] for name in FINAL], dtype=np.int64))
        first = len(med_p)
        for p, sd, nb, unit, _rep, _clo in closed:
            med_p.append(_date(p))
            med_sd.append(sd)
            med_nb.append(nb)
            med_unit.append(unit or "")
        h_parts.append(np.fromiter(((clo - rep) / dt.timedelta(hours=1)
                                    for *_k, rep, clo in closed), dtype=np.float64,
                                   count=len(closed)))
        owner_parts.append(np.arange(first, first + len(closed), dtype=np.int64))
    if extra_rows:
        matrix = np.vstack([matrix, np.stack(extra_rows)])
    h = np.concatenate(h_parts)
    h_owner = np.concatenate(owner_parts).astype(np.int64)
    # Sort the closing times once; each grouping then sorts stably by its group code.
    order = np.argsort(h, kind="stable")
    h_sorted, owner_sorted = h[order], h_owner[order]
    keys_of = {"subdistrict_id": (rows_sd, med_sd), "neighbourhood_id": (rows_nb, med_nb),
               "lead_unit": (rows_unit, med_unit)}
    out: dict[str, list[MeasureRow]] = {}
    for grouping in groupings:
        field = GROUP_FIELDS[grouping]
        row_keys = _keys(keys_of[field][0] if field else None, len(rows_p))
        med_keys = _keys(keys_of[field][1] if field else None, len(med_p))
        out[grouping] = _rows(grouping, period, _sum_by(rows_p, row_keys, matrix),
                              _medians_of(med_p, med_keys, owner_sorted, h_sorted), cfg)
    return out


def _keys(values: list[Any] | None, n: int) -> list[str]:
    if values is None:
        return [""] * n
    return ["" if v is None else str(v) for v in values]


def _sum_by(periods: list[dt.date], keys: list[str],
            matrix: np.ndarray) -> dict[tuple[dt.date, str], dict[str, int]]:
    """Sum the rows of ``matrix`` (one column per :data:`FINAL` count) per (period, key)."""
    index: dict[tuple[dt.date, str], int] = {}
    code = np.fromiter((index.setdefault(pk, len(index)) for pk in zip(periods, keys,
                                                                       strict=True)),
                       dtype=np.int64, count=len(periods))
    sums = np.zeros((len(index), len(FINAL)), dtype=np.int64)
    for j in range(len(FINAL)):
        sums[:, j] = np.bincount(code, weights=matrix[:, j], minlength=len(index))
    return {pk: dict(zip(FINAL, sums[i].tolist(), strict=True)) for pk, i in index.items()}


def _medians_of(periods: list[dt.date], keys: list[str], owner_sorted: np.ndarray,
                h_sorted: np.ndarray) -> dict[tuple[dt.date, str], float | None]:
    """Median hours per (period, key) of rows ``periods``/``keys``; ``h_sorted`` ascending,
    ``owner_sorted[i]`` the row of ``h_sorted[i]``. A stable sort by group keeps each
    group's hours ascending; then the middle (the mean of the two middle values for an even
    count, as ``percentile_cont(0.5)``)."""
    index: dict[tuple[dt.date, str], int] = {}
    row_code = np.fromiter((index.setdefault(pk, len(index)) for pk in zip(periods, keys,
                                                                           strict=True)),
                           dtype=np.int64, count=len(periods))
    if not len(h_sorted):
        return {}
    code = row_code[owner_sorted]
    o = np.argsort(code, kind="stable")
    c_sorted, hs = code[o], h_sorted[o]
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    ends = np.r_[starts[1:], len(c_sorted)]
    n = ends - starts
    mids = (hs[starts + (n - 1) // 2] + hs[starts + n // 2]) / 2.0
    names = list(index)
    return {names[c]: m for c, m in zip(c_sorted[starts].tolist(), mids.tolist(), strict=True)}


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
