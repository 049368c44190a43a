"""Leaf normalisation formulas and the shipped catalogue's structure."""

from __future__ import annotations

import numpy as np
import pytest

from jiayuan.index.engine import (
    DIMENSIONS,
    SUBINDICES,
    Catalogue,
    CatalogueInvalid,
    Indicator,
    default_catalogue,
    leaf_points,
)
from jiayuan.index.engine.normalise import distance_to_target, minmax, rank, zscore

POS = np.array([False])
INV = np.array([True])


def test_positive_and_inverse_minmax_follow_the_published_formulas():
    x = np.array([[3.0], [8.0]])
    assert minmax(x, np.array([2.0]), np.array([10.0]), POS)[:, 0] == pytest.approx([1 / 8, 6 / 8])
    assert minmax(x, np.array([2.0]), np.array([10.0]), INV)[:, 0] == pytest.approx([7 / 8, 2 / 8])


def test_values_outside_the_goalposts_are_clipped_to_zero_and_one():
    z = minmax(np.array([[-5.0], [50.0]]), np.array([0.0]), np.array([10.0]), POS)
    assert z[:, 0].tolist() == [0.0, 1.0]


def test_degenerate_goalposts_give_a_step_not_a_division_by_zero():
    z = minmax(np.array([[-1.0], [0.0], [1.0]]), np.array([0.0]), np.array([0.0]), INV)
    assert z[:, 0].tolist() == [1.0, 0.5, 0.0]


def test_zscore_and_rank_stay_in_unit_interval_and_respect_polarity():
    x = np.array([[1.0], [2.0], [2.0], [9.0]])
    zs = zscore(x, np.array([3.0]), np.array([1.0]), INV)[:, 0]
    assert np.all((zs >= 0) & (zs <= 1)) and zs[0] > zs[3]
    r = rank(x, np.zeros(4, np.intp), POS)[:, 0]
    assert r.tolist() == [0.0, pytest.approx(0.5), pytest.approx(0.5), 1.0]


def test_distance_to_target_penalises_overshoot():
    z = distance_to_target(np.array([[5.0], [10.0], [15.0]]), np.array([10.0]), np.array([0.0]))
    assert z[:, 0].tolist() == [0.5, 1.0, 0.5]


def test_shipped_catalogue_has_35_leaves_in_the_glossary_structure():
    cat = default_catalogue()
    assert len(cat.codes) == 35 and len(set(cat.codes)) == 35
    assert cat.dimensions == DIMENSIONS
    assert cat.subindices == tuple(s for d in DIMENSIONS for s in SUBINDICES[d])
    for ind in cat.indicators:
        assert ind.name_zh and ind.name_en and ind.unit and ind.derivation
        assert ind.source in ("platform", "derived", "spreadsheet")
        assert (ind.source == "derived") == (ind.growth_of is not None)


def test_each_dimension_splits_25_points_equally_among_its_leaves():
    cat = default_catalogue()
    pts = leaf_points(cat)
    dim = cat.dimension_of_leaf
    for d in range(4):
        share = pts[dim == d]
        assert share.sum() == pytest.approx(25.0)
        assert np.allclose(share, 25.0 / share.size)
    assert pts.sum() == pytest.approx(100.0)


def test_catalogue_refuses_a_subindex_in_two_dimensions_and_a_growth_cycle():
    with pytest.raises(CatalogueInvalid) as e:
        Catalogue(
            (
                Indicator("a", "d1", "s"),
                Indicator("b", "d2", "s"),
                Indicator("g", "d2", "t", growth_of="d2"),
            )
        )
    messages = " ".join(p["message"] for p in e.value.problems)
    assert "多个维度" in messages and "循环" in messages


def test_catalogue_rows_with_bad_weight_or_polarity_are_listed_by_row():
    from jiayuan.index.engine import catalogue_from_rows

    rows = [
        {"code": "a", "dimension": "management_precision", "subindex": "s", "polarity": "positive", "weight": "x"},
        {"code": "b", "dimension": "management_precision", "subindex": "s", "polarity": "up"},
    ]
    with pytest.raises(CatalogueInvalid) as e:
        catalogue_from_rows(rows, row_numbers=[4, 7])
    assert [p["row"] for p in e.value.problems] == [4, 7]
    assert "权重 'x' 不是数字" in e.value.problems[0]["message"]


def test_weight_column_splits_a_dimension_in_proportion():
    from jiayuan.index.engine import catalogue_from_rows

    rows = [
        {"code": "a", "dimension": "d", "subindex": "s", "polarity": "positive", "weight": "1"},
        {"code": "b", "dimension": "d", "subindex": "t", "polarity": "inverse", "weight": "4"},
    ]
    assert leaf_points(catalogue_from_rows(rows)).tolist() == [5.0, 20.0]
