"""Topics, threads with @mentions, the notification digest, claiming."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jiayuan.cases.models import Notification
from jiayuan.core.errors import Forbidden, OutOfScope, ValidationFailed
from jiayuan.council.models import Comment, Mention, Notice, Topic, TopicStatus
from jiayuan.council.services import notices
from jiayuan.council.services.topics import (
    add_comment,
    claim_topic,
    raise_topic,
    resolve_topic,
    set_lawyer_review,
)


def _topic(env, **kw):
    topic, _ = raise_topic(env.council, actor=env.staff, title="弄堂口加装大门", body="外来车辆穿行",
                           compound=env.compound, **kw)
    return topic


def test_a_resident_raises_a_topic_through_the_home_code_once(env):
    t1, c1 = raise_topic(env.council, title="楼道加装扶手", entrance=env.entrance,
                         raiser_name="陈阿姨", idempotency_key="k1")
    t2, c2 = raise_topic(env.council, title="楼道加装扶手", entrance=env.entrance,
                         raiser_name="陈阿姨", idempotency_key="k1")
    assert c1 and not c2 and t1.pk == t2.pk
    assert t1.origin == "home_code" and t1.compound == env.compound
    assert t1.path == env.compound.path and t1.status == TopicStatus.OPEN
    assert Comment.objects.filter(topic=t1, kind="system").count() == 1


@pytest.mark.parametrize("kw,error", [
    ({"title": "  ", "entrance": "E", "raiser_name": "陈"}, ValidationFailed),
    ({"title": "x" * 121, "entrance": "E", "raiser_name": "陈"}, ValidationFailed),
    ({"title": "加装扶手", "entrance": "E", "raiser_name": " "}, ValidationFailed),
    ({"title": "加装扶手"}, Forbidden),  # no account and no home code
])
def test_bad_topics_are_refused_and_nothing_is_stored(env, kw, error):
    if kw.get("entrance") == "E":
        kw["entrance"] = env.entrance
    with pytest.raises(error):
        raise_topic(env.council, **kw)
    assert not Topic.objects.exists()


def test_an_entrance_of_another_neighbourhood_is_refused(env):
    with pytest.raises(ValidationFailed):
        raise_topic(env.council, title="x", entrance=env.tiny.entrances["S2N1C1"],
                    raiser_name="陈")


def test_staff_of_another_area_cannot_raise_or_comment(env):
    with pytest.raises(OutOfScope):
        raise_topic(env.council, actor=env.other, title="x")
    topic = _topic(env)
    with pytest.raises(OutOfScope):
        add_comment(topic, actor=env.other, body="hi")


def test_a_mention_notifies_once_an_hour_and_the_rest_goes_to_the_digest(env):
    topic = _topic(env)
    add_comment(topic, actor=env.staff, body="@liaison1 请看一下车辆穿行问题")
    assert Notification.objects.filter(user=env.liaison, kind="council").count() == 1
    assert "提到了您" in Notification.objects.get(user=env.liaison).message
    for i in range(5):
        add_comment(topic, actor=env.staff, body=f"@联络员李 补充 {i}")
    assert Notification.objects.filter(user=env.liaison).count() == 1  # no flood
    assert Notice.objects.filter(user=env.liaison, delivered_at__isnull=True).count() == 5
    assert notices.deliver_digest() == 1
    digest = Notification.objects.filter(user=env.liaison).order_by("-id").first()
    assert "5 条新动态" in digest.message and "弄堂口加装大门" in digest.message
    assert not Notice.objects.filter(delivered_at__isnull=True).exists()
    assert notices.deliver_digest() == 0
    topic.refresh_from_db()
    assert topic.comment_count == 1 + 6


def test_after_the_quiet_hour_a_mention_is_delivered_at_once_again(env):
    topic = _topic(env)
    add_comment(topic, actor=env.staff, body="@liaison1 看看")
    Notice.objects.update(delivered_at=timezone.now() - dt.timedelta(hours=2))
    add_comment(topic, actor=env.staff, body="@liaison1 再看看")
    assert Notification.objects.filter(user=env.liaison).count() == 2


def test_a_department_mention_reaches_its_liaison_who_may_claim(env):
    topic = _topic(env)
    add_comment(topic, actor=env.staff, body=f"@{env.dept.name} 请派出所协助")
    assert Mention.objects.get(topic=topic).department == env.dept
    assert Notification.objects.filter(user=env.liaison).exists()
    with pytest.raises(Forbidden):
        claim_topic(topic, actor=env.bystander)
    claimed = claim_topic(topic, actor=env.liaison)
    assert claimed.status == TopicStatus.CLAIMED
    assert claimed.responsible_user == env.liaison
    assert claimed.responsible_department == env.dept
    assert topic.followers.filter(pk=env.liaison.pk).exists()


def test_followers_hear_of_new_comments(env):
    topic = _topic(env)
    add_comment(topic, actor=env.liaison, body="我来跟进")
    assert Notification.objects.filter(user=env.staff, message__contains="有新留言").exists()


def test_an_empty_comment_is_refused_and_nothing_changes(env):
    topic = _topic(env)
    with pytest.raises(ValidationFailed):
        add_comment(topic, actor=env.staff, body="   ")
    topic.refresh_from_db()
    assert topic.comment_count == 1 and not Mention.objects.exists()


def test_lawyer_review_and_resolution(env):
    topic = _topic(env)
    set_lawyer_review(topic, actor=env.staff, needed=True)
    topic.refresh_from_db()
    assert topic.lawyer_review
    with pytest.raises(Forbidden):
        resolve_topic(topic, actor=env.liaison)
    resolve_topic(topic, actor=env.staff, note="已安装")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.RESOLVED and topic.resolved_at
    with pytest.raises(ValidationFailed):
        claim_topic(topic, actor=env.liaison)
