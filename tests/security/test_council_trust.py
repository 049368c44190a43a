"""Issue #12 ("Trust"), the council's part: owners' votes tied to voters (item 3), council photos
checked and served safely (item 7), @mentions only of people who may see the topic (item 9).

Each test fails on the code before the fix and passes after it."""

from __future__ import annotations

import json

import pytest

from jiayuan.cases.models import Notification
from jiayuan.council.models import Comment, Mention, Notice
from jiayuan.council.services import topics as ts
from jiayuan.council.services.topics import add_member, create_council
from jiayuan.registry.models import Liaison


@pytest.fixture
def env(tiny, make_user):
    """A council in S1N1 with its staff and a liaison; people and a department of S2 outside."""
    n = tiny.neighbourhoods["S1N1"]
    staff = make_user("staff", "neighbourhood_staff", n, display_name="居委王")
    liaison = make_user("liaison1", "liaison", n, department=tiny.departments["S1"],
                        display_name="联络员李")
    Liaison.objects.create(department=tiny.departments["S1"], neighbourhood=n, name="李",
                           user=liaison, path=n.path)
    outsider = make_user("outsider", "neighbourhood_staff", tiny.neighbourhoods["S2N1"],
                         display_name="外区张")
    far_dept = tiny.departments["S2"]
    far_staff = make_user("farcop", "department_staff", tiny.subdistricts["S2"],
                          department=far_dept, display_name="二所民警")
    property_co = make_user("wuye", "property_company", n, display_name="物业")
    council = create_council(n)
    add_member(council, actor=staff, role="party_secretary", name="张书记", user=staff)

    class Env:
        pass

    e = Env()
    e.__dict__.update(tiny=tiny, n=n, staff=staff, liaison=liaison, outsider=outsider,
                      far_dept=far_dept, far_staff=far_staff, property_co=property_co,
                      council=council, entrance=tiny.entrances["S1N1C1"],
                      compound=tiny.compounds["S1N1C1"])
    return e


def _topic(env, title="3号楼地下室渗水"):
    topic, _ = ts.raise_topic(env.council, actor=env.staff, title=title)
    return topic


# --- item 9: @mentions reach only people who may see the topic ---------------------------------

def test_a_mention_of_someone_outside_the_area_neither_mentions_nor_tells_them_the_title(env):
    topic = _topic(env, title="机密：3号楼业委会纠纷")
    ts.add_comment(topic, actor=env.staff, body="请 @outsider 和 @联络员李 看一下")
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["liaison1"]
    assert not Notice.objects.filter(user=env.outsider).exists()
    assert not Notification.objects.filter(user=env.outsider).exists()
    assert not any("机密" in m for m in Notification.objects.filter(user=env.outsider)
                   .values_list("message", flat=True))
    # the person who may see it is told
    assert Notification.objects.filter(user=env.liaison, message__contains="机密").exists()


def test_a_department_whose_people_cannot_see_the_topic_is_not_mentioned_by_name(env):
    topic = _topic(env)
    ts.add_comment(topic, actor=env.staff, body="请 @PS2 协助")
    assert not Mention.objects.filter(department=env.far_dept).exists()
    assert not Notification.objects.filter(user=env.far_staff).exists()


def test_the_api_refuses_to_mention_a_department_that_cannot_see_the_topic(env, login):
    topic = _topic(env)
    before = Comment.objects.count()
    client = login(env.staff)
    r = client.post(f"/api/v1/council/topics/{topic.pk}/comments",
                    json.dumps({"body": "请协助", "departments": [env.far_dept.pk]}),
                    content_type="application/json")
    assert r.status_code == 422, r.content
    err = r.json()["error"]
    assert err["code"] == "invalid" and err["details"]["mentions"] == [env.far_dept.name]
    assert Comment.objects.count() == before  # nothing written
    assert not Notification.objects.filter(user=env.far_staff).exists()
    # the department of the area, with its liaison here, may be mentioned
    r = client.post(f"/api/v1/council/topics/{topic.pk}/comments",
                    json.dumps({"body": "请协助", "departments": [env.tiny.departments["S1"].pk]}),
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert Notification.objects.filter(user=env.liaison).exists()


def test_a_follower_who_can_no_longer_see_the_topic_hears_nothing(env):
    topic = _topic(env, title="机密：换届选举")
    topic.followers.add(env.outsider)  # e.g. followed while still posted to this neighbourhood
    ts.add_comment(topic, actor=env.staff, body="下周开会")
    assert not Notification.objects.filter(user=env.outsider).exists()


# --- item 7: council photos are checked like case photos and served safely -----------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def _stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def _comment_with(env, client, *files):
    from django.urls import reverse

    topic = _topic(env)
    client.force_login(env.staff)
    r = client.post(reverse("council:topic_action", args=[topic.pk, "comment"]),
                    {"body": "见照片", "photo": list(files)})
    return topic, r


def test_an_html_file_named_as_a_photo_is_refused_and_nothing_is_stored(env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    topic, r = _comment_with(env, client, SimpleUploadedFile("evil.html", HTML,
                                                             content_type="image/png"))
    assert r.status_code == 422
    assert "不是 JPEG 或 PNG 照片" in r.content.decode()
    assert not Comment.objects.filter(topic=topic, kind="comment").exists()
    assert _stored_files(media) == []


def test_more_than_one_photo_on_a_comment_is_refused(env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    topic, r = _comment_with(env, client, SimpleUploadedFile("a.png", PNG),
                             SimpleUploadedFile("b.png", PNG))
    assert r.status_code == 422
    assert not Comment.objects.filter(topic=topic, kind="comment").exists()
    assert _stored_files(media) == []


def test_a_receipt_that_is_not_a_photo_is_refused_and_nothing_is_spent(env, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jiayuan.core.errors import ValidationFailed
    from jiayuan.council.models import LedgerEntry
    from jiayuan.council.services import projects as ps

    p = ps.create_project(env.council, actor=env.staff, title="楼道修缮", budget="1000",
                          milestones=[("施工", None, "0")])
    ps.credit_fund(env.council, actor=env.staff, amount="1000", note="拨付")
    g = ps.approve_grant(ps.apply_grant(p, actor=env.staff, amount="500"), actor=env.staff,
                         amount="500")
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed):
        ps.spend(g, actor=env.staff, amount="100", receipt="R1",
                 receipt_file=SimpleUploadedFile("receipt.html", HTML))
    assert LedgerEntry.objects.count() == entries and _stored_files(media) == []


def test_a_photo_is_served_by_its_comment_as_an_image_with_nosniff_to_those_who_see_the_topic(
        env, client, media):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    topic, r = _comment_with(env, client, SimpleUploadedFile("../../x.html", PNG,
                                                             content_type="text/html"))
    assert r.status_code == 302
    c = Comment.objects.get(topic=topic, kind="comment")
    # stored under a name of ours, not the uploader's
    assert c.photo.name.startswith("council/comments/") and c.photo.name.endswith(".png")
    assert "x.html" not in c.photo.name
    url = reverse("council:comment_photo", args=[c.pk])
    page = client.get(reverse("council:topic", args=[topic.pk])).content.decode()
    assert f'src="{url}"' in page and "/media/" not in page
    r = client.get(url)
    assert r.status_code == 200
    assert r["Content-Type"] == "image/png" and r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content) == PNG
    client.force_login(env.outsider)
    assert client.get(url).status_code == 404
