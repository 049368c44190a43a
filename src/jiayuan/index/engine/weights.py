"""Leaf weights inside dimensions: equal (published), expert, entropy, PCA-derived.

Every scheme returns *relative* weights per leaf; :func:`catalogue.leaf_points` turns them
into points so each dimension keeps its 25 points (seed l.1036). The published index uses
equal weights; the seed itself expects them to be revised from running data (l.1070).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .catalogue import Catalogue, FloatArray
from .errors import OptionInvalid


def equal_weights(catalogue: Catalogue) -> FloatArray:
    """1 for every leaf: each dimension's points split equally among its leaves."""
    return np.ones(len(catalogue.indicators), dtype=np.float64)


def expert_weights(catalogue: Catalogue, weights: Mapping[str, float]) -> FloatArray:
    """Weights given by experts per leaf code; a leaf left out keeps 1.

    Refuses an unknown code or a negative weight.
    """
    codes = catalogue.codes
    out = np.ones(len(codes), dtype=np.float64)
    for code, w in weights.items():
        if code not in codes:
            raise OptionInvalid(f"专家权重中的指标 {code} 不在目录中")
        if not w >= 0:
            raise OptionInvalid(f"指标 {code} 的专家权重必须为非负数")
        out[codes.index(code)] = float(w)
    return out


def entropy_weights(catalogue: Catalogue, z: FloatArray) -> FloatArray:
    """Entropy weight method over a (compounds, leaves) Z matrix, normalised within dimensions.

    p_ij = z_ij / Σ_i z_ij, e_j = −Σ p ln p / ln n, d_j = 1 − e_j; weight ∝ d_j. A leaf that
    is constant or missing everywhere carries (almost) nothing; a dimension whose leaves all
    carry nothing falls back to equal weights. Missing rows are skipped leaf by leaf.
    """
    n_leaf = len(catalogue.indicators)
    d = np.zeros(n_leaf)
    for j in range(n_leaf):
        col = z[:, j][~np.isnan(z[:, j])]
        n = col.size
        total = col.sum()
        if n < 2 or total <= 0:
            continue
        p = col / total
        with np.errstate(divide="ignore", invalid="ignore"):
            e = -np.nansum(np.where(p > 0, p * np.log(p), 0.0)) / np.log(n)
        d[j] = max(0.0, 1.0 - float(e))
    return _fallback_equal(catalogue, d)


def pca_weights(catalogue: Catalogue, z: FloatArray) -> FloatArray:
    """Per dimension, weights ∝ squared loadings of the first principal component.

    Computed on the standardised complete cases of the dimension's leaves (OECD/JRC handbook
    practice, simplified to one component). A dimension with fewer than 3 complete cases or a
    single leaf keeps equal weights.
    """
    out = np.ones(len(catalogue.indicators), dtype=np.float64)
    dim = catalogue.dimension_of_leaf
    for d in range(len(catalogue.dimensions)):
        cols = np.flatnonzero(dim == d)
        if cols.size < 2:
            continue
        block = z[:, cols]
        block = block[~np.isnan(block).any(axis=1)]
        if block.shape[0] < 3:
            continue
        sd = block.std(axis=0)
        ok = sd > 0
        if ok.sum() < 2:
            continue
        std = (block[:, ok] - block[:, ok].mean(axis=0)) / sd[ok]
        cov = np.cov(std, rowvar=False)
        vals, vecs = np.linalg.eigh(cov)
        loading = vecs[:, -1] ** 2
        w = np.zeros(cols.size)
        w[ok] = loading
        out[cols] = w if w.sum() > 0 else 1.0
    return _fallback_equal(catalogue, out)


def _fallback_equal(catalogue: Catalogue, w: FloatArray) -> FloatArray:
    dim = catalogue.dimension_of_leaf
    out = np.array(w, dtype=np.float64)
    for d in range(len(catalogue.dimensions)):
        cols = dim == d
        if out[cols].sum() <= 0:
            out[cols] = 1.0
    return out
