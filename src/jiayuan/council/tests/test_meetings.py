"""The three meetings: agenda, invitations, QR check-in, minutes and decisions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from jiayuan.cases.models import Notification
from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.council.models import Attendance, Decision, Invitation, Meeting, TopicStatus
from jiayuan.council.services import meetings as ms
from jiayuan.council.services.topics import raise_topic

SOON = timezone.now() + dt.timedelta(days=3)


def _hearing(env, **kw):
    topic, _ = raise_topic(env.council, actor=env.staff, title="加装电梯", compound=env.compound)
    m = ms.schedule_meeting(env.council, actor=env.staff, kind="hearing", title="加装电梯听证会",
                            starts_at=SOON, place="居委会议室", agenda="1. 方案介绍\n2. 意见陈述",
                            topics=[topic], **kw)
    return m, topic


def test_scheduling_puts_topics_on_the_agenda_and_invites_members(env):
    m, topic = _hearing(env)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.IN_MEETING
    assert Invitation.objects.filter(meeting=m).count() == 3  # all members, even without account
    assert Notification.objects.filter(user=env.liaison, message__contains="听证会").exists()


@pytest.mark.parametrize("kw", [{"kind": "party"}, {"title": " "}, {"starts_at": None}])
def test_bad_meetings_are_refused(env, kw):
    args = {"kind": "hearing", "title": "听证会", "starts_at": SOON} | kw
    with pytest.raises(ValidationFailed):
        ms.schedule_meeting(env.council, actor=env.staff, **args)
    assert not Meeting.objects.exists()


def test_only_staff_schedule(env):
    with pytest.raises(Forbidden):
        ms.schedule_meeting(env.council, actor=env.liaison, kind="hearing", title="x",
                            starts_at=SOON)


def test_qr_check_in_is_signed_once_per_person_and_voided_by_a_new_nonce(env):
    m, _ = _hearing(env)
    token = ms.checkin_token(m)
    att, created = ms.check_in(token, actor=env.liaison)
    assert created and att.method == "qr"
    _, again = ms.check_in(token, actor=env.liaison)
    assert not again and Attendance.objects.count() == 1
    with pytest.raises(ValidationFailed):
        ms.check_in(token[:-2] + "xx", actor=env.staff)
    forged = signing.dumps({"m": m.pk, "n": "guess"}, salt="other")
    with pytest.raises(ValidationFailed):
        ms.check_in(forged, actor=env.staff)
    m.checkin_nonce = "reissued"
    m.save()
    with pytest.raises(ValidationFailed):
        ms.check_in(token, actor=env.staff)


def test_members_only_meeting_refuses_non_members(env):
    m, _ = _hearing(env, public=False)
    with pytest.raises(Forbidden):
        ms.check_in(ms.checkin_token(m), actor=env.bystander)
    ms.check_in(ms.checkin_token(m), actor=env.liaison)


def test_holding_records_minutes_and_decisions_that_resolve_topics(env):
    m, topic = _hearing(env)
    ms.record_attendance(m, actor=env.staff, name="陈阿姨")
    with pytest.raises(ValidationFailed):
        ms.hold_meeting(m, actor=env.staff, minutes="  ")
    assert Meeting.objects.get(pk=m.pk).status == "planned"
    ms.hold_meeting(m, actor=env.staff, minutes="到会 12 人，多数赞成加装。",
                    decisions=[(topic, "同意启动加装电梯意见征询", True)])
    m.refresh_from_db()
    topic.refresh_from_db()
    assert m.status == "held" and m.held_at and "多数赞成" in m.minutes
    assert Decision.objects.get(meeting=m).topic == topic
    assert topic.status == TopicStatus.RESOLVED
    assert topic.comments.filter(body__contains="同意启动加装电梯意见征询").exists()
