"""Councils, members, topics and their threads: raise, comment with @mentions, claim, follow."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.errors import Forbidden, NotFound, ValidationFailed
from jiayuan.core.photos import check_photos
from jiayuan.council import access
from jiayuan.council.models import (
    Comment,
    Council,
    CouncilMember,
    MemberRole,
    Mention,
    Topic,
    TopicOrigin,
    TopicStatus,
)
from jiayuan.council.services import notices
from jiayuan.registry.models import Department, Liaison

MAX_TITLE = 120
MAX_BODY = 4000
MENTION_RE = re.compile(r"@([^\s@,，。:：;；]+)")


def _text(value: str | None, field: str, label: str, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{label}不能为空", details={field: ["必填"]})
    if len(text) > limit:
        raise ValidationFailed(f"{label}不能超过 {limit} 字", details={field: ["过长"]})
    return text


@transaction.atomic
def create_council(neighbourhood: Any, *, actor: Any = None, charter: str = "",
                   meeting_rhythm: str = "每月一次") -> Council:
    """The council of ``neighbourhood`` (one only: a second call returns the first)."""
    existing = Council.objects.filter(neighbourhood=neighbourhood).first()
    if existing is not None:
        return existing
    if actor is not None:
        access.require_manage(actor, Council(path=neighbourhood.path))
    return Council.objects.create(neighbourhood=neighbourhood, path=neighbourhood.path,
                                  name=f"{neighbourhood.name}零距离家园理事会", charter=charter,
                                  meeting_rhythm=meeting_rhythm)


@transaction.atomic
def add_member(council: Council, *, actor: Any, role: str, name: str = "", user: Any = None,
               department: Any = None, unit: Any = None) -> CouncilMember:
    access.require_manage(actor, council)
    if role not in MemberRole.values:
        raise ValidationFailed(f"未知的成员角色“{role}”", details={"role": list(MemberRole.values)})
    name = (name or (str(user) if user else "")).strip()
    if not name:
        raise ValidationFailed("成员姓名不能为空", details={"name": ["必填"]})
    return CouncilMember.objects.create(council=council, role=role, name=name[:60], user=user,
                                        department=department, unit=unit)


def _path_of(council: Council, compound: Any) -> str:
    return compound.path if compound is not None else council.path


@transaction.atomic
def raise_case_topic(council: Council, case: Any, *, title: str, body: str,
                     actor: Any) -> tuple[Topic, bool]:
    """Put a case before ``council`` as a topic with the case as its source, placed at the
    case's entrance or compound when that lies in the council's neighbourhood; once per case
    and council (a repeat returns the first topic)."""
    entrance = compound = None
    if case.entrance_id and case.neighbourhood_id == council.neighbourhood_id:
        entrance = case.entrance
    elif case.compound_id and case.compound.neighbourhood_id == council.neighbourhood_id:
        compound = case.compound
    return raise_topic(council, title=title, body=body, actor=actor, entrance=entrance,
                       compound=compound, source_case=case,
                       idempotency_key=f"cases.case:{case.pk}:council:{council.pk}")


def raise_topic(council: Council, *, title: str, body: str = "", actor: Any = None,
                origin: str | None = None, entrance: Any = None, compound: Any = None,
                raiser_name: str = "", raiser_phone: str = "", source_case: Any = None,
                idempotency_key: str | None = None) -> tuple[Topic, bool]:
    """Raise a topic; a resident (no account) raises it through an entrance's home code.
    Returns ``(topic, created)``; a repeated ``idempotency_key`` returns the first topic."""
    if idempotency_key:
        existing = Topic.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    title = _text(title, "title", "议题标题", MAX_TITLE, required=True)
    body = _text(body, "body", "议题说明", MAX_BODY, required=False)
    if entrance is not None:
        compound = entrance.building.compound
        if compound.neighbourhood_id != council.neighbourhood_id:
            raise ValidationFailed("该楼组不属于本理事会所在居民区")
    elif compound is not None and compound.neighbourhood_id != council.neighbourhood_id:
        raise ValidationFailed("该小区不属于本理事会所在居民区")
    if actor is None or not getattr(actor, "is_authenticated", False):
        if entrance is None:
            raise Forbidden("居民须通过家园码提出议题")
        actor = None
        origin = TopicOrigin.HOME_CODE
        if not raiser_name.strip():
            raise ValidationFailed("请留下称呼", details={"raiser_name": ["必填"]})
    else:
        access.require_take_part(actor, council)
        if origin is None:
            origin = TopicOrigin.DEPUTY if actor.role == "deputy" else TopicOrigin.STAFF
        if source_case is not None:
            origin = TopicOrigin.CASE
    if origin not in TopicOrigin.values:
        raise ValidationFailed(f"未知的议题来源“{origin}”")
    now = timezone.now()
    topic = Topic.objects.create(
        council=council, path=_path_of(council, compound), compound=compound, entrance=entrance,
        title=title, body=body, origin=origin, raised_by=actor,
        raiser_name=(raiser_name or (str(actor) if actor else "")).strip()[:60],
        raiser_phone=raiser_phone.strip()[:30], source_case=source_case,
        idempotency_key=idempotency_key or None, created_at=now, last_activity_at=now)
    if actor is not None:
        topic.followers.add(actor)
    _system(topic, f"{topic.raiser_name or '居民'}提出了议题", now=now)
    return topic, True


def _system(topic: Topic, text: str, *, kind: str = Comment.Kind.SYSTEM,
            now: Any = None) -> Comment:
    now = now or timezone.now()
    c = Comment.objects.create(topic=topic, kind=kind, body=text[:MAX_BODY], created_at=now)
    Topic.objects.filter(pk=topic.pk).update(comment_count=F("comment_count") + 1,
                                             last_activity_at=now)
    return c


def get_topic_for(user: Any, pk: int) -> Topic:
    try:
        topic = Topic.objects.select_related("council__neighbourhood").get(pk=pk)
    except Topic.DoesNotExist:
        raise NotFound("议题不存在") from None
    access.require_see(user, topic.council)
    return topic


def _may_see(council: Council, users: list[Any]) -> list[Any]:
    """Those of ``users`` who may see ``council``'s topics (area scope or membership)."""
    return [u for u in users if access.can_see(u, council)]


def resolve_mentions(council: Council, text: str) -> tuple[list[Any], list[Department]]:
    """Users and departments named with @ (username, display name, department code or name)
    who may see the council's topics. A name that matches nobody who may see them is plain
    text, exactly like a name that matches nobody: the writer learns nothing about people
    outside the area, and they learn nothing (not even the title) about the topic."""
    users: dict[int, Any] = {}
    depts: dict[int, Department] = {}
    for token in MENTION_RE.findall(text or ""):
        candidates = list(User.objects.filter(Q(username=token) | Q(display_name=token),
                                              is_active=True).order_by("pk")[:50])
        visible = _may_see(council, candidates)
        if visible:
            users[visible[0].pk] = visible[0]
            continue
        for d in Department.objects.filter(Q(code=token) | Q(name=token)).order_by("pk")[:10]:
            if department_contacts(council, d):
                depts[d.pk] = d
                break
    return list(users.values()), list(depts.values())


def department_contacts(council: Council, department: Department) -> list[Any]:
    """Who hears a department's @mention here: its liaison for this neighbourhood and the
    council members who represent it; failing both, its staff. Only those who may see the
    council's topics: a department none of whose people may see them cannot be mentioned."""
    users = [li.user for li in Liaison.objects.filter(
        department=department, neighbourhood_id=council.neighbourhood_id,
        user__isnull=False, user__is_active=True).select_related("user")]
    users += [m.user for m in CouncilMember.objects.filter(
        council=council, department=department, user__isnull=False, active=True,
        user__is_active=True).select_related("user")]
    users = _may_see(council, users)
    if not users:
        users = _may_see(council, list(User.objects.filter(department=department,
                                                           is_active=True).order_by("pk")[:200]))[:20]
    return users


def _refuse_invisible(council: Council, users: list[Any], depts: list[Department]) -> None:
    """Refuse (``ValidationFailed``, nothing written) an explicit mention of a person or a
    department that may not see the topic."""
    bad = [str(u) for u in users if not access.can_see(u, council)]
    bad += [d.name for d in depts if not department_contacts(council, d)]
    if bad:
        raise ValidationFailed("只能@有权查看本议题的人员或部门：" + "、".join(bad[:10]),
                               details={"mentions": bad[:10]})


@transaction.atomic
def add_comment(topic: Topic, *, actor: Any, body: str, photos: Sequence[Any] = (),
                mention_users: list[Any] | None = None,
                mention_departments: list[Department] | None = None) -> Comment:
    """Add a comment; everyone @mentioned (people, or a department's contacts) is notified —
    at most once an hour per topic, the rest goes into the digest — and may claim the topic.
    ``photos``: at most one JPEG or PNG, checked by its bytes (``core.photos``) and stored under
    a name of ours. Refuses (``ValidationFailed``, nothing written) any other file, an empty
    comment, and a mention of someone who may not see the topic."""
    access.require_take_part(actor, topic.council)
    body = _text(body, "body", "留言", MAX_BODY, required=True)
    checked = check_photos(photos, limit=1)
    now = timezone.now()
    _refuse_invisible(topic.council, list(mention_users or ()), list(mention_departments or ()))
    users, depts = resolve_mentions(topic.council, body)
    for u in mention_users or ():
        if u.pk not in {x.pk for x in users}:
            users.append(u)
    for d in mention_departments or ():
        if d.pk not in {x.pk for x in depts}:
            depts.append(d)
    comment = Comment.objects.create(topic=topic, author=actor, author_name=str(actor)[:60],
                                     body=body, created_at=now)
    for photo in checked:
        comment.photo_type = photo.content_type
        comment.photo.save(photo.name, ContentFile(photo.data), save=False)
        comment.save(update_fields=["photo", "photo_type"])
    Mention.objects.bulk_create(
        [Mention(comment=comment, topic=topic, user=u) for u in users]
        + [Mention(comment=comment, topic=topic, department=d) for d in depts])
    Topic.objects.filter(pk=topic.pk).update(comment_count=F("comment_count") + 1,
                                             last_activity_at=now)
    topic.followers.add(actor)
    recipients = list(users)
    for d in depts:
        recipients += department_contacts(topic.council, d)
    recipients = [u for u in recipients if u.pk != actor.pk]
    if recipients:
        notices.queue(recipients, topic, comment=comment, now=now,
                      message=f"{actor} 在议题“{topic.title}”中提到了您")
    followers = [u for u in topic.followers.exclude(pk=actor.pk)
                 if u.pk not in {r.pk for r in recipients}]
    if followers:
        notices.queue(followers, topic, comment=comment, reason="follow", now=now,
                      message=f"您关注的议题“{topic.title}”有新留言")
    return comment


def can_claim(user: Any, topic: Topic) -> bool:
    if not access.can_see(user, topic.council):
        return False
    if access.can_manage(user, topic.council):
        return True
    if topic.mentions.filter(user=user).exists():
        return True
    depts = set(topic.mentions.filter(department__isnull=False).values_list("department_id",
                                                                            flat=True))
    if not depts:
        return False
    if user.department_id in depts:
        return True
    return Liaison.objects.filter(user=user, department_id__in=depts,
                                  neighbourhood_id=topic.council.neighbourhood_id).exists()


@transaction.atomic
def claim_topic(topic: Topic, *, actor: Any) -> Topic:
    """The mentioned person (or a contact of a mentioned department) takes responsibility."""
    access.require_see(actor, topic.council)
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if topic.status in (TopicStatus.RESOLVED, TopicStatus.CLOSED, TopicStatus.ESCALATED):
        raise ValidationFailed("该议题已办结或已上报，不能认领",
                               details={"status": topic.status})
    if not can_claim(actor, topic):
        raise Forbidden("只有被@提及的人员或部门可以认领该议题")
    if topic.responsible_user_id == actor.pk:
        return topic
    department = actor.department
    if department is None:
        li = Liaison.objects.filter(user=actor, neighbourhood_id=topic.council.neighbourhood_id
                                    ).select_related("department").first()
        department = li.department if li else None
    topic.responsible_user = actor
    topic.responsible_department = department
    topic.status = TopicStatus.CLAIMED
    topic.save(update_fields=["responsible_user", "responsible_department", "status"])
    topic.followers.add(actor)
    who = f"{actor}" + (f"（{department.name}）" if department else "")
    _system(topic, f"{who}认领了该议题")
    return topic


@transaction.atomic
def set_lawyer_review(topic: Topic, *, actor: Any, needed: bool) -> Topic:
    access.require_manage(actor, topic.council)
    topic.lawyer_review = bool(needed)
    topic.save(update_fields=["lawyer_review"])
    _system(topic, "已请社区律师审阅" if needed else "已取消律师审阅")
    return topic


@transaction.atomic
def follow(topic: Topic, *, actor: Any, on: bool = True) -> None:
    access.require_see(actor, topic.council)
    (topic.followers.add if on else topic.followers.remove)(actor)


@transaction.atomic
def resolve_topic(topic: Topic, *, actor: Any, note: str = "") -> Topic:
    access.require_take_part(actor, topic.council)
    if not (access.can_manage(actor, topic.council) or topic.responsible_user_id == actor.pk):
        raise Forbidden("只有负责人或居民区工作人员可以办结议题")
    if topic.status in (TopicStatus.RESOLVED, TopicStatus.CLOSED):
        raise ValidationFailed("该议题已办结")
    now = timezone.now()
    topic.status = TopicStatus.RESOLVED
    topic.resolved_at = now
    topic.save(update_fields=["status", "resolved_at"])
    _system(topic, "议题已办结" + (f"：{note.strip()[:500]}" if note.strip() else ""), now=now)
    return topic

