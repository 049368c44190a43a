"""Reads of the care register, always limited to the viewer's area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from jiayuan.accounts.scope import AreaScope
from jiayuan.care.models import CareTask, ElderLivingAlone
from jiayuan.care.schedule import week_bounds
from jiayuan.core.errors import NotFound
from jiayuan.core.masking import mask_id_number, mask_name, mask_phone
from jiayuan.registry.models import Neighbourhood

RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def elders(scope: AreaScope, *, risk: str = "", neighbourhood: str = "",
           overdue: bool = False, now: dt.datetime | None = None) -> QuerySet[ElderLivingAlone]:
    qs = scope.filter(ElderLivingAlone.objects.filter(active=True)).select_related(
        "neighbourhood", "entrance", "visitor")
    if risk:
        qs = qs.filter(risk_level=risk)
    if neighbourhood:
        qs = qs.filter(neighbourhood__code=neighbourhood)
    if overdue:
        qs = qs.filter(next_visit_due__lt=now or timezone.now())
    return qs.order_by("neighbourhood__code", "next_visit_due", "pk")


def get_elder(scope: AreaScope, pk: int) -> ElderLivingAlone:
    """One person; NotFound when missing, OutOfScope when outside the area."""
    elder = ElderLivingAlone.objects.select_related(
        "neighbourhood", "entrance", "household", "visitor").filter(pk=pk).first()
    if elder is None:
        raise NotFound("找不到该老人")
    scope.require(elder.path, missing="找不到该老人")
    return elder


def masked_row(e: ElderLivingAlone, *, now: dt.datetime) -> dict[str, Any]:
    """The list view of a person: personal data masked."""
    due = e.next_visit_due
    return {
        "id": e.pk, "name": mask_name(e.name), "phone": mask_phone(e.phone),
        "id_number": mask_id_number(e.id_number), "age": now.year - e.birth_year,
        "neighbourhood": e.neighbourhood.name, "neighbourhood_code": e.neighbourhood.code,
        "place": f"{e.entrance.door_plate or e.entrance.name} {e.room}".strip(),
        "risk_level": e.risk_level, "risk_score": e.risk_score,
        "active_signals": list(e.active_signals),
        "last_visit_at": e.last_visit_at, "next_visit_due": due,
        "overdue": bool(due and due < now),
        "visitor": str(e.visitor) if e.visitor else (e.volunteer_name or ""),
    }


def neighbourhoods(scope: AreaScope) -> list[tuple[str, str]]:
    qs = scope.filter(Neighbourhood.objects.all()).order_by("code")
    return list(qs.values_list("code", "name"))


def my_visits(scope: AreaScope, user: Any, *, now: dt.datetime) -> dict[str, list[Any]]:
    """The user's people due this week (incl. overdue), then overdue ones of their area
    that nobody is assigned to."""
    _, sunday = week_bounds(timezone.localdate(now))
    end = timezone.make_aware(dt.datetime.combine(sunday + dt.timedelta(days=1), dt.time()))
    mine = elders(scope).filter(visitor=user, next_visit_due__lt=end).order_by(
        "next_visit_due", "pk")
    unassigned = elders(scope).filter(visitor__isnull=True, next_visit_due__lt=now).order_by(
        "next_visit_due", "pk")
    return {"mine": list(mine), "unassigned_overdue": list(unassigned[:100])}


def tasks(scope: AreaScope, *, status: str = "open", mine_of: Any = None) -> QuerySet[CareTask]:
    qs = scope.filter(CareTask.objects.all()).select_related(
        "elder", "elder__neighbourhood", "assigned_to")
    if status == "open":
        qs = qs.exclude(status=CareTask.Status.DONE)
    elif status:
        qs = qs.filter(status=status)
    if mine_of is not None:
        qs = qs.filter(assigned_to=mine_of)
    return qs.order_by("-priority", "opened_at", "pk") if status == "open" else qs


def get_task(scope: AreaScope, pk: int) -> CareTask:
    task = CareTask.objects.select_related("elder").filter(pk=pk).first()
    if task is None:
        raise NotFound("找不到该关怀任务")
    scope.require(task.path, missing="找不到该关怀任务")
    return task


def counts(scope: AreaScope, *, now: dt.datetime) -> dict[str, int]:
    qs = scope.filter(ElderLivingAlone.objects.filter(active=True))
    return {
        "total": qs.count(),
        "high": qs.filter(risk_level="high").count(),
        "medium": qs.filter(risk_level="medium").count(),
        "low": qs.filter(risk_level="low").count(),
        "overdue": qs.filter(next_visit_due__lt=now).count(),
        "open_tasks": scope.filter(CareTask.objects.exclude(status="done")).count(),
    }


def visitor_choices(scope: AreaScope) -> list[tuple[str, str]]:
    """Neighbourhood staff whose area lies within the viewer's area (possible visitors)."""
    from jiayuan.accounts.models import User

    qs = User.objects.filter(role="neighbourhood_staff", is_active=True)
    if not scope.everywhere:
        qs = qs.filter(scope.q("area_grants__path"))
    return [(str(u.pk), str(u)) for u in qs.distinct().order_by("username")[:500]]


def visitor_in_scope(scope: AreaScope, pk: str) -> Any:
    if not pk:
        return None
    ids = dict(visitor_choices(scope))
    if pk not in ids:
        from jiayuan.core.errors import ValidationFailed

        raise ValidationFailed("走访人必须是本辖区的社区工作人员", details={"visitor": pk})
    from jiayuan.accounts.models import User

    return User.objects.get(pk=int(pk))
