"""Case endpoints (Ninja router mounted at /api/v1/cases). Thin: parse, call, shape.

- ``POST /cases``: the intake endpoint other modules and systems call (staff sessions and API
  tokens). ``Idempotency-Key`` makes retries safe: 201 on create, 200 with the same body after.
- ``GET /cases``, ``GET /cases/{number}``, ``POST /cases/{number}/actions``,
  ``GET /cases/{number}/duplicates``: staff only, limited to the caller's area; reporters'
  names and phones are masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from jiayuan.accounts.scope import scope_for
from jiayuan.cases import selectors
from jiayuan.cases.lifecycle import OPEN_STATES
from jiayuan.cases.models import Case
from jiayuan.cases.schemas import (
    ActionIn,
    CaseBatchIn,
    CaseBatchOut,
    CaseCreatedOut,
    CaseDetailOut,
    CaseIn,
    CasePage,
    DuplicateOut,
)
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.duplicates import find_duplicates, merge_cases
from jiayuan.cases.services.intake import intake_batch
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from jiayuan.core.masking import mask_name, mask_phone
from jiayuan.core.pagination import page

router = Router(tags=["cases"])

CASE_STAFF_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "department_staff",
                              "liaison", "district_analyst", "admin"})
OPEN = [s.value for s in OPEN_STATES]


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in CASE_STAFF_ROLES))


def require_staff(request: HttpRequest) -> None:
    if not _is_staff(request.user):
        raise Forbidden("只有工作人员可以查看和处理工单")


def _by_token(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


# --- Shapes ------------------------------------------------------------------------------------

def created_out(c: Case) -> dict[str, Any]:
    return {
        "number": c.number, "state": c.state, "channel": c.channel,
        "category": c.category.code if c.category else None, "tier": c.tier, "path": c.path,
        "compound": c.compound.code if c.compound else None,
        "neighbourhood": c.neighbourhood.code if c.neighbourhood else None,
        "reported_at": c.reported_at, "due_at": c.due_at, "routing_source": c.routing_source,
        "routing_confidence": c.routing_confidence, "tracking_token": c.tracking_token,
    }


def case_out(c: Case, now: dt.datetime) -> dict[str, Any]:
    return {
        "number": c.number, "state": c.state, "channel": c.channel,
        "category": c.category.code if c.category else None,
        "category_name": c.category.name if c.category else None, "tier": c.tier,
        "description": c.description, "address": c.address, "lng": c.lng, "lat": c.lat,
        "compound": c.compound.code if c.compound else None,
        "neighbourhood": c.neighbourhood.code if c.neighbourhood else None,
        "lead_unit": c.lead_unit, "reported_at": c.reported_at, "due_at": c.due_at,
        "overdue": bool(c.due_at and c.due_at < now and c.state in OPEN),
        "supervised": c.supervised, "routing_source": c.routing_source,
        "merged_into": c.merged_into.number if c.merged_into else None,
    }


def detail_out(c: Case) -> dict[str, Any]:
    merged, _ = selectors.followers_of(c)
    return {
        **case_out(c, timezone.now()),
        "reporter_name": mask_name(c.reporter_name), "reporter_phone": mask_phone(c.reporter_phone),
        "assisting_units": list(c.assisting_units), "rating": c.rating,
        "return_count": c.return_count, "extension_count": c.extension_count,
        "reopened_count": c.reopened_count, "routing_confidence": c.routing_confidence,
        "external_id": c.external_id, "merged_cases": [m.number for m in merged],
        "events": [
            {"seq": e.seq, "at": e.at, "actor_role": e.actor_role, "action": e.action,
             "from_state": e.from_state, "to_state": e.to_state, "reason": e.reason,
             "payload": selectors.masked_payload(e.payload)}
            for e in c.events.order_by("seq")
        ],
    }


def _related(qs: Any) -> Any:
    return qs.select_related("category", "compound", "neighbourhood", "merged_into")


# --- Intake ------------------------------------------------------------------------------------

def _reported_at(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed("reported_at 必须带时区（如 2026-11-16T10:00:00+08:00）",
                               details={"reported_at": ["缺少时区"]})
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationFailed("反映时间不能晚于当前时间", details={"reported_at": ["在未来"]})
    return value


def _open(request: HttpRequest, body: CaseIn, key: str | None,
          entrances: dict[str, Any] | None = None) -> tuple[Case, bool]:
    entrance = None
    if body.home_code:
        from jiayuan.registry.selectors import entrance_by_home_code

        try:
            entrance = (entrances or {}).get(body.home_code) or entrance_by_home_code(
                body.home_code)
        except NotFound:
            raise ValidationFailed("家园码无效或已停用", details={"home_code": ["无效"]}) from None
    return open_case(
        channel=body.channel, description=body.description, category_code=body.category,
        lng=body.lng, lat=body.lat, crs=body.crs, address=body.address, entrance=entrance,
        reporter_name=body.reporter_name, reporter_phone=body.reporter_phone,
        external_id=body.external_id.strip(), idempotency_key=key,
        reported_at=_reported_at(body.reported_at), actor=request.user,
    )


@router.post("/cases", response={200: CaseCreatedOut, 201: CaseCreatedOut},
             summary="Open a case (idempotent with an Idempotency-Key header)")
def create_case(request: HttpRequest, body: CaseIn) -> Status[dict[str, Any]]:
    if not (_by_token(request) or _is_staff(request.user)):
        raise Forbidden("只有工作人员或接口令牌可以提交工单")
    [(case, created)] = _open_all(request, [(body, request.headers.get("Idempotency-Key"))],
                                  single=True)
    if not created:
        case = _related(Case.objects).get(pk=case.pk)
    return Status(201 if created else 200, created_out(case))


@router.post("/cases/batch", response={200: CaseBatchOut},
             summary="Open up to 500 cases at once, all or none (each item idempotent on its key)")
def create_cases(request: HttpRequest, body: CaseBatchIn) -> dict[str, Any]:
    """For systems that forward work orders in bulk (the 12345 platform, sensor gateways):
    one transaction, one classifier call, one read of the routing table, of the keys and of
    the home codes for the batch; numbers and events written together (``intake_batch``).
    Any bad item refuses the whole batch (422, every item's problem listed by index) and
    creates nothing; a retried batch answers each item ``created: false``."""
    if not (_by_token(request) or _is_staff(request.user)):
        raise Forbidden("只有工作人员或接口令牌可以提交工单")
    keys = [item.idempotency_key for item in body.cases if item.idempotency_key]
    if len(keys) != len(set(keys)):
        raise ValidationFailed("同一批次中幂等键重复", details={"idempotency_key": ["重复"]})
    results = _open_all(request, [(item, item.idempotency_key) for item in body.cases])
    # New cases carry their category, compound and neighbourhood already; only cases
    # opened earlier are read again.
    again = _related(Case.objects).in_bulk([c.pk for c, made in results if not made])
    return {"created": sum(1 for _, made in results if made),
            "cases": [{**created_out(c if made else again[c.pk]), "created": made}
                      for c, made in results]}


def _open_all(request: HttpRequest, items: list[tuple[CaseIn, str | None]], *,
              single: bool = False) -> list[tuple[Case, bool]]:
    """Open every item (body, idempotency key) in one transaction through ``intake_batch``
    (one POST of one case takes the same path as a batch: ids drawn up front, rows written
    together), all or none. A bad item refuses them all: a single item with its own error,
    a batch with every item's problem by index. When a concurrent retry of some item (same
    key) commits first, the whole set is opened again once, and answers that item with the
    case the retry opened."""
    from jiayuan.registry.models import Entrance
    from jiayuan.registry.selectors import LINEAGE_BOUNDARIES

    keys = [key for _, key in items if key]
    codes = {body.home_code for body, _ in items if body.home_code}
    for attempt in range(2):
        problems: list[dict[str, Any]] = []
        results: list[tuple[Case, bool]] = []
        try:
            with transaction.atomic(), intake_batch(
                    texts=[body.description for body, _ in items], keys=keys,
                    external_ids=[(body.channel, body.external_id.strip())
                                  for body, _ in items]):
                entrances = {e.home_code: e for e in Entrance.objects.select_related(
                    "building__compound__neighbourhood__subdistrict").defer(
                    *LINEAGE_BOUNDARIES).filter(home_code__in=codes)} if codes else {}
                for i, (body, key) in enumerate(items):
                    try:
                        results.append(_open(request, body, key, entrances))
                    except DomainError as exc:
                        if single:
                            raise
                        problems.append({"index": i, "code": exc.code, "message": exc.message,
                                         "details": exc.details})
                if problems:
                    raise ValidationFailed(
                        f"批量提交中有 {len(problems)} 条有误，未创建任何工单",
                        details={"items": problems})
            return results
        except IntegrityError:
            # A concurrent retry of some of these items (same keys) committed first: open
            # them again, and that item is answered with the case the retry opened.
            if attempt:
                raise
    raise AssertionError("unreachable")


# --- Staff reads and actions -------------------------------------------------------------------

@router.get("/cases", response=CasePage, summary="Cases in the caller's area, filtered")
def list_cases(
    request: HttpRequest,
    state: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    tier: str | None = None,
    neighbourhood: str | None = None,
    compound: str | None = None,
    lead_unit: str | None = None,
    routing_source: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    reported_from: dt.date | None = None,
    reported_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    require_staff(request)
    window = page(offset, limit, default=50, maximum=500)
    qs = _related(selectors.cases(scope_for(request.user)))
    exact = {"state": state, "channel": channel, "tier": tier, "lead_unit": lead_unit,
             "routing_source": routing_source, "neighbourhood__code": neighbourhood,
             "compound__code": compound}
    qs = qs.filter(**{k: v for k, v in exact.items() if v})
    if category:
        qs = qs.filter(category__code__startswith=category)
    now = timezone.now()
    if overdue is True:
        qs = qs.filter(state__in=OPEN, due_at__lt=now)
    elif overdue is False:
        qs = qs.exclude(state__in=OPEN, due_at__lt=now)
    if q:
        qs = qs.filter(Q(description__icontains=q) | Q(number=q) | Q(address__icontains=q))
    tz = timezone.get_current_timezone()
    if reported_from:
        qs = qs.filter(reported_at__gte=dt.datetime.combine(reported_from, dt.time(), tz))
    if reported_to:
        qs = qs.filter(reported_at__lt=dt.datetime.combine(
            reported_to + dt.timedelta(days=1), dt.time(), tz))
    qs = qs.order_by("-reported_at", "-id")
    return {"count": qs.count(), "items": [case_out(c, now) for c in window.of(qs)]}


@router.get("/cases/{number}", response=CaseDetailOut, summary="One case with its history")
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    require_staff(request)
    return detail_out(selectors.get_case(scope_for(request.user), number))


@router.post("/cases/{number}/actions", response=CaseDetailOut,
             summary="Take a lifecycle action (accept, dispatch, handle, merge …)")
def post_action(request: HttpRequest, number: str, body: ActionIn) -> dict[str, Any]:
    require_staff(request)
    scope = scope_for(request.user)
    case = selectors.get_case(scope, number)
    extension = None
    if body.extension_amount is not None or body.extension_unit:
        try:
            extension = TimeLimit(int(body.extension_amount or 0),
                                  TimeUnit(body.extension_unit or "working_days"))
        except ValueError:
            raise ValidationFailed(
                f"未知的延期单位“{body.extension_unit}”",
                details={"allowed": [u.value for u in TimeUnit]}) from None
    if body.kind == "merge":
        if not body.into_case:
            raise ValidationFailed("并单须填写并入的工单编号", details={"into_case": ["必填"]})
        survivor = selectors.get_case(scope, body.into_case)
        merge_cases(user=request.user, duplicate=case, survivor=survivor, note=body.reason)
    else:
        act(case=case, user=request.user, kind=body.kind, reason=body.reason,
            lead_unit=body.lead_unit, assisting_units=tuple(body.assisting_units),
            rating=body.rating, extension=extension)
    return detail_out(selectors.get_case(scope, number))


@router.get("/cases/{number}/duplicates", response=list[DuplicateOut],
            summary="Likely repeat reports of a case, best first, with reasons")
def get_duplicates(request: HttpRequest, number: str, limit: int = 10) -> list[dict[str, Any]]:
    require_staff(request)
    if not 1 <= limit <= 50:
        raise ValidationFailed("limit 须在 1 到 50 之间")
    scope = scope_for(request.user)
    case = selectors.get_case(scope, number)
    return [
        {"number": s.case.number, "state": s.case.state,
         "category": s.case.category.code if s.case.category else None,
         "description": s.case.description, "reported_at": s.case.reported_at,
         "score": s.score, "distance_m": s.distance_m, "days_apart": s.days_apart,
         "text_similarity": s.text_similarity, "reasons": s.reasons}
        for s in find_duplicates(case, scope=scope, for_staff=True, limit=limit)
    ]
