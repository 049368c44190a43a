"""ResourceOffer menu, needs and matching: pages and API, scoped by area; bad input saves nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from jiayuan.council.models import Need, ResourceOffer
from jiayuan.council.services import projects as ps
from jiayuan.council.services.topics import create_council


def _menu(env):
    near = ps.add_resource(env.council, actor=env.staff, provider="社区医院", title="上门体检",
                           category="health", capacity=3, compound=env.compound)
    far = ps.add_resource(env.council, actor=env.staff, provider="街道卫生站", title="义诊",
                          category="health", capacity=10)
    law = ps.add_resource(env.council, actor=env.staff, provider="律所", title="法律咨询",
                          category="legal", capacity=5)
    return near, far, law


def _need(env, size=2, category="health"):
    return ps.add_need(env.council, actor=env.staff, title="独居老人体检", category=category,
                       size=size, compound=env.compound)


def _post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


# --- pages --------------------------------------------------------------------------------------

def test_council_page_links_the_menu_and_the_needs(env, client):
    client.force_login(env.staff)
    body = client.get(reverse("council:council", args=[env.council.pk])).content.decode()
    assert reverse("council:resources", args=[env.council.pk]) in body
    assert reverse("council:needs", args=[env.council.pk]) in body


def test_pages_render_for_staff_of_the_area(env, client):
    near, far, law = _menu(env)
    need = _need(env)
    client.force_login(env.staff)
    r = client.get(reverse("council:resources", args=[env.council.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    for text in ("上门体检", "义诊", "法律咨询", "社区医院", 'name="capacity"'):
        assert text in body
    r = client.get(reverse("council:resources", args=[env.council.pk]), {"category": "legal"})
    body = r.content.decode()
    assert "法律咨询" in body and "上门体检" not in body
    r = client.get(reverse("council:needs", args=[env.council.pk]))
    assert r.status_code == 200 and "独居老人体检" in r.content.decode()
    r = client.get(reverse("council:need", args=[need.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "上门体检" in body and "义诊" in body and "法律咨询" not in body
    assert body.index("上门体检") < body.index("义诊")  # same compound first
    assert reverse("council:need_match", args=[need.pk]) in body


def test_pages_refused_to_another_neighbourhoods_staff(env, client):
    _menu(env)
    need = _need(env)
    client.force_login(env.other)
    for url in (reverse("council:resources", args=[env.council.pk]),
                reverse("council:needs", args=[env.council.pk]),
                reverse("council:need", args=[need.pk])):
        assert client.get(url).status_code in (403, 404), url
    r = client.post(reverse("council:resource_new", args=[env.council.pk]),
                    {"provider": "外区", "title": "越权", "category": "health", "capacity": "5"})
    assert r.status_code in (403, 404)
    r = client.post(reverse("council:need_match", args=[need.pk]))
    assert r.status_code in (403, 404)
    r = client.post(reverse("council:need_new", args=[env.council.pk]),
                    {"title": "越权", "category": "health", "size": "1"})
    assert r.status_code in (403, 404)
    assert not ResourceOffer.objects.filter(title="越权").exists()
    assert not Need.objects.filter(title="越权").exists()
    need.refresh_from_db()
    assert need.matched_resource_id is None
    assert client.get(reverse("council:need", args=[999999])).status_code == 404


def test_liaison_of_the_area_adds_to_the_menu_but_a_bystander_may_not(env, client):
    client.force_login(env.liaison)
    r = client.post(reverse("council:resource_new", args=[env.council.pk]),
                    {"provider": "城管中队", "title": "便民修理", "category": "repair",
                     "capacity": "4", "compound": str(env.compound.pk)})
    assert r.status_code == 302
    res = ResourceOffer.objects.get(title="便民修理")
    assert res.capacity == 4 and res.compound == env.compound and res.path == env.compound.path
    client.force_login(env.bystander)
    page = client.get(reverse("council:resources", args=[env.council.pk])).content.decode()
    assert 'name="provider"' not in page
    r = client.post(reverse("council:resource_new", args=[env.council.pk]),
                    {"provider": "物业", "title": "不该有", "category": "repair", "capacity": "4"})
    assert r.status_code == 403
    assert not ResourceOffer.objects.filter(title="不该有").exists()


@pytest.mark.parametrize("data, message", [
    ({"provider": "社区医院", "title": "体检", "category": "health", "capacity": "abc"},
     "可服务数量须为大于零的整数"),
    ({"provider": "社区医院", "title": "体检", "category": "health", "capacity": "0"},
     "可服务数量须为大于零的整数"),
    ({"provider": "", "title": "体检", "category": "health", "capacity": "3"},
     "资源名称、类别和提供方不能为空"),
    ({"provider": "社区医院", "title": "体检", "category": "health", "capacity": "3",
      "compound": "999999"}, "所选小区不在本居民区"),
])
def test_bad_resource_form_shows_chinese_error_and_saves_nothing(env, client, data, message):
    client.force_login(env.staff)
    r = client.post(reverse("council:resource_new", args=[env.council.pk]), data)
    assert r.status_code == 422
    body = r.content.decode()
    assert message in body and 'data-testid="error"' in body
    assert ResourceOffer.objects.count() == 0


def test_a_compound_of_another_neighbourhood_is_refused(env, client):
    client.force_login(env.staff)
    foreign = env.tiny.compounds["S2N1C1"]
    r = client.post(reverse("council:need_new", args=[env.council.pk]),
                    {"title": "体检", "category": "health", "size": "1",
                     "compound": str(foreign.pk)})
    assert r.status_code == 422 and "所选小区不在本居民区" in r.content.decode()
    assert Need.objects.count() == 0


@pytest.mark.parametrize("data, message", [
    ({"title": "体检", "category": "health", "size": "-2"}, "需求数量须为大于零的整数"),
    ({"title": "体检", "category": "health", "size": "两个"}, "需求数量须为大于零的整数"),
    ({"title": " ", "category": "health", "size": "1"}, "需求名称和类别不能为空"),
])
def test_bad_need_form_shows_chinese_error_and_saves_nothing(env, client, data, message):
    client.force_login(env.staff)
    r = client.post(reverse("council:need_new", args=[env.council.pk]), data)
    assert r.status_code == 422 and message in r.content.decode()
    assert Need.objects.count() == 0


def test_staff_record_a_need_through_the_page(env, client):
    client.force_login(env.staff)
    r = client.post(reverse("council:need_new", args=[env.council.pk]),
                    {"title": "助餐", "category": "meals", "size": "3"})
    need = Need.objects.get(title="助餐")
    assert r.status_code == 302 and r["Location"] == reverse("council:need", args=[need.pk])
    assert need.size == 3 and need.path == env.council.path and need.matched_resource is None
    body = client.get(reverse("council:needs", args=[env.council.pk]),
                      {"status": "open"}).content.decode()
    assert "助餐" in body
    body = client.get(reverse("council:needs", args=[env.council.pk]),
                      {"status": "matched"}).content.decode()
    assert "助餐" not in body


def test_matching_through_the_page_changes_the_need_and_reduces_capacity(env, client):
    near, far, _ = _menu(env)
    need = _need(env, size=2)
    client.force_login(env.staff)
    r = client.post(reverse("council:need_match", args=[need.pk]), {"resource": str(far.pk)})
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.matched_resource == far
    body = client.get(reverse("council:resources", args=[env.council.pk])).content.decode()
    assert f'data-testid="left-{far.pk}">8</span>' in body
    assert f'data-testid="left-{near.pk}">3</span>' in body
    from jiayuan.council.selectors import capacity_left
    assert capacity_left(far) == 8 and capacity_left(near) == 3
    page = client.get(reverse("council:need", args=[need.pk])).content.decode()
    assert 'data-testid="matched"' in page and "义诊" in page
    assert 'data-testid="matched-left">8</span>' in page
    # matching again is refused with a Chinese message and changes nothing
    r = client.post(reverse("council:need_match", args=[need.pk]), {"resource": str(near.pk)})
    assert r.status_code == 422 and "该需求已对接资源" in r.content.decode()
    need.refresh_from_db()
    assert need.matched_resource == far


def test_page_refuses_a_resource_of_the_wrong_category_or_without_room(env, client):
    near, _, law = _menu(env)
    need = _need(env, size=2)
    client.force_login(env.staff)
    r = client.post(reverse("council:need_match", args=[need.pk]), {"resource": str(law.pk)})
    assert r.status_code == 422 and "该资源类别不符或余量不足" in r.content.decode()
    big = _need(env, size=5)
    r = client.post(reverse("council:need_match", args=[big.pk]), {"resource": str(near.pk)})
    assert r.status_code == 422
    r = client.post(reverse("council:need_match", args=[need.pk]), {"resource": "999999"})
    assert r.status_code == 422 and "资源不存在" in r.content.decode()
    assert Need.objects.filter(matched_resource__isnull=False).count() == 0


def test_a_liaison_sees_the_need_but_may_not_match(env, client):
    _menu(env)
    need = _need(env)
    client.force_login(env.liaison)
    page = client.get(reverse("council:need", args=[need.pk])).content.decode()
    assert "上门体检" in page and reverse("council:need_match", args=[need.pk]) not in page
    assert client.post(reverse("council:need_match", args=[need.pk])).status_code == 403
    need.refresh_from_db()
    assert need.matched_resource_id is None


def test_suggestions_include_other_councils_of_the_subdistrict_only(env, client, make_user):
    near, far, _ = _menu(env)
    other_n = env.tiny.neighbourhoods["S2N1"]
    other_council = create_council(other_n)
    ps.add_resource(other_council, actor=env.other, provider="外街道", title="外街道体检",
                    category="health", capacity=9)
    need = _need(env)
    client.force_login(env.staff)
    page = client.get(reverse("council:need", args=[need.pk])).content.decode()
    assert "外街道体检" not in page  # S2 is another subdistrict
    r = client.get(f"/api/v1/council/needs/{need.pk}/matches")
    assert [x["id"] for x in r.json()] == [near.pk, far.pk]


# --- API ----------------------------------------------------------------------------------------

def test_api_lists_and_creates_resources_and_needs(env, client):
    near, far, law = _menu(env)
    client.force_login(env.staff)
    r = client.get("/api/v1/council/resources", {"council": env.council.pk})
    assert r.status_code == 200
    assert {x["title"] for x in r.json()} == {"上门体检", "义诊", "法律咨询"}
    r = client.get("/api/v1/council/resources", {"council": env.council.pk, "category": "legal"})
    assert [x["id"] for x in r.json()] == [law.pk] and r.json()[0]["left"] == 5
    r = _post_json(client, "/api/v1/council/resources",
                   {"council": env.council.pk, "provider": "图书馆", "title": "借书",
                    "category": "culture", "capacity": 20, "compound": env.compound.pk})
    assert r.status_code == 201 and r.json()["left"] == 20
    assert r.json()["compound"] == env.compound.pk
    r = _post_json(client, "/api/v1/council/needs",
                   {"council": env.council.pk, "title": "看书", "category": "culture", "size": 2})
    assert r.status_code == 201 and r.json()["status"] == "open"
    r = client.get("/api/v1/council/needs", {"council": env.council.pk, "status": "open"})
    assert [x["title"] for x in r.json()] == ["看书"]


def test_api_matching_changes_the_need_and_reduces_capacity(env, client):
    near, far, _ = _menu(env)
    need = _need(env, size=2)
    client.force_login(env.staff)
    r = client.get(f"/api/v1/council/needs/{need.pk}/matches")
    assert r.status_code == 200
    assert [(x["id"], x["left"]) for x in r.json()] == [(near.pk, 3), (far.pk, 10)]
    r = _post_json(client, f"/api/v1/council/needs/{need.pk}/match", {})
    assert r.status_code == 200
    assert r.json()["status"] == "matched" and r.json()["matched_resource"] == near.pk
    need.refresh_from_db()
    assert need.matched_resource == near
    r = client.get("/api/v1/council/resources", {"council": env.council.pk,
                                                 "category": "health"})
    assert {x["id"]: x["left"] for x in r.json()} == {near.pk: 1, far.pk: 10}
    # a second need of 2 no longer fits the nearby item: only the far one is offered
    second = _need(env, size=2)
    r = client.get(f"/api/v1/council/needs/{second.pk}/matches")
    assert [x["id"] for x in r.json()] == [far.pk]
    r = _post_json(client, f"/api/v1/council/needs/{second.pk}/match", {"resource": near.pk})
    assert r.status_code == 422 and r.json()["error"]["details"]["resource"] == near.pk
    second.refresh_from_db()
    assert second.matched_resource_id is None
    r = _post_json(client, f"/api/v1/council/needs/{need.pk}/match", {"resource": far.pk})
    assert r.status_code == 422 and r.json()["error"]["message"] == "该需求已对接资源"


@pytest.mark.parametrize("data", [
    {"provider": "医院", "title": "体检", "category": "health", "capacity": 0},
    {"provider": "医院", "title": "体检", "category": "health", "capacity": "许多"},
    {"provider": "", "title": "体检", "category": "health", "capacity": 3},
    {"title": "体检", "category": "health", "capacity": 3},
    {"provider": "医院", "title": "体检", "category": "health", "capacity": 3,
     "compound": 999999},
])
def test_api_refuses_bad_resources_and_creates_nothing(env, client, data):
    client.force_login(env.staff)
    r = _post_json(client, "/api/v1/council/resources", {"council": env.council.pk, **data})
    assert r.status_code in (400, 422)
    err = r.json()["error"]
    assert err["code"] and err["message"]
    assert ResourceOffer.objects.count() == 0


@pytest.mark.parametrize("data", [
    {"title": "体检", "category": "health", "size": 0},
    {"title": "体检", "category": "", "size": 1},
    {"title": "体检", "category": "health", "size": "x"},
])
def test_api_refuses_bad_needs_and_creates_nothing(env, client, data):
    client.force_login(env.staff)
    r = _post_json(client, "/api/v1/council/needs", {"council": env.council.pk, **data})
    assert r.status_code in (400, 422) and r.json()["error"]["code"]
    assert Need.objects.count() == 0


def test_api_refuses_another_neighbourhood_and_a_bad_status(env, client):
    _menu(env)
    need = _need(env)
    client.force_login(env.other)
    assert client.get("/api/v1/council/resources",
                      {"council": env.council.pk}).status_code in (403, 404)
    assert client.get("/api/v1/council/needs",
                      {"council": env.council.pk}).status_code in (403, 404)
    assert client.get(f"/api/v1/council/needs/{need.pk}/matches").status_code in (403, 404)
    r = _post_json(client, f"/api/v1/council/needs/{need.pk}/match", {})
    assert r.status_code in (403, 404)
    r = _post_json(client, "/api/v1/council/resources",
                   {"council": env.council.pk, "provider": "外", "title": "越权",
                    "category": "health", "capacity": 3})
    assert r.status_code in (403, 404)
    need.refresh_from_db()
    assert need.matched_resource_id is None and not ResourceOffer.objects.filter(title="越权").exists()
    client.force_login(env.staff)
    r = client.get("/api/v1/council/needs", {"council": env.council.pk, "status": "done"})
    assert r.status_code == 422 and r.json()["error"]["code"]
