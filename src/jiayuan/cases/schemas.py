"""Typed shapes of the case API (requests and answers). Coordinates are WGS-84 in answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class CaseIn(Schema):
    """A new case from another module or system. Place it by ``lng``/``lat`` (+ ``crs``), by
    ``home_code`` (an entrance's 家园码 token), or by ``address`` text (matched to a compound)."""

    channel: str
    description: str = Field(..., max_length=4000)
    category: str | None = None
    lng: float | str | None = None
    lat: float | str | None = None
    crs: str = "wgs84"
    address: str = Field("", max_length=200)
    home_code: str | None = Field(None, max_length=43)
    reporter_name: str = Field("", max_length=50)
    reporter_phone: str = Field("", max_length=30)
    external_id: str = Field("", max_length=64)
    reported_at: dt.datetime | None = None


class CaseBatchItem(CaseIn):
    """One case of a batch, with its own idempotency key (the header's role for one case)."""

    idempotency_key: str | None = Field(None, min_length=1, max_length=100)


class CaseBatchIn(Schema):
    cases: list[CaseBatchItem] = Field(..., min_length=1, max_length=500)


class ActionIn(Schema):
    """One step on a case: ``kind`` is a lifecycle action (accept, dispatch, merge …)."""

    kind: str
    reason: str = ""
    lead_unit: str | None = None
    assisting_units: list[str] = []
    rating: str | None = None
    into_case: str | None = Field(None, description="number of the case to merge into")
    extension_amount: int | None = Field(None, ge=1, le=365)
    extension_unit: str | None = None


class CaseCreatedOut(Schema):
    number: str
    state: str
    channel: str
    category: str | None
    tier: str
    path: str
    compound: str | None
    neighbourhood: str | None
    reported_at: dt.datetime
    due_at: dt.datetime | None
    routing_source: str
    routing_confidence: float | None
    tracking_token: str


class CaseBatchItemOut(CaseCreatedOut):
    created: bool


class CaseBatchOut(Schema):
    created: int
    cases: list[CaseBatchItemOut]


class CaseOut(Schema):
    number: str
    state: str
    channel: str
    category: str | None
    category_name: str | None
    tier: str
    description: str
    address: str
    lng: float | None
    lat: float | None
    compound: str | None
    neighbourhood: str | None
    lead_unit: str
    reported_at: dt.datetime
    due_at: dt.datetime | None
    overdue: bool
    supervised: bool
    routing_source: str
    merged_into: str | None


class CasePage(Schema):
    count: int
    items: list[CaseOut]


class EventOut(Schema):
    seq: int
    at: dt.datetime
    actor_role: str
    action: str
    from_state: str
    to_state: str
    reason: str
    payload: dict[str, Any]


class CaseDetailOut(CaseOut):
    reporter_name: str
    reporter_phone: str
    assisting_units: list[str]
    rating: str
    return_count: int
    extension_count: int
    reopened_count: int
    routing_confidence: float | None
    external_id: str
    merged_cases: list[str]
    events: list[EventOut]


class DuplicateOut(Schema):
    number: str
    state: str
    category: str | None
    description: str
    reported_at: dt.datetime
    score: float
    distance_m: float | None
    days_apart: float
    text_similarity: float
    reasons: list[str]
