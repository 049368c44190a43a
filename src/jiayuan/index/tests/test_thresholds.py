"""Cochran sample sizes, the seeded sample, the base-period SMA and the outward push."""

from __future__ import annotations

import numpy as np
import pytest

from jiayuan.index.engine.errors import OptionInvalid
from jiayuan.index.engine.thresholds import (
    cochran_sample_size,
    draw_sample,
    goalposts_from_reference,
    push_outward,
    simple_moving_average,
)


def test_papers_example_1590_commodity_compounds_needs_91():
    assert cochran_sample_size(1590, confidence=0.95, margin=0.10) == 91


@pytest.mark.parametrize(
    ("population", "expected"),
    [(1, 1), (6, 6), (50, 34), (1200, 89), (100_000, 96)],
)
def test_finite_population_correction_shrinks_the_sample(population, expected):
    # n0 = 1.959964²·0.25/0.01 = 96.036; n = n0 / (1 + (n0 − 1)/N) rounded up, at most N
    assert cochran_sample_size(population) == expected


def test_tighter_margin_needs_a_larger_sample():
    assert cochran_sample_size(1590, margin=0.05) > cochran_sample_size(1590, margin=0.10)


def test_bad_confidence_is_refused():
    with pytest.raises(OptionInvalid):
        cochran_sample_size(100, confidence=1.0)


def test_same_seed_draws_same_sample_and_another_seed_differs():
    codes = [f"C{i:04d}" for i in range(1590)]
    a = draw_sample(codes, 91, np.random.default_rng(7))
    b = draw_sample(list(reversed(codes)), 91, np.random.default_rng(7))
    c = draw_sample(codes, 91, np.random.default_rng(8))
    assert a == b and len(set(a)) == 91 and a != c


def test_sma_averages_the_last_three_periods_and_skips_missing():
    v = np.array([[[1.0], [2.0], [3.0], [10.0]], [[5.0], [np.nan], [np.nan], [7.0]]])
    sma = simple_moving_average(v, base=3, window=3)
    assert sma[:, 0] == pytest.approx([(2 + 3 + 10) / 3, 7.0])
    assert np.isnan(simple_moving_average(v, base=2, window=2)[1, 0])


def test_relative_push_moves_each_end_by_ten_percent_of_itself():
    lo, hi = push_outward(np.array([2.0, -4.0, 0.0]), np.array([10.0, -1.0, 0.0]))
    assert lo == pytest.approx([1.8, -4.4, 0.0])
    assert hi == pytest.approx([11.0, -0.9, 0.0])


def test_range_push_moves_each_end_by_ten_percent_of_the_range():
    lo, hi = push_outward(np.array([2.0]), np.array([10.0]), mode="range")
    assert lo == pytest.approx([1.2]) and hi == pytest.approx([10.8])


def test_leaf_without_sample_data_has_no_goalposts():
    ref = np.array([[1.0, np.nan], [3.0, np.nan]])
    lo, hi = goalposts_from_reference(ref)
    assert lo[0] == pytest.approx(0.9) and hi[0] == pytest.approx(3.3)
    assert np.isnan(lo[1]) and np.isnan(hi[1])
