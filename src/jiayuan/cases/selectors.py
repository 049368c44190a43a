"""Reads of cases. Every function takes the viewer's ``AreaScope`` and filters by it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases import lifecycle as lc
from jiayuan.cases.models import Case, CaseEvent, Category, Notification
from jiayuan.core.errors import NotFound
from jiayuan.core.masking import mask_email


def cases(scope: AreaScope) -> QuerySet[Case]:
    return scope.filter(Case.objects.all())


def get_case(scope: AreaScope, number: str) -> Case:
    """One case by number; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    case = Case.objects.select_related("category", "compound", "neighbourhood").filter(
        number=number).first()
    if case is None:
        raise NotFound(f"没有编号为“{number}”的工单")
    scope.require(case, missing=f"没有编号为“{number}”的工单")
    return case


# --- Personal data kept in event payloads (masked for staff; revealed only when logged) -----

# (payload section, field) of the personal data an event payload may carry: the e-mail an
# Open311 client sent with the request (open311.services).
PAYLOAD_PERSONAL_FIELDS = (("open311", "reporter_email"),)


def reporter_email(case: Case) -> str:
    """The reporter's e-mail from the case's first event ('' when none); the caller has
    checked access and logs the look (``accounts.services.log_personal_data_access``)."""
    payload = CaseEvent.objects.filter(case=case, seq=1).values_list(
        "payload", flat=True).first() or {}
    section = payload.get("open311") if isinstance(payload, dict) else None
    return str(section.get("reporter_email") or "") if isinstance(section, dict) else ""


def masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An event payload with its personal fields masked (a copy; the row is unchanged)."""
    out = dict(payload)
    for section, field in PAYLOAD_PERSONAL_FIELDS:
        inner = out.get(section)
        if isinstance(inner, dict) and inner.get(field):
            out[section] = {**inner, field: mask_email(str(inner[field]))}
    return out


# --- Pages: queues, filters, timeline, map features (all scoped) -----------------------------




OPEN_STATE_VALUES = tuple(s.value for s in lc.OPEN_STATES)
QUEUES = ("mine", "intake", "returned", "overdue", "supervised", "all")


def queue(scope: AreaScope, name: str, *, unit: str | None,
          now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases of one work queue, within the viewer's scope.

    ``mine``: dispatched to the viewer's unit (lead or assisting); ``intake``: reported or
    accepted, waiting to be accepted or dispatched; ``returned``: sent back by an assignee;
    ``overdue``: open and past the deadline or the warning point; ``supervised``: open and
    under supervision; ``all``: everything in scope. Refuses an unknown queue name with
    ``ValueError``.
    """
    now = now or timezone.now()
    qs = cases(scope).select_related("category", "compound")
    if name == "mine":
        if not unit:
            return qs.none()
        # JSON icontains works on SQLite and PostgreSQL alike (text of the list).
        return qs.filter(Q(lead_unit=unit) | Q(assisting_units__icontains=f'"{unit}"'),
                         state=lc.State.DISPATCHED.value)
    if name == "intake":
        return qs.filter(state__in=[lc.State.REPORTED.value, lc.State.ACCEPTED.value])
    if name == "returned":
        return qs.filter(state=lc.State.RETURNED.value)
    if name == "overdue":
        return qs.filter(state__in=OPEN_STATE_VALUES).filter(
            Q(due_at__lt=now) | Q(warn_at__lt=now) | Q(warned_at__isnull=False))
    if name == "supervised":
        return qs.filter(state__in=OPEN_STATE_VALUES, supervised=True)
    if name == "all":
        return qs
    raise ValueError(f"unknown queue {name!r}")


def default_queue(role: str) -> str:
    """The queue a role lands on: assignees their unit's cases, dispatchers the intake."""
    if role in ("department_staff", "liaison"):
        return "mine"
    if role == "duty_officer":
        return "overdue"
    return "intake"


@dataclass(frozen=True)
class CaseFilters:
    state: str = ""
    category: str = ""
    channel: str = ""
    tier: str = ""
    overdue: bool = False
    text: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def filter_cases(qs: QuerySet[Case], f: CaseFilters,
                 now: dt.datetime | None = None) -> QuerySet[Case]:
    """Narrow a (scoped) queryset by the list page's filters."""
    now = now or timezone.now()
    if f.state:
        qs = qs.filter(state=f.state)
    if f.category:
        qs = qs.filter(category__code__startswith=f.category)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.tier:
        qs = qs.filter(tier=f.tier)
    if f.overdue:
        qs = qs.filter(state__in=OPEN_STATE_VALUES, due_at__lt=now)
    if f.text:
        qs = qs.filter(Q(number__icontains=f.text) | Q(description__icontains=f.text)
                       | Q(address__icontains=f.text))
    tz = timezone.get_current_timezone()
    if f.date_from:
        qs = qs.filter(reported_at__gte=dt.datetime.combine(f.date_from, dt.time.min, tz))
    if f.date_to:
        qs = qs.filter(reported_at__lt=dt.datetime.combine(
            f.date_to + dt.timedelta(days=1), dt.time.min, tz))
    return qs


def urgency(case: Case, now: dt.datetime | None = None) -> str:
    """``overdue`` (open, past the deadline), ``warned`` (past the warning point) or ``normal``."""
    now = now or timezone.now()
    if case.state not in OPEN_STATE_VALUES:
        return "normal"
    if case.due_at is not None and case.due_at < now:
        return "overdue"
    if case.warned_at is not None or (case.warn_at is not None and case.warn_at < now):
        return "warned"
    return "normal"


def surviving_case(case: Case) -> Case:
    """Follow ``merged_into`` to the case that carries on (a merged case's reporter follows it)."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.select_related("category").get(pk=case.merged_into_id)
    return case


def case_by_tracking_token(token: str) -> Case:
    """The case a tracking token names (the token is the permission); ``NotFound`` otherwise."""
    case = Case.objects.select_related("category", "compound").filter(
        tracking_token=token).first()
    if case is None:
        raise NotFound("找不到该工单，请检查查询链接")
    return case


# What the reporter may read of each step (no staff names, phones or internal reasons).
PUBLIC_TEXT = {
    "report": "您的反映已提交", "accept": "已受理", "reject": "不予受理",
    "dispatch": "已派遣处置单位", "redispatch": "已重新派遣处置单位", "return": "正在重新派遣",
    "request_extension": "处置单位申请延期", "approve_extension": "处置期限已延长",
    "refuse_extension": "处理中", "handle": "已处置", "verify_ok": "已核查",
    "verify_failed": "核查未通过，重新处置", "close": "已结案", "rate": "您已评价",
    "reopen": "已重办", "supervise": "已督办", "escalate": "已提级处理", "merge": "已与相同问题合并处理",
    "note": "您补充了说明",
}
# Reasons shown to the reporter: what they wrote, and the outcome they are owed.
PUBLIC_REASON_ACTIONS = frozenset({"reject", "handle", "reopen", "note"})
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意",
                 "dissatisfied": "不满意"}


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: dt.datetime
    action: str
    label: str
    text: str
    actor: str
    state: str
    attachments: tuple[Any, ...]


def timeline(case: Case, *, public: bool) -> list[TimelineEntry]:
    """The history of a case, oldest first, with each step's photos.

    ``public=True`` is the reporter's view: generic Chinese texts, reasons only for outcomes
    and the reporter's own words, no actor and no unit code. Staff see the actor and the
    reasons. The caller has checked access (scope, or the tracking token).
    """
    from jiayuan.cases.services import units

    events = list(CaseEvent.objects.filter(case=case).select_related("actor")
                  .prefetch_related("attachments").order_by("seq"))
    out = []
    for ev in events:
        label = (lc.ACTION_LABELS.get(lc.ActionKind(ev.action), ev.action)
                 if ev.action in lc.ActionKind._value2member_map_
                 else {"note": "补充说明", "report": "上报", "route": "系统分拨"}.get(
                     ev.action, ev.action))
        if public and ev.action == "route":
            continue  # routing suggestions are the platform's own business
        if public:
            text = PUBLIC_TEXT.get(ev.action, label)
            if ev.action in PUBLIC_REASON_ACTIONS and ev.reason:
                text = f"{text}：{ev.reason}"
            if ev.action == "rate":
                text = f"{text}：{RATING_LABELS.get(ev.payload.get('rating', ''), '')}"
            actor = ""
        else:
            text = ev.reason
            extra = []
            for key in ("lead_unit", "assisting_units"):
                if ev.payload.get(key):
                    names = [_unit_name(units, r) for r in str(ev.payload[key]).split(",")]
                    extra.append(("主办：" if key == "lead_unit" else "协办：") + "、".join(names))
            if ev.action == "route":
                extra += _route_text(units, ev.payload)
            if ev.payload.get("rating"):
                extra.append(RATING_LABELS.get(ev.payload["rating"], ev.payload["rating"]))
            if ev.payload.get("extension_amount"):
                extra.append(f"延期 {ev.payload['extension_amount']} "
                             f"{UNIT_LABELS.get(ev.payload.get('extension_unit', ''), '')}")
            text = "；".join([t for t in [text, *extra] if t])
            actor = (ev.actor.display_name or ev.actor.username) if ev.actor else (
                "反映人" if ev.actor_role == "resident" else "系统")
        out.append(TimelineEntry(
            seq=ev.seq, at=ev.at, action=ev.action, label=label, text=text, actor=actor,
            state=lc.STATE_LABELS.get(lc.State(ev.to_state), ev.to_state)
            if ev.to_state in lc.State._value2member_map_ else ev.to_state,
            attachments=tuple(ev.attachments.all()),
        ))
    return out


ROUTE_SOURCES = {"model": "分类模型", "keywords": "关键词", "rule": "分拨规则",
                 "triage": "人工分拨", "given": "上报类别", "manual": "人工"}


def _route_text(units: Any, payload: dict[str, Any]) -> list[str]:
    """Staff-facing summary of a routing decision: suggested units, basis, confidence."""
    out = []
    if payload.get("suggested_lead_unit"):
        out.append("建议主办：" + _unit_name(units, payload["suggested_lead_unit"]))
    if payload.get("suggested_assisting_units"):
        out.append("建议协办：" + "、".join(_unit_name(units, r)
                                       for r in payload["suggested_assisting_units"]))
    source = ROUTE_SOURCES.get(payload.get("source", ""), payload.get("source", ""))
    if source:
        conf = payload.get("confidence")
        out.append(f"依据：{source}" + (f"（置信度 {conf:.2f}）" if isinstance(conf, float) else ""))
    return out


UNIT_LABELS = {"working_days": "个工作日", "calendar_days": "天", "working_hours": "个工作小时",
               "hours": "小时", "minutes": "分钟"}


def _unit_name(units: Any, unit_ref: str) -> str:
    try:
        return str(units.resolve(unit_ref).name)
    except Exception:  # noqa: BLE001 - a unit removed since: show the ref
        return unit_ref


def unit_choices(case: Case) -> list[tuple[str, str]]:
    """Units that serve the case's area, as (ref, name): the joint station of its
    neighbourhood, the departments of its subdistrict and of the district (no subdistrict),
    the operations centres of the subdistrict and the district."""
    from jiayuan.cases.services.units import ref
    from jiayuan.registry.models import Department, JointStation, OperationsCentre

    out: list[tuple[str, str]] = []
    if case.neighbourhood_id:
        for st in JointStation.objects.filter(neighbourhood_id=case.neighbourhood_id):
            out.append((ref(st), st.name))
    depts = Department.objects.filter(subdistrict__isnull=True)
    centres = OperationsCentre.objects.filter(subdistrict__isnull=True)
    if case.subdistrict_id:
        depts = Department.objects.filter(Q(subdistrict_id=case.subdistrict_id)
                                          | Q(subdistrict__isnull=True))
        centres = OperationsCentre.objects.filter(Q(subdistrict_id=case.subdistrict_id)
                                                  | Q(subdistrict__isnull=True))
    out += [(ref(d), d.name) for d in depts.order_by("subdistrict_id", "name")]
    out += [(ref(c), c.name) for c in centres.order_by("name")]
    return out


def map_features(scope: AreaScope, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open cases in scope with a position, as a GeoJSON FeatureCollection (WGS-84), each
    with its number, category, state label and urgency (overdue / warned / normal)."""
    now = now or timezone.now()
    qs = (cases(scope).filter(state__in=OPEN_STATE_VALUES, lng__isnull=False, lat__isnull=False)
          .select_related("category").order_by("-reported_at")[:5000])
    features = []
    for c in qs:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lng, c.lat]},
            "properties": {
                "number": c.number, "urgency": urgency(c, now),
                "state": lc.STATE_LABELS[lc.State(c.state)],
                "category": c.category.name if c.category else "",
                "description": c.description[:60],
            },
        })
    return {"type": "FeatureCollection", "features": features}


def active_categories_by_major() -> list[tuple[str, list[Category]]]:
    """Active categories grouped by major class (the resident's picker), request types last."""
    groups: dict[str, list[Category]] = {}
    for c in Category.objects.filter(active=True).exclude(kind="request").order_by(
            "major_code", "code"):
        groups.setdefault(c.major_name or c.major_code, []).append(c)
    return list(groups.items())


def notifications_for(user: Any, limit: int = 100) -> QuerySet[Notification]:
    """A user's own notifications, newest first, with cases the user may still see."""
    qs = Notification.objects.filter(user=user).select_related("case")
    return qs.order_by("-created_at")[:limit]


ACTION_ORDER = [k for k in lc.ActionKind]


def actions_for(user: Any, case: Case) -> list[lc.ActionKind]:
    """The actions ``user`` may take on ``case`` now: allowed from its state and guards
    (``lifecycle.allowed_actions``), open to the user's role, and for assignee actions only
    when the case's lead unit is the user's unit. Fields are not checked here."""
    from jiayuan.cases.services.transitions import actor_for, snapshot_of
    from jiayuan.core.errors import Forbidden

    try:
        actor = actor_for(user)
    except Forbidden:
        return []
    if actor.role is lc.Role.RESIDENT:
        return []
    snap = snapshot_of(case)
    out = []
    for kind in ACTION_ORDER:
        if kind not in lc.allowed_actions(snap) or actor.role not in lc.RULES[kind].roles:
            continue
        if kind in lc.ASSIGNEE_ACTIONS and actor.unit != snap.lead_unit:
            continue
        out.append(kind)
    return out


def response_templates(case: Case) -> QuerySet[Any]:
    """Active response templates for the case's category (or any) and state (or any)."""
    from jiayuan.cases.models import ResponseTemplate

    return ResponseTemplate.objects.filter(active=True).filter(
        Q(category__isnull=True) | Q(category_id=case.category_id)).filter(
        Q(state="") | Q(state=case.state))
# --- Duplicates (重复件) and followers ----------------------------------------------------------

def duplicate_candidates(scope: AreaScope, case: Case, *, since: dt.datetime,
                         until: dt.datetime, closed_since: dt.datetime,
                         major_code: str | None) -> QuerySet[Case]:
    """Cases that could repeat ``case``: within the viewer's area, reported in
    [``since``, ``until``], open or closed after ``closed_since``, not merged or rejected, of
    the same major class when ``major_code`` is given. Distance and text are judged by the
    caller (``cases.services.duplicates``)."""
    from django.db.models import Q

    from jiayuan.cases.lifecycle import OPEN_STATES

    qs = scope.filter(Case.objects.exclude(pk=case.pk)).filter(
        reported_at__gte=since, reported_at__lte=until,
    ).filter(
        Q(state__in=[s.value for s in OPEN_STATES])
        | Q(state__in=["closed", "rated"], closed_at__gte=closed_since)
    ).select_related("category", "compound")
    if major_code:
        qs = qs.filter(category__major_code=major_code)
    return qs


def survivor_of(case: Case) -> Case:
    """The case a merged case lives on in (following ``merged_into`` to its end)."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


@dataclass(frozen=True)
class Follower:
    """Someone who follows a case: its own reporter, or the reporter of a case merged into it."""

    case: Case
    reporter_id: int | None
    reporter_name: str
    reporter_phone: str
    tracking_token: str


def followers_of(case: Case) -> tuple[list[Case], list[Follower]]:
    """The cases merged into ``case`` (directly or through other merged cases) and every
    reporter who follows it: its own first, then those of the merged cases, oldest first."""
    merged: list[Case] = []
    frontier = [case.pk]
    seen = {case.pk}
    while frontier:
        batch = list(Case.objects.filter(merged_into_id__in=frontier).exclude(pk__in=seen)
                     .order_by("reported_at", "id"))
        merged += batch
        seen.update(c.pk for c in batch)
        frontier = [c.pk for c in batch]
    merged.sort(key=lambda c: (c.reported_at, c.pk))
    followers = [Follower(c, c.reporter_id, c.reporter_name, c.reporter_phone, c.tracking_token)
                 for c in (case, *merged)]
    return merged, followers
