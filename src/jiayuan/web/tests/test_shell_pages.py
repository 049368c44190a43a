"""The shell's pages: log-in, home per role, language switch, error pages, home tiles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jiayuan.accounts.models import Role
from jiayuan.accounts.testing import TEST_PASSWORD
from jiayuan.web.home import register_tile, tiles_for, unregister_tile

STAFF_ROLES_WITH_AREA = [
    "duty_officer", "neighbourhood_staff", "department_staff", "liaison", "landlord",
    "leasing_enterprise", "property_company", "deputy",
]


def test_anonymous_visitor_of_home_is_sent_to_log_in(client):
    res = client.get("/")
    assert res.status_code == 302
    assert res["Location"].startswith(reverse("web:login"))


def test_log_in_page_speaks_chinese_by_default(client, db):
    res = client.get(reverse("web:login"))
    body = res.content.decode()
    assert res.status_code == 200
    assert "登录" in body
    assert 'name="language" value="en"' in body


def test_log_in_form_with_right_password_lands_on_home(client, tiny, make_user):
    make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    res = client.post(reverse("web:login"), {"username": "wang", "password": TEST_PASSWORD})
    assert res.status_code == 302 and res["Location"] == reverse("web:home")
    assert client.get("/").status_code == 200


def test_wrong_password_shows_error_in_chinese(client, tiny, make_user):
    make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    res = client.post(reverse("web:login"), {"username": "wang", "password": "nope-nope-1"})
    assert res.status_code == 200
    assert "用户名或密码错误" in res.content.decode()


def test_log_out_ends_the_session(client, tiny, make_user, login):
    login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    res = client.post(reverse("web:logout"))
    assert res.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", STAFF_ROLES_WITH_AREA)
def test_home_heading_names_the_role_and_lists_the_area(role, tiny, make_user, login):
    n = tiny.neighbourhoods["S1N1"]
    client = login(make_user("u", role, n))
    body = client.get("/").content.decode()
    assert f'data-role="{role}"' in body
    assert n.name in body


@pytest.mark.parametrize("role", ["district_analyst", "resident", "admin"])
def test_home_renders_for_roles_without_an_area(role, tiny, make_user, login):
    client = login(make_user("u", role))
    res = client.get("/")
    assert res.status_code == 200
    assert f'data-role="{role}"' in res.content.decode()


def test_staff_home_links_tree_and_map_but_not_admin(tiny, make_user, login):
    client = login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    body = client.get("/").content.decode()
    assert reverse("registry:tree") in body
    assert reverse("registry:map") in body
    assert reverse("admin:index") not in body


def test_resident_home_has_no_registry_links(tiny, make_user, login):
    client = login(make_user("li", "resident"))
    body = client.get("/").content.decode()
    assert reverse("registry:tree") not in body
    assert reverse("admin:index") not in body


def test_administrator_home_links_the_admin(tiny, make_user, login):
    client = login(make_user("root", "admin"))
    body = client.get("/").content.decode()
    assert reverse("admin:index") in body
    assert "整个区" in body


def test_a_registered_tile_appears_only_for_its_roles(tiny, make_user):
    register_tile("test.parking", title="Parking", url_name="web:home", roles=["resident"],
                  order=5)
    try:
        resident = make_user("li", "resident")
        staff = make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
        assert "test.parking" in [t.key for t, _ in tiles_for(resident)]
        assert "test.parking" not in [t.key for t, _ in tiles_for(staff)]
    finally:
        unregister_tile("test.parking")


def test_tile_with_unknown_url_is_left_out_not_crashing(tiny, make_user):
    register_tile("test.ghost", title="Ghost", url_name="nowhere:none")
    try:
        user = make_user("li", "resident")
        assert "test.ghost" not in [t.key for t, _ in tiles_for(user)]
    finally:
        unregister_tile("test.ghost")


def test_switching_to_english_changes_the_interface(client, tiny, make_user, login):
    login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    assert "居委会工作人员" in client.get("/").content.decode()
    res = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert res.status_code == 302
    body = client.get("/").content.decode()
    assert "Neighbourhood staff" in body
    assert "居委会工作人员" not in body


def test_unknown_page_gets_the_chinese_404_page(client, db):
    res = client.get("/no-such-page/")
    assert res.status_code == 404
    assert "页面不存在" in res.content.decode()


def test_role_labels_are_all_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        for value, label in Role.choices:
            assert str(label) != value.replace("_", " "), value


def test_server_error_page_renders_in_chinese_without_context(db):
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "服务器错误" in html
