"""Council pages: thin — parse, call a service or a selector, render. A refused action re-renders
its page with the Chinese message (and status), changing nothing; refusals of access become the
shell's 403/404 pages."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Callable
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jiayuan.core.errors import DomainError, Forbidden, OutOfScope, ValidationFailed
from jiayuan.core.masking import mask_name
from jiayuan.core.photos import photo_response
from jiayuan.council import access, selectors
from jiayuan.council.models import (
    Comment,
    Consultation,
    Council,
    DwellingOwner,
    Meeting,
    MeetingKind,
    Milestone,
    Topic,
    TopicStatus,
)
from jiayuan.council.rules.owners import ARTICLE_278
from jiayuan.council.services import consultations as cs
from jiayuan.council.services import meetings as ms
from jiayuan.council.services import owners as owners_svc
from jiayuan.council.services import projects as ps
from jiayuan.council.services import topics as ts
from jiayuan.council.services.escalation import escalate_topic
from jiayuan.registry.models import Department
from jiayuan.registry.selectors import entrance_by_home_code
from jiayuan.web.errors import page_errors

RESULT_LABELS = {"pending": _("pending"), "reached": _("consent reached"),
                 "failed": _("not reached"), "passed": _("passed"), "no_quorum": _("no quorum")}

# Resident topics: at most TOPIC_LIMIT per TOPIC_WINDOW seconds from one IP and one entrance.
TOPIC_LIMIT = 5
TOPIC_WINDOW = 600
# Owner claims: at most CLAIM_MISSES claims that match no register row per user per window.
CLAIM_MISSES = 5
CLAIM_WINDOW = 24 * 3600


def _int(value: Any, default: int = 1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _post(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, "")).strip()


def _attempt(request: HttpRequest, fn: Callable[[], Any], render_again: Callable[[str, int],
             HttpResponse], ok_url: str) -> HttpResponse:
    """Run a service; on a domain refusal re-render the page with its message."""
    try:
        fn()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return render_again(exc.message, exc.status)
    return redirect(ok_url)


# --- councils -------------------------------------------------------------------------------------

@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    councils = list(selectors.councils_for(request.user)[:200])
    if len(councils) == 1:
        return redirect("council:council", pk=councils[0].pk)
    return render(request, "council/index.html", {"councils": councils})


def _council_context(request: HttpRequest, council: Council) -> dict[str, Any]:
    data = selectors.council_page(council, page=_int(request.GET.get("page")),
                                  status=request.GET.get("status", ""))
    from jiayuan.council.models import Notice

    mine = list(Notice.objects.filter(user=request.user, topic__council=council)
                .select_related("topic").order_by("-created_at")[:8])
    return {"council": council, **data, "status": request.GET.get("status", ""),
            "my_notices": mine,
            "can_manage": access.can_manage(request.user, council),
            "kinds": MeetingKind.choices, "matters": [(m.value, v[3]) for m, v in
                                                      ARTICLE_278.items()]}


@require_GET
@login_required
@page_errors
def council_page(request: HttpRequest, pk: int) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    return render(request, "council/council.html", _council_context(request, council))


def _council_post(request: HttpRequest, pk: int, fn: Callable[[Council], str]) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    target: dict[str, str] = {}

    def run() -> None:
        target["url"] = fn(council)

    try:
        run()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        ctx = _council_context(request, council) | {"error": exc.message}
        return render(request, "council/council.html", ctx, status=exc.status)
    return redirect(target["url"])


@require_POST
@login_required
@page_errors
def topic_new(request: HttpRequest, pk: int) -> HttpResponse:
    def go(council: Council) -> str:
        topic, _ = ts.raise_topic(council, actor=request.user, title=_post(request, "title"),
                                  body=_post(request, "body"))
        return reverse("council:topic", args=[topic.pk])
    return _council_post(request, pk, go)


def _when(value: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("会议时间格式不正确", details={"starts_at": [value]}) from None
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive


@require_POST
@login_required
@page_errors
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    def go(council: Council) -> str:
        topics = list(Topic.objects.filter(council=council,
                                           pk__in=[_int(x, 0) for x in request.POST.getlist("topics")]))
        m = ms.schedule_meeting(council, actor=request.user, kind=_post(request, "kind"),
                                title=_post(request, "title"),
                                starts_at=_when(_post(request, "starts_at")),
                                place=_post(request, "place"), agenda=_post(request, "agenda"),
                                topics=topics, public=request.POST.get("public") == "on")
        return reverse("council:meeting", args=[m.pk])
    return _council_post(request, pk, go)


@require_POST
@login_required
@page_errors
def consultation_new(request: HttpRequest, pk: int) -> HttpResponse:
    def go(council: Council) -> str:
        topic = Topic.objects.filter(council=council, pk=_int(request.POST.get("topic"), 0)).first()
        if _post(request, "kind") == "owners_vote":
            c = cs.open_owners_vote(council, actor=request.user, title=_post(request, "title"),
                                    matter=_post(request, "matter"), scope=_post(request, "scope"),
                                    scope_code=_post(request, "scope_code"), topic=topic)
        else:
            members = []
            for line in _post(request, "members").splitlines():
                if line.strip():
                    key, _, label = line.strip().partition(" ")
                    members.append((key, label.strip() or key))
            c = cs.open_consent(council, actor=request.user, title=_post(request, "title"),
                                members=members, topic=topic)
        return reverse("council:consultation", args=[c.pk])
    return _council_post(request, pk, go)


@require_POST
@login_required
@page_errors
def project_new(request: HttpRequest, pk: int) -> HttpResponse:
    def go(council: Council) -> str:
        topic = Topic.objects.filter(council=council, pk=_int(request.POST.get("topic"), 0)).first()
        milestones = []
        for line in _post(request, "milestones").splitlines():
            parts = [p.strip() for p in line.split("|")]
            if parts and parts[0]:
                milestones.append((parts[0], parts[1] if len(parts) > 1 and parts[1] else None,
                                   parts[2] if len(parts) > 2 and parts[2] else "0"))
        p = ps.create_project(council, actor=request.user, title=_post(request, "title"),
                              budget=_post(request, "budget") or "0",
                              description=_post(request, "description"),
                              milestones=milestones, topic=topic)
        return reverse("council:project", args=[p.pk])
    return _council_post(request, pk, go)


# --- topics ---------------------------------------------------------------------------------------

def _topic_context(request: HttpRequest, topic: Topic) -> dict[str, Any]:
    page = request.GET.get("page")
    return {
        "topic": topic, "council": topic.council,
        "thread": selectors.topic_thread(topic, page=_int(page) if page else None),
        "can_claim": ts.can_claim(request.user, topic) and topic.status in (
            TopicStatus.OPEN, TopicStatus.CLAIMED, TopicStatus.IN_MEETING)
        and topic.responsible_user_id != request.user.pk,
        "can_manage": access.can_manage(request.user, topic.council),
        "can_escalate": (access.can_manage(request.user, topic.council)
                         or topic.responsible_user_id == request.user.pk)
        and not topic.case_id and topic.status not in (TopicStatus.RESOLVED, TopicStatus.CLOSED),
        "following": topic.followers.filter(pk=request.user.pk).exists(),
        "consultations": list(topic.consultations.all()),
        "decisions": list(topic.decisions.select_related("meeting")),
        "projects": list(topic.projects.all()),
        "departments": list(Department.objects.filter(
            liaisons__neighbourhood_id=topic.council.neighbourhood_id).distinct()[:50]),
    }


@require_GET
@login_required
@page_errors
def topic_page(request: HttpRequest, pk: int) -> HttpResponse:
    topic = ts.get_topic_for(request.user, pk)
    return render(request, "council/topic.html", _topic_context(request, topic))


@require_POST
@login_required
@page_errors
def topic_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    topic = ts.get_topic_for(request.user, pk)
    user = request.user
    depts = list(Department.objects.filter(pk__in=[_int(x, 0) for x in
                                                  request.POST.getlist("departments")]))
    actions: dict[str, Callable[[], Any]] = {
        "comment": lambda: ts.add_comment(topic, actor=user, body=_post(request, "body"),
                                          photos=request.FILES.getlist("photo"),
                                          mention_departments=depts),
        "claim": lambda: ts.claim_topic(topic, actor=user),
        "escalate": lambda: escalate_topic(topic, actor=user, reason=_post(request, "reason")),
        "lawyer": lambda: ts.set_lawyer_review(topic, actor=user,
                                               needed=request.POST.get("needed") == "1"),
        "resolve": lambda: ts.resolve_topic(topic, actor=user, note=_post(request, "note")),
        "follow": lambda: ts.follow(topic, actor=user, on=request.POST.get("on") == "1"),
    }
    if what not in actions:
        raise ValidationFailed("未知操作")

    def again(message: str, status: int) -> HttpResponse:
        ctx = _topic_context(request, Topic.objects.get(pk=topic.pk)) | {
            "error": message, "body": _post(request, "body")}
        return render(request, "council/topic.html", ctx, status=status)

    return _attempt(request, actions[what], again, reverse("council:topic", args=[topic.pk]))


@require_GET
@login_required
@page_errors
def comment_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment's photo, for whoever may see its topic, as the image type it was checked to
    be (``core.photos.photo_response``)."""
    comment = Comment.objects.filter(pk=pk).only("topic_id", "photo", "photo_type").first()
    if comment is None:
        raise Http404("照片不存在")
    try:
        ts.get_topic_for(request.user, comment.topic_id)
    except (OutOfScope, Forbidden):
        raise Http404("照片不存在") from None  # not even whether it exists
    return photo_response(comment.photo, comment.photo_type)


# --- meetings -------------------------------------------------------------------------------------

def _meeting_context(request: HttpRequest, m: Meeting) -> dict[str, Any]:
    manage = access.can_manage(request.user, m.council)
    return {
        "meeting": m, "council": m.council, "can_manage": manage,
        "topics": list(m.topics.all()),
        "attendances": list(m.attendances.order_by("at")),
        "registered": m.registrations.filter(user=request.user).exists(),
        "registrations": m.registrations.count(),
        "invitations": list(m.invitations.select_related("member")),
        "decisions": list(m.decisions.select_related("topic")),
        "checkin_url": request.build_absolute_uri(
            reverse("council:checkin", args=[ms.checkin_token(m)])) if manage else "",
    }


@require_GET
@login_required
@page_errors
def meeting_page(request: HttpRequest, pk: int) -> HttpResponse:
    m = ms.get_meeting_for(request.user, pk)
    return render(request, "council/meeting.html", _meeting_context(request, m))


@require_GET
@login_required
@page_errors
def meeting_qr(request: HttpRequest, pk: int) -> HttpResponse:
    m = ms.get_meeting_for(request.user, pk)
    access.require_manage(request.user, m.council)
    url = request.build_absolute_uri(reverse("council:checkin", args=[ms.checkin_token(m)]))
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=5, border=2)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@require_POST
@login_required
@page_errors
def meeting_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    m = ms.get_meeting_for(request.user, pk)
    user = request.user

    def hold() -> None:
        decisions = []
        for t in m.topics.all():
            text = _post(request, f"decision_{t.pk}")
            if text:
                decisions.append((t, text, request.POST.get(f"resolves_{t.pk}") == "on"))
        ms.hold_meeting(m, actor=user, minutes=_post(request, "minutes"), decisions=decisions)

    actions: dict[str, Callable[[], Any]] = {
        "register": lambda: ms.register(m, actor=user),
        "attend": lambda: ms.record_attendance(m, actor=user, name=_post(request, "name")),
        "hold": hold,
    }
    if what not in actions:
        raise ValidationFailed("未知操作")

    def again(message: str, status: int) -> HttpResponse:
        ctx = _meeting_context(request, m) | {"error": message,
                                              "minutes": _post(request, "minutes")}
        return render(request, "council/meeting.html", ctx, status=status)

    return _attempt(request, actions[what], again, reverse("council:meeting", args=[m.pk]))


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def checkin(request: HttpRequest, token: str) -> HttpResponse:
    """The page a meeting's QR code opens: confirm, and the logged-in user is marked present."""
    error, done = "", False
    try:
        meeting = ms.meeting_of_token(token)
    except ValidationFailed as exc:
        return render(request, "council/checkin.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        try:
            ms.check_in(token, actor=request.user)
            done = True
        except DomainError as exc:
            error = exc.message
    return render(request, "council/checkin.html", {"meeting": meeting, "error": error,
                                                    "done": done}, status=400 if error else 200)


# --- consultations -------------------------------------------------------------------------------

SOURCE_LABELS = {"online": _("online, by the owner"), "paper": _("paper ballot"),
                 "proxy": _("by proxy")}
CHOICE_LABELS = {"yes": _("yes"), "no": _("no"), "abstain": _("abstain"),
                 "spoiled": _("spoiled")}


def _consultation_context(request: HttpRequest, c: Consultation) -> dict[str, Any]:
    manage = access.can_manage(request.user, c.council)
    ctx: dict[str, Any] = {"c": c, "council": c.council,
                           "result_label": RESULT_LABELS.get(c.result_status, c.result_status),
                           "can_manage": manage, "can_see_council":
                           access.can_see(request.user, c.council)}
    if c.kind == Consultation.Kind.CONSENT:
        ctx["members"] = list(c.consent_members.select_related("reply"))
        return ctx
    names = {o.owner_ref: (f"{o.name}（{o.owner_ref}）" if manage else mask_name(o.name)) for o in
             DwellingOwner.objects.filter(household__in=c.dwellings.values("household_id"))}
    ballots: dict[int, list[Any]] = {}
    for b in c.ballots.select_related("cast_by_user", "entered_by").order_by("at", "pk"):
        b.choice_label = CHOICE_LABELS.get(b.choice, b.choice)
        b.source_label = SOURCE_LABELS.get(b.source, b.source)
        b.signer = names.get(b.cast_by, b.cast_by)
        ballots.setdefault(b.household_id, []).append(b)
    rows = []
    for d in c.dwellings.select_related("household__entrance").order_by("household__room"):
        d.ballot_list = ballots.get(d.household_id, [])
        d.owner_names = [names.get(o, o) for o in d.owners]
        rows.append(d)
    ctx["dwellings"] = rows
    ctx["criteria"] = c.result.get("criteria", [])
    proxies = list(c.proxies.select_related("holder_user", "granted_by_user", "recorded_by",
                                            "revoked_by", "household").order_by("pk"))
    for p in proxies:
        p.granter = names.get(p.granted_by, p.granted_by)
    mine = owners_svc.verified_households(request.user)
    voted_online = {b.household_id for bl in ballots.values() for b in bl if b.source == "online"}
    ctx.update(
        proxies=proxies if manage else [p for p in proxies if
                                        p.holder_user_id == request.user.pk
                                        or p.household_id in mine],
        my_dwellings=[d for d in rows if d.household_id in mine
                      and d.household_id not in voted_online],
        my_proxies=[p for p in proxies if p.holder_user_id == request.user.pk
                    and not p.revoked and p.household_id not in
                    {b.household_id for bl in ballots.values() for b in bl
                     if b.source == "proxy"}],
        mine=mine)
    if not ctx["can_see_council"]:
        # An owner from outside the council's area sees the tally and their own dwellings'
        # ballots, not every neighbour's.
        for d in rows:
            if d.household_id not in mine:
                d.ballot_list = []
    return ctx


@require_GET
@login_required
@page_errors
def consultation_page(request: HttpRequest, pk: int) -> HttpResponse:
    c = cs.get_consultation_for(request.user, pk)
    return render(request, "council/consultation.html", _consultation_context(request, c))


def _holder_user(request: HttpRequest) -> Any:
    name = _post(request, "holder_username")
    return selectors.proxy_holder(name) if name else None


@require_POST
@login_required
@page_errors
def consultation_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    c = cs.get_consultation_for(request.user, pk)
    user = request.user
    household = _int(request.POST.get("household"), 0)

    def revoke() -> Any:
        proxy = c.proxies.filter(pk=_int(request.POST.get("proxy"), 0)).first()
        if proxy is None:
            raise ValidationFailed("委托不存在")
        return cs.revoke_proxy(proxy, actor=user)

    actions: dict[str, Callable[[], Any]] = {
        "answer": lambda: cs.answer_consent(c, actor=user, member_key=_post(request, "member"),
                                            answer=_post(request, "answer")),
        # staff key in a signed paper ballot (an owner's, or a proxy holder's)
        "ballot": lambda: cs.cast_ballot(c, actor=user, household_id=household,
                                         choice=_post(request, "choice"),
                                         source=_post(request, "source") or "paper",
                                         cast_by=_post(request, "cast_by"),
                                         paper_number=_post(request, "paper_number")),
        # the verified owner votes online; the form cannot say who the owner is
        "vote": lambda: cs.cast_ballot(c, actor=user, household_id=household,
                                       choice=_post(request, "choice"), source="online"),
        # the holder of an active proxy votes online
        "proxy_vote": lambda: cs.cast_ballot(c, actor=user, household_id=household,
                                             choice=_post(request, "choice"), source="proxy"),
        "proxy": lambda: cs.grant_proxy(c, actor=user, household_id=household,
                                        granted_by=_post(request, "granted_by"),
                                        holder=_post(request, "holder"),
                                        holder_user=_holder_user(request)),
        "revoke_proxy": revoke,
        "close": lambda: cs.close_consultation(c, actor=user),
    }
    if what not in actions:
        raise ValidationFailed("未知操作")

    def again(message: str, status: int) -> HttpResponse:
        fresh = Consultation.objects.select_related("council", "topic").get(pk=c.pk)
        return render(request, "council/consultation.html",
                      _consultation_context(request, fresh) | {"error": message}, status=status)

    return _attempt(request, actions[what], again, reverse("council:consultation", args=[c.pk]))


# --- the owners' register and owner accounts ----------------------------------------------

def _register_context(request: HttpRequest, council: Council) -> dict[str, Any]:
    from jiayuan.registry.models import Entrance

    return {"council": council, "rows": selectors.owner_register(council),
            "waiting": selectors.owner_links(council, statuses=("requested",)),
            "verified": selectors.owner_links(council, statuses=("verified",)),
            "entrances": list(Entrance.objects.filter(
                building__compound__neighbourhood_id=council.neighbourhood_id)
                .select_related("building__compound").order_by("code")[:500]),
            "form": {}}


@require_GET
@login_required
@page_errors
def owner_register(request: HttpRequest, pk: int) -> HttpResponse:
    """The owners' register of the council's neighbourhood and the owner claims to verify."""
    council = selectors.council_for(request.user, pk)
    access.require_manage(request.user, council)
    return render(request, "council/owners.html", _register_context(request, council))


def _household(council: Council, entrance_pk: Any, room: str) -> Any:
    return selectors.council_household(council, entrance_id=_int(entrance_pk, 0), room=room)


@require_POST
@login_required
@page_errors
def owner_register_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    access.require_manage(request.user, council)
    user = request.user

    def link() -> Any:
        from jiayuan.council.models import OwnerLink

        row = OwnerLink.objects.filter(
            pk=_int(request.POST.get("link"), 0),
            owner__household__compound__neighbourhood_id=council.neighbourhood_id).first()
        if row is None:
            raise ValidationFailed("认证申请不存在")
        return row

    actions: dict[str, Callable[[], Any]] = {
        "add": lambda: owners_svc.add_register_entry(
            actor=user, household=_household(council, request.POST.get("entrance"),
                                             _post(request, "room")),
            name=_post(request, "name"), id_last4=_post(request, "id_last4"),
            phone=_post(request, "phone")),
        "verify": lambda: owners_svc.decide_owner_link(link=link(), actor=user, approve=True,
                                                       note=_post(request, "note")),
        "reject": lambda: owners_svc.decide_owner_link(link=link(), actor=user, approve=False,
                                                       note=_post(request, "note")),
        "revoke": lambda: owners_svc.revoke_owner_link(link=link(), actor=user,
                                                       note=_post(request, "note")),
    }
    if what not in actions:
        raise ValidationFailed("未知操作")

    def again(message: str, status: int) -> HttpResponse:
        ctx = _register_context(request, council) | {
            "error": message, "form": {k: _post(request, k) for k in
                                       ("entrance", "room", "name", "phone")}}
        return render(request, "council/owners.html", ctx, status=status)

    return _attempt(request, actions[what], again, reverse("council:owners", args=[council.pk]))


@require_http_methods(["GET", "POST"])
@login_required
@page_errors
def owner_claim(request: HttpRequest, token: str) -> HttpResponse:
    """From the home code of their entrance, a logged-in resident claims to be a registered
    owner of a dwelling there; the neighbourhood's staff verify the claim before it counts."""
    entrance = entrance_by_home_code(token)
    ctx: dict[str, Any] = {"entrance": entrance, "token": token, "error": "", "done": None,
                           "form": {}}
    status = 200
    misses = f"council:owner_claim:misses:{request.user.pk}"
    if request.method == "POST" and int(cache.get(misses) or 0) >= CLAIM_MISSES:
        # The page must not become an oracle for a neighbour's name and ID digits.
        ctx["error"], status = (f"核对失败次数过多，请 {CLAIM_WINDOW // 3600} 小时后再试，"
                                "或携带证件到居委会办理。"), 429
    elif request.method == "POST":
        ctx["form"] = {"room": _post(request, "room"), "name": _post(request, "name")}
        from jiayuan.registry.models import Household

        h = Household.objects.filter(entrance=entrance, room=_post(request, "room")) \
            .select_related("compound").first()
        try:
            if h is None:
                raise ValidationFailed("与业主名册登记的信息不符，请核对或联系居委会")
            ctx["done"] = owners_svc.request_owner_link(
                user=request.user, household=h, name=_post(request, "name"),
                id_last4=_post(request, "id_last4"))
        except DomainError as exc:
            ctx["error"], status = exc.message, exc.status
            if status == 422 and not cache.add(misses, 1, CLAIM_WINDOW):
                try:
                    cache.incr(misses)
                except ValueError:
                    cache.set(misses, 1, CLAIM_WINDOW)
    ctx["links"] = selectors.links_of(request.user)
    ctx["votes"] = selectors.open_votes_of(request.user)
    return render(request, "council/owner_claim.html", ctx, status=status)


# --- projects -------------------------------------------------------------------------------------

def _project_context(request: HttpRequest, p: Any) -> dict[str, Any]:
    fund = ps.fund_of(p.council)
    return {"project": p, "council": p.council, "milestones": list(p.milestones.all()),
            "grants": list(p.grants.prefetch_related("entries")), "fund": fund,
            "available": fund.credited - fund.reserved,
            "can_manage": access.can_manage(request.user, p.council)}


@require_GET
@login_required
@page_errors
def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    p = ps.get_project(pk)
    access.require_see(request.user, p.council)
    return render(request, "council/project.html", _project_context(request, p))


@require_POST
@login_required
@page_errors
def project_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    p = ps.get_project(pk)
    access.require_see(request.user, p.council)
    user = request.user

    def grant() -> Any:
        return p.grants.get(pk=_int(request.POST.get("grant"), 0))

    def progress() -> None:
        m = Milestone.objects.filter(project=p, pk=_int(request.POST.get("milestone"), 0)).first()
        if m is None:
            raise ValidationFailed("里程碑不存在")
        ps.set_milestone_progress(m, actor=user, progress=_post(request, "progress"))

    actions: dict[str, Callable[[], Any]] = {
        "progress": progress,
        "credit": lambda: ps.credit_fund(p.council, actor=user, amount=_post(request, "amount"),
                                         note=_post(request, "note")),
        "apply": lambda: ps.apply_grant(p, actor=user, amount=_post(request, "amount")),
        "approve": lambda: ps.approve_grant(grant(), actor=user, amount=_post(request, "amount")),
        "spend": lambda: ps.spend(grant(), actor=user, amount=_post(request, "amount"),
                                  receipt=_post(request, "receipt"), note=_post(request, "note"),
                                  receipt_file=request.FILES.get("receipt_file")),
    }
    if what not in actions:
        raise ValidationFailed("未知操作")

    def again(message: str, status: int) -> HttpResponse:
        return render(request, "council/project.html",
                      _project_context(request, ps.get_project(p.pk)) | {"error": message},
                      status=status)

    return _attempt(request, actions[what], again, reverse("council:project", args=[p.pk]))


@require_GET
@page_errors
def project_public(request: HttpRequest, pk: int) -> HttpResponse:
    """The public result page: weighted progress, milestones and money spent. No log-in."""
    p = selectors.public_project(pk)
    spent = sum((g.spent for g in p.grants.all()), start=0)
    return render(request, "council/project_public.html", {
        "project": p, "milestones": list(p.milestones.all()), "spent": spent})


# --- the resident's entry through the home code ----------------------------------------------

def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _topic_rate_keys(request: HttpRequest, entrance_pk: int) -> list[str]:
    return [f"council:topic:ip:{_client_ip(request)}", f"council:topic:entrance:{entrance_pk}"]


@require_http_methods(["GET", "POST"])
@page_errors
def resident_topic(request: HttpRequest, token: str) -> HttpResponse:
    """A resident (no account) raises a topic for the council from the home-code page."""
    entrance = entrance_by_home_code(token)
    compound = entrance.building.compound
    council = Council.objects.filter(neighbourhood_id=compound.neighbourhood_id).first()
    ctx: dict[str, Any] = {"entrance": entrance, "compound": compound, "council": council,
                           "token": token, "error": "", "done": None}
    status = 200
    if council is None:
        ctx["error"] = "本居民区尚未成立理事会，请通过“我要反映”提交问题。"
        return render(request, "council/resident_topic.html", ctx, status=404)
    if request.method == "POST":
        ctx.update(title=_post(request, "title"), body=_post(request, "body"),
                   raiser_name=_post(request, "raiser_name"),
                   raiser_phone=_post(request, "raiser_phone"))
        key = _post(request, "idempotency_key")[:80]
        keys = _topic_rate_keys(request, entrance.pk)
        existing = Topic.objects.filter(idempotency_key=f"home_code:{key}").first() if key else None
        if existing is not None:
            ctx["done"] = existing
        elif any(int(cache.get(k) or 0) >= TOPIC_LIMIT for k in keys):
            ctx["error"] = (f"提交过于频繁：同一网络或同一楼组 {TOPIC_WINDOW // 60} 分钟内最多提出 "
                            f"{TOPIC_LIMIT} 个议题，请稍后再试。")
            status = 429
        else:
            try:
                topic, created = ts.raise_topic(
                    council, title=ctx["title"], body=ctx["body"], entrance=entrance,
                    raiser_name=ctx["raiser_name"], raiser_phone=ctx["raiser_phone"],
                    idempotency_key=f"home_code:{key}" if key else None)
            except DomainError as exc:
                ctx["error"], status = exc.message, exc.status
            else:
                if created:
                    for k in keys:
                        if not cache.add(k, 1, TOPIC_WINDOW):
                            try:
                                cache.incr(k)
                            except ValueError:
                                cache.set(k, 1, TOPIC_WINDOW)
                ctx["done"] = topic
    ctx["idempotency_key"] = secrets.token_urlsafe(24)
    return render(request, "council/resident_topic.html", ctx, status=status)


# --- resources and needs --------------------------------------------------------------------------

def _count(value: str, field: str, message: str) -> int:
    """A positive whole number from a form field, or a Chinese refusal."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(message, details={field: [value]}) from None
    if n < 1:
        raise ValidationFailed(message, details={field: [value]})
    return n


def _compound(council: Council, value: str) -> Any:
    """A compound of the council's neighbourhood chosen in a form (blank: none)."""
    if not value:
        return None
    from jiayuan.registry.models import Compound

    c = Compound.objects.filter(neighbourhood_id=council.neighbourhood_id,
                                pk=_int(value, 0)).first()
    if c is None:
        raise ValidationFailed("所选小区不在本居民区", details={"compound": [value]})
    return c


def _compounds(council: Council) -> list[Any]:
    from jiayuan.registry.models import Compound

    return list(Compound.objects.filter(neighbourhood_id=council.neighbourhood_id)
                .order_by("code")[:200])


def _resources_context(request: HttpRequest, council: Council) -> dict[str, Any]:
    category = request.GET.get("category", "")
    return {"council": council, "category": category,
            "resources": selectors.resources_of(council, category=category),
            "categories": selectors.categories_of(council), "compounds": _compounds(council),
            "can_offer": access.can_offer(request.user, council), "form": {}}


@require_GET
@login_required
@page_errors
def resource_list(request: HttpRequest, pk: int) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    return render(request, "council/resources.html", _resources_context(request, council))


@require_POST
@login_required
@page_errors
def resource_new(request: HttpRequest, pk: int) -> HttpResponse:
    council = selectors.council_for(request.user, pk)

    def add() -> None:
        access.require_offer(request.user, council)
        ps.add_resource(council, actor=request.user, provider=_post(request, "provider"),
                        title=_post(request, "title"), category=_post(request, "category"),
                        capacity=_count(_post(request, "capacity"), "capacity",
                                        "可服务数量须为大于零的整数"),
                        compound=_compound(council, _post(request, "compound")))

    def again(message: str, status: int) -> HttpResponse:
        ctx = _resources_context(request, council) | {
            "error": message, "form": {k: _post(request, k) for k in
                                       ("provider", "title", "category", "capacity", "compound")}}
        return render(request, "council/resources.html", ctx, status=status)

    return _attempt(request, add, again, reverse("council:resources", args=[council.pk]))


def _needs_context(request: HttpRequest, council: Council) -> dict[str, Any]:
    status = request.GET.get("status", "")
    return {"council": council, "status": status,
            "statuses": [("open", _("waiting for a match")), ("matched", _("matched"))],
            "needs": selectors.needs_of(council, status=status,
                                        category=request.GET.get("category", "")),
            "categories": selectors.categories_of(council), "compounds": _compounds(council),
            "can_record": access.can_manage(request.user, council)
            or access.can_take_part(request.user, council), "form": {}}


@require_GET
@login_required
@page_errors
def need_list(request: HttpRequest, pk: int) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    return render(request, "council/needs.html", _needs_context(request, council))


@require_POST
@login_required
@page_errors
def need_new(request: HttpRequest, pk: int) -> HttpResponse:
    council = selectors.council_for(request.user, pk)
    made: dict[str, Any] = {}

    def add() -> None:
        access.require_take_part(request.user, council)
        made["need"] = ps.add_need(council, actor=request.user, title=_post(request, "title"),
                                   category=_post(request, "category"),
                                   size=_count(_post(request, "size"), "size",
                                               "需求数量须为大于零的整数"),
                                   compound=_compound(council, _post(request, "compound")))

    def again(message: str, status: int) -> HttpResponse:
        ctx = _needs_context(request, council) | {
            "error": message, "form": {k: _post(request, k) for k in
                                       ("title", "category", "size", "compound")}}
        return render(request, "council/needs.html", ctx, status=status)

    try:
        add()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return again(exc.message, exc.status)
    return redirect("council:need", pk=made["need"].pk)


def _need_context(request: HttpRequest, need: Any) -> dict[str, Any]:
    manage = access.can_manage(request.user, need.council)
    options = [] if need.matched_resource_id else [
        (r, r.left) for r in ps.candidates(need)]
    return {"need": need, "council": need.council, "can_manage": manage, "options": options,
            "matched_left": selectors.capacity_left(need.matched_resource)
            if need.matched_resource_id else None}


@require_GET
@login_required
@page_errors
def need_page(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_for(request.user, pk)
    return render(request, "council/need.html", _need_context(request, need))


@require_POST
@login_required
@page_errors
def need_match(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_for(request.user, pk)

    def match() -> None:
        from jiayuan.council.models import ResourceOffer

        raw = _post(request, "resource")
        resource = None
        if raw:
            resource = ResourceOffer.objects.filter(pk=_int(raw, 0)).first()
            if resource is None:
                raise ValidationFailed("资源不存在", details={"resource": [raw]})
        ps.match_need(need, actor=request.user, resource=resource)

    def again(message: str, status: int) -> HttpResponse:
        fresh = selectors.need_for(request.user, need.pk)
        return render(request, "council/need.html",
                      _need_context(request, fresh) | {"error": message}, status=status)

    return _attempt(request, match, again, reverse("council:need", args=[need.pk]))
