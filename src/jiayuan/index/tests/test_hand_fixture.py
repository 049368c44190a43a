"""Two compound types, a dozen compounds, two periods: the engine against hand computation.

old_public uses fixed goalposts (0–10; growth −10–10) so its numbers can be done on paper;
commodity draws its goalposts: with 6 compounds Cochran's sample is all 6, so the goalposts
are the min/max of each compound's two-year average pushed out by 10 % of themselves. The
reference below redoes all of it in exact fractions, one compound at a time.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from jiayuan.index.engine import ComputeOptions, compute_index
from jiayuan.index.engine.thresholds import cochran_sample_size

LEAVES = ["a1", "a2", "a3", "b1", "b2", "c1", "c2", "d1", "d2"]
DIM = {"a1": "mp", "a2": "mp", "a3": "mp", "b1": "cv", "b2": "cv", "c1": "rs", "c2": "rs",
       "d1": "cp", "d2": "cp"}
SUB = {"a1": "sp", "a2": "me", "a3": "me", "b1": "pl", "b2": "rp", "c1": "ss", "c2": "oc",
       "d1": "re", "d2": "sg"}
INVERSE = {"a3", "c2"}
N_IN_DIM = {"mp": 3, "cv": 2, "rs": 2, "cp": 2}


def _z(v, lo, hi, inverse):
    z = (v - lo) / (hi - lo)
    z = 1 - z if inverse else z
    return min(F(1), max(F(0), z))


def _points(zs):
    """Per dimension: 25 points over the available leaves, equally; sub-index sums."""
    dims, subs = {}, {}
    for d in N_IN_DIM:
        avail = [c for c in LEAVES if DIM[c] == d and zs.get(c) is not None]
        if not avail:
            dims[d] = None
            continue
        w = F(25) / len(avail)
        dims[d] = sum(w * zs[c] for c in avail)
        for c in avail:
            subs[SUB[c]] = subs.get(SUB[c], F(0)) + w * zs[c]
    return dims, subs


def _reference(panel):
    raw = {}
    for ci, comp in enumerate(panel.compounds):
        for pi, per in enumerate(panel.periods):
            for j, code in enumerate(LEAVES):
                v = panel.values[ci, pi, j]
                raw[comp, per, code] = None if np.isnan(v) else F(str(v))
    types = dict(zip(panel.compounds, panel.types, strict=True))
    periods = panel.periods

    def goalposts(t, code, val):
        if t == "old_public":
            return (F(-10), F(10)) if code == "d2" else (F(0), F(10))
        smas = []
        for comp in (c for c in panel.compounds if types[c] == t):
            vs = [val(comp, p) for p in periods if val(comp, p) is not None]
            if vs:
                smas.append(sum(vs) / len(vs))
        lo, hi = min(smas), max(smas)
        return lo - abs(lo) / 10, hi + abs(hi) / 10

    z, mp = {}, {}
    for comp in panel.compounds:
        t = types[comp]
        for per in periods:
            zs = {}
            for code in LEAVES[:-1]:
                v = raw[comp, per, code]
                lo, hi = goalposts(t, code, lambda c, p, code=code: raw[c, p, code])
                zs[code] = None if v is None else _z(v, lo, hi, code in INVERSE)
            z[comp, per] = zs
            mp[comp, per] = _points(zs)[0]["mp"]
    growth = {}
    for comp in panel.compounds:
        growth[comp, periods[0]] = None
        for p0, p1 in zip(periods, periods[1:]):
            growth[comp, p1] = mp[comp, p1] - mp[comp, p0]
    out = {}
    for comp in panel.compounds:
        t = types[comp]
        lo, hi = goalposts(t, "d2", lambda c, p: growth[c, p])
        for per in periods:
            zs = dict(z[comp, per])
            g = growth[comp, per]
            zs["d2"] = None if g is None else _z(g, lo, hi, False)
            dims, subs = _points(zs)
            weight = {"mp": F(25, 3), "cv": F(25, 2), "rs": F(25, 2), "cp": F(25, 2)}
            coverage = sum(weight[DIM[c]] for c in LEAVES if zs[c] is not None) / 100
            scored = coverage >= F(3, 4) and all(v is not None for v in dims.values())
            total = sum(dims.values()) if scored else None
            out[comp, per] = (zs, dims, subs, coverage, total)
    return out


@pytest.fixture
def result(hand_panel, mini_catalogue, hand_fixed):
    return compute_index(hand_panel, mini_catalogue, ComputeOptions(fixed_thresholds=hand_fixed))


def test_six_compounds_of_a_type_are_all_sampled():
    assert cochran_sample_size(6) == 6


def test_old_public_compound_o1_matches_paper_arithmetic(result):
    # 2023: Z = .5 1 .8 | .4 .6 | .8 .5 | .3 (growth missing, no earlier period)
    # MP = 25/3·2.3, CV = 12.5·1.0, RS = 12.5·1.3, CP re-weighted onto d1 alone = 25·.3
    p = result.panel
    c = p.compounds.index("O1")
    s = result.scores
    assert s.dimension_points[c, 0] == pytest.approx([25 / 3 * 2.3, 12.5, 16.25, 7.5], abs=1e-9)
    assert s.total[c, 0] == pytest.approx(25 / 3 * 2.3 + 12.5 + 16.25 + 7.5, abs=1e-9)
    assert s.coverage[c, 0] == pytest.approx(0.875, abs=1e-12)
    # 2024: a1 rises 5 → 8, MP = 25/3·2.6; growth 2.5 points → Z = (2.5+10)/20 = .625
    assert result.x[c, 1, 8] == pytest.approx(2.5, abs=1e-9)
    assert result.z[c, 1, 8] == pytest.approx(0.625, abs=1e-9)
    assert s.subindex_points[c, 1] == pytest.approx(
        [25 / 3 * 0.8, 25 / 3 * 1.8, 5.0, 7.5, 10.0, 6.25, 3.75, 7.8125], abs=1e-9
    )
    assert s.total[c, 1] == pytest.approx(25 / 3 * 2.6 + 12.5 + 16.25 + 11.5625, abs=1e-9)


def test_commodity_goalposts_are_pushed_ten_percent_of_themselves(result):
    th = result.thresholds["commodity"]
    # a1 two-year averages: M1 21, M2 32.5, M3 16.5, M4 41, M5 25 (one year), M6 29
    assert th.x_min[0] == pytest.approx(16.5 * 0.9, abs=1e-12)
    assert th.x_max[0] == pytest.approx(41 * 1.1, abs=1e-12)
    # a3 (inverse) averages: 0, 3.5, 1.5, 1, 5.5, 2.5 → a zero minimum stays at zero
    assert th.x_min[2] == 0.0
    assert th.x_max[2] == pytest.approx(5.5 * 1.1, abs=1e-12)
    assert th.sample_size == 6


def test_every_compound_and_period_matches_exact_reference(result, hand_panel):
    ref = _reference(hand_panel)
    s = result.scores
    dims = ["mp", "cv", "rs", "cp"]
    subs = ["sp", "me", "pl", "rp", "ss", "oc", "re", "sg"]
    for ci, comp in enumerate(hand_panel.compounds):
        for pi, per in enumerate(hand_panel.periods):
            zs, dpts, spts, coverage, total = ref[comp, per]
            for j, code in enumerate(LEAVES):
                if zs[code] is None:
                    assert np.isnan(result.z[ci, pi, j]), (comp, per, code)
                else:
                    assert result.z[ci, pi, j] == pytest.approx(float(zs[code]), abs=1e-9)
            assert s.coverage[ci, pi] == pytest.approx(float(coverage), abs=1e-12)
            if total is None:
                assert np.isnan(s.total[ci, pi]) and not s.scored[ci, pi], (comp, per)
                continue
            assert s.total[ci, pi] == pytest.approx(float(total), abs=1e-9), (comp, per)
            for k, d in enumerate(dims):
                assert s.dimension_points[ci, pi, k] == pytest.approx(float(dpts[d]), abs=1e-9)
            for k, sub in enumerate(subs):
                assert s.subindex_points[ci, pi, k] == pytest.approx(float(spts.get(sub, 0)), abs=1e-9)


def test_compound_below_coverage_gets_no_score_and_is_reported(result):
    # M5 2024 lacks a1, b1, c1, d1: 25/3 + 3·12.5 = 45.83 of 100 points missing
    [(comp, per, reason, coverage)] = result.unscored()
    assert (comp, per, reason) == ("M5", "2024", "coverage_below_threshold")
    assert coverage == pytest.approx(1 - (25 / 3 + 37.5) / 100, abs=1e-12)


def test_missing_leaf_reweights_its_dimension_only(result):
    # M6 2024 lacks b2: community_vitality is b1's Z times the full 25 points
    c = result.panel.compounds.index("M6")
    assert result.scores.dimension_points[c, 1, 1] == pytest.approx(25 * result.z[c, 1, 3])
    assert result.scores.subindex_points[c, 1, 3] == 0.0
