"""The three meetings (听证会, 协调会, 评议会): schedule, invite, register, check in by QR, hold
with minutes and decisions linked to topics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from jiayuan.core.errors import Forbidden, NotFound, ValidationFailed
from jiayuan.council import access
from jiayuan.council.models import (
    Attendance,
    Council,
    Decision,
    Invitation,
    Meeting,
    MeetingKind,
    Registration,
    Topic,
    TopicStatus,
)
from jiayuan.council.services import notices
from jiayuan.council.services.topics import _system

CHECKIN_SALT = "council.checkin"
CHECKIN_MAX_AGE = 7 * 24 * 3600  # a printed QR stays valid a week after it is made


@transaction.atomic
def schedule_meeting(council: Council, *, actor: Any, kind: str, title: str,
                     starts_at: dt.datetime, place: str = "", agenda: str = "",
                     topics: list[Topic] | None = None, public: bool = True,
                     compound: Any = None, invite: bool = True) -> Meeting:
    access.require_manage(actor, council)
    if kind not in MeetingKind.values:
        raise ValidationFailed(f"未知的会议类型“{kind}”", details={"kind": list(MeetingKind.values)})
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("会议名称不能为空", details={"title": ["必填"]})
    if starts_at is None or timezone.is_naive(starts_at):
        raise ValidationFailed("会议时间须带时区", details={"starts_at": ["无效"]})
    topics = topics or []
    for t in topics:
        if t.council_id != council.pk:
            raise ValidationFailed("议程中的议题须属于本理事会", details={"topic": t.pk})
    m = Meeting.objects.create(council=council, path=compound.path if compound else council.path,
                               compound=compound, kind=kind, title=title[:120],
                               starts_at=starts_at, place=place.strip()[:120],
                               agenda=agenda.strip(), public=public)
    if topics:
        m.topics.set(topics)
        Topic.objects.filter(pk__in=[t.pk for t in topics], status__in=[
            TopicStatus.OPEN, TopicStatus.CLAIMED]).update(status=TopicStatus.IN_MEETING)
        for t in topics:
            _system(t, f"列入{m.get_kind_display()}“{m.title}”议程（{timezone.localtime(starts_at):%Y-%m-%d %H:%M}）")
    if invite:
        now = timezone.now()
        members = list(council.members.filter(active=True).select_related("user"))
        Invitation.objects.bulk_create([Invitation(meeting=m, member=mb, sent_at=now)
                                        for mb in members])
        users = [mb.user for mb in members if mb.user is not None and mb.user.pk != actor.pk]
        from jiayuan.cases.models import Notification

        Notification.objects.bulk_create([Notification(
            user=u, kind="council", message=f"邀请您参加{m.get_kind_display()}“{m.title}”"[:300])
            for u in users])
    return m


def can_attend(user: Any, meeting: Meeting) -> bool:
    if meeting.public:
        return access.can_see(user, meeting.council)
    return access.is_member(user, meeting.council) or access.can_manage(user, meeting.council)


def get_meeting_for(user: Any, pk: int) -> Meeting:
    m = Meeting.objects.select_related("council__neighbourhood").filter(pk=pk).first()
    if m is None:
        raise NotFound("会议不存在")
    access.require_see(user, m.council)
    if not can_attend(user, m):
        raise Forbidden("该会议仅限理事会成员参加")
    return m


@transaction.atomic
def register(meeting: Meeting, *, actor: Any) -> Registration:
    meeting = Meeting.objects.select_related("council").get(pk=meeting.pk)
    if not can_attend(actor, meeting):
        raise Forbidden("该会议仅限理事会成员参加")
    if meeting.status != Meeting.Status.PLANNED:
        raise ValidationFailed("会议已举行或已取消，不能报名")
    reg, _ = Registration.objects.get_or_create(meeting=meeting, user=actor,
                                                defaults={"at": timezone.now()})
    return reg


def checkin_token(meeting: Meeting) -> str:
    """A signed token naming the meeting (and its nonce, so a reissued QR voids the old one)."""
    return signing.dumps({"m": meeting.pk, "n": meeting.checkin_nonce}, salt=CHECKIN_SALT)


def meeting_of_token(token: str) -> Meeting:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT, max_age=CHECKIN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationFailed("签到码已过期，请向工作人员索取新的签到码") from None
    except signing.BadSignature:
        raise ValidationFailed("签到码无效") from None
    m = Meeting.objects.select_related("council").filter(pk=data.get("m")).first()
    if m is None or m.checkin_nonce != data.get("n"):
        raise ValidationFailed("签到码无效或已作废")
    return m


@transaction.atomic
def check_in(token: str, *, actor: Any) -> tuple[Attendance, bool]:
    """Scan the meeting's QR: the logged-in user is marked present (once)."""
    meeting = meeting_of_token(token)
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录再签到")
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationFailed("会议已取消")
    if not can_attend(actor, meeting):
        raise Forbidden("该会议仅限理事会成员参加")
    att, created = Attendance.objects.get_or_create(
        meeting=meeting, user=actor,
        defaults={"name": str(actor)[:60], "method": Attendance.Method.QR, "at": timezone.now()})
    return att, created


@transaction.atomic
def record_attendance(meeting: Meeting, *, actor: Any, name: str) -> Attendance:
    """Staff enter someone present without a phone."""
    access.require_manage(actor, meeting.council)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("姓名不能为空", details={"name": ["必填"]})
    return Attendance.objects.create(meeting=meeting, name=name[:60],
                                     method=Attendance.Method.MANUAL, at=timezone.now())


@transaction.atomic
def hold_meeting(meeting: Meeting, *, actor: Any, minutes: str,
                 decisions: list[tuple[Topic | None, str, bool]] | None = None) -> Meeting:
    """Record the minutes and decisions; a decision may resolve its topic."""
    access.require_manage(actor, meeting.council)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationFailed("会议已取消，不能记录纪要")
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationFailed("会议纪要不能为空", details={"minutes": ["必填"]})
    now = timezone.now()
    rows = []
    for topic, text, resolves in decisions or ():
        text = (text or "").strip()
        if not text:
            raise ValidationFailed("决定内容不能为空", details={"decisions": ["必填"]})
        if topic is not None and topic.council_id != meeting.council_id:
            raise ValidationFailed("决定所涉议题须属于本理事会", details={"topic": topic.pk})
        rows.append(Decision(meeting=meeting, topic=topic, text=text, resolves_topic=resolves,
                             at=now))
    meeting.minutes = minutes
    meeting.status = Meeting.Status.HELD
    meeting.held_at = meeting.held_at or now
    meeting.save(update_fields=["minutes", "status", "held_at"])
    Decision.objects.bulk_create(rows)
    for d in rows:
        if d.topic is None:
            continue
        _system(d.topic, f"{meeting.get_kind_display()}“{meeting.title}”决定：{d.text}", now=now)
        if d.resolves_topic and d.topic.status not in (TopicStatus.RESOLVED, TopicStatus.CLOSED):
            Topic.objects.filter(pk=d.topic.pk).update(status=TopicStatus.RESOLVED,
                                                       resolved_at=now)
        followers = list(d.topic.followers.all())
        if followers:
            notices.queue(followers, d.topic, reason="decision",
                          message=f"议题“{d.topic.title}”有会议决定：{d.text}"[:300])
    return meeting
