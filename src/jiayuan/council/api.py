"""Council endpoints (Ninja router mounted at /api/v1/council). Thin: parse, call, shape.

- ``GET /topics`` (paginated, in the caller's area or councils), ``POST /topics``,
  ``GET /topics/{id}``, ``GET|POST /topics/{id}/comments``, ``POST /topics/{id}/claim``,
  ``POST /topics/{id}/escalate``;
- ``GET /meetings`` (a council's), ``GET /meetings/{id}``, ``POST /meetings/checkin``;
- ``GET /consultations/{id}``: the engine's stored result with its digest;
- ``GET|POST /resources`` (a council's menu, with capacity left), ``GET|POST /needs``,
  ``GET /needs/{id}``, ``GET /needs/{id}/matches``, ``POST /needs/{id}/match``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from jiayuan.core.errors import ValidationFailed
from jiayuan.council import access, selectors
from jiayuan.council.models import Comment, Meeting, Need, ResourceOffer, Topic
from jiayuan.council.services import consultations as cs
from jiayuan.council.services import meetings as ms
from jiayuan.council.services import projects as ps
from jiayuan.council.services import topics as ts
from jiayuan.council.services.escalation import escalate_topic
from jiayuan.registry.models import Department

router = Router(tags=["council"])
PAGE = 50


class TopicOut(Schema):
    id: int
    council: int
    title: str
    body: str
    status: str
    origin: str
    lawyer_review: bool
    responsible: str | None
    case_number: str | None
    case_state: str
    comment_count: int
    created_at: dt.datetime
    last_activity_at: dt.datetime


class TopicPage(Schema):
    count: int
    page: int
    items: list[TopicOut]


class TopicIn(Schema):
    council: int
    title: str
    body: str = ""


class CommentOut(Schema):
    id: int
    kind: str
    author: str
    body: str
    mentions: list[str]
    created_at: dt.datetime


class CommentPage(Schema):
    count: int
    page: int
    items: list[CommentOut]


class CommentIn(Schema):
    body: str
    departments: list[int] = []


class EscalateIn(Schema):
    reason: str = ""
    category: str | None = None


class MeetingOut(Schema):
    id: int
    council: int
    kind: str
    title: str
    starts_at: dt.datetime
    place: str
    agenda: str
    public: bool
    status: str
    minutes: str
    topics: list[int]
    attendance: int
    decisions: list[str]


class CheckinIn(Schema):
    token: str


class CheckinOut(Schema):
    meeting: int
    name: str
    created: bool


class ConsultationOut(Schema):
    id: int
    kind: str
    title: str
    closed: bool
    status: str
    reason: str
    participants: int
    eligible: int
    digest: str
    result: dict[str, Any]


def _topic(t: Topic) -> dict[str, Any]:
    return {"id": t.pk, "council": t.council_id, "title": t.title, "body": t.body,
            "status": t.status, "origin": t.origin, "lawyer_review": t.lawyer_review,
            "responsible": str(t.responsible_user) if t.responsible_user_id else None,
            "case_number": t.case.number if t.case_id else None, "case_state": t.case_state,
            "comment_count": t.comment_count, "created_at": t.created_at,
            "last_activity_at": t.last_activity_at}


def _comment(c: Comment) -> dict[str, Any]:
    return {"id": c.pk, "kind": c.kind, "author": c.author_name, "body": c.body,
            "created_at": c.created_at,
            "mentions": [str(m.user) if m.user_id else m.department.name
                         for m in c.mentions.all()]}


@router.get("/topics", response=TopicPage, summary="Topics of the councils the caller sees")
def list_topics(request: HttpRequest, council: int | None = None, status: str = "",
                page: int = 1) -> dict[str, Any]:
    qs = selectors.topics_for(request.user).select_related("responsible_user", "case")
    if council is not None:
        qs = qs.filter(council_id=council)
    if status:
        qs = qs.filter(status=status)
    qs = qs.order_by("-last_activity_at", "-id")
    page = max(page, 1)
    items = list(qs[(page - 1) * PAGE: page * PAGE])
    return {"count": qs.count(), "page": page, "items": [_topic(t) for t in items]}


@router.post("/topics", response={201: TopicOut}, summary="Raise a topic (staff, deputies)")
def create_topic(request: HttpRequest, body: TopicIn) -> Any:
    council = selectors.council_for(request.user, body.council)
    topic, _ = ts.raise_topic(council, actor=request.user, title=body.title, body=body.body)
    return Status(201, _topic(topic))


@router.get("/topics/{topic_id}", response=TopicOut)
def get_topic(request: HttpRequest, topic_id: int) -> dict[str, Any]:
    return _topic(ts.get_topic_for(request.user, topic_id))


@router.get("/topics/{topic_id}/comments", response=CommentPage)
def list_comments(request: HttpRequest, topic_id: int, page: int = 1) -> dict[str, Any]:
    topic = ts.get_topic_for(request.user, topic_id)
    pg = selectors.topic_thread(topic, page=page)
    return {"count": pg.paginator.count, "page": pg.number,
            "items": [_comment(c) for c in pg]}


@router.post("/topics/{topic_id}/comments", response={201: CommentOut},
             summary="Comment; @name in the text, or department ids, mention and notify")
def post_comment(request: HttpRequest, topic_id: int, body: CommentIn) -> Any:
    topic = ts.get_topic_for(request.user, topic_id)
    depts = list(Department.objects.filter(pk__in=body.departments))
    c = ts.add_comment(topic, actor=request.user, body=body.body, mention_departments=depts)
    return Status(201, _comment(c))


@router.post("/topics/{topic_id}/claim", response=TopicOut)
def claim(request: HttpRequest, topic_id: int) -> dict[str, Any]:
    topic = ts.get_topic_for(request.user, topic_id)
    return _topic(ts.claim_topic(topic, actor=request.user))


@router.post("/topics/{topic_id}/escalate", response=TopicOut,
             summary="Send to the operations centre as a case")
def escalate(request: HttpRequest, topic_id: int, body: EscalateIn) -> dict[str, Any]:
    topic = ts.get_topic_for(request.user, topic_id)
    return _topic(escalate_topic(topic, actor=request.user, reason=body.reason,
                                 category_code=body.category))


def _meeting(m: Meeting) -> dict[str, Any]:
    return {"id": m.pk, "council": m.council_id, "kind": m.kind, "title": m.title,
            "starts_at": m.starts_at, "place": m.place, "agenda": m.agenda, "public": m.public,
            "status": m.status, "minutes": m.minutes,
            "topics": [t.pk for t in m.topics.all()], "attendance": m.attendances.count(),
            "decisions": [d.text for d in m.decisions.all()]}


@router.get("/meetings", response=list[MeetingOut], summary="A council's meetings")
def list_meetings(request: HttpRequest, council: int) -> list[dict[str, Any]]:
    c = selectors.council_for(request.user, council)
    qs = Meeting.objects.filter(council=c).prefetch_related("topics", "decisions") \
        .order_by("-starts_at")[:100]
    member = access.is_member(request.user, c) or access.can_manage(request.user, c)
    return [_meeting(m) for m in qs if m.public or member]


@router.get("/meetings/{meeting_id}", response=MeetingOut)
def get_meeting(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    return _meeting(ms.get_meeting_for(request.user, meeting_id))


@router.post("/meetings/checkin", response=CheckinOut, summary="Check in with a meeting's QR token")
def checkin(request: HttpRequest, body: CheckinIn) -> dict[str, Any]:
    att, created = ms.check_in(body.token, actor=request.user)
    return {"meeting": att.meeting_id, "name": att.name, "created": created}


@router.get("/consultations/{consultation_id}", response=ConsultationOut)
def get_consultation(request: HttpRequest, consultation_id: int) -> dict[str, Any]:
    c = cs.get_consultation_for(request.user, consultation_id)
    return {"id": c.pk, "kind": c.kind, "title": c.title, "closed": c.closed,
            "status": c.result_status, "reason": c.result_reason,
            "participants": c.participants, "eligible": c.eligible,
            "digest": c.result_digest, "result": c.result}


# --- resources and needs ----------------------------------------------------------------------

class ResourceOut(Schema):
    id: int
    council: int
    provider: str
    title: str
    category: str
    capacity: int
    left: int
    compound: int | None


class ResourceIn(Schema):
    council: int
    provider: str
    title: str
    category: str
    capacity: int = 1
    compound: int | None = None


class NeedOut(Schema):
    id: int
    council: int
    title: str
    category: str
    size: int
    compound: int | None
    status: str
    matched_resource: int | None
    created_at: dt.datetime


class NeedIn(Schema):
    council: int
    title: str
    category: str
    size: int = 1
    compound: int | None = None


class MatchIn(Schema):
    resource: int | None = None


def _resource(r: ResourceOffer, left: int | None = None) -> dict[str, Any]:
    return {"id": r.pk, "council": r.council_id, "provider": r.provider, "title": r.title,
            "category": r.category, "capacity": r.capacity,
            "left": selectors.capacity_left(r) if left is None else left,
            "compound": r.compound_id}


def _need(n: Need) -> dict[str, Any]:
    return {"id": n.pk, "council": n.council_id, "title": n.title, "category": n.category,
            "size": n.size, "compound": n.compound_id,
            "status": "matched" if n.matched_resource_id else "open",
            "matched_resource": n.matched_resource_id, "created_at": n.created_at}


def _api_compound(council: Any, pk: int | None) -> Any:
    if pk is None:
        return None
    from jiayuan.registry.models import Compound

    c = Compound.objects.filter(neighbourhood_id=council.neighbourhood_id, pk=pk).first()
    if c is None:
        raise ValidationFailed("所选小区不在本居民区", details={"compound": [pk]})
    return c


@router.get("/resources", response=list[ResourceOut], summary="A council's resource menu")
def list_resources(request: HttpRequest, council: int, category: str = "") -> list[dict[str, Any]]:
    c = selectors.council_for(request.user, council)
    return [_resource(r, r.left) for r in selectors.resources_of(c, category=category)]


@router.post("/resources", response={201: ResourceOut},
             summary="Add an item to the menu (staff, liaisons of the area)")
def create_resource(request: HttpRequest, body: ResourceIn) -> Any:
    c = selectors.council_for(request.user, body.council)
    access.require_offer(request.user, c)
    r = ps.add_resource(c, actor=request.user, provider=body.provider, title=body.title,
                        category=body.category, capacity=body.capacity,
                        compound=_api_compound(c, body.compound))
    return Status(201, _resource(r, r.capacity))


@router.get("/needs", response=list[NeedOut], summary="A council's needs (status open|matched)")
def list_needs(request: HttpRequest, council: int, status: str = "",
               category: str = "") -> list[dict[str, Any]]:
    c = selectors.council_for(request.user, council)
    if status and status not in selectors.NEED_STATUSES:
        raise ValidationFailed("状态只能是 open 或 matched", details={"status": [status]})
    return [_need(n) for n in selectors.needs_of(c, status=status, category=category)]


@router.post("/needs", response={201: NeedOut}, summary="Record a need")
def create_need(request: HttpRequest, body: NeedIn) -> Any:
    c = selectors.council_for(request.user, body.council)
    access.require_take_part(request.user, c)
    n = ps.add_need(c, actor=request.user, title=body.title, category=body.category,
                    size=body.size, compound=_api_compound(c, body.compound))
    return Status(201, _need(n))


@router.get("/needs/{need_id}", response=NeedOut)
def get_need(request: HttpRequest, need_id: int) -> dict[str, Any]:
    return _need(selectors.need_for(request.user, need_id))


@router.get("/needs/{need_id}/matches", response=list[ResourceOut],
            summary="Resources that fit the need, best first")
def need_matches(request: HttpRequest, need_id: int) -> list[dict[str, Any]]:
    need = selectors.need_for(request.user, need_id)
    if need.matched_resource_id:
        return []
    return [_resource(r, r.left) for r in ps.candidates(need)]


@router.post("/needs/{need_id}/match", response=NeedOut,
             summary="Match the need with a resource (the best one when none is given)")
def match_need(request: HttpRequest, need_id: int, body: MatchIn) -> dict[str, Any]:
    need = selectors.need_for(request.user, need_id)
    resource = None
    if body.resource is not None:
        resource = ResourceOffer.objects.filter(pk=body.resource).first()
        if resource is None:
            raise ValidationFailed("资源不存在", details={"resource": [body.resource]})
    return _need(ps.match_need(need, actor=request.user, resource=resource))
