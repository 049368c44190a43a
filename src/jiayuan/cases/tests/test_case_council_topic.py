"""The case page's "raise a council topic": the council of the case's area, a prefilled title,
the case as the topic's source, once per case and council; refused for who may not."""

from __future__ import annotations

import pytest

from jiayuan.cases.services import open_case
from jiayuan.council.models import Topic, TopicOrigin
from jiayuan.council.services.topics import create_council

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def case(tiny):
    c, _ = open_case(channel="home_code", description="楼道堆物堵塞消防通道，多次清理又堆上",
                     entrance=tiny.entrances["S1N1C1"])
    return c


@pytest.fixture
def councils(tiny):
    return {key: create_council(tiny.neighbourhoods[key]) for key in ("S1N1", "S1N2")}


def test_staff_raise_a_topic_from_the_case_page(tiny, case, councils, make_user, client):
    client.force_login(make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"]))
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert 'data-testid="council-topic"' in page
    assert councils["S1N1"].name in page
    assert councils["S1N2"].name not in page  # only the council of the case's neighbourhood
    assert case.number in page and "楼道堆物" in page  # the title is prefilled
    r = client.post(f"/cases/{case.number}/topic/", {
        "council": councils["S1N1"].pk, "title": "楼道堆物反复出现，请理事会商议",
        "body": "见工单"})
    topic = Topic.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/councils/topics/{topic.pk}/"
    assert topic.source_case == case and topic.origin == TopicOrigin.CASE
    assert topic.council == councils["S1N1"] and topic.entrance == case.entrance
    # a second click (or a retry) opens the same topic, not a second one
    client.post(f"/cases/{case.number}/topic/", {"council": councils["S1N1"].pk,
                                                  "title": "again"})
    assert Topic.objects.count() == 1
    assert topic.title in client.get(f"/cases/{case.number}/").content.decode()


def test_an_empty_title_is_refused_and_nothing_is_raised(tiny, case, councils, make_user,
                                                         client):
    client.force_login(make_user("zhou", "duty_officer", tiny.subdistricts["S1"]))
    r = client.post(f"/cases/{case.number}/topic/", {"council": councils["S1N1"].pk,
                                                      "title": "  "})
    assert r.status_code == 422  # the page again, with the council's message
    assert "议题标题不能为空" in r.content.decode()
    assert not Topic.objects.exists()


def test_who_may_not_raise_gets_no_button_and_403(tiny, case, councils, make_user, client):
    # a deputy takes part in councils, but not in the case workbench
    client.force_login(make_user("dep", "deputy", tiny.subdistricts["S1"]))
    assert client.post(f"/cases/{case.number}/topic/", {
        "council": councils["S1N1"].pk, "title": "x"}).status_code == 403
    # staff of one compound see its cases but not the neighbourhood's council
    client.force_login(make_user("wu", "neighbourhood_staff", tiny.compounds["S1N1C1"]))
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert 'data-testid="council-topic"' not in page
    assert client.post(f"/cases/{case.number}/topic/", {
        "council": councils["S1N1"].pk, "title": "x"}).status_code == 403
    # and nobody may pick a council outside the case's area
    client.force_login(make_user("zhou", "duty_officer", tiny.subdistricts["S1"]))
    assert client.post(f"/cases/{case.number}/topic/", {
        "council": councils["S1N2"].pk, "title": "x"}).status_code == 403
    assert not Topic.objects.exists()
