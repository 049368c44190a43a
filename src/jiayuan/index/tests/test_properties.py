"""Properties of the engine over generated data (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jiayuan.index.engine import ComputeOptions, Panel, compute_index, default_catalogue

CAT = default_catalogue()
L = len(CAT.codes)
GROWTH = CAT.growth
FIXED = {("commodity", c): (0.0, 100.0) for c in CAT.codes}
FIXED.update({("commodity", i.code): (-25.0, 25.0) for i in CAT.indicators if i.growth_of})

values_1p = st.integers(3, 10).flatmap(
    lambda n: arrays(np.float64, (n, 1, L), elements=st.floats(0, 100, allow_nan=False))
)


def _panel(values, types=None, periods=None):
    n, p = values.shape[:2]
    return Panel(
        tuple(f"C{i:03d}" for i in range(n)),
        tuple(types or ["commodity"] * n),
        tuple(periods or [f"{2020 + k}" for k in range(p)]),
        values,
    )


@settings(max_examples=40, deadline=None)
@given(values_1p, st.data())
def test_raising_a_positive_leaf_never_lowers_the_total_and_inverse_never_raises(values, data):
    # given fixed goalposts and one period (so no self-growth feedback)
    j = data.draw(st.sampled_from([k for k in range(L) if not GROWTH[k]]))
    c = data.draw(st.integers(0, values.shape[0] - 1))
    delta = data.draw(st.floats(0.5, 60))
    opts = ComputeOptions(fixed_thresholds=FIXED, coverage_threshold=0.0)
    before = compute_index(_panel(values), CAT, opts).scores.total[c, 0]
    # when one compound's value rises
    raised = values.copy()
    raised[c, 0, j] += delta
    after = compute_index(_panel(raised), CAT, opts).scores.total[c, 0]
    # then its total moves with the polarity
    if CAT.inverse[j]:
        assert after <= before + 1e-9
    else:
        assert after >= before - 1e-9


@settings(max_examples=40, deadline=None)
@given(
    st.integers(4, 12).flatmap(
        lambda n: arrays(np.float64, (n, 3, L), elements=st.floats(-50, 50, allow_nan=False))
    ),
    st.data(),
)
def test_adding_a_constant_to_a_leaf_leaves_every_z_unchanged_with_range_push(values, data):
    # given sample-derived goalposts pushed by a share of the range
    j = data.draw(st.sampled_from([k for k in range(L) if not GROWTH[k]]))
    shift = data.draw(st.floats(-1000, 1000, allow_nan=False))
    # The property holds for leaves that vary: a spread within the engine's documented
    # tolerance for degenerate goalposts (normalise.DEGENERATE_TOLERANCE, relative to the
    # values' size, which the shift changes) is a step, not a scale, before or after it.
    for p in range(values.shape[1]):
        col = values[:, p, j]
        size = 1.0 + np.abs(col).max() + abs(shift)
        assume(col.max() - col.min() == 0 or col.max() - col.min() > 1e-6 * size)
    opts = ComputeOptions(push_mode="range", seed=3)
    base = compute_index(_panel(values), CAT, opts)
    shifted = values.copy()
    shifted[:, :, j] += shift
    moved = compute_index(_panel(shifted), CAT, opts)
    np.testing.assert_allclose(moved.z, base.z, atol=1e-7, err_msg=str(shift))
    np.testing.assert_allclose(moved.scores.total, base.scores.total, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(4, 12).flatmap(
        lambda n: arrays(np.float64, (n, 2, L), elements=st.floats(0.01, 1e4, allow_nan=False))
    ),
    st.floats(0.01, 100),
)
def test_relative_push_is_invariant_to_rescaling_a_leaf(values, factor):
    base = compute_index(_panel(values), CAT)
    scaled = values.copy()
    scaled[:, :, 0] *= factor
    np.testing.assert_allclose(compute_index(_panel(scaled), CAT).z, base.z, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 10).flatmap(
        lambda n: arrays(
            np.float64, (n, 2, L),
            elements=st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(np.nan)),
        )
    ),
    st.sampled_from(["minmax", "zscore", "rank", "target"]),
    st.sampled_from(["arithmetic", "geometric"]),
    st.sampled_from(["relative", "range"]),
)
def test_scores_stay_within_their_bounds(values, normalisation, aggregation, push):
    assume(not np.isnan(values).all())
    n = values.shape[0]
    types = ["old_public" if i % 2 else "affordable" for i in range(n)]
    r = compute_index(
        _panel(values, types),
        CAT,
        ComputeOptions(normalisation=normalisation, aggregation=aggregation, push_mode=push),
    )
    z = r.z[~np.isnan(r.z)]
    assert np.all((z >= 0) & (z <= 1))
    s = r.scores
    total = s.total[~np.isnan(s.total)]
    assert np.all((total >= -1e-9) & (total <= 100 + 1e-9))
    dims = s.dimension_points[~np.isnan(s.dimension_points)]
    assert np.all((dims >= -1e-9) & (dims <= 25 + 1e-9))
    # unscored exactly where coverage falls short or a dimension is empty
    assert np.array_equal(np.isnan(s.total), ~s.scored)
