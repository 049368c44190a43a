"""Statistical checks and explanations over a computed index (one period at a time).

- :func:`correlations`: leaf–leaf correlations within one compound type, summarised within
  and across dimensions, with suspicious pairs flagged;
- :func:`cronbach_alpha`: internal consistency of each dimension's leaves;
- :func:`monte_carlo`: uncertainty and sensitivity — random weights, normalisation and
  aggregation, each compound's rank interval inside its type (seeded);
- :func:`explain`: which leaves pull a compound below the median of its type.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .aggregate import AGGREGATIONS, Aggregation, aggregate, structure
from .catalogue import FloatArray
from .compute import IndexResult, normalise_values
from .errors import OptionInvalid
from .normalise import Normalisation


def _period(result: IndexResult, period: str | None) -> int:
    periods = result.panel.periods
    if period is None:
        return len(periods) - 1
    if period not in periods:
        raise OptionInvalid(f"期数 {period} 不在结果中")
    return periods.index(period)


def _rows(result: IndexResult, compound_type: str) -> np.ndarray:
    rows = np.flatnonzero(np.array(result.panel.types) == compound_type)
    if rows.size == 0:
        raise OptionInvalid(f"没有 {compound_type} 类型的小区")
    return rows


# -- correlations --------------------------------------------------------------------------
@dataclass(frozen=True)
class CorrelationReport:
    """Pairwise-complete correlations of the leaves' Z inside one type and period.

    ``within_mean`` / ``across_mean``: mean correlation of leaf pairs in the same / different
    dimensions; ``flagged``: pairs with |r| ≥ ``redundant`` (possible double counting) and
    negative pairs inside a dimension (the dimension may not measure one thing).
    """

    codes: tuple[str, ...]
    matrix: FloatArray
    within_mean: float
    across_mean: float
    flagged: tuple[tuple[str, str, float, str], ...]


def _ranks(v: FloatArray) -> FloatArray:
    order = np.argsort(v, kind="mergesort")
    r = np.empty(v.size)
    r[order] = np.arange(1, v.size + 1, dtype=np.float64)
    uniq, inv = np.unique(v, return_inverse=True)
    return np.asarray((np.bincount(inv, weights=r) / np.bincount(inv))[inv], np.float64)


def correlation_matrix(z: FloatArray, method: str = "pearson") -> FloatArray:
    """Pairwise-complete Pearson or Spearman correlations of the columns of ``z``.

    A pair with fewer than 3 common values or a constant column gives NaN.
    """
    if method not in ("pearson", "spearman"):
        raise OptionInvalid(f"未知的相关方法：{method}")
    n = z.shape[1]
    m = np.full((n, n), np.nan)
    for a in range(n):
        for b in range(a, n):
            ok = ~np.isnan(z[:, a]) & ~np.isnan(z[:, b])
            if ok.sum() < 3:
                continue
            u, v = z[ok, a], z[ok, b]
            if method == "spearman":
                u, v = _ranks(u), _ranks(v)
            if u.std() == 0 or v.std() == 0:
                continue
            r = float(np.corrcoef(u, v)[0, 1])
            m[a, b] = m[b, a] = r
    return m


def correlations(
    result: IndexResult,
    compound_type: str,
    period: str | None = None,
    *,
    method: str = "pearson",
    redundant: float = 0.9,
) -> CorrelationReport:
    """Correlation report of one type's leaves in one period (default: the last)."""
    p = _period(result, period)
    z = result.z[_rows(result, compound_type), p, :]
    m = correlation_matrix(z, method)
    dim = result.catalogue.dimension_of_leaf
    codes = result.catalogue.codes
    iu = np.triu_indices(len(codes), k=1)
    same = dim[iu[0]] == dim[iu[1]]
    vals = m[iu]
    with np.errstate(invalid="ignore"):
        within = float(np.nanmean(vals[same])) if np.any(~np.isnan(vals[same])) else float("nan")
        across = float(np.nanmean(vals[~same])) if np.any(~np.isnan(vals[~same])) else float("nan")
    flagged: list[tuple[str, str, float, str]] = []
    for a, b, r, s in zip(iu[0], iu[1], vals, same, strict=True):
        if np.isnan(r):
            continue
        if abs(r) >= redundant:
            flagged.append((codes[a], codes[b], float(r), "redundant"))
        elif s and r < 0:
            flagged.append((codes[a], codes[b], float(r), "negative_within_dimension"))
    return CorrelationReport(codes, m, within, across, tuple(flagged))


# -- Cronbach's alpha ----------------------------------------------------------------------
def cronbach_alpha_of(items: FloatArray) -> float:
    """α = k/(k−1) · (1 − Σ var(item) / var(sum)) over complete rows (sample variances).

    NaN with fewer than 2 items, fewer than 2 complete rows or a constant sum.
    """
    block = items[~np.isnan(items).any(axis=1)]
    k = block.shape[1]
    if k < 2 or block.shape[0] < 2:
        return float("nan")
    total_var = float(block.sum(axis=1).var(ddof=1))
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - float(block.var(axis=0, ddof=1).sum()) / total_var))


def cronbach_alpha(
    result: IndexResult, compound_type: str, period: str | None = None
) -> dict[str, float]:
    """Cronbach's alpha of each dimension's leaves (Z) for one type and period."""
    p = _period(result, period)
    z = result.z[_rows(result, compound_type), p, :]
    dim = result.catalogue.dimension_of_leaf
    return {
        d: cronbach_alpha_of(z[:, dim == i]) for i, d in enumerate(result.catalogue.dimensions)
    }


# -- Monte Carlo ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RankInterval:
    """A compound's rank inside its type (1 = best): as published and across the draws."""

    compound: str
    compound_type: str
    baseline: float
    median: float
    low: float  # best plausible rank (lower percentile)
    high: float  # worst plausible rank (upper percentile)


@dataclass(frozen=True)
class MonteCarloResult:
    period: str
    draws: int
    seed: int
    intervals: tuple[RankInterval, ...]
    ranks: FloatArray  # (draws, compounds) NaN for unscored


def _type_ranks(total: FloatArray, groups: np.ndarray) -> FloatArray:
    """Competition-free ranks (1 = highest total) within each group; NaN stays NaN."""
    out = np.full(total.shape, np.nan)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        t = total[rows]
        ok = ~np.isnan(t)
        if not ok.any():
            continue
        r = _ranks(-t[ok])
        tmp = np.full(rows.size, np.nan)
        tmp[ok] = r
        out[rows] = tmp
    return out


def monte_carlo(
    result: IndexResult,
    *,
    period: str | None = None,
    draws: int = 1000,
    seed: int = 0,
    normalisations: Sequence[Normalisation] = ("minmax", "zscore", "rank"),
    aggregations: Sequence[Aggregation] = AGGREGATIONS,
    concentration: float = 20.0,
    interval: float = 0.90,
    geometric_floor: float = 0.01,
) -> MonteCarloResult:
    """Rank intervals under uncertain weights, normalisation and aggregation.

    Each draw picks a normalisation and an aggregation uniformly, and leaf weights inside
    every dimension from a Dirichlet centred on the published shares (``concentration`` ×
    number of leaves; higher = closer), and dimension weights likewise. The compound's rank
    inside its type is recorded; the interval spans the central ``interval`` share of draws.
    The thresholds, samples and coverage rule are those of ``result``. Seeded: the same seed
    gives the same intervals. Refuses draws < 1, an empty choice, an interval outside (0, 1).
    """
    if draws < 1 or not normalisations or not aggregations or not 0 < interval < 1:
        raise OptionInvalid("蒙特卡洛参数有误")
    p = _period(result, period)
    cat = result.catalogue
    o = result.options
    x = result.x[:, p, :]
    zs = {
        n: normalise_values(
            x, result.thresholds, result.panel.types, cat, n, targets=o.targets,
            transforms=result.transforms,
        )
        for n in normalisations
    }
    groups = result.type_groups
    baseline = _type_ranks(result.scores.total[:, p], groups)
    rng = np.random.default_rng(seed)
    dim = cat.dimension_of_leaf
    base_w = cat.relative_weights if o.relative_weights is None else o.relative_weights
    base_dw = cat.nominal_dimension_points if o.dimension_weights is None else o.dimension_weights
    ranks = np.full((draws, x.shape[0]), np.nan)
    n_dim = len(cat.dimensions)
    for k in range(draws):
        w = np.empty_like(base_w)
        for d in range(n_dim):
            cols = dim == d
            share = base_w[cols] / base_w[cols].sum()
            w[cols] = rng.dirichlet(np.maximum(share * concentration * cols.sum(), 1e-6))
        dw = rng.dirichlet(base_dw / base_dw.sum() * concentration * n_dim)
        norm = normalisations[int(rng.integers(len(normalisations)))]
        agg = aggregations[int(rng.integers(len(aggregations)))]
        st = structure(cat, w, dw)
        scores = aggregate(
            zs[norm], st, method=agg, coverage_threshold=o.coverage_threshold,
            geometric_floor=geometric_floor,
        )
        ranks[k] = _type_ranks(scores.total, groups)
    lo_q, hi_q = (1 - interval) / 2, 1 - (1 - interval) / 2
    intervals: list[RankInterval] = []
    for c, code in enumerate(result.panel.compounds):
        col = ranks[:, c]
        col = col[~np.isnan(col)]
        if col.size == 0:
            med = lo = hi = float("nan")
        else:
            med = float(np.median(col))
            lo, hi = (float(v) for v in np.quantile(col, [lo_q, hi_q]))
        intervals.append(
            RankInterval(code, result.panel.types[c], float(baseline[c]), med, lo, hi)
        )
    return MonteCarloResult(result.panel.periods[p], draws, seed, tuple(intervals), ranks)


# -- explanations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Pull:
    """One leaf where the compound trails its type's median: ``gap`` points lost (< 0)."""

    code: str
    z: float
    type_median_z: float
    gap: float


@dataclass(frozen=True)
class Explanation:
    compound: str
    compound_type: str
    total: float
    type_median_total: float
    below_median: bool
    pulls: tuple[Pull, ...]  # worst first


def explain(result: IndexResult, period: str | None = None, *, top: int = 5) -> list[Explanation]:
    """For every compound, the leaves that pull it below the median of its type.

    A leaf pulls when the compound's Z is under the type's median Z for that leaf; its gap is
    the leaf's points × (Z − median Z), i.e. the points it costs against a median compound.
    Up to ``top`` pulls, largest loss first; a missing leaf is not a pull (coverage handles it).
    """
    p = _period(result, period)
    z = result.z[:, p, :]
    total = result.scores.total[:, p]
    pts = result.structure.leaf_points
    types = np.array(result.panel.types)
    out: list[Explanation] = []
    medians: dict[str, tuple[FloatArray, float]] = {}
    for t in sorted(set(result.panel.types)):
        rows = np.flatnonzero(types == t)
        with warnings.catch_warnings(action="ignore", category=RuntimeWarning):
            mz = np.nanmedian(z[rows], axis=0)
            mt = float(np.nanmedian(total[rows])) if np.any(~np.isnan(total[rows])) else float("nan")
        medians[t] = (mz, mt)
    for c, code in enumerate(result.panel.compounds):
        mz, mt = medians[result.panel.types[c]]
        gaps = pts * (z[c] - mz)
        idx = [j for j in np.argsort(gaps) if not np.isnan(gaps[j]) and gaps[j] < 0][:top]
        pulls = tuple(
            Pull(result.catalogue.codes[j], float(z[c, j]), float(mz[j]), float(gaps[j]))
            for j in idx
        )
        out.append(
            Explanation(
                code, result.panel.types[c], float(total[c]), mt,
                bool(total[c] < mt) if not np.isnan(total[c]) else False, pulls,
            )
        )
    return out

