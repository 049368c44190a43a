"""Reads for the Open311 interface: services, definitions and the public view of cases.

Only public-safe fields ever leave here: no reporter name, phone, e-mail, account or device,
no tracking token, no household. What else a case shows depends on its channel's policy
(``open311.policy``, the table ``data/channels.csv``, or the file named by the setting
``JIAYUAN_OPEN311_CHANNEL_POLICY``): only cases of public channels *and* public categories are
listed (sensor alarms, video analytics, hotline calls stay off by default); a channel's free
text is shown only when its policy says so; a resident's position is snapped to a grid of
``JIAYUAN_OPEN311_COARSE_GRID_M`` metres (default 150) with no address or entrance unless the
resident agreed on the form. ``JIAYUAN_OPEN311_PUBLIC_CHANNELS``, when set, narrows the
listed channels further (it never makes an internal channel public).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from jiayuan.cases.lifecycle import OPEN_STATES, STATE_LABELS, State
from jiayuan.cases.models import Case, CaseEvent, Category
from jiayuan.open311.attributes import Attribute, load_attribute_table
from jiayuan.open311.errors import Open311Error
from jiayuan.open311.policy import DEFAULT_GRID_M, ChannelPolicy, coarsen, load_policies, policy_of
from jiayuan.registry.models import Department, JointStation, OperationsCentre

OPEN_STATE_VALUES = tuple(s.value for s in OPEN_STATES)
CLOSED_STATE_VALUES = tuple(s.value for s in State if s not in OPEN_STATES)
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this interface last changed (the discovery document's changeset).
CHANGESET = "2026-11-23T00:00:00+08:00"


@lru_cache(maxsize=4)
def _policies(path: str) -> dict[str, ChannelPolicy]:
    return load_policies(path or None)


def channel_policies() -> dict[str, ChannelPolicy]:
    """The channel table in force (the packaged one unless a file is configured)."""
    return _policies(str(getattr(settings, "JIAYUAN_OPEN311_CHANNEL_POLICY", "") or ""))


def public_channels() -> tuple[str, ...]:
    """Channels whose cases are listed: public in the table, and in the optional setting."""
    listed = tuple(c for c, p in channel_policies().items() if p.listed)
    narrowed = getattr(settings, "JIAYUAN_OPEN311_PUBLIC_CHANNELS", None)
    if narrowed is None:
        return listed
    return tuple(c for c in listed if c in narrowed)


def grid_metres() -> float:
    return float(getattr(settings, "JIAYUAN_OPEN311_COARSE_GRID_M", DEFAULT_GRID_M))


@lru_cache(maxsize=1)
def attribute_table() -> dict[str, tuple[Attribute, ...]]:
    return load_attribute_table()


@lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    from jiayuan.cases.routing.keywords import load_keywords

    return {e.code: ", ".join(e.keywords) for e in load_keywords().entries}


def w3c(value: dt.datetime | None) -> str | None:
    """A datetime in W3C form with its offset, in the platform's time zone."""
    if value is None:
        return None
    return str(timezone.localtime(value).isoformat(timespec="seconds"))


def _describe(category: Category) -> str:
    kind = {"component": "部件", "event": "事件", "request": "诉求"}.get(category.kind, "")
    text = f"{category.major_name} · {category.name}" if category.major_name else category.name
    return f"{text}（{kind}）" if kind else text


def public_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True, public=True)


def services() -> list[dict[str, Any]]:
    """Every active public category as a GeoReport service, ordered by code."""
    table = attribute_table()
    keywords = _keywords()
    return [
        {"service_code": c.code, "service_name": c.name, "description": _describe(c),
         "metadata": bool(table.get(c.code)), "type": "realtime",
         "keywords": keywords.get(c.code) or c.name, "group": c.major_name or None}
        for c in public_categories().order_by("code")
    ]


def active_category(code: str) -> Category:
    """The active public category for a service code; 404 if there is none (an internal
    category is neither shown nor accepted here)."""
    category = public_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code：没有代码为“{code}”的服务")
    found: Category = category
    return found


def service_definition(code: str) -> dict[str, Any]:
    """The service's attributes (possibly none); 404 for an unknown or inactive code."""
    category = active_category(code)
    attrs = attribute_table().get(category.code, ())
    return {"service_code": category.code, "attributes": [a.as_dict() for a in attrs]}


def public_cases() -> QuerySet[Case]:
    return Case.objects.filter(
        Q(category__isnull=True) | Q(category__public=True),
        channel__in=public_channels()).select_related(
        "category", "entrance", "compound", "merged_into")


def status_of(case: Case) -> str:
    return "open" if case.state in OPEN_STATE_VALUES else "closed"


def status_notes(case: Case) -> str:
    label = str(STATE_LABELS.get(State(case.state), case.state))
    if case.state == State.MERGED.value and case.merged_into is not None:
        return f"{label}：并入 {case.merged_into.number}"
    return label


def service_notice(case: Case) -> str | None:
    if case.due_at is None:
        return None
    due = timezone.localtime(case.due_at)
    name = case.category.name if case.category else "该诉求"
    return f"{name}：按时限预计 {due:%Y-%m-%d %H:%M} 前处理完毕"


def _agency_names(refs: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    kinds: dict[str, Any] = {"department": Department, "station": JointStation,
                             "centre": OperationsCentre}
    by_kind: dict[str, list[str]] = {}
    for r in refs:
        kind, _, code = r.partition(":")
        if kind in kinds and code:
            by_kind.setdefault(kind, []).append(code)
    for kind, codes in by_kind.items():
        for code, name in kinds[kind].objects.filter(code__in=codes).values_list("code", "name"):
            out[f"{kind}:{code}"] = name
    return out


def _media_urls(case_ids: list[int]) -> dict[int, str]:
    rows = CaseEvent.objects.filter(case_id__in=case_ids, seq=1).values_list("case_id", "payload")
    out: dict[int, str] = {}
    for case_id, payload in rows:
        url = (payload or {}).get("open311", {}).get("media_url") if isinstance(payload, dict) \
            else None
        if url:
            out[case_id] = url
    return out


def request_dicts(cases: list[Case]) -> list[dict[str, Any]]:
    """The public view of cases in the spec's shape (three queries whatever the count)."""
    agencies = _agency_names({c.lead_unit for c in cases if c.lead_unit})
    policies = channel_policies()
    media = _media_urls([c.pk for c in cases if policy_of(policies, c.channel).show_description])
    grid = grid_metres()
    out = []
    for c in cases:
        closed = status_of(c) == "closed"
        policy = policy_of(policies, c.channel)
        exact = policy.exact_position(consent=c.exact_position_public)
        lat, lng = c.lat, c.lng
        if lat is not None and lng is not None:
            lat, lng = (round(lat, 6), round(lng, 6)) if exact else coarsen(lat, lng,
                                                                             grid_m=grid)
        address = (c.address or None) if exact else (
            c.compound.name if c.compound_id and c.compound else None)
        out.append({
            "service_request_id": c.number,
            "status": status_of(c),
            "status_notes": status_notes(c),
            "service_name": c.category.name if c.category else None,
            "service_code": c.category.code if c.category else "",
            "description": c.description if policy.show_description else None,
            "agency_responsible": agencies.get(c.lead_unit) if c.lead_unit else None,
            "service_notice": service_notice(c),
            "requested_datetime": w3c(c.reported_at),
            "updated_datetime": w3c((c.closed_at if closed and c.closed_at else None)
                                    or c.updated_at),
            "expected_datetime": w3c(c.due_at),
            "address": address,
            "address_id": c.entrance.code if exact and c.entrance else None,
            "zipcode": None,
            "lat": lat,
            "long": lng,
            "media_url": media.get(c.pk),
        })
    return out


def public_request(number: str) -> dict[str, Any]:
    """One public case by number; 404 if absent or not public."""
    case = public_cases().filter(number=number).first()
    if case is None:
        raise Open311Error(404, f"service_request_id：没有编号为“{number}”的请求")
    return request_dicts([case])[0]


def request_by_token(token: str) -> dict[str, Any]:
    """``{service_request_id, token}`` for a case's tracking token; 404 if unknown."""
    number = public_cases().filter(tracking_token=token).values_list("number", flat=True).first()
    if number is None:
        raise Open311Error(404, "token：没有对应的请求")
    return {"service_request_id": number, "token": token}


def search_requests(*, numbers: list[str] | None = None, service_codes: list[str] | None = None,
                    start: dt.datetime | None = None, end: dt.datetime | None = None,
                    statuses: list[str] | None = None, offset: int = 0,
                    limit: int = 1000) -> tuple[list[dict[str, Any]], bool]:
    """Public cases matching the filters, newest first; returns (page, more follow).

    ``numbers`` overrides every other filter, as the spec says.
    """
    qs = public_cases()
    if numbers:
        qs = qs.filter(number__in=numbers)
    else:
        if service_codes:
            qs = qs.filter(category__code__in=service_codes)
        if start is not None:
            qs = qs.filter(reported_at__gte=start)
        if end is not None:
            qs = qs.filter(reported_at__lte=end)
        if statuses and set(statuses) != {"open", "closed"}:
            wanted = OPEN_STATE_VALUES if statuses == ["open"] else CLOSED_STATE_VALUES
            qs = qs.filter(state__in=wanted)
    rows = list(qs.order_by("-reported_at", "-id")[offset:offset + limit + 1])
    return request_dicts(rows[:limit]), len(rows) > limit
