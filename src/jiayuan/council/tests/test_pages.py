"""Council pages and the JSON API: rendering, scope, refusals shown in Chinese, nothing changed."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from jiayuan.council.models import Attendance, Comment, Topic
from jiayuan.council.services import consultations as cs
from jiayuan.council.services import meetings as ms
from jiayuan.council.services import projects as ps
from jiayuan.council.services.topics import raise_topic


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _topic(env):
    t, _ = raise_topic(env.council, actor=env.staff, title="垃圾房异味", compound=env.compound)
    return t


def test_council_page_lists_topics_meetings_projects_and_members(env, client):
    t = _topic(env)
    ms.schedule_meeting(env.council, actor=env.staff, kind="coordination", title="垃圾房协调会",
                        starts_at=timezone.now() + dt.timedelta(days=1))
    ps.create_project(env.council, actor=env.staff, title="垃圾房改造",
                      milestones=[("设计", None, "50")])
    client.force_login(env.staff)
    r = client.get(reverse("council:council", args=[env.council.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    for text in (t.title, "垃圾房协调会", "垃圾房改造", "张书记", "赵律师"):
        assert text in body


def test_another_areas_staff_get_404(env, client):
    client.force_login(env.other)
    assert client.get(reverse("council:council", args=[env.council.pk])).status_code == 404
    t = _topic(env)
    assert client.get(reverse("council:topic", args=[t.pk])).status_code == 404


def test_an_empty_comment_shows_a_chinese_error_and_changes_nothing(env, client):
    t = _topic(env)
    client.force_login(env.staff)
    r = client.post(reverse("council:topic_action", args=[t.pk, "comment"]), {"body": " "})
    assert r.status_code == 422 and "留言不能为空" in r.content.decode()
    assert Comment.objects.filter(topic=t, kind="comment").count() == 0


def test_mention_then_claim_through_the_pages(env, client):
    t = _topic(env)
    client.force_login(env.staff)
    client.post(reverse("council:topic_action", args=[t.pk, "comment"]),
                {"body": "请协助", "departments": [env.dept.pk]})
    client.force_login(env.liaison)
    home = client.get(reverse("council:council", args=[env.council.pk])).content.decode()
    assert 'data-testid="my-notices"' in home and reverse("council:topic", args=[t.pk]) in home
    page = client.get(reverse("council:topic", args=[t.pk])).content.decode()
    assert 'data-testid="claim"' in page
    r = client.post(reverse("council:topic_action", args=[t.pk, "claim"]))
    assert r.status_code == 302
    assert Topic.objects.get(pk=t.pk).responsible_user == env.liaison


def test_meeting_qr_and_check_in(env, client):
    m = ms.schedule_meeting(env.council, actor=env.staff, kind="hearing", title="听证会",
                            starts_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(env.staff)
    r = client.get(reverse("council:meeting_qr", args=[m.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    url = reverse("council:checkin", args=[ms.checkin_token(m)])
    client.force_login(env.liaison)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 200
    assert Attendance.objects.filter(meeting=m, user=env.liaison).exists()
    assert client.get(reverse("council:checkin", args=["bad-token"])).status_code == 400


def test_consultation_page_shows_the_engines_explanation(env, client):
    c = cs.open_consent(env.council, actor=env.staff, title="坡道征询",
                        members=[("T1", "1号"), ("T2", "2号")])
    client.force_login(env.staff)
    client.post(reverse("council:consultation_action", args=[c.pk, "answer"]),
                {"member": "T1", "answer": "consent"})
    r = client.post(reverse("council:consultation_action", args=[c.pk, "answer"]),
                    {"member": "T1", "answer": "consent"})
    assert r.status_code == 422 and "重复答复" in r.content.decode()
    body = client.get(reverse("council:consultation", args=[c.pk])).content.decode()
    assert "征询进行中" in body and "同意1人" in body


def test_the_public_project_page_needs_no_account(env, client):
    p = ps.create_project(env.council, actor=env.staff, title="加装扶手",
                          milestones=[("采购", "1", "100"), ("安装", "1", "0")])
    r = client.get(reverse("council:project_public", args=[p.pk]))
    assert r.status_code == 200 and "50.00%" in r.content.decode()


def test_a_refused_spending_is_shown_and_not_recorded(env, client):
    p = ps.create_project(env.council, actor=env.staff, title="加装扶手")
    ps.credit_fund(env.council, actor=env.staff, amount="100")
    g = ps.approve_grant(ps.apply_grant(p, actor=env.staff, amount="100"), actor=env.staff,
                         amount="100")
    client.force_login(env.staff)
    r = client.post(reverse("council:project_action", args=[p.pk, "spend"]),
                    {"grant": g.pk, "amount": "150", "receipt": "R1"})
    assert r.status_code == 422 and "超过项目余额" in r.content.decode()
    g.refresh_from_db()
    assert g.spent == 0


def test_a_resident_raises_a_topic_from_the_home_code_and_is_rate_limited(env, client):
    token = env.entrance.home_code
    landing = client.get(reverse("registry:home_code_landing", args=[token])).content.decode()
    assert reverse("council:resident_topic", args=[token]) in landing
    url = reverse("council:resident_topic", args=[token])
    assert client.get(url).status_code == 200
    r = client.post(url, {"title": "", "raiser_name": "陈"})
    assert r.status_code == 422 and "议题标题不能为空" in r.content.decode()
    for i in range(5):
        r = client.post(url, {"title": f"加装扶手{i}", "raiser_name": "陈阿姨",
                              "idempotency_key": f"k{i}"})
        assert r.status_code == 200 and 'data-testid="topic-raised"' in r.content.decode()
    again = client.post(url, {"title": "加装扶手0", "raiser_name": "陈阿姨",
                              "idempotency_key": "k0"})
    assert again.status_code == 200  # a retry is answered, not counted
    r = client.post(url, {"title": "再来一个", "raiser_name": "陈阿姨", "idempotency_key": "k9"})
    assert r.status_code == 429 and "提交过于频繁" in r.content.decode()
    assert Topic.objects.filter(origin="home_code").count() == 5


def test_api_topics_comments_claim_and_errors(env, client):
    t = _topic(env)
    client.force_login(env.staff)
    r = client.get("/api/v1/council/topics", {"council": env.council.pk})
    assert r.status_code == 200 and r.json()["items"][0]["title"] == "垃圾房异味"
    r = client.post(f"/api/v1/council/topics/{t.pk}/comments",
                    json.dumps({"body": "@liaison1 请看"}), content_type="application/json")
    assert r.status_code == 201 and r.json()["mentions"] == ["联络员李"]
    r = client.post(f"/api/v1/council/topics/{t.pk}/comments", json.dumps({"body": ""}),
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["error"]["message"] == "留言不能为空"
    client.force_login(env.liaison)
    r = client.post(f"/api/v1/council/topics/{t.pk}/claim")
    assert r.status_code == 200 and r.json()["status"] == "claimed"
    client.force_login(env.other)
    r = client.get(f"/api/v1/council/topics/{t.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/council/topics").json()["count"] == 0
