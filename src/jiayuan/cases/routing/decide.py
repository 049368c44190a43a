"""Text + place → the whole routing decision: category suggestion, then the routing table.

The case service calls ``decide`` once when a case is accepted; anything short of a category
*and* a route sends the case to the manual triage queue, with the reason.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.errors import NoRouteFound
from jiayuan.cases.routing.keywords import KeywordTable
from jiayuan.cases.routing.suggest import DEFAULT_THRESHOLD, Suggestion, suggest
from jiayuan.cases.routing.table import Route, Rule, resolve


@dataclass(frozen=True, slots=True)
class Decision:
    """``route`` is set when the case can be dispatched; otherwise ``triage_reason`` says why:
    ``unsure`` (no confident category) or ``no_route`` (no rule for category and place).
    ``suggestion`` is None when the category was given, not suggested."""

    category: str | None
    suggestion: Suggestion | None
    route: Route | None
    triage_reason: Literal["unsure", "no_route"] | None


def decide(text: str, place_path: str, *, model: TextClassifier | None, rules: Sequence[Rule],
           threshold: float = DEFAULT_THRESHOLD, keywords: KeywordTable | None = None,
           place_kinds: Collection[str] = (), category: str | None = None) -> Decision:
    """Suggest a category for ``text`` (unless the reporter chose ``category``) and resolve
    the route for it at ``place_path``. Never raises for an unroutable case: it says triage."""
    s = None if category else suggest(text, model, threshold, keywords)
    code = category or (s.category if s else None)
    if code is None:
        return Decision(None, s, None, "unsure")
    try:
        return Decision(code, s, resolve(code, place_path, rules, place_kinds=place_kinds), None)
    except NoRouteFound:
        return Decision(code, s, None, "no_route")
