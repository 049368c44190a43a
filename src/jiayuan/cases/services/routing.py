"""Routing at intake: what a new case is about, where it is, and who should take it.

``route_new_case`` runs once on a freshly opened case. It wires the pure engine
(``cases.routing.decide``) to the platform:

* the routing table is the active ``RoutingRule`` rows, or — when there are none — the table
  shipped in ``cases/routing/data/routing_table.csv``;
* the category is suggested by the trained classifier when a model file exists (path from
  ``settings.JIAYUAN["CLASSIFIER_PATH"]``, else env ``JIAYUAN_CLASSIFIER_PATH``, else
  ``var/models/case_classifier.joblib``), else by the keyword table;
* a case with an address but no position is placed at the compound the address names
  (``cases.routing.address`` over the registry's compounds, cached per process and rebuilt
  when compounds change).

It records the decision on the case (category when suggested with confidence, tier,
``routing_source``, ``routing_confidence``, place when matched by address) and appends one
system ``route`` event whose payload carries the suggested lead and assisting units. It does
NOT dispatch: dispatch stays a staff action (no rule carries an auto-dispatch flag yet).
A case the engine is unsure about, or for which no rule applies, goes to triage
(``routing_source="triage"``) with the reason in the event payload.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jiayuan.cases import events
from jiayuan.cases.lifecycle import State
from jiayuan.cases.models import Case, CaseEvent, Category, RoutingRule
from jiayuan.cases.routing.address import AddressMatcher, CompoundRecord
from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.decide import Decision, decide
from jiayuan.cases.routing.errors import ModelFileInvalid
from jiayuan.cases.routing.suggest import DEFAULT_THRESHOLD
from jiayuan.cases.routing.table import Rule, Tier, load_rules
from jiayuan.cases.services import units
from jiayuan.cases.services.deadlines import DEFAULT_LIMIT, deadline_and_warning, limit_of
from jiayuan.registry.models import (
    Compound,
    Department,
    JointStation,
    Neighbourhood,
    OperationsCentre,
    Subdistrict,
)

ROUTE_ACTION = "route"


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """What routing decided for one case (also stored as the ``route`` event's payload)."""

    source: str  # model | keywords | rule | triage
    confidence: float | None
    category: str | None
    tier: str
    lead_unit: str | None
    assisting_units: tuple[str, ...] = ()
    rule_id: str | None = None
    triage_reason: str | None = None
    address_match: dict[str, Any] | None = None
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    possible_duplicates: tuple[dict[str, Any], ...] = ()

    def as_payload(self) -> dict[str, Any]:
        return {
            "source": self.source, "confidence": self.confidence, "category": self.category,
            "tier": self.tier, "suggested_lead_unit": self.lead_unit,
            "suggested_assisting_units": list(self.assisting_units), "rule_id": self.rule_id,
            "triage_reason": self.triage_reason, "address_match": self.address_match,
            "alternatives": [[c, p] for c, p in self.alternatives],
            "possible_duplicates": list(self.possible_duplicates),
        }


# --- Configuration ----------------------------------------------------------------------------

def _setting(name: str, default: Any) -> Any:
    return getattr(settings, "JIAYUAN", {}).get(name, default)


def classifier_path() -> Path:
    """Where the trained classifier lives (it may not exist: then keywords are used)."""
    configured = _setting("CLASSIFIER_PATH", None) or os.environ.get("JIAYUAN_CLASSIFIER_PATH")
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "models" / "case_classifier.joblib"


def threshold() -> float:
    return float(_setting("ROUTING_THRESHOLD", DEFAULT_THRESHOLD))


# --- Per-process caches -----------------------------------------------------------------------

_lock = threading.Lock()
_model_cache: dict[str, Any] = {"key": None, "model": None}
_matcher_cache: dict[str, Any] = {"key": None, "matcher": None}
_default_rules: list[Rule] | None = None


def load_model() -> TextClassifier | None:
    """The trained classifier if its file exists (reloaded when the file changes), else None.

    A damaged or foreign model file is ignored (keywords take over) rather than failing intake.
    """
    path = classifier_path()
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _model_cache["key"] != key:
            try:
                _model_cache["model"] = TextClassifier.load(path)
            except (ModelFileInvalid, OSError, ValueError):
                _model_cache["model"] = None
            _model_cache["key"] = key
        model: TextClassifier | None = _model_cache["model"]
        return model


def address_matcher() -> AddressMatcher:
    """The matcher over every compound, rebuilt when a compound is added, removed or saved."""
    from jiayuan.registry.selectors import compounds_version

    version = compounds_version()
    with _lock:
        if _matcher_cache["key"] != version or _matcher_cache["matcher"] is None:
            records = [
                CompoundRecord(code=code, name=name, address=address or "", path=path)
                for code, name, address, path in Compound.objects.order_by("code").values_list(
                    "code", "name", "address", "path")
            ]
            _matcher_cache["matcher"] = AddressMatcher(records)
            _matcher_cache["key"] = version
        matcher: AddressMatcher = _matcher_cache["matcher"]
        return matcher


def clear_caches() -> None:
    """Forget the cached model, matcher and default table (tests, or after retraining)."""
    global _default_rules
    with _lock:
        _model_cache.update(key=None, model=None)
        _matcher_cache.update(key=None, matcher=None)
        _compounds.clear()
        _catalogue.update(key=None, value=None)
        _default_rules = None


# --- Rules ------------------------------------------------------------------------------------

def rule_from_row(row: RoutingRule) -> Rule:
    """A ``RoutingRule`` row as a pure table rule: the category prefix becomes ``<prefix>*``
    (empty: ``*``), the place prefix gets its trailing slash."""
    place = row.path_prefix.strip()
    if place and not place.endswith("/"):
        place += "/"
    prefix = row.category_prefix.strip()
    tier: Tier = row.tier
    return Rule(rule_id=f"db-{row.pk}", category=f"{prefix}*" if prefix else "*", place=place,
                tier=tier, lead=row.lead_unit.strip(),
                assisting=tuple(a for a in (row.assisting_units or []) if a),
                priority=row.priority)


def current_rules() -> list[Rule]:
    """Active ``RoutingRule`` rows, or the shipped default table when there are none (read
    once per process while the catalogue is unchanged; do not modify the list)."""
    catalogue = _current()
    if catalogue.rules is None:
        catalogue.rules = _read_rules()
    return catalogue.rules


def _read_rules() -> list[Rule]:
    global _default_rules
    rows = list(RoutingRule.objects.filter(active=True))
    if rows:
        return [rule_from_row(r) for r in rows]
    if _default_rules is None:
        _default_rules = load_rules()
    return _default_rules


@dataclass
class _Catalogue:
    """What routing reads of the small tables staff edit, kept per process while none of them
    changes (``catalogue_version``): the routing table, the active categories by code, every
    category's class and names, and ``concrete_unit``'s answers per (reference,
    neighbourhood, subdistrict). Each part is read when first needed."""

    units: dict[tuple[str, int | None, int | None], str | None] = field(default_factory=dict)
    rules: list[Rule] | None = None
    categories: dict[str, Category] | None = None
    classes: dict[int, tuple[str, str, str]] | None = None


_catalogue: dict[str, Any] = {"key": None, "value": None}


def catalogue_version() -> tuple[Any, ...]:
    """Changes whenever a category, routing rule, department, joint station or operations
    centre is added, removed or saved (count and newest ``updated_at`` of each, one query).
    A queryset ``update()`` of these tables must set ``updated_at`` too."""
    from jiayuan.registry.models import Department, JointStation, OperationsCentre
    from jiayuan.registry.selectors import tables_version

    return tables_version(Category, RoutingRule, Department, JointStation, OperationsCentre)


def _current() -> _Catalogue:
    """The batch's catalogue inside a batch, else the process's, checked against
    ``catalogue_version``."""
    batch = _batch.get()
    if batch is not None:
        return batch.catalogue
    version = catalogue_version()
    with _lock:
        if _catalogue["key"] != version or _catalogue["value"] is None:
            _catalogue.update(key=version, value=_Catalogue())
        catalogue: _Catalogue = _catalogue["value"]
        return catalogue


class _Precomputed:
    """The classifier with its predictions for a batch's texts made in one call (a
    vectorised ``predict_proba`` costs about what one text does), when the first of them is
    asked for (a batch whose cases all come with a category asks none); other texts go to
    it."""

    def __init__(self, model: TextClassifier, texts: list[str]) -> None:
        self.model = model
        self.texts: list[str] | None = list(dict.fromkeys(texts))
        self.cache: dict[str, Any] = {}

    @property
    def is_fitted(self) -> bool:
        return self.model.is_fitted

    @property
    def labels(self) -> Any:
        return self.model.labels

    def predict_with_confidence(self, texts: list[str]) -> list[Any]:
        if self.texts is not None:  # the batch's texts and these, in one call
            wanted = list(dict.fromkeys([*self.texts, *texts]))
            self.texts = None
            self.cache.update(zip(wanted, self.model.predict_with_confidence(wanted),
                                  strict=True))
        missing = [t for t in texts if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.model.predict_with_confidence(missing),
                                  strict=True))
        return [self.cache[t] for t in texts]


@dataclass
class _Batch:
    """What a batch reads once: the classifier's predictions, the catalogue (checked once),
    and the answers of the registry look-ups its cases repeat (compounds, the address
    matcher)."""

    model: _Precomputed | None
    catalogue: _Catalogue
    compounds: dict[str, Compound] = field(default_factory=dict)
    matcher: AddressMatcher | None = None


_batch: ContextVar[_Batch | None] = ContextVar("routing_batch", default=None)


@contextmanager
def routing_batch(texts: list[str]) -> Iterator[None]:
    """Route many new cases with one classifier call and one read of the routing table
    (the batch intake API and imports); ``route_new_case`` inside uses them, and the
    registry look-ups its cases share (units of a place, categories, compounds) are made
    once. Use it inside the batch's transaction: nothing read here outlives it."""
    model = load_model()
    token = _batch.set(_Batch(
        model=_Precomputed(model, texts) if model is not None and model.is_fitted else None,
        catalogue=_current()))
    try:
        yield
    finally:
        _batch.reset(token)


def active_category(code: str) -> Category | None:
    """The active category with ``code``, or None (the catalogue's, see ``_Catalogue``)."""
    catalogue = _current()
    if catalogue.categories is None:  # the whole (small) catalogue at once
        catalogue.categories = {c.code: c for c in Category.objects.filter(active=True)}
    return catalogue.categories.get(code)


def category_classes() -> dict[int, tuple[str, str, str]]:
    """Every category (active or not) by id: (major class code, name, major class name)."""
    catalogue = _current()
    if catalogue.classes is None:
        catalogue.classes = {
            pk: (major, name, major_name) for pk, major, name, major_name in
            Category.objects.values_list("id", "major_code", "name", "major_name")}
    return catalogue.classes


_compounds: dict[int, tuple[object, dict[str, Compound]]] = {}


def compound_by_code(code: str, version: object = None) -> Compound:
    """The compound with ``code`` and its neighbourhood and subdistrict, without polygons.

    Kept per process while ``version`` stays the same object (the registry's place index,
    rebuilt whenever a compound, neighbourhood or subdistrict changes), else per batch.
    Callers must not change the instance it returns."""
    batch = _batch.get()
    with _lock:
        cache: dict[str, Compound] | None = batch.compounds if batch is not None else None
        if version is not None:
            held = _compounds.get(id(version))
            if held is None or held[0] is not version:
                if len(_compounds) >= 4:
                    _compounds.clear()
                held = _compounds[id(version)] = (version, {})
            cache = held[1]
        if cache is not None and code in cache:
            return cache[code]
    compound = Compound.objects.select_related("neighbourhood__subdistrict").defer(
        "boundary", "neighbourhood__boundary", "neighbourhood__subdistrict__boundary",
    ).get(code=code)
    if cache is not None:
        with _lock:
            cache[code] = compound
    return compound


# --- Unit resolution --------------------------------------------------------------------------

def concrete_unit(table_ref: str, *, neighbourhood: Neighbourhood | None,
                  subdistrict: Subdistrict | None) -> str | None:
    """A routing-table reference (``dept:<kind>``, ``role:<name>``) as a case unit ref
    (``department:<code>``, ``station:<code>``, ``centre:<code>``) for this place; a concrete
    ref passes through. None when the place has no such unit (staff choose)."""
    kind, _, name = table_ref.partition(":")
    if kind in units.KINDS:
        return table_ref if units.KINDS[kind].objects.filter(code=name).exists() else None
    if kind == "dept":
        qs = Department.objects.filter(kind=name)
        dept = qs.filter(subdistrict=subdistrict).first() if subdistrict else None
        if dept is None and subdistrict is not None:
            dept = qs.filter(subdistrict=None, district_id=subdistrict.district_id).first()
        return units.ref(dept) if dept else None
    if kind == "role" and name in ("joint_station", "residents_committee", "property_company"):
        station = (JointStation.objects.filter(neighbourhood=neighbourhood).first()
                   if neighbourhood else None)
        return units.ref(station) if station else None
    if kind == "role" and name == "operations_centre":
        centre = (OperationsCentre.objects.filter(subdistrict=subdistrict).first()
                  if subdistrict else None)
        if centre is None:
            centre = OperationsCentre.objects.filter(subdistrict=None).order_by("id").first()
        return units.ref(centre) if centre else None
    return None


# --- The service ------------------------------------------------------------------------------

def _place_by_address(case: Case) -> dict[str, Any] | None:
    """Place a case that has address text but no position and no compound; returns the match
    summary (also when nothing matched, so staff see the candidates)."""
    if case.compound_id or case.lng is not None or not case.address.strip():
        return None
    batch = _batch.get()
    if batch is not None:
        if batch.matcher is None:
            batch.matcher = address_matcher()
        matcher = batch.matcher
    else:
        matcher = address_matcher()
    m = matcher.match(case.address)
    summary: dict[str, Any] = {
        "status": m.status, "compound": m.code, "score": m.score,
        "candidates": [[c.code, c.name, c.score] for c in m.candidates[:3]],
    }
    if m.code is not None:
        compound = compound_by_code(m.code, version=matcher)
        case.compound = compound
        case.neighbourhood = compound.neighbourhood
        case.subdistrict = compound.neighbourhood.subdistrict
        case.path = compound.path
        case.lng, case.lat = compound.lng, compound.lat
    return summary


def _place_kinds(case: Case) -> set[str]:
    kinds: set[str] = set()
    if case.compound is not None:
        kinds.add(case.compound.compound_type)
        kinds.update(str(t) for t in case.compound.tags or [])
    if case.neighbourhood is not None:
        kinds.add(case.neighbourhood.kind)
    if case.subdistrict is not None:
        kinds.add(case.subdistrict.kind)
    return kinds


def _unit(table_ref: str, case: Case) -> str | None:
    """``concrete_unit`` for the case's place, once per (reference, place) per process while
    the units stay the same."""
    cache = _current().units
    key = (table_ref, case.neighbourhood_id, case.subdistrict_id)  # all it depends on
    if key in cache:
        return cache[key]
    unit = cache[key] = concrete_unit(table_ref, neighbourhood=case.neighbourhood,
                                      subdistrict=case.subdistrict)
    return unit


def _outcome(case: Case, d: Decision, given: bool,
             address: dict[str, Any] | None) -> RoutingOutcome:
    s = d.suggestion
    alts = s.alternatives if s else ()
    if d.route is None:
        return RoutingOutcome(
            source="triage", confidence=s.confidence if s else None, category=d.category,
            tier=case.tier, lead_unit=None, triage_reason=d.triage_reason,
            address_match=address, alternatives=alts)
    lead = _unit(d.route.lead, case)
    assisting = tuple(dict.fromkeys(
        u for ref in d.route.assisting if (u := _unit(ref, case)) and u != lead))
    return RoutingOutcome(
        source="rule" if given else (s.source if s else "rule"),
        confidence=1.0 if given else (s.confidence if s else None), category=d.category,
        tier=d.route.tier, lead_unit=lead, assisting_units=assisting, rule_id=d.route.rule_id,
        address_match=address, alternatives=alts)


def routing_event(case: Case) -> CaseEvent | None:
    """The case's ``route`` event, if it has been routed."""
    return case.events.filter(action=ROUTE_ACTION).order_by("seq").first()


@transaction.atomic
def route_new_case(case: Case, *, keep_tier: bool = False,
                   keep_deadline: bool = False) -> RoutingOutcome:
    """Route a freshly opened case (state ``reported``) and record the decision.

    Sets the category (only when none was given and the suggestion is confident and names an
    active category), the tier and the routing source/confidence; places the case by its
    address text when it has no position; appends a system ``route`` event with the suggested
    units. Never dispatches. Routing an already-routed case changes nothing and returns the
    recorded outcome; a case no longer ``reported`` is left alone (source ``manual``).
    ``keep_tier`` keeps a tier the caller set on purpose (a council escalation); unless
    ``keep_deadline``, a category chosen here brings its own time limit (from the report).
    """
    locked = Case.objects.select_for_update(of=("self",)).select_related(
        "category", "compound", "neighbourhood", "subdistrict").defer(
        "compound__boundary", "neighbourhood__boundary", "subdistrict__boundary").get(pk=case.pk)
    done = routing_event(locked)
    if done is not None:
        p = done.payload
        return RoutingOutcome(
            source=p.get("source", ""), confidence=p.get("confidence"),
            category=p.get("category"), tier=p.get("tier", locked.tier),
            lead_unit=p.get("suggested_lead_unit"),
            assisting_units=tuple(p.get("suggested_assisting_units") or ()),
            rule_id=p.get("rule_id"), triage_reason=p.get("triage_reason"),
            address_match=p.get("address_match"),
            alternatives=tuple((a[0], a[1]) for a in p.get("alternatives") or ()),
            possible_duplicates=tuple(p.get("possible_duplicates") or ()))
    if locked.state != State.REPORTED.value:
        return RoutingOutcome(source="manual", confidence=None,
                              category=locked.category.code if locked.category else None,
                              tier=locked.tier, lead_unit=locked.lead_unit or None)
    outcome = route_fresh_case(locked, keep_tier=keep_tier, keep_deadline=keep_deadline)
    case.refresh_from_db()
    return outcome


def route_fresh_case(locked: Case, *, keep_tier: bool = False,
                     keep_deadline: bool = False) -> RoutingOutcome:
    """The body of :func:`route_new_case` for a saved case the caller holds and knows
    unrouted (no lock, no re-read needed). Updates ``locked`` in place."""
    outcome, fields = plan_route(locked, keep_tier=keep_tier, keep_deadline=keep_deadline)
    outcome = with_duplicates(locked, outcome)
    locked.seq += 1
    locked.save(update_fields=[*fields, "seq", "updated_at"])
    events.record_many([route_event(locked, outcome)])
    return outcome


def plan_route(case: Case, *, keep_tier: bool = False,
               keep_deadline: bool = False) -> tuple[RoutingOutcome, list[str]]:
    """Decide the route of an unrouted case and apply it to ``case`` in memory (category,
    deadline, tier, place by address, routing source and confidence); writes nothing, so
    intake can insert the routed row at once. Returns the outcome (without duplicates: those
    need the saved row) and the fields it set."""
    address = _place_by_address(case)
    given = case.category is not None
    batch = _batch.get()
    model = None if given else (batch.model if batch is not None else load_model())
    rules = current_rules()
    d = decide(case.description, case.path, model=model,  # type: ignore[arg-type]
               rules=rules, threshold=threshold(), place_kinds=_place_kinds(case),
               category=case.category.code if given else None)
    outcome = _outcome(case, d, given, address)
    if not given and outcome.source != "triage" and outcome.category:
        case.category = active_category(outcome.category)
    fields = ["routing_source", "routing_confidence"]
    if not given and case.category is not None:
        fields.append("category")
        limit = limit_of(case.category)
        if not keep_deadline and limit != DEFAULT_LIMIT:
            case.due_at, case.warn_at = deadline_and_warning(limit, case.reported_at)
            fields += ["due_at", "warn_at"]
    if keep_tier:
        outcome = replace(outcome, tier=case.tier)
    if outcome.source != "triage" and outcome.tier != case.tier:
        case.tier = outcome.tier
        fields.append("tier")
    if address is not None and address.get("compound"):
        fields += ["compound", "neighbourhood", "subdistrict", "path", "lng", "lat"]
    case.routing_source = outcome.source
    case.routing_confidence = outcome.confidence
    return outcome, fields


def with_duplicates(case: Case, outcome: RoutingOutcome,
                    numbers: dict[int, str] | None = None,
                    earlier: Sequence[tuple[Any, ...]] = ()) -> RoutingOutcome:
    """``outcome`` with ``case``'s three likeliest earlier reports of the same problem (staff
    radius, whole district), so the dispatcher can merge (并单) instead of dispatching twice
    (``numbers``: final numbers of cases opened earlier in the same batch and written
    without them; ``earlier``: the candidate rows of the batch's cases not written yet)."""
    from jiayuan.cases.services.duplicates import suggest_at_intake

    return replace(outcome, possible_duplicates=suggest_at_intake(
        case, numbers=numbers, earlier=earlier, limit=3))


def route_event(case: Case, outcome: RoutingOutcome) -> events.Step:
    """The system ``route`` step recording ``outcome`` at the case's ``seq`` (its id known),
    for :func:`jiayuan.cases.events.record_many`."""
    return events.step(
        case, seq=case.seq, at=timezone.now(), actor_role="system",
        action=ROUTE_ACTION, from_state=case.state, to_state=case.state,
        reason="转人工分拨" if outcome.source == "triage" else "",
        payload=outcome.as_payload(),
    )
