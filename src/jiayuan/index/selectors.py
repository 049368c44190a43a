"""Reads of the index. Every function that returns compound rows takes the viewer's
``AreaScope`` and filters by the stored compound path."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import F, QuerySet

from jiayuan.accounts.scope import AreaScope
from jiayuan.core.errors import NotFound
from jiayuan.index.engine import COMPOUND_TYPES, default_catalogue
from jiayuan.index.models import CompoundScore, IndexPeriod, IndexRun, LeafValue, RunDiagnostics
from jiayuan.registry.models import Compound, Subdistrict

SORTS = {
    "rank": (F("rank").asc(nulls_last=True), "compound__code"),
    "-rank": (F("rank").desc(nulls_last=True), "compound__code"),
    "total": (F("total").asc(nulls_last=True), "compound__code"),
    "-total": (F("total").desc(nulls_last=True), "compound__code"),
    "code": ("compound__code",),
    "-code": ("-compound__code",),
    "name": ("compound__name",),
    "coverage": ("coverage", "compound__code"),
    "-coverage": ("-coverage", "compound__code"),
}


def periods() -> list[IndexPeriod]:
    """Periods that have a finished run, newest first."""
    return list(IndexPeriod.objects.filter(runs__status=IndexRun.Status.DONE).distinct()
                .order_by("-start"))


def latest_run(period: IndexPeriod | None = None) -> IndexRun | None:
    qs = IndexRun.objects.filter(status=IndexRun.Status.DONE).select_related("period")
    if period is not None:
        qs = qs.filter(period=period)
    else:
        qs = qs.order_by("-period__start", "-finished_at", "-id")
    return qs.order_by("-period__start", "-finished_at", "-id").first()


def period_by_label(label: str | None) -> IndexPeriod | None:
    if not label:
        return None
    return IndexPeriod.objects.filter(label=label.strip().upper()).first()


def recent_runs(limit: int = 10) -> list[IndexRun]:
    return list(IndexRun.objects.select_related("period", "requested_by")[:limit])


def get_run(run_id: int) -> IndexRun:
    run = IndexRun.objects.select_related("period").filter(pk=run_id).first()
    if run is None:
        raise NotFound("没有这次计算")
    return run


def scores(scope: AreaScope, run: IndexRun, *, compound_type: str | None = None,
           subdistrict: str | None = None, sort: str = "rank") -> QuerySet[CompoundScore]:
    """The run's scores of its own period for the compounds in scope."""
    qs = CompoundScore.objects.filter(run=run, period_label=run.period.label)
    if compound_type:
        qs = qs.filter(compound_type=compound_type)
    if subdistrict:
        qs = qs.filter(subdistrict_code=subdistrict)
    return (scope.filter(qs).select_related("compound", "compound__neighbourhood")
            .defer("compound__boundary", "compound__neighbourhood__boundary")  # polygons
            .order_by(*SORTS.get(sort, SORTS["rank"])))


def type_counts(scope: AreaScope, run: IndexRun) -> dict[str, int]:
    out = dict.fromkeys(COMPOUND_TYPES, 0)
    for t in scope.filter(CompoundScore.objects.filter(run=run, period_label=run.period.label)) \
            .values_list("compound_type", flat=True):
        out[t] = out.get(t, 0) + 1
    return out


def subdistricts(scope: AreaScope) -> list[tuple[str, str]]:
    return list(scope.filter(Subdistrict.objects.all()).values_list("code", "name")) or \
        list(Subdistrict.objects.filter(
            code__in=scope.filter(Compound.objects.all()).values(
                "neighbourhood__subdistrict__code")).values_list("code", "name"))


def map_scores(scope: AreaScope, run: IndexRun) -> dict[str, dict[str, Any]]:
    """Per compound code: total, rank, of and the position within its type (0 best … 1)."""
    out: dict[str, dict[str, Any]] = {}
    for code, ctype, total, rank, of, status in scope.filter(
            CompoundScore.objects.filter(run=run, period_label=run.period.label)).values_list(
            "compound__code", "compound_type", "total", "rank", "of", "status"):
        pos = None if rank is None or of <= 1 else (rank - 1) / (of - 1)
        out[code] = {"type": ctype, "total": total, "rank": rank, "of": of, "status": status,
                     "position": 0.0 if rank is not None and of == 1 else pos}
    return out


def compound_score(scope: AreaScope, run: IndexRun, code: str) -> CompoundScore:
    """One compound's score in the run's period; NotFound / OutOfScope."""
    row = (CompoundScore.objects.filter(run=run, period_label=run.period.label,
                                        compound__code=code)
           .select_related("compound", "compound__neighbourhood")
           .defer("compound__boundary", "compound__neighbourhood__boundary").first())
    if row is None:
        raise NotFound(f"本次计算中没有小区“{code}”")
    scope.require(row.path, missing=f"本次计算中没有小区“{code}”")
    return row


def trend(row: CompoundScore) -> list[dict[str, Any]]:
    """The compound across the run's periods, and across the latest runs of other periods."""
    seen: dict[str, dict[str, Any]] = {}
    for s in CompoundScore.objects.filter(run=row.run, compound=row.compound).order_by(
            "period_label"):
        seen[s.period_label] = {"period": s.period_label, "total": s.total, "rank": s.rank,
                                "of": s.of, "dimensions": s.dimensions}
    return [seen[k] for k in sorted(seen)]


def type_medians(run: IndexRun, compound_type: str) -> dict[str, float | None]:
    """Median dimension points of a type in the run's period (all compounds of the type: the
    peers a compound is compared with, whatever the viewer's area)."""
    dims: dict[str, list[float]] = {}
    for d in CompoundScore.objects.filter(run=run, period_label=run.period.label,
                                          compound_type=compound_type, status="scored") \
            .values_list("dimensions", flat=True):
        for k, v in d.items():
            if v is not None:
                dims.setdefault(k, []).append(v)
    return {k: statistics.median(v) if v else None for k, v in dims.items()}


def missing_reasons(run: IndexRun, compound_id: int) -> dict[str, str]:
    """Why a leaf has no value for one compound in the run's period (derivers' reasons)."""
    return dict(LeafValue.objects.filter(period=run.period, compound_id=compound_id,
                                         value__isnull=True).exclude(reason="")
                .values_list("indicator", "reason"))


def diagnostics(run: IndexRun) -> RunDiagnostics | None:
    return RunDiagnostics.objects.filter(run=run).first()


def catalogue_names() -> dict[str, str]:
    return {i.code: i.name_zh or i.code for i in default_catalogue().indicators}


def dimension_names() -> dict[str, str]:
    return {"management_precision": "管理精细", "community_vitality": "社群活力",
            "resident_satisfaction": "居民满意", "capacity_progress": "能力进步"}
