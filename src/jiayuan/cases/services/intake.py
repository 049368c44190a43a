"""Intake: every channel opens a case through ``open_case``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.cases.lifecycle import State, Tier
from jiayuan.cases.models import Case, CaseEvent, Category, Channel
from jiayuan.cases.services.deadlines import deadline_and_warning, limit_of
from jiayuan.cases.workdays import TimeLimit
from jiayuan.core.errors import InvalidCoordinates, ValidationFailed
from jiayuan.registry.geo import CoordinateError
from jiayuan.registry.models import Compound, District, Entrance, Neighbourhood, Subdistrict

MAX_DESCRIPTION = 2000


def _clean_text(description: Any) -> str:
    text = (description or "").strip() if isinstance(description, str) else ""
    if not text:
        raise ValidationFailed("请填写问题描述", details={"description": ["必填"]})
    if len(text) > MAX_DESCRIPTION:
        raise ValidationFailed(f"问题描述不能超过 {MAX_DESCRIPTION} 字",
                               details={"description": ["过长"]})
    return text


def _place(lng: Any, lat: Any, crs: str | None,
           entrance: Entrance | None) -> dict[str, Any]:
    """Locate the case: an entrance (home code) wins; else the point; else nothing."""
    if entrance is not None:
        compound = entrance.building.compound
        n = compound.neighbourhood
        return {"entrance": entrance, "compound": compound, "neighbourhood": n,
                "subdistrict": n.subdistrict, "lng": entrance.lng or compound.lng,
                "lat": entrance.lat or compound.lat, "grid_cell_code": ""}
    if lng in (None, "") and lat in (None, ""):
        return {}
    from jiayuan.registry.selectors import locate

    try:
        (x, y), loc = locate(lng, lat, crs)
    except CoordinateError as exc:
        raise InvalidCoordinates(str(exc)) from None
    out: dict[str, Any] = {"lng": x, "lat": y, "grid_cell_code": loc.grid_cell or ""}
    if loc.compound:
        out["compound"] = Compound.objects.select_related("neighbourhood__subdistrict").defer(
            "boundary", "neighbourhood__boundary", "neighbourhood__subdistrict__boundary",
        ).get(code=loc.compound)
        out["neighbourhood"] = out["compound"].neighbourhood
        out["subdistrict"] = out["neighbourhood"].subdistrict
    elif loc.neighbourhood:
        out["neighbourhood"] = Neighbourhood.objects.select_related("subdistrict").defer(
            "boundary", "subdistrict__boundary").get(code=loc.neighbourhood)
        out["subdistrict"] = out["neighbourhood"].subdistrict
    elif loc.subdistrict:
        out["subdistrict"] = Subdistrict.objects.get(code=loc.subdistrict)
    return out


def _path_of(place: dict[str, Any]) -> str:
    for key in ("compound", "neighbourhood", "subdistrict"):
        if place.get(key) is not None:
            return str(place[key].path)
    district = District.objects.order_by("id").first()
    return district.path if district else ""


def open_case(
    *,
    channel: str,
    description: str,
    category_code: str | None = None,
    lng: Any = None,
    lat: Any = None,
    crs: str | None = "wgs84",
    address: str = "",
    entrance: Entrance | None = None,
    reporter: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    external_id: str = "",
    idempotency_key: str | None = None,
    reported_at: dt.datetime | None = None,
    actor: Any = None,
    tier: str | None = None,
    time_limit: TimeLimit | None = None,
    source_ref: str = "",
    route: bool = True,
) -> tuple[Case, bool]:
    """Open a case from any channel; returns ``(case, created)``.

    A repeated ``idempotency_key``, or a repeated ``external_id`` on the same channel, returns
    the case already opened (``created`` False) and creates nothing. Refuses an unknown
    channel or category, an empty description and bad coordinates, creating nothing.

    Other modules (sensors, councils, deputies) call this too: ``tier`` overrides the
    category's default tier (a council escalation opens at the ``operations_centre`` tier), ``time_limit``
    overrides the category's time limit (a sensor alarm is due in minutes) and ``source_ref``
    names what raised the case (``sensors.alarm:42``) so that module can follow its outcome
    through :mod:`jiayuan.cases.hooks`.

    A new case is routed at once (:func:`~jiayuan.cases.services.routing.route_new_case`,
    keeping an explicit ``tier``); a caller that still has to adjust the case's place first
    passes ``route=False`` and routes it itself.
    """
    if channel not in Channel.values:
        raise ValidationFailed(f"未知渠道“{channel}”", details={"channel": list(Channel.values)})
    text = _clean_text(description)
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 100):
        raise ValidationFailed("幂等键长度须为 1 到 100 个字符")
    existing = _existing(channel, external_id, idempotency_key)
    if existing is not None:
        return existing, False
    category = None
    if category_code:
        category = Category.objects.filter(code=category_code, active=True).first()
        if category is None:
            raise ValidationFailed(f"未知的问题类别“{category_code}”",
                                   details={"category": [category_code]})
    place = _place(lng, lat, crs, entrance)
    now = reported_at or timezone.now()
    if tier is not None and tier not in {t.value for t in Tier}:
        raise ValidationFailed(f"未知的处置层级“{tier}”",
                               details={"tier": [t.value for t in Tier]})
    if len(source_ref) > 64:
        raise ValidationFailed("来源标识不能超过 64 个字符")
    due, warn = deadline_and_warning(time_limit or limit_of(category), now)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=f"tmp-{idempotency_key or ''}-{timezone.now().timestamp()}"[:24],
                channel=channel, category=category, description=text,
                tier=tier or (category.default_tier if category else "neighbourhood"),
                source_ref=source_ref,
                address=(address or "").strip()[:200], path=_path_of(place),
                reporter=reporter if getattr(reporter, "is_authenticated", False) else None,
                reporter_name=reporter_name.strip()[:50],
                reporter_phone=reporter_phone.strip()[:30], external_id=external_id or "",
                idempotency_key=idempotency_key, reported_at=now, due_at=due, warn_at=warn,
                seq=1, **place,
            )
            case.number = f"JY{timezone.localtime(now):%Y%m%d}{case.pk:07d}"
            case.save(update_fields=["number"])
            CaseEvent.objects.create(
                case=case, seq=1, at=now,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                actor_role=getattr(actor, "role", "") or ("resident" if channel == "home_code"
                                                          else "system"),
                action="report", from_state="", to_state=State.REPORTED.value,
                payload={"channel": channel, "due_at": due.isoformat()},
            )
            if route:
                from jiayuan.cases.services.routing import route_fresh_case

                route_fresh_case(case, keep_tier=tier is not None,
                                 keep_deadline=time_limit is not None)
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its case.
        existing = _existing(channel, external_id, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return case, True


def _existing(channel: str, external_id: str, idempotency_key: str | None) -> Case | None:
    if idempotency_key:
        found = Case.objects.filter(idempotency_key=idempotency_key).first()
        if found:
            return found
    if external_id:
        return Case.objects.filter(channel=channel, external_id=external_id).first()
    return None
