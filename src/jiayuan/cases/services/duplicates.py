"""Repeat reports (重复件): suggest likely duplicates of a case, and merge them (并单).

A candidate is another case of the same major class (or any class when the case has none yet),
reported within ``window_days`` of it, still open or closed within ``closed_days``, and near it:
within 250 m when a resident is looking, 1 km for staff (FixMyStreet's radii), or in the same
compound when either case has no position. Candidates are ranked by a score in [0, 1]:

    0.45 × text similarity + 0.30 × closeness + 0.15 × category + 0.10 × recency

text similarity is the Jaccard index of the two descriptions' character bigrams (Chinese needs
no word segmentation for this), closeness is ``1 - distance / radius`` (0.8 for "same
compound" without positions), category is 1 for the same code and 0.5 for the same major class.
Each suggestion says why, in Chinese. All values are configurable in
``settings.JIAYUAN["DUPLICATES"]``.

Merging goes through ``cases.services.act(kind="merge")``; the merge event's payload records
the follower (the duplicate's reporter now follows the survivor), and
``cases.selectors.followers_of`` follows ``merged_into``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases import selectors
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services.transitions import act

DEFAULTS: dict[str, float] = {
    "resident_radius_m": 250.0,  # FixMyStreet: nearby reports shown to the public
    "staff_radius_m": 1000.0,  # FixMyStreet: nearby reports shown to inspectors
    "window_days": 30.0,
    "closed_days": 14.0,
    "min_score": 0.35,
}
WEIGHTS = {"text": 0.45, "closeness": 0.30, "category": 0.15, "recency": 0.10}
SAME_COMPOUND_CLOSENESS = 0.8
EARTH_RADIUS_M = 6_371_008.8
_NOT_TEXT = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


def config() -> dict[str, float]:
    return {**DEFAULTS, **getattr(settings, "JIAYUAN", {}).get("DUPLICATES", {})}


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, WGS-84 mean radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a text, ignoring case, width, spaces and punctuation."""
    s = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text).lower())
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


def text_similarity(a: str | frozenset[str], b: str | frozenset[str]) -> float:
    """Jaccard index of the character bigrams of ``a`` and ``b`` (0 = nothing shared);
    either may be given as its bigrams already."""
    x = a if isinstance(a, frozenset) else bigrams(a)
    y = b if isinstance(b, frozenset) else bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


@dataclass(frozen=True)
class DuplicateSuggestion:
    case: Case
    score: float
    distance_m: float | None
    days_apart: float
    text_similarity: float
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Candidate:
    """The few columns scoring needs (a full ``Case`` is loaded only for the winners)."""

    pk: int
    lng: float | None
    lat: float | None
    compound_id: int | None
    category_id: int | None
    category_name: str
    major_code: str
    major_name: str
    reported_at: dt.datetime
    state: str
    description: str


CANDIDATE_FIELDS = ("pk", "lng", "lat", "compound_id", "category_id", "category__name",
                    "category__major_code", "category__major_name", "reported_at", "state",
                    "description")
MAX_CANDIDATES = 500


def _closeness(case: Case, other: _Candidate,
               radius: float) -> tuple[float | None, float | None, str]:
    """(closeness in [0, 1] or None when too far / unknown, distance, reason)."""
    if case.lng is not None and case.lat is not None and other.lng is not None \
            and other.lat is not None:
        d = distance_m(case.lng, case.lat, other.lng, other.lat)
        if d > radius:
            return None, d, ""
        return 1.0 - d / radius, d, f"相距约 {round(d)} 米"
    if case.compound_id and case.compound_id == other.compound_id:
        return SAME_COMPOUND_CLOSENESS, None, "同一小区"
    return None, None, ""


def find_duplicates(case: Case, *, scope: AreaScope, for_staff: bool = True,
                    limit: int = 10) -> list[DuplicateSuggestion]:
    """Likely repeats of ``case`` within ``scope``, best first, each with its reasons.

    Refuses nothing: a case with neither position nor compound simply has no candidates.
    Scores the (at most 500 most recent) candidates on a few columns and loads only the
    ``limit`` best as cases: it runs at every intake, so it must stay cheap.
    """
    cfg = config()
    radius = cfg["staff_radius_m"] if for_staff else cfg["resident_radius_m"]
    window = dt.timedelta(days=cfg["window_days"])
    major = case.category.major_code if case.category_id and case.category else None
    qs = selectors.duplicate_candidates(
        scope, case, since=case.reported_at - window, until=case.reported_at + window,
        closed_since=case.reported_at - dt.timedelta(days=cfg["closed_days"]),
        major_code=major)
    if case.lng is not None and case.lat is not None:
        dlat = radius / 111_320.0
        dlng = radius / (111_320.0 * max(0.01, math.cos(math.radians(case.lat))))
        from django.db.models import Q

        near = Q(lng__gte=case.lng - dlng, lng__lte=case.lng + dlng,
                 lat__gte=case.lat - dlat, lat__lte=case.lat + dlat)
        qs = qs.filter(near | Q(compound_id=case.compound_id) if case.compound_id else near)
    elif case.compound_id:
        qs = qs.filter(compound_id=case.compound_id)
    else:
        return []
    mine = bigrams(case.description)
    scored: list[tuple[float, dt.datetime, int, float | None, float, float, list[str]]] = []
    for row in qs.values_list(*CANDIDATE_FIELDS)[:MAX_CANDIDATES]:
        other = _Candidate(*row)
        closeness, dist, where = _closeness(case, other, radius)
        if closeness is None:
            continue
        sim = text_similarity(mine, other.description)
        reasons = [where]
        cat = 0.0
        if case.category_id and case.category_id == other.category_id:
            cat = 1.0
            reasons.append(f"同一类别（{other.category_name}）")
        elif major and other.major_code == major:
            cat = 0.5
            reasons.append(f"同一大类（{other.major_name}）")
        days = abs((case.reported_at - other.reported_at).total_seconds()) / 86400
        recency = max(0.0, 1.0 - days / cfg["window_days"])
        reasons.append(f"相隔 {days:.0f} 天" if days >= 1 else "同一天内")
        if sim >= 0.2:
            reasons.append(f"描述相似（{sim:.0%}）")
        if other.state in ("closed", "rated"):
            reasons.append("近期已结案")
        score = (WEIGHTS["text"] * sim + WEIGHTS["closeness"] * closeness
                 + WEIGHTS["category"] * cat + WEIGHTS["recency"] * recency)
        if score >= cfg["min_score"]:
            scored.append((round(score, 3), other.reported_at, other.pk,
                           None if dist is None else round(dist, 1), round(days, 2),
                           round(sim, 3), reasons))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    best = scored[:limit]
    cases = Case.objects.select_related("category", "compound").in_bulk([t[2] for t in best])
    return [DuplicateSuggestion(cases[pk], score, dist, days, sim, reasons)
            for score, _, pk, dist, days, sim, reasons in best]


@transaction.atomic
def merge_cases(*, user: Any, duplicate: Case, survivor: Case, note: str = "") -> Case:
    """Merge ``duplicate`` into ``survivor`` (并单) as ``user``; returns the merged duplicate.

    Goes through ``act(kind="merge")``, so it refuses what that refuses: a case outside the
    user's area or a survivor outside it (``OutOfScope``), a role that may not merge
    (``Forbidden``), a duplicate past acceptance or already merged (``InvalidTransition``),
    a survivor that is merged or rejected, or the case itself (``ValidationFailed``). The merge
    event's payload records the follower: the duplicate's reporter now follows the survivor.
    """
    merged = act(case=duplicate, user=user, kind="merge", into_case=survivor, reason=note)
    event = CaseEvent.objects.get(case=merged, seq=merged.seq)
    event.payload = {
        **event.payload, "into_number": survivor.number,
        "follower": {"case": merged.number, "reporter_id": merged.reporter_id,
                     "has_contact": bool(merged.reporter_phone or merged.reporter_id)},
    }
    event.save(update_fields=["payload"])
    return merged
