"""The measures' monthly roll-up (``CaseMonthRollup``): build it, keep it fresh, read its cells.

One row per cell: Asia/Shanghai month of ``reported_at`` × area (the case's neighbourhood
path, else its own path: what area scope needs down to a neighbourhood) × subdistrict ×
neighbourhood × lead unit. A cell holds

* the counts that do not depend on the moment the measures are read at (reported, responded,
  rejected, dispatched, handled, closed, on time, resolved, extended, the three ratings, and
  closed-and-reworked), taken with the same conditions as the direct query
  (``queries.static_conditions``);
* four short lists of int64 microseconds (little-endian bytes), from which a read evaluates the
  rest exactly at its ``now``: the closing times (``closed_at − reported_at``) of the closed
  cases, for the medians; the report times of the cases not (yet) responded to in time, for
  ``due_response``; the deadlines of the open cases, and of the open reworked ones, for
  ``due_closure`` and ``reworked``.

So a read of the roll-up equals the direct query over the cases as they were at ``as_of``.

:func:`rebuild` recomputes everything (``jiayuan cases measures rebuild``; the worker once a
day as a safety net). :func:`refresh` (the worker, every minute) recomputes only the
(month, area) slices holding a case whose ``updated_at`` is later than the last refresh's
mark minus :data:`REFRESH_OVERLAP` (so a transaction that committed late is still seen);
recomputing a slice is idempotent, so overlapping or repeated refreshes are harmless.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from jiayuan.cases.lifecycle import State
from jiayuan.cases.measures.formulas import MeasureConfig, config_from_mapping
from jiayuan.cases.models import Case, CaseMonthRollup, CaseRollupState

SH = ZoneInfo("Asia/Shanghai")
STATE_PK = 1
# How far before the last refresh's mark a refresh looks again for changed cases: a
# transaction that stamped updated_at before the mark but committed after it is still seen.
REFRESH_OVERLAP = dt.timedelta(minutes=2)
STORED = ("reported", "responded", "rejected", "dispatched", "handled", "handled_on_time",
          "closed", "closed_on_time", "closed_reworked", "resolved", "extended", "satisfied",
          "basically_satisfied", "dissatisfied")
LISTS = ("close_times", "pending_times", "open_due_times", "open_reworked_due_times")
CELL = ("m", "area", "subdistrict_id", "neighbourhood_id", "lead_unit")
OPEN_VALID = tuple(s.value for s in State
                   if s not in (State.CLOSED, State.RATED, State.REJECTED, State.MERGED))
CLOSED_STATES = (State.CLOSED.value, State.RATED.value)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)


def configured() -> MeasureConfig:
    return config_from_mapping(getattr(settings, "JIAYUAN_CASE_MEASURES", None))


def epoch_us(when: dt.datetime) -> int:
    return (when - EPOCH) // US


class EpochMicros(Func):
    """PostgreSQL: a timestamp (or a difference of two) as whole microseconds (exact: the
    epoch of a timestamp is a numeric with six decimals)."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) * 1000000)::bigint"
    arg_joiner = " - "
    output_field = IntegerField()


def month_of(field: str = "reported_at") -> Trunc:
    """The first day of the Asia/Shanghai month of ``field``."""
    return Trunc(field, "month", output_field=DateField(), tzinfo=SH)


def _cases(extra: Q | None = None) -> QuerySet[Case]:
    qs = Case.objects.exclude(state=State.MERGED.value)
    if extra is not None:
        qs = qs.filter(extra)
    return qs.annotate(m=month_of(), area=Coalesce(F("neighbourhood__path"), F("path"))
                       ).order_by()


@dataclass(frozen=True)
class RollupResult:
    slices: int      # (month, area) slices recomputed (0 for a rebuild: everything)
    cells: int       # roll-up rows written
    seconds: float


def _lists(qs: QuerySet[Case], cfg: MeasureConfig) -> dict[tuple[Any, ...], dict[str, list[int]]]:
    """Per cell, the four microsecond lists (see the module docstring)."""
    from jiayuan.cases.measures.queries import static_conditions

    conds = static_conditions(cfg)
    out: dict[tuple[Any, ...], dict[str, list[int]]] = defaultdict(
        lambda: {name: [] for name in LISTS})
    closed = Q(state__in=CLOSED_STATES, closed_at__isnull=False)
    open_due = Q(state__in=OPEN_VALID, due_at__isnull=False)
    pending = ~conds["responded"]
    # Only the rows that feed a list; with the flags, so one read serves the four lists.
    rows = qs.filter(closed | open_due | pending).annotate(
        is_closed=_flag(closed), is_open=_flag(open_due), is_pending=_flag(pending),
        is_reworked=_flag(Q(reopened_count__gt=0)))
    on_pg = connection.vendor == "postgresql"
    if on_pg:
        rows = rows.annotate(rep_us=EpochMicros(F("reported_at")),
                             close_us=EpochMicros(F("closed_at"), F("reported_at")),
                             due_us=EpochMicros(F("due_at")))
        cols = [*CELL, "is_closed", "is_open", "is_pending", "is_reworked", "rep_us",
                "close_us", "due_us"]
    else:
        cols = [*CELL, "is_closed", "is_open", "is_pending", "is_reworked", "reported_at",
                "closed_at", "due_at"]
    for row in rows.values_list(*cols).iterator(chunk_size=20000):
        key = row[:5]
        is_closed, is_open, is_pending, is_reworked = row[5:9]
        if on_pg:
            rep, close, due = row[9:12]
        else:
            rep = epoch_us(row[9])
            close = (row[10] - row[9]) // US if row[10] is not None else None
            due = epoch_us(row[11]) if row[11] is not None else None
        lists = out[key]
        if is_closed:
            lists["close_times"].append(close)
        if is_pending:
            lists["pending_times"].append(rep)
        if is_open:
            lists["open_due_times"].append(due)
            if is_reworked:
                lists["open_reworked_due_times"].append(due)
    return out


def _flag(q: Q) -> Any:
    return Choose(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def _pack(values: Iterable[int]) -> bytes:
    return np.sort(np.fromiter(values, dtype="<i8")).tobytes()


def _write(extra: Q | None, cfg: MeasureConfig) -> int:
    """Compute the cells of the cases matching ``extra`` and insert them; returns how many."""
    from jiayuan.cases.measures.queries import static_conditions

    qs = _cases(extra)
    aggregates: dict[str, Any] = {"reported": Count("id")}
    for name, q in static_conditions(cfg).items():
        aggregates[name] = Count("id", filter=q)
    counts = list(qs.values(*CELL).annotate(**aggregates))
    lists = _lists(qs, cfg)
    objs = []
    for r in counts:
        key = tuple(r[c] for c in CELL)
        cell_lists = lists.get(key) or {name: [] for name in LISTS}
        objs.append(CaseMonthRollup(
            month=r["m"], area_path=r["area"] or "", subdistrict_id=r["subdistrict_id"],
            neighbourhood_id=r["neighbourhood_id"], lead_unit=r["lead_unit"] or "",
            **{name: r[name] for name in STORED},
            **{name: _pack(cell_lists[name]) for name in LISTS}))
    CaseMonthRollup.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def state() -> CaseRollupState | None:
    return CaseRollupState.objects.filter(pk=STATE_PK).first()


def rebuild(config: MeasureConfig | None = None) -> RollupResult:
    """Recompute the whole roll-up in one transaction (readers see the old one until it
    commits). Idempotent."""
    cfg = config or configured()
    t0 = timezone.now()
    with transaction.atomic():
        CaseRollupState.objects.select_for_update().filter(pk=STATE_PK).first()
        started = timezone.now()
        CaseMonthRollup.objects.all().delete()
        cells = _write(None, cfg)
        CaseRollupState.objects.update_or_create(pk=STATE_PK, defaults={
            "built_at": started, "as_of": started, "watermark": started,
            "response_limit_hours": cfg.response_limit_hours})
    return RollupResult(slices=0, cells=cells, seconds=(timezone.now() - t0).total_seconds())


def _month_range(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (dt.datetime.combine(month, dt.time(), SH),
            dt.datetime.combine(nxt, dt.time(), SH))


def refresh(config: MeasureConfig | None = None) -> RollupResult:
    """Recompute the (month, area) slices of the cases changed since the last refresh (minus
    the overlap). Rebuilds instead when there is no roll-up yet or the response limit it was
    taken with is no longer the configured one."""
    cfg = config or configured()
    t0 = timezone.now()
    with transaction.atomic():
        st = CaseRollupState.objects.select_for_update().filter(pk=STATE_PK).first()
        if st is None or st.response_limit_hours != cfg.response_limit_hours:
            return rebuild(cfg)
        started = timezone.now()
        since = (st.watermark or st.built_at) - REFRESH_OVERLAP
        changed = set(Case.objects.filter(updated_at__gt=since).annotate(
            m=month_of(), area=Coalesce(F("neighbourhood__path"), F("path"))).order_by()
            .values_list("m", "area", "neighbourhood_id").distinct())
        slices = {(month, area or "") for month, area, _nb in changed}
        by_month: dict[dt.date, set[str]] = defaultdict(set)
        nbs: dict[dt.date, set[int]] = defaultdict(set)
        for month, area, nb in changed:
            by_month[month].add(area or "")
            if nb is not None:
                nbs[month].add(nb)
        cells = 0
        for month, areas in sorted(by_month.items()):
            CaseMonthRollup.objects.filter(month=month, area_path__in=areas).delete()
            lo, hi = _month_range(month)
            # A neighbourhood's area holds exactly its cases (indexed by neighbourhood_id);
            # the few cases without a neighbourhood are found by their path.
            in_area = Q(neighbourhood_id__in=nbs[month]) | Q(neighbourhood__isnull=True,
                                                              path__in=areas)
            cells += _write(Q(reported_at__gte=lo, reported_at__lt=hi) & in_area, cfg)
        st.as_of = started
        st.watermark = started
        st.save(update_fields=["as_of", "watermark"])
    return RollupResult(slices=len(slices), cells=cells,
                        seconds=(timezone.now() - t0).total_seconds())
