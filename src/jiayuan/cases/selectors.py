"""Reads of cases. Every function takes the viewer's ``AreaScope`` and filters by it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases.models import Case
from jiayuan.core.errors import NotFound, OutOfScope


def cases(scope: AreaScope) -> QuerySet[Case]:
    return scope.filter(Case.objects.all())


def get_case(scope: AreaScope, number: str) -> Case:
    """One case by number; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    case = Case.objects.select_related("category", "compound", "neighbourhood").filter(
        number=number).first()
    if case is None:
        raise NotFound(f"没有编号为“{number}”的工单")
    if not scope.covers(case.path):
        raise OutOfScope()
    return case


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
