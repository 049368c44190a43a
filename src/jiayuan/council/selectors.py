"""Reads of the council app, always scoped to the user's area (or membership)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from jiayuan.accounts.scope import scope_for
from jiayuan.core.errors import NotFound, ValidationFailed
from jiayuan.council import access
from jiayuan.council.models import (
    Comment,
    Consultation,
    Council,
    LedgerEntry,
    Meeting,
    Project,
    Topic,
    TopicStatus,
)

TOPICS_PER_PAGE = 25
COMMENTS_PER_PAGE = 50


def councils_for(user: Any) -> QuerySet[Council]:
    """The councils a user may see: in their area, or where they are a member."""
    qs = Council.objects.select_related("neighbourhood")
    scope = scope_for(user)
    if scope.everywhere:
        return qs.order_by("path")
    return qs.filter(scope.q() | Q(members__user=user, members__active=True)).distinct() \
        .order_by("path")


def councils_for_case(user: Any, case: Any) -> list[Council]:
    """The councils of a case's area in which ``user`` may raise it as a topic: the council of
    its neighbourhood, or, for a case above neighbourhood level, those inside its area."""
    qs = Council.objects.select_related("neighbourhood").order_by("path")
    if case.neighbourhood_id:
        qs = qs.filter(neighbourhood_id=case.neighbourhood_id)
    elif case.path:
        qs = qs.filter(path__startswith=case.path)
    else:
        return []
    return [c for c in qs[:50] if access.can_take_part(user, c)]


def council_for(user: Any, pk: int) -> Council:
    c = Council.objects.select_related("neighbourhood__subdistrict").filter(pk=pk).first()
    if c is None:
        raise NotFound("理事会不存在")
    access.require_see(user, c)
    return c


def council_page(council: Council, *, page: int = 1, status: str = "",
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the council page shows, in a fixed number of queries: members, one page of
    topics (newest activity first, optionally by status), upcoming meetings and projects."""
    now = now or timezone.now()
    topics = (Topic.objects.filter(council=council)
              .only("id", "title", "status", "origin", "comment_count", "last_activity_at",
                    "lawyer_review", "responsible_user__username",
                    "responsible_user__display_name", "council_id")
              .select_related("responsible_user").order_by("-last_activity_at", "-id"))
    if status:
        topics = topics.filter(status=status)
    paginator = Paginator(topics, TOPICS_PER_PAGE)
    paginator.count = _topic_count(council, status)
    pg = paginator.get_page(page)
    counts = dict(Topic.objects.filter(council=council).values_list("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    return {
        "members": list(council.members.filter(active=True).select_related("department")),
        "topics": pg,
        "status_counts": [(s, label, counts.get(s, 0)) for s, label in TopicStatus.choices],
        "upcoming": list(Meeting.objects.filter(council=council, starts_at__gte=now,
                                                status=Meeting.Status.PLANNED)
                         .order_by("starts_at")[:5]),
        "recent_meetings": list(Meeting.objects.filter(council=council, status="held")
                                .order_by("-starts_at")[:5]),
        "projects": list(Project.objects.filter(council=council).order_by("-created_at")[:10]),
        "consultations": list(Consultation.objects.filter(council=council)
                              .order_by("-created_at")[:5]),
    }


def _topic_count(council: Council, status: str) -> int:
    qs = Topic.objects.filter(council=council)
    if status:
        qs = qs.filter(status=status)
    return qs.count()


def topic_thread(topic: Topic, *, page: int | None = None) -> Any:
    """The thread, oldest first, paginated (the last page by default)."""
    qs = (Comment.objects.filter(topic=topic).select_related("author")
          .prefetch_related("mentions__user", "mentions__department")
          .order_by("created_at", "id"))
    paginator = Paginator(qs, COMMENTS_PER_PAGE)
    paginator.count = topic.comment_count or qs.count()
    return paginator.get_page(page if page is not None else paginator.num_pages)


def topics_for(user: Any) -> QuerySet[Topic]:
    scope = scope_for(user)
    qs = Topic.objects.select_related("council")
    if scope.everywhere:
        return qs
    return qs.filter(scope.q("council__path") | Q(council__members__user=user)).distinct()


def public_project(pk: int) -> Project:
    p = Project.objects.select_related("council__neighbourhood").filter(pk=pk, public=True).first()
    if p is None:
        raise NotFound("项目不存在或未公开")
    return p


def activity_by_compound(start: dt.datetime, end: dt.datetime) -> dict[int, dict[str, Any]]:
    """Per compound id, over ``[start, end)``: meetings held by kind, topics raised and resolved,
    consultation participation (participants and eligible, summed over consultations computed in
    the window) and self-governance funds spent (yuan, Decimal). For the index's deriver.
    Compounds with no activity are absent."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {
        "meetings": {"hearing": 0, "coordination": 0, "evaluation": 0},
        "topics_raised": 0, "topics_resolved": 0,
        "consultations": 0, "consultation_participants": 0, "consultation_eligible": 0,
        "funds_spent": Decimal("0.00"),
    })
    for cid, kind, n in (Meeting.objects.filter(status="held", compound__isnull=False,
                                                starts_at__gte=start, starts_at__lt=end)
                         .values_list("compound_id", "kind").annotate(n=Count("id"))
                         .values_list("compound_id", "kind", "n")):
        out[cid]["meetings"][kind] += n
    for cid, n in (Topic.objects.filter(compound__isnull=False, created_at__gte=start,
                                        created_at__lt=end)
                   .values("compound_id").annotate(n=Count("id")).values_list("compound_id", "n")):
        out[cid]["topics_raised"] += n
    for cid, n in (Topic.objects.filter(compound__isnull=False, resolved_at__gte=start,
                                        resolved_at__lt=end)
                   .values("compound_id").annotate(n=Count("id")).values_list("compound_id", "n")):
        out[cid]["topics_resolved"] += n
    for cid, k, p, e in (Consultation.objects.filter(compound__isnull=False,
                                                     created_at__gte=start, created_at__lt=end)
                         .values("compound_id")
                         .annotate(k=Count("id"), p=Sum("participants"), e=Sum("eligible"))
                         .values_list("compound_id", "k", "p", "e")):
        row = out[cid]
        row["consultations"] += k
        row["consultation_participants"] += p or 0
        row["consultation_eligible"] += e or 0
    for cid, s in (LedgerEntry.objects.filter(kind="spend", at__gte=start, at__lt=end,
                                              grant__project__compound__isnull=False)
                   .values("grant__project__compound_id").annotate(s=Sum("amount"))
                   .values_list("grant__project__compound_id", "s")):
        out[cid]["funds_spent"] += s or Decimal(0)
    return dict(out)


# --- resources and needs ----------------------------------------------------------------------

def resources_of(council: Council, *, category: str = "") -> list[Any]:
    """The council's resource menu, active items, each with ``used`` and ``left`` capacity."""
    from jiayuan.council.models import ResourceOffer

    qs = (ResourceOffer.objects.filter(council=council, active=True)
          .select_related("compound", "unit").annotate(used_size=Sum("matches__size"))
          .order_by("category", "provider", "id"))
    if category:
        qs = qs.filter(category=category)
    rows = list(qs[:500])
    for r in rows:
        r.used = r.used_size or 0
        r.left = max(r.capacity - r.used, 0)
    return rows


def categories_of(council: Council) -> list[str]:
    """Categories in use on the council's menu and among its needs, sorted."""
    from jiayuan.council.models import Need, ResourceOffer

    cats = set(ResourceOffer.objects.filter(council=council, active=True)
               .values_list("category", flat=True))
    cats |= set(Need.objects.filter(council=council).values_list("category", flat=True))
    return sorted(cats)


NEED_STATUSES = ("open", "matched")


def needs_of(council: Council, *, status: str = "", category: str = "") -> list[Any]:
    """The council's needs, newest first; ``status`` is ``open`` or ``matched``."""
    from jiayuan.council.models import Need

    qs = (Need.objects.filter(council=council).select_related("compound", "matched_resource")
          .order_by("-created_at", "-id"))
    if status == "open":
        qs = qs.filter(matched_resource__isnull=True)
    elif status == "matched":
        qs = qs.filter(matched_resource__isnull=False)
    if category:
        qs = qs.filter(category=category)
    return list(qs[:500])


def need_for(user: Any, pk: int) -> Any:
    from jiayuan.council.models import Need

    need = (Need.objects.select_related("council__neighbourhood", "compound",
                                        "matched_resource").filter(pk=pk).first())
    if need is None:
        raise NotFound("需求不存在")
    access.require_see(user, need.council)
    return need


def capacity_left(resource: Any) -> int:
    used = resource.matches.aggregate(n=Sum("size"))["n"] or 0
    return max(int(resource.capacity) - int(used), 0)


# --- the owners' register -------------------------------------------------------------------

REGISTER_PAGE = 500


def owner_register(council: Council) -> list[Any]:
    """The register rows of the council's neighbourhood (the caller has checked it may manage
    the council), by entrance and room; each row with ``phone_masked`` and ``id_masked``."""
    from jiayuan.core.masking import mask_phone
    from jiayuan.council.models import DwellingOwner

    rows = list(DwellingOwner.objects
                .filter(household__compound__neighbourhood_id=council.neighbourhood_id)
                .select_related("household__entrance__building", "household__compound")
                .order_by("household__entrance__code", "household__room", "owner_ref")
                [:REGISTER_PAGE])
    for r in rows:
        r.phone_masked = mask_phone(r.phone)
        r.id_masked = f"****{r.id_last4}" if r.id_last4 else ""
    return rows


def owner_links(council: Council, *, statuses: tuple[str, ...] = ("requested", "verified")
                ) -> list[Any]:
    """Owner account links of the council's neighbourhood in the given statuses, oldest
    first."""
    from jiayuan.council.models import OwnerLink

    return list(OwnerLink.objects
                .filter(owner__household__compound__neighbourhood_id=council.neighbourhood_id,
                        status__in=statuses)
                .select_related("user", "owner__household__entrance", "decided_by")
                .order_by("requested_at", "pk")[:REGISTER_PAGE])


def links_of(user: Any) -> list[Any]:
    """A user's own owner claims, newest first."""
    from jiayuan.council.models import OwnerLink

    return list(OwnerLink.objects.filter(user=user)
                .select_related("owner__household__entrance__building", "owner__household__compound")
                .order_by("-requested_at")[:50])


def open_votes_of(user: Any) -> list[Consultation]:
    """Open owners' votes in which ``user`` votes: as a verified owner or a proxy holder."""
    from jiayuan.council.models import OwnerLink, VoteProxy

    homes = OwnerLink.objects.filter(user=user, status="verified").values("owner__household_id")
    proxied = VoteProxy.objects.filter(holder_user=user, revoked=False).values("consultation_id")
    return list(Consultation.objects.filter(kind="owners_vote", closed=False)
                .filter(Q(dwellings__household_id__in=homes) | Q(pk__in=proxied))
                .distinct().order_by("-created_at")[:50])


def proxy_holder(username: str) -> Any:
    """The active account a proxy is granted to, by its user name; ``ValidationFailed`` if
    there is none."""
    from jiayuan.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationFailed("找不到该受托人账号", details={"holder": [username]})
    return user


def council_household(council: Council, *, entrance_id: int, room: str) -> Any:
    """The household of the council's neighbourhood at an entrance and room (as written on a
    paper or the register); ``ValidationFailed`` if the neighbourhood has none there."""
    from jiayuan.registry.models import Household

    household = (Household.objects
                 .filter(entrance_id=entrance_id, room=room.strip(),
                         compound__neighbourhood_id=council.neighbourhood_id)
                 .select_related("compound").first())
    if household is None:
        raise ValidationFailed("本居民区没有该门牌和房号的住户", details={"room": [room]})
    return household
