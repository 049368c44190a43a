"""Care endpoints (Ninja router mounted at /api/v1/care). Thin: parse, call, shape.

- ``GET /care/elders``: the register of the caller's area, personal data masked;
  filters ``risk``, ``neighbourhood`` (code), ``overdue``.
- ``GET /care/elders/{id}``: one person in full; each call is logged (PIPL).
- ``POST /care/elders``: register a person (``entrance`` code, optional ``room``).
- ``PATCH /care/elders/{id}``: change some fields; a rise in risk opens a care task.
- ``POST /care/elders/{id}/visits``: log a visit.
- ``GET /care/tasks``, ``POST /care/tasks/{id}/assign``, ``POST /care/tasks/{id}/done``.
Refusals answer ``{"error": {code, message, details}}`` and change nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from jiayuan.accounts.scope import scope_for
from jiayuan.accounts.services import log_personal_data_access
from jiayuan.care import access, selectors
from jiayuan.care.models import CareTask, ElderLivingAlone
from jiayuan.care.services import (
    assign_task,
    complete_task,
    log_visit,
    register_elder,
    update_elder,
)
from jiayuan.core.errors import NotFound
from jiayuan.core.pagination import page

router = Router(tags=["care"])


class ContactIn(Schema):
    name: str
    relation: str = ""
    phone: str


class ElderIn(Schema):
    name: str
    birth_year: int
    entrance: str
    room: str = ""
    id_number: str = ""
    phone: str = ""
    health: str = "good"
    chronic_conditions: int = 0
    mobility: str = "independent"
    cognition: str = "normal"
    living_conditions: str = "good"
    stairs_without_elevator: bool = False
    carer: str = "none"
    children_nearby: bool = False
    emergency_contacts: list[ContactIn] = []
    consent: bool = False
    notes: str = ""
    volunteer_name: str = ""


class ElderPatch(Schema):
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    birth_year: int | None = None
    room: str | None = None
    health: str | None = None
    chronic_conditions: int | None = None
    mobility: str | None = None
    cognition: str | None = None
    living_conditions: str | None = None
    stairs_without_elevator: bool | None = None
    carer: str | None = None
    children_nearby: bool | None = None
    emergency_contacts: list[ContactIn] | None = None
    consent: bool | None = None
    notes: str | None = None
    volunteer_name: str | None = None


class VisitIn(Schema):
    outcome: str
    method: str = "home"
    notes: str = ""
    visitor_name: str = ""
    visited_at: dt.datetime | None = None


class TaskDoneIn(Schema):
    outcome: str
    notes: str = ""


def _detail(e: ElderLivingAlone) -> dict[str, Any]:
    return {
        "id": e.pk, "name": e.name, "id_number": e.id_number, "phone": e.phone,
        "birth_year": e.birth_year, "neighbourhood": e.neighbourhood.code,
        "entrance": e.entrance.code, "room": e.room, "health": e.health,
        "chronic_conditions": e.chronic_conditions, "mobility": e.mobility,
        "cognition": e.cognition, "living_conditions": e.living_conditions,
        "stairs_without_elevator": e.stairs_without_elevator, "carer": e.carer,
        "children_nearby": e.children_nearby, "emergency_contacts": e.emergency_contacts,
        "consent": e.consent, "risk_level": e.risk_level, "risk_score": e.risk_score,
        "risk_reasons": e.risk_reasons, "active_signals": e.active_signals,
        "last_visit_at": e.last_visit_at, "next_visit_due": e.next_visit_due,
    }


def _task(t: CareTask) -> dict[str, Any]:
    return {"id": t.pk, "elder": t.elder_id, "kind": t.kind, "priority": t.priority,
            "reason": t.reason, "status": t.status, "triggers": len(t.triggers),
            "assigned_to": t.assigned_to_id, "opened_at": t.opened_at, "done_at": t.done_at,
            "outcome": t.outcome}


@router.get("/elders")
def list_elders(request: HttpRequest, risk: str = "", neighbourhood: str = "",
                overdue: bool = False, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    access.require_view(request.user)
    window = page(offset, limit, default=100, maximum=500)
    now = timezone.now()
    qs = selectors.elders(scope_for(request.user), risk=risk, neighbourhood=neighbourhood,
                          overdue=overdue, now=now)
    rows = [selectors.masked_row(e, now=now) for e in window.of(qs)]
    return {"count": qs.count(), "results": rows}


@router.get("/elders/{pk}")
def get_elder(request: HttpRequest, pk: int) -> dict[str, Any]:
    access.require_view(request.user)
    elder = selectors.get_elder(scope_for(request.user), pk)
    log_personal_data_access(user=request.user, object_type="care.elder", object_id=elder.pk,
                             fields=["name", "id_number", "phone", "emergency_contacts"],
                             purpose="api", ip_address=request.META.get("REMOTE_ADDR"))
    return _detail(elder)


@router.post("/elders", response={201: dict[str, Any]})
def create_elder(request: HttpRequest, payload: ElderIn) -> Any:
    from jiayuan.registry.models import Entrance, Household

    access.require_edit(request.user)
    entrance = Entrance.objects.filter(code=payload.entrance).first()
    if entrance is None:
        raise NotFound("找不到该门栋编码", details={"entrance": payload.entrance})
    household = (Household.objects.filter(entrance=entrance, room=payload.room).first()
                 if payload.room else None)
    data = payload.dict()
    data["emergency_contacts"] = [c.dict() for c in payload.emergency_contacts]
    elder = register_elder(by=request.user, data=data, entrance=entrance, household=household)
    return Status(201, _detail(elder))


@router.patch("/elders/{pk}")
def patch_elder(request: HttpRequest, pk: int, payload: ElderPatch) -> dict[str, Any]:
    """Change some fields (the others stay); a rise in risk opens a care task. Logged, as
    the answer holds the full personal data."""
    access.require_edit(request.user)
    elder = selectors.get_elder(scope_for(request.user), pk)
    data = payload.dict(exclude_unset=True)
    if payload.emergency_contacts is not None:
        data["emergency_contacts"] = [c.dict() for c in payload.emergency_contacts]
    elder = update_elder(elder=elder, by=request.user, data=data, visitor=elder.visitor)
    log_personal_data_access(user=request.user, object_type="care.elder", object_id=elder.pk,
                             fields=["name", "id_number", "phone", "emergency_contacts"],
                             purpose="api edit", ip_address=request.META.get("REMOTE_ADDR"))
    return _detail(selectors.get_elder(scope_for(request.user), pk))


@router.post("/elders/{pk}/visits", response={201: dict[str, Any]})
def create_visit(request: HttpRequest, pk: int, payload: VisitIn) -> Any:
    access.require_edit(request.user)
    elder = selectors.get_elder(scope_for(request.user), pk)
    v = log_visit(elder=elder, by=request.user, outcome=payload.outcome, method=payload.method,
                  notes=payload.notes, visitor_name=payload.visitor_name,
                  visited_at=payload.visited_at)
    return Status(201, {"id": v.pk, "visited_at": v.visited_at, "outcome": v.outcome,
                        "next_visit_due": ElderLivingAlone.objects.get(pk=pk).next_visit_due})


@router.get("/tasks")
def list_tasks(request: HttpRequest, status: str = "open") -> dict[str, Any]:
    access.require_view(request.user)
    qs = selectors.tasks(scope_for(request.user), status=status)
    return {"count": qs.count(), "results": [_task(t) for t in qs[:500]]}


@router.post("/tasks/{pk}/assign")
def take_task(request: HttpRequest, pk: int) -> dict[str, Any]:
    task = selectors.get_task(scope_for(request.user), pk)
    return _task(assign_task(task=task, by=request.user))


@router.post("/tasks/{pk}/done")
def finish_task(request: HttpRequest, pk: int, payload: TaskDoneIn) -> dict[str, Any]:
    task = selectors.get_task(scope_for(request.user), pk)
    return _task(complete_task(task=task, by=request.user, outcome=payload.outcome,
                               notes=payload.notes))
