"""The pure planning step: counts, mix, geometry and determinism, without a database."""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.demo.generator.plan import FOUR_TYPES, DistrictPlan, dwellings, plan

TOL = 1e-12  # deg²: shared Voronoi edges may differ in the last bits


def _assert_geometry(p: DistrictPlan) -> None:
    subs = p.subdistricts
    hoods = list(p.neighbourhoods())
    compounds = list(p.compounds())
    for g in [s.geom for s in subs] + [n.geom for n in hoods] + [c.geom for c in compounds]:
        assert g.is_valid and not g.is_empty and g.area > 0
    # compounds pairwise: inset, so they do not even touch
    tree = shapely.STRtree([c.geom for c in compounds])
    pairs = tree.query([c.geom for c in compounds], predicate="intersects")
    assert all(int(a) == int(b) for a, b in zip(*pairs, strict=True))
    # neighbourhoods pairwise: they share edges, never area
    tree = shapely.STRtree([n.geom for n in hoods])
    a_idx, b_idx = tree.query([n.geom for n in hoods], predicate="intersects")
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        if a < b:
            assert hoods[a].geom.intersection(hoods[b].geom).area < TOL
    for s in subs:
        assert p.geom.buffer(1e-9).contains(s.geom)
        for n in s.neighbourhoods:
            assert s.geom.buffer(1e-9).contains(n.geom)
            for c in n.compounds:
                assert n.geom.contains(c.geom)
                assert c.code.startswith(n.code) and len(c.code) == 15
            union = shapely.union_all([g.geom for g in n.grid_cells])
            assert abs(union.area - n.geom.area) < 1e-9 * max(1.0, n.geom.area) + TOL


def test_pudong_plan_has_the_stated_mix_without_touching_a_database():
    p = plan("pudong", 1)
    counts = p.counts()
    assert counts["subdistricts"] == 36
    assert (counts["streets"], counts["towns"]) == (12, 24)
    assert counts["neighbourhoods"] == 1300
    assert counts["compounds_commodity"] == 1590
    assert sum(counts[f"compounds_{t}"] for t in FOUR_TYPES if t != "commodity") == 1200
    assert 0 < counts["compounds_urban_village"] <= 40
    assert abs(counts["households"] - 1_950_000) <= 0.02 * 1_950_000
    village_subs = {c.code[:9] for c in p.compounds() if c.compound_type == "urban_village"}
    assert all(s.kind == "town" for s in p.subdistricts if s.code in village_subs)


def test_pudong_plan_polygons_are_valid_nested_and_non_overlapping():
    _assert_geometry(plan("pudong", 2))


def test_pudong_geography_lies_in_pudong_and_lujiazui_is_the_first_street():
    p = plan("pudong", 1)
    minx, miny, maxx, maxy = p.geom.bounds
    assert minx >= 121.44 and maxx <= 121.97 and miny >= 30.84 and maxy <= 31.40
    lujiazui = p.subdistricts[0]
    assert lujiazui.name == "陆家嘴街道" and lujiazui.kind == "street"
    assert lujiazui.geom.contains(shapely.Point(121.505, 31.235))


def test_street_plan_is_lujiazui_with_about_30_neighbourhoods_and_80_compounds():
    p = plan("street", 1)
    counts = p.counts()
    assert counts["subdistricts"] == 1 and p.subdistricts[0].name == "陆家嘴街道"
    assert 25 <= counts["neighbourhoods"] <= 35
    assert 70 <= counts["compounds"] <= 90
    assert counts["compounds_urban_village"] == 0
    minx, miny, maxx, maxy = p.subdistricts[0].geom.bounds
    assert minx >= 121.49 and maxx <= 121.53 and miny >= 31.22 and maxy <= 31.245
    _assert_geometry(p)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_seed_gives_a_consistent_street_plan(seed):
    p = plan("street", seed)
    compounds = list(p.compounds())
    assert len({c.code for c in compounds}) == len(compounds)
    assert len({c.name for c in compounds}) == len(compounds)
    assert sum(c.households for c in compounds) == 42_000
    for c in compounds:
        assert c.households >= 30 and c.population >= c.households
        assert 1950 <= c.year_built <= 2023
    _assert_geometry(p)


def test_same_seed_gives_the_same_plan_and_another_seed_does_not():
    def fingerprint(p):
        return [(c.code, c.name, c.compound_type, c.households, c.geom.wkb) for c in p.compounds()]

    assert fingerprint(plan("street", 5)) == fingerprint(plan("street", 5))
    assert fingerprint(plan("street", 5)) != fingerprint(plan("street", 6))


def test_dwellings_hold_exactly_the_compound_households_with_unique_rooms():
    p = plan("street", 3)
    for c in list(p.compounds())[:20]:
        buildings = dwellings(c, 3)
        assert sum(b.households for b in buildings) == c.households
        for b in buildings:
            assert b.code.startswith(c.code) and len(b.code) == 18
            for e in b.entrances:
                assert len(set(e.rooms)) == len(e.rooms) == len(e.areas) > 0
                assert all(int(r[:-2]) <= b.floors for r in e.rooms)
        assert [b.code for b in dwellings(c, 3)] == [b.code for b in buildings]


def test_unknown_scale_is_refused():
    import pytest

    with pytest.raises(ValueError, match="未知规模"):
        plan("shanghai", 1)
