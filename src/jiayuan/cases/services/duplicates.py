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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import FloatField, Func

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases import selectors
from jiayuan.cases.models import Case, geo_cells_of_box
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


RAD = math.pi / 180  # what math.radians multiplies by


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, WGS-84 mean radius)."""
    p1, p2 = lat1 * RAD, lat2 * RAD
    s_lat, s_lng = math.sin((p2 - p1) / 2), math.sin((lng2 - lng1) * RAD / 2)
    a = s_lat * s_lat + math.cos(p1) * math.cos(p2) * s_lng * s_lng
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@lru_cache(maxsize=20_000)
def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a text, ignoring case, width, spaces and punctuation.

    Cached per process: at intake every recent neighbour's description is a candidate for
    many new cases, and its bigrams never change."""
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
    return _jaccard(x, y)


@dataclass(frozen=True)
class DuplicateSuggestion:
    case: Case
    score: float
    distance_m: float | None
    days_apart: float
    text_similarity: float
    reasons: list[str] = field(default_factory=list)


class Epoch(Func):
    """Seconds since 1970 of a datetime column, as a float computed by the database: the
    candidates' times then arrive as plain numbers (turning ~170 timestamps per new case into
    Python datetimes was a fifth of the duplicate search)."""

    output_field = FloatField()
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]'; julianday keeps the fraction.
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)


# The columns scoring and its reasons need, in this order (a full ``Case`` is loaded only for
# the winners). The categories' classes and names come from the (small) catalogue, not a join.
CANDIDATE_FIELDS: tuple[Any, ...] = ("pk", "lng", "lat", "compound_id", "category_id",
                                     Epoch("reported_at"), "state", "description", "number")
MAX_CANDIDATES = 500
MAX_COMPILED_CELLS = 16  # a larger radius than 1 km takes the ORM every time
MAX_COMPILED_MEMBERS = 40  # categories of one major class; more take the ORM every time


def _candidate_query(scope: AreaScope, v: dict[str, Any]) -> Any:
    """The candidates' columns, most recent first, as ``selectors.duplicate_candidates``
    selects them, near the box ``(lng_lo, lng_hi, lat_lo, lat_hi)`` or in the compound."""
    from django.db import connection
    from django.db.models import Q

    qs = selectors.duplicate_candidates(
        scope, Case(pk=v["pk"]), since=v["since"], until=v["until"],
        closed_since=v["closed_since"], major_code=None)
    if v["major"]:
        # The major class as its categories' ids: then (geo_cell, category_id, reported_at)
        # serves the query from the index alone, instead of every case of the squares.
        qs = qs.filter(category_id__in=v["members"])
    branches = []
    if v["box"] is not None:
        lng_lo, lng_hi, lat_lo, lat_hi = v["box"]
        # The squares first: with reported_at they are the index that serves this query.
        branches.append(Q(geo_cell__in=v["cells"], lng__gte=lng_lo, lng__lte=lng_hi,
                          lat__gte=lat_lo, lat__lte=lat_hi))
    if v["compound"]:
        branches.append(Q(compound_id=v["compound"]))
    newest = ("-reported_at", "-pk")
    if connection.vendor != "postgresql":
        near = branches[0] if len(branches) == 1 else branches[0] | branches[1]
        return qs.filter(near).order_by(*newest).values_list(*CANDIDATE_FIELDS)[:MAX_CANDIDATES]
    # PostgreSQL: the newest ids of each branch first, from the covering index
    # (case_dup_cover_idx) without reading the table; then only those rows. One query with
    # the OR of both branches would read every candidate's row to filter it.
    parts = [qs.filter(b).order_by(*newest).values("pk")[:MAX_CANDIDATES] for b in branches]
    ids = parts[0] if len(parts) == 1 else parts[0].union(parts[1], all=True)
    return Case.objects.filter(pk__in=ids).order_by(*newest).values_list(
        *CANDIDATE_FIELDS)[:MAX_CANDIDATES]


# Intake runs the candidate query for every new case. Building it with Django's ORM costs
# more than running it, so for the whole-district scope intake uses, it is compiled once per
# shape with stand-in values and re-run with each case's values in their places.
_STAND_INS: dict[str, Any] = {
    "pk": -7_000_001, "compound": -7_000_002, "major": "\x00major",
    "since": dt.datetime(1901, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    "until": dt.datetime(1902, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    "closed_since": dt.datetime(1903, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    "lng_lo": -1001.25, "lng_hi": -1002.25, "lat_lo": -1003.25, "lat_hi": -1004.25,
    **{f"cell{i}": -7_100_000 - i for i in range(MAX_COMPILED_CELLS)},
    **{f"member{i}": -7_200_000 - i for i in range(MAX_COMPILED_MEMBERS)},
}
_compiled: dict[tuple[str, int, int, bool], tuple[str, list[Any]] | None] = {}


def _compile(shape: tuple[str, int, int, bool]) -> tuple[str, list[Any]] | None:
    """(sql, params with each stand-in replaced by its slot name), or None when a stand-in
    cannot be found among the parameters (then the ORM runs every time)."""
    from django.db import connection

    _, n_members, n_cells, has_compound = shape
    has_box = n_cells > 0
    si = _STAND_INS
    sql, params = _candidate_query(AreaScope.all(), {
        "pk": si["pk"], "since": si["since"], "until": si["until"],
        "closed_since": si["closed_since"], "major": si["major"] if n_members else None,
        "members": [si[f"member{i}"] for i in range(n_members)],
        "box": (si["lng_lo"], si["lng_hi"], si["lat_lo"], si["lat_hi"]) if has_box else None,
        "cells": [si[f"cell{i}"] for i in range(n_cells)],
        "compound": si["compound"] if has_compound else None}).query.sql_with_params()
    adapt = connection.ops.adapt_datetimefield_value
    wanted = {k: adapt(v) if isinstance(v, dt.datetime) else v for k, v in si.items()}
    slots: list[Any] = []
    for param in params:
        # The backend may wrap a value in a subclass (psycopg's Int4 for an IN list): the
        # slot remembers the wrapper so each case's value is sent the same way.
        name = next((k for k, v in wanted.items() if isinstance(param, type(v))
                     and type(v) is not bool and v == param), None)
        wrap = type(param) if name and type(param) is not type(wanted[name]) else None
        slots.append(("slot", (name, wrap)) if name else ("value", param))
    # The filters every candidate meets come once, or once per branch (near, same compound)
    # where PostgreSQL takes each branch's ids apart (see _candidate_query).
    common = 4 + n_members
    if connection.vendor == "postgresql":
        common *= has_box + has_compound
    expected = common + 4 * has_box + n_cells + has_compound
    if sum(1 for kind, _ in slots if kind == "slot") != expected:
        return None
    return sql, slots


def _candidate_rows(scope: AreaScope, v: dict[str, Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    if not scope.everywhere or v["pk"] is None:
        return list(_candidate_query(scope, v))
    cells = v.get("cells") or []
    members = v["members"] if v["major"] else []
    if len(cells) > MAX_COMPILED_CELLS or len(members) > MAX_COMPILED_MEMBERS:
        return list(_candidate_query(scope, v))
    shape = (connection.vendor, len(members),
             len(cells) if v["box"] is not None else 0, bool(v["compound"]))
    if shape not in _compiled:
        _compiled[shape] = _compile(shape)
    compiled = _compiled[shape]
    if compiled is None:
        return list(_candidate_query(scope, v))
    sql, slots = compiled
    values = dict(v)
    if v["box"] is not None:
        values.update(zip(("lng_lo", "lng_hi", "lat_lo", "lat_hi"), v["box"], strict=True))
        values.update({f"cell{i}": c for i, c in enumerate(cells)})
    values.update({f"member{i}": m for i, m in enumerate(members)})
    adapt = connection.ops.adapt_datetimefield_value
    params = []
    for kind, payload in slots:
        if kind == "value":
            params.append(payload)
            continue
        name, wrap = payload
        value = values[name]
        params.append(adapt(value) if isinstance(value, dt.datetime)
                      else wrap(value) if wrap is not None else value)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return rows


# One ranked candidate: (score, reported at (epoch s), pk, distance, days apart, similarity,
# reasons, number).
_Ranked = tuple[float, float, int, float | None, float, float, list[str], str]


def candidate_row(case: Case) -> tuple[Any, ...]:
    """``case`` as a candidate row (``CANDIDATE_FIELDS``), for a case of an intake batch
    that is not written yet (see ``earlier`` of :func:`suggest_at_intake`)."""
    return (case.pk, case.lng, case.lat, case.compound_id, case.category_id,
            case.reported_at.timestamp(), case.state, case.description, case.number)


def _unsaved_rows(case: Case, earlier: Sequence[tuple[Any, ...]], *, since: dt.datetime,
                  until: dt.datetime, major: str | None,
                  classes: Mapping[int, tuple[str, str, str]]) -> list[tuple[Any, ...]]:
    """The rows of ``earlier`` (cases opened earlier in the same intake batch and not
    written yet) that pass the filters of ``selectors.duplicate_candidates`` (window, open,
    major class; nearness is judged by the ranking, as for the query's rows)."""
    from jiayuan.cases.lifecycle import OPEN_STATES

    open_states = {s.value for s in OPEN_STATES}
    lo, hi = since.timestamp(), until.timestamp()
    return [row for row in earlier
            if row[0] != case.pk and row[6] in open_states and lo <= row[5] <= hi
            and (not major or (row[4] is not None and classes.get(row[4], ("",))[0] == major))]


# One scored row: (score rounded to 0.001, reported at (epoch s), pk, text similarity, row,
# distance in metres or None, days apart).
_Scored = tuple[float, float, int, float, tuple[Any, ...], float | None, float]


def best_rows(rows: Sequence[tuple[Any, ...]], *, lng: float | None, lat: float | None,
              compound: int | None, category: int | None, members: set[int],
              epoch: float, text: str, radius: float, window_days: float, min_score: float,
              limit: int) -> list[_Scored]:
    """The ``limit`` best of candidate ``rows`` (``CANDIDATE_FIELDS``) for a case at
    (``lng``, ``lat``) in ``compound``, of ``category`` (``members``: the ids of its major
    class's categories), reported at ``epoch`` with ``text``: best first by score rounded to
    0.001, then earliest, then lowest id. Pure.

    A row counts when it is within ``radius`` metres, or, when either side has no position,
    in the same compound; it scores

        0.45 × text similarity + 0.30 × closeness + 0.15 × category + 0.10 × recency

    and is kept from ``min_score`` up. The position, category and time parts are computed
    for all rows at once (numpy); the text only for rows that could still reach the result
    (see below); Python's ``round`` only for the few rows within 0.002 of the ``limit``-th
    best. The result is the same as scoring every row fully.
    """
    if not rows:
        return []
    w_text, w_close, w_cat, w_rec = (WEIGHTS["text"], WEIGHTS["closeness"],
                                     WEIGHTS["category"], WEIGHTS["recency"])
    cols = list(zip(*rows, strict=True))
    pks, compounds, categories, texts = cols[0], cols[3], cols[4], cols[7]
    n = len(rows)
    if lng is not None and lat is not None:
        # Haversine, as distance_m, for every row (NaN where a row has no position).
        their_lng = np.array(cols[1], dtype=float)
        their_lat = np.array(cols[2], dtype=float)
        p1, p2 = lat * RAD, their_lat * RAD
        s_lat, s_lng = np.sin((p2 - p1) / 2), np.sin((their_lng - lng) * RAD / 2)
        a = s_lat * s_lat + math.cos(p1) * np.cos(p2) * s_lng * s_lng
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        placed = ~np.isnan(dist)
    else:
        dist = np.full(n, np.nan)
        placed = np.zeros(n, dtype=bool)
    same_compound = (np.fromiter((c == compound for c in compounds), dtype=bool, count=n)
                     if compound else np.zeros(n, dtype=bool))
    with np.errstate(invalid="ignore"):
        near = placed & (dist <= radius)
    counted = near | (~placed & same_compound)
    if not counted.any():
        return []
    closeness = np.where(placed, 1.0 - dist / radius, SAME_COMPOUND_CLOSENESS)
    cat = np.fromiter(
        (1.0 if category and c == category else 0.5 if c in members else 0.0
         for c in categories), dtype=float, count=n)
    epochs = np.array(cols[5], dtype=float)
    days = np.abs(epoch - epochs) / 86400
    recency = np.maximum(0.0, 1.0 - days / window_days)
    # Only rows that a perfect text match would lift to min_score get their text compared.
    # A row's score is at most its score without the text plus w_text (a perfect match).
    # Rows are compared by text in decreasing order of that bound, a chunk at a time, and the
    # comparing stops when no later row could reach min_score or come within 0.002 of the
    # limit-th best score found so far (rounding moves a score by at most 0.0005, so such a
    # row could not enter the result).
    upper = w_close * closeness + w_cat * cat + w_rec * recency + w_text
    reach = np.flatnonzero(counted & (upper >= min_score))
    if reach.size == 0:
        return []
    reach = reach[np.argsort(-upper[reach], kind="stable")]
    mine = bigrams(text)
    done, cut = 0, min_score
    found_at: list[np.ndarray] = []
    found_sim: list[np.ndarray] = []
    found_score: list[np.ndarray] = []
    while done < reach.size and upper[reach[done]] >= cut:
        chunk = reach[done:done + _CHUNK]
        done += chunk.size
        sims = np.fromiter((_jaccard(mine, bigrams(texts[i])) for i in chunk), dtype=float,
                           count=chunk.size)
        # The same sum, in the same order, as scoring one row at a time.
        score = (w_text * sims + w_close * closeness[chunk] + w_cat * cat[chunk]
                 + w_rec * recency[chunk])
        good = score >= min_score
        found_at.append(chunk[good])
        found_sim.append(sims[good])
        found_score.append(score[good])
        if sum(a.size for a in found_at) >= limit:
            everything = np.concatenate(found_score)
            kth = np.partition(everything, everything.size - limit)[everything.size - limit]
            cut = max(min_score, kth - 0.002)
    if not found_at:
        return []
    at, sim_of, score_of = (np.concatenate(found_at), np.concatenate(found_sim),
                            np.concatenate(found_score))
    ok = np.flatnonzero(score_of >= cut)
    scored: list[_Scored] = []
    for j in ok.tolist():
        i = int(at[j])
        d = float(dist[i])
        scored.append((round(float(score_of[j]), 3), float(epochs[i]), pks[i], float(sim_of[j]),
                       rows[i], None if math.isnan(d) else d, float(days[i])))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    return scored[:limit]


_CHUNK = 48  # rows compared by text between two updates of the cut


def _jaccard(x: frozenset[str], y: frozenset[str]) -> float:
    if not x or not y:
        return 0.0
    shared = len(x & y)
    return shared / (len(x) + len(y) - shared)


def _ranked(case: Case, *, scope: AreaScope, for_staff: bool, limit: int,
            earlier: Sequence[tuple[Any, ...]] = ()) -> list[_Ranked]:
    """The ``limit`` best candidates for ``case``, best first, with their reasons, from one
    query (and ``earlier``: cases of the same intake batch not written yet), scored by
    :func:`best_rows`."""
    cfg = config()
    radius = cfg["staff_radius_m"] if for_staff else cfg["resident_radius_m"]
    window_days = cfg["window_days"]
    window = dt.timedelta(days=window_days)
    major = case.category.major_code if case.category_id and case.category else None
    has_point = case.lng is not None and case.lat is not None
    box = None
    if has_point:
        dlat = radius / 111_320.0
        dlng = radius / (111_320.0 * max(0.01, math.cos(math.radians(case.lat))))
        box = (case.lng - dlng, case.lng + dlng, case.lat - dlat, case.lat + dlat)
    elif not case.compound_id:
        return []
    since, until = case.reported_at - window, case.reported_at + window
    from jiayuan.cases.services.routing import category_classes

    classes = category_classes()  # id → (major code, name, major name)
    members = {pk for pk, c in classes.items() if c[0] == major} if major else set()
    rows = _candidate_rows(scope, {
        "cells": geo_cells_of_box(*box) if box is not None else [],
        "pk": case.pk, "since": since, "until": until,
        "closed_since": case.reported_at - dt.timedelta(days=cfg["closed_days"]),
        "major": major, "box": box, "members": sorted(members), "compound": case.compound_id})
    if earlier:
        rows += _unsaved_rows(case, earlier, since=since, until=until, major=major,
                              classes=classes)
    best = best_rows(rows, lng=case.lng, lat=case.lat, compound=case.compound_id,
                     category=case.category_id, members=members,
                     epoch=case.reported_at.timestamp(), text=case.description,
                     radius=radius, window_days=window_days, min_score=cfg["min_score"],
                     limit=limit)
    no_class = ("", "", "")
    out: list[_Ranked] = []
    for score, epoch, pk, sim, row, dist, days in best:
        number = row[8]
        their_major, cat_name, major_name = classes.get(row[4], no_class)
        reasons = [f"相距约 {round(dist)} 米" if dist is not None else "同一小区"]
        if case.category_id and case.category_id == row[4]:
            reasons.append(f"同一类别（{cat_name}）")
        elif major and their_major == major:
            reasons.append(f"同一大类（{major_name}）")
        reasons.append(f"相隔 {days:.0f} 天" if days >= 1 else "同一天内")
        if sim >= 0.2:
            reasons.append(f"描述相似（{sim:.0%}）")
        if row[6] in ("closed", "rated"):
            reasons.append("近期已结案")
        out.append((score, epoch, pk, None if dist is None else round(dist, 1), round(days, 2),
                    round(sim, 3), reasons, number))
    return out


def find_duplicates(case: Case, *, scope: AreaScope, for_staff: bool = True,
                    limit: int = 10) -> list[DuplicateSuggestion]:
    """Likely repeats of ``case`` within ``scope``, best first, each with its reasons.

    Refuses nothing: a case with neither position nor compound simply has no candidates.
    Scores the (at most 500 most recent) candidates on a few columns and loads only the
    ``limit`` best as cases.
    """
    best = _ranked(case, scope=scope, for_staff=for_staff, limit=limit)
    cases = Case.objects.select_related("category", "compound").in_bulk([t[2] for t in best])
    return [DuplicateSuggestion(cases[pk], score, dist, days, sim, reasons)
            for score, _, pk, dist, days, sim, reasons, _ in best]


def suggest_at_intake(case: Case, *, numbers: Mapping[int, str] | None = None,
                      earlier: Sequence[tuple[Any, ...]] = (),
                      limit: int = 3) -> tuple[dict[str, Any], ...]:
    """The ``limit`` likeliest earlier reports of ``case`` (staff radius, whole district) as
    ``{"number", "score", "reasons"}``, for the routing event: the same ranking as
    :func:`find_duplicates` in one query, loading no case. ``numbers`` gives the final
    numbers of cases opened earlier in the same batch whose rows are numbered when the batch
    is written; ``earlier`` the rows (:func:`candidate_row`) of the batch's cases not
    written at all yet (they count as if they were)."""
    numbers = numbers or {}
    return tuple({"number": numbers.get(pk, number), "score": score, "reasons": reasons}
                 for score, _, pk, _, _, _, reasons, number in _ranked(
                     case, scope=AreaScope.all(), for_staff=True, limit=limit,
                     earlier=earlier))


@transaction.atomic
def merge_cases(*, user: Any, duplicate: Case, survivor: Case, note: str = "") -> Case:
    """Merge ``duplicate`` into ``survivor`` (并单) as ``user``; returns the merged duplicate.

    Goes through ``act(kind="merge")``, so it refuses what that refuses: a case outside the
    user's area or a survivor outside it (``OutOfScope``), a role that may not merge
    (``Forbidden``), a duplicate past acceptance or already merged (``InvalidTransition``),
    a survivor that is merged or rejected, or the case itself (``ValidationFailed``). The merge
    event's payload, written once and complete (``transitions.merge_payload``), records the
    follower: the duplicate's reporter now follows the survivor.
    """
    return act(case=duplicate, user=user, kind="merge", into_case=survivor, reason=note)
