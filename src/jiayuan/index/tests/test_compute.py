"""The pipeline over the published catalogue: sampling per type, independence of types,
weights, skew treatment and options that are refused."""

from __future__ import annotations

import numpy as np
import pytest

from jiayuan.index.engine import (
    ComputeOptions,
    OptionInvalid,
    Panel,
    compute_index,
    default_catalogue,
)
from jiayuan.index.engine.thresholds import simple_moving_average
from jiayuan.index.engine.weights import entropy_weights, expert_weights, pca_weights

CAT = default_catalogue()
L = len(CAT.codes)


def _panel(values, types):
    return Panel(tuple(f"C{i:05d}" for i in range(values.shape[0])), tuple(types),
                 tuple(str(2021 + p) for p in range(values.shape[1])), values)


@pytest.fixture(scope="module")
def pudong():
    rng = np.random.default_rng(11)
    types = ["commodity"] * 1590 + ["old_public"] * 300
    values = rng.gamma(2.0, 5.0, size=(len(types), 3, L))
    return values, types


def test_goalposts_come_from_a_cochran_sample_of_each_type(pudong):
    values, types = pudong
    r = compute_index(_panel(values, types), CAT, ComputeOptions(seed=4))
    th = r.thresholds["commodity"]
    # given 1,590 commodity compounds, the paper's 91 are drawn
    assert th.population == 1590 and th.sample_size == 91
    rows = [r.panel.compounds.index(c) for c in th.sample]
    sma = simple_moving_average(values[rows], base=2, window=3)
    j = CAT.index_of("property_disputes")
    assert th.x_min[j] == pytest.approx(sma[:, j].min() * 0.9)
    assert th.x_max[j] == pytest.approx(sma[:, j].max() * 1.1)
    # compounds outside the sample can pass the goalposts: their Z is clipped
    assert np.nanmax(r.z[:, :, j]) == 1.0 and np.nanmin(r.z[:, :, j]) == 0.0


def test_a_type_is_scored_without_looking_at_the_others(pudong):
    values, types = pudong
    opts = ComputeOptions(seed=4)
    base = compute_index(_panel(values, types), CAT, opts)
    changed = values.copy()
    changed[:1590] *= 3.0  # every commodity value changes
    again = compute_index(_panel(changed, types), CAT, opts)
    old = slice(1590, None)
    np.testing.assert_array_equal(again.scores.total[old], base.scores.total[old])


def test_relative_weights_shift_points_inside_a_dimension_only():
    rng = np.random.default_rng(2)
    values = rng.uniform(0, 10, size=(30, 1, L))
    fixed = {("affordable", c): (0.0, 10.0) for c in CAT.codes}
    w = expert_weights(CAT, {"three_meetings_held": 3.0})
    r = compute_index(_panel(values, ["affordable"] * 30), CAT,
                      ComputeOptions(fixed_thresholds=fixed, relative_weights=w))
    pts = r.structure.leaf_points
    assert pts[CAT.index_of("three_meetings_held")] == pytest.approx(25 * 3 / 13)
    assert pts[CAT.dimension_of_leaf == 0].sum() == pytest.approx(25.0)
    assert pts[CAT.dimension_of_leaf == 1].sum() == pytest.approx(25.0)


def test_entropy_gives_a_constant_leaf_no_weight_and_pca_favours_the_shared_signal():
    rng = np.random.default_rng(3)
    z = rng.uniform(0, 1, size=(200, L))
    z[:, 0] = 0.5  # constant: carries no information
    w = entropy_weights(CAT, z)
    assert w[0] == 0.0 and np.all(w[1:11] > 0)
    signal = rng.uniform(0, 1, size=200)
    z[:, 11:15] = signal[:, None] + rng.normal(0, 0.01, size=(200, 4))  # party_leadership
    z[:, 15] = rng.uniform(0, 1, size=200)
    p = pca_weights(CAT, z)
    assert p[11:15].min() > p[15]


def test_winsorising_keeps_an_outlier_from_stretching_the_goalposts():
    rng = np.random.default_rng(5)
    values = rng.uniform(1, 2, size=(60, 1, L))
    j = CAT.index_of("grant_spending")
    values[0, 0, j] = 1000.0  # one compound in the sample spends a fortune
    types = ["resettlement"] * 60
    plain = compute_index(_panel(values, types), CAT)
    treated = compute_index(_panel(values, types), CAT, ComputeOptions(skew_treatment="winsorise"))
    assert plain.thresholds["resettlement"].x_max[j] == pytest.approx(1100.0)
    assert treated.thresholds["resettlement"].x_max[j] < 10
    assert "grant_spending" in treated.skew_treated


def test_unknown_options_are_refused():
    values = np.ones((3, 1, L))
    with pytest.raises(OptionInvalid):
        compute_index(_panel(values, ["commodity"] * 3), CAT, ComputeOptions(normalisation="median"))  # type: ignore[arg-type]
    with pytest.raises(OptionInvalid):
        compute_index(_panel(values, ["commodity"] * 3), CAT, ComputeOptions(base_period="1999"))
