"""Registry pages: tree, map GeoJSON, compound page, home codes — each scoped to the viewer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.fixture
def staff_s1n1(tiny, make_user, login):
    """Neighbourhood staff of S1N1 (and nowhere else), logged in."""
    return login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))


def node_url(level, code):
    return reverse("registry:tree_node", args=[level, code])


# --- who may open the pages ----------------------------------------------------------------

@pytest.mark.parametrize("name,args", [
    ("registry:tree", []), ("registry:map", []), ("registry:compounds_geojson", []),
    ("registry:compound", ["310115001001001"]),
    ("registry:entrance_home_code", ["31011500100100100101"]),
])
def test_anonymous_visitor_is_sent_to_log_in(client, tiny, name, args):
    res = client.get(reverse(name, args=args))
    assert res.status_code == 302
    assert res["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize("role", ["duty_officer", "neighbourhood_staff", "department_staff",
                                  "liaison", "deputy", "property_company"])
def test_registry_roles_with_an_area_open_tree_map_and_own_compound(role, tiny, make_user, login):
    client = login(make_user("u", role, tiny.neighbourhoods["S1N1"]))
    c = tiny.compounds["S1N1C1"]
    assert client.get(reverse("registry:tree")).status_code == 200
    assert client.get(reverse("registry:map")).status_code == 200
    res = client.get(reverse("registry:compound", args=[c.code]))
    assert res.status_code == 200
    assert c.name in res.content.decode()


@pytest.mark.parametrize("role", ["district_analyst", "admin"])
def test_whole_district_roles_open_any_compound(role, tiny, make_user, login):
    client = login(make_user("u", role))
    for c in tiny.compounds.values():
        assert client.get(reverse("registry:compound", args=[c.code])).status_code == 200


@pytest.mark.parametrize("role", ["resident", "landlord", "leasing_enterprise"])
def test_roles_without_registry_view_get_403(role, tiny, make_user, login):
    areas = [] if role == "resident" else [tiny.neighbourhoods["S1N1"]]
    client = login(make_user("u", role, *areas))
    res = client.get(reverse("registry:tree"))
    assert res.status_code == 403
    assert "无权" in res.content.decode()
    assert client.get(reverse("registry:compounds_geojson")).status_code == 403


# --- scope --------------------------------------------------------------------------------

def test_staff_get_404_for_another_neighbourhoods_compound(staff_s1n1, tiny):
    res = staff_s1n1.get(reverse("registry:compound", args=[tiny.compounds["S1N2C1"].code]))
    assert res.status_code == 404
    body = res.content.decode()
    assert tiny.compounds["S1N2C1"].name not in body
    # exactly what a compound that does not exist gets: nothing tells the two apart
    missing = staff_s1n1.get(reverse("registry:compound", args=["310115999999999"]))
    def plain(html: str, code: str) -> str:  # without the form token and the page's own address
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html).replace(code, "")

    assert missing.status_code == 404
    assert plain(missing.content.decode(), "310115999999999") == plain(
        body, tiny.compounds["S1N2C1"].code)


def test_staff_get_404_for_another_neighbourhoods_entrance_code(staff_s1n1, tiny):
    other = tiny.entrances["S2N1C2"]
    res = staff_s1n1.get(reverse("registry:entrance_home_code", args=[other.code]))
    assert res.status_code == 404
    assert other.home_code not in res.content.decode()


def test_staff_get_404_for_another_neighbourhoods_tree_node(staff_s1n1, tiny):
    assert staff_s1n1.get(node_url("neighbourhood", tiny.neighbourhoods["S1N2"].code)).status_code == 404
    assert staff_s1n1.get(node_url("subdistrict", tiny.subdistricts["S2"].code)).status_code == 404
    assert staff_s1n1.get(node_url("compound", tiny.compounds["S2N2C1"].code)).status_code == 404


def test_staff_get_404_for_another_neighbourhoods_printable_codes(staff_s1n1, tiny):
    res = staff_s1n1.get(reverse("registry:compound_home_codes",
                                 args=[tiny.compounds["S1N2C2"].code]))
    assert res.status_code == 404


def test_map_geojson_holds_only_the_staffs_compounds(staff_s1n1, tiny):
    data = staff_s1n1.get(reverse("registry:compounds_geojson")).json()
    codes = {f["properties"]["code"] for f in data["features"]}
    assert codes == {tiny.compounds["S1N1C1"].code, tiny.compounds["S1N1C2"].code}
    first = data["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert first["properties"]["compound_type"] in {"commodity", "old_public"}


def test_cached_map_geojson_is_not_shared_between_areas(tiny, make_user, login, client):
    # Given a cached answer for the staff of S1N1
    login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    client.get(reverse("registry:compounds_geojson"))
    # When staff of S2N2 ask
    client.logout()
    login(make_user("zhao", "neighbourhood_staff", tiny.neighbourhoods["S2N2"]))
    data = client.get(reverse("registry:compounds_geojson")).json()
    # Then they get their own compounds only
    codes = {f["properties"]["code"] for f in data["features"]}
    assert codes == {tiny.compounds["S2N2C1"].code, tiny.compounds["S2N2C2"].code}


def test_map_geojson_follows_a_changed_compound(staff_s1n1, tiny):
    c = tiny.compounds["S1N1C1"]
    staff_s1n1.get(reverse("registry:compounds_geojson"))
    c.name = "改名小区"
    c.save()
    data = staff_s1n1.get(reverse("registry:compounds_geojson")).json()
    assert "改名小区" in {f["properties"]["name"] for f in data["features"]}


def test_map_page_carries_the_compound_url_template_and_type_labels(staff_s1n1):
    body = staff_s1n1.get(reverse("registry:map")).content.decode()
    assert 'data-compound-url="/registry/compounds/__code__/"' in body
    assert 'id="type-labels-data"' in body and "老旧公房" in body


def test_neighbourhood_outlines_are_scoped_too(staff_s1n1, tiny):
    data = staff_s1n1.get(reverse("registry:neighbourhoods_geojson")).json()
    assert [f["properties"]["code"] for f in data["features"]] == [tiny.neighbourhoods["S1N1"].code]


def test_analyst_map_holds_every_compound(tiny, make_user, login):
    client = login(make_user("ana", "district_analyst"))
    data = client.get(reverse("registry:compounds_geojson")).json()
    assert len(data["features"]) == len(tiny.compounds) == 8


def test_unknown_compound_is_a_chinese_404(staff_s1n1):
    res = staff_s1n1.get(reverse("registry:compound", args=["999"]))
    assert res.status_code == 404
    assert "页面不存在" in res.content.decode()


# --- the tree --------------------------------------------------------------------------------

def test_tree_walks_down_the_staffs_own_branch_with_counts(staff_s1n1, tiny):
    d, s1 = tiny.district, tiny.subdistricts["S1"]
    n = tiny.neighbourhoods["S1N1"]
    page = staff_s1n1.get(reverse("registry:tree")).content.decode()
    assert d.name in page and node_url("district", d.code) in page

    subs = staff_s1n1.get(node_url("district", d.code)).content.decode()
    assert s1.name in subs and tiny.subdistricts["S2"].name not in subs
    assert "1 居民区" in subs and "2 小区" in subs

    nbs = staff_s1n1.get(node_url("subdistrict", s1.code)).content.decode()
    assert n.name in nbs and tiny.neighbourhoods["S1N2"].name not in nbs

    cs = staff_s1n1.get(node_url("neighbourhood", n.code)).content.decode()
    c1 = tiny.compounds["S1N1C1"]
    assert c1.name in cs and reverse("registry:compound", args=[c1.code]) in cs

    bs = staff_s1n1.get(node_url("compound", c1.code)).content.decode()
    assert "1号楼" in bs and "1 门洞" in bs

    b = tiny.entrances["S1N1C1"].building
    es = staff_s1n1.get(node_url("building", b.code)).content.decode()
    assert "1单元" in es
    assert reverse("registry:entrance_home_code", args=[tiny.entrances["S1N1C1"].code]) in es


def test_analyst_tree_counts_the_whole_district(tiny, make_user, login):
    client = login(make_user("ana", "district_analyst"))
    subs = client.get(node_url("district", tiny.district.code)).content.decode()
    assert tiny.subdistricts["S2"].name in subs
    page = client.get(reverse("registry:tree")).content.decode()
    assert "8 小区" in page


def test_tree_node_of_unknown_level_is_404(staff_s1n1):
    assert staff_s1n1.get(node_url("planet", "x")).status_code == 404


# --- compound page and home codes --------------------------------------------------------------

def test_compound_page_shows_attributes_buildings_chart_and_code_links(staff_s1n1, tiny):
    c = tiny.compounds["S1N1C2"]
    c.tags = ["学区房"]
    c.save(update_fields=["tags"])
    e = tiny.entrances["S1N1C2"]
    body = staff_s1n1.get(reverse("registry:compound", args=[c.code])).content.decode()
    assert c.name in body and c.code in body and "老旧公房" in body and "学区房" in body
    assert "1号楼" in body
    assert reverse("registry:entrance_home_code", args=[e.code]) in body
    assert reverse("registry:compound_home_codes", args=[c.code]) in body
    assert 'id="households-chart-data"' in body and 'id="compound-shape-data"' in body
    assert "<script>" not in body  # CSP: no inline scripts


def test_duty_officer_sees_the_page_but_no_print_links(tiny, make_user, login):
    client = login(make_user("duty", "duty_officer", tiny.subdistricts["S1"]))
    c = tiny.compounds["S1N1C1"]
    body = client.get(reverse("registry:compound", args=[c.code])).content.decode()
    assert reverse("registry:compound_home_codes", args=[c.code]) not in body
    e = tiny.entrances["S1N1C1"]
    assert client.get(reverse("registry:entrance_home_code", args=[e.code])).status_code == 403


def test_entrance_home_code_is_an_svg_qr_of_the_landing_page(staff_s1n1, tiny):
    e = tiny.entrances["S1N1C1"]
    res = staff_s1n1.get(reverse("registry:entrance_home_code", args=[e.code]))
    assert res.status_code == 200
    assert res["Content-Type"] == "image/svg+xml"
    assert res.content.lstrip().startswith(b"<?xml") or b"<svg" in res.content[:200]


def test_printable_sheet_has_one_code_per_entrance(staff_s1n1, tiny):
    c = tiny.compounds["S1N1C1"]
    body = staff_s1n1.get(reverse("registry:compound_home_codes", args=[c.code])).content.decode()
    assert body.count("<svg") == 1
    assert tiny.entrances["S1N1C1"].code in body


def test_home_code_landing_works_without_log_in(client, tiny):
    e = tiny.entrances["S1N1C1"]
    res = client.get(reverse("registry:home_code_landing", args=[e.home_code]))
    assert res.status_code == 200
    body = res.content.decode()
    assert tiny.compounds["S1N1C1"].name in body and "测试路1号" in body
    assert tiny.neighbourhoods["S1N1"].name in body


def test_unknown_home_code_is_a_chinese_404(client, db):
    res = client.get(reverse("registry:home_code_landing", args=["not-a-real-token"]))
    assert res.status_code == 404
    assert "页面不存在" in res.content.decode()
