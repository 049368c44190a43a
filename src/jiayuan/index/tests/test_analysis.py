"""Correlations, Cronbach's alpha, Monte Carlo rank intervals and explanations."""

from __future__ import annotations

import numpy as np
import pytest

from jiayuan.index.engine import ComputeOptions, Panel, compute_index, default_catalogue
from jiayuan.index.engine.analysis import (
    correlations,
    cronbach_alpha,
    cronbach_alpha_of,
    explain,
    monte_carlo,
)

CAT = default_catalogue()
L = len(CAT.codes)
FIXED = {("commodity", c): (0.0, 10.0) for c in CAT.codes}


def _result(values, **opts):
    n = values.shape[0]
    panel = Panel(tuple(f"C{i:02d}" for i in range(n)), ("commodity",) * n,
                  tuple(str(2020 + p) for p in range(values.shape[1])), values)
    return compute_index(panel, CAT, ComputeOptions(fixed_thresholds=FIXED, **opts))


def test_cronbach_alpha_matches_the_formula_by_hand():
    # item variances 5/3 and 20/3, variance of the sum 15: α = 2·(1 − (25/3)/15) = 8/9
    items = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]])
    assert cronbach_alpha_of(items) == pytest.approx(8 / 9)
    assert np.isnan(cronbach_alpha_of(items[:, :1]))


def test_dimension_of_identical_leaves_has_alpha_one_and_redundant_pairs_are_flagged():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 10, size=(20, 1, L))
    mp = CAT.dimension_of_leaf == 0
    # every management_precision leaf carries the first leaf's information (mirrored if inverse)
    v[:, :, mp & ~CAT.inverse] = v[:, :, [0]]
    v[:, :, mp & CAT.inverse] = 10.0 - v[:, :, [0]]
    r = _result(v)
    assert cronbach_alpha(r, "commodity")["management_precision"] == pytest.approx(1.0)
    report = correlations(r, "commodity")
    flagged = {(a, b) for a, b, _r, why in report.flagged if why == "redundant"}
    assert (CAT.codes[0], CAT.codes[1]) in flagged
    assert report.within_mean > report.across_mean


def test_monte_carlo_is_seeded_and_a_dominant_compound_keeps_rank_one():
    rng = np.random.default_rng(1)
    v = rng.uniform(2, 8, size=(12, 1, L))
    inverse = CAT.inverse
    v[0, 0] = np.where(inverse, 0.0, 10.0)  # best on every leaf
    v[1, 0] = np.where(inverse, 10.0, 0.0)  # worst on every leaf
    r = _result(v)
    a = monte_carlo(r, draws=60, seed=5)
    b = monte_carlo(r, draws=60, seed=5)
    c = monte_carlo(r, draws=60, seed=6)
    assert np.array_equal(a.ranks, b.ranks) and not np.array_equal(a.ranks, c.ranks)
    best, worst = a.intervals[0], a.intervals[1]
    assert (best.baseline, best.low, best.high) == (1.0, 1.0, 1.0)
    assert (worst.baseline, worst.low, worst.high) == (12.0, 12.0, 12.0)
    middle = a.intervals[2:]
    assert all(i.low <= i.median <= i.high for i in middle)


def test_explanation_names_the_leaf_that_pulls_a_compound_below_its_type_median():
    v = np.full((5, 1, L), 5.0)
    v[:, 0, 0] = [6.0, 7.0, 8.0, 9.0, 1.0]  # compound 4 trails on the first leaf only
    r = _result(v)
    ex = {e.compound: e for e in explain(r)}
    e = ex["C04"]
    assert e.below_median
    [pull] = e.pulls
    assert pull.code == CAT.codes[0]
    assert pull.gap == pytest.approx(25 / 11 * (0.1 - 0.7))  # type median Z is 0.7
    assert ex["C02"].pulls == () and not ex["C02"].below_median
