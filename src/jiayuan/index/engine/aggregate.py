"""Aggregation: leaf Z → sub-index and dimension points → total, with the coverage rule.

Published rule (seed l.1020-1028, l.1036): the weighted arithmetic mean I = Σ Z_j W_j / Σ W_j
at every level, each dimension's 25 points split equally among its leaves, a sub-index's
weight the sum of its leaves'. Points are kept rather than indices: a leaf contributes
W_j·Z_j points, a sub-index the sum over its leaves, a dimension over its sub-indices.

Missing values: a compound whose available leaves carry less than ``coverage_threshold`` of
the total weight, or that has a dimension with no available leaf, gets no score (NaN) and is
reported. Otherwise each dimension is re-weighted over its available leaves: their weights
are scaled up so they again sum to the dimension's points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .catalogue import BoolArray, Catalogue, FloatArray, IntArray, leaf_points
from .errors import OptionInvalid

Aggregation = Literal["arithmetic", "geometric"]
AGGREGATIONS: tuple[Aggregation, ...] = ("arithmetic", "geometric")
DEFAULT_COVERAGE = 0.75


@dataclass(frozen=True)
class Structure:
    """The matrices aggregation needs, computed once per catalogue and weighting."""

    leaf_points: FloatArray  # (L,) points of each leaf at full coverage
    dimension_points: FloatArray  # (D,) nominal points per dimension
    dimension_weights: FloatArray  # (D,) weights of dimensions in the total
    leaf_dimension: IntArray  # (L,) dimension of each leaf
    leaf_subindex: IntArray  # (L,) sub-index of each leaf
    subindex_dimension: IntArray  # (S,) dimension of each sub-index


def group_sum(a: FloatArray, groups: IntArray) -> FloatArray:
    """Sum the last axis of ``a`` by ``groups`` (every group 0..G−1 non-empty).

    Done with reduceat rather than a 0/1 matrix product: small BLAS products thrash threads.
    """
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
    return np.asarray(np.add.reduceat(a[..., order], starts, axis=-1), np.float64)


def structure(
    catalogue: Catalogue,
    relative_leaf_weights: FloatArray | None = None,
    dimension_weights: FloatArray | None = None,
) -> Structure:
    """Aggregation matrices for ``catalogue``; weights default to the catalogue's (equal split)."""
    lp = leaf_points(catalogue, relative_leaf_weights)
    dp = catalogue.nominal_dimension_points
    dw = dp.copy() if dimension_weights is None else np.asarray(dimension_weights, np.float64)
    if dw.shape != dp.shape or np.any(dw < 0) or dw.sum() <= 0:
        raise OptionInvalid("维度权重必须为非负且不全为零")
    return Structure(
        lp, dp, dw, catalogue.dimension_of_leaf, catalogue.subindex_of_leaf,
        catalogue.dimension_of_subindex,
    )


@dataclass(frozen=True)
class Aggregated:
    """Scores for arrays of compounds (any leading shape): points, coverage and the verdict."""

    subindex_points: FloatArray  # (..., S)
    dimension_points: FloatArray  # (..., D)
    total: FloatArray  # (...,) 0–100
    coverage: FloatArray  # (...,) share of leaf weight available
    scored: BoolArray  # (...,)
    reason: FloatArray  # (...,) 0 scored, 1 coverage below threshold, 2 empty dimension


def aggregate(
    z: FloatArray,
    st: Structure,
    *,
    method: Aggregation = "arithmetic",
    coverage_threshold: float = DEFAULT_COVERAGE,
    geometric_floor: float = 0.0,
    blank_unscored: bool = True,
) -> Aggregated:
    """Aggregate leaf Z (last axis = leaves) into sub-index, dimension and total points.

    ``arithmetic``: total = 100 · Σ_d w_d I_d / Σ_d w_d with I_d = dimension points / nominal
    points — with the published weights this is exactly Σ_j W_j Z_j over all 35 leaves.
    ``geometric``: total = 100 · Π_d I_d^(w_d/Σw), each I_d floored at ``geometric_floor``.
    ``blank_unscored=False`` keeps the points of unscored compounds (used internally for
    self-growth sources). Refuses an unknown method or a threshold outside [0, 1].
    """
    if method not in AGGREGATIONS:
        raise OptionInvalid(f"未知的合成方法：{method}")
    if not 0.0 <= coverage_threshold <= 1.0:
        raise OptionInvalid("覆盖率阈值必须在 0 与 1 之间")
    avail = ~np.isnan(z)
    zf = np.where(avail, z, 0.0)
    w_avail = np.where(avail, st.leaf_points, 0.0)
    dim_avail = group_sum(w_avail, st.leaf_dimension)  # (..., D)
    contrib = zf * st.leaf_points
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(dim_avail > 0, st.dimension_points / dim_avail, np.nan)
        dim_pts = group_sum(contrib, st.leaf_dimension) * scale
        sub_scale = scale[..., st.subindex_dimension]
        sub_pts = group_sum(contrib, st.leaf_subindex) * sub_scale
        coverage = w_avail.sum(axis=-1) / st.leaf_points.sum()
        # a dimension weighing nothing in the total must not turn it into NaN
        index_d = np.where(st.dimension_weights > 0, dim_pts / st.dimension_points, 1.0)
        wsum = st.dimension_weights.sum()
        if method == "arithmetic":
            total = 100.0 * (index_d * st.dimension_weights).sum(axis=-1) / wsum
        else:
            floored = np.maximum(index_d, geometric_floor)
            logs = np.where(floored > 0, np.log(np.where(floored > 0, floored, 1.0)), -np.inf)
            total = 100.0 * np.exp((logs * st.dimension_weights).sum(axis=-1) / wsum)
    # a dimension of zero weight in the total does not need data
    needed = st.dimension_weights > 0
    empty = np.any((dim_avail <= 0) & needed, axis=-1)
    low = coverage < coverage_threshold - 1e-12
    scored = ~empty & ~low
    reason = np.where(empty, 2.0, np.where(low, 1.0, 0.0))
    nan_if = ~scored if blank_unscored else np.zeros_like(scored)
    total = np.where(nan_if, np.nan, total)
    dim_pts = np.where(nan_if[..., None], np.nan, dim_pts)
    sub_pts = np.where(nan_if[..., None], np.nan, sub_pts)
    return Aggregated(
        np.asarray(sub_pts, np.float64),
        np.asarray(dim_pts, np.float64),
        np.asarray(total, np.float64),
        np.asarray(coverage, np.float64),
        np.asarray(scored, np.bool_),
        np.asarray(reason, np.float64),
    )
