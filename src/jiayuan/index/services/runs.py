"""Index runs: derive → merge imports → engine → store scores and diagnostics.

``run_index(period, …)`` does it all synchronously (the CLI, the worker's task, tests);
``request_run`` records a queued run and enqueues :func:`jiayuan.index.tasks.execute_run` (the
"compute now" button, the periodic job). Progress is written to the run as it goes.

The panel holds the period and its ``history`` earlier periods of the same kind (default 2:
the three-year moving average of the base period, and the self-growth leaves, need them);
earlier periods are derived when they hold no platform values yet (or ``rederive_all``).
Each compound type is scored on its own by the engine; scores are stored for every period of
the panel (on this run's goalposts, so a compound's trend compares like with like), the leaf values
and Z, the Monte Carlo rank interval and the below-median explanation for the run's period.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from jiayuan.core.errors import DomainError, ValidationFailed
from jiayuan.index.derive import derivers
from jiayuan.index.derive.base import derivation_cache
from jiayuan.index.engine import (
    Catalogue,
    ComputeOptions,
    Indicator,
    Panel,
    compute_index,
    default_catalogue,
)
from jiayuan.index.engine.analysis import correlations, cronbach_alpha, explain, monte_carlo
from jiayuan.index.models import (
    CompoundScore,
    IndexPeriod,
    IndexRun,
    LeafValue,
    RunDiagnostics,
)
from jiayuan.index.services.bulk import insert_rows
from jiayuan.index.services.derivation import derive_period
from jiayuan.index.services.periods import panel_periods
from jiayuan.registry.models import Compound, CompoundType

INDEXED_TYPES = tuple(t.value for t in CompoundType if t != CompoundType.URBAN_VILLAGE)

SCORE_FIELDS = ("run", "compound", "period_label", "compound_type", "path", "subdistrict_code",
                "status", "coverage", "total", "rank", "of", "dimensions", "subindices", "z",
                "x", "rank_median", "rank_low", "rank_high", "explanation")
DEFAULTS: dict[str, Any] = {
    "history": 2, "seed": 0, "push_mode": "relative", "push_fraction": 0.10,
    "coverage": 0.75, "normalisation": "minmax", "aggregation": "arithmetic",
    "mc_draws": 1000, "rederive_all": False,
}
CHOICES = {"push_mode": ("relative", "range"),
           "normalisation": ("minmax", "zscore", "rank", "target"),
           "aggregation": ("arithmetic", "geometric")}


def clean_parameters(given: dict[str, Any] | None) -> dict[str, Any]:
    """The run's parameters: defaults overridden by ``given``; refuses unknown or bad ones."""
    params = dict(DEFAULTS)
    problems: list[str] = []
    for k, v in (given or {}).items():
        if k not in DEFAULTS:
            problems.append(f"未知参数 {k}")
            continue
        params[k] = v
    for k, allowed in CHOICES.items():
        if params[k] not in allowed:
            problems.append(f"参数 {k} 应为 {'、'.join(allowed)} 之一")
    try:
        for k in ("history", "seed", "mc_draws"):
            params[k] = int(params[k])
        for k in ("push_fraction", "coverage"):
            params[k] = float(params[k])
    except (TypeError, ValueError):
        problems.append("数值参数无法识别")
    else:
        if not 0 <= params["history"] <= 5:
            problems.append("history 应在 0–5 之间")
        if not 0 <= params["mc_draws"] <= 10000:
            problems.append("mc_draws 应在 0–10000 之间")
        if not 0 <= params["coverage"] <= 1:
            problems.append("coverage 应在 0–1 之间")
        if not 0 <= params["push_fraction"] <= 1:
            problems.append("push_fraction 应在 0–1 之间")
    if problems:
        raise ValidationFailed("；".join(problems), details={"problems": problems})
    params["rederive_all"] = bool(params["rederive_all"])
    return params


def catalogue_snapshot(cat: Catalogue) -> dict[str, Any]:
    return {"indicators": [dataclasses.asdict(i) for i in cat.indicators],
            "dimension_points": dict(cat.dimension_points)}


def catalogue_of(run: IndexRun) -> Catalogue:
    snap = run.catalogue or {}
    if not snap:
        return default_catalogue()
    return Catalogue(tuple(Indicator(**i) for i in snap["indicators"]),
                     dict(snap.get("dimension_points") or {}))


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else round(f, 10)


def _progress(run: IndexRun, pct: int, step: str) -> None:
    run.progress = pct
    run.step = step
    IndexRun.objects.filter(pk=run.pk).update(progress=pct, step=step)


@transaction.atomic
def request_run(period: IndexPeriod, *, user: Any = None, parameters: dict[str, Any] | None = None,
                trigger: str = "manual", enqueue: bool = True) -> IndexRun:
    """Record a queued run and (after commit) enqueue it for the worker."""
    params = clean_parameters(parameters)
    # one request at a time per period: the period row is the lock
    IndexPeriod.objects.select_for_update().filter(pk=period.pk).first()
    if IndexRun.objects.filter(period=period, status__in=(IndexRun.Status.QUEUED,
                                                          IndexRun.Status.RUNNING)).exists():
        raise ValidationFailed(f"{period.label} 期已有排队或进行中的计算，请稍候",
                               details={"period": period.label})
    run = IndexRun.objects.create(period=period, parameters=params, requested_by=user,
                                  trigger=trigger)
    if enqueue:
        from jiayuan.index.tasks import execute_run

        transaction.on_commit(lambda: execute_run.enqueue(run.pk))
    return run


def run_index(period: IndexPeriod, *, user: Any = None, parameters: dict[str, Any] | None = None,
              trigger: str = "manual", catalogue: Catalogue | None = None) -> IndexRun:
    """Create a run of ``period`` and execute it now; returns the finished run."""
    run = IndexRun.objects.create(period=period, parameters=clean_parameters(parameters),
                                  requested_by=user, trigger=trigger)
    return execute(run, catalogue=catalogue)


def execute(run: IndexRun, *, catalogue: Catalogue | None = None) -> IndexRun:
    """Execute a queued run. A failure is recorded on the run (status ``failed``)."""
    cat = catalogue or default_catalogue()
    run.status = IndexRun.Status.RUNNING
    run.started_at = timezone.now()
    run.catalogue = catalogue_snapshot(cat)
    run.save(update_fields=["status", "started_at", "catalogue"])
    try:
        _execute(run, cat)
    except DomainError as exc:
        run.status = IndexRun.Status.FAILED
        run.error = exc.message
    except Exception as exc:  # noqa: BLE001 — recorded on the run, then re-raised
        IndexRun.objects.filter(pk=run.pk).update(
            status=IndexRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now())
        raise
    else:
        run.status = IndexRun.Status.DONE
        run.progress = 100
        run.step = ""
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "progress", "step", "problems",
                            "periods"])
    return run


def _execute(run: IndexRun, cat: Catalogue) -> None:
    p = run.parameters
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    periods = panel_periods(run.period, p["history"])
    run.periods = [q.label for q in periods]
    codes = [i.code for i in cat.indicators if not i.growth_of]
    registry = derivers()
    problems: list[dict[str, Any]] = []

    # 1. derivation
    derivable = [c for c in codes if c in registry]
    for c in codes:
        ind = cat.indicators[cat.index_of(c)]
        if ind.source == "platform" and c not in registry:
            problems.append({"kind": "no_deriver", "indicator": c,
                             "message": f"指标 {c} 标为平台数据，但没有推导规则"})
    with derivation_cache():  # households counted once for every period
        for k, q in enumerate(periods):
            _progress(run, 5 + 40 * k // len(periods), f"推导 {q.label} 期平台指标")
            fresh = (q.pk == run.period.pk or p["rederive_all"] or not LeafValue.objects.filter(
                period=q, source=LeafValue.Source.PLATFORM).exists())
            if fresh:
                report = derive_period(q, derivable)
                if q.pk == run.period.pk:
                    for c, r in report.items():
                        if r["status"] == "no_data_source":
                            problems.append({"kind": "no_data_source", "indicator": c,
                                             "message": f"指标 {c} 无数据来源：{r['reason']}"})
    timings["derive"] = time.perf_counter() - t0

    # 2. panel: platform values, overridden by imported ones
    _progress(run, 50, "汇集指标值")
    t1 = time.perf_counter()
    comps = list(Compound.objects.filter(compound_type__in=INDEXED_TYPES).order_by("code")
                 .values_list("id", "code", "compound_type", "path",
                              "neighbourhood__subdistrict__code"))
    if not comps:
        raise ValidationFailed("登记册中没有可参评的小区")
    ci = {c[0]: i for i, c in enumerate(comps)}
    pi = {q.pk: i for i, q in enumerate(periods)}
    li = {c: cat.index_of(c) for c in codes}
    values = np.full((len(comps), len(periods), len(cat.indicators)), np.nan)
    order = {LeafValue.Source.PLATFORM: 0, LeafValue.Source.IMPORT: 1}
    rows = (LeafValue.objects.filter(period__in=periods, indicator__in=codes, value__isnull=False)
            .values_list("period_id", "compound_id", "indicator", "value", "source"))
    for per_id, cid, code, v, _src in sorted(rows, key=lambda r: order[r[4]]):
        c = ci.get(cid)
        if c is not None:
            values[c, pi[per_id], li[code]] = v
    target = len(periods) - 1
    present = ~np.isnan(values[:, target, :])
    leaf_coverage: dict[str, Any] = {}
    listed = {pr["indicator"] for pr in problems}
    for c in codes:
        j = li[c]
        n = int(present[:, j].sum())
        leaf_coverage[c] = {"with_value": n, "without": len(comps) - n}
        if n == 0 and c not in listed:
            problems.append({"kind": "leaf_without_data", "indicator": c,
                             "message": f"指标 {c} 本期没有任何小区的数据"})
        elif 0 < n < len(comps):
            problems.append({"kind": "leaf_partly_missing", "indicator": c,
                             "message": f"指标 {c} 有 {len(comps) - n} 个小区缺数据",
                             "missing": len(comps) - n})
    panel = Panel(tuple(c[1] for c in comps), tuple(c[2] for c in comps),
                  tuple(q.label for q in periods), values)
    options = ComputeOptions(
        seed=p["seed"], push_mode=p["push_mode"], push_fraction=p["push_fraction"],
        coverage_threshold=p["coverage"], normalisation=p["normalisation"],
        aggregation=p["aggregation"], base_window=3,
    )
    timings["panel"] = time.perf_counter() - t1

    # 3. the engine (each type on its own)
    _progress(run, 55, "计算指数")
    t2 = time.perf_counter()
    result = compute_index(panel, cat, options)
    timings["score"] = time.perf_counter() - t2
    for comp, per, reason, cov in result.unscored():
        if per == run.period.label:
            problems.append({"kind": "unscored", "compound": comp, "reason": reason,
                             "coverage": round(cov, 4),
                             "message": f"小区 {comp} 未计分（{reason}，覆盖率 {cov:.0%}）"})

    # 4. analysis of the run's period
    t3 = time.perf_counter()
    mc_by: dict[str, Any] = {}
    if p["mc_draws"] > 0:
        _progress(run, 65, f"蒙特卡洛敏感性分析（{p['mc_draws']} 次）")
        mc = monte_carlo(result, period=run.period.label, draws=p["mc_draws"], seed=p["seed"])
        mc_by = {iv.compound: iv for iv in mc.intervals}
    timings["monte_carlo"] = time.perf_counter() - t3
    _progress(run, 85, "相关性与一致性检验")
    expl = {e.compound: e for e in explain(result, run.period.label, top=5)}
    types = sorted(set(panel.types))
    corr: dict[str, Any] = {}
    alpha: dict[str, Any] = {}
    for t in types:
        try:
            rep = correlations(result, t, run.period.label)
        except DomainError:
            continue
        corr[t] = {"codes": list(rep.codes),
                   "matrix": [[_num(v) for v in row] for row in rep.matrix.tolist()],
                   "within_mean": _num(rep.within_mean), "across_mean": _num(rep.across_mean),
                   "flagged": [list(f) for f in rep.flagged]}
        alpha[t] = {d: _num(a) for d, a in cronbach_alpha(result, t, run.period.label).items()}

    # 5. store
    _progress(run, 90, "保存结果")
    t4 = time.perf_counter()
    s = result.scores
    dims, subs = cat.dimensions, cat.subindices
    total = s.total
    type_arr = np.array(panel.types)
    ranks = np.full(total.shape, np.nan)
    counts = np.zeros(total.shape, dtype=int)
    for t in types:
        rows_t = np.flatnonzero(type_arr == t)
        for q in range(len(periods)):
            tt = total[rows_t, q]
            ok = ~np.isnan(tt)
            srt = np.sort(tt[ok])[::-1]
            # competition ranking: 1 + how many of the type scored strictly higher
            r = 1 + np.searchsorted(-srt, -tt[ok], side="left")
            tmp = np.full(rows_t.size, np.nan)
            tmp[ok] = r
            ranks[rows_t, q] = tmp
            counts[rows_t, q] = int(ok.sum())
    reasons = {0.0: "scored", 1.0: "coverage_below_threshold", 2.0: "dimension_without_data"}
    out: list[tuple[Any, ...]] = []
    all_codes = cat.codes
    for c, (cid, code, ctype, path, sd_code) in enumerate(comps):
        for q, per in enumerate(periods):
            is_target = q == target
            iv = mc_by.get(code) if is_target else None
            ex = expl.get(code) if is_target else None
            out.append((
                run.pk, cid, per.label, ctype, path, sd_code or "",
                reasons[float(s.reason[c, q])], float(s.coverage[c, q]), _num(total[c, q]),
                None if np.isnan(ranks[c, q]) else int(ranks[c, q]), int(counts[c, q]),
                {d: _num(s.dimension_points[c, q, i]) for i, d in enumerate(dims)},
                {d: _num(s.subindex_points[c, q, i]) for i, d in enumerate(subs)},
                # leaf values and Z for the run's own period only (pages show no more)
                {k: _num(result.z[c, q, j]) for j, k in enumerate(all_codes)}
                if is_target else {},
                {k: _num(result.x[c, q, j]) for j, k in enumerate(all_codes)}
                if is_target else {},
                _num(iv.median) if iv else None, _num(iv.low) if iv else None,
                _num(iv.high) if iv else None,
                {
                    "below_median": ex.below_median,
                    "type_median_total": _num(ex.type_median_total),
                    "pulls": [{"code": pl.code, "z": _num(pl.z), "median_z": _num(pl.type_median_z),
                               "gap": _num(pl.gap)} for pl in ex.pulls],
                } if ex else {},
            ))
    with transaction.atomic():
        insert_rows(CompoundScore, SCORE_FIELDS, out)
        RunDiagnostics.objects.create(
            run=run,
            thresholds={t: {"population": th.population, "sample_size": th.sample_size,
                            "x_min": {k: _num(v) for k, v in zip(all_codes, th.x_min, strict=True)},
                            "x_max": {k: _num(v) for k, v in zip(all_codes, th.x_max, strict=True)}}
                        for t, th in result.thresholds.items()},
            correlations=corr, alpha=alpha,
            sensitivity={"draws": p["mc_draws"], "seed": p["seed"], "interval": 0.90,
                         "skew_treated": list(result.skew_treated)},
            leaf_coverage=leaf_coverage,
        )
    timings["store"] = time.perf_counter() - t4
    run.parameters = {**p, "timings": {k: round(v, 3) for k, v in timings.items()}}
    run.problems = problems
    IndexRun.objects.filter(pk=run.pk).update(parameters=run.parameters)
