"""Point → grid cell, compound, neighbourhood; GCJ-02 and BD-09 accepted at the edge."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.registry.geo import CoordinateError, from_wgs84, parse_polygon, to_wgs84


def test_point_inside_a_compound_finds_its_whole_chain(tiny, make_user, login):
    client = login(make_user("ana", "district_analyst"))
    res = client.get("/api/v1/registry/locate", {"lng": "121.425", "lat": "31.15"})
    assert res.status_code == 200
    body = res.json()
    c = tiny.compounds["S1N1C1"]
    assert body["compound"] == c.code
    assert body["neighbourhood"] == tiny.neighbourhoods["S1N1"].code
    assert body["grid_cell"] == tiny.grid_cells["S1N1"].code
    assert body["subdistrict"] == tiny.subdistricts["S1"].code


def test_point_in_a_street_between_compounds_has_no_compound(tiny, make_user, login):
    client = login(make_user("ana", "district_analyst"))
    body = client.get("/api/v1/registry/locate", {"lng": "121.45", "lat": "31.15"}).json()
    assert body["compound"] is None
    assert body["neighbourhood"] == tiny.neighbourhoods["S1N1"].code


def test_gcj02_input_is_converted_before_lookup(tiny, make_user, login):
    client = login(make_user("ana", "district_analyst"))
    # A WGS-84 point 60 m inside the east edge of S1N1C1 (x1 = 121.449): its GCJ-02 form lies
    # ~500 m further east, outside the compound; only the conversion puts it back inside.
    gx, gy = from_wgs84(121.4484, 31.15, "gcj02")
    assert gx > 121.45
    body = client.get("/api/v1/registry/locate", {"lng": gx, "lat": gy, "crs": "gcj02"}).json()
    assert body["compound"] == tiny.compounds["S1N1C1"].code
    assert abs(body["lng"] - 121.4484) < 1e-6


@pytest.mark.parametrize("lng,lat,crs", [("abc", "31", "wgs84"), ("200", "31", "wgs84"),
                                         ("121", "95", "wgs84"), ("121", "31", "utm")])
def test_bad_coordinates_get_a_clear_error(tiny, make_user, login, lng, lat, crs):
    client = login(make_user("ana", "district_analyst"))
    res = client.get("/api/v1/registry/locate", {"lng": lng, "lat": lat, "crs": crs})
    assert res.status_code == 422
    err = res.json()["error"]
    assert err["code"] == "invalid_coordinates" and err["message"]


def test_staff_do_not_learn_compounds_outside_their_area(tiny, make_user, login):
    client = login(make_user("n11", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    body = client.get("/api/v1/registry/locate", {"lng": "121.575", "lat": "31.25"}).json()
    assert body["compound"] is None


@given(st.floats(73.6, 134.7), st.floats(18.2, 53.5), st.sampled_from(["gcj02", "bd09"]))
def test_conversion_round_trips_within_ten_centimetres(lng, lat, crs):
    x, y = from_wgs84(lng, lat, crs)
    back = to_wgs84(x, y, crs)
    assert abs(back[0] - lng) < 1e-6 and abs(back[1] - lat) < 1e-6


def test_self_intersecting_polygon_is_refused():
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(CoordinateError, match="无效"):
        parse_polygon(bow_tie)
