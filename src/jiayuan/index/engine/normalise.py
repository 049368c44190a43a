"""Leaf normalisation (无量纲化): raw values → Z in [0, 1], 1 always the better end.

Every function works on arrays whose last axis is the catalogue's leaves; NaN (missing) stays
NaN. The published method is :func:`minmax` (seed l.1010-1018); the others serve the
sensitivity analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from .catalogue import BoolArray, FloatArray, IntArray, Transform
from .errors import OptionInvalid, ThresholdsInvalid

Normalisation = Literal["minmax", "zscore", "rank", "target"]
NORMALISATIONS: tuple[Normalisation, ...] = ("minmax", "zscore", "rank", "target")
ZSCORE_CLIP = 3.0
DEGENERATE_TOLERANCE = 1e-9


def apply_transform(x: FloatArray, transforms: Sequence[Transform]) -> FloatArray:
    """Apply each leaf's transform: ``log`` (natural log, HDI income), ``log1p`` (skewed counts).

    A value outside the transform's domain (≤ 0 for log, ≤ −1 for log1p) becomes NaN
    (missing), never an error: the coverage rule then decides.
    """
    out = np.array(x, dtype=np.float64, copy=True)
    for j, t in enumerate(transforms):
        if t == "none":
            continue
        col = out[..., j]
        with np.errstate(invalid="ignore", divide="ignore"):
            if t == "log":
                out[..., j] = np.where(col > 0, np.log(np.where(col > 0, col, 1.0)), np.nan)
            else:
                out[..., j] = np.where(col > -1, np.log1p(np.where(col > -1, col, 0.0)), np.nan)
    return out


def minmax(x: FloatArray, x_min: FloatArray, x_max: FloatArray, inverse: BoolArray) -> FloatArray:
    """Z = (X − Xmin)/(Xmax − Xmin) (positive) or (Xmax − X)/(Xmax − Xmin) (inverse), in [0, 1].

    The seed clips values above 1 ("若大于 1 则视为 1", l.1010); we clip below 0 as well, since
    compounds outside the sample may fall under the lower threshold. Degenerate goalposts
    (Xmax = Xmin up to 1e-9 relative, e.g. an indicator that is 0 in every sampled compound)
    give a step: 1 if X is on the better side, 0 if on the worse side, 0.5 if equal (within the
    same tolerance). Refuses Xmax < Xmin.
    """
    lo = np.asarray(x_min, np.float64)
    hi = np.asarray(x_max, np.float64)
    if np.any(hi < lo):
        raise ThresholdsInvalid("上限阈值小于下限阈值")
    span = hi - lo
    # spans at float-noise level (e.g. growth of exactly equal scores) count as degenerate
    tol = DEGENERATE_TOLERANCE * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
    degenerate = span <= tol
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - lo) / np.where(degenerate, 1.0, span)
        step = np.where(x > lo + tol, 1.0, np.where(x < lo - tol, 0.0, 0.5))
    z = np.where(degenerate, step, z)
    z = np.where(inverse, 1.0 - z, z)
    return np.asarray(np.clip(z, 0.0, 1.0), np.float64)


def zscore(x: FloatArray, mean: FloatArray, sd: FloatArray, inverse: BoolArray) -> FloatArray:
    """Standardise against a reference mean/sd, clip to ±3 sd and map linearly onto [0, 1].

    A zero or missing sd gives 0.5 for every non-missing value (no information).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (x - mean) / np.where(sd > 0, sd, 1.0)
    s = np.where(sd > 0, s, 0.0)
    s = np.where(inverse, -s, s)
    z = (np.clip(s, -ZSCORE_CLIP, ZSCORE_CLIP) + ZSCORE_CLIP) / (2 * ZSCORE_CLIP)
    return np.asarray(np.where(np.isnan(x), np.nan, z), np.float64)


def rank(x: FloatArray, groups: IntArray, inverse: BoolArray) -> FloatArray:
    """Percentile rank within each group along axis 0: (r − 1)/(n − 1), ties share the mean rank.

    ``x`` has shape (compounds, leaves); a group of one compound gets 0.5. Missing stays missing.
    """
    out = np.full(x.shape, np.nan, dtype=np.float64)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        for j in range(x.shape[1]):
            col = x[rows, j]
            ok = ~np.isnan(col)
            n = int(ok.sum())
            if n == 0:
                continue
            v = col[ok]
            order = np.argsort(v, kind="mergesort")
            r = np.empty(n, dtype=np.float64)
            r[order] = np.arange(1, n + 1, dtype=np.float64)
            # average ranks over ties
            uniq, inv = np.unique(v, return_inverse=True)
            mean_r = np.bincount(inv, weights=r) / np.bincount(inv)
            r = mean_r[inv]
            p = (r - 1) / (n - 1) if n > 1 else np.full(n, 0.5)
            if inverse[j]:
                p = 1.0 - p
            tmp = np.full(col.shape, np.nan)
            tmp[ok] = p
            out[rows, j] = tmp
    return out


def distance_to_target(x: FloatArray, target: FloatArray, worst: FloatArray) -> FloatArray:
    """Z = 1 − |target − X| / |target − worst|, clipped to [0, 1].

    Reaching the target scores 1; overshooting is penalised like undershooting, so an
    indicator with an optimum inside its range can be scored. When target = worst the scale
    is degenerate: exactly the target scores 1, anything else 0.
    """
    span = np.abs(np.asarray(target, np.float64) - np.asarray(worst, np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = 1.0 - np.abs(target - x) / np.where(span == 0, 1.0, span)
    z = np.where(span == 0, np.where(x == target, 1.0, 0.0), z)
    return np.asarray(np.where(np.isnan(x), np.nan, np.clip(z, 0.0, 1.0)), np.float64)


def winsorise(values: FloatArray, quantile: float) -> FloatArray:
    """Clip each column (last axis) at its ``quantile`` and ``1 − quantile`` quantiles.

    Refuses a quantile outside [0, 0.5).
    """
    if not 0.0 <= quantile < 0.5:
        raise OptionInvalid("缩尾分位数必须在 0 与 0.5 之间")
    flat = values.reshape(-1, values.shape[-1])
    out = values.copy()
    for j in range(flat.shape[1]):
        col = flat[:, j]
        if np.all(np.isnan(col)):
            continue
        lo, hi = np.nanquantile(col, [quantile, 1 - quantile])
        out[..., j] = np.clip(values[..., j], lo, hi)
    return out


def skewness_kurtosis(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sample skewness and (excess-free) kurtosis of each column, ignoring NaN."""
    flat = values.reshape(-1, values.shape[-1])
    sk = np.full(flat.shape[1], np.nan)
    ku = np.full(flat.shape[1], np.nan)
    for j in range(flat.shape[1]):
        col = flat[:, j][~np.isnan(flat[:, j])]
        if col.size < 3:
            continue
        d = col - col.mean()
        m2 = float(np.mean(d**2))
        if m2 == 0:
            continue
        sk[j] = float(np.mean(d**3)) / m2**1.5
        ku[j] = float(np.mean(d**4)) / m2**2
    return sk, ku
