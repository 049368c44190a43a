"""The way out: a topic the council cannot resolve becomes a case at the operations-centre tier,
and the case's steps come back to the topic's thread and status (``cases.hooks``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.cases import lifecycle as lc
from jiayuan.cases.services import open_case
from jiayuan.core.errors import Forbidden, ValidationFailed
from jiayuan.council import access
from jiayuan.council.models import Comment, Topic, TopicStatus
from jiayuan.council.services import notices
from jiayuan.council.services.topics import _system

SOURCE = "council.topic"
INTAKE_STEPS = ("report", "route")
# Steps that leave the case's state as it was: what the thread says instead of the state.
SWEEP_TEXT = {"warn": "即将到期", "overdue": "已超过处置时限", lc.ActionKind.ESCALATE.value: "已升级"}


@transaction.atomic
def escalate_topic(topic: Topic, *, actor: Any, category_code: str | None = None,
                   reason: str = "") -> Topic:
    """Open a case for ``topic`` at the operations-centre tier (once: a second call returns the
    topic with its case)."""
    access.require_take_part(actor, topic.council)
    if not (access.can_manage(actor, topic.council) or topic.responsible_user_id == actor.pk):
        raise Forbidden("只有负责人或居民区工作人员可以将议题上报运行中心")
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    if topic.case_id:
        return topic
    if topic.status in (TopicStatus.RESOLVED, TopicStatus.CLOSED):
        raise ValidationFailed("已办结的议题不能上报")
    place: dict[str, Any] = {}
    if topic.entrance_id:
        place["entrance"] = topic.entrance
    else:
        where = topic.compound or topic.council.neighbourhood
        if where.lng is not None and where.lat is not None:
            place.update(lng=where.lng, lat=where.lat)
    text = f"【理事会议题上报】{topic.title}\n{topic.body}".strip()
    if reason.strip():
        text += f"\n上报理由：{reason.strip()}"
    case, _ = open_case(channel="council", description=text[:2000], category_code=category_code,
                        tier="operations_centre", source_ref=f"{SOURCE}:{topic.pk}",
                        idempotency_key=f"{SOURCE}:{topic.pk}", actor=actor,
                        reporter_name=str(topic.council)[:50], **place)
    topic.case = case
    topic.case_state = case.state
    topic.status = TopicStatus.ESCALATED
    topic.save(update_fields=["case", "case_state", "status"])
    _system(topic, f"{actor}将议题上报运行中心，案件编号 {case.number}")
    return topic


def on_case_event(case: Any, event: Any) -> None:
    """Observer for ``council.topic`` cases: write the step into the topic's thread and follow
    its state (handled → resolved when closed; rejected or returned → the council takes it back).
    The case's own intake steps (``report``, ``route``) are left out: the topic's escalation
    comment already names the case. The SLA sweep's steps (warning, overdue, escalation) come
    in like any other."""
    if event.action in INTAKE_STEPS:
        return
    _, _, ident = case.source_ref.partition(":")
    with transaction.atomic():
        topic = Topic.objects.select_for_update().filter(pk=int(ident)).first()
        if topic is None:
            return
        state = event.to_state
        try:
            label = lc.STATE_LABELS[lc.State(state)]
        except ValueError:
            label = state
        if event.action == "note":
            text = f"案件 {case.number} 备注：{event.reason}"
        elif event.action in SWEEP_TEXT:
            text = f"案件 {case.number}：{SWEEP_TEXT[event.action]}"
            if event.action == lc.ActionKind.ESCALATE and event.payload.get("to_tier") in \
                    lc.Tier._value2member_map_:
                text += f"为{lc.TIER_LABELS[lc.Tier(event.payload['to_tier'])]}"
            text += f"（{event.reason}）" if event.reason else ""
        else:
            text = f"案件 {case.number}：{label}" + (f"（{event.reason}）" if event.reason else "")
        _system(topic, text, kind=Comment.Kind.CASE)
        fields = ["case_state"]
        topic.case_state = state
        if state in (lc.State.CLOSED, lc.State.RATED) \
                and topic.status != TopicStatus.RESOLVED:
            topic.status = TopicStatus.RESOLVED
            topic.resolved_at = timezone.now()
            fields += ["status", "resolved_at"]
        elif state == lc.State.REJECTED and topic.status == TopicStatus.ESCALATED:
            topic.status = TopicStatus.OPEN
            fields.append("status")
        topic.save(update_fields=fields)
        followers = list(topic.followers.all())
        if followers:
            notices.queue(followers, topic, reason="case",
                          message=f"您关注的议题“{topic.title}”：{text}"[:300])
