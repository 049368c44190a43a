"""The way out: a topic becomes an operations-centre case, and the case's outcome comes back."""

from __future__ import annotations

import pytest

from jiayuan.cases.models import Case
from jiayuan.cases.services import act
from jiayuan.cases.services.notes import add_note
from jiayuan.cases.services.units import ref
from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.council.models import Comment, Topic, TopicStatus
from jiayuan.council.services.escalation import escalate_topic
from jiayuan.council.services.topics import raise_topic, resolve_topic
from jiayuan.registry.models import JointStation


def _topic(env):
    topic, _ = raise_topic(env.council, title="加装电梯协调不成", entrance=env.entrance,
                           raiser_name="陈阿姨")
    return topic


def test_escalation_opens_one_case_at_the_centre_tier(env):
    topic = _topic(env)
    with pytest.raises(Forbidden):
        escalate_topic(topic, actor=env.liaison)  # not responsible, not staff
    t = escalate_topic(topic, actor=env.staff, reason="涉及多个部门")
    case = Case.objects.get()
    assert (case.channel, case.tier, case.source_ref) == (
        "council", "operations_centre", f"council.topic:{topic.pk}")
    assert case.entrance == env.entrance and "加装电梯协调不成" in case.description
    assert t.status == TopicStatus.ESCALATED and t.case == case
    assert escalate_topic(t, actor=env.staff).case == case
    assert Case.objects.count() == 1
    assert Comment.objects.filter(topic=topic, body__contains=case.number).exists()


def test_a_resolved_topic_cannot_be_escalated(env):
    topic = _topic(env)
    resolve_topic(topic, actor=env.staff)
    with pytest.raises(ValidationFailed):
        escalate_topic(topic, actor=env.staff)
    assert not Case.objects.exists()


def test_the_case_steps_and_notes_come_back_to_the_topic(
        env, django_capture_on_commit_callbacks):
    topic = _topic(env)
    with django_capture_on_commit_callbacks(execute=True):
        escalate_topic(topic, actor=env.staff)
    case = Case.objects.get()
    station = JointStation.objects.get(neighbourhood=env.n)
    with django_capture_on_commit_callbacks(execute=True):
        case = act(case=case, user=env.duty, kind="accept")
    with django_capture_on_commit_callbacks(execute=True):
        add_note(case, text="运行中心已约谈物业", actor_role="system")
    with django_capture_on_commit_callbacks(execute=True):
        case = act(case=case, user=env.duty, kind="dispatch", lead_unit=ref(station))
    with django_capture_on_commit_callbacks(execute=True):
        case = act(case=case, user=env.staff, kind="handle", reason="已协调电梯加装方案")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.ESCALATED and topic.case_state == "handled"
    with django_capture_on_commit_callbacks(execute=True):
        case = act(case=case, user=env.duty, kind="verify_ok")
    with django_capture_on_commit_callbacks(execute=True):
        case = act(case=case, user=env.duty, kind="close")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.RESOLVED and topic.case_state == "closed"
    thread = list(Comment.objects.filter(topic=topic, kind="case").values_list("body", flat=True))
    assert any("运行中心已约谈物业" in b for b in thread)
    assert any("已协调电梯加装方案" in b for b in thread)
    assert len(thread) == 6  # accept, note, dispatch, handle, verify, close


def test_a_rejected_case_hands_the_topic_back_to_the_council(
        env, django_capture_on_commit_callbacks):
    topic = _topic(env)
    escalate_topic(topic, actor=env.staff)
    case = Case.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        act(case=case, user=env.duty, kind="reject", reason="属居民自治事项")
    topic = Topic.objects.get(pk=topic.pk)
    assert topic.status == TopicStatus.OPEN and topic.case_state == "rejected"
